// Groups (src/io/store/internal.hpp): whole datasets and scales (creation, dataset metadata and
// dimension names), in-place rewrites, attributes, reads, children and subgroups; the group API of
// include/amari/io/store.hpp but for the series (series.cpp).
#include <algorithm>

#include "internal.hpp"

namespace amari::store {

namespace detail {

// ---------------------------------------------------------------------------------------------
// Dataset creation

namespace {
// Finds the scale named `name` for a dataset in group `group_path`: the dataset of that name in
// the group or its nearest ancestor that has one, and it must be a dimension scale.
handle find_scale(file_state& fs, const std::string& group_path, const std::string& name, const std::string& for_ds) {
  std::string g = group_path;
  while (true) {
    std::string candidate = join_path(g, name);
    if (fs.exists(candidate) && !fs.is_group(candidate)) {
      handle d = fs.open_dataset(candidate);
      if (ck(H5DSis_scale(d.get()), fs.path, "cannot check scale '{}'", candidate) > 0) return d;
    }
    if (g == "/") break;
    g = parent_of(g);
  }
  refuse(fs.path,
         "dimension '{}' of '{}': no dimension scale '{}' in '{}' or its parents (write it first with "
         "write_scale or make_series_scale)",
         name, for_ds, name, group_path);
}
}  // namespace

void write_meta(file_state& fs, hid_t ds, const std::string& ds_path, const dataset_meta& meta) {
  if (meta.description.empty())
    refuse(fs.path, "dataset '{}' needs a description (attribute `description`)", ds_path);
  write_attr(fs.path, ds, "description", meta.description);
  if (!meta.units.empty()) write_attr(fs.path, ds, "units", meta.units);
}

void attach_dims(file_state& fs, hid_t ds, const std::string& ds_path, const std::vector<std::uint64_t>& shape,
                 const std::vector<std::string>& dims, bool series) {
  if (dims.empty()) return;
  if (dims.size() != shape.size())
    refuse(fs.path, "dataset '{}' has {} axes but {} dimension names were given", ds_path, shape.size(),
           dims.size());
  const std::string g = parent_of(ds_path);
  for (std::size_t axis = 0; axis < dims.size(); ++axis) {
    if (dims[axis].empty()) continue;
    handle sc = find_scale(fs, g, dims[axis], ds_path);
    if (!(series && axis == 0)) {
      handle sp(ck(H5Dget_space(sc.get()), fs.path, "cannot read scale '{}'", dims[axis]));
      auto sd = space_dims(fs.path, sp.get());
      if (sd.size() != 1 || sd[0] != shape[axis])
        refuse(fs.path, "dimension '{}' of '{}' has length {} but the scale '{}' has shape {}", dims[axis], ds_path,
               shape[axis], dims[axis], shape_text(sd));
    }
    ck(H5DSattach_scale(ds, sc.get(), static_cast<unsigned>(axis)), fs.path, "cannot attach scale '{}' to '{}'",
       dims[axis], ds_path);
  }
}

std::vector<std::uint64_t> resolve_shape(const std::string& file, const std::string& ds_path, std::size_t n,
                                         std::vector<std::uint64_t> shape) {
  if (shape.empty()) return {n};
  if (product_of(shape) != n)
    refuse(file, "dataset '{}': shape {} holds {} values but {} were given", ds_path, shape_text(shape),
           product_of(shape), n);
  return shape;
}

}  // namespace detail

using namespace detail;

namespace {
// Creates a whole (non-extendible) dataset and writes `buf` into it.
handle create_whole(file_state& fs, const std::string& group_path, const std::string& name, hid_t ftype,
                    hid_t mtype, const std::vector<std::uint64_t>& shape, const void* buf, std::size_t elem_bytes,
                    bool allow_compress = true) {
  fs.require_writable();
  const std::string ds_path = join_path(group_path, name);
  if (fs.exists(ds_path)) refuse(fs.path, "'{}' exists already", ds_path);
  handle g = fs.open_or_create_group(group_path);
  handle space = simple_space(fs.path, shape);
  handle dcpl(ck(H5Pcreate(H5P_DATASET_CREATE), fs.path, "cannot create dataset '{}'", ds_path));
  no_times(fs.path, dcpl.get());
  const std::uint64_t bytes = product_of(shape) * elem_bytes;
  if (allow_compress && !shape.empty() && bytes > compress_above_bytes && fs.options.compression > 0) {
    auto c = whole_chunk(shape, elem_bytes);
    std::vector<hsize_t> ch(c.begin(), c.end());
    ck(H5Pset_chunk(dcpl.get(), static_cast<int>(ch.size()), ch.data()), fs.path, "cannot chunk dataset '{}'", ds_path);
    ck(H5Pset_shuffle(dcpl.get()), fs.path, "cannot compress dataset '{}'", ds_path);
    ck(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(fs.options.compression)), fs.path,
       "cannot compress dataset '{}'", ds_path);
  }
  handle dapl = no_cache_dapl(fs.path);
  handle ds(ck(H5Dcreate2(g.get(), name.c_str(), ftype, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()), fs.path,
               "cannot create dataset '{}'", ds_path));
  if (product_of(shape) > 0 || shape.empty())
    ck(H5Dwrite(ds.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), fs.path, "cannot write dataset '{}'", ds_path);
  return ds;
}
}  // namespace

