#pragma once
// The HDF5 store: the one place in amari that talks to HDF5 (RAII over the C API; no HDF5 header
// leaks out of src/io/store/). Layout and conventions are documented in docs/FORMAT.md.
//
//   auto f = store::file::create("run.h5", {.command_line = ..., .config_toml = ..., .seed = 1,
//                                           .product = "simulate"});
//   auto g = f.group_at("/trajectory");
//   auto t = g.make_series_scale("t", {.description = "time", .units = "leak time constants"});
//   auto q = g.make_series("q", {}, {.description = "population variance of h", .dims = {"t"}});
//   ... t.append(time); q.append(value); f.flush_if_due(); ...
//   f.finish("complete");
//
// Conventions: time is the first axis of every time series; a dimension is named by the scale
// dataset of the same name in the same group (or an ancestor), so xarray and netCDF readers see
// named dimensions; every dataset carries `description` and, where it has one, `units`.
//
// Crash safety (docs/FORMAT.md, "Crash safety, interruption and resume"): series rows are buffered
// here and reach the file only at flush(); between flushes HDF5 writes no metadata (the metadata
// cache does not evict) and never reuses file space that the last flush referenced, so a run
// killed at any moment (even SIGKILL) leaves a file that opens and holds every sample up to the
// last flush. The checkpoint (class checkpoint) is committed atomically with the series rows of
// the same flush.
//
// Not thread-safe: use one file (and its groups and series) from one thread at a time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace amari::store {

// The layout version written as the root attribute `format_version`. Readers refuse newer files.
// 2: the checkpoint of amari simulate holds streaming accumulators of fixed size instead of the
// stationary window, and the standard errors are labelled (`sem_over`); docs/FORMAT.md, "Versions".
// 3: the /sweep group of `amari sweep`; `amari simulate --json` (and a sweep's results) gain the
// stationary m, q and phi_mean with their errors.
// 4: the /network group (`amari network`; where a simulation's W and b came from, with checksums).
// 5: `amari simulate` records weight_precision and accumulation (the storage of W).
// 6: the /finite group (`amari finite`); /deepnet gains the `inputs` attribute and, with --widths,
// the `width` axis and the [width, layer] measurements.
// 7: `amari sweep --keep`: each grid point's product in /sweep/points/<k>/product, attribute keep.
// 8: /compare/table gains the `mean_field` column and the finite-width rows; /finite gains
// lambda_shift and the correlation-depth attributes (c_star, chi_c, xi_c and their 1/n shifts);
// /deepnet the `tied` attribute.
inline constexpr std::int64_t format_version = 9;

struct file_options {
  bool force = false;           // overwrite an existing file (otherwise: refuse)
  std::string command_line{};   // root attribute `command_line`
  std::string config_toml{};    // root attribute `config` (the resolved configuration as TOML)
  std::optional<std::uint64_t> seed{};  // root attribute `seed`, when the product is random
  std::string product{};        // root attribute `product`: "simulate", "maps", ... (the command)
  int compression = 4;          // deflate level 0-9 for chunked datasets (0: none)
  double flush_interval = 10.0;  // seconds of wall time between flushes by flush_if_due() (> 0)
};

struct dataset_meta {
  // (Default member initializers let callers name only the fields they set, {.description = ...},
  // without -Wmissing-field-initializers.)
  std::string description{};        // attribute `description` (required)
  std::string units{};              // attribute `units` (omitted when empty)
  std::vector<std::string> dims{};  // one name per axis: the scale datasets to attach (or empty)
};

// An attribute as read back (inspect): scalars have an empty shape.
struct attribute {
  enum class kind { text, real, integer, unsigned_integer, other };
  std::string name;
  kind type = kind::other;
  std::vector<std::uint64_t> shape;
  std::vector<std::string> text;        // kind::text
  std::vector<double> reals;            // kind::real
  std::vector<std::int64_t> integers;   // kind::integer
  std::vector<std::uint64_t> unsigneds; // kind::unsigned_integer
};

// What a dataset or group is (inspect).
struct object_info {
  std::string path;                 // absolute
  bool is_group = false;
  std::string type;                 // datasets: "float64", "float32", "int64", "int32", "uint64",
                                    // "uint8", ..., "string", or "other"
  std::vector<std::uint64_t> shape;  // datasets; empty for a scalar
  std::vector<std::string> dims;    // per axis: the name of the attached scale ("" if none)
  bool is_scale = false;            // a dimension scale (coordinate)
  bool extendible = false;          // chunked with an unlimited first axis (a series)
  std::vector<attribute> attributes;  // the dimension-scale bookkeeping attributes left out
};

