// The HDF5 store (include/amari/io/store.hpp): every HDF5 call of amari lives in this file.
//
// Two patterns throughout: a handle object owns each hid_t and closes it in a destructor that never
// throws; every C call is checked by ck(), which turns a failure into an amari::IoError naming the
// file, what was being done and the innermost reason on the HDF5 error stack (whose automatic
// printing is switched off).
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
// overwritten with anything but the same values.
#include "amari/io/store.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <numeric>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <utility>
#include <variant>

#include "amari/core/error.hpp"
#include "amari/core/version.hpp"

namespace amari::store {

namespace {

// ---------------------------------------------------------------------------------------------
// Errors

// The HDF5 error stack is per thread in a thread-safe build: silence it in each thread that
// calls us, once. Before the first HDF5 call of the process, HDF5's exit handler is switched off:
// it would close files left open, and a file whose writes failed (full disk) cannot be closed by
// HDF5 1.10 without crashing (see file_state::close). Every file we open is closed by its owner.
void silence() {
  static const bool no_atexit = [] {
    H5dont_atexit();
    return true;
  }();
  (void)no_atexit;
  thread_local bool done = false;
  if (!done) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    done = true;
  }
}

herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(e && e->desc ? e->desc : "");
  return 0;
}

// The most telling message on the HDF5 error stack (a system error if there is one, else the
// innermost description); clears the stack.
std::string hdf5_reason() {
  std::vector<std::string> descs;  // innermost first
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &descs);
  H5Eclear2(H5E_DEFAULT);
  for (const auto& d : descs) {
    const std::string key = "error message = '";
    if (auto p = d.find(key); p != std::string::npos) {
      auto q = d.find('\'', p + key.size());
      std::string sys = d.substr(p + key.size(), q == std::string::npos ? std::string::npos : q - p - key.size());
      if (sys.find("File too large") != std::string::npos || sys.find("No space left") != std::string::npos)
        sys += " (the disk is full or a file size limit was reached)";
      return sys;
    }
  }
  for (const auto& d : descs)
    if (!d.empty()) return d;
  return "unknown HDF5 error";
}

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
// Small helpers

std::string join_path(const std::string& group, const std::string& name) {
  if (name.starts_with('/')) return name;
  if (group.empty() || group == "/") return "/" + name;
  return group + "/" + name;
}

std::string parent_of(const std::string& path) {
  auto p = path.find_last_of('/');
  if (p == std::string::npos || p == 0) return "/";
  return path.substr(0, p);
}

std::string base_of(const std::string& path) {
  auto p = path.find_last_of('/');
  return p == std::string::npos ? path : path.substr(p + 1);
}

std::string utc_now_iso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::uint64_t product_of(const std::vector<std::uint64_t>& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::uint64_t{1}, std::multiplies<>());
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  return fmt::format("({})", fmt::join(shape, ", "));
}

handle string_type(const std::string& file) {
  handle t(ck(H5Tcopy(H5T_C_S1), file, "cannot make a string type"));
  ck(H5Tset_size(t.get(), H5T_VARIABLE), file, "cannot make a string type");
  ck(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "cannot make a string type");
  return t;
}

// A fixed-length string type of n bytes (n >= 1), for checkpoint text (kept out of the global heap,
// so that rewriting it is a raw-data write like any other checkpoint dataset).
handle fixed_string_type(const std::string& file, std::size_t n) {
  handle t(ck(H5Tcopy(H5T_C_S1), file, "cannot make a string type"));
  ck(H5Tset_size(t.get(), std::max<std::size_t>(n, 1)), file, "cannot make a string type");
  ck(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), file, "cannot make a string type");
  ck(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "cannot make a string type");
  return t;
}

handle simple_space(const std::string& file, const std::vector<std::uint64_t>& dims,
                    const std::vector<std::uint64_t>& maxdims = {}) {
  if (dims.empty()) return handle(ck(H5Screate(H5S_SCALAR), file, "cannot make a dataspace"));
  std::vector<hsize_t> d(dims.begin(), dims.end());
  std::vector<hsize_t> m(maxdims.begin(), maxdims.end());
  return handle(ck(H5Screate_simple(static_cast<int>(d.size()), d.data(), m.empty() ? nullptr : m.data()),
                   file, "cannot make a dataspace"));
}

std::vector<std::uint64_t> space_dims(const std::string& file, hid_t space) {
  int rank = ck(H5Sget_simple_extent_ndims(space), file, "cannot read a dataspace");
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  if (rank > 0) ck(H5Sget_simple_extent_dims(space, d.data(), nullptr), file, "cannot read a dataspace");
  return {d.begin(), d.end()};
}