// =============================================================================================
// group

group::impl& detail::live(const std::shared_ptr<group::impl>& p) {
  if (!p) throw IoError("amari::store::group: used before it was opened (file::group_at)");
  p->fs->require_open();
  silence();
  return *p;
}

const std::string& group::path() const {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

void group::write(const std::string& name, std::span<const double> data, const dataset_meta& meta,
                  std::vector<std::uint64_t> shape) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  shape = resolve_shape(g.fs->path, p, data.size(), std::move(shape));
  handle ds = create_whole(*g.fs, g.path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, shape, data.data(), 8);
  write_meta(*g.fs, ds.get(), p, meta);
  attach_dims(*g.fs, ds.get(), p, shape, meta.dims, false);
}

void group::write(const std::string& name, std::span<const std::int64_t> data, const dataset_meta& meta,
                  std::vector<std::uint64_t> shape) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  shape = resolve_shape(g.fs->path, p, data.size(), std::move(shape));
  handle ds = create_whole(*g.fs, g.path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, shape, data.data(), 8);
  write_meta(*g.fs, ds.get(), p, meta);
  attach_dims(*g.fs, ds.get(), p, shape, meta.dims, false);
}

void group::write(const std::string& name, const std::vector<std::string>& data, const dataset_meta& meta) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  handle t = string_type(g.fs->path);
  std::vector<const char*> ptrs;
  for (const auto& s : data) ptrs.push_back(s.c_str());
  std::vector<std::uint64_t> shape{data.size()};
  handle ds = create_whole(*g.fs, g.path, name, t.get(), t.get(), shape, ptrs.data(), sizeof(char*), false);
  write_meta(*g.fs, ds.get(), p, meta);
  attach_dims(*g.fs, ds.get(), p, shape, meta.dims, false);
}

void group::write_scalar(const std::string& name, double value, const dataset_meta& meta) {
  auto& g = live(impl_);
  handle ds = create_whole(*g.fs, g.path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {}, &value, 8);
  write_meta(*g.fs, ds.get(), join_path(g.path, name), meta);
}

void group::write_scalar(const std::string& name, std::int64_t value, const dataset_meta& meta) {
  auto& g = live(impl_);
  handle ds = create_whole(*g.fs, g.path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {}, &value, 8);
  write_meta(*g.fs, ds.get(), join_path(g.path, name), meta);
}

namespace {
void rewrite_impl(group::impl& g, const std::string& name, hid_t mtype, H5T_class_t cls, std::size_t n,
                  const void* buf) {
  g.fs->require_writable();
  const std::string p = join_path(g.path, name);
  handle ds = g.fs->open_dataset(p);
  handle sp(ck(H5Dget_space(ds.get()), g.fs->path, "cannot rewrite '{}'", p));
  handle ty(ck(H5Dget_type(ds.get()), g.fs->path, "cannot rewrite '{}'", p));
  const auto npts = static_cast<std::size_t>(ck(H5Sget_simple_extent_npoints(sp.get()), g.fs->path, "cannot rewrite '{}'", p));
  if (npts != n) refuse(g.fs->path, "cannot rewrite '{}' in place: it holds {} values, {} were given", p, npts, n);
  if (H5Tget_class(ty.get()) != cls) refuse(g.fs->path, "cannot rewrite '{}' in place: different type", p);
  ck(H5Dwrite(ds.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), g.fs->path, "cannot rewrite '{}'", p);
}
}  // namespace

void group::rewrite(const std::string& name, std::span<const double> data) {
  rewrite_impl(live(impl_), name, H5T_NATIVE_DOUBLE, H5T_FLOAT, data.size(), data.data());
}

void group::rewrite(const std::string& name, std::span<const std::int64_t> data) {
  rewrite_impl(live(impl_), name, H5T_NATIVE_INT64, H5T_INTEGER, data.size(), data.data());
}

void group::write_scale(const std::string& name, std::span<const double> data, const dataset_meta& meta) {
  auto& g = live(impl_);
  handle ds = create_whole(*g.fs, g.path, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {data.size()}, data.data(), 8);
  const std::string p = join_path(g.path, name);
  write_meta(*g.fs, ds.get(), p, meta);
  ck(H5DSset_scale(ds.get(), name.c_str()), g.fs->path, "cannot make '{}' a dimension scale", p);
}