class group;
class file;
struct file_state;

// An appendable dataset whose first axis is time (or another growing index): chunked, extendible,
// compressed. Rows are buffered in memory and reach the file at the next flush of the file. The
// file keeps the buffered rows even when this handle is dropped.
class series {
 public:
  series() = default;
  // Appends one row (row_size() values; a scalar series has row size 1).
  void append(std::span<const double> row);
  void append(double value) { append(std::span<const double>(&value, 1)); }
  // Appends several rows at once (a multiple of row_size() values, row-major).
  void append_rows(std::span<const double> rows);
  std::uint64_t rows() const;       // rows appended so far (written or buffered)
  std::size_t row_size() const;
  const std::vector<std::uint64_t>& row_shape() const;
  const std::string& path() const;  // absolute path of the dataset
  // Drops rows from the end so that `rows` remain (resume: back to the checkpoint). Never grows.
  void truncate(std::uint64_t rows);
  explicit operator bool() const { return static_cast<bool>(impl_); }

  struct impl;

 private:
  friend class group;
  friend class file;
  std::shared_ptr<impl> impl_;
};

// A group of the file. Cheap to copy; it refers to the file, which must stay open while it is used.
class group {
 public:
  group() = default;
  const std::string& path() const;

  // Whole datasets. `shape` empty means one-dimensional of data.size(); otherwise row-major with
  // product(shape) == data.size(). 0-dimensional values: write_scalar. Refuses an existing name
  // (see rewrite). Large datasets are chunked and compressed.
  void write(const std::string& name, std::span<const double> data, const dataset_meta& meta,
             std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, std::span<const std::int64_t> data, const dataset_meta& meta,
             std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, const std::vector<std::string>& data, const dataset_meta& meta);
  void write_scalar(const std::string& name, double value, const dataset_meta& meta);
  void write_scalar(const std::string& name, std::int64_t value, const dataset_meta& meta);
  // Overwrites an existing dataset in place with data of the same size and type (no new file space
  // is used). Not atomic with respect to a crash: for state that must survive a crash consistently,
  // use the checkpoint.
  void rewrite(const std::string& name, std::span<const double> data);
  void rewrite(const std::string& name, std::span<const std::int64_t> data);
  // A coordinate axis (a dimension scale) named `name`, e.g. "layer", "sigma_w", "neuron".
  // meta.dims is ignored: a scale's own dimension is itself.
  void write_scale(const std::string& name, std::span<const double> data, const dataset_meta& meta);
  void write_scale(const std::string& name, std::span<const std::int64_t> data, const dataset_meta& meta);

  // An appendable series with rows of shape row_shape (empty: scalar rows); meta.dims (if given)
  // names every axis: dims[0] is usually an appendable scale made with make_series_scale(), the
  // others fixed scales made with write_scale() (they must exist already and have the row's size).
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
  void attr(const std::string& name, const char* value) { attr(name, std::string(value)); }
  void attr(const std::string& name, std::span<const double> values);
  bool has_attr(const std::string& name) const;
  double attr_double(const std::string& name) const;
  std::int64_t attr_int(const std::string& name) const;
  std::string attr_string(const std::string& name) const;
  std::vector<double> attr_doubles(const std::string& name) const;
  void remove_attr(const std::string& name);  // no-op when absent
  // Attributes of a dataset (or subgroup) `object` of this group.
  void attr_of(const std::string& object, const std::string& name, double value);
  void attr_of(const std::string& object, const std::string& name, std::int64_t value);
  void attr_of(const std::string& object, const std::string& name, const std::string& value);
  void attr_of(const std::string& object, const std::string& name, std::span<const double> values);
  bool has_attr_of(const std::string& object, const std::string& name) const;
  double attr_double_of(const std::string& object, const std::string& name) const;
  std::int64_t attr_int_of(const std::string& object, const std::string& name) const;
  std::string attr_string_of(const std::string& object, const std::string& name) const;

  // Reading. Buffered series rows are written to the file first (without flushing it).
  bool has(const std::string& name) const;  // a dataset or group of that name (relative path)
  std::vector<std::uint64_t> shape(const std::string& name) const;
  std::vector<double> read_doubles(const std::string& name) const;  // any numeric type, as double
  std::vector<std::int64_t> read_ints(const std::string& name) const;
  std::vector<std::string> read_strings(const std::string& name) const;
  // Rows [first, first + count) along the first axis, row-major, as double.
  std::vector<double> read_rows(const std::string& name, std::uint64_t first, std::uint64_t count) const;
  std::vector<std::string> children() const;  // names of datasets and groups, sorted
  group subgroup(const std::string& name);  // opens (creating if writable) a child group

