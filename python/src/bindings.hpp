#pragma once
// The Python front end of amari (docs/python.md): shared pieces of the extension `amari._amari`.
//
// Like the CLI, the module is a translation layer over the library: keyword arguments become a
// command's parameter struct through its param_table (the one vocabulary: core/params.hpp), the
// library computes with the GIL released, and the product's record (io/record.hpp, the same
// `to_record` that --json prints) becomes a dict of Python values and numpy arrays.
//
//   values.cpp      Python values <-> param_value; io::record -> dict; arrays and "FILE:DATASET"
//   control.cpp     run_control for Python: Ctrl-C and progress callbacks
//   commands.cpp    one function per command (the scalar forms)
//   simulate.cpp    amari.simulate: in-memory samples, the file writer, resume
//   vectorised.cpp  maps over numpy arrays of points, edge over an array of sigma_b
//   files.cpp       amari.open: a file's groups and datasets (names, dims, attributes), read on demand
//   sweep.cpp       amari.sweep: a command over a grid (io/sweep.hpp), the results as numpy arrays
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "amari/core/control.hpp"
#include "amari/core/error.hpp"
#include "amari/core/params.hpp"
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"

namespace amari::python {

namespace py = pybind11;

// An input or output file that cannot be used: OSError in Python, with the CLI's message.
struct os_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- values ----------------------------------------------------------------------------------------

// A Python value as the parameter's value (bool, int, float, str, or a sequence of numbers), or
// InvalidArgument naming the field (the CLI's kind of message) for anything else. The table's set
// then converts it exactly as it converts the command line's and the TOML file's values.
param_value to_param_value(const param_spec& spec, py::handle v);

// A record as a dict: JSON null -> None (also a NaN or infinite scalar, which --json prints as
// null); lists of numbers -> numpy arrays (float64 with NaN where undefined, int64); lists of
// strings -> lists; records -> dicts.
py::dict to_python(const io::record& r);
py::object to_python(const io::value& v);

// A non-owning view of a numeric array given as a numpy array or as "FILE:DATASET" (an HDF5
// dataset of an amari file, read once into `owned`): what h0 takes now and weights/bias will take.
struct array_view {
  const void* data = nullptr;
  bool float32 = false;               // else float64
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // in elements
  std::string source;                 // "memory" or the FILE:DATASET text (for messages, provenance)
  py::object keep;                    // the numpy array it views (kept alive)
  std::vector<double> owned;          // a dataset read from a file

