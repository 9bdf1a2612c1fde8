// Python values <-> the library's values (bindings.hpp).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fmt/format.h>

#include "bindings.hpp"

namespace amari::python {

using namespace pybind11::literals;

namespace {

std::string shown(py::handle v) { return py::cast<std::string>(py::repr(v)); }

bool is_number(py::handle v) {
  return py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) ||
         py::isinstance(v, py::module_::import("numpy").attr("number"));
}

}  // namespace

param_value to_param_value(const param_spec& spec, py::handle v) {
  const auto numpy = py::module_::import("numpy");
  // A 0-d array (np.array(2.5)) is its element.
  if (py::isinstance<py::array>(v) && py::reinterpret_borrow<py::array>(v).ndim() == 0)
    return to_param_value(spec, v.attr("item")());
  // bool first: a Python bool is also an int.
  if (py::isinstance<py::bool_>(v) || py::isinstance(v, numpy.attr("bool_"))) return py::cast<bool>(v);
  if (py::isinstance<py::int_>(v) || py::isinstance(v, numpy.attr("integer"))) return py::cast<std::int64_t>(v);
  if (py::isinstance<py::float_>(v) || py::isinstance(v, numpy.attr("floating"))) return py::cast<double>(v);
  if (py::isinstance<py::str>(v)) return py::cast<std::string>(v);
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v) || py::isinstance<py::array>(v)) {
    std::vector<double> out;
    for (auto item : py::iter(v)) {
      if (!is_number(item) || py::isinstance<py::bool_>(item))
        throw InvalidArgument(spec.name, shown(v), fmt::format("must be {}", kind_words(spec.kind)));
      out.push_back(py::cast<double>(item));
    }
    return out;
  }
  throw InvalidArgument(spec.name, shown(v), fmt::format("must be {}", kind_words(spec.kind)));
}

// ---- records -------------------------------------------------------------------------------------------

namespace {

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

py::object to_python(const io::value& v) {
  return std::visit(
      [](const auto& x) -> py::object {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) return py::none();
        else if constexpr (std::is_same_v<T, double>) return std::isfinite(x) ? py::object(py::float_(x)) : py::none();
        else if constexpr (std::is_same_v<T, bool>) return py::bool_(x);
        else if constexpr (std::is_same_v<T, std::int64_t>) return py::int_(x);
        else if constexpr (std::is_same_v<T, std::string>) return py::str(x);
        else if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<std::int64_t>>)
          return to_array(x);
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) return py::cast(x);
        else if constexpr (std::is_same_v<T, io::value::array>) {
          py::list l;
          for (const auto& e : x) l.append(to_python(e));
          return l;
        } else {
          return to_python(x);
        }
      },
      v.v);
}

py::dict to_python(const io::record& r) {
  py::dict d;
  for (std::size_t i = 0; i < r.size(); ++i) d[py::str(r.keys[i])] = to_python(r.values[i]);
  return d;
}

// ---- arrays --------------------------------------------------------------------------------------------

double array_view::at(std::int64_t i) const {
  const std::int64_t k = i * strides[0];
  return float32 ? static_cast<const float*>(data)[k] : static_cast<const double*>(data)[k];
}

double array_view::at(std::int64_t i, std::int64_t j) const {
  const std::int64_t k = i * strides[0] + j * strides[1];
  return float32 ? static_cast<const float*>(data)[k] : static_cast<const double*>(data)[k];
}

std::string array_view::shape_text() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

