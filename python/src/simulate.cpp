// amari.simulate: the simulation with its samples kept in memory (and, with output=, the file the
// CLI writes, through the same simulation_writer), Ctrl-C and resume.
#include <fmt/format.h>

#include "amari/io/arrays.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/sim/predictions.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/sim/user_network.hpp"
#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;

// Keeps every sample of the run (the series of /trajectory, /replicas and /lyapunov) and the final
// state; forwards everything to the file writer when there is one.
class collector final : public simulation_observer {
 public:
  collector(const simulate_params& p, simulation_observer* file) : p_(p), file_(file) {}

  void on_sample(const sample& s) override {
    t.push_back(s.t);
    m.insert(m.end(), s.m.begin(), s.m.end());
    q.insert(q.end(), s.q.begin(), s.q.end());
    q2.insert(q2.end(), s.q2.begin(), s.q2.end());
    phi_mean.insert(phi_mean.end(), s.phi_mean.begin(), s.phi_mean.end());
    traces.insert(traces.end(), s.traces.begin(), s.traces.end());
    if (s.replicas > 1) {
      q_ab.insert(q_ab.end(), s.q_ab.begin(), s.q_ab.end());
      c_ab.insert(c_ab.end(), s.c_ab.begin(), s.c_ab.end());
    }
    lyapunov.insert(lyapunov.end(), s.lyapunov.begin(), s.lyapunov.end());
    neurons = s.neurons;
    if (file_) file_->on_sample(s);
  }
  void on_flush(const checkpoint& c) override {
    if (c.next_sample == p_.samples()) {  // the end: h of every neuron
      h_final.clear();
      for (const auto& d : c.draws)
        h_final.insert(h_final.end(), d.state.begin(), d.state.begin() + p_.replicas * p_.net.n);
    }
    if (file_) file_->on_flush(c);
  }
  void on_abort(const std::string& status, const std::string& message) override {
    if (file_) file_->on_abort(status, message);
  }
  void on_finish(const simulate_result& r) override {
    if (file_) file_->on_finish(r);
  }

  std::vector<double> t, m, q, q2, phi_mean, traces, q_ab, c_ab, lyapunov, h_final;
  std::int64_t neurons = 0;

 private:
  const simulate_params& p_;
  simulation_observer* file_;
};

// A series [T, D, R, rest...] as numpy, without the axes of length 1 other than time (the file's
// layout: one replica of one draw gives [T]).
py::array series(const std::vector<double>& v, std::int64_t T, std::int64_t D, std::int64_t R,
                 std::vector<std::int64_t> rest, bool time = true) {
  std::vector<py::ssize_t> shape;
  if (time) shape.push_back(T);
  if (D > 1) shape.push_back(D);
  if (R > 1) shape.push_back(R);
  for (auto x : rest) shape.push_back(x);
  py::array_t<double> a(shape);
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

// h0 as an N x 1 or N x R matrix, from a numpy array or FILE:DATASET (the CLI's --h0 and its
// message).
Eigen::MatrixXd initial_state(py::handle h0, std::int64_t n, std::int64_t replicas) {
  const array_view a = view_array(h0, "h0");
  const std::string shown = a.source == "memory" ? "an array of shape " + a.shape_text() : a.source;
  std::int64_t rows = 0;
  if (a.shape.size() == 1 && a.shape[0] == n)
    rows = 1;
  else if (a.shape.size() == 2 && a.shape[1] == n && a.shape[0] == replicas)
    rows = replicas;
  else
    throw InvalidArgument("h0", shown,
                          fmt::format("must have shape [{}] or [{}, {}] (n = {}, replicas = {})", n, replicas, n, n, replicas));
  require_finite(a, "h0");
  Eigen::MatrixXd h(n, rows);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t i = 0; i < n; ++i) h(i, r) = rows == 1 ? a.at(i) : a.at(r, i);
  return h;
}

// The user's own W and b (docs/simulate.md, "Your own network"): numpy arrays, viewed where they
// are and copied once into the coupling storage, or "FILE:DATASET" / "FILE.npy" texts, read as the
// CLI reads --weights and --bias.
struct user_arrays {
  loaded_network files;
  array_view weights, bias;
  std::vector<double> bias_values;  // a b from memory, contiguous
  user_network view;
};

