// Appendable series (src/io/store/internal.hpp): their chunk shapes, the extendible datasets, the
// rows buffered in memory until the file's next flush, and the series API of include/amari/io/store.hpp
// (series, group::make_series, make_series_scale, open_series). The chunk shape of whole datasets
// is here too.
#include <algorithm>

#include "internal.hpp"

namespace amari::store {

namespace detail {

// ---------------------------------------------------------------------------------------------
// Chunking

std::vector<std::uint64_t> series_chunk(const std::vector<std::uint64_t>& row_shape) {
  std::vector<std::uint64_t> inner = row_shape;
  // Split very large rows along their largest axis so that one row's chunk stays <= 4 targets.
  while (product_of(inner) * 8 > 4 * chunk_target_bytes) {
    auto it = std::max_element(inner.begin(), inner.end());
    if (*it <= 1) break;
    *it = (*it + 1) / 2;
  }
  const std::uint64_t row_bytes = std::max<std::uint64_t>(product_of(inner) * 8, 1);
  std::vector<std::uint64_t> chunk{std::max<std::uint64_t>(chunk_target_bytes / row_bytes, 1)};
  for (auto d : inner) chunk.push_back(std::max<std::uint64_t>(d, 1));
  return chunk;
}

std::vector<std::uint64_t> whole_chunk(const std::vector<std::uint64_t>& shape, std::size_t elem) {
  std::vector<std::uint64_t> c = shape;
  for (auto& d : c) d = std::max<std::uint64_t>(d, 1);
  // Halve the first axis that is not 1 until the chunk is near the target.
  std::size_t axis = 0;
  while (product_of(c) * elem > 2 * chunk_target_bytes && axis < c.size()) {
    if (c[axis] > 1)
      c[axis] = (c[axis] + 1) / 2;
    else
      ++axis;
  }
  return c;
}

// No chunk cache for the chunked datasets we write: every H5Dwrite goes straight to the file (the partial last chunk is
// read back and re-compressed at each flush, ~0.1 ms). A cache would hold dirty chunks that, when
// the disk is full, HDF5 1.10 can neither write nor drop: closing such a dataset frees it but keeps
// its identifier, and the library's exit handler then crashes on it.
handle no_cache_dapl(const std::string& file) {
  handle dapl(ck(H5Pcreate(H5P_DATASET_ACCESS), file, "cannot set dataset access properties"));
  ck(H5Pset_chunk_cache(dapl.get(), 0, 0, 1.0), file, "cannot set dataset access properties");
  return dapl;
}

handle create_series(file_state& fs, const std::string& group_path, const std::string& name,
                     const std::vector<std::uint64_t>& row_shape) {
  fs.require_writable();
  const std::string ds_path = join_path(group_path, name);
  if (fs.exists(ds_path)) refuse(fs.path, "'{}' exists already (open_series reopens a series)", ds_path);
  handle g = fs.open_or_create_group(group_path);
  std::vector<std::uint64_t> dims{0}, maxdims{H5S_UNLIMITED};
  for (auto d : row_shape) {
    dims.push_back(d);
    maxdims.push_back(d);
  }
  handle space = simple_space(fs.path, dims, maxdims);
  handle dcpl(ck(H5Pcreate(H5P_DATASET_CREATE), fs.path, "cannot create series '{}'", ds_path));
  no_times(fs.path, dcpl.get());
  auto c = series_chunk(row_shape);
  std::vector<hsize_t> ch(c.begin(), c.end());
  ck(H5Pset_chunk(dcpl.get(), static_cast<int>(ch.size()), ch.data()), fs.path, "cannot chunk series '{}'", ds_path);
  if (fs.options.compression > 0) {
    ck(H5Pset_shuffle(dcpl.get()), fs.path, "cannot compress series '{}'", ds_path);
    ck(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(fs.options.compression)), fs.path,
       "cannot compress series '{}'", ds_path);
  }
  handle dapl = no_cache_dapl(fs.path);
  return handle(ck(H5Dcreate2(g.get(), name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, dcpl.get(),
                              dapl.get()),
                   fs.path, "cannot create series '{}'", ds_path));
}

}  // namespace detail

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Buffered rows

void series::impl::write_pending(const std::string& file) {
  if (pending.empty()) return;
  const std::uint64_t add = pending.size() / row_size;
  std::vector<hsize_t> dims{static_cast<hsize_t>(written + add)};
  for (auto d : row_shape) dims.push_back(d);
  ck(H5Dset_extent(ds.get(), dims.data()), file, "cannot extend series '{}'", path);
  handle fspace(ck(H5Dget_space(ds.get()), file, "cannot extend series '{}'", path));
  std::vector<hsize_t> start(dims.size(), 0), count = dims;
  start[0] = written;
  count[0] = add;
  ck(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), file,
     "cannot write series '{}'", path);
  hsize_t n = pending.size();
  handle mspace(ck(H5Screate_simple(1, &n, nullptr), file, "cannot write series '{}'", path));
  ck(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, mspace.get(), fspace.get(), H5P_DEFAULT, pending.data()), file,
     "cannot write series '{}'", path);
  written += add;
  pending.clear();
}

// =============================================================================================
// series