// Object creation properties shared by groups and datasets: no access/modification times (they
// would change the object header at every write and make otherwise identical files differ).
void no_times(const std::string& file, hid_t plist) {
  ck(H5Pset_obj_track_times(plist, 0), file, "cannot set creation properties");
}

// ---------------------------------------------------------------------------------------------
// Attributes on any object

void write_attr_raw(const std::string& file, hid_t obj, const std::string& name, hid_t ftype, hid_t mtype,
                    hid_t space, const void* buf) {
  if (ck(H5Aexists(obj, name.c_str()), file, "cannot check attribute '{}'", name) > 0)
    ck(H5Adelete(obj, name.c_str()), file, "cannot replace attribute '{}'", name);
  handle a(ck(H5Acreate2(obj, name.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT), file,
              "cannot create attribute '{}'", name));
  ck(H5Awrite(a.get(), mtype, buf), file, "cannot write attribute '{}'", name);
}

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
void write_attr(const std::string& file, hid_t obj, const std::string& name, std::span<const double> v) {
  handle s = simple_space(file, {v.size()});
  write_attr_raw(file, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, s.get(), v.data());
}

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

herr_t collect_name(hid_t, const char* name, const H5A_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

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

// ---------------------------------------------------------------------------------------------
// The superblock's end-of-allocation address, written ahead of a flush

// Bob Jenkins' lookup3 hash ("hashlittle", byte-wise form; public domain, 2006), which the HDF5 file
// format uses as the checksum of version-2 superblocks (HDF5 file format specification, "Superblock
// Checksum"). Written here because HDF5 does not export it; checked against the stored checksum of
// the file's own superblock before it is ever used to write one.
std::uint32_t lookup3(const unsigned char* k, std::size_t length) {
  auto rot = [](std::uint32_t x, int r) { return (x << r) | (x >> (32 - r)); };
  std::uint32_t a, b, c;
  a = b = c = 0xdeadbeefu + static_cast<std::uint32_t>(length);
  auto word = [&](std::size_t i) {
    return std::uint32_t(k[i]) | std::uint32_t(k[i + 1]) << 8 | std::uint32_t(k[i + 2]) << 16 |
           std::uint32_t(k[i + 3]) << 24;
  };
  while (length > 12) {
    a += word(0);
    b += word(4);
    c += word(8);
    a -= c; a ^= rot(c, 4);  c += b;
    b -= a; b ^= rot(a, 6);  a += c;
    c -= b; c ^= rot(b, 8);  b += a;
    a -= c; a ^= rot(c, 16); c += b;
    b -= a; b ^= rot(a, 19); a += c;
    c -= b; c ^= rot(b, 4);  b += a;
    length -= 12;
    k += 12;
  }
  if (length == 0) return c;
  std::uint32_t tail[3] = {0, 0, 0};
  for (std::size_t i = 0; i < length; ++i) tail[i / 4] |= std::uint32_t(k[i]) << (8 * (i % 4));
  a += tail[0];
  b += tail[1];
  c += tail[2];
  c ^= b; c -= rot(b, 14);
  a ^= c; a -= rot(c, 11);
  b ^= a; b -= rot(a, 25);
  c ^= b; c -= rot(b, 16);
  a ^= c; a -= rot(c, 4);
  b ^= a; b -= rot(a, 14);
  c ^= b; c -= rot(b, 24);
  return c;
}

std::uint64_t le64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

void put_le(unsigned char* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

// Sets the end-of-allocation address stored in the file's version-2 superblock to at least
// `eoa` (relative to the base address), after extending the file to that length. HDF5 writes the
// superblock last in a flush, so without this a kill in the middle of a flush can leave a chunk
// index on disk that points past the stored end of the file ("addr overflow": the whole dataset
// unreadable). Returns false, changing nothing, if the superblock is not the expected version 2
// with 8-byte addresses and a checksum we reproduce.
bool raise_stored_eoa(int fd, std::uint64_t eoa) {
  unsigned char sb[48];
  if (::pread(fd, sb, sizeof sb, 0) != static_cast<ssize_t>(sizeof sb)) return false;
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (std::memcmp(sb, signature, 8) != 0 || sb[8] != 2 || sb[9] != 8 || sb[10] != 8) return false;
  const std::uint32_t stored = std::uint32_t(sb[44]) | std::uint32_t(sb[45]) << 8 | std::uint32_t(sb[46]) << 16 |
                               std::uint32_t(sb[47]) << 24;
  if (lookup3(sb, 44) != stored) return false;
  const std::uint64_t base = le64(sb + 12);
  if (le64(sb + 28) >= eoa) return true;
  struct stat st{};
  if (::fstat(fd, &st) != 0) return false;
  if (static_cast<std::uint64_t>(st.st_size) < base + eoa &&
      ::ftruncate(fd, static_cast<off_t>(base + eoa)) != 0)
    return false;
  put_le(sb + 28, eoa, 8);
  put_le(sb + 44, lookup3(sb, 44), 4);
  return ::pwrite(fd, sb, sizeof sb, 0) == static_cast<ssize_t>(sizeof sb);
}

// ---------------------------------------------------------------------------------------------
// Chunking

// Chunks of about 8 KiB: large enough to compress well and read fast, small enough that the
// partial last chunk, which is compressed again at every flush, costs little.
constexpr std::uint64_t chunk_target_bytes = 8 * 1024;

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

// Whole datasets above this size are chunked and compressed; smaller ones are contiguous.
constexpr std::uint64_t compress_above_bytes = 64 * 1024;

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

}  // namespace

// =============================================================================================
// File state, shared by the file, its groups, series and checkpoint

struct series::impl {
  file_state* fs = nullptr;  // null once the file is closed
  handle ds;
  std::string path;
  std::vector<std::uint64_t> row_shape;
  std::size_t row_size = 1;
  std::uint64_t written = 0;    // rows in the file
  std::vector<double> pending;  // rows appended since, row-major

  std::uint64_t rows() const { return written + pending.size() / row_size; }
  void write_pending(const std::string& file);
};

struct staged_item {
  std::variant<std::vector<double>, std::vector<std::int64_t>, std::vector<std::uint64_t>, std::string> data;
  std::vector<std::uint64_t> shape;  // empty: a scalar (or a string)
};

struct file_state {
  std::string path;
  handle fid;
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

  bool exists(const std::string& abs) const {
    if (abs == "/") return true;
    // Check each component (H5Lexists fails on a missing intermediate group).
    std::string sofar;
    std::size_t pos = 1;
    while (pos <= abs.size()) {
      auto next = abs.find('/', pos);
      if (next == std::string::npos) next = abs.size();
      sofar = abs.substr(0, next);
      htri_t e = H5Lexists(id(), sofar.c_str(), H5P_DEFAULT);
      if (e <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return false;
      }
      pos = next + 1;
    }
    return true;
  }

  bool is_group(const std::string& abs) const {
    if (!exists(abs)) return false;
    handle o(H5Oopen(id(), abs.c_str(), H5P_DEFAULT));
    if (!o) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    return H5Iget_type(o.get()) == H5I_GROUP;
  }

  handle open_group(const std::string& abs) const {
    require_open();
    return handle(ck(H5Gopen2(id(), abs.c_str(), H5P_DEFAULT), path, "cannot open group '{}'", abs));
  }

  handle open_or_create_group(const std::string& abs) {
    require_open();
    if (exists(abs)) {
      if (!is_group(abs)) refuse(path, "'{}' is a dataset, not a group", abs);
      return open_group(abs);
    }
    if (!writable) refuse(path, "there is no group '{}'", abs);
    handle lcpl(ck(H5Pcreate(H5P_LINK_CREATE), path, "cannot create group '{}'", abs));
    ck(H5Pset_create_intermediate_group(lcpl.get(), 1), path, "cannot create group '{}'", abs);
    handle gcpl(ck(H5Pcreate(H5P_GROUP_CREATE), path, "cannot create group '{}'", abs));
    no_times(path, gcpl.get());
    return handle(ck(H5Gcreate2(id(), abs.c_str(), lcpl.get(), gcpl.get(), H5P_DEFAULT), path,
                     "cannot create group '{}'", abs));
  }

  handle open_dataset(const std::string& abs) const {
    require_open();
    if (!exists(abs)) refuse(path, "there is no dataset '{}'", abs);
    return handle(ck(H5Dopen2(id(), abs.c_str(), H5P_DEFAULT), path, "cannot open dataset '{}'", abs));
  }

  void write_all_pending() {
    if (!writable || !open) return;
    for (auto& s : all_series) s->write_pending(path);
  }

  void set_root_attr(const std::string& name, const std::string& value) {
    write_attr(path, id(), name, value);
  }

  void commit_checkpoint();
  void check_space();
  void flush();
  void close(bool mark_failed) noexcept;
  std::string choose_slot() const;  // the committed slot to read ("" if none usable)
};

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

void write_meta(file_state& fs, hid_t ds, const std::string& ds_path, const dataset_meta& meta) {
  if (meta.description.empty())
    refuse(fs.path, "dataset '{}' needs a description (attribute `description`)", ds_path);
  write_attr(fs.path, ds, "description", meta.description);
  if (!meta.units.empty()) write_attr(fs.path, ds, "units", meta.units);
}

// Attaches meta.dims to the axes of `ds`. For a series the first axis grows, so only the other axes
// are checked against their scale's length.
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

std::vector<std::uint64_t> resolve_shape(const std::string& file, const std::string& ds_path, std::size_t n,
                                         std::vector<std::uint64_t> shape) {
  if (shape.empty()) return {n};
  if (product_of(shape) != n)
    refuse(file, "dataset '{}': shape {} holds {} values but {} were given", ds_path, shape_text(shape),
           product_of(shape), n);
  return shape;
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

}  // namespace

// ---------------------------------------------------------------------------------------------
// Checkpoint commit and choice

namespace {

constexpr const char* checkpoint_root = "/checkpoint";
const char* const slot_names[2] = {"slot_a", "slot_b"};

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
  write_attr(path, root.get(), "current", slot);
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

// Refuses to start a flush that the disk (or the file size limit) may not have room for, so that a
// full disk stops the run between two flushes rather than in the middle of one. The estimate is an
// upper bound: the buffered rows uncompressed, each series' partial chunk written again, the staged
// checkpoint, and 1 MiB for metadata.
void file_state::check_space() {
  // For the test of what happens when a write fails nevertheless (tests/store_helper `fill`).
  static const bool disabled = std::getenv("AMARI_STORE_TEST_NO_SPACE_CHECK") != nullptr;
  if (disabled) return;
  std::uint64_t need = 1 << 20;
  for (const auto& s : all_series)
    if (!s->pending.empty()) need += 8 * (s->pending.size() + product_of(series_chunk(s->row_shape)));
  if (staged_dirty)
    for (const auto& [name, item] : staged)
      need += std::visit([](const auto& v) -> std::uint64_t { return v.size() * 8 + 64; }, item.data);
  std::uint64_t room = UINT64_MAX;
  struct statvfs sv{};
  if (::statvfs(path.c_str(), &sv) == 0) room = static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
  rlimit rl{};
  if (::getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    haddr_t eoa = 0;
    struct stat st{};
    std::uint64_t size = ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    if (H5Fget_eoa(id(), &eoa) >= 0) size = std::max<std::uint64_t>(size, eoa);
    H5Eclear2(H5E_DEFAULT);
    room = std::min<std::uint64_t>(room, rl.rlim_cur > size ? rl.rlim_cur - size : 0);
  }
  if (need > room)
    throw IoError(fmt::format("{}: cannot write: the disk is full or a file size limit was reached ({} bytes left, "
                              "the next flush needs up to {}); the file holds everything up to the last flush",
                              path, room, need));
}

void file_state::flush() {
  if (!writable || !open) return;
  if (broken) throw IoError(fmt::format("{}: an earlier write failed; the file holds what was flushed before", path));
  try {
    check_space();
    write_all_pending();
    commit_checkpoint();
    // Everything this flush references is allocated by now (but for metadata that HDF5 might
    // allocate while flushing, which our files do not need). Store that end in the superblock
    // first. No slack beyond it: HDF5 truncates the file to its own end during the flush, and the
    // stored end must never exceed the file's length (a plain open refuses a "truncated file").
    haddr_t eoa = 0;
    void* vfd = nullptr;
    if (H5Fget_eoa(id(), &eoa) >= 0 && H5Fget_vfd_handle(id(), H5P_DEFAULT, &vfd) >= 0 && vfd)
      stored_eoa_raised = raise_stored_eoa(*static_cast<int*>(vfd), eoa);
    H5Eclear2(H5E_DEFAULT);
    ck(H5Fflush(id(), H5F_SCOPE_GLOBAL), path, "cannot write");
    // Move the end of allocated space past everything the flush just referenced (see the top).
    ck(H5Fincrement_filesize(id(), 8), path, "cannot write");
  } catch (const IoError&) {
    broken = true;
    throw;
  }
  last_flush = std::chrono::steady_clock::now();
  ++flushes;
}

void file_state::close(bool mark_failed) noexcept {
  if (!open) return;
  if (writable) {
    try {
      if (mark_failed && status == "running") {
        set_root_attr("status", "failed");
        status = "failed";
      }
      flush();
    } catch (...) {
      // A destructor must not throw; the data written before the last successful flush is safe.
    }
  }
  if (broken) {
    // A write failed (full disk): HDF5 1.10 can neither write its dirty metadata nor drop it, and a
    // failed close frees the object but keeps its identifier. So nothing is closed: the identifiers
    // are left open until the process ends (HDF5's exit handler, which would close them, is off:
    // see silence()), and the file on disk stays exactly as its last good flush left it.
    for (auto& s : all_series) {
      (void)s->ds.release();
      s->fs = nullptr;
      s->pending.clear();
    }
    all_series.clear();
    (void)fid.release();
    open = false;
    return;
  }
  for (auto& s : all_series) {
    s->ds.reset();
    s->fs = nullptr;
    s->pending.clear();
  }
  all_series.clear();
  hid_t id = fid.release();
  if (id >= 0 && H5Fclose(id) < 0) H5Eclear2(H5E_DEFAULT);
  open = false;
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

// =============================================================================================
// group

struct group::impl {
  std::shared_ptr<file_state> fs;
  std::string path;
};

namespace {
group::impl& live(const std::shared_ptr<group::impl>& p) {
  if (!p) throw IoError("amari::store::group: used before it was opened (file::group_at)");
  p->fs->require_open();
  silence();
  return *p;
}
}  // namespace

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

// =============================================================================================
// file

struct file::impl {
  std::shared_ptr<file_state> fs;
};

namespace {

// File access properties of every file we write (see the top of this file).
handle write_fapl(const std::string& path) {
  handle fapl(ck(H5Pcreate(H5P_FILE_ACCESS), path, "cannot set file access properties"));
  ck(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V110), path, "cannot set file access properties");
  H5AC_cache_config_t mdc{};
  mdc.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  ck(H5Pget_mdc_config(fapl.get(), &mdc), path, "cannot set file access properties");
  mdc.evictions_enabled = 0;  // metadata reaches the disk only when we flush
  mdc.incr_mode = H5C_incr__off;
  mdc.flash_incr_mode = H5C_flash_incr__off;
  mdc.decr_mode = H5C_decr__off;
  ck(H5Pset_mdc_config(fapl.get(), &mdc), path, "cannot set file access properties");
  return fapl;
}

handle read_fapl(const std::string& path) {
  handle fapl(ck(H5Pcreate(H5P_FILE_ACCESS), path, "cannot set file access properties"));
  // Reading does not lock the file, so that `amari inspect` works on the file of a running run
  // (which changes only at its flushes).
  ck(H5Pset_file_locking(fapl.get(), 0, 1), path, "cannot set file access properties");
  return fapl;
}

std::string errno_text(int e) { return std::strerror(e); }

// Refuses a path whose file is held by another process that writes it (HDF5 takes an exclusive
// flock while a file is open for writing).
void refuse_if_locked(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int r = ::flock(fd, LOCK_SH | LOCK_NB);
  int e = errno;
  if (r == 0) ::flock(fd, LOCK_UN);
  ::close(fd);
  if (r != 0 && e == EWOULDBLOCK)
    throw IoError(fmt::format("{}: is being written by another process (a running amari?); not touched", path));
}

void check_readable_amari(const std::string& path, hid_t fid) {
  htri_t has = H5Aexists(fid, "format_version");
  if (has <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(fmt::format("{}: is an HDF5 file but not an amari file (no root attribute `format_version`)", path));
  }
  std::int64_t v = 0;
  try {
    v = attr_as_int(path, fid, "format_version", "/");
  } catch (const IoError&) {
    throw IoError(fmt::format("{}: is not an amari file (root attribute `format_version` is not an integer)", path));
  }
  if (v > format_version) {
    std::string by;
    if (H5Aexists(fid, "amari_version") > 0) {
      try {
        by = " by amari " + attr_as_string(path, fid, "amari_version", "/");
      } catch (const IoError&) {
      }
    }
    H5Eclear2(H5E_DEFAULT);
    throw IoError(fmt::format("{}: was written{} in format version {}, newer than this amari ({}) reads (up to {}); "
                              "use a newer amari",
                              path, by, v, amari::version(), format_version));
  }
  if (v < 1) throw IoError(fmt::format("{}: has format_version = {}, which no amari wrote", path, v));
}

void check_existing_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw IoError(fmt::format("{}: cannot open: {}", path, errno_text(errno)));
  if (S_ISDIR(st.st_mode)) throw IoError(fmt::format("{}: is a directory, not an amari file", path));
  if (::access(path.c_str(), R_OK) != 0) throw IoError(fmt::format("{}: cannot read: {}", path, errno_text(errno)));
  htri_t h5 = H5Fis_hdf5(path.c_str());
  if (h5 == 0) {
    H5Eclear2(H5E_DEFAULT);
    throw IoError(fmt::format("{}: is not an amari file (not an HDF5 file)", path));
  }
  if (h5 < 0) fail(path, "cannot open");
}

}  // namespace

file::file() = default;
file::file(file&&) noexcept = default;
file& file::operator=(file&& o) noexcept {
  if (this != &o) {
    if (impl_ && impl_->fs) impl_->fs->close(true);
    impl_ = std::move(o.impl_);
  }
  return *this;
}
file::~file() {
  if (impl_ && impl_->fs) impl_->fs->close(true);
}

void file::check_writable(const std::string& path, bool force) {
  namespace fsys = std::filesystem;
  if (path.empty()) throw IoError("output path is empty");
  fsys::path p(path);
  fsys::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT)
      throw IoError(fmt::format("{}: the directory '{}' does not exist", path, dir.string()));
    throw IoError(fmt::format("{}: cannot use the directory '{}': {}", path, dir.string(), errno_text(errno)));
  }
  if (!S_ISDIR(st.st_mode)) throw IoError(fmt::format("{}: '{}' is not a directory", path, dir.string()));
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw IoError(fmt::format("{}: is a directory", path));
    if (!S_ISREG(st.st_mode)) throw IoError(fmt::format("{}: is not a regular file; not replaced", path));
    if (!force) throw IoError(fmt::format("{}: exists already; pass --force to overwrite it", path));
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      throw IoError(fmt::format("{}: cannot replace it in '{}': {}", path, dir.string(), errno_text(errno)));
    refuse_if_locked(path);
    return;
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw IoError(fmt::format("{}: cannot write in the directory '{}': {}", path, dir.string(), errno_text(errno)));
}