// A numpy array of another dtype than float64 or float32 is refused (the CLI's rule for files).
void require_float_dtype(const py::object& a, const char* field) {
  if (!py::isinstance<py::array>(a)) return;
  const auto dt = py::reinterpret_borrow<py::array>(a).dtype();
  if (dt.kind() == 'f' && (dt.itemsize() == 8 || dt.itemsize() == 4)) return;
  throw InvalidArgument(field, "an array of dtype " + py::cast<std::string>(py::str(py::object(dt))),
                        "must be float64 or float32");
}

void load_user(const front_end& fe, user_arrays& ua) {
  const py::object w = fe.raw.contains("weights") ? py::object(fe.raw["weights"]) : py::none();
  const py::object b = fe.raw.contains("bias") ? py::object(fe.raw["bias"]) : py::none();
  const bool w_text = py::isinstance<py::str>(w), b_text = py::isinstance<py::str>(b);
  ua.files = read_user_network(w_text ? w.cast<std::string>() : "", b_text ? b.cast<std::string>() : "");
  ua.view = ua.files.view();
  if (!w.is_none() && !w_text) {
    require_float_dtype(w, "weights");
    ua.weights = view_array(w, "weights");
    if (ua.weights.shape.size() != 2)
      throw InvalidArgument("weights", "an array of shape " + ua.weights.shape_text(),
                            "must be a 2-D array [N, N] of float64 or float32");
    ua.view.weights = {.data = ua.weights.data,
                       .single = ua.weights.float32,
                       .rows = ua.weights.shape[0],
                       .cols = ua.weights.shape[1],
                       .row_stride = ua.weights.strides[0],
                       .col_stride = ua.weights.strides[1]};
    ua.view.weights_source = "memory";
  }
  if (!b.is_none() && !b_text) {
    require_float_dtype(b, "bias");
    ua.bias = view_array(b, "bias");
    if (ua.bias.shape.size() != 1)
      throw InvalidArgument("bias", "an array of shape " + ua.bias.shape_text(), "must be a 1-D array [N]");
    ua.bias_values.resize(static_cast<std::size_t>(ua.bias.shape[0]));
    for (std::int64_t i = 0; i < ua.bias.shape[0]; ++i) ua.bias_values[std::size_t(i)] = ua.bias.at(i);
    ua.view.bias = ua.bias_values.data();
    ua.view.bias_size = ua.bias.shape[0];
    ua.view.bias_source = "memory";
  }
}

constexpr std::array<std::string_view, 6> simulate_front{"h0", "weights", "bias", "output", "force", "resume"};

