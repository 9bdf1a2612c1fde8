// The time and depth pictures side by side (include/amari/sim/compare.hpp, docs/compare.md).
// Everything numerical here is bookkeeping on top of the libraries that compute each picture
// (maps, deepnet, meanfield, dmft, simulate); the only new mathematics is the mean-field map of
// the tied discrete-time net (iterate_tied_map) and the predictions assembled into the rows.
#include "amari/sim/compare.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>

#include "amari/sim/deepnet.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "amari/theory/maps.hpp"
#include "amari/theory/meanfield.hpp"
#include "amari/sim/network.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/theory/finite.hpp"

namespace amari {

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// The continuous-time run: dopri5 (the library's default tolerances), Lyapunov exponent,
// autocorrelation over the stationary window.
simulate_params continuous_params(const compare_params& p) {
  simulate_params s;
  s.net.n = p.n;
  s.net.model = p.model;
  s.net.q0 = p.q0;
  s.net.seed = p.seed;
  s.replicas = p.replicas;
  s.draws = p.draws;
  s.t_end = p.t_end;
  s.dt_out = p.dt_out;
  s.stepper = stepper_kind::dopri5;
  s.record_neurons = 0;
  s.lyapunov = true;
  s.lyapunov_k = 1;
  s.lyapunov_interval = 1.0;
  s.transient = p.transient_time();
  s.acf_lag = -1;  // min(20, window / 2)
  s.threads = p.threads;
  s.flush_interval = 1e9;  // nothing is written by the simulation itself
  return s;
}

// The tied discrete-time run: the map stepper, one sample per iteration, the second half as the
// stationary window, Lyapunov exponent per iteration.
simulate_params tied_params(const compare_params& p) {
  simulate_params s = continuous_params(p);
  s.stepper = stepper_kind::map;
  s.t_end = static_cast<double>(p.iterations);
  s.dt_out = 1;
  s.transient = static_cast<double>(p.iterations / 2);
  s.acf_lag = 0;
  // A different seed stream, so that the tied net's W is not the continuous run's W.
  s.net.seed = p.seed + 1;
  return s;
}

deepnet_params depth_params(const compare_params& p) {
  deepnet_params d;
  d.model = p.model;
  d.model.w0 = d.model.b0 = 0;  // the untied deep net: zero-mean weights and biases
  d.n = p.n;
  d.layers = p.layers;
  d.nets = p.nets;
  d.q0 = p.q0;
  d.c0 = p.c0;
  d.seed = p.seed;
  d.threads = p.threads;
  return d;
}

// Initial states with exactly the inputs' statistics, as the deep net builds its two inputs
// (Gram-Schmidt on Gaussian vectors): replica 0 = sqrt(N q0) e_0, replica a >= 1 =
// sqrt(N q0) (c0 e_0 + sqrt(1 - c0^2) e_a), e orthonormal. So |h^a|^2 / N = q0 and the cosine of
// replica 0 with each other replica is c0.
Eigen::MatrixXd initial_states(const compare_params& p) {
  const std::int64_t n = p.n, R = p.replicas;
  Eigen::MatrixXd e(n, R);
  for (std::int64_t a = 0; a < R; ++a) {
    Eigen::VectorXd z(n);
    standard_normals(stream_key(p.seed, 0, stream_kind::initial, a), z.data(), n);
    for (std::int64_t b = 0; b < a; ++b) z -= e.col(b).dot(z) * e.col(b);
    for (std::int64_t b = 0; b < a; ++b) z -= e.col(b).dot(z) * e.col(b);  // twice is enough
    e.col(a) = z / z.norm();
  }
  const double scale = std::sqrt(static_cast<double>(n) * p.q0);
  Eigen::MatrixXd h(n, R);
  h.col(0) = scale * e.col(0);
  for (std::int64_t a = 1; a < R; ++a) h.col(a) = scale * (p.c0 * e.col(0) + std::sqrt(1 - p.c0 * p.c0) * e.col(a));
  return h;
}

// Keeps every sample of a run in memory (a few hundred samples of [D][R] numbers).
class collector final : public simulation_observer {
 public:
  void on_sample(const sample& s) override { samples.push_back(s); }
  std::vector<sample> samples;
};

// Curves (ensemble mean and standard error over draws) and per-draw stationary averages.
struct run_summary {
  std::vector<double> t, m, m_sem, q, q_sem, q2, q2_sem, c12, c12_sem;
  // per draw, time-averaged over the window t >= transient: replica means of m, q, q2; the
  // replica correlation c_0a and overlap q_0a averaged over a >= 1.
  std::vector<double> m_d, q_d, q2_d, c12_d, q12_d;
};

// Mean over a >= 1 of x[d][0][a] (replica 0 against the others).
double pair_mean(const std::vector<double>& x, std::int64_t d, std::int64_t R) {
  double s = 0;
  for (std::int64_t a = 1; a < R; ++a) s += x[(d * R + 0) * R + a];
  return s / static_cast<double>(R - 1);
}

run_summary summarise(const std::vector<sample>& samples, std::int64_t D, std::int64_t R, double transient) {
  run_summary r;
  r.m_d.assign(D, 0.0);
  r.q_d.assign(D, 0.0);
  r.q2_d.assign(D, 0.0);
  r.c12_d.assign(D, 0.0);
  r.q12_d.assign(D, 0.0);
  std::int64_t window = 0;
  for (const auto& s : samples) {
    r.t.push_back(s.t);
    auto push = [](const mean_sem& v, std::vector<double>& mean, std::vector<double>& sem) {
      mean.push_back(v.mean);
      sem.push_back(v.sem);
    };
    push(ensemble_mean(s.m, D, R), r.m, r.m_sem);
    push(ensemble_mean(s.q, D, R), r.q, r.q_sem);
    push(ensemble_mean(s.q2, D, R), r.q2, r.q2_sem);
    std::vector<double> c(D);
    for (std::int64_t d = 0; d < D; ++d) c[d] = pair_mean(s.c_ab, d, R);
    push(mean_and_sem(c), r.c12, r.c12_sem);
    if (s.t < transient - 1e-9) continue;
    ++window;
    for (std::int64_t d = 0; d < D; ++d) {
      for (std::int64_t a = 0; a < R; ++a) {
        r.m_d[d] += s.m[d * R + a] / double(R);
        r.q_d[d] += s.q[d * R + a] / double(R);
        r.q2_d[d] += s.q2[d * R + a] / double(R);
      }
      r.c12_d[d] += c[d];
      r.q12_d[d] += pair_mean(s.q_ab, d, R);
    }
  }
  for (auto* v : {&r.m_d, &r.q_d, &r.q2_d, &r.c12_d, &r.q12_d})
    for (double& x : *v) x /= static_cast<double>(std::max<std::int64_t>(window, 1));
  return r;
}

// First lag at which c(tau) - c_inf has fallen to half of c(0) - c_inf (linear interpolation
// between samples); NaN if it does not within the lags.
double half_decay(const std::vector<double>& tau, const std::vector<double>& c, double c_inf) {
  const double half = 0.5 * (c[0] - c_inf);
  if (!(half > 0)) return nan_v;
  for (std::size_t l = 1; l < c.size(); ++l) {
    const double y0 = c[l - 1] - c_inf, y1 = c[l] - c_inf;
    if (y1 <= half) return tau[l - 1] + (y0 - half) / (y0 - y1) * (tau[l] - tau[l - 1]);
  }
  return nan_v;
}

compare_row make_row(std::string name, std::string units, std::optional<double> theory, std::optional<mean_sem> sim,
                     std::string note) {
  compare_row r;
  r.name = std::move(name);
  r.units = std::move(units);
  r.note = std::move(note);
  if (theory && sim && std::isfinite(*theory) && std::isfinite(sim->mean)) {
    r.theory = theory;
    r.simulation = sim->mean;
    r.difference = sim->mean - *theory;
    if (std::isfinite(sim->sem)) r.sem = sim->sem;
  }
  return r;
}

compare_row na(std::string name, std::string units, std::string why) {
  return make_row(std::move(name), std::move(units), std::nullopt, std::nullopt, "n/a: " + std::move(why));
}

// Progress over the stages, weighted by their estimated cost (in N^2 multiply-adds or normals).
class staged_progress {
 public:
  staged_progress(const run_control& ctl, std::vector<double> weights) : ctl_(ctl), w_(std::move(weights)) {
    total_ = std::accumulate(w_.begin(), w_.end(), 0.0);
  }
  run_control stage(std::size_t k) const {
    run_control c;
    c.stop = ctl_.stop;
    if (ctl_.progress) {
      const double before = std::accumulate(w_.begin(), w_.begin() + static_cast<std::ptrdiff_t>(k), 0.0);
      const double w = w_[k], total = total_;
      auto outer = ctl_.progress;
      c.progress = [outer, before, w, total](double done, double of) {
        outer(before + (of > 0 ? w * std::min(done / of, 1.0) : 0.0), total);
      };
    }
    return c;
  }
  void done() const { ctl_.report(total_, total_); }

