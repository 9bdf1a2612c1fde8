// The HDF5 layout of a simulation (include/amari/io/layout/simulate.hpp, docs/FORMAT.md).
#include "amari/io/layout/simulate.hpp"

#include <cmath>
#include <fmt/format.h>
#include <numeric>

#include "amari/core/error.hpp"
#include "amari/io/arrays.hpp"
#include "amari/io/layout/dmft.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "amari/io/params.hpp"

namespace amari {

namespace {

// Shape and dimension names of one row (a sample) over [draw][replica](extra...), leaving out
// the draw and replica axes of length 1.
struct row_layout {
  std::vector<std::uint64_t> shape;
  std::vector<std::string> dims;  // including "t" first
};

row_layout series_layout(std::int64_t D, std::int64_t R, std::vector<std::pair<std::string, std::int64_t>> extra = {}) {
  row_layout l;
  l.dims.push_back("t");
  if (D > 1) l.shape.push_back(static_cast<std::uint64_t>(D)), l.dims.push_back("draw");
  if (R > 1) l.shape.push_back(static_cast<std::uint64_t>(R)), l.dims.push_back("replica");
  for (auto& [name, size] : extra) l.shape.push_back(static_cast<std::uint64_t>(size)), l.dims.push_back(name);
  return l;
}

// The same without the time axis (whole datasets written at the end).
row_layout static_layout(std::int64_t D, std::int64_t R, std::vector<std::pair<std::string, std::int64_t>> extra = {}) {
  row_layout l = series_layout(D, R, std::move(extra));
  l.dims.erase(l.dims.begin());
  return l;
}

std::vector<std::int64_t> iota(std::int64_t n, std::int64_t first = 0) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), first);
  return v;
}

std::string time_units(const simulate_params& p) {
  return p.stepper == stepper_kind::map ? "iterations" : "leak time constants";
}

// ---- The checkpoint (docs/FORMAT.md, "/checkpoint"): one table of fields for writing and
// reading. Per draw: scalars as [D] arrays, arrays as [D, length]; an empty array (the derivative
// of a fixed-step run, the Lyapunov estimates without --lyapunov) is the scalar 0. Every shape is
// fixed by the parameters, so each flush rewrites the same datasets in place.

constexpr std::int64_t checkpoint_format = 2;

constexpr std::pair<const char*, double draw_checkpoint::*> draw_reals[] = {
    {"t", &draw_checkpoint::t},         {"dt_next", &draw_checkpoint::dt_next},
    {"t_old", &draw_checkpoint::t_old}, {"dt_step", &draw_checkpoint::dt_step},
    {"lyap_next", &draw_checkpoint::lyap_next}, {"lyap_last", &draw_checkpoint::lyap_last}};
constexpr std::pair<const char*, std::int64_t draw_checkpoint::*> draw_ints[] = {
    {"steps", &draw_checkpoint::steps}, {"rhs_evals", &draw_checkpoint::rhs_evals},
    {"draw_next_sample", &draw_checkpoint::next_sample}};
constexpr std::pair<const char*, std::vector<double> draw_checkpoint::*> draw_arrays[] = {
    {"state", &draw_checkpoint::state},         {"deriv", &draw_checkpoint::deriv},
    {"state_old", &draw_checkpoint::state_old}, {"deriv_old", &draw_checkpoint::deriv_old},
    {"pending_lyap", &draw_checkpoint::pending_lyap}, {"lyap", &draw_checkpoint::lyap}};
constexpr std::pair<const char*, std::vector<double> checkpoint::*> run_arrays[] = {
    {"stationary", &checkpoint::stationary}, {"acf", &checkpoint::acf}};