file file::create(const std::string& path, const file_options& options) {
  silence();
  if (options.compression < 0 || options.compression > 9)
    throw InvalidArgument("compression", std::to_string(options.compression), "must be an integer in [0, 9]");
  if (!(options.flush_interval > 0))
    throw InvalidArgument("flush_interval", format_number(options.flush_interval), "must be a number > 0 (seconds)");
  check_writable(path, options.force);
  // With --force, the old file is unlinked rather than truncated: a process that still has it open
  // keeps its own copy, and HDF5 never truncates a file it then fails to lock.
  struct stat st{};
  if (options.force && ::stat(path.c_str(), &st) == 0 && ::unlink(path.c_str()) != 0)
    throw IoError(fmt::format("{}: cannot replace it: {}", path, errno_text(errno)));

  auto fs = std::make_shared<file_state>();
  fs->path = path;
  fs->options = options;
  handle fcpl(ck(H5Pcreate(H5P_FILE_CREATE), path, "cannot set file creation properties"));
  ck(H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_NONE, 0, 1), path, "cannot set file creation properties");
  handle fapl = write_fapl(path);
  fs->fid = handle(ck(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl.get()), path, "cannot create"));
  fs->writable = true;
  fs->open = true;
  try {
    const hid_t r = fs->id();
    write_attr(path, r, "format_version", format_version);
    write_attr(path, r, "amari_version", std::string(amari::version()));
    write_attr(path, r, "git_describe", std::string(amari::git_describe()));
    write_attr(path, r, "created", utc_now_iso8601());
    write_attr(path, r, "command_line", options.command_line);
    write_attr(path, r, "config", options.config_toml);
    if (options.seed) write_attr(path, r, "seed", *options.seed);
    write_attr(path, r, "product", options.product);
    write_attr(path, r, "status", std::string("running"));
    fs->status = "running";
    fs->flush();
    fs->flushes = 0;
  } catch (...) {
    fs->close(false);
    ::unlink(path.c_str());
    throw;
  }
  file f;
  f.impl_ = std::make_unique<impl>(impl{fs});
  return f;
}

