// Attributes on any object of a file: written (replacing one of the same name), read back into
// store::attribute, listed (src/io/store/internal.hpp).
#include "internal.hpp"

namespace amari::store::detail {

namespace {
void write_attr_raw(const std::string& file, hid_t obj, const std::string& name, hid_t ftype, hid_t mtype,
                    hid_t space, const void* buf) {
  if (ck(H5Aexists(obj, name.c_str()), file, "cannot check attribute '{}'", name) > 0)
    ck(H5Adelete(obj, name.c_str()), file, "cannot replace attribute '{}'", name);
  handle a(ck(H5Acreate2(obj, name.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT), file,
              "cannot create attribute '{}'", name));
  ck(H5Awrite(a.get(), mtype, buf), file, "cannot write attribute '{}'", name);
}
}  // namespace

void write_attr(const std::string& file, hid_t obj, const std::string& name, double v) {
  handle s = simple_space(file, {});
  write_attr_raw(file, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.get(), &v);
}
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::int64_t v) {
  handle s = simple_space(file, {});
  write_attr_raw(file, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, s.get(), &v);
}
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::uint64_t v) {
  handle s = simple_space(file, {});
  write_attr_raw(file, obj, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, s.get(), &v);
}
void write_attr(const std::string& file, hid_t obj, const std::string& name, const std::string& v) {
  handle s = simple_space(file, {});
  handle t = string_type(file);
  const char* p = v.c_str();
  write_attr_raw(file, obj, name, t.get(), t.get(), s.get(), &p);
}
void write_attr_fixed(const std::string& file, hid_t obj, const std::string& name, const std::string& v) {
  handle t = fixed_string_type(file, v.size());
  if (ck(H5Aexists(obj, name.c_str()), file, "cannot check attribute '{}'", name) > 0) {
    handle a(ck(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file, "cannot open attribute '{}'", name));
    handle old(ck(H5Aget_type(a.get()), file, "cannot read attribute '{}'", name));
    if (ck(H5Tequal(old.get(), t.get()), file, "cannot compare attribute '{}'", name) > 0) {
      ck(H5Awrite(a.get(), t.get(), v.data()), file, "cannot write attribute '{}'", name);
      return;
    }
  }
  handle s = simple_space(file, {});
  write_attr_raw(file, obj, name, t.get(), t.get(), s.get(), v.data());
}

void write_attr(const std::string& file, hid_t obj, const std::string& name, std::span<const double> v) {
  handle s = simple_space(file, {v.size()});
  write_attr_raw(file, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.get(), v.data());
}

attribute read_attribute(const std::string& file, hid_t obj, const std::string& name) {
  attribute a;
  a.name = name;
  handle h(ck(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file, "cannot open attribute '{}'", name));
  handle t(ck(H5Aget_type(h.get()), file, "cannot read attribute '{}'", name));
  handle s(ck(H5Aget_space(h.get()), file, "cannot read attribute '{}'", name));
  a.shape = space_dims(file, s.get());
  const auto n = static_cast<std::size_t>(ck(H5Sget_simple_extent_npoints(s.get()), file, "cannot read attribute '{}'", name));
  switch (H5Tget_class(t.get())) {
    case H5T_STRING:
      a.type = attribute::kind::text;
      a.text = read_string_data(
          file, t.get(), s.get(), [&](hid_t mt, void* buf) { return H5Aread(h.get(), mt, buf); },
          fmt::format("attribute '{}'", name));
      break;
    case H5T_FLOAT:
      a.type = attribute::kind::real;
      a.reals.resize(n);
      ck(H5Aread(h.get(), H5T_NATIVE_DOUBLE, a.reals.data()), file, "cannot read attribute '{}'", name);
      break;
    case H5T_INTEGER:
      if (H5Tget_sign(t.get()) == H5T_SGN_NONE && H5Tget_size(t.get()) >= 8) {
        a.type = attribute::kind::unsigned_integer;
        a.unsigneds.resize(n);
        ck(H5Aread(h.get(), H5T_NATIVE_UINT64, a.unsigneds.data()), file, "cannot read attribute '{}'", name);
      } else {
        a.type = attribute::kind::integer;
        a.integers.resize(n);
        ck(H5Aread(h.get(), H5T_NATIVE_INT64, a.integers.data()), file, "cannot read attribute '{}'", name);
      }
      break;
    default:
      a.type = attribute::kind::other;
  }
  return a;
}

namespace {
herr_t collect_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> attribute_names(const std::string& file, hid_t obj) {
  std::vector<std::string> names;
  ck(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_name, &names), file, "cannot list attributes");
  return names;
}

double attr_as_double(const std::string& file, hid_t obj, const std::string& name, const std::string& where) {
  attribute a = read_attribute(file, obj, name);
  if (a.type == attribute::kind::real && a.reals.size() == 1) return a.reals[0];
  if (a.type == attribute::kind::integer && a.integers.size() == 1) return static_cast<double>(a.integers[0]);
  if (a.type == attribute::kind::unsigned_integer && a.unsigneds.size() == 1) return static_cast<double>(a.unsigneds[0]);
  refuse(file, "attribute '{}' of '{}' is not a number", name, where);
}

std::int64_t attr_as_int(const std::string& file, hid_t obj, const std::string& name, const std::string& where) {
  attribute a = read_attribute(file, obj, name);
  if (a.type == attribute::kind::integer && a.integers.size() == 1) return a.integers[0];
  if (a.type == attribute::kind::unsigned_integer && a.unsigneds.size() == 1) return static_cast<std::int64_t>(a.unsigneds[0]);
  refuse(file, "attribute '{}' of '{}' is not an integer", name, where);
}

std::string attr_as_string(const std::string& file, hid_t obj, const std::string& name, const std::string& where) {
  attribute a = read_attribute(file, obj, name);
  if (a.type == attribute::kind::text && a.text.size() == 1) return a.text[0];
  refuse(file, "attribute '{}' of '{}' is not a text", name, where);
}

}  // namespace amari::store::detail