void write_checkpoint(store::checkpoint& ck, const checkpoint& c) {
  const auto D = static_cast<std::uint64_t>(c.draws.size());
  ck.write("format_version", checkpoint_format);
  ck.write("next_sample", c.next_sample);
  for (const auto& [name, field] : draw_reals) {
    std::vector<double> v;
    for (const auto& d : c.draws) v.push_back(d.*field);
    ck.write(name, v);
  }
  for (const auto& [name, field] : draw_ints) {
    std::vector<std::int64_t> v;
    for (const auto& d : c.draws) v.push_back(d.*field);
    ck.write(name, v);
  }
  for (const auto& [name, field] : draw_arrays) {
    const auto len = static_cast<std::uint64_t>((c.draws.front().*field).size());
    std::vector<double> v;
    for (const auto& d : c.draws) {
      if ((d.*field).size() != len) throw IoError(fmt::format("checkpoint {}: draws of different sizes", name));
      v.insert(v.end(), (d.*field).begin(), (d.*field).end());
    }
    if (len == 0)
      ck.write(name, 0.0);
    else
      ck.write(name, v, {D, len});
  }
  for (const auto& [name, field] : run_arrays) {
    if ((c.*field).empty())
      ck.write(name, 0.0);
    else
      ck.write(name, c.*field);
  }
}

checkpoint read_checkpoint_v2(store::checkpoint& ck, const std::string& path, std::int64_t D) {
  auto refuse = [&](const std::string& what) {
    return IoError(fmt::format("{}: the checkpoint does not match the parameters of the run ({})", path, what));
  };
  checkpoint c;
  c.next_sample = ck.read_int("next_sample");
  c.draws.resize(static_cast<std::size_t>(D));
  for (const auto& [name, field] : draw_reals) {
    const auto v = ck.read_doubles(name);
    if (static_cast<std::int64_t>(v.size()) != D) throw refuse(name);
    for (std::int64_t d = 0; d < D; ++d) c.draws[d].*field = v[d];
  }
  for (const auto& [name, field] : draw_ints) {
    const auto v = ck.read_ints(name);
    if (static_cast<std::int64_t>(v.size()) != D) throw refuse(name);
    for (std::int64_t d = 0; d < D; ++d) c.draws[d].*field = v[d];
  }
  for (const auto& [name, field] : draw_arrays) {
    const auto shape = ck.shape(name);
    if (shape.empty()) continue;  // an empty array
    if (shape.size() != 2 || static_cast<std::int64_t>(shape[0]) != D) throw refuse(name);
    const auto v = ck.read_doubles(name);
    const auto len = static_cast<std::ptrdiff_t>(shape[1]);
    for (std::int64_t d = 0; d < D; ++d) (c.draws[d].*field).assign(v.begin() + d * len, v.begin() + (d + 1) * len);
  }
  for (const auto& [name, field] : run_arrays)
    if (!ck.shape(name).empty()) c.*field = ck.read_doubles(name);
  return c;
}