void group::write_scale(const std::string& name, std::span<const std::int64_t> data, const dataset_meta& meta) {
  auto& g = live(impl_);
  handle ds = create_whole(*g.fs, g.path, name, H5T_STD_I64LE, H5T_NATIVE_INT64, {data.size()}, data.data(), 8);
  const std::string p = join_path(g.path, name);
  write_meta(*g.fs, ds.get(), p, meta);
  ck(H5DSset_scale(ds.get(), name.c_str()), g.fs->path, "cannot make '{}' a dimension scale", p);
}

namespace {
template <class V>
void attr_on(group::impl& g, const std::string& object, const std::string& name, const V& value) {
  g.fs->require_writable();
  const std::string p = object.empty() ? g.path : join_path(g.path, object);
  if (!g.fs->exists(p)) refuse(g.fs->path, "there is no '{}' to put attribute '{}' on", p, name);
  handle o(ck(H5Oopen(g.fs->id(), p.c_str(), H5P_DEFAULT), g.fs->path, "cannot open '{}'", p));
  write_attr(g.fs->path, o.get(), name, value);
}

handle open_object(group::impl& g, const std::string& object) {
  const std::string p = object.empty() ? g.path : join_path(g.path, object);
  if (!g.fs->exists(p)) refuse(g.fs->path, "there is no '{}'", p);
  return handle(ck(H5Oopen(g.fs->id(), p.c_str(), H5P_DEFAULT), g.fs->path, "cannot open '{}'", p));
}

bool has_attr_impl(group::impl& g, const std::string& object, const std::string& name) {
  const std::string p = object.empty() ? g.path : join_path(g.path, object);
  if (!g.fs->exists(p)) return false;
  handle o = open_object(g, object);
  return ck(H5Aexists(o.get(), name.c_str()), g.fs->path, "cannot check attribute '{}'", name) > 0;
}

std::string where(const group::impl& g, const std::string& object) {
  return object.empty() ? g.path : join_path(g.path, object);
}
}  // namespace

void group::attr(const std::string& name, double value) { attr_on(live(impl_), "", name, value); }
void group::attr(const std::string& name, std::int64_t value) { attr_on(live(impl_), "", name, value); }
void group::attr(const std::string& name, const std::string& value) { attr_on(live(impl_), "", name, value); }
void group::attr(const std::string& name, std::span<const double> values) { attr_on(live(impl_), "", name, values); }
bool group::has_attr(const std::string& name) const { return has_attr_impl(live(impl_), "", name); }
double group::attr_double(const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, "");
  return attr_as_double(g.fs->path, o.get(), name, g.path);
}
std::int64_t group::attr_int(const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, "");
  return attr_as_int(g.fs->path, o.get(), name, g.path);
}
std::string group::attr_string(const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, "");
  return attr_as_string(g.fs->path, o.get(), name, g.path);
}
std::vector<double> group::attr_doubles(const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, "");
  attribute a = read_attribute(g.fs->path, o.get(), name);
  if (a.type == attribute::kind::real) return a.reals;
  if (a.type == attribute::kind::integer) return {a.integers.begin(), a.integers.end()};
  refuse(g.fs->path, "attribute '{}' of '{}' is not numeric", name, g.path);
}

void group::remove_attr(const std::string& name) {
  auto& g = live(impl_);
  g.fs->require_writable();
  handle o = open_object(g, "");
  if (ck(H5Aexists(o.get(), name.c_str()), g.fs->path, "cannot check attribute '{}'", name) > 0)
    ck(H5Adelete(o.get(), name.c_str()), g.fs->path, "cannot remove attribute '{}'", name);
}

void group::attr_of(const std::string& object, const std::string& name, double value) {
  attr_on(live(impl_), object, name, value);
}
void group::attr_of(const std::string& object, const std::string& name, std::int64_t value) {
  attr_on(live(impl_), object, name, value);
}
void group::attr_of(const std::string& object, const std::string& name, const std::string& value) {
  attr_on(live(impl_), object, name, value);
}
void group::attr_of(const std::string& object, const std::string& name, std::span<const double> values) {
  attr_on(live(impl_), object, name, values);
}
bool group::has_attr_of(const std::string& object, const std::string& name) const {
  return has_attr_impl(live(impl_), object, name);
}
double group::attr_double_of(const std::string& object, const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, object);
  return attr_as_double(g.fs->path, o.get(), name, where(g, object));
}
std::int64_t group::attr_int_of(const std::string& object, const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, object);
  return attr_as_int(g.fs->path, o.get(), name, where(g, object));
}
std::string group::attr_string_of(const std::string& object, const std::string& name) const {
  auto& g = live(impl_);
  handle o = open_object(g, object);
  return attr_as_string(g.fs->path, o.get(), name, where(g, object));
}

