// Throughput of the Gaussian-expectation core (evaluations per second) together with the accuracy
// it reaches at the measured points, against independent reference values (tests/reference/
// gauss_highq.json: mpmath tanh-sinh quadrature, 30 digits one-point, 20 digits two-point).
//
// For every one-point reference entry (tanh and erf, q from 0.01 to 50, m in {0, 0.7, -2.5}):
// E[phi^2] and E[phi'^2] by quadrature (erf has closed forms; method::quadrature forces the
// quadrature, the path tanh always takes); for every two-point entry (tanh, q up to 50):
// E[phi(u1) phi(u2)] and E[phi'(u1) phi'(u2)] by the 2-D quadrature. Each line reports the
// seconds per evaluation and the relative error against the reference.
//
// usage: bench_gauss [PATH/gauss_highq.json] [--quick]     One JSON object per line.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "amari/core/gauss.hpp"

namespace {

template <class F>
double seconds_per_call(F&& f, int min_calls, double min_seconds) {
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

double rel_error(double value, double ref) {
  return std::abs(value - ref) / std::max(std::abs(ref), 1e-300);
}

}  // namespace

int main(int argc, char** argv) {
  using amari::Activation;
  using amari::method;
  std::string path = "tests/reference/gauss_highq.json";
  double min_seconds = 0.2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) min_seconds = 0.05;
    else path = argv[i];
  }
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "bench_gauss: cannot read the reference values %s\n", path.c_str());
    return 2;
  }
  const nlohmann::json ref = nlohmann::json::parse(in);

  // The timed calls perturb q by 1e-12 relative per call so that nothing can be hoisted or cached;
  // the error is taken at the reference point itself.
  for (const auto& e : ref.at("one_point")) {
    const Activation act = Activation::parse(e.at("phi").get<std::string>());
    const double q = e.at("q"), m = e.at("m");
    const double phi2 = amari::E_phi2(act, q, m, method::quadrature);
    const double dphi2 = amari::E_dphi2(act, q, m, method::quadrature);
    const double t_phi2 = seconds_per_call(
        [&](int i) { return amari::E_phi2(act, q * (1 + 1e-12 * (i & 7)), m, method::quadrature); }, 50,
        min_seconds);
    const double t_dphi2 = seconds_per_call(
        [&](int i) { return amari::E_dphi2(act, q * (1 + 1e-12 * (i & 7)), m, method::quadrature); }, 50,
        min_seconds);
    nlohmann::json j = {{"bench", "gauss"}, {"kind", "one_point"}, {"phi", e.at("phi")}, {"q", q}, {"m", m},
                        {"E_phi2_us", t_phi2 * 1e6}, {"E_dphi2_us", t_dphi2 * 1e6},
                        {"E_phi2_rel_error", rel_error(phi2, e.at("E_phi2"))},
                        {"E_dphi2_rel_error", rel_error(dphi2, e.at("E_dphi2"))},
                        {"per_second", 2 / (t_phi2 + t_dphi2)}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
  for (const auto& e : ref.at("two_point")) {
    const Activation act = Activation::parse(e.at("phi").get<std::string>());
    const double q11 = e.at("q11"), q22 = e.at("q22"), c = e.at("c");
    const double pp = amari::E_phi_phi(act, q11, q22, c, method::quadrature);
    const double dd = amari::E_dphi_dphi(act, q11, q22, c, method::quadrature);
    const double t_pp = seconds_per_call(
        [&](int i) { return amari::E_phi_phi(act, q11, q22, c * (1 + 1e-12 * (i & 7)), method::quadrature); }, 20,
        min_seconds);
    const double t_dd = seconds_per_call(
        [&](int i) { return amari::E_dphi_dphi(act, q11, q22, c * (1 + 1e-12 * (i & 7)), method::quadrature); }, 20,
        min_seconds);
    nlohmann::json j = {{"bench", "gauss"}, {"kind", "two_point"}, {"phi", e.at("phi")}, {"q11", q11},
                        {"q22", q22}, {"c", c}, {"E_phi_phi_us", t_pp * 1e6}, {"E_dphi_dphi_us", t_dd * 1e6},
                        {"E_phi_phi_rel_error", rel_error(pp, e.at("E_phi_phi"))},
                        {"E_dphi_dphi_rel_error", rel_error(dd, e.at("E_dphi_dphi"))},
                        {"per_second", 2 / (t_pp + t_dd)}};
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
  }
}
