// The checkpoint (src/io/store/internal.hpp): two slots, /checkpoint/slot_a and slot_b, written
// alternately at flushes, so that the previous checkpoint stays intact while the next is written;
// the choice of the slot to read (the newest complete one that agrees with the series); the
// checkpoint API of include/amari/io/store.hpp. Layout: docs/FORMAT.md ("Checkpoint and resume").
#include <algorithm>

#include "internal.hpp"

namespace amari::store {

using namespace detail;

// ---------------------------------------------------------------------------------------------
// Commit and choice

namespace {

// Writes one staged item into group `g` of a slot: in place when a dataset of the same type and
// shape is there (a raw-data write into space the committed slot does not use), else created anew.
void write_slot_item(file_state& fs, hid_t g, const std::string& slot_path, const std::string& name,
                     const staged_item& item) {
  const std::string ds_path = join_path(slot_path, name);
  handle ftype, mtype;
  const void* buf = nullptr;
  std::string text;
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::vector<double>>) {
          ftype = handle(H5Tcopy(H5T_IEEE_F64LE));
          mtype = handle(H5Tcopy(H5T_NATIVE_DOUBLE));
          buf = v.data();
        } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          ftype = handle(H5Tcopy(H5T_STD_I64LE));
          mtype = handle(H5Tcopy(H5T_NATIVE_INT64));
          buf = v.data();
        } else if constexpr (std::is_same_v<V, std::vector<std::uint64_t>>) {
          ftype = handle(H5Tcopy(H5T_STD_U64LE));
          mtype = handle(H5Tcopy(H5T_NATIVE_UINT64));
          buf = v.data();
        } else {
          ftype = fixed_string_type(fs.path, v.size());
          mtype = fixed_string_type(fs.path, v.size());
          text = v;
          text.resize(std::max<std::size_t>(v.size(), 1), '\0');
          buf = text.data();
        }
      },
      item.data);
  ck(ftype.get(), fs.path, "cannot write checkpoint '{}'", ds_path);
  ck(mtype.get(), fs.path, "cannot write checkpoint '{}'", ds_path);
  if (fs.exists(ds_path)) {
    handle ds = fs.open_dataset(ds_path);
    handle sp(ck(H5Dget_space(ds.get()), fs.path, "cannot write checkpoint '{}'", ds_path));
    handle ty(ck(H5Dget_type(ds.get()), fs.path, "cannot write checkpoint '{}'", ds_path));
    if (space_dims(fs.path, sp.get()) == item.shape && H5Tequal(ty.get(), ftype.get()) > 0) {
      ck(H5Dwrite(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), fs.path,
         "cannot write checkpoint '{}'", ds_path);
      return;
    }
    H5Eclear2(H5E_DEFAULT);
    ck(H5Ldelete(g, name.c_str(), H5P_DEFAULT), fs.path, "cannot replace checkpoint '{}'", ds_path);
  }
  handle space = simple_space(fs.path, item.shape);
  handle dcpl(ck(H5Pcreate(H5P_DATASET_CREATE), fs.path, "cannot write checkpoint '{}'", ds_path));
  no_times(fs.path, dcpl.get());
  // Contiguous and allocated at creation: later commits overwrite the same bytes in place.
  ck(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), fs.path, "cannot write checkpoint '{}'", ds_path);
  ck(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), fs.path, "cannot write checkpoint '{}'", ds_path);
  handle ds(ck(H5Dcreate2(g, name.c_str(), ftype.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), fs.path,
               "cannot write checkpoint '{}'", ds_path));
  // Attributes are metadata: written once, at creation (later commits rewrite only the raw data).
  std::string description = "state of the run for --resume (docs/FORMAT.md, Checkpoint and resume)";
  if (name == "series_rows") description = "rows of each series (see `series`) when this checkpoint was written";
  if (name == "flush_index") description = "which commit this checkpoint is (the larger of the two slots is newer)";
  write_attr(fs.path, ds.get(), "description", description);
  ck(H5Dwrite(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), fs.path, "cannot write checkpoint '{}'",
     ds_path);
}

}  // namespace

