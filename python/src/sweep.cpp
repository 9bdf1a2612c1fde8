// amari.sweep: a command over the grid of its options (io/sweep.hpp): the CLI's parsing (the
// options as the CLI's texts, so that a file's arguments mean the same to either front end), the
// CLI's file, and the results read back from /sweep as numpy arrays over [axes..., own axes].
#include <fmt/format.h>

#include "amari/io/layout/sweep.hpp"
#include "amari/io/sweep.hpp"
#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;
namespace lay = layout::sweep;

py::object to_numpy(const lay::stored_array& s) {
  std::vector<py::ssize_t> shape(s.shape.begin(), s.shape.end());
  if (s.labels) {
    // Texts: the labels at their indices (None where a point has none: index -1).
    py::array out(py::dtype("O"), shape);
    auto* items = static_cast<PyObject**>(out.mutable_data());
    const auto n = static_cast<std::size_t>(out.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t k = s.integer ? s.ints[i] : static_cast<std::int64_t>(s.reals[i]);
      py::object v = k >= 0 && k < static_cast<std::int64_t>(s.labels->size()) ? py::object(py::str((*s.labels)[std::size_t(k)]))
                                                                              : py::none();
      Py_XDECREF(items[i]);
      items[i] = v.release().ptr();
    }
    return out;
  }
  if (s.integer) {
    py::array_t<std::int64_t> a(shape);
    std::copy(s.ints.begin(), s.ints.end(), a.mutable_data());
    return a;
  }
  py::array_t<double> a(shape);
  std::copy(s.reals.begin(), s.reals.end(), a.mutable_data());
  return a;
}

py::dict sweep(const std::string& command, const std::vector<std::string>& args, const std::string& output,
               bool force, const std::string& resume, bool keep, const std::string& command_line, py::object progress) {
  lay::plan plan;
  if (!resume.empty()) {
    if (!args.empty())
      throw InvalidArgument(fmt::format("resume = {}: takes the command and its options from the file; give "
                                        "no options with resume= (found {})",
                                        resume, args.front()));
    if (!output.empty())
      throw InvalidArgument(fmt::format("output = {}: a resumed sweep continues in its own file; give either "
                                        "output= or resume=", output));
    if (keep)
      throw InvalidArgument(fmt::format("keep = True: a resumed sweep keeps the points' products as its file says "
                                        "(the keep of the sweep that wrote {}); give resume= alone", resume));
    require_readable("resume", resume);
    try {
      plan = io::sweep::resume_plan(resume);
    } catch (const IoError& e) {
      throw InvalidArgument(fmt::format("resume = {}: {}", resume, e.what()));
    }
    if (!command.empty() && command != plan.command)
      throw InvalidArgument(fmt::format("command = {}: the sweep in {} runs {}; give that command, or none, "
                                        "with resume=", command, resume, plan.command));
  } else {
    if (command.empty()) {
      std::string list;
      for (auto c : io::runner_commands()) list += (list.empty() ? "" : ", ") + std::string(c);
      throw InvalidArgument("command = (none): amari.sweep needs a command (or resume=); accepted: " + list);
    }
    plan = io::sweep::make_plan(command, args);
    plan.keep = keep;
  }
  {
    py::gil_scoped_release release;
    io::sweep::validate_all(plan);
  }
  std::optional<io::sweep::scratch_file> scratch;
  std::string path = resume;
  if (path.empty()) {
    if (output.empty()) scratch.emplace("amari-sweep");
    else require_writable(output, force);
    path = output.empty() ? scratch->path() : output;
  }
  std::optional<store::file> f;  // closed before the scratch file is removed
  python_control ctl(std::move(progress));
  lay::contents c;
  try {
    run_released(ctl, [&](const run_control& control) {
      if (!resume.empty()) {
        f.emplace(store::file::open_append(resume));
      } else {
        std::string config = "command = " + format_toml(plan.command) + "\n";
        if (!output.empty()) config += "output = " + format_toml(output) + "\n";
        if (force) config += "force = true\n";
        f.emplace(create_output("sweep", path, force || scratch.has_value(), command_line, config));
        lay::write_plan(*f, plan);
        f->flush();
      }
      io::sweep::run s(*f, plan, lay::points_done(*f, plan.points()), control.progress);
      // Within a point, its own progress as a fraction of one point (and Python's signals looked at).
      const run_control point{control.stop, [&](double done, double total) {
                                control.report(double(s.complete()) + (total > 0 ? std::min(done / total, 1.0) : 0.0),
                                               double(s.points()));
                              }};
      s.run_points(s.left(), point);
      s.finish(control);
      c = lay::read(*f);
      f->close();
      return 0;
    });
  } catch (...) {
    if (f) {
      py::gil_scoped_release release;
      f->close();
    }
    throw;
  }
  py::dict out;
  out["command"] = c.command;
  std::vector<std::string> dims;
  for (const auto& a : c.axes) dims.push_back(a.name);
  out["dims"] = py::cast(dims);
  py::dict axes;
  for (const auto& a : c.axes) {
    if (a.labels) {
      py::array labels = py::array(py::cast(*a.labels));
      axes[py::str(a.name)] = labels;
    } else {
      axes[py::str(a.name)] = to_numpy(a);
    }
  }
  out["axes"] = axes;
  out["points"] = c.points;
  out["done"] = c.done;
  for (const auto& r : c.results) out[py::str(r.name)] = to_numpy(r);
  if (!output.empty() || !resume.empty()) out["output"] = path;
  return out;
}

}  // namespace

void bind_sweep(py::module_& m) {
  m.def("sweep", &sweep, "command"_a, "args"_a, "output"_a, "force"_a, "resume"_a, "keep"_a, "command_line"_a,
        "progress"_a = py::none());
}

}  // namespace amari::python