// Format version 1: per draw t, dt_next, steps, rhs_evals, lyap_next, lyap_last; the states
// concatenated; the pending samples and Lyapunov intervals with their counts; the stationary
// window and C(tau) buffer so far, with their lengths (an empty list staged as one 0).
checkpoint read_checkpoint_v1(store::checkpoint& ck, const std::string& path, const simulate_params& p) {
  checkpoint c;
  c.next_sample = ck.read_int("next_sample");
  const std::int64_t D = p.draws, n = p.net.n, C = p.columns(), R = p.replicas;
  const std::int64_t rk = R * (p.lyapunov ? p.lyapunov_k : 0);
  const auto t = ck.read_doubles("t"), dt = ck.read_doubles("dt_next"), ln = ck.read_doubles("lyap_next"),
             ll = ck.read_doubles("lyap_last"), state = ck.read_doubles("state"), deriv = ck.read_doubles("deriv"),
             pt = ck.read_doubles("pending_t"), ph = ck.read_doubles("pending_h"), pl = ck.read_doubles("pending_lyap"),
             lg = ck.read_doubles("lyap_log"), ld = ck.read_doubles("lyap_dt");
  const auto steps = ck.read_ints("steps"), rhs = ck.read_ints("rhs_evals"), pc = ck.read_ints("pending_count"),
             lc = ck.read_ints("lyap_count");
  if (static_cast<std::int64_t>(t.size()) != D || static_cast<std::int64_t>(state.size()) < D * n * C)
    throw IoError(fmt::format("{}: the checkpoint does not match the parameters of the run", path));
  std::int64_t po = 0, lo = 0;
  const bool adaptive = p.stepper == stepper_kind::dopri5;
  for (std::int64_t d = 0; d < D; ++d) {
    draw_checkpoint dc;
    dc.v1 = true;
    dc.t = t[d], dc.dt_next = dt[d], dc.steps = steps[d], dc.rhs_evals = rhs[d];
    dc.lyap_next = ln[d], dc.lyap_last = ll[d];
    dc.state.assign(state.begin() + d * n * C, state.begin() + (d + 1) * n * C);
    if (adaptive) dc.deriv.assign(deriv.begin() + d * n * C, deriv.begin() + (d + 1) * n * C);
    for (std::int64_t i = 0; i < pc[d]; ++i, ++po) {
      dc.v1_pending_t.push_back(pt[po]);
      dc.v1_pending_h.insert(dc.v1_pending_h.end(), ph.begin() + po * n * R, ph.begin() + (po + 1) * n * R);
      dc.v1_pending_lyap.insert(dc.v1_pending_lyap.end(), pl.begin() + po * rk, pl.begin() + (po + 1) * rk);
    }
    for (std::int64_t i = 0; i < lc[d]; ++i, ++lo) {
      dc.v1_lyap_dt.push_back(ld[lo]);
      dc.v1_lyap_log.insert(dc.v1_lyap_log.end(), lg.begin() + lo * rk, lg.begin() + (lo + 1) * rk);
    }
    c.draws.push_back(std::move(dc));
  }
  const auto wc = ck.read_int("window_count"), ac = ck.read_int("acf_count");
  const auto w = ck.read_doubles("window"), a = ck.read_doubles("acf_buffer");
  c.v1_window.assign(w.begin(), w.begin() + wc);
  c.v1_acf_buffer.assign(a.begin(), a.begin() + ac);
  return c;
}

}  // namespace

struct simulation_writer::impl {
  store::file& f;
  simulate_params p;
  std::int64_t D, R, K, kl;
  store::series t_traj, m, q, q2, phi_mean, h;
  store::series t_rep, q_ab, c_ab;
  store::series t_ens, ens[8];
  store::series t_lyap, lyap;
  bool h0_given;
  simulation_writer::predictor predict;  // the theories, written with the first sample of a new run

  impl(store::file& file, const simulate_params& params, bool resuming, bool h0, simulation_writer::predictor pr)
      : f(file), p(params), D(p.draws), R(p.replicas), K(p.record_neurons), kl(p.lyapunov ? p.lyapunov_k : 0),
        h0_given(h0), predict(resuming ? nullptr : std::move(pr)) {
    if (resuming) {
      reopen();
      // The interruption's message ("interrupted at t = ...; continue with --resume") no longer
      // describes the file: say where the run was resumed instead.
      if (f.root().has_attr("message")) {
        f.root().attr("resumed_from", f.root().attr_string("message"));
        f.root().remove_attr("message");
      }
      // A file of an older format continues in the current one (its series are unchanged; its
      // checkpoint and the results written at the end are of this version).
      if (f.root().attr_int("format_version") < store::format_version)
        f.root().attr("format_version", store::format_version);
    } else {
      create();
    }
  }

  // The parameters as attributes (io/params.hpp), with the automatic transient and C(tau) lag
  // resolved to the values used.
  void write_params(store::group& g) {
    simulate_params used = p;
    used.transient = p.transient_time();
    used.acf_lag = p.acf_lag_time();
    // The storage of W as used (the default "state" resolved: the file says what was run).
    parse_param(to_string(p.weight_storage()), "weight_precision", used.weight_precision);
    io::write_params(g, simulate_params::table(), used);
  }

  // Scales draw, replica (and neuron) in group g, for the axes that are kept.
  void write_axes(store::group& g, bool neuron) {
    if (D > 1) g.write_scale("draw", iota(D), {.description = "index of the draw of (W, b)"});
    if (R > 1) g.write_scale("replica", iota(R), {.description = "index of the replica (initial condition)"});
    if (neuron && K > 0) g.write_scale("neuron", iota(K), {.description = "index i of the recorded neuron"});
  }

