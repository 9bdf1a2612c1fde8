// One function per command (their scalar forms): keywords through the command's table, the
// computation with the GIL released, the product's record as a dict, the file the CLI writes.
#include <array>
#include <fmt/format.h>

#include "amari/io/inspect.hpp"
#include "amari/io/layout/compare.hpp"
#include "amari/io/layout/deepnet.hpp"
#include "amari/io/layout/dmft.hpp"
#include "amari/io/layout/finite.hpp"
#include "amari/io/layout/maps.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "amari/io/layout/phase.hpp"
#include "amari/sim/compare.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/sim/user_network.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/theory/finite.hpp"
#include "amari/theory/maps.hpp"
#include "amari/theory/meanfield.hpp"
#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;

constexpr std::array<std::string_view, 2> writes{"output", "force"};
constexpr std::array<std::string_view, 3> maps_front{"output", "force", "all_fixed_points"};
constexpr std::array<std::string_view, 0> nothing{};

// A product computed at once (meanfield, dmft, maps, deepnet, compare): keywords, validate, check
// the output file, compute with the GIL released, write, and return the record.
template <class P, class Compute, class Write, class Record>
py::dict run_product(const char* product, const py::dict& kwargs, const std::string& command_line,
                     py::object progress, bool seeded, Compute compute, Write write, Record record) {
  P p;
  const front_end fe = apply_keywords(P::table(), p, kwargs, writes);
  p.validate();
  if (!fe.output.empty()) require_writable(fe.output, fe.force);
  python_control ctl(std::move(progress));
  auto r = run_released(ctl, [&](const run_control& c) { return compute(p, c); });
  py::dict out = to_python(record(p, r));
  if (!fe.output.empty()) {
    {
      py::gil_scoped_release release;
      std::optional<std::int64_t> seed;
      if constexpr (requires { p.seed; }) seed = p.seed;
      auto f = create_output(product, fe.output, fe.force, command_line, resolved_toml(P::table(), p, fe),
                             seeded ? seed : std::nullopt);
      write(f, p, r);
      f.finish("complete");
    }
    out["output"] = fe.output;
  }
  return out;
}

py::dict meanfield(const py::dict& kw, const std::string& cl, py::object progress) {
  // The CLI's rule: explicit times, or t_end and dt_out.
  if (kw.contains("times") && (kw.contains("t_end") || kw.contains("dt_out")))
    throw InvalidArgument("times: give either --times or --t-end/--dt-out, not both");
  return run_product<meanfield_params>(
      "meanfield", kw, cl, std::move(progress), false,
      [](const meanfield_params& p, const run_control& c) { return solve_meanfield(p.model, p.settings, c); },
      [](store::file& f, const meanfield_params& p, const meanfield_result& r) {
        layout::meanfield::write(f, p, r, meanfield_network_note(p.model, r));
      },
      [](const meanfield_params& p, const meanfield_result& r) {
        return layout::meanfield::to_record(p, r, meanfield_network_note(p.model, r));
      });
}

py::dict dmft(const py::dict& kw, const std::string& cl, py::object progress) {
  return run_product<dmft_params>(
      "dmft", kw, cl, std::move(progress), false,
      [](const dmft_params& p, const run_control& c) { return solve_dmft(p.model, p.settings, c); },
      [](store::file& f, const dmft_params& p, const dmft_result& r) { layout::dmft::write(f, p, r); },
      [](const dmft_params& p, const dmft_result& r) { return layout::dmft::to_record(p, r); });
}

py::dict deepnet(const py::dict& kw, const std::string& cl, py::object progress) {
  return run_product<deepnet_params>(
      "deepnet", kw, cl, std::move(progress), true,
      [](const deepnet_params& p, const run_control& c) { return run_deepnet(p, c); },
      [](store::file& f, const deepnet_params& p, const deepnet_result& r) { layout::deepnet::write(f, p, r); },
      [](const deepnet_params& p, const deepnet_result& r) { return layout::deepnet::to_record(p, r); });
}