  struct impl;

 private:
  friend class file;
  friend class checkpoint;
  std::shared_ptr<impl> impl_;
};

// The state a resumable run needs, kept in /checkpoint and committed atomically with the series
// rows of a flush (docs/FORMAT.md). Writes are staged in memory and reach the file at the next
// flush(); reads see the last committed checkpoint. Two slots (/checkpoint/slot_a, slot_b) are
// written alternately, so that the previous checkpoint stays intact while the next is written.
// Keep the shape of each dataset from one flush to the next (a changed shape re-creates it).
class checkpoint {
 public:
  checkpoint() = default;
  // Staged for the next flush (replacing what was staged under the same name).
  void write(const std::string& name, std::span<const double> data, std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, std::span<const std::int64_t> data, std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, std::span<const std::uint64_t> data, std::vector<std::uint64_t> shape = {});
  void write(const std::string& name, double value);
  void write(const std::string& name, std::int64_t value);
  void write(const std::string& name, const std::string& text);
  bool staged() const;  // something is waiting for the next flush

  // The last committed checkpoint (false when there is none).
  bool exists() const;
  bool has(const std::string& name) const;
  std::vector<std::uint64_t> shape(const std::string& name) const;
  std::vector<double> read_doubles(const std::string& name) const;
  std::vector<std::int64_t> read_ints(const std::string& name) const;
  std::vector<std::uint64_t> read_uints(const std::string& name) const;
  double read_double(const std::string& name) const;
  std::int64_t read_int(const std::string& name) const;
  std::string read_string(const std::string& name) const;
  // How many rows the series at `series_path` had when the checkpoint was committed.
  std::uint64_t series_rows(const std::string& series_path) const;
  std::int64_t flush_index() const;  // which flush committed it (1, 2, ...)

  struct impl;

 private:
  friend class file;
  std::shared_ptr<file_state> state_;
};

class file {
 public:
  // Creates a new amari file with the root attributes (amari version, git describe, UTC creation
  // time, command line, config, seed, product, format_version, status = "running"). Refuses, with
  // an IoError naming the path and the reason, an existing file without `force`, a missing
  // directory, an unwritable path.
  static file create(const std::string& path, const file_options& options);
  // Opens an amari file for reading; refuses files that are not amari files or are of a newer
  // format version (IoError saying which). Works on the file of a running or killed run.
  static file open_read(const std::string& path);
  // Opens any HDF5 file read-only, amari's or not (the user's input arrays: --weights, --bias).
  static file open_read_hdf5(const std::string& path);
  // Opens an amari file for appending (resume): status becomes "running" again. `options` supplies
  // the compression and flush interval (the root attributes of the file are kept).
  static file open_append(const std::string& path, const file_options& options = {});

  // Checks, without creating anything, that `path` could be created: IoError otherwise.
  static void check_writable(const std::string& path, bool force);

  file();
  file(file&&) noexcept;
  file& operator=(file&&) noexcept;
  ~file();  // flushes and closes; marks a still "running" file "failed"; never throws

  const std::string& path() const;
  bool writable() const;
  group root();
  // Opens the group at an absolute path ("/trajectory"), creating it (and parents) if writable.
  group group_at(const std::string& path);
  bool has(const std::string& path) const;
  object_info info(const std::string& path) const;  // a dataset or group at an absolute path

  // Writes every buffered series row, the staged checkpoint and all metadata to disk. After it
  // returns, a crash loses nothing written before.
  void flush();
  // True when flush_interval seconds of wall time have passed since the last flush.
  bool flush_due() const;
  // Flushes if due; returns whether it flushed.
  bool flush_if_due();
  std::uint64_t flush_count() const;  // flushes since the file was opened
  // Whether the last flush stored the file's new end in the superblock before writing anything
  // else (docs/FORMAT.md, "Crash safety"); false only for a superblock other than HDF5's version 2.
  bool last_flush_hardened() const;

  // Root attribute `status`: "running", "complete", "interrupted", "failed". Reaches the disk
  // with the next flush.
  void set_status(const std::string& status);
  std::string status() const;
  // set_status(status) then flush(): what a command calls when it ends, normally ("complete") or
  // on SIGINT/SIGTERM ("interrupted", before throwing amari::Interrupted).
  void finish(const std::string& status);

  // The checkpoint of a resumable run (staging on a writable file; the committed one for reading).
  store::checkpoint checkpoint();
  // Truncates every series recorded in the committed checkpoint to its checkpointed length
  // (resume); IoError when the file has no usable checkpoint.
  void rewind_to_checkpoint();

  void close();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace amari::store