  store::series make(store::group& g, const std::string& name, const row_layout& l, const std::string& description,
                     const std::string& units = "") {
    return g.make_series(name, l.shape, {.description = description, .units = units, .dims = l.dims});
  }

  void create() {
    const std::string tu = time_units(p);
    auto g = f.group_at("/trajectory");
    write_params(g);
    g.attr("description", "finite random rate network dh/dt = -h + W phi(h) + b (the map: h <- W phi(h) + b)");
    t_traj = g.make_series_scale("t", {.description = "sample time", .units = tu});
    write_axes(g, true);
    const auto l = series_layout(D, R);
    m = make(g, "m", l, "population mean of h: mean_i h_i");
    q = make(g, "q", l, "population variance of h: mean_i (h_i - m)^2");
    q2 = make(g, "q2", l, "second moment of h: mean_i h_i^2");
    phi_mean = make(g, "phi_mean", l, "mean activity: mean_i phi(h_i)");
    if (K > 0) h = make(g, "h", series_layout(D, R, {{"neuron", K}}), "h_i of the recorded neurons i = 0 .. K-1");

    if (R > 1) {
      auto r = f.group_at("/replicas");
      t_rep = r.make_series_scale("t", {.description = "sample time", .units = tu});
      write_axes(r, false);
      r.write_scale("replica_b", iota(R), {.description = "index of the second replica of the pair"});
      // q_ab has a replica axis even when... R > 1 here, so the layout keeps it.
      const auto l2 = series_layout(D, R, {{"replica_b", R}});
      q_ab = make(r, "q_ab", l2, "replica overlap q_ab = mean_i h^a_i h^b_i");
      c_ab = make(r, "c_ab", l2, "replica correlation c_ab = q_ab / sqrt(q_aa q_bb)");
    }
    if (D * R > 1) {
      auto e = f.group_at("/ensemble");
      label_ensemble(e);
      t_ens = e.make_series_scale("t", {.description = "sample time", .units = tu});
      const char* names[4] = {"m", "q", "q2", "phi_mean"};
      for (int i = 0; i < 4; ++i) {
        ens[2 * i] = e.make_series(std::string(names[i]) + "_mean", {},
                                   {.description = fmt::format("ensemble mean of {}", names[i]), .dims = {"t"}});
        ens[2 * i + 1] = e.make_series(std::string(names[i]) + "_sem", {},
                                       {.description = fmt::format("standard error of the ensemble mean of {}", names[i]),
                                        .dims = {"t"}});
      }
    }
    if (kl > 0) {
      auto y = f.group_at("/lyapunov");
      y.attr("interval", p.lyapunov_interval);
      y.attr("transient", p.transient_time());
      t_lyap = y.make_series_scale("t", {.description = "sample time", .units = tu});
      write_axes(y, false);
      y.write_scale("exponent", iota(kl, 1), {.description = "index j of the exponent, largest first"});
      lyap = make(y, "estimate", series_layout(D, R, {{"exponent", kl}}),
                  "running estimate of lambda_j: sum log|R_jj| / time since the transient (NaN before)",
                  p.stepper == stepper_kind::map ? "1/iteration" : "1/leak time constant");
    }
  }

  // The per-sample ensemble statistics: standard errors over draws, or, with one draw, over the
  // replicas that share its W (no spread between networks: labelled so).
  void label_ensemble(store::group& e) {
    e.attr("sem_over", ensemble_sem_over(D, R));
    e.attr("description", D > 1 ? "mean over draws of the replica means, standard error over draws"
                                : "mean over replicas, standard error over replicas that share one draw of W "
                                  "(it leaves out the spread between networks: use draws > 1 for that)");
  }

