#pragma once
// The HDF5 store: the one place in amari that talks to HDF5 (RAII over the C API; no HDF5 header
// leaks out of src/store.cpp). Layout and conventions are documented in docs/FORMAT.md.
//
//   auto f = store::file::create("run.h5", {.force = false, .command_line = ..., .config_toml = ...,
//                                           .seed = 1});
//   auto g = f.group("/trajectory");
//   auto t = g.series("t", {}, {.description = "time", .units = "1/leak rate", .dims = {"t"}});
//   auto q = g.series("q", {}, {.description = "population variance of h", .dims = {"t"}});
//   ... t.append(time); q.append(value); ... f.flush();   // every flush interval
//   f.set_status("complete");
//
// Conventions: time is the first axis of every time series; a dimension is named by the scale
// dataset of the same name in the same group (or an ancestor), so xarray and netCDF readers see
// named dimensions; every dataset carries `description` and, where it has one, `units`.
// Files are written so that a run killed at any moment (even SIGKILL) leaves a file that opens and
// holds every sample up to the last flush (docs/FORMAT.md, "Crash safety").
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace amari::store {

// The layout version written as the root attribute `format_version`. Readers refuse newer files.
inline constexpr std::int64_t format_version = 1;

struct file_options {
  bool force = false;           // overwrite an existing file (otherwise: refuse)
  std::string command_line;     // root attribute `command_line`
  std::string config_toml;      // root attribute `config` (the resolved configuration as TOML)
  std::optional<std::uint64_t> seed;  // root attribute `seed`, when the product is random
  std::string product;          // root attribute `product`: "simulate", "maps", ... (the command)
  int compression = 4;          // deflate level 0-9 for chunked datasets (0: none)
};

struct dataset_meta {
  std::string description;        // attribute `description` (required)
  std::string units;              // attribute `units` (omitted when empty)
  std::vector<std::string> dims;  // one name per axis: the scale datasets to attach
};

class group;

// An appendable dataset whose first axis is time (or another growing index): chunked, extendible,
// compressed. Rows are buffered in memory and reach the file at the next flush of the file.
class series {
 public:
  series() = default;
  // Appends one row (row_size() values; a scalar series has row size 1).
  void append(std::span<const double> row);
  void append(double value) { append(std::span<const double>(&value, 1)); }
  std::uint64_t rows() const;       // rows appended so far (written or buffered)
  std::size_t row_size() const;
  explicit operator bool() const { return static_cast<bool>(impl_); }

  struct impl;

 private:
  friend class group;
  std::shared_ptr<impl> impl_;
};

// A group of the file (owns its handle).
class group {
 public:
  group() = default;
  const std::string& path() const;

  // Whole datasets. `shape` empty means one-dimensional of data.size(); otherwise row-major with
  // product(shape) == data.size().
  void write(const std::string& name, std::span<const double> data, const dataset_meta& meta,
             std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, std::span<const std::int64_t> data, const dataset_meta& meta,
             std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, const std::vector<std::string>& data, const dataset_meta& meta);
  // A coordinate axis (a dimension scale) named `name`, e.g. "t", "layer", "sigma_w".
  void write_scale(const std::string& name, std::span<const double> data, const dataset_meta& meta);

  // An appendable series with rows of shape row_shape (empty: scalar rows); its first dimension is
  // dims[0] of meta, usually an appendable scale created with series_scale().
  series make_series(const std::string& name, std::vector<std::uint64_t> row_shape,
                     const dataset_meta& meta);
  // An appendable one-dimensional scale (the time axis of series).
  series make_series_scale(const std::string& name, const dataset_meta& meta);
  // Reopens an existing series for appending (resume).
  series open_series(const std::string& name);

  // Attributes of the group.
  void attr(const std::string& name, double value);
  void attr(const std::string& name, std::int64_t value);
  void attr(const std::string& name, const std::string& value);
  void attr(const std::string& name, std::span<const double> values);
  bool has_attr(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::int64_t attr_int(const std::string& name) const;
  std::string attr_string(const std::string& name) const;
  std::vector<double> attr_doubles(const std::string& name) const;

  // Reading.
  bool has(const std::string& name) const;  // a dataset or group of that name (relative path)
  std::vector<std::uint64_t> shape(const std::string& name) const;
  std::vector<double> read_doubles(const std::string& name) const;  // any numeric type, as double
  std::vector<std::int64_t> read_ints(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  std::vector<std::string> children() const;  // names of datasets and groups, sorted

  struct impl;

 private:
  friend class file;
  std::shared_ptr<impl> impl_;
};

class file {
 public:
  // Creates a new amari file with the root attributes (amari version, git describe, UTC creation
  // time, command line, config, seed, format_version, status = "running"). Refuses, with an
  // IoError naming the path and the reason, an existing file without `force`, a missing directory,
  // an unwritable path.
  static file create(const std::string& path, const file_options& options);
  // Opens an amari file for reading; refuses files that are not amari files or are of a newer
  // format version (IoError saying which).
  static file open_read(const std::string& path);
  // Opens an amari file for appending (resume).
  static file open_append(const std::string& path);

  // Checks, without creating anything, that `path` could be created: IoError otherwise.
  static void check_writable(const std::string& path, bool force);

  file() = default;
  file(file&&) noexcept;
  file& operator=(file&&) noexcept;
  ~file();  // flushes and closes; never throws

  const std::string& path() const;
  group root();
  // Opens the group at an absolute path ("/trajectory"), creating it (and parents) if writable.
  group group_at(const std::string& path);
  bool has(const std::string& path) const;

  // Writes every buffered series row and all metadata to disk. After it returns, a crash loses
  // nothing written before.
  void flush();
  // Root attribute `status`: "running", "complete", "interrupted", "failed".
  void set_status(const std::string& status);
  void close();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace amari::store