  double at(std::int64_t i) const;                  // 1-D element i
  double at(std::int64_t i, std::int64_t j) const;  // 2-D element (i, j)
  std::string shape_text() const;                   // "(3, 100)"
};
// `field` names the keyword in messages. A numpy array (any order, any strides) of float64 or
// float32 is viewed without a copy; a list or another numeric dtype is converted to float64 once.
// A text is FILE:DATASET: OSError when the file cannot be read, ValueError when the dataset is
// missing or not numbers.
array_view view_array(py::handle obj, std::string_view field);
// Throws InvalidArgument(field, ...) unless every element is finite.
void require_finite(const array_view& a, std::string_view field);

// ---- keyword arguments -----------------------------------------------------------------------------

// The front-end keywords a command takes besides its table (output, force, h0, resume,
// all_fixed_points): each a vocabulary entry of role front_end.
struct front_end {
  std::string output;
  bool force = false;
  bool all_fixed_points = false;
  std::string resume;
  py::object h0 = py::none();
  // Every front-end keyword given, as given (arrays stay numpy arrays): what an array keyword
  // (h0 now; weights and bias next) reads with view_array.
  py::dict raw;
  std::vector<std::string> given;  // every keyword given, in order
};

// "sigma_x: unknown parameter of `amari maps`; did you mean 'sigma_w'?" -- the message of
// param_table::set, over the table's names and the command's front-end keywords.
[[noreturn]] void unknown_keyword(const std::string& command, const std::string& name,
                                  const std::vector<std::string>& known);

// Sets every keyword in p through the table (its conversions and messages) or in `fe`.
template <class P>
front_end apply_keywords(const param_table<P>& t, P& p, const py::dict& kwargs,
                         std::span<const std::string_view> front_names) {
  front_end fe;
  for (const auto& [k, v] : kwargs) {
    const std::string name = py::cast<std::string>(k);
    fe.given.push_back(name);
    if (const auto* e = t.find(name)) {
      e->set(p, to_param_value(*e->spec, v));
      continue;
    }
    bool front = false;
    for (auto f : front_names) front = front || f == name;
    if (!front) {
      std::vector<std::string> known = t.names();
      for (auto f : front_names) known.emplace_back(f);
      unknown_keyword(t.command(), name, known);
    }
    const param_spec& s = vocabulary(name);
    fe.raw[py::str(name)] = v;
    if (name == "h0") {
      fe.h0 = py::reinterpret_borrow<py::object>(v);
      continue;
    }
    if (name == "weights" || name == "bias") continue;  // arrays or FILE:DATASET: read by simulate
    const param_value pv = to_param_value(s, v);
    if (name == "output") detail::convert(s, pv, fe.output);
    else if (name == "resume") detail::convert(s, pv, fe.resume);
    else if (name == "force") detail::convert(s, pv, fe.force);
    else if (name == "all_fixed_points") detail::convert(s, pv, fe.all_fixed_points);
  }
  return fe;
}

// The resolved configuration as TOML, one "key = value" line per parameter of the table, then the
// front-end keywords given: the `config` attribute of an output file (as the CLI writes it).
template <class P>
std::string resolved_toml(const param_table<P>& t, const P& p, const front_end& fe) {
  std::string out;
  for (const auto& e : t.entries()) out += std::string(e.spec->name) + " = " + format_toml(e.get(p)) + "\n";
  if (!fe.output.empty()) out += "output = " + format_toml(fe.output) + "\n";
  if (fe.force) out += "force = true\n";
  // An array keyword given as FILE:DATASET (h0): the text, as the CLI records it.
  for (const auto& [k, v] : fe.raw) {
    const std::string name = py::cast<std::string>(k);
    if (name != "output" && name != "resume" && py::isinstance<py::str>(v) && vocabulary(name).kind == param_kind::text)
      out += name + " = " + format_toml(py::cast<std::string>(v)) + "\n";
  }
  return out;
}

// The CLI's check of an output file before any work (store::file::check_writable): OSError with
// "output = PATH: <why>".
void require_writable(const std::string& path, bool force);
// An input file exists and can be read: OSError "FIELD = PATH: cannot be read: <why>".
void require_readable(const std::string& field, const std::string& path);

// A new output file with the run's provenance: the Python call as `command_line`, the resolved
// configuration as `config`.
store::file create_output(const std::string& product, const std::string& path, bool force,
                          const std::string& command_line, const std::string& config_toml,
                          std::optional<std::int64_t> seed = std::nullopt);

// ---- run control ------------------------------------------------------------------------------------

// The run_control of one call: its progress hook (at the library's safe points, at most every
// 0.1 s) takes the GIL, runs Python's signal handlers (PyErr_CheckSignals, on the calling thread)
// and the progress callback; a KeyboardInterrupt, or any exception of the callback, sets the stop
// flag, so that the computation stops at its next safe point (a simulation flushes its file and
// marks it interrupted) and throws Interrupted. rethrow() then raises the Python exception itself.
class python_control {
 public:
  explicit python_control(py::object progress);
  ~python_control();
  run_control control();
  // Call with the GIL held, on amari::Interrupted: raises the saved Python exception
  // (KeyboardInterrupt) or, when none was saved, KeyboardInterrupt.
  [[noreturn]] void rethrow_interrupt(const std::string& message);
  // Call with the GIL held after a run: raises a saved exception of the callback, if any.
  void check();

 private:
  void hook(double done, double total);
  std::atomic<int> stop_{0};
  py::object progress_;
  std::thread::id owner_;
  std::atomic<std::int64_t> last_ns_{0};
  std::mutex mutex_;
  PyObject *type_ = nullptr, *value_ = nullptr, *trace_ = nullptr;  // the saved exception
};

// Runs `compute` with the GIL released, translating amari::Interrupted into the Python exception
// that caused it.
template <class F>
auto run_released(python_control& ctl, F&& compute) {
  try {
    auto out = [&] {
      py::gil_scoped_release release;
      return compute(ctl.control());
    }();
    ctl.check();
    return out;
  } catch (const Interrupted& e) {
    ctl.rethrow_interrupt(e.what());
  }
}

// ---- the commands --------------------------------------------------------------------------------------

void bind_commands(py::module_& m);
void bind_simulate(py::module_& m);
void bind_vectorised(py::module_& m);
void bind_files(py::module_& m);
void bind_sweep(py::module_& m);

}  // namespace amari::python
