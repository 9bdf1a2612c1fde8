// Throughput of the Gaussian-expectation core (evaluations per second at full accuracy).
// Prints one JSON object per measurement.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "amari/gauss.hpp"

namespace {

template <class F>
double seconds_per_call(F&& f, int min_calls = 200, double min_seconds = 0.3) {
  using clock = std::chrono::steady_clock;
  volatile double sink = 0;
  int calls = 0;
  const auto t0 = clock::now();
  double elapsed = 0;
  while (calls < min_calls || elapsed < min_seconds) {
    sink = sink + f(calls);
    ++calls;
    elapsed = std::chrono::duration<double>(clock::now() - t0).count();
  }
  return elapsed / calls;
}

}  // namespace

int main() {
  using amari::Activation;
  for (const char* name : {"tanh", "erf", "relu", "hardtanh"}) {
    const Activation act = Activation::parse(name);
    for (double q : {0.5, 4.0, 20.0}) {
      const double one = seconds_per_call([&](int i) { return amari::E_dphi2(act, q + 1e-9 * i, 0.0, amari::method::quadrature); });
      const double two = seconds_per_call([&](int i) { return amari::E_phi_phi(act, q, q, 0.3 + 1e-9 * i, amari::method::quadrature); });
      nlohmann::json j = {{"bench", "gauss"}, {"phi", name}, {"q", q},
                          {"one_point_per_second", 1 / one}, {"two_point_per_second", 1 / two},
                          {"one_point_us", one * 1e6}, {"two_point_us", two * 1e6}};
      std::printf("%s\n", j.dump().c_str());
    }
  }
}