py::dict simulate(const py::dict& kwargs, const std::string& command_line, py::object progress) {
  simulate_params p;
  const front_end fe = apply_keywords(simulate_params::table(), p, kwargs, simulate_front);
  const bool resuming = !fe.resume.empty();
  std::unique_ptr<store::file> f;
  std::unique_ptr<simulation_writer> writer;
  Eigen::MatrixXd h0;
  simulate_inputs in;
  checkpoint ck;
  user_arrays user;
  loaded_network resumed_user;
  user_network resumed_view;
  std::string output = fe.output;
  if (resuming) {
    // Only what does not change the result applies (the CLI's --resume).
    std::string allowed;
    for (const auto& e : simulate_params::table().entries())
      if (e.spec->role == param_role::runtime) allowed += std::string(e.spec->name) + ", ";
    allowed += "quiet";
    for (const auto& name : fe.given) {
      if (name == "resume") continue;
      const param_spec& s = vocabulary(name);
      if (s.role == param_role::runtime) continue;
      throw InvalidArgument(fmt::format(
          "resume continues a run with the parameters stored in its file: {} cannot be changed (only {} apply)",
          name, allowed));
    }
    require_readable("resume", fe.resume);
    {
      auto probe = store::file::open_read(fe.resume);
      if (probe.status() == "complete")
        throw InvalidArgument("resume", fe.resume, "is a complete run: there is nothing to resume");
      resumed_user = layout::network::read_provenance(probe);  // W and b re-read, checksums checked
    }
    resumed_view = resumed_user.view();
    if (resumed_view.has_weights() || resumed_view.has_bias()) in.network = &resumed_view;
    const std::int64_t threads = p.threads;
    const double flush = p.flush_interval;
    f = std::make_unique<store::file>(store::file::open_append(fe.resume, {.flush_interval = flush}));
    p = read_simulate_params(*f);
    p.threads = threads;
    p.flush_interval = flush;
    p.validate();
    require_memory(p);
    ck = read_checkpoint(*f, p);
    f->rewind_to_checkpoint();
    writer = std::make_unique<simulation_writer>(*f, p, true);
    in.resume = &ck;
    output = fe.resume;
  } else {
    // The map samples whole iterations: unless told otherwise, every one (as the CLI).
    if (p.stepper == stepper_kind::map && !kwargs.contains("dt_out")) p.dt_out = 1;
    if (fe.raw.contains("weights") || fe.raw.contains("bias")) {
      load_user(fe, user);
      apply_user_network(p, user.view, std::set<std::string>(fe.given.begin(), fe.given.end()));
      in.network = &user.view;
    }
    p.validate();
    require_memory(p);
    if (!fe.h0.is_none()) {
      h0 = initial_state(fe.h0, p.net.n, p.replicas);
      in.h0 = &h0;
    }
    if (!output.empty()) {
      require_writable(output, fe.force);
      f = std::make_unique<store::file>(store::file::create(
          output, {.force = fe.force,
                   .command_line = command_line,
                   .config_toml = resolved_toml(simulate_params::table(), p, fe),
                   .seed = static_cast<std::uint64_t>(p.net.seed),
                   .product = "simulate",
                   .flush_interval = p.flush_interval}));
      if (in.network) layout::network::write_provenance(*f, user.view);
      writer = std::make_unique<simulation_writer>(*f, p, false, !fe.h0.is_none(), [&p, &in](double m0, double q0) {
        return predict_simulation(p, m0, q0, in.network);
      });
    }
  }
  collector keep(p, writer.get());
  python_control ctl(std::move(progress));
  simulate_result r;
  try {
    r = run_released(ctl, [&](const run_control& c) { return amari::simulate(p, keep, c, in); });
  } catch (...) {
    // The writer has marked the file interrupted (or failed); close it before Python sees the error.
    writer.reset();
    if (f) f->close();
    throw;
  }
  {
    py::gil_scoped_release release;
    writer.reset();
    if (f) f->close();
  }

  py::dict out = to_python(layout::simulate::to_record(p, r));
  if (!output.empty()) out["output"] = output;
  const std::int64_t T = static_cast<std::int64_t>(keep.t.size()), D = p.draws, R = p.replicas;
  out["t"] = py::array_t<double>(static_cast<py::ssize_t>(T), keep.t.data());
  out["m"] = series(keep.m, T, D, R, {});
  out["q"] = series(keep.q, T, D, R, {});
  out["q2"] = series(keep.q2, T, D, R, {});
  out["phi_mean"] = series(keep.phi_mean, T, D, R, {});
  out["h"] = series(keep.traces, T, D, R, {keep.neurons});
  if (R > 1) {
    py::array_t<double> qab({T, D, R, R}), cab({T, D, R, R});
    std::copy(keep.q_ab.begin(), keep.q_ab.end(), qab.mutable_data());
    std::copy(keep.c_ab.begin(), keep.c_ab.end(), cab.mutable_data());
    auto squeeze = [&](py::array_t<double> a) -> py::object { return D > 1 ? py::object(a) : a.attr("reshape")(T, R, R); };
    out["q_ab"] = squeeze(qab);
    out["c_ab"] = squeeze(cab);
  }
  if (p.lyapunov) out["lyapunov_estimate"] = series(keep.lyapunov, T, D, R, {p.lyapunov_k});
  if (!keep.h_final.empty()) out["h_final"] = series(keep.h_final, 0, D, R, {p.net.n}, false);
  // The stationary window (/stationary): time averages and C(tau).
  auto ms = [&](const char* key, const mean_sem& x) {
    out[py::str(key)] = std::isfinite(x.mean) ? py::object(py::float_(x.mean)) : py::none();
    out[py::str(std::string(key) + "_sem")] = std::isfinite(x.sem) ? py::object(py::float_(x.sem)) : py::none();
  };
  ms("stationary_m", r.stationary_m);
  ms("stationary_q", r.stationary_q);
  ms("stationary_phi_mean", r.stationary_phi_mean);
  out["stationary_samples"] = r.stationary_samples;
  if (!r.acf_tau.empty()) {
    const auto L = static_cast<py::ssize_t>(r.acf_tau.size());
    out["tau"] = py::array_t<double>(L, r.acf_tau.data());
    out["C"] = py::array_t<double>(L, r.acf.data());
    out["C_sem"] = py::array_t<double>(L, r.acf_sem.data());
    out["acf_neurons_used"] = r.acf_neurons;
  }
  return out;
}

}  // namespace

void bind_simulate(py::module_& m) {
  m.def("simulate", &simulate, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
}

}  // namespace amari::python
