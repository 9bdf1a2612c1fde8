// End-to-end speed and accuracy of `simulate` on the network of the scipy baseline
// (dh/dt = -h + W tanh(h) + b, W_ij ~ N(0, 1.5^2/N), b ~ N(0, 0.3^2), h(0) ~ N(0, 1), T = 50,
// samples every 0.1, dopri5 at rtol 1e-6 / atol 1e-8), measured side by side in one run:
//   * one trajectory in double and in float, 16 replicas in double and float: solve seconds
//     (drawing W excluded, as the baseline excludes it), right-hand sides, seconds per RHS;
//   * accuracy against a tight reference run (rtol 1e-11) of the same network: the largest error
//     of q(t) over the samples and of h_i(t) over 100 recorded neurons;
//   * with --scipy PATH: the baseline script itself (python3, numpy/scipy), and the ratios.
//
// usage: bench_simulate [--n N] [--t-end T] [--scipy PATH/scipy_baseline.py] [--no-reference]
// Prints one JSON object per measurement.
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amari/sim/simulate.hpp"

namespace {

struct keep : amari::simulation_observer {
  std::vector<double> q, h;  // q of replica 0, traces of replica 0
  void on_sample(const amari::sample& s) override {
    q.push_back(s.q[0]);
    h.insert(h.end(), s.traces.begin(), s.traces.begin() + s.neurons);
  }
};

struct run_out {
  amari::simulate_result r;
  keep k;
};

run_out run(amari::simulate_params p) {
  run_out o;
  o.r = amari::simulate(p, o.k);
  return o;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double e = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

void emit(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 4000;
  double t_end = 50;
  std::string scipy;
  bool reference = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--n" && i + 1 < argc) n = std::atoll(argv[++i]);
    else if (a == "--t-end" && i + 1 < argc) t_end = std::atof(argv[++i]);
    else if (a == "--scipy" && i + 1 < argc) scipy = argv[++i];
    else if (a == "--no-reference") reference = false;
    else {
      std::fprintf(stderr, "usage: bench_simulate [--n N] [--t-end T] [--scipy PATH] [--no-reference]\n");
      return 2;
    }
  }

  amari::simulate_params p;
  p.net.n = n;
  p.net.model.sigma_w = 1.5;
  p.net.model.sigma_b = 0.3;
  p.t_end = t_end;
  p.dt_out = 0.1;
  p.rtol = 1e-6;
  p.atol = 1e-8;
  p.record_neurons = std::min<std::int64_t>(100, n);
  p.acf_lag = 0;

  run_out ref;
  if (reference) {
    amari::simulate_params pr = p;
    pr.rtol = 1e-11;
    pr.atol = 1e-13;
    ref = run(pr);
  }

  struct config {
    const char* name;
    amari::precision_kind prec;
    std::int64_t replicas;
  };
  const config configs[] = {{"double_1", amari::precision_kind::float64, 1},
                            {"float_1", amari::precision_kind::float32, 1},
                            {"double_16", amari::precision_kind::float64, 16},
                            {"float_16", amari::precision_kind::float32, 16}};
  double scipy_seconds = 0;
  auto run_scipy = [&]() {
    if (scipy.empty()) return;
    const std::string cmd = "/usr/bin/python3 " + scipy + " " + std::to_string(n) + " --T " + std::to_string(t_end);
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (!pipe) return;
    std::string out;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    ::pclose(pipe);
    try {
      auto j = nlohmann::json::parse(out);
      const double s = j["seconds"].get<double>();
      scipy_seconds = scipy_seconds == 0 ? s : std::min(scipy_seconds, s);
      emit({{"bench", "simulate"}, {"impl", "scipy_baseline"}, {"n", n}, {"t_end", t_end}, {"seconds", s},
            {"rhs_evals", j["rhs_evals"]}, {"seconds_per_rhs", j["seconds_per_rhs"]}, {"blas", j["blas"]}});
    } catch (const std::exception&) {
      std::fprintf(stderr, "bench_simulate: could not run the scipy baseline (%s)\n", cmd.c_str());
    }
  };

  // Two rounds, alternating with the baseline; the best of each is kept.
  std::vector<double> best(4, 1e300);
  std::vector<nlohmann::json> rows(4);
  for (int round = 0; round < 2; ++round) {
    run_scipy();
    for (int c = 0; c < 4; ++c) {
      amari::simulate_params q = p;
      q.precision = configs[c].prec;
      q.replicas = configs[c].replicas;
      const auto o = run(q);
      const double solve = o.r.seconds - o.r.setup_seconds;
      if (solve >= best[c]) continue;
      best[c] = solve;
      nlohmann::json j = {{"bench", "simulate"}, {"impl", "amari"}, {"config", configs[c].name},
                          {"n", n}, {"t_end", t_end}, {"replicas", q.replicas},
                          {"precision", amari::to_string(q.precision)}, {"threads", omp_get_max_threads()},
                          {"seconds", solve}, {"setup_seconds", o.r.setup_seconds},
                          {"rhs_evals", o.r.rhs_evals}, {"steps", o.r.steps},
                          {"seconds_per_rhs", solve / double(o.r.rhs_evals)},
                          {"seconds_per_trajectory", solve / double(q.replicas)}};
      if (reference) {
        j["max_error_q"] = max_abs_diff(o.k.q, ref.k.q);
        j["max_error_h"] = max_abs_diff(o.k.h, ref.k.h);
        j["reference_rhs_evals"] = ref.r.rhs_evals;
      }
      rows[c] = j;
    }
  }
  for (int c = 0; c < 4; ++c) {
    if (scipy_seconds > 0) rows[c]["speedup_per_trajectory_vs_scipy"] = scipy_seconds / rows[c]["seconds_per_trajectory"].get<double>();
    rows[c]["ratio_per_step_to_one_replica"] =
        (rows[c]["seconds"].get<double>() / rows[c]["steps"].get<double>()) /
        (rows[c % 2]["seconds"].get<double>() / rows[c % 2]["steps"].get<double>());
    emit(rows[c]);
  }
}