void file_state::commit_checkpoint() {
  if (!staged_dirty) return;
  const std::string slot = committed_slot == slot_names[0] ? slot_names[1] : slot_names[0];
  const std::string slot_path = std::string(checkpoint_root) + "/" + slot;
  handle root = open_or_create_group(checkpoint_root);
  if (!ck(H5Aexists(root.get(), "description"), path, "cannot write the checkpoint") )
    write_attr(path, root.get(), "description",
               std::string("state of the run at the last flush, for --resume; the slot named by `current` "
                           "is the newest (docs/FORMAT.md)"));
  handle g = open_or_create_group(slot_path);
  // Bookkeeping: the series lengths this checkpoint goes with, and which commit it is.
  std::vector<std::string> names;
  std::vector<std::int64_t> rows;
  std::size_t width = 1;
  for (const auto& s : all_series) {
    names.push_back(s->path);
    rows.push_back(static_cast<std::int64_t>(s->rows()));
    width = std::max(width, s->path.size());
  }
  std::string packed(width * names.size(), '\0');
  for (std::size_t i = 0; i < names.size(); ++i) std::copy(names[i].begin(), names[i].end(), packed.begin() + i * width);
  // Series paths as one fixed-width string per row: a uint8 matrix would be less readable, so a
  // fixed-length string dataset (raw data, rewritten in place).
  {
    const std::string ds_path = slot_path + "/series";
    std::vector<std::uint64_t> shape{names.size()};
    handle ft = fixed_string_type(path, width);
    bool in_place = false;
    if (exists(ds_path)) {
      handle ds = open_dataset(ds_path);
      handle sp(ck(H5Dget_space(ds.get()), path, "cannot write checkpoint '{}'", ds_path));
      handle ty(ck(H5Dget_type(ds.get()), path, "cannot write checkpoint '{}'", ds_path));
      if (space_dims(path, sp.get()) == shape && H5Tequal(ty.get(), ft.get()) > 0 && !names.empty()) {
        ck(H5Dwrite(ds.get(), ft.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()), path,
           "cannot write checkpoint '{}'", ds_path);
        in_place = true;
      } else {
        H5Eclear2(H5E_DEFAULT);
        ck(H5Ldelete(g.get(), "series", H5P_DEFAULT), path, "cannot replace checkpoint '{}'", ds_path);
      }
    }
    if (!in_place) {
      handle space = simple_space(path, shape);
      handle dcpl(ck(H5Pcreate(H5P_DATASET_CREATE), path, "cannot write checkpoint '{}'", ds_path));
      no_times(path, dcpl.get());
      ck(H5Pset_layout(dcpl.get(), H5D_CONTIGUOUS), path, "cannot write checkpoint '{}'", ds_path);
      ck(H5Pset_alloc_time(dcpl.get(), H5D_ALLOC_TIME_EARLY), path, "cannot write checkpoint '{}'", ds_path);
      handle ds(ck(H5Dcreate2(g.get(), "series", ft.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT), path,
                   "cannot write checkpoint '{}'", ds_path));
      write_attr(path, ds.get(), "description", std::string("paths of the series of the file (see series_rows)"));
      if (!names.empty())
        ck(H5Dwrite(ds.get(), ft.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, packed.data()), path,
           "cannot write checkpoint '{}'", ds_path);
    }
  }
  write_slot_item(*this, g.get(), slot_path, "series_rows", staged_item{rows, {rows.size()}});
  const std::int64_t index = committed_index + 1;
  for (const auto& [name, item] : staged) write_slot_item(*this, g.get(), slot_path, name, item);
  // Written last among the raw data: a slot whose flush_index is newer is complete.
  write_slot_item(*this, g.get(), slot_path, "flush_index", staged_item{std::vector<std::int64_t>{index}, {}});
  write_attr_fixed(path, root.get(), "current", slot);
  committed_slot = slot;
  committed_index = index;
  staged_dirty = false;
}