file file::open_read(const std::string& path) {
  silence();
  check_existing_file(path);
  auto fs = std::make_shared<file_state>();
  fs->path = path;
  handle fapl = read_fapl(path);
  fs->fid = handle(ck(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path, "cannot open"));
  fs->open = true;
  check_readable_amari(path, fs->id());
  if (H5Aexists(fs->id(), "status") > 0) fs->status = attr_as_string(path, fs->id(), "status", "/");
  H5Eclear2(H5E_DEFAULT);
  file f;
  f.impl_ = std::make_unique<impl>(impl{fs});
  return f;
}

file file::open_append(const std::string& path, const file_options& options) {
  silence();
  if (options.compression < 0 || options.compression > 9)
    throw InvalidArgument("compression", std::to_string(options.compression), "must be an integer in [0, 9]");
  if (!(options.flush_interval > 0))
    throw InvalidArgument("flush_interval", format_number(options.flush_interval), "must be a number > 0 (seconds)");
  {
    // Validate read-only first, so that a file that is not ours is never opened for writing.
    file probe = open_read(path);
  }
  if (::access(path.c_str(), W_OK) != 0) throw IoError(fmt::format("{}: cannot write: {}", path, errno_text(errno)));
  refuse_if_locked(path);
  auto fs = std::make_shared<file_state>();
  fs->path = path;
  fs->options = options;
  handle fapl = write_fapl(path);
  fs->fid = handle(ck(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()), path, "cannot open for writing"));
  fs->writable = true;
  fs->open = true;
  // Continue the checkpoint sequence after the newest usable slot.
  fs->committed_slot = fs->choose_slot();
  if (!fs->committed_slot.empty()) {
    handle fi = fs->open_dataset(std::string(checkpoint_root) + "/" + fs->committed_slot + "/flush_index");
    ck(H5Dread(fi.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &fs->committed_index), path,
       "cannot read the checkpoint");
    // The other slot may hold a newer but unusable checkpoint: number past it.
    for (const char* slot : slot_names) {
      const std::string p = std::string(checkpoint_root) + "/" + slot + "/flush_index";
      if (slot == fs->committed_slot || !fs->exists(p)) continue;
      std::int64_t other = 0;
      handle d = fs->open_dataset(p);
      if (H5Dread(d.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &other) >= 0)
        fs->committed_index = std::max(fs->committed_index, other);
      H5Eclear2(H5E_DEFAULT);
    }
  }
  std::int64_t resumed = 0;
  if (H5Aexists(fs->id(), "resumed") > 0) resumed = attr_as_int(path, fs->id(), "resumed", "/");
  H5Eclear2(H5E_DEFAULT);
  write_attr(path, fs->id(), "resumed", resumed + 1);
  if (!options.command_line.empty()) write_attr(path, fs->id(), "resume_command_line", options.command_line);
  fs->set_root_attr("status", "running");
  fs->status = "running";
  file f;
  f.impl_ = std::make_unique<impl>(impl{fs});
  return f;
}

