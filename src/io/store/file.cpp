// Files (src/io/store/internal.hpp): the state shared by a file and its groups, series and
// checkpoint (existence checks, opening groups and datasets, the room check before a flush, the
// flush with its superblock guard, close), and the file API of include/amari/io/store.hpp (create,
// open for reading or appending, status, info, flush).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "amari/core/version.hpp"
#include "internal.hpp"
#include "superblock.hpp"

namespace amari::store {

using namespace detail;

// =============================================================================================
// File state

bool file_state::exists(const std::string& abs) const {
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

bool file_state::is_group(const std::string& abs) const {
  if (!exists(abs)) return false;
  handle o(H5Oopen(id(), abs.c_str(), H5P_DEFAULT));
  if (!o) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return H5Iget_type(o.get()) == H5I_GROUP;
}

handle file_state::open_group(const std::string& abs) const {
  require_open();
  return handle(ck(H5Gopen2(id(), abs.c_str(), H5P_DEFAULT), path, "cannot open group '{}'", abs));
}

handle file_state::open_or_create_group(const std::string& abs) {
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

handle file_state::open_dataset(const std::string& abs) const {
  require_open();
  if (!exists(abs)) refuse(path, "there is no dataset '{}'", abs);
  return handle(ck(H5Dopen2(id(), abs.c_str(), H5P_DEFAULT), path, "cannot open dataset '{}'", abs));
}

void file_state::write_all_pending() {
  if (!writable || !open) return;
  for (auto& s : all_series) s->write_pending(path);
}

void file_state::set_root_attr(const std::string& name, const std::string& value) {
  write_attr(path, id(), name, value);
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
    // This patches HDF5's on-disk superblock by hand: superblock.hpp says what it depends on and
    // on which HDF5 release it was verified (pinned by tests/test_store_superblock.cpp).
    haddr_t eoa = 0;
    void* vfd = nullptr;
    if (H5Fget_eoa(id(), &eoa) >= 0 && H5Fget_vfd_handle(id(), H5P_DEFAULT, &vfd) >= 0 && vfd)
      stored_eoa_raised = raise_stored_eoa(*static_cast<int*>(vfd), eoa);
    H5Eclear2(H5E_DEFAULT);
    ck(H5Fflush(id(), H5F_SCOPE_GLOBAL), path, "cannot write");
    // Move the end of allocated space past everything the flush just referenced (internal.hpp, setting 4).
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
// file

struct file::impl {
  std::shared_ptr<file_state> fs;
};

namespace {

// File access properties of every file we write (internal.hpp, "Crash safety rests on four settings").
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
  file f = open_read_hdf5(path);
  file_state& fs = *f.impl_->fs;
  check_readable_amari(path, fs.id());
  if (H5Aexists(fs.id(), "status") > 0) fs.status = attr_as_string(path, fs.id(), "status", "/");
  H5Eclear2(H5E_DEFAULT);
  return f;
}

file file::open_read_hdf5(const std::string& path) {
  silence();
  check_existing_file(path);
  auto fs = std::make_shared<file_state>();
  fs->path = path;
  handle fapl = read_fapl(path);
  fs->fid = handle(ck(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), path, "cannot open"));
  fs->open = true;
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
