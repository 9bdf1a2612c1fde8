// The extension module amari._amari: the library's errors as Python exceptions, the vocabulary of
// each command (for the keyword signatures of the pure-Python layer, python/amari/__init__.py),
// and the commands (commands.cpp, simulate.cpp, vectorised.cpp, sweep.cpp).
#include "amari/core/version.hpp"
#include "amari/sim/compare.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/theory/maps.hpp"
#include "amari/theory/meanfield.hpp"
#include "amari/sim/user_network.hpp"
#include "amari/theory/finite.hpp"
#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;

std::string_view kind_name(param_kind k) {
  switch (k) {
    case param_kind::real: return "real";
    case param_kind::integer: return "integer";
    case param_kind::flag: return "flag";
    case param_kind::text: return "text";
    case param_kind::reals: return "reals";
    case param_kind::axis: return "axis";
  }
  return "?";
}

std::string_view role_name(param_role r) {
  switch (r) {
    case param_role::model: return "model";
    case param_role::runtime: return "runtime";
    case param_role::front_end: return "front_end";
  }
  return "?";
}

py::object value_object(const param_value& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

py::dict spec_dict(const param_spec& s) {
  return py::dict("name"_a = std::string(s.name), "kind"_a = std::string(kind_name(s.kind)),
                  "unit"_a = std::string(s.unit), "help"_a = std::string(s.help),
                  "role"_a = std::string(role_name(s.role)));
}

// The parameters of a command's table, in its order, each with its default.
template <class P>
py::list table_list() {
  py::list out;
  const P p{};
  for (const auto& e : P::table().entries()) {
    py::dict d = spec_dict(*e.spec);
    d["default"] = value_object(e.get(p));
    out.append(d);
  }
  return out;
}

py::list parameters(const std::string& command) {
  if (command == "simulate") return table_list<simulate_params>();
  if (command == "meanfield") return table_list<meanfield_params>();
  if (command == "dmft") return table_list<dmft_params>();
  if (command == "maps") return table_list<maps_params>();
  if (command == "edge") return table_list<edge_params>();
  if (command == "phase") return table_list<phase_params>();
  if (command == "deepnet") return table_list<deepnet_params>();
  if (command == "compare") return table_list<compare_params>();
  if (command == "finite") return table_list<finite_params>();
  if (command == "network") return table_list<network_draw_params>();
  throw InvalidArgument("command", command,
                        "must be one of simulate, meanfield, dmft, maps, edge, phase, deepnet, compare, finite, network");
}

}  // namespace

}  // namespace amari::python

PYBIND11_MODULE(_amari, m) {
  namespace py = pybind11;
  using namespace amari::python;
  m.doc() = "amari's compiled core; use the package `amari` (docs/python.md)";

  static py::exception<amari::NumericalError> numerical(m, "NumericalError", PyExc_ArithmeticError);
  // One translation for every call: bad input -> ValueError, files -> OSError, interruption ->
  // KeyboardInterrupt (when no Python exception was saved: python_control), the rest RuntimeError.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const amari::InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const os_error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const amari::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const amari::NumericalError& e) {
      PyErr_SetString(numerical.ptr(), e.what());
    } catch (const amari::Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const amari::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

  m.def("version", [] { return std::string(amari::version()); });
  m.def("git_describe", [] { return std::string(amari::git_describe()); });
  m.def("parameters", &parameters, "command"_a,
        "the keywords of a command (its param_table): name, kind, unit, help, role, default");
  m.def("vocabulary_entry", [](const std::string& name) { return spec_dict(amari::vocabulary(name)); }, "name"_a);
  m.def("format_toml", [](py::handle v, const std::string& name) {
    return amari::format_toml(to_param_value(amari::vocabulary(name), v));
  });

  bind_commands(m);
  bind_simulate(m);
  bind_vectorised(m);
  bind_files(m);
  bind_sweep(m);
}