py::dict compare(const py::dict& kw, const std::string& cl, py::object progress) {
  return run_product<compare_params>(
      "compare", kw, cl, std::move(progress), true,
      [](const compare_params& p, const run_control& c) { return run_compare(p, c); },
      [](store::file& f, const compare_params& p, const compare_result& r) { layout::compare::write(f, p, r); },
      [](const compare_params& p, const compare_result& r) { return layout::compare::to_record(p, r); });
}

py::dict finite(const py::dict& kw, const std::string& cl, py::object progress) {
  return run_product<finite_params>(
      "finite", kw, cl, std::move(progress), false,
      [](const finite_params& p, const run_control&) { return run_finite(p); },
      [](store::file& f, const finite_params& p, const finite_result& r) { layout::finite::write(f, p, r); },
      [](const finite_params& p, const finite_result& r) { return layout::finite::to_record(p, r); });
}

// The W and b that simulate draws for (seed, draw): `amari network`, as numpy arrays.
py::tuple network(const py::dict& kw) {
  network_draw_params p;
  apply_keywords(network_draw_params::table(), p, kw, nothing);
  p.validate();
  dense_network net;
  {
    py::gil_scoped_release release;
    net = draw_dense_network(p.net, p.draw, static_cast<int>(p.threads));
  }
  const auto n = static_cast<py::ssize_t>(p.net.n);
  py::array_t<double> W({n, n}), b(n);
  // Eigen is column-major; numpy's W[i, j] is row i.
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t j = 0; j < n; ++j) W.mutable_at(i, j) = net.W(i, j);
  std::copy(net.b.data(), net.b.data() + n, b.mutable_data());
  return py::make_tuple(W, b);
}

py::dict maps(const py::dict& kw, const std::string& cl) {
  maps_params p;
  const front_end fe = apply_keywords(maps_params::table(), p, kw, maps_front);
  p.validate();
  if (!fe.output.empty()) require_writable(fe.output, fe.force);
  maps_result r;
  length_fixed_points fps;
  {
    py::gil_scoped_release release;
    r = solve_maps(p.model);
    fps = find_length_fixed_points(p.model);
  }
  py::dict out = to_python(layout::maps::to_record(p, r, fe.all_fixed_points ? &fps : nullptr));
  if (!fe.output.empty()) {
    {
      py::gil_scoped_release release;
      auto f = create_output("maps", fe.output, fe.force, cl, resolved_toml(maps_params::table(), p, fe));
      layout::maps::write(f, p, r, fps);
      f.finish("complete");
    }
    out["output"] = fe.output;
  }
  return out;
}

// The phase diagram as 2-D arrays [sigma_b, sigma_w] with their axes (the datasets of /phase).
py::dict phase(const py::dict& kw, const std::string& cl, py::object progress) {
  phase_params p;
  const front_end fe = apply_keywords(phase_params::table(), p, kw, writes);
  p.validate();
  if (!fe.output.empty()) require_writable(fe.output, fe.force);
  python_control ctl(std::move(progress));
  const phase_diagram d =
      run_released(ctl, [&](const run_control& c) { return compute_phase_diagram(p, {}, c); });
  if (!fe.output.empty()) {
    py::gil_scoped_release release;
    auto f = create_output("phase", fe.output, fe.force, cl, resolved_toml(phase_params::table(), p, fe));
    layout::phase::write(f, p, d);
    f.finish("complete");
  }
  const auto nb = static_cast<py::ssize_t>(d.sigma_b.size()), nw = static_cast<py::ssize_t>(d.sigma_w.size());
  auto grid = [&](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::value_type;
    py::array_t<T> a({nb, nw});
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
  };
  py::dict out = to_python(io::params_record(phase_params::table(), p));
  out["sigma_w"] = py::array_t<double>(nw, d.sigma_w.data());
  out["sigma_b"] = py::array_t<double>(nb, d.sigma_b.data());
  out["q_star"] = grid(d.q_star);
  out["c_star"] = grid(d.c_star);
  out["chi_1"] = grid(d.chi_1);
  out["chi_c"] = grid(d.chi_c);
  out["chi_q"] = grid(d.chi_q);
  out["xi_c"] = grid(d.xi_c);
  out["xi_q"] = grid(d.xi_q);
  out["layers_to_1pct"] = grid(d.layers_to_1pct);
  out[layout::phase::phase] = grid(d.phase);
  py::list meanings;
  for (const char* w : {"ordered", "critical", "chaotic", "divergent"}) meanings.append(w);
  out["flag_meanings"] = meanings;
  std::vector<double> edge_w, edge_q;
  for (const auto& e : d.edge) {
    edge_w.push_back(e.sigma_w);
    edge_q.push_back(e.q_star.value_or(std::nan("")));
  }
  out[layout::phase::edge_sigma_w] = py::array_t<double>(nb, edge_w.data());
  out[layout::phase::edge_q_star] = py::array_t<double>(nb, edge_q.data());
  if (!fe.output.empty()) out["output"] = fe.output;
  return out;
}