  void reopen() {
    auto g = f.group_at("/trajectory");
    t_traj = g.open_series("t");
    m = g.open_series("m"), q = g.open_series("q"), q2 = g.open_series("q2"), phi_mean = g.open_series("phi_mean");
    if (K > 0) h = g.open_series("h");
    if (R > 1) {
      auto r = f.group_at("/replicas");
      t_rep = r.open_series("t"), q_ab = r.open_series("q_ab"), c_ab = r.open_series("c_ab");
    }
    if (D * R > 1) {
      auto e = f.group_at("/ensemble");
      label_ensemble(e);  // a file of format version 1 said "replicas"
      t_ens = e.open_series("t");
      const char* names[4] = {"m", "q", "q2", "phi_mean"};
      for (int i = 0; i < 4; ++i) {
        ens[2 * i] = e.open_series(std::string(names[i]) + "_mean");
        ens[2 * i + 1] = e.open_series(std::string(names[i]) + "_sem");
      }
    }
    if (kl > 0) {
      auto y = f.group_at("/lyapunov");
      t_lyap = y.open_series("t"), lyap = y.open_series("estimate");
    }
  }

  void sample(const amari::sample& s) {
    if (predict) {
      // The mean-field theories at the run's parameters (/meanfield, /dmft), from the initial
      // statistics of h: (m0, q0), or, for an initial state read with --h0, the measured m(0) and
      // q(0) (ensemble means).
      double m0 = p.net.m0, q0 = p.net.q0;
      if (h0_given) m0 = ensemble_mean(s.m, D, R).mean, q0 = ensemble_mean(s.q, D, R).mean;
      const simulation_predictions th = predict(m0, q0);
      predict = nullptr;
      auto traj = f.group_at("/trajectory");
      if (th.meanfield) {
        layout::meanfield::write(f, th.meanfield_setup, *th.meanfield, th.meanfield_note);
        if (h0_given)
          f.group_at(layout::meanfield::group)
              .attr("initial_state", "the measured m(0), q(0) of the initial state given by --h0");
      } else {
        traj.attr("meanfield_skipped", th.meanfield_skipped);
      }
      if (th.dmft)
        layout::dmft::write(f, th.dmft_setup, *th.dmft);
      else
        traj.attr("dmft_skipped", th.dmft_skipped);
      // The user's own W or b: the theories are at its empirical moments (predictions.hpp).
      if (!th.model_note.empty()) {
        if (th.meanfield) f.group_at(layout::meanfield::group).attr("model_source", th.model_note);
        if (th.dmft) f.group_at(layout::dmft::group).attr("model_source", th.model_note);
        traj.attr("model_source", th.model_note);
      }
    }
    t_traj.append(s.t);
    m.append(s.m), q.append(s.q), q2.append(s.q2), phi_mean.append(s.phi_mean);
    if (K > 0) h.append(s.traces);
    if (R > 1) {
      t_rep.append(s.t);
      q_ab.append(s.q_ab), c_ab.append(s.c_ab);
    }
    if (D * R > 1) {
      t_ens.append(s.t);
      const std::vector<double>* xs[4] = {&s.m, &s.q, &s.q2, &s.phi_mean};
      for (int i = 0; i < 4; ++i) {
        const auto ms = ensemble_mean(*xs[i], D, R);
        ens[2 * i].append(ms.mean);
        ens[2 * i + 1].append(ms.sem);
      }
    }
    if (kl > 0) {
      t_lyap.append(s.t);
      lyap.append(s.lyapunov);
    }
  }

  void flush(const amari::checkpoint& c) {
    auto ck = f.checkpoint();
    write_checkpoint(ck, c);
    if (c.next_sample == p.samples()) write_final_state(c);
    f.flush();
  }

  // h of every neuron at t_end, for continuing from it (--h0 FILE:/trajectory/h_final).
  void write_final_state(const amari::checkpoint& c) {
    auto g = f.group_at("/trajectory");
    if (g.has("h_final")) return;
    const std::int64_t n = p.net.n, C = p.columns();
    std::vector<double> hf;
    for (const auto& d : c.draws)
      for (std::int64_t r = 0; r < R; ++r) hf.insert(hf.end(), d.state.begin() + r * n, d.state.begin() + (r + 1) * n);
    (void)C;
    auto l = static_layout(D, R, {{"n", n}});
    l.dims.back() = "";  // no scale for the neuron index of the full state
    g.write("h_final", hf, {.description = "h_i of every neuron at t_end", .dims = l.dims}, l.shape);
  }