 private:
  const run_control& ctl_;
  std::vector<double> w_;
  double total_ = 0;
};

void check_stop(const run_control& ctl) {
  if (const int sig = ctl.stop_requested()) throw Interrupted(sig, "amari compare interrupted; no file was written");
}

}  // namespace

const param_table<compare_params>& compare_params::table() {
  using P = compare_params;
  static const auto t = param_table<P>("compare")
                            .add("phi", [](P& p) -> auto& { return p.model.phi; })
                            .add("sigma_w", [](P& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](P& p) -> auto& { return p.model.sigma_b; })
                            .add("w0", [](P& p) -> auto& { return p.model.w0; })
                            .add("b0", [](P& p) -> auto& { return p.model.b0; })
                            .add("q0", [](P& p) -> auto& { return p.q0; })
                            .add("c0", [](P& p) -> auto& { return p.c0; })
                            .add("n", [](P& p) -> auto& { return p.n; })
                            .add("layers", [](P& p) -> auto& { return p.layers; })
                            .add("nets", [](P& p) -> auto& { return p.nets; })
                            .add("replicas", [](P& p) -> auto& { return p.replicas; })
                            .add("draws", [](P& p) -> auto& { return p.draws; })
                            .add("t_end", [](P& p) -> auto& { return p.t_end; })
                            .add("dt_out", [](P& p) -> auto& { return p.dt_out; })
                            .add("transient", [](P& p) -> auto& { return p.transient; })
                            .add("iterations", [](P& p) -> auto& { return p.iterations; })
                            .add("seed", [](P& p) -> auto& { return p.seed; })
                            .add("threads", [](P& p) -> auto& { return p.threads; });
  return t;
}

