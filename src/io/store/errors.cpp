// Error capture and small helpers of the store (src/io/store/internal.hpp).
//
// Two patterns throughout the store: a handle object owns each hid_t and closes it in a destructor
// that never throws; every C call is checked by ck(), which turns a failure into an amari::IoError
// naming the file, what was being done and the innermost reason on the HDF5 error stack (whose
// automatic printing is switched off).
#include <algorithm>
#include <ctime>
#include <numeric>

#include "internal.hpp"

namespace amari::store::detail {

namespace {
herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(e && e->desc ? e->desc : "");
  return 0;
}
}  // namespace

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

handle fixed_string_type(const std::string& file, std::size_t n) {
  handle t(ck(H5Tcopy(H5T_C_S1), file, "cannot make a string type"));
  ck(H5Tset_size(t.get(), std::max<std::size_t>(n, 1)), file, "cannot make a string type");
  ck(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), file, "cannot make a string type");
  ck(H5Tset_cset(t.get(), H5T_CSET_UTF8), file, "cannot make a string type");
  return t;
}

handle simple_space(const std::string& file, const std::vector<std::uint64_t>& dims,
                    const std::vector<std::uint64_t>& maxdims) {
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

void no_times(const std::string& file, hid_t plist) {
  ck(H5Pset_obj_track_times(plist, 0), file, "cannot set creation properties");
}

}  // namespace amari::store::detail
