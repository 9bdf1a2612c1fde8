#pragma once
// Helpers for the simulation tests: an observer that keeps every sample, and a runner.
#include <cmath>
#include <vector>

#include "amari/sim/simulate.hpp"

namespace amari::test {

struct recorder : simulation_observer {
  std::vector<sample> samples;
  std::vector<checkpoint> flushes;
  std::string abort_status, abort_message;
  bool keep_checkpoints = false;
  void on_sample(const sample& s) override { samples.push_back(s); }
  void on_flush(const checkpoint& c) override {
    if (keep_checkpoints) flushes.push_back(c);
  }
  void on_abort(const std::string& status, const std::string& message) override {
    abort_status = status;
    abort_message = message;
  }
};

struct run_output {
  simulate_result result;
  std::vector<sample> samples;
};

inline run_output run_sim(const simulate_params& p, const simulate_inputs& in = {}) {
  recorder r;
  run_output out;
  out.result = simulate(p, r, {}, in);
  out.samples = std::move(r.samples);
  return out;
}

// Every number of two runs, compared bit for bit.
inline bool identical(const run_output& a, const run_output& b) {
  if (a.samples.size() != b.samples.size()) return false;
  for (std::size_t k = 0; k < a.samples.size(); ++k) {
    const sample &x = a.samples[k], &y = b.samples[k];
    if (x.t != y.t || x.m != y.m || x.q != y.q || x.q2 != y.q2 || x.phi_mean != y.phi_mean ||
        x.q_ab != y.q_ab || x.traces != y.traces)
      return false;
    for (std::size_t j = 0; j < x.lyapunov.size(); ++j)  // NaN before the transient
      if (!(x.lyapunov[j] == y.lyapunov[j] || (std::isnan(x.lyapunov[j]) && std::isnan(y.lyapunov[j]))))
        return false;
  }
  auto same = [](const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size()) return false;
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!(x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i])))) return false;
    return true;
  };
  return a.result.steps == b.result.steps && a.result.rhs_evals == b.result.rhs_evals &&
         same(a.result.lyapunov, b.result.lyapunov) && same(a.result.lyapunov_sem, b.result.lyapunov_sem) &&
         same(a.result.acf, b.result.acf);
}

}  // namespace amari::test