namespace {
file_state& live_file(const std::unique_ptr<file::impl>& p) {
  if (!p || !p->fs) throw IoError("amari::store::file: not open");
  p->fs->require_open();
  silence();
  return *p->fs;
}
}  // namespace

const std::string& file::path() const {
  static const std::string none;
  return impl_ && impl_->fs ? impl_->fs->path : none;
}

bool file::writable() const { return impl_ && impl_->fs && impl_->fs->open && impl_->fs->writable; }

group file::root() { return group_at("/"); }

group file::group_at(const std::string& path) {
  auto& fs = live_file(impl_);
  if (!path.starts_with('/')) throw IoError(fmt::format("{}: group path '{}' must be absolute", fs.path, path));
  std::string p = path.size() > 1 && path.ends_with('/') ? path.substr(0, path.size() - 1) : path;
  fs.open_or_create_group(p);
  group g;
  g.impl_ = std::make_shared<group::impl>(group::impl{impl_->fs, p});
  return g;
}

bool file::has(const std::string& path) const {
  auto& fs = live_file(impl_);
  return fs.exists(path);
}

object_info file::info(const std::string& path) const {
  auto& fs = live_file(impl_);
  fs.write_all_pending();
  if (!fs.exists(path)) refuse(fs.path, "there is no '{}'", path);
  object_info info;
  info.path = path;
  handle o(ck(H5Oopen(fs.id(), path.c_str(), H5P_DEFAULT), fs.path, "cannot open '{}'", path));
  info.is_group = H5Iget_type(o.get()) == H5I_GROUP;
  if (!info.is_group) {
    handle ty(ck(H5Dget_type(o.get()), fs.path, "cannot read '{}'", path));
    const std::size_t size = H5Tget_size(ty.get());
    switch (H5Tget_class(ty.get())) {
      case H5T_FLOAT: info.type = fmt::format("float{}", 8 * size); break;
      case H5T_INTEGER:
        info.type = fmt::format("{}int{}", H5Tget_sign(ty.get()) == H5T_SGN_NONE ? "u" : "", 8 * size);
        break;
      case H5T_STRING: info.type = "string"; break;
      default: info.type = "other";
    }
    handle sp(ck(H5Dget_space(o.get()), fs.path, "cannot read '{}'", path));
    info.shape = space_dims(fs.path, sp.get());
    std::vector<hsize_t> maxd(info.shape.size());
    if (!maxd.empty()) H5Sget_simple_extent_dims(sp.get(), nullptr, maxd.data());
    handle dcpl(ck(H5Dget_create_plist(o.get()), fs.path, "cannot read '{}'", path));
    info.extendible = H5Pget_layout(dcpl.get()) == H5D_CHUNKED && !maxd.empty() && maxd[0] == H5S_UNLIMITED;
    info.is_scale = H5DSis_scale(o.get()) > 0;
    for (std::size_t axis = 0; axis < info.shape.size(); ++axis) {
      std::string name;
      if (info.is_scale && info.shape.size() == 1) {
        name = base_of(path);
      } else if (H5DSget_num_scales(o.get(), static_cast<unsigned>(axis)) > 0) {
        auto visit = [](hid_t, unsigned, hid_t scale, void* data) -> herr_t {
          char buf[1024];
          ssize_t n = H5Iget_name(scale, buf, sizeof buf);
          if (n > 0) *static_cast<std::string*>(data) = base_of(std::string(buf, static_cast<std::size_t>(n)));
          return 1;  // the first scale names the axis
        };
        H5DSiterate_scales(o.get(), static_cast<unsigned>(axis), nullptr, visit, &name);
      }
      info.dims.push_back(name);
    }
    H5Eclear2(H5E_DEFAULT);
  }
  for (const auto& name : attribute_names(fs.path, o.get())) {
    if (name == "DIMENSION_LIST" || name == "REFERENCE_LIST" || (info.is_scale && (name == "CLASS" || name == "NAME")))
      continue;
    attribute a = read_attribute(fs.path, o.get(), name);
    if (a.type == attribute::kind::other) continue;
    info.attributes.push_back(std::move(a));
  }
  return info;
}

