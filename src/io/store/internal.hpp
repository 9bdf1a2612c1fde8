#pragma once
// The store's private declarations, shared by the files of src/io/store/ (the implementation of
// include/amari/io/store.hpp). Nothing outside src/io/store/ includes it, so HDF5's headers stay
// inside src/io/store/.
//
//   errors.cpp      error capture (ck, fail, refuse), silencing HDF5's own printing, small helpers
//                   (paths, shapes, string types, dataspaces); the RAII handle is below
//   attributes.cpp  attributes on any object: write, read back, list
//   superblock.cpp  the superblock guard: the end-of-allocation address stored ahead of a flush
//                   (superblock.hpp; depends on HDF5's on-disk format, pinned by a test)
//   series.cpp      chunk shapes and the appendable series (buffered rows, written at flush)
//   group.cpp       whole datasets, scales, attributes and reads of a group
//   checkpoint.cpp  the two-slot checkpoint: commit at flush, choice of the slot to read
//   file.cpp        the file state (existence checks, flush, close) and the file API
//
// Crash safety rests on four settings, explained in docs/FORMAT.md ("Crash safety"):
//   1. library-version bounds [1.8, 1.10]: superblock version 2, which records no "open for
//      writing" flag that would make a plain open fail after a crash (version 3 does);
//   2. file-space strategy NONE: no free-space manager and no aggregator, so space freed while
//      writing (a re-compressed chunk that moved) is never handed out again;
//   3. a metadata cache that never evicts: metadata reaches the disk only inside H5Fflush;
//   4. after each flush, the end of allocated space is moved past the file's end (a few bytes),
//      so that a block freed at the very end of the file (which HDF5 would otherwise give back by
//      shrinking the file, even with strategy NONE) cannot be reused before the next flush.
// Series rows are buffered here and written just before H5Fflush, which writes raw data before
// metadata. Between flushes the bytes that the last flush's metadata points to are therefore never
// overwritten with anything but the same values. (Settings 1 and 3: write_fapl in file.cpp; 2:
// file::create; 4 and the superblock guard: file_state::flush.)
#include <hdf5.h>
#include <hdf5_hl.h>

#include <chrono>
#include <cstdint>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/store.hpp"