void compare_params::validate() const {
  model.validate();
  require_positive("q0", q0);
  require_finite("c0", c0);
  if (!(c0 > -1 && c0 < 1)) throw InvalidArgument("c0", format_number(c0), "must be a number in (-1, 1)");
  require_int_range("n", n, 2, 1'000'000);
  require_int_range("layers", layers, 1, 100'000);
  require_int_range("nets", nets, 2, 1'000'000);
  require_int_range("replicas", replicas, 2, 4096);
  require_int_range("draws", draws, 2, 100'000);
  require_positive("t_end", t_end);
  require_positive("dt_out", dt_out);
  if (dt_out > t_end)
    throw InvalidArgument("dt_out", format_number(dt_out), fmt::format("must be <= t_end = {}", format_number(t_end)));
  if (transient >= 0 && transient >= t_end)
    throw InvalidArgument("transient", format_number(transient),
                          fmt::format("must be < t_end = {} (negative: t_end / 4)", format_number(t_end)));
  require_finite("transient", transient);
  require_int_range("iterations", iterations, 4, 10'000'000);
  if (seed < 0 || seed > std::numeric_limits<std::int64_t>::max() - 1)
    throw InvalidArgument("seed", std::to_string(seed), "must be an integer >= 0");
  require_int_range("threads", threads, 0, 4096);
  // The libraries' own checks (t_end a multiple of dt_out, the stationary window, ...), then the
  // memory the simulations need, before anything is allocated.
  depth_params(*this).validate();
  const auto cont = continuous_params(*this);
  cont.validate();
  require_memory(cont);
  tied_params(*this).validate();
}

tied_trajectory iterate_tied_map(const model_params& model, double m0, double q0, std::int64_t iterations) {
  const Activation& phi = model.phi;
  const double sigma_w = model.sigma_w, sigma_b = model.sigma_b, w0 = model.w0, b0 = model.b0;
  // x ~ N(m, q):  m' = w0 E[phi(x)] + b0,  q' = sigma_w^2 E[phi(x)^2] + sigma_b^2
  // (q is the population variance about m; the i.i.d. couplings make h(t+1) Gaussian given the
  // past, with the mean and variance of the (m, q) of the order-parameter ODE's right-hand side).
  tied_trajectory r;
  double m = m0, q = q0;
  r.m.push_back(m);
  r.q.push_back(q);
  for (std::int64_t k = 0; k < iterations; ++k) {
    const double Ephi = E_phi(phi, q, m), Ephi2 = E_phi2(phi, q, m);
    m = w0 * Ephi + b0;
    q = sigma_w * sigma_w * Ephi2 + sigma_b * sigma_b;
    r.m.push_back(m);
    r.q.push_back(q);
  }
  return r;
}

std::string_view to_string(time_phase p) {
  switch (p) {
    case time_phase::ordered: return "ordered";
    case time_phase::critical: return "critical";
    case time_phase::chaotic: return "chaotic";
    case time_phase::unstable: return "unstable";
    case time_phase::unbounded: return "unbounded";
  }
  return "?";
}

compare_result run_compare(const compare_params& p, const run_control& ctl) {
  p.validate();
  const auto start = std::chrono::steady_clock::now();
  compare_result out;
  const auto cont_p = continuous_params(p);
  const auto tied_p = tied_params(p);
  const double N2 = double(p.n) * double(p.n);
  // Cost estimates (seconds are not promised, only the split): drawing a normal ~ 10 multiply-adds.
  const double cost_depth = double(p.nets) * double(p.layers) * N2 * 12;
  const double cost_cont = double(p.draws) * (N2 * 10 + p.t_end * 60 * N2 * double(p.replicas * 2) / 4);
  const double cost_tied = double(p.draws) * (N2 * 10 + double(p.iterations) * N2 * double(p.replicas * 2) / 4);
  staged_progress prog(ctl, {cost_depth, cost_cont, cost_tied, 0.02 * (cost_depth + cost_cont + cost_tied)});

  // ---- Depth: maps and the untied deep net ----------------------------------------------------
  const maps_result maps = solve_maps(depth_params(p).model);
  out.depth_phase = std::string(to_string(maps.phase));
  out.depth_chi_1 = maps.chi_1;
  out.depth_q_star = maps.q_star;
  out.depth_c_star = maps.c_star;
  const deepnet_result deep = run_deepnet(depth_params(p), prog.stage(0));
  for (std::int64_t l = 0; l <= p.layers; ++l) out.layer.push_back(double(l));
  out.q_map = deep.q_map;
  out.c_map = deep.c_map;
  out.lambda_map = deep.lambda_map;
  out.q_net = deep.q1_mean;
  out.q_net_sem = deep.q1_sem;
  out.c_net = deep.c_mean;
  out.c_net_sem = deep.c_sem;
  out.lambda_net = deep.lambda_mean;
  out.lambda_net_sem = deep.lambda_sem;
  check_stop(ctl);

  // ---- Continuous time: Amari's ODE and the simulation -----------------------------------------
  const model_params& mp = p.model;
  const Eigen::MatrixXd h0 = initial_states(p);
  simulate_inputs in;
  in.h0 = &h0;
  collector cont;
  const simulate_result cont_r = simulate(cont_p, cont, prog.stage(1), in);
  const std::int64_t D = p.draws, R = p.replicas;
  const run_summary cs = summarise(cont.samples, D, R, cont_p.transient_time());
  out.t = cs.t;
  out.m_sim = cs.m;
  out.m_sim_sem = cs.m_sem;
  out.q_sim = cs.q;
  out.q_sim_sem = cs.q_sem;
  out.q2_sim = cs.q2;
  out.q2_sim_sem = cs.q2_sem;
  out.c12_sim = cs.c12;
  out.c12_sim_sem = cs.c12_sem;
  out.tau = cont_r.acf_tau;
  out.acf_sim = cont_r.acf;
  out.acf_sim_sem = cont_r.acf_sem;

  meanfield_settings ms;
  ms.m0 = 0;  // the initial states' population mean is 0 up to O(N^{-1/2})
  ms.q0 = p.q0;
  ms.times = out.t;
  const meanfield_result mf = solve_meanfield(mp, ms, prog.stage(3));
  out.m_ode = mf.m;
  out.q_ode = mf.q;
  std::optional<meanfield_fixed_point> fp;
  if (mf.final_fixed_point) fp = mf.fixed_points[*mf.final_fixed_point];
  const bool bias_free = p.model.w0 == 0 && p.model.b0 == 0;
  double outlier = nan_v;  // w0 E[phi'(x)] at (m*, q*): the rank-one outlier of W diag(phi')
  if (fp) {
    out.m_star = fp->m;
    out.q_star = fp->q;
    out.chi_1 = fp->chi_1;
    outlier = p.model.w0 * E_dphi(p.model.phi, fp->q, fp->m);
    time_phase ph = time_phase::critical;
    if (!(std::abs(fp->chi_1 - 1) < critical_band))
      ph = fp->network_stable ? time_phase::ordered : (fp->chi_1 > 1 ? time_phase::chaotic : time_phase::unstable);
    out.phase = std::string(to_string(ph));
  } else {
    out.phase = std::string(to_string(time_phase::unbounded));
  }
  const bool ordered = out.phase == "ordered", chaotic = out.phase == "chaotic";
  check_stop(ctl);

  // ---- The DMFT of the chaotic state (w0 = b0 = 0) ---------------------------------------------
  std::optional<dmft_result> dm;
  if (chaotic && bias_free && p.model.phi.bounded()) {
    dmft_settings ds;
    ds.tau_max = out.tau.empty() ? 20.0 : std::max(out.tau.back(), 1.0);
    ds.dt_out = p.dt_out;
    ds.lyapunov = true;
    dm = solve_dmft(p.model, ds, prog.stage(3));
    out.tau_dmft = dm->trajectory.tau;
    out.delta_dmft = dm->trajectory.delta;
    if (!dm->stationary.chaotic) dm.reset();
  }
  check_stop(ctl);

  // ---- Discrete time, tied weights ------------------------------------------------------------
  collector tied;
  const simulate_result tied_r = simulate(tied_p, tied, prog.stage(2), in);
  const run_summary ts = summarise(tied.samples, D, R, tied_p.transient_time());
  out.iteration = ts.t;
  out.m_tied = ts.m;
  out.m_tied_sem = ts.m_sem;
  out.q_tied = ts.q;
  out.q_tied_sem = ts.q_sem;
  out.c12_tied = ts.c12;
  out.c12_tied_sem = ts.c12_sem;
  const tied_trajectory tt = iterate_tied_map(p.model, 0.0, p.q0, p.iterations);
  out.m_tied_theory = tt.m;
  out.q_tied_theory = tt.q;
  if (bias_free) {
    out.c_tied_theory = iterate_maps(depth_params(p).model, p.q0, p.c0, p.iterations).c;
  } else {
    out.c_tied_theory.assign(tt.q.size(), nan_v);
  }
  // The map's stationary state, if it has settled (a fixed point, not a cycle).
  const std::size_t last = tt.q.size() - 1;
  const bool tied_settled = std::isfinite(tt.q[last]) &&
                            std::abs(tt.q[last] - tt.q[last - 1]) <= 1e-9 * std::max(tt.q[last], 1e-12) &&
                            std::abs(tt.m[last] - tt.m[last - 1]) <= 1e-9 * std::max(std::abs(tt.m[last]), 1e-6);
  const double tied_q = tt.q[last], tied_m = tt.m[last];
  const double tied_chi = p.model.sigma_w * p.model.sigma_w * E_dphi2(p.model.phi, tied_q, tied_m);
  const double tied_outlier = p.model.w0 * E_dphi(p.model.phi, tied_q, tied_m);
  check_stop(ctl);

  // ---- The table ------------------------------------------------------------------------------
  auto& rows = out.rows;
  const std::string window_note = fmt::format("time average over t >= {}", format_number(cont_p.transient_time()));
  const std::string draws_note = fmt::format("mean +- s.e. over {} draws of (W, b)", D);
  const bool collapsed = out.q_star && *out.q_star == 0;

  // Static fixed point: variance and mean.
  if (ordered) {
    const std::string def = bias_free ? "q* of Amari's ODE = the length map's fixed point (w0 = b0 = 0)"
                                      : "q* of Amari's ODE fixed point (m*, q*); the length map ignores w0, b0";
    rows.push_back(make_row("static_variance", "h^2", out.q_star, mean_and_sem(cs.q_d),
                            def + " vs population variance mean_i (h_i - m)^2, " + window_note + ", " + draws_note));
    rows.push_back(make_row("static_mean", "h", out.m_star, mean_and_sem(cs.m_d),
                            "m* of Amari's ODE vs population mean mean_i h_i, " + window_note));
  } else {
    rows.push_back(na("static_variance", "h^2", "the static state is unstable in the network (" + out.phase + " phase)"));
    rows.push_back(na("static_mean", "h", "the static state is unstable in the network (" + out.phase + " phase)"));
  }

  // Lyapunov exponent of the continuous-time network.
  const mean_sem lyap{cont_r.lyapunov.empty() ? nan_v : cont_r.lyapunov[0],
                      cont_r.lyapunov_sem.empty() ? nan_v : cont_r.lyapunov_sem[0]};
  if (ordered) {
    const double bulk = -1 + std::sqrt(out.chi_1), out_ev = -1 + outlier;
    const bool by_outlier = out_ev > bulk;
    rows.push_back(make_row(
        "lyapunov_time", "1/leak time", std::max(bulk, out_ev), lyap,
        by_outlier ? fmt::format("-1 + w0 E[phi'] (rank-one outlier of W diag(phi'), above the bulk edge "
                                 "-1 + sqrt(chi_1) = {:.6g}) vs QR tangent exponent, t >= {}",
                                 bulk, format_number(cont_p.transient_time()))
                   : fmt::format("-1 + sqrt(chi_1), chi_1 = {:.6g} (circular law of -1 + W diag(phi'(h*))) vs QR "
                                 "tangent exponent, t >= {}",
                                 out.chi_1, format_number(cont_p.transient_time()))));
  } else if (chaotic && dm && dm->lyapunov) {
    rows.push_back(make_row("lyapunov_time", "1/leak time", dm->lyapunov, lyap,
                            "the DMFT's maximal exponent (chaotic phase: the ground state of the tangent "
                            "Schroedinger problem) vs QR tangent exponent"));
  } else {
    rows.push_back(na("lyapunov_time", "1/leak time",
                      chaotic ? "the DMFT (chaotic phase) treats w0 = b0 = 0 and bounded phi"
                              : "no stationary state of the mean-field theory (" + out.phase + ")"));
  }

  // The chaotic state: Delta_0, replica overlap, decay time.
  if (dm) {
    const auto& st = dm->stationary;
    rows.push_back(make_row("delta_0", "h^2", st.delta_0, mean_and_sem(cs.q2_d),
                            "SCS Delta_0 = <h^2> vs stationary second moment mean_i h_i^2, " + window_note));
    rows.push_back(na("replica_overlap", "",
                      fmt::format("in the chaotic phase the replica overlap relaxes to Delta_inf / Delta_0 = {:.6g} "
                                  "over times much longer than the run (docs/compare.md); its course is "
                                  "/compare/time/c12_sim", st.delta_inf / st.delta_0)));
    // Measured decay time per draw. It needs the plateau Delta_inf of C(tau): by the symmetry
    // h -> -h of the ensemble it is exactly 0 for an odd phi without bias; otherwise it would have
    // to be measured from the replica overlap, which does not settle within the run.
    const bool symmetric = p.model.sigma_b == 0 && p.model.phi.odd();
    std::vector<double> td;
    const std::int64_t L = static_cast<std::int64_t>(cont_r.acf_tau.size());
    bool all = L > 1 && symmetric;
    for (std::int64_t d = 0; d < D && all; ++d) {
      std::vector<double> c(L, 0.0);
      for (std::int64_t a = 0; a < R; ++a)
        for (std::int64_t l = 0; l < L; ++l) c[l] += cont_r.acf_each[(d * R + a) * L + l] / double(R);
      const double t_half = half_decay(cont_r.acf_tau, c, 0.0);
      if (!std::isfinite(t_half)) all = false;
      td.push_back(t_half);
    }
    if (all && dm->decay_time)
      rows.push_back(make_row("decay_time", "leak time", dm->decay_time, mean_and_sem(td),
                              "DMFT lag where Delta(tau) falls to Delta_0 / 2 (Delta_inf = 0: odd phi, sigma_b = 0) "
                              "vs the same lag of the measured C(tau), per draw"));
    else
      rows.push_back(na("decay_time", "leak time",
                        symmetric ? "C(tau) did not fall to half within the measured lags"
                                  : "the plateau Delta_inf of C(tau) is not measurable within the run (it is 0 "
                                    "only for odd phi with sigma_b = 0)"));
  } else {
    const std::string why = chaotic ? "the DMFT treats w0 = b0 = 0 and bounded phi"
                                    : "Delta_0 is the chaotic state's variance (" + out.phase + " phase)";
    rows.push_back(na("delta_0", "h^2", why));
    if (ordered && !collapsed)
      rows.push_back(make_row("replica_overlap", "", 1.0, mean_and_sem(cs.c12_d),
                              "1 (every replica falls onto the one stable fixed point) vs replica correlation "
                              "c_0a, " + window_note));
    else
      rows.push_back(na("replica_overlap", "",
                        ordered ? "q* = 0: the replicas decay to h = 0 and their correlation is undefined" : why));
    rows.push_back(na("decay_time", "leak time", why));
  }

  // Depth: the untied deep net against the maps.
  {
    const std::int64_t L = p.layers;
    rows.push_back(make_row("depth_variance", "h^2", out.q_map[L], mean_sem{out.q_net[L], out.q_net_sem[L]},
                            fmt::format("length map q^L vs |h^L|^2 / N of the untied deep net at L = {}, mean +- s.e. "
                                        "over {} nets",
                                        L, p.nets)));
    const double target = 0.5 * std::log(maps.chi_1);
    std::int64_t first = -1;
    for (std::int64_t l = 1; l <= L; ++l)
      if (std::isfinite(out.lambda_map[l]) && std::abs(out.lambda_map[l] - target) <= 1e-3) {
        first = l;
        break;
      }
    if (!std::isfinite(target)) {
      rows.push_back(na("depth_lambda", "1/layer", "chi_1 = 0: perturbations vanish in one layer"));
    } else if (first < 0) {
      rows.push_back(na("depth_lambda", "1/layer",
                        "the maps' per-layer exponent has not settled to within 1e-3 of (1/2) ln chi_1 in L layers"));
    } else {
      std::vector<double> per_net;
      for (std::int64_t k = 0; k < p.nets; ++k) {
        double s = 0;
        for (std::int64_t l = first; l <= L; ++l) s += deep.lambda[k * (L + 1) + l];
        per_net.push_back(s / double(L - first + 1));
      }
      rows.push_back(make_row("depth_lambda", "1/layer", target, mean_and_sem(per_net),
                              fmt::format("(1/2) ln chi_1 (depth maps, q* = {:.6g}) vs the untied deep net's "
                                          "(1/2) ln(|v^l|^2/|v^(l-1)|^2), averaged over layers {}..{}",
                                          maps.q_star.value_or(nan_v), first, L)));
    }
  }

  // Finite width: the untied deep net at layer L against the 1/N theory (amari/theory/finite.hpp,
  // exact inputs as the deep net builds them), with the infinite-width value beside it.
  {
    const std::int64_t L = p.layers;
    const double n = double(p.n);
    const finite_result th = run_finite(
        finite_params{.model = depth_params(p).model, .q0 = p.q0, .c0 = p.c0, .inputs = input_kind::exact, .layers = L});
    auto finite_row = [&](std::string name, std::string units, double mean_field, double theory, mean_sem sim,
                          std::string note) {
      compare_row r = make_row(std::move(name), std::move(units), theory, sim, std::move(note));
      if (r.applies()) r.mean_field = mean_field;
      return r;
    };
    const std::string where =
        fmt::format("at layer L = {}, width N = {}, over {} nets (exact inputs; docs/finite_width.md)", L, p.n, p.nets);
    if (p.nets < 3) {
      for (const char* name : {"finite_mean_q", "finite_var_q", "finite_kurtosis", "finite_mean_c"})
        rows.push_back(na(name, "", "the finite-width rows need nets >= 3 (jackknife standard errors)"));
    } else if (!std::isfinite(th.K[L]) || !std::isfinite(th.V[L])) {
      for (const char* name : {"finite_mean_q", "finite_var_q", "finite_kurtosis", "finite_mean_c"})
        rows.push_back(na(name, "", "the 1/N theory is not finite at layer L (the length map diverges)"));
    } else {
      deepnet_result::width_sweep s;
      measure_width(deep, n, th, s);
      rows.push_back(finite_row("finite_mean_q", "h^2", th.K[L], th.K[L] + th.G1[L] / n,
                                mean_sem{deep.q1_mean[L], deep.q1_sem[L]},
                                "K^L + G1^L / N (mean field: the length map K^L) vs mean of |h^L|^2 / N, " + where));
      rows.push_back(finite_row("finite_var_q", "h^4", 0.0, th.var_q[L] / n,
                                mean_sem{s.var_q[L] / n, s.var_q_sem[L] / n},
                                "(2 K^2 + V) / N at layer L (mean field: 0) vs the unbiased variance of |h^L|^2 / N "
                                "over the nets (jackknife s.e.), " + where));
      rows.push_back(finite_row("finite_kurtosis", "", 0.0, th.kurtosis[L] / n,
                                mean_sem{s.kurtosis[L] / n, s.kurtosis_sem[L] / n},
                                "3 V / (K^2 N) (mean field: 0, Gaussian) vs mean h^4 / (mean h^2)^2 - 3 of h^L_i "
                                "over nets and neurons (jackknife s.e.), " + where));
      if (std::isfinite(th.c_shift[L]))
        rows.push_back(finite_row("finite_mean_c", "", th.c[L], th.c[L] + th.c_shift[L] / n,
                                  mean_sem{deep.c_mean[L], deep.c_sem[L]},
                                  "c^L + c_shift^L / N (mean field: the correlation map c^L) vs mean of the cosine "
                                  "c^L of the two inputs, " + where));
      else
        rows.push_back(na("finite_mean_c", "",
                          "the 1/N shift of c is not computed where 1 - |c| < 1e-4 (docs/finite_width.md)"));
    }
  }

  // The tied discrete-time net.
  {
    const std::string twin = fmt::format("average over iterations >= {}", tied_p.transient_time());
    if (tied_settled) {
      rows.push_back(make_row("tied_variance", "h^2", tied_q, mean_and_sem(ts.q_d),
                              (bias_free ? std::string("fixed point q* of the length map")
                                         : std::string("fixed point q* of the mean-field map (m, q)")) +
                                  " vs the tied net's population variance, " + twin));
    } else {
      rows.push_back(na("tied_variance", "h^2", "the mean-field map (m, q) has not settled to a fixed point"));
    }
    const bool tied_ordered = tied_settled && tied_chi < 1 && std::abs(tied_outlier) < 1;
    if (tied_settled && tied_q > 0 && tied_ordered) {
      rows.push_back(make_row("tied_correlation", "", 1.0, mean_and_sem(ts.c12_d),
                              "1 (ordered: the replicas meet at the fixed point) vs replica correlation c_0a, " + twin));
    } else if (tied_settled && tied_q > 0 && bias_free && maps.c_star) {
      rows.push_back(make_row("tied_correlation", "", maps.c_star, mean_and_sem(ts.c12_d),
                              "c* of the correlation map vs replica correlation c_0a, " + twin));
    } else {
      rows.push_back(na("tied_correlation", "",
                        tied_q == 0 ? "q* = 0: the replicas decay to h = 0 and their correlation is undefined"
                                    : "the correlation map is derived for w0 = b0 = 0"));
    }
    const mean_sem tl{tied_r.lyapunov.empty() ? nan_v : tied_r.lyapunov[0],
                      tied_r.lyapunov_sem.empty() ? nan_v : tied_r.lyapunov_sem[0]};
    if (tied_settled && tied_chi > 0 && (tied_ordered || bias_free)) {
      const double bulk = 0.5 * std::log(tied_chi);
      const double out_ev = tied_ordered && tied_outlier != 0 ? std::log(std::abs(tied_outlier)) : -INFINITY;
      rows.push_back(make_row("tied_lambda", "1/iteration", std::max(bulk, out_ev), tl,
                              out_ev > bulk ? "ln |w0 E[phi']| (rank-one outlier) vs QR tangent exponent per iteration, " + twin
                                            : fmt::format("(1/2) ln chi_1, chi_1 = {:.6g} at the map's fixed point, vs "
                                                          "QR tangent exponent per iteration, {}",
                                                          tied_chi, twin)));
    } else {
      rows.push_back(na("tied_lambda", "1/iteration",
                        !tied_settled ? "the mean-field map has not settled"
                                      : (tied_chi > 0 ? "chaotic with w0 or b0 != 0: no prediction here"
                                                      : "chi_1 = 0: perturbations vanish in one iteration")));
    }
  }
  prog.done();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace amari