void file::flush() {
  if (!impl_ || !impl_->fs || !impl_->fs->open) return;
  silence();
  impl_->fs->flush();
}

bool file::flush_due() const {
  if (!impl_ || !impl_->fs || !impl_->fs->open || !impl_->fs->writable) return false;
  const auto& fs = *impl_->fs;
  const std::chrono::duration<double> since = std::chrono::steady_clock::now() - fs.last_flush;
  return since.count() >= fs.options.flush_interval;
}

bool file::flush_if_due() {
  if (!flush_due()) return false;
  flush();
  return true;
}

std::uint64_t file::flush_count() const { return impl_ && impl_->fs ? impl_->fs->flushes : 0; }
bool file::last_flush_hardened() const { return impl_ && impl_->fs && impl_->fs->stored_eoa_raised; }

void file::set_status(const std::string& status) {
  auto& fs = live_file(impl_);
  fs.require_writable();
  static const char* accepted[] = {"running", "complete", "interrupted", "failed"};
  if (std::find(std::begin(accepted), std::end(accepted), status) == std::end(accepted))
    throw InvalidArgument("status", status, "must be running, complete, interrupted or failed");
  fs.set_root_attr("status", status);
  fs.status = status;
}

std::string file::status() const { return impl_ && impl_->fs ? impl_->fs->status : std::string(); }

void file::finish(const std::string& status) {
  set_status(status);
  flush();
}

checkpoint file::checkpoint() {
  live_file(impl_);
  store::checkpoint c;
  c.state_ = impl_->fs;
  return c;
}

void file::rewind_to_checkpoint() {
  auto& fs = live_file(impl_);
  fs.require_writable();
  if (fs.committed_slot.empty()) refuse(fs.path, "has no usable checkpoint to resume from");
  group cg = group_at(std::string(checkpoint_root) + "/" + fs.committed_slot);
  auto names = cg.read_strings("series");
  auto rows = cg.read_ints("series_rows");
  for (std::size_t i = 0; i < names.size(); ++i) {
    group g = group_at(parent_of(names[i]));
    series s = g.open_series(base_of(names[i]));
    s.truncate(static_cast<std::uint64_t>(rows[i]));
  }
}

void file::close() {
  if (!impl_ || !impl_->fs || !impl_->fs->open) return;
  silence();
  auto& fs = *impl_->fs;
  if (fs.writable) {
    // Unlike the destructor, close() reports a failure to write.
    fs.flush();
  }
  fs.close(false);
}

}  // namespace amari::store