namespace amari::store {

namespace detail {

// ---------------------------------------------------------------------------------------------
// Errors (errors.cpp)

// The HDF5 error stack is per thread in a thread-safe build: silence it in each thread that
// calls us, once. Before the first HDF5 call of the process, HDF5's exit handler is switched off:
// it would close files left open, and a file whose writes failed (full disk) cannot be closed by
// HDF5 1.10 without crashing (see file_state::close). Every file we open is closed by its owner.
void silence();

// The most telling message on the HDF5 error stack (a system error if there is one, else the
// innermost description); clears the stack.
std::string hdf5_reason();

template <class... A>
[[noreturn]] void fail(const std::string& file, fmt::format_string<A...> what, A&&... args) {
  std::string reason = hdf5_reason();
  throw IoError(fmt::format("{}: {}: {}", file, fmt::format(what, std::forward<A>(args)...), reason));
}

template <class... A>
[[noreturn]] void refuse(const std::string& file, fmt::format_string<A...> what, A&&... args) {
  H5Eclear2(H5E_DEFAULT);
  throw IoError(fmt::format("{}: {}", file, fmt::format(what, std::forward<A>(args)...)));
}

// Checks a return value of the C API: negative means failure.
template <class T, class... A>
T ck(T r, const std::string& file, fmt::format_string<A...> what, A&&... args) {
  if (r < 0) fail(file, what, std::forward<A>(args)...);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Handles

class handle {
 public:
  handle() = default;
  explicit handle(hid_t id) : id_(id) {}
  handle(const handle&) = delete;
  handle& operator=(const handle&) = delete;
  handle(handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  handle& operator=(handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~handle() { reset(); }
  void reset() noexcept {
    if (id_ >= 0) {
      H5Idec_ref(id_);  // closes the object when the last reference goes; errors ignored here
      H5Eclear2(H5E_DEFAULT);
    }
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const noexcept { return id_; }
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }
  explicit operator bool() const noexcept { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// ---------------------------------------------------------------------------------------------
// Small helpers (errors.cpp)

std::string join_path(const std::string& group, const std::string& name);
std::string parent_of(const std::string& path);
std::string base_of(const std::string& path);
std::string utc_now_iso8601();
std::uint64_t product_of(const std::vector<std::uint64_t>& shape);
std::string shape_text(const std::vector<std::uint64_t>& shape);
handle string_type(const std::string& file);
// A fixed-length string type of n bytes (n >= 1), for checkpoint text (kept out of the global heap,
// so that rewriting it is a raw-data write like any other checkpoint dataset).
handle fixed_string_type(const std::string& file, std::size_t n);
handle simple_space(const std::string& file, const std::vector<std::uint64_t>& dims,
                    const std::vector<std::uint64_t>& maxdims = {});
std::vector<std::uint64_t> space_dims(const std::string& file, hid_t space);
// Object creation properties shared by groups and datasets: no access/modification times (they
// would change the object header at every write and make otherwise identical files differ).
void no_times(const std::string& file, hid_t plist);

// ---------------------------------------------------------------------------------------------
// Attributes on any object (attributes.cpp)

void write_attr(const std::string& file, hid_t obj, const std::string& name, double v);
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::int64_t v);
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::uint64_t v);
void write_attr(const std::string& file, hid_t obj, const std::string& name, const std::string& v);
// A text attribute stored as a fixed-length string of v.size() bytes and rewritten in place when one
// of that length is there: no new file space at each write (the checkpoint's `current`).
void write_attr_fixed(const std::string& file, hid_t obj, const std::string& name, const std::string& v);
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::span<const double> v);

// Reads strings (variable or fixed length) from an attribute or dataset.
template <class ReadFn>
std::vector<std::string> read_string_data(const std::string& file, hid_t ftype, hid_t space, ReadFn read,
                                          const std::string& what) {
  const auto n = static_cast<std::size_t>(ck(H5Sget_simple_extent_npoints(space), file, "cannot read {}", what));
  std::vector<std::string> out;
  out.reserve(n);
  htri_t vlen = ck(H5Tis_variable_str(ftype), file, "cannot read {}", what);
  if (vlen > 0) {
    handle mt = string_type(file);
    std::vector<char*> ptrs(n, nullptr);
    ck(read(mt.get(), ptrs.data()), file, "cannot read {}", what);
    for (auto* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mt.get(), space, H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t len = H5Tget_size(ftype);
    handle mt(ck(H5Tcopy(ftype), file, "cannot read {}", what));
    std::vector<char> buf(n * len + 1, '\0');
    ck(read(mt.get(), buf.data()), file, "cannot read {}", what);
    const bool spacepad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      if (auto z = s.find('\0'); z != std::string::npos) s.resize(z);
      if (spacepad)
        while (!s.empty() && s.back() == ' ') s.pop_back();
      out.push_back(std::move(s));
    }
  }
  return out;
}

attribute read_attribute(const std::string& file, hid_t obj, const std::string& name);
std::vector<std::string> attribute_names(const std::string& file, hid_t obj);
double attr_as_double(const std::string& file, hid_t obj, const std::string& name, const std::string& where);
std::int64_t attr_as_int(const std::string& file, hid_t obj, const std::string& name, const std::string& where);
std::string attr_as_string(const std::string& file, hid_t obj, const std::string& name, const std::string& where);

// ---------------------------------------------------------------------------------------------
// Chunking (series.cpp)

// Chunks of about 8 KiB: large enough to compress well and read fast, small enough that the
// partial last chunk, which is compressed again at every flush, costs little.
inline constexpr std::uint64_t chunk_target_bytes = 8 * 1024;
// Whole datasets above this size are chunked and compressed; smaller ones are contiguous.
inline constexpr std::uint64_t compress_above_bytes = 64 * 1024;

// The chunk of a series with rows of shape row_shape (time first).
std::vector<std::uint64_t> series_chunk(const std::vector<std::uint64_t>& row_shape);
// The chunk of a whole dataset of `shape` with elements of `elem` bytes.
std::vector<std::uint64_t> whole_chunk(const std::vector<std::uint64_t>& shape, std::size_t elem);
// Dataset access properties without a chunk cache (see series.cpp).
handle no_cache_dapl(const std::string& file);

// ---------------------------------------------------------------------------------------------
// The checkpoint's place in the file (checkpoint.cpp)

inline constexpr const char* checkpoint_root = "/checkpoint";
inline constexpr const char* slot_names[2] = {"slot_a", "slot_b"};

}  // namespace detail

// =============================================================================================
// File state, shared by the file, its groups, series and checkpoint

struct series::impl {
  file_state* fs = nullptr;  // null once the file is closed
  detail::handle ds;
  std::string path;
  std::vector<std::uint64_t> row_shape;
  std::size_t row_size = 1;
  std::uint64_t written = 0;    // rows in the file
  std::vector<double> pending;  // rows appended since, row-major

  std::uint64_t rows() const { return written + pending.size() / row_size; }
  void write_pending(const std::string& file);  // series.cpp
};

struct staged_item {
  std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::uint64_t>, std::string> data;
  std::vector<std::uint64_t> shape;  // empty: a scalar (or a string)
};

// (Member functions: file.cpp, but for commit_checkpoint and choose_slot, in checkpoint.cpp.)
struct file_state {
  std::string path;
  detail::handle fid;
  bool writable = false;
  bool open = false;
  bool broken = false;  // a write to the file failed (full disk): no more writes, no close
  bool stored_eoa_raised = false;  // the last flush raised the superblock's end address first
  file_options options;
  std::vector<std::shared_ptr<series::impl>> all_series;  // every series opened for writing
  std::string status;
  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
  std::uint64_t flushes = 0;
  // Checkpoint: what is staged (kept across flushes: each commit writes all of it) and which slot
  // holds the last committed one.
  std::map<std::string, staged_item> staged;
  bool staged_dirty = false;
  std::string committed_slot;  // "slot_a", "slot_b" or "" (none)
  std::int64_t committed_index = 0;

  void require_open() const {
    if (!open) throw IoError(fmt::format("{}: the file is closed", path));
  }
  void require_writable() const {
    require_open();
    if (!writable) throw IoError(fmt::format("{}: the file is open for reading only", path));
  }

  hid_t id() const { return fid.get(); }

  bool exists(const std::string& abs) const;
  bool is_group(const std::string& abs) const;
  detail::handle open_group(const std::string& abs) const;
  detail::handle open_or_create_group(const std::string& abs);
  detail::handle open_dataset(const std::string& abs) const;
  void write_all_pending();
  void set_root_attr(const std::string& name, const std::string& value);

  void commit_checkpoint();
  void check_space();
  void flush();
  void close(bool mark_failed) noexcept;
  std::string choose_slot() const;  // the committed slot to read ("" if none usable)
};

struct group::impl {
  std::shared_ptr<file_state> fs;
  std::string path;
};

namespace detail {

// The group behind a handle, checked to be open (group.cpp).
group::impl& live(const std::shared_ptr<group::impl>& p);

// ---------------------------------------------------------------------------------------------
// Dataset creation (group.cpp; create_series: series.cpp)

// Checks meta.description and writes the attributes `description` and `units`.
void write_meta(file_state& fs, hid_t ds, const std::string& ds_path, const dataset_meta& meta);
// Attaches meta.dims to the axes of `ds`. For a series the first axis grows, so only the other axes
// are checked against their scale's length.
void attach_dims(file_state& fs, hid_t ds, const std::string& ds_path, const std::vector<std::uint64_t>& shape,
                 const std::vector<std::string>& dims, bool series);
// `shape`, or {n} when it is empty; refuses a shape that does not hold n values.
std::vector<std::uint64_t> resolve_shape(const std::string& file, const std::string& ds_path, std::size_t n,
                                         std::vector<std::uint64_t> shape);
// Creates the extendible dataset of a series (first axis unlimited, chunked, compressed).
handle create_series(file_state& fs, const std::string& group_path, const std::string& name,
                     const std::vector<std::uint64_t>& row_shape);

}  // namespace detail

}  // namespace amari::store