array_view view_array(py::handle obj, std::string_view field) {
  array_view a;
  if (py::isinstance<py::str>(obj)) {
    const std::string spec = py::cast<std::string>(obj);
    a.source = spec;
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
      throw InvalidArgument(field, spec, "must be FILE:DATASET, e.g. run.h5:/trajectory/h_final");
    const std::string path = spec.substr(0, colon), name = spec.substr(colon + 1);
    require_readable(std::string(field), path);
    std::vector<std::uint64_t> shape;
    try {
      auto f = store::file::open_read(path);
      if (!f.has(name)) throw InvalidArgument(field, spec, fmt::format("{} has no dataset {}", path, name));
      const auto slash = name.rfind('/');
      auto g = f.group_at(slash == std::string::npos || slash == 0 ? "/" : name.substr(0, slash));
      const std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
      shape = g.shape(base);
      a.owned = g.read_doubles(base);
    } catch (const IoError& e) {
      throw InvalidArgument(field, spec, fmt::format("cannot be read as a dataset of numbers: {}", e.what()));
    }
    a.data = a.owned.data();
    std::int64_t stride = 1;
    a.shape.assign(shape.begin(), shape.end());
    a.strides.assign(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 0;) a.strides[d] = stride, stride *= static_cast<std::int64_t>(shape[d]);
    return a;
  }
  a.source = "memory";
  const auto numpy = py::module_::import("numpy");
  py::array arr;
  if (py::isinstance<py::array>(obj)) {
    arr = py::reinterpret_borrow<py::array>(obj);
  } else {
    try {
      arr = numpy.attr("asarray")(obj, "dtype"_a = "float64");
    } catch (const py::error_already_set&) {
      throw InvalidArgument(field, shown(obj), "must be a numpy array of numbers or FILE:DATASET");
    }
  }
  const py::dtype dt = arr.dtype();
  if (dt.is(py::dtype::of<double>())) {
    a.float32 = false;
  } else if (dt.is(py::dtype::of<float>())) {
    a.float32 = true;
  } else if (dt.kind() == 'i' || dt.kind() == 'u' || dt.kind() == 'f') {
    arr = numpy.attr("asarray")(arr, "dtype"_a = "float64");  // one conversion
  } else {
    throw InvalidArgument(field, fmt::format("an array of dtype {}", py::cast<std::string>(dt.attr("name"))),
                          "must be float64 or float32 (or FILE:DATASET)");
  }
  const py::ssize_t item = arr.itemsize();
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    a.shape.push_back(arr.shape(d));
    a.strides.push_back(arr.strides(d) / item);
  }
  a.data = arr.data();
  a.keep = arr;
  return a;
}

void require_finite(const array_view& a, std::string_view field) {
  std::int64_t total = 1;
  for (auto s : a.shape) total *= s;
  if (total == 0) return;
  std::vector<std::int64_t> idx(a.shape.size(), 0);
  for (std::int64_t k = 0; k < total; ++k) {
    std::int64_t off = 0;
    for (std::size_t d = 0; d < idx.size(); ++d) off += idx[d] * a.strides[d];
    const double x = a.float32 ? static_cast<const float*>(a.data)[off] : static_cast<const double*>(a.data)[off];
    if (!std::isfinite(x)) {
      std::string where;
      for (std::size_t d = 0; d < idx.size(); ++d) where += (d ? ", " : "") + std::to_string(idx[d]);
      throw InvalidArgument(field, a.source == "memory" ? "an array" : a.source,
                            fmt::format("must be finite (element [{}] is {})", where, format_number(x)));
    }
    for (std::size_t d = idx.size(); d-- > 0;) {
      if (++idx[d] < a.shape[d]) break;
      idx[d] = 0;
    }
  }
}

// ---- files and keywords --------------------------------------------------------------------------------

void unknown_keyword(const std::string& command, const std::string& name, const std::vector<std::string>& known) {
  throw InvalidArgument(unknown_parameter(command, name, known));
}

void require_writable(const std::string& path, bool force) {
  if (path.empty()) throw InvalidArgument("output", "\"\"", "must be the path of the HDF5 file to write");
  try {
    store::file::check_writable(path, force);
  } catch (const IoError& e) {
    std::string why = e.what();
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    throw os_error(fmt::format("output = {}: {}", path, why));
  }
}

void require_readable(const std::string& field, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw os_error(fmt::format("{} = {}: cannot be read: {}", field, path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw os_error(fmt::format("{} = {}: is a directory, not a file", field, path));
  if (::access(path.c_str(), R_OK) != 0)
    throw os_error(fmt::format("{} = {}: cannot be read: {}", field, path, std::strerror(errno)));
}

store::file create_output(const std::string& product, const std::string& path, bool force,
                          const std::string& command_line, const std::string& config_toml,
                          std::optional<std::int64_t> seed) {
  store::file_options o{.force = force, .command_line = command_line, .config_toml = config_toml, .product = product};
  if (seed) o.seed = static_cast<std::uint64_t>(*seed);
  return store::file::create(path, o);
}

}  // namespace amari::python