  // What the errors of time averages (/stationary, /lyapunov) are over: draws, or batches in time
  // of the one draw (how many, and how long each is).
  static void label_time_errors(store::group& g, const simulate_result& r) {
    g.attr("sem_over", r.sem_over);
    if (r.batches > 0) {
      g.attr("batches", r.batches);
      g.attr("batch_length", r.batch_length);
    }
  }

  void finish(const simulate_result& r) {
    auto g = f.group_at("/trajectory");
    g.attr("steps", r.steps);
    g.attr("rhs_evals", r.rhs_evals);
    g.attr("seconds", r.seconds);
    if (kl > 0) {
      auto y = f.group_at("/lyapunov");
      y.write("exponents", r.lyapunov, {.description = "Lyapunov exponents lambda_j, largest first (ensemble mean)",
                                        .units = p.stepper == stepper_kind::map ? "1/iteration" : "1/leak time constant",
                                        .dims = {"exponent"}});
      y.write("sem", r.lyapunov_sem,
              {.description = "standard error of the exponents (over draws; with one draw, from batches in time of "
                              "the replica mean: see sem_over)",
               .dims = {"exponent"}});
      label_time_errors(y, r);
      const auto l = static_layout(D, R, {{"exponent", kl}});
      if (D * R > 1) {
        y.write("each", r.lyapunov_each, {.description = "exponents of each draw and replica", .dims = l.dims}, l.shape);
        y.write("each_sem", r.lyapunov_each_sem,
                {.description = fmt::format("standard errors of each draw and replica: batch means over {} batches "
                                            "of equal time",
                                            default_batches),
                 .dims = l.dims},
                l.shape);
      }
    }
    auto s = f.group_at("/stationary");
    s.attr("transient", p.transient_time());
    s.attr("samples", r.stationary_samples);
    s.attr("description", "averages over the samples with t >= transient");
    label_time_errors(s, r);
    const std::pair<const char*, const mean_sem*> stats[4] = {
        {"m", &r.stationary_m}, {"q", &r.stationary_q}, {"q2", &r.stationary_q2}, {"phi_mean", &r.stationary_phi_mean}};
    for (const auto& [name, ms] : stats) {
      s.write_scalar(name, ms->mean, {.description = fmt::format("time and ensemble average of {}", name)});
      s.write_scalar(std::string(name) + "_sem", ms->sem,
                     {.description = fmt::format("standard error of the average of {} (see sem_over)", name)});
    }
    if (!r.acf.empty()) {
      const auto L = static_cast<std::int64_t>(r.acf.size());
      s.attr("acf_neurons", r.acf_neurons);
      s.write_scale("tau", r.acf_tau, {.description = "lag", .units = time_units(p)});
      s.write("C", r.acf, {.description = "autocorrelation C(tau) = < mean_i h_i(t) h_i(t + tau) >_t", .dims = {"tau"}});
      s.write("C_sem", r.acf_sem,
              {.description = "standard error of C (over draws; with one draw, from batches in time: see sem_over)",
               .dims = {"tau"}});
      if (D * R > 1) {
        if (D > 1) s.write_scale("draw", iota(D), {.description = "index of the draw of (W, b)"});
        if (R > 1) s.write_scale("replica", iota(R), {.description = "index of the replica"});
        const auto l = static_layout(D, R, {{"tau", L}});
        s.write("C_each", r.acf_each, {.description = "C(tau) of each draw and replica", .dims = l.dims}, l.shape);
        s.write("C_each_sem", r.acf_each_sem,
                {.description = fmt::format("standard error of C_each: batch means over {} batches in time",
                                            default_batches),
                 .dims = l.dims},
                l.shape);
      }
    }
    f.finish("complete");
  }
};

simulation_writer::simulation_writer(store::file& f, const simulate_params& p, bool resuming, bool h0_given,
                                     predictor predict)
    : impl_(std::make_unique<impl>(f, p, resuming, h0_given, std::move(predict))) {}
simulation_writer::~simulation_writer() = default;

void simulation_writer::on_sample(const sample& s) { impl_->sample(s); }
void simulation_writer::on_flush(const checkpoint& c) { impl_->flush(c); }
void simulation_writer::on_abort(const std::string& status, const std::string& message) {
  impl_->f.root().attr("message", message);
  impl_->f.finish(status);
}
void simulation_writer::on_finish(const simulate_result& r) { impl_->finish(r); }