// The newest slot that is complete and consistent with the series in the file: every series it
// lists exists with at least the rows it recorded. (After a crash in the middle of a flush the
// newer slot may be ahead of the series; the older one is then intact and is used.)
std::string file_state::choose_slot() const {
  std::string best;
  std::int64_t best_index = -1;
  for (const char* slot : slot_names) {
    const std::string sp = std::string(checkpoint_root) + "/" + slot;
    if (!exists(sp + "/flush_index") || !exists(sp + "/series") || !exists(sp + "/series_rows")) continue;
    try {
      handle fi = open_dataset(sp + "/flush_index");
      std::int64_t index = 0;
      ck(H5Dread(fi.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &index), path, "cannot read checkpoint");
      handle sd = open_dataset(sp + "/series");
      handle st(ck(H5Dget_type(sd.get()), path, "cannot read checkpoint"));
      handle ss(ck(H5Dget_space(sd.get()), path, "cannot read checkpoint"));
      auto names = read_string_data(
          path, st.get(), ss.get(), [&](hid_t mt, void* buf) { return H5Dread(sd.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
          "checkpoint series");
      handle rd = open_dataset(sp + "/series_rows");
      std::vector<std::int64_t> rows(names.size());
      if (!rows.empty())
        ck(H5Dread(rd.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), path, "cannot read checkpoint");
      bool ok = true;
      for (std::size_t i = 0; i < names.size() && ok; ++i) {
        if (!exists(names[i])) {
          ok = false;
          break;
        }
        handle d = open_dataset(names[i]);
        handle s(ck(H5Dget_space(d.get()), path, "cannot read checkpoint"));
        auto dims = space_dims(path, s.get());
        ok = !dims.empty() && dims[0] >= static_cast<std::uint64_t>(rows[i]);
      }
      if (ok && index > best_index) {
        best = slot;
        best_index = index;
      }
    } catch (const IoError&) {
      continue;  // an unreadable slot is not a usable checkpoint
    }
  }
  return best;
}

// =============================================================================================
// checkpoint

namespace {
file_state& live(const std::shared_ptr<file_state>& fs) {
  if (!fs) throw IoError("amari::store::checkpoint: not obtained from a file");
  fs->require_open();
  silence();
  return *fs;
}

void stage(file_state& fs, const std::string& name, staged_item item) {
  fs.require_writable();
  if (name.empty() || name.find('/') != std::string::npos || name == "series" || name == "series_rows" ||
      name == "flush_index")
    throw IoError(fmt::format("{}: checkpoint name '{}' is not allowed (no '/', not series, series_rows or "
                              "flush_index)",
                              fs.path, name));
  fs.staged[name] = std::move(item);
  fs.staged_dirty = true;
}

std::string committed_path(file_state& fs, const std::string& name) {
  std::string slot = fs.writable && !fs.committed_slot.empty() ? fs.committed_slot : fs.choose_slot();
  if (slot.empty()) refuse(fs.path, "there is no checkpoint in this file");
  return std::string(checkpoint_root) + "/" + slot + "/" + name;
}

group::impl slot_group(file_state& fs, const std::shared_ptr<file_state>& sp, const std::string& name) {
  std::string p = committed_path(fs, name);
  return group::impl{sp, parent_of(p)};
}
}  // namespace

void checkpoint::write(const std::string& name, std::span<const double> data, std::vector<std::uint64_t> shape) {
  auto& fs = live(state_);
  shape = resolve_shape(fs.path, "checkpoint " + name, data.size(), std::move(shape));
  stage(fs, name, staged_item{std::vector<double>(data.begin(), data.end()), std::move(shape)});
}
void checkpoint::write(const std::string& name, std::span<const std::int64_t> data, std::vector<std::uint64_t> shape) {
  auto& fs = live(state_);
  shape = resolve_shape(fs.path, "checkpoint " + name, data.size(), std::move(shape));
  stage(fs, name, staged_item{std::vector<std::int64_t>(data.begin(), data.end()), std::move(shape)});
}
void checkpoint::write(const std::string& name, std::span<const std::uint64_t> data, std::vector<std::uint64_t> shape) {
  auto& fs = live(state_);
  shape = resolve_shape(fs.path, "checkpoint " + name, data.size(), std::move(shape));
  stage(fs, name, staged_item{std::vector<std::uint64_t>(data.begin(), data.end()), std::move(shape)});
}
void checkpoint::write(const std::string& name, double value) {
  stage(live(state_), name, staged_item{std::vector<double>{value}, {}});
}
void checkpoint::write(const std::string& name, std::int64_t value) {
  stage(live(state_), name, staged_item{std::vector<std::int64_t>{value}, {}});
}
void checkpoint::write(const std::string& name, const std::string& text) {
  stage(live(state_), name, staged_item{text, {}});
}
bool checkpoint::staged() const { return state_ && state_->staged_dirty; }

bool checkpoint::exists() const {
  auto& fs = live(state_);
  if (fs.writable && !fs.committed_slot.empty()) return true;
  return !fs.choose_slot().empty();
}
bool checkpoint::has(const std::string& name) const {
  auto& fs = live(state_);
  if (!exists()) return false;
  return fs.exists(committed_path(fs, name));
}
std::vector<std::uint64_t> checkpoint::shape(const std::string& name) const {
  auto& fs = live(state_);
  group g;
  g.impl_ = std::make_shared<group::impl>(slot_group(fs, state_, name));
  return g.shape(name);
}
std::vector<double> checkpoint::read_doubles(const std::string& name) const {
  auto& fs = live(state_);
  group g;
  g.impl_ = std::make_shared<group::impl>(slot_group(fs, state_, name));
  return g.read_doubles(name);
}
std::vector<std::int64_t> checkpoint::read_ints(const std::string& name) const {
  auto& fs = live(state_);
  group g;
  g.impl_ = std::make_shared<group::impl>(slot_group(fs, state_, name));
  return g.read_ints(name);
}
std::vector<std::uint64_t> checkpoint::read_uints(const std::string& name) const {
  auto& fs = live(state_);
  const std::string p = committed_path(fs, name);
  handle ds = fs.open_dataset(p);
  handle sp(ck(H5Dget_space(ds.get()), fs.path, "cannot read '{}'", p));
  const auto n = static_cast<std::size_t>(ck(H5Sget_simple_extent_npoints(sp.get()), fs.path, "cannot read '{}'", p));
  std::vector<std::uint64_t> out(n);
  if (n > 0) ck(H5Dread(ds.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), fs.path, "cannot read '{}'", p);
  return out;
}
double checkpoint::read_double(const std::string& name) const {
  auto v = read_doubles(name);
  if (v.size() != 1) throw IoError(fmt::format("{}: checkpoint '{}' is not one number", state_->path, name));
  return v[0];
}
std::int64_t checkpoint::read_int(const std::string& name) const {
  auto v = read_ints(name);
  if (v.size() != 1) throw IoError(fmt::format("{}: checkpoint '{}' is not one number", state_->path, name));
  return v[0];
}
std::string checkpoint::read_string(const std::string& name) const {
  auto& fs = live(state_);
  const std::string p = committed_path(fs, name);
  handle ds = fs.open_dataset(p);
  handle ty(ck(H5Dget_type(ds.get()), fs.path, "cannot read '{}'", p));
  if (H5Tget_class(ty.get()) != H5T_STRING) refuse(fs.path, "checkpoint '{}' is not a text", name);
  handle sp(ck(H5Dget_space(ds.get()), fs.path, "cannot read '{}'", p));
  auto v = read_string_data(
      fs.path, ty.get(), sp.get(),
      [&](hid_t mt, void* buf) { return H5Dread(ds.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); },
      fmt::format("'{}'", p));
  return v.empty() ? std::string() : v[0];
}
std::uint64_t checkpoint::series_rows(const std::string& series_path) const {
  auto& fs = live(state_);
  group g;
  g.impl_ = std::make_shared<group::impl>(slot_group(fs, state_, "series"));
  auto names = g.read_strings("series");
  auto rows = g.read_ints("series_rows");
  for (std::size_t i = 0; i < names.size() && i < rows.size(); ++i)
    if (names[i] == series_path) return static_cast<std::uint64_t>(rows[i]);
  throw IoError(fmt::format("{}: the checkpoint records no series '{}'", fs.path, series_path));
}
std::int64_t checkpoint::flush_index() const { return read_int("flush_index"); }

}  // namespace amari::store
