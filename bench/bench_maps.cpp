// Speed of the deep-network maps: single points by phase, the edge of chaos, and the 256 x 256
// phase diagram (the goal: under 2 s on a 2-core machine). One JSON object per line.
#include <omp.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "amari/sim/deepnet.hpp"
#include "amari/theory/maps.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// CPU time of the whole process (all threads): on a machine shared with other jobs, the 1-thread
// CPU time is the work itself, less inflated by the load than the wall time.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

template <class F>
double seconds_per_call(F&& f, int min_calls = 20, double min_seconds = 0.3) {
  int calls = 0;
  const auto t0 = clock_type::now();
  double elapsed = 0;
  while (calls < min_calls || elapsed < min_seconds) {
    f();
    ++calls;
    elapsed = seconds_since(t0);
  }
  return elapsed / calls;
}

// NaN-aware: the grids hold NaN where a value is undefined.
bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

void print(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); std::fflush(stdout); }

}  // namespace

int main(int argc, char** argv) {
  using amari::Activation;
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;

  // Single points: one per regime, with the route c* took.
  struct point { const char* phi; double sw, sb; };
  for (const point& pt : {point{"tanh", 1.3, 0.3}, point{"tanh", 2.5, 0.3}, point{"tanh", 4.0, 1.0},
                          point{"tanh", 1.5, 0.0}, point{"tanh", 0.9, 0.0}, point{"tanh", 1.40, 0.3},
                          point{"erf", 2.0, 0.05}, point{"relu", 1.2, 0.3}, point{"hardtanh", 2.0, 0.3}}) {
    const amari::model_params p{.phi = Activation::parse(pt.phi), .sigma_w = pt.sw, .sigma_b = pt.sb};
    const amari::maps_result r = amari::solve_maps(p);
    const double t = seconds_per_call([&] { (void)amari::solve_maps(p); });
    print({{"bench", "maps_point"}, {"phi", pt.phi}, {"sigma_w", pt.sw}, {"sigma_b", pt.sb},
           {"phase", std::string(amari::to_string(r.phase))}, {"c_star_method", r.c_star_method},
           {"us", t * 1e6}});
  }
  {
    const Activation tanh = Activation::parse("tanh");
    const double t = seconds_per_call([&] { (void)amari::edge_of_chaos(tanh, 0.3); });
    print({{"bench", "edge_of_chaos"}, {"phi", "tanh"}, {"sigma_b", 0.3}, {"us", t * 1e6}});
  }

  // The phase diagram, 256 x 256 tanh over sigma_w in [0.5, 4], sigma_b in [0, 1], with 1 and 2
  // threads (and the check that both give the same numbers).
  const int n = quick ? 64 : 256;
  amari::phase_params pp;
  pp.phi = Activation::parse("tanh");
  pp.sigma_w = {0.5, 4.0, n};
  pp.sigma_b = {0.0, 1.0, n};
  amari::phase_diagram first;
  for (int threads : {1, 2}) {
    pp.threads = threads;
    const auto t0 = clock_type::now();
    const double c0 = process_cpu_seconds();
    amari::phase_diagram d = amari::compute_phase_diagram(pp);
    const double t = seconds_since(t0), cpu = process_cpu_seconds() - c0;
    bool same = true;
    if (threads == 1) first = d;
    else same = bitwise_equal(d.q_star, first.q_star) && bitwise_equal(d.c_star, first.c_star) &&
                bitwise_equal(d.chi_c, first.chi_c) && bitwise_equal(d.xi_c, first.xi_c) &&
                d.layers_to_1pct == first.layers_to_1pct && d.phase == first.phase;
    std::size_t chaotic = 0;
    for (auto ph : d.phase) chaotic += ph == static_cast<std::int64_t>(amari::depth_phase::chaotic);
    print({{"bench", "phase_diagram"}, {"phi", "tanh"}, {"n_sigma_w", n}, {"n_sigma_b", n},
           {"threads", threads}, {"seconds", t}, {"cpu_seconds", cpu}, {"us_per_point_per_thread", t * threads / (n * n) * 1e6},
           {"chaotic_points", chaotic}, {"identical_to_1_thread", same},
           {"max_threads", omp_get_max_threads()}});
  }

  // Finite-width networks: one network of width 1000, 10 layers, one thread (the cost is drawing
  // the N^2 Gaussian weights of each layer, ~8 ns each, plus three N x N GEMV products).
  {
    amari::deepnet_params p;
    p.model.phi = Activation::parse("tanh");
    p.n = quick ? 300 : 1000;
    p.layers = 10;
    p.nets = 2;
    p.threads = 1;
    const auto t0 = clock_type::now();
    const double c0 = process_cpu_seconds();
    (void)amari::run_deepnet(p);
    const double t = seconds_since(t0), cpu = process_cpu_seconds() - c0;
    print({{"bench", "deepnet"}, {"phi", "tanh"}, {"n", p.n}, {"threads", 1},
           {"ms_per_layer_per_net", t / (p.layers * p.nets) * 1e3},
           {"cpu_ms_per_layer_per_net", cpu / (p.layers * p.nets) * 1e3}});
  }
}
