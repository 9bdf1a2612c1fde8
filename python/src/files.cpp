// amari.open: an amari file's groups and datasets, with their named dimensions and attributes,
// read through the store (io/store.hpp) -- what `amari inspect` lists, with the data. The Python
// side (python/amari/__init__.py: File, to_xarray) builds named dimensions from `dims`.
#include <fmt/format.h>

#include "bindings.hpp"

namespace amari::python {

namespace {

using namespace pybind11::literals;

py::object attribute_value(const store::attribute& a) {
  using k = store::attribute::kind;
  const bool scalar = a.shape.empty();
  switch (a.type) {
    case k::text: {
      if (scalar && a.text.size() == 1) return py::str(a.text.front());
      py::list l;
      for (const auto& t : a.text) l.append(t);
      return l;
    }
    case k::real:
      if (scalar && a.reals.size() == 1) return py::float_(a.reals.front());
      return py::array_t<double>(static_cast<py::ssize_t>(a.reals.size()), a.reals.data());
    case k::integer:
      if (scalar && a.integers.size() == 1) return py::int_(a.integers.front());
      return py::array_t<std::int64_t>(static_cast<py::ssize_t>(a.integers.size()), a.integers.data());
    case k::unsigned_integer:
      if (scalar && a.unsigneds.size() == 1) return py::int_(a.unsigneds.front());
      return py::array_t<std::uint64_t>(static_cast<py::ssize_t>(a.unsigneds.size()), a.unsigneds.data());
    case k::other:
      break;
  }
  return py::none();
}

py::dict attributes(const std::vector<store::attribute>& as) {
  py::dict d;
  for (const auto& a : as) d[py::str(a.name)] = attribute_value(a);
  return d;
}

// An open amari file, read-only. The data are read when asked for (a long run's series can be
// large); /checkpoint, the resume state, is left out of the listing.
class file_reader {
 public:
  explicit file_reader(const std::string& path) : path_(path) {
    require_readable("file", path);
    try {
      file_ = store::file::open_read(path);
    } catch (const IoError& e) {
      throw InvalidArgument(e.what());
    }
  }

  py::dict root_attributes() {
    const store::object_info info = file_.info("/");
    return attributes(info.attributes);
  }

  // Every group and dataset below the root, depth first, as dicts: path, group, type, shape, dims,
  // scale, attrs.
  py::list objects() {
    py::list out;
    walk("/", out);
    return out;
  }

  py::object read(const std::string& path) {
    if (path.empty() || path.front() != '/' || !file_.has(path))
      throw InvalidArgument(fmt::format("dataset = {}: not in {}; accepted: an absolute path such as /trajectory/q "
                                        "(File.datasets() lists them)",
                                        path, path_));
    const store::object_info info = file_.info(path);
    if (info.is_group)
      throw InvalidArgument(fmt::format("dataset = {}: is a group of {}, not a dataset", path, path_));
    const auto slash = path.rfind('/');
    store::group g = file_.group_at(slash == 0 ? "/" : path.substr(0, slash));
    const std::string name = path.substr(slash + 1);
    std::vector<py::ssize_t> shape(info.shape.begin(), info.shape.end());
    if (info.type == "string") {
      const auto text = g.read_strings(name);
      py::list l;
      for (const auto& t : text) l.append(t);
      if (shape.empty() && text.size() == 1) return py::str(text.front());
      return l;
    }
    const bool integral = info.type.find("int") != std::string::npos;
    if (integral) {
      const auto v = g.read_ints(name);
      py::array_t<std::int64_t> a(shape);
      std::copy(v.begin(), v.end(), a.mutable_data());
      return a;
    }
    if (info.type != "float64" && info.type != "float32")
      throw InvalidArgument(fmt::format("dataset = {}: of type {}, which amari does not read", path, info.type));
    const auto v = g.read_doubles(name);
    py::array_t<double> a(shape);
    std::copy(v.begin(), v.end(), a.mutable_data());
    return a;
  }

  const std::string& path() const { return path_; }
  void close() { file_.close(); }

 private:
  void walk(const std::string& at, py::list& out) {
    store::group g = file_.group_at(at);
    for (const auto& child : g.children()) {
      const std::string p = (at == "/" ? "/" : at + "/") + child;
      if (p == "/checkpoint") continue;
      const store::object_info o = file_.info(p);
      py::list dims;
      for (const auto& d : o.dims) dims.append(d.empty() ? py::object(py::none()) : py::object(py::str(d)));
      py::tuple shape(o.shape.size());
      for (std::size_t i = 0; i < o.shape.size(); ++i) shape[i] = py::int_(o.shape[i]);
      out.append(py::dict("path"_a = p, "group"_a = o.is_group, "type"_a = o.type, "shape"_a = shape,
                          "dims"_a = dims, "scale"_a = o.is_scale, "attrs"_a = attributes(o.attributes)));
      if (o.is_group) walk(p, out);
    }
  }

  std::string path_;
  store::file file_;
};

}  // namespace

void bind_files(py::module_& m) {
  py::class_<file_reader>(m, "_FileReader")
      .def(py::init<const std::string&>(), "path"_a)
      .def("root_attributes", &file_reader::root_attributes)
      .def("objects", &file_reader::objects)
      .def("read", &file_reader::read, "path"_a)
      .def("close", &file_reader::close)
      .def_property_readonly("path", &file_reader::path);
}

}  // namespace amari::python