namespace {
series::impl& live(const std::shared_ptr<series::impl>& p) {
  if (!p) throw IoError("amari::store::series: used before it was made (make_series/open_series)");
  if (!p->fs || !p->fs->open) throw IoError(fmt::format("series '{}': the file is closed", p->path));
  return *p;
}
}  // namespace

void series::append(std::span<const double> row) {
  auto& s = live(impl_);
  if (row.size() != s.row_size)
    throw IoError(fmt::format("{}: series '{}' takes rows of {} values, got {}", s.fs->path, s.path, s.row_size,
                              row.size()));
  s.pending.insert(s.pending.end(), row.begin(), row.end());
}

void series::append_rows(std::span<const double> rows) {
  auto& s = live(impl_);
  if (rows.size() % s.row_size != 0)
    throw IoError(fmt::format("{}: series '{}' takes rows of {} values, got {} values", s.fs->path, s.path,
                              s.row_size, rows.size()));
  s.pending.insert(s.pending.end(), rows.begin(), rows.end());
}

std::uint64_t series::rows() const { return impl_ ? impl_->rows() : 0; }
std::size_t series::row_size() const { return impl_ ? impl_->row_size : 0; }
const std::vector<std::uint64_t>& series::row_shape() const {
  static const std::vector<std::uint64_t> none;
  return impl_ ? impl_->row_shape : none;
}
const std::string& series::path() const {
  static const std::string none;
  return impl_ ? impl_->path : none;
}

void series::truncate(std::uint64_t n) {
  auto& s = live(impl_);
  silence();
  if (n >= s.rows()) return;
  if (n >= s.written) {
    s.pending.resize((n - s.written) * s.row_size);
    return;
  }
  s.pending.clear();
  std::vector<hsize_t> dims{static_cast<hsize_t>(n)};
  for (auto d : s.row_shape) dims.push_back(d);
  ck(H5Dset_extent(s.ds.get(), dims.data()), s.fs->path, "cannot truncate series '{}'", s.path);
  s.written = n;
}

// ---------------------------------------------------------------------------------------------
// Making and reopening series (members of group)

series group::make_series(const std::string& name, std::vector<std::uint64_t> row_shape, const dataset_meta& meta) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  for (auto d : row_shape)
    if (d == 0) refuse(g.fs->path, "series '{}': a row axis of length 0", p);
  auto s = std::make_shared<series::impl>();
  s->ds = create_series(*g.fs, g.path, name, row_shape);
  write_meta(*g.fs, s->ds.get(), p, meta);
  std::vector<std::uint64_t> shape{0};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  attach_dims(*g.fs, s->ds.get(), p, shape, meta.dims, true);
  s->fs = g.fs.get();
  s->path = p;
  s->row_shape = std::move(row_shape);
  s->row_size = static_cast<std::size_t>(product_of(s->row_shape));
  g.fs->all_series.push_back(s);
  series out;
  out.impl_ = s;
  return out;
}

series group::make_series_scale(const std::string& name, const dataset_meta& meta) {
  auto& g = live(impl_);
  const std::string p = join_path(g.path, name);
  auto s = std::make_shared<series::impl>();
  s->ds = create_series(*g.fs, g.path, name, {});
  write_meta(*g.fs, s->ds.get(), p, meta);
  ck(H5DSset_scale(s->ds.get(), name.c_str()), g.fs->path, "cannot make '{}' a dimension scale", p);
  s->fs = g.fs.get();
  s->path = p;
  g.fs->all_series.push_back(s);
  series out;
  out.impl_ = s;
  return out;
}

series group::open_series(const std::string& name) {
  auto& g = live(impl_);
  g.fs->require_writable();
  const std::string p = join_path(g.path, name);
  for (auto& s : g.fs->all_series)
    if (s->path == p) {
      series out;
      out.impl_ = s;
      return out;
    }
  auto s = std::make_shared<series::impl>();
  if (!g.fs->exists(p)) refuse(g.fs->path, "there is no series '{}'", p);
  handle dapl = no_cache_dapl(g.fs->path);
  s->ds = handle(ck(H5Dopen2(g.fs->id(), p.c_str(), dapl.get()), g.fs->path, "cannot open series '{}'", p));
  handle dcpl(ck(H5Dget_create_plist(s->ds.get()), g.fs->path, "cannot open series '{}'", p));
  handle sp(ck(H5Dget_space(s->ds.get()), g.fs->path, "cannot open series '{}'", p));
  auto dims = space_dims(g.fs->path, sp.get());
  std::vector<hsize_t> maxd(dims.size());
  if (!dims.empty()) ck(H5Sget_simple_extent_dims(sp.get(), nullptr, maxd.data()), g.fs->path, "cannot open series '{}'", p);
  if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED || dims.empty() || maxd[0] != H5S_UNLIMITED)
    refuse(g.fs->path, "'{}' is not a series (an extendible dataset)", p);
  s->fs = g.fs.get();
  s->path = p;
  s->row_shape.assign(dims.begin() + 1, dims.end());
  s->row_size = static_cast<std::size_t>(product_of(s->row_shape));
  s->written = dims[0];
  g.fs->all_series.push_back(s);
  series out;
  out.impl_ = s;
  return out;
}

}  // namespace amari::store