simulate_params read_simulate_params(store::file& f) {
  if (!f.has("/trajectory")) throw IoError(fmt::format("{}: holds no simulation (no /trajectory)", f.path()));
  auto g = f.group_at("/trajectory");
  simulate_params p = io::read_params(g, simulate_params::table());
  // The runtime settings keep their defaults: the caller sets them.
  p.threads = simulate_params{}.threads;
  p.flush_interval = simulate_params{}.flush_interval;
  return p;
}

checkpoint read_checkpoint(store::file& f, const simulate_params& p) {
  auto ck = f.checkpoint();
  if (!ck.exists()) throw IoError(fmt::format("{}: has no checkpoint to resume from", f.path()));
  if (ck.has("format_version")) {
    const auto v = ck.read_int("format_version");
    if (v != checkpoint_format)
      throw IoError(fmt::format("{}: the checkpoint has format version {}; this amari reads versions 1 and {}",
                                f.path(), v, checkpoint_format));
    return read_checkpoint_v2(ck, f.path(), p.draws);
  }
  return read_checkpoint_v1(ck, f.path(), p);
}

Eigen::MatrixXd read_initial_state(const std::string& spec, std::int64_t n, std::int64_t replicas) {
  // Any HDF5 file or a .npy file (io/arrays.hpp); a file that cannot be read, a group instead of a
  // dataset, a dataset of strings: the input is wrong, a usage error like a bad number (exit 2).
  const array_data a = read_array("h0", spec);
  const std::vector<double>& data = a.values;
  std::vector<std::uint64_t> shape(a.shape.begin(), a.shape.end());
  std::int64_t rows = 0;
  if (shape.size() == 1 && static_cast<std::int64_t>(shape[0]) == n)
    rows = 1;
  else if (shape.size() == 2 && static_cast<std::int64_t>(shape[1]) == n && static_cast<std::int64_t>(shape[0]) == replicas)
    rows = replicas;
  else
    throw InvalidArgument("h0", spec,
                          fmt::format("must have shape [{}] or [{}, {}] (n = {}, replicas = {})", n, replicas, n, n, replicas));
  Eigen::MatrixXd h(n, rows);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < n; ++i) h(i, r) = data[r * n + i];
  return h;
}

}  // namespace amari

namespace amari::layout::simulate {

io::record to_record(const simulate_params& p, const simulate_result& r) {
  io::record j = io::params_record(simulate_params::table(), p);
  j.add("steps", r.steps);
  j.add("rhs_evals", r.rhs_evals);
  j.add("q_final", r.q_final.mean);
  j.add("q_final_sem", r.q_final.sem);
  j.add("q_final_sem_over", r.q_final_sem_over);
  j.add("stationary_m", r.stationary_m.mean);
  j.add("stationary_m_sem", r.stationary_m.sem);
  j.add("stationary_q", r.stationary_q.mean);
  j.add("stationary_q_sem", r.stationary_q.sem);
  j.add("stationary_q2", r.stationary_q2.mean);
  j.add("stationary_q2_sem", r.stationary_q2.sem);
  j.add("stationary_phi_mean", r.stationary_phi_mean.mean);
  j.add("stationary_phi_mean_sem", r.stationary_phi_mean.sem);
  j.add("sem_over", r.sem_over);
  j.add("batches", r.batches);
  j.add("batch_length", r.batch_length);
  j.add("seconds", r.seconds);
  j.add("setup_seconds", r.setup_seconds);  // of which drawing the networks
  if (p.lyapunov) {
    j.add("lyapunov", r.lyapunov.empty() ? std::nan("") : r.lyapunov[0]);
    j.add("lyapunov_sem", r.lyapunov_sem.empty() ? std::nan("") : r.lyapunov_sem[0]);
    j.add("lyapunov_spectrum", r.lyapunov);
    j.add("lyapunov_spectrum_sem", r.lyapunov_sem);
  }
  return j;
}

}  // namespace amari::layout::simulate