// The edge of chaos at the sigma_b of the table's axis (a value or start:stop:count), or at the
// points of `points` (an array of sigma_b, each validated as the keyword sigma_b).
py::dict edge(const py::dict& kw, py::object points, py::object progress) {
  edge_params p;
  apply_keywords(edge_params::table(), p, kw, nothing);
  p.validate();
  std::vector<double> sb;
  bool single = false;
  if (points.is_none()) {
    single = param_text(p.sigma_b).find(':') == std::string::npos;
    sb = p.sigma_b.values();
  } else {
    const array_view v = view_array(points, "sigma_b");
    for (std::int64_t i = 0; i < v.shape[0]; ++i) {
      edge_params one = p;
      edge_params::table().set(one, "sigma_b", v.at(i));
      one.validate();
      sb.push_back(v.at(i));
    }
  }
  python_control ctl(std::move(progress));
  const auto curve =
      run_released(ctl, [&](const run_control& c) { return edge_of_chaos_curve(p.phi, sb, {}, c); });
  py::dict out;
  out["phi"] = p.phi.spec();
  if (single) {
    out["sigma_b"] = curve.front().sigma_b;
    out["sigma_w"] = curve.front().sigma_w;
    out["q_star"] = curve.front().q_star ? py::object(py::float_(*curve.front().q_star)) : py::none();
    return out;
  }
  std::vector<double> b, w, q;
  for (const auto& e : curve) {
    b.push_back(e.sigma_b);
    w.push_back(e.sigma_w);
    q.push_back(e.q_star.value_or(std::nan("")));
  }
  const auto n = static_cast<py::ssize_t>(curve.size());
  out["sigma_b"] = py::array_t<double>(n, b.data());
  out["sigma_w"] = py::array_t<double>(n, w.data());
  out["q_star"] = py::array_t<double>(n, q.data());
  return out;
}

// `amari inspect FILE --json`, as a dict.
py::object inspect_file(const std::string& path) {
  require_readable("file", path);
  try {
    (void)store::file::open_read(path);
  } catch (const IoError& e) {
    throw InvalidArgument(e.what());
  }
  std::string json;
  {
    py::gil_scoped_release release;
    json = amari::inspect::to_json(amari::inspect::inspect_file(path));
  }
  return py::module_::import("json").attr("loads")(json);
}

}  // namespace

void bind_commands(py::module_& m) {
  m.def("meanfield", &meanfield, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("dmft", &dmft, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("deepnet", &deepnet, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("compare", &compare, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("maps", &maps, "kwargs"_a, "command_line"_a);
  m.def("phase", &phase, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("edge", &edge, "kwargs"_a, "points"_a = py::none(), "progress"_a = py::none());
  m.def("finite", &finite, "kwargs"_a, "command_line"_a, "progress"_a = py::none());
  m.def("network", &network, "kwargs"_a);
  m.def("inspect", &inspect_file, "file"_a);
}

}  // namespace amari::python