bool group::has(const std::string& name) const {
  auto& g = live(impl_);
  return g.fs->exists(join_path(g.path, name));
}

std::vector<std::uint64_t> group::shape(const std::string& name) const {
  auto& g = live(impl_);
  g.fs->write_all_pending();
  const std::string p = join_path(g.path, name);
  handle ds = g.fs->open_dataset(p);
  handle sp(ck(H5Dget_space(ds.get()), g.fs->path, "cannot read '{}'", p));
  return space_dims(g.fs->path, sp.get());
}

namespace {
template <class T>
std::vector<T> read_numeric(group::impl& g, const std::string& name, hid_t mtype) {
  g.fs->write_all_pending();
  const std::string p = join_path(g.path, name);
  handle ds = g.fs->open_dataset(p);
  handle ty(ck(H5Dget_type(ds.get()), g.fs->path, "cannot read '{}'", p));
  auto cls = H5Tget_class(ty.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) refuse(g.fs->path, "'{}' is not numeric", p);
  handle sp(ck(H5Dget_space(ds.get()), g.fs->path, "cannot read '{}'", p));
  const auto n = static_cast<std::size_t>(ck(H5Sget_simple_extent_npoints(sp.get()), g.fs->path, "cannot read '{}'", p));
  std::vector<T> out(n);
  if (n > 0) ck(H5Dread(ds.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), g.fs->path, "cannot read '{}'", p);
  return out;
}
}  // namespace

std::vector<double> group::read_doubles(const std::string& name) const {
  return read_numeric<double>(live(impl_), name, H5T_NATIVE_DOUBLE);
}

std::vector<std::int64_t> group::read_ints(const std::string& name) const {
  return read_numeric<std::int64_t>(live(impl_), name, H5T_NATIVE_INT64);
}

std::vector<std::string> group::read_strings(const std::string& name) const {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  handle ds = g.fs->open_dataset(p);
  handle ty(ck(H5Dget_type(ds.get()), g.fs->path, "cannot read '{}'", p));
  if (H5Tget_class(ty.get()) != H5T_STRING) refuse(g.fs->path, "'{}' is not a string dataset", p);
  handle sp(ck(H5Dget_space(ds.get()), g.fs->path, "cannot read '{}'", p));
  return read_string_data(
      g.fs->path, ty.get(), sp.get(),
      [&](hid_t mt, void* buf) { return H5Dread(ds.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
      fmt::format("'{}'", p));
}

std::vector<double> group::read_rows(const std::string& name, std::uint64_t first, std::uint64_t count) const {
  auto& g = live(impl_);
  g.fs->write_all_pending();
  const std::string p = join_path(g.path, name);
  handle ds = g.fs->open_dataset(p);
  handle sp(ck(H5Dget_space(ds.get()), g.fs->path, "cannot read '{}'", p));
  auto dims = space_dims(g.fs->path, sp.get());
  if (dims.empty()) refuse(g.fs->path, "'{}' is a scalar: it has no rows", p);
  if (first + count > dims[0] || first + count < first)
    refuse(g.fs->path, "'{}' has {} rows: rows [{}, {}) do not exist", p, dims[0], first, first + count);
  std::vector<hsize_t> start(dims.size(), 0), cnt(dims.begin(), dims.end());
  start[0] = first;
  cnt[0] = count;
  std::size_t n = 1;
  for (auto c : cnt) n *= c;
  std::vector<double> out(n);
  if (n == 0) return out;
  ck(H5Sselect_hyperslab(sp.get(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr), g.fs->path,
     "cannot read '{}'", p);
  hsize_t nn = n;
  handle ms(ck(H5Screate_simple(1, &nn, nullptr), g.fs->path, "cannot read '{}'", p));
  ck(H5Dread(ds.get(), H5T_NATIVE_DOUBLE, ms.get(), sp.get(), H5P_DEFAULT, out.data()), g.fs->path, "cannot read '{}'", p);
  return out;
}

namespace {
herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

std::vector<std::string> group::children() const {
  auto& g = live(impl_);
  handle h = g.fs->open_group(g.path);
  std::vector<std::string> names;
  ck(H5Literate(h.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names), g.fs->path,
     "cannot list group '{}'", g.path);
  std::sort(names.begin(), names.end());
  return names;
}

group group::subgroup(const std::string& name) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  g.fs->open_or_create_group(p);
  group out;
  out.impl_ = std::make_shared<impl>(impl{g.fs, p});
  return out;
}

}  // namespace amari::store
