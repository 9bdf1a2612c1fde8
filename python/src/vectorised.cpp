// amari.maps over many points at once: the same solve_maps and to_record as the scalar call, per
// point, in an OpenMP loop with the GIL released; the records become one array per key.
#include <omp.h>

#include <cmath>
#include <exception>
#include <fmt/format.h>

#include "amari/io/layout/maps.hpp"
#include "amari/theory/maps.hpp"
#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;

// The records of every point as columns: numbers -> float64 (null: NaN), or int64 when every
// defined value is an integer (null: -1, as /phase); texts -> one str when they all agree, else a
// numpy array of str.
py::dict columns(const std::vector<io::record>& recs, const std::vector<py::ssize_t>& shape) {
  py::dict out;
  if (recs.empty()) return out;
  const auto numpy = py::module_::import("numpy");
  const std::size_t n = recs.size();
  for (std::size_t k = 0; k < recs.front().size(); ++k) {
    const std::string& key = recs.front().keys[k];
    bool any_double = false, any_int = false, any_text = false, any_bool = false;
    for (const auto& r : recs) {
      const auto& v = r.values[k].v;
      any_double = any_double || std::holds_alternative<double>(v);
      any_int = any_int || std::holds_alternative<std::int64_t>(v);
      any_text = any_text || std::holds_alternative<std::string>(v);
      any_bool = any_bool || std::holds_alternative<bool>(v);
    }
    if (any_text) {
      bool same = true;
      py::list l;
      for (const auto& r : recs) {
        const auto* s = std::get_if<std::string>(&r.values[k].v);
        same = same && s && *s == std::get<std::string>(recs.front().values[k].v);
        l.append(s ? py::object(py::str(*s)) : py::none());
      }
      out[py::str(key)] = same ? l[0] : numpy.attr("array")(l).attr("reshape")(py::tuple(py::cast(shape)));
    } else if (any_double) {
      py::array_t<double> a(shape);
      double* d = a.mutable_data();
      for (std::size_t i = 0; i < n; ++i) {
        const auto& v = recs[i].values[k].v;
        if (const auto* x = std::get_if<double>(&v)) d[i] = *x;
        else if (const auto* j = std::get_if<std::int64_t>(&v)) d[i] = static_cast<double>(*j);
        else d[i] = std::nan("");
      }
      out[py::str(key)] = a;
    } else if (any_int) {
      py::array_t<std::int64_t> a(shape);
      std::int64_t* d = a.mutable_data();
      for (std::size_t i = 0; i < n; ++i) {
        const auto* j = std::get_if<std::int64_t>(&recs[i].values[k].v);
        d[i] = j ? *j : -1;
      }
      out[py::str(key)] = a;
    } else if (any_bool) {
      py::array_t<bool> a(shape);
      bool* d = a.mutable_data();
      for (std::size_t i = 0; i < n; ++i) {
        const auto* b = std::get_if<bool>(&recs[i].values[k].v);
        d[i] = b && *b;
      }
      out[py::str(key)] = a;
    } else {
      // Null at every point: NaN everywhere.
      py::array_t<double> a(shape);
      std::fill(a.mutable_data(), a.mutable_data() + n, std::nan(""));
      out[py::str(key)] = a;
    }
  }
  return out;
}

// `kwargs` holds the scalar keywords; `points` maps keyword names (numbers of the maps table:
// sigma_w, sigma_b) to float64 arrays of one broadcast shape `shape`.
py::dict maps_points(const py::dict& kwargs, const py::dict& points, const std::vector<py::ssize_t>& shape,
                     py::object progress) {
  maps_params base;
  const std::array<std::string_view, 0> none{};
  apply_keywords(maps_params::table(), base, kwargs, none);
  std::vector<std::string> names;
  std::vector<array_view> views;
  std::size_t n = 1;
  for (auto s : shape) n *= static_cast<std::size_t>(s);
  for (const auto& [k, v] : points) {
    const std::string name = py::cast<std::string>(k);
    if (!maps_params::table().find(name)) unknown_keyword("maps", name, maps_params::table().names());
    views.push_back(view_array(v, name));
    if (views.back().shape.size() != 1 || static_cast<std::size_t>(views.back().shape[0]) != n)
      throw std::logic_error("amari: maps_points needs flat arrays of one length");
    names.push_back(name);
  }
  // Every point through the table and validate(): the first bad one is named as the scalar call names it.
  std::vector<maps_params> ps(n, base);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t a = 0; a < names.size(); ++a)
      maps_params::table().set(ps[i], names[a], views[a].at(static_cast<std::int64_t>(i)));
    ps[i].validate();
  }
  python_control ctl(std::move(progress));
  std::vector<io::record> recs(n);
  run_released(ctl, [&](const run_control& c) {
    std::atomic<int> stop{0};
    std::atomic<bool> failed{false};
    std::atomic<std::size_t> done{0};
    std::exception_ptr failure;
    std::mutex lock;
#pragma omp parallel for schedule(dynamic, 16)
    for (std::size_t i = 0; i < n; ++i) {
      if (stop.load() || failed.load()) continue;
      if (int sig = c.stop_requested()) {
        stop.store(sig);
        continue;
      }
      try {
        recs[i] = layout::maps::to_record(ps[i], solve_maps(ps[i].model));
      } catch (...) {
        const std::lock_guard<std::mutex> g(lock);
        if (!failure) failure = std::current_exception();
        failed.store(true);
      }
      const std::size_t d = ++done;
      if (c.progress && (d % 64 == 0 || d == n)) {
        const std::lock_guard<std::mutex> g(lock);
        c.report(double(d), double(n));
      }
    }
    if (failure) std::rethrow_exception(failure);
    if (int sig = stop.load()) throw Interrupted(sig, fmt::format("maps interrupted after {} of {} points", done.load(), n));
    return 0;
  });
  return columns(recs, shape);
}

}  // namespace

void bind_vectorised(py::module_& m) {
  m.def("maps_points", &maps_points, "kwargs"_a, "points"_a, "shape"_a, "progress"_a = py::none());
}

}  // namespace amari::python
