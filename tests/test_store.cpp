// The HDF5 store: round trips of every kind of dataset and attribute, dimension scales, series,
// checkpoints and resume, and the refusals (existing file, missing directory, not an amari file,
// newer format version), each checking that nothing was clobbered.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <unistd.h>

#include "amari/core/error.hpp"
#include "amari/io/inspect.hpp"
#include "amari/io/store.hpp"
#include "amari/core/version.hpp"
#include "store_test_util.hpp"

namespace st = amari::store;
using amari::test::read_bytes;
using amari::test::temp_dir;

namespace {

st::file_options opts() {
  st::file_options o;
  o.command_line = "amari simulate --n 10 -o 'x y.h5'";
  o.config_toml = "n = 10\nsigma_w = 1.5\n";
  o.seed = 18446744073709551557ull;  // above INT64_MAX: must survive as an unsigned 64-bit value
  o.product = "simulate";
  return o;
}

// The message of the IoError that `f` throws ("" if none).
template <class F>
std::string io_error_of(F&& f) {
  try {
    f();
  } catch (const amari::IoError& e) {
    return e.what();
  }
  return "";
}

const st::attribute* find_attr(const st::object_info& info, const std::string& name) {
  for (const auto& a : info.attributes)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("root attributes round-trip", "[store]") {
  temp_dir dir;
  const std::string path = dir / "run.h5";
  {
    auto f = st::file::create(path, opts());
    CHECK(f.status() == "running");
    f.finish("complete");
  }
  auto f = st::file::open_read(path);
  auto root = f.root();
  CHECK(root.attr_int("format_version") == st::format_version);
  CHECK(root.attr_string("amari_version") == std::string(amari::version()));
  CHECK(root.attr_string("git_describe") == std::string(amari::git_describe()));
  CHECK(root.attr_string("command_line") == opts().command_line);
  CHECK(root.attr_string("config") == opts().config_toml);
  CHECK(root.attr_string("product") == "simulate");
  CHECK(root.attr_string("status") == "complete");
  CHECK(f.status() == "complete");
  // ISO 8601 UTC: YYYY-MM-DDTHH:MM:SSZ. (Checked by hand: std::regex trips a false
  // -Wmaybe-uninitialized of g++ 12 in the sanitizer build.)
  const std::string created = root.attr_string("created");
  const std::string pattern = "dddd-dd-ddTdd:dd:ddZ";
  REQUIRE(created.size() == pattern.size());
  for (std::size_t i = 0; i < pattern.size(); ++i)
    CHECK((pattern[i] == 'd' ? std::isdigit(static_cast<unsigned char>(created[i])) != 0 : created[i] == pattern[i]));
  auto info = f.info("/");
  const auto* seed = find_attr(info, "seed");
  REQUIRE(seed);
  REQUIRE(seed->type == st::attribute::kind::unsigned_integer);
  CHECK(seed->unsigneds.at(0) == 18446744073709551557ull);
}

TEST_CASE("whole datasets, scales and attributes round-trip", "[store]") {
  temp_dir dir;
  const std::string path = dir / "maps.h5";
  const std::vector<double> sw{0.5, 1.0, 1.5};
  const std::vector<std::int64_t> layer{0, 1, 2, 3};
  std::vector<double> q(12);
  std::iota(q.begin(), q.end(), 0.25);
  {
    auto f = st::file::create(path, opts());
    auto g = f.group_at("/deepnet");
    g.write_scale("sigma_w", sw, {.description = "weight standard deviation", .units = "1"});
    g.write_scale("layer", layer, {.description = "layer index"});
    g.write("q", q, {.description = "length q^l", .units = "1", .dims = {"sigma_w", "layer"}}, {3, 4});
    g.write("labels", std::vector<std::string>{"ordered", "chaotic", "é-unicode"}, {.description = "labels"});
    g.write_scalar("chi1", 1.25, {.description = "chi_1"});
    g.write_scalar("n", std::int64_t{7}, {.description = "count"});
    g.attr("sigma_b", 0.05);
    g.attr("steps", std::int64_t{-3});
    g.attr("phi", std::string("tanh"));
    g.attr("range", std::vector<double>{1.0, 2.0});
    g.attr_of("q", "note", std::string("row-major"));
    // Large data is chunked and compressed and still round-trips.
    std::vector<double> big(50000);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::sin(0.001 * static_cast<double>(i));
    g.write("big", big, {.description = "large"});
    f.finish("complete");
  }
  auto f = st::file::open_read(path);
  auto g = f.group_at("/deepnet");
  CHECK(g.read_doubles("sigma_w") == sw);
  CHECK(g.read_ints("layer") == layer);
  CHECK(g.read_doubles("q") == q);
  CHECK(g.shape("q") == std::vector<std::uint64_t>{3, 4});
  CHECK(g.read_strings("labels") == std::vector<std::string>{"ordered", "chaotic", "é-unicode"});
  CHECK(g.read_doubles("chi1") == std::vector<double>{1.25});
  CHECK(g.shape("chi1").empty());
  CHECK(g.read_ints("n") == std::vector<std::int64_t>{7});
  CHECK(g.attr_double("sigma_b") == 0.05);
  CHECK(g.attr_int("steps") == -3);
  CHECK(g.attr_string("phi") == "tanh");
  CHECK(g.attr_doubles("range") == std::vector<double>{1.0, 2.0});
  CHECK(g.attr_string_of("q", "note") == "row-major");
  CHECK(g.attr_string_of("q", "description") == "length q^l");
  CHECK(g.attr_string_of("q", "units") == "1");
  CHECK_FALSE(g.has_attr_of("layer", "units"));
  CHECK(g.read_doubles("big").size() == 50000);
  CHECK(g.read_doubles("big")[31415] == std::sin(31.415));
  CHECK(g.children() == std::vector<std::string>{"big", "chi1", "labels", "layer", "n", "q", "sigma_w"});
  CHECK(g.read_rows("q", 1, 2) == std::vector<double>(q.begin() + 4, q.end()));

  auto info = f.info("/deepnet/q");
  CHECK_FALSE(info.is_group);
  CHECK(info.type == "float64");
  CHECK(info.dims == std::vector<std::string>{"sigma_w", "layer"});
  CHECK_FALSE(info.is_scale);
  CHECK_FALSE(info.extendible);
  REQUIRE(find_attr(info, "description"));
  CHECK_FALSE(find_attr(info, "DIMENSION_LIST"));
  auto sinfo = f.info("/deepnet/layer");
  CHECK(sinfo.is_scale);
  CHECK(sinfo.type == "int64");
  CHECK(sinfo.dims == std::vector<std::string>{"layer"});
  CHECK(f.info("/deepnet").is_group);
}

TEST_CASE("series: buffered rows reach the file at flush, with their scales", "[store]") {
  temp_dir dir;
  const std::string path = dir / "traj.h5";
  const std::size_t n_neurons = 5;
  {
    auto f = st::file::create(path, opts());
    auto g = f.group_at("/trajectory");
    std::vector<std::int64_t> idx(n_neurons);
    std::iota(idx.begin(), idx.end(), 0);
    g.write_scale("neuron", idx, {.description = "recorded neuron"});
    auto t = g.make_series_scale("t", {.description = "time", .units = "leak time constants"});
    auto m = g.make_series("m", {}, {.description = "population mean", .dims = {"t"}});
    auto h = g.make_series("h", {n_neurons}, {.description = "traces", .dims = {"t", "neuron"}});
    for (int k = 0; k < 3000; ++k) {
      t.append(0.1 * k);
      m.append(std::cos(0.1 * k));
      std::vector<double> row(n_neurons);
      for (std::size_t i = 0; i < n_neurons; ++i) row[i] = k + 0.001 * static_cast<double>(i);
      h.append(row);
      if (k % 700 == 0) f.flush();
    }
    CHECK(t.rows() == 3000);
    CHECK(f.last_flush_hardened());  // our lookup3 reproduces HDF5's superblock checksum
    CHECK(h.row_size() == n_neurons);
    CHECK(h.path() == "/trajectory/h");
    // A wrong row size is refused.
    CHECK_THROWS_AS(h.append(std::vector<double>(3)), amari::IoError);
    f.finish("complete");
  }
  auto f = st::file::open_read(path);
  auto g = f.group_at("/trajectory");
  auto t = g.read_doubles("t");
  auto m = g.read_doubles("m");
  auto h = g.read_doubles("h");
  REQUIRE(t.size() == 3000);
  REQUIRE(h.size() == 3000 * n_neurons);
  for (int k = 0; k < 3000; k += 97) {
    CHECK(t[k] == 0.1 * k);
    CHECK(m[k] == std::cos(0.1 * k));
    CHECK(h[k * n_neurons + 3] == k + 0.003);
  }
  auto info = f.info("/trajectory/h");
  CHECK(info.extendible);
  CHECK(info.shape == std::vector<std::uint64_t>{3000, n_neurons});
  CHECK(info.dims == std::vector<std::string>{"t", "neuron"});
  CHECK(f.info("/trajectory/t").is_scale);
  CHECK(f.info("/trajectory/m").dims == std::vector<std::string>{"t"});
  CHECK(g.read_rows("h", 2999, 1) == std::vector<double>{2999, 2999.001, 2999.002, 2999.003, 2999.004});
}

TEST_CASE("series: truncate, append_rows, reading before flush", "[store]") {
  temp_dir dir;
  const std::string path = dir / "s.h5";
  auto f = st::file::create(path, opts());
  auto g = f.group_at("/x");
  auto t = g.make_series_scale("t", {.description = "time"});
  auto v = g.make_series("v", {2}, {.description = "pairs"});
  t.append_rows(std::vector<double>{0, 1, 2, 3});
  v.append_rows(std::vector<double>{0, 0, 1, 1, 2, 2, 3, 3});
  CHECK(g.read_doubles("t") == std::vector<double>{0, 1, 2, 3});  // pending rows written first
  t.append(4);
  t.truncate(2);  // drops a written row and a buffered one
  v.truncate(3);
  CHECK(t.rows() == 2);
  f.flush();
  CHECK(g.read_doubles("t") == std::vector<double>{0, 1});
  CHECK(g.read_doubles("v") == std::vector<double>{0, 0, 1, 1, 2, 2});
  CHECK_THROWS_AS(v.append_rows(std::vector<double>{1, 2, 3}), amari::IoError);
  f.finish("complete");
  f.close();
  CHECK_THROWS_WITH(t.append(1.0), Catch::Contains("closed"));
}

TEST_CASE("dimension names must refer to existing scales of the right length", "[store]") {
  temp_dir dir;
  auto f = st::file::create(dir / "d.h5", opts());
  auto g = f.group_at("/a/b");
  f.root().write_scale("x", std::vector<double>{1, 2, 3}, {.description = "x"});
  // Found in an ancestor group.
  g.write("y", std::vector<double>{4, 5, 6}, {.description = "y", .dims = {"x"}});
  CHECK(f.info("/a/b/y").dims == std::vector<std::string>{"x"});
  CHECK_THAT(io_error_of([&] { g.write("z", std::vector<double>{1, 2}, {.description = "z", .dims = {"x"}}); }),
             Catch::Contains("has length 2 but the scale 'x' has shape (3)"));
  CHECK_THAT(io_error_of([&] { g.write("w", std::vector<double>{1}, {.description = "w", .dims = {"nope"}}); }),
             Catch::Contains("no dimension scale 'nope'"));
  CHECK_THAT(io_error_of([&] { g.write("u", std::vector<double>{1}, {.description = ""}); }),
             Catch::Contains("needs a description"));
  CHECK_THAT(io_error_of([&] { g.write("y", std::vector<double>{1}, {.description = "again"}); }),
             Catch::Contains("exists already"));
  CHECK_THROWS_AS(g.write("s", std::vector<double>{1, 2, 3}, {.description = "s"}, {2, 2}), amari::IoError);
}

TEST_CASE("rewrite overwrites a dataset in place", "[store]") {
  temp_dir dir;
  const std::string path = dir / "r.h5";
  {
    auto f = st::file::create(path, opts());
    auto g = f.group_at("/c");
    g.write("state", std::vector<double>{1, 2, 3}, {.description = "state"});
    g.write("k", std::vector<std::int64_t>{1}, {.description = "k"});
    f.flush();
    const auto size_before = std::filesystem::file_size(path);
    for (int i = 0; i < 50; ++i) {
      g.rewrite("state", std::vector<double>{1.0 * i, 2.0 * i, 3.0 * i});
      g.rewrite("k", std::vector<std::int64_t>{i});
      f.flush();
    }
    // In place: fifty rewrites cost no data space (only the few bytes each flush reserves).
    CHECK(std::filesystem::file_size(path) < size_before + 50 * 64);
    CHECK_THROWS_AS(g.rewrite("state", std::vector<double>{1, 2}), amari::IoError);
    f.finish("complete");
  }
  auto f = st::file::open_read(path);
  CHECK(f.group_at("/c").read_doubles("state") == std::vector<double>{49, 98, 147});
  CHECK(f.group_at("/c").read_ints("k") == std::vector<std::int64_t>{49});
}

TEST_CASE("status: finish, and a file dropped while running is marked failed", "[store]") {
  temp_dir dir;
  {
    auto f = st::file::create(dir / "a.h5", opts());
    f.finish("interrupted");
  }
  { auto f = st::file::create(dir / "b.h5", opts()); }
  CHECK(st::file::open_read(dir / "a.h5").status() == "interrupted");
  CHECK(st::file::open_read(dir / "b.h5").status() == "failed");
  auto f = st::file::create(dir / "c.h5", opts());
  CHECK_THROWS_AS(f.set_status("finished"), amari::InvalidArgument);
}

TEST_CASE("flush_if_due flushes once the wall-clock interval has passed", "[store]") {
  temp_dir dir;
  auto o = opts();
  o.flush_interval = 0.05;
  auto f = st::file::create(dir / "f.h5", o);
  CHECK_FALSE(f.flush_if_due());
  ::usleep(60000);
  CHECK(f.flush_due());
  CHECK(f.flush_if_due());
  CHECK(f.flush_count() == 1);
  CHECK_FALSE(f.flush_due());
  o.flush_interval = 0;
  CHECK_THROWS_AS(st::file::create(dir / "g.h5", o), amari::InvalidArgument);
  o.flush_interval = 1;
  o.compression = 10;
  CHECK_THROWS_AS(st::file::create(dir / "g.h5", o), amari::InvalidArgument);
  CHECK_FALSE(std::filesystem::exists(dir / "g.h5"));
}

// ---------------------------------------------------------------------------------------------
// Refusals: each asserts the message and that nothing was clobbered.

TEST_CASE("an existing file is not overwritten without force", "[store]") {
  temp_dir dir;
  const std::string path = dir / "keep.h5";
  { std::ofstream(path) << "precious"; }
  CHECK_THAT(io_error_of([&] { st::file::check_writable(path, false); }),
             Catch::Contains("keep.h5: exists already; pass --force to overwrite it"));
  CHECK_THAT(io_error_of([&] { st::file::create(path, opts()); }), Catch::Contains("exists already"));
  CHECK(read_bytes(path) == "precious");
  // With force it is replaced.
  auto o = opts();
  o.force = true;
  st::file::check_writable(path, true);
  { auto f = st::file::create(path, o); }
  CHECK(read_bytes(path) != "precious");
  CHECK(st::file::open_read(path).status() == "failed");
}

TEST_CASE("a missing directory or a path through a file is refused", "[store]") {
  temp_dir dir;
  const std::string missing = dir / "no" / "such" / "run.h5";
  CHECK_THAT(io_error_of([&] { st::file::create(missing, opts()); }),
             Catch::Contains("the directory '" + (dir / "no" / "such").string() + "' does not exist"));
  CHECK_FALSE(std::filesystem::exists(dir / "no"));
  const std::string afile = dir / "plain";
  { std::ofstream(afile) << "x"; }
  CHECK_THAT(io_error_of([&] { st::file::check_writable(afile + "/run.h5", false); }),
             Catch::Contains("is not a directory"));
  CHECK(read_bytes(afile) == "x");
  CHECK_THAT(io_error_of([&] { st::file::check_writable(dir.path.string(), true); }),
             Catch::Contains("is a directory"));
}

TEST_CASE("an unwritable directory is refused", "[store]") {
  temp_dir dir;
  std::filesystem::permissions(dir.path, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                             std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                             std::filesystem::perms::others_exec);
  const auto ro = dir / "ro";
  std::filesystem::create_directory(ro);
  std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
                                       std::filesystem::perms::group_read | std::filesystem::perms::others_read |
                                       std::filesystem::perms::group_exec | std::filesystem::perms::others_exec);
  const std::string path = ro / "run.h5";
  std::string msg;
  if (::geteuid() == 0) {
    // root writes anywhere: check as an unprivileged user, in a child process.
    msg = amari::test::run_helper({"check-writable-as-nobody", path}).out;
  } else {
    msg = io_error_of([&] { st::file::create(path, opts()); });
  }
  CHECK_THAT(msg, Catch::Contains("cannot write in the directory '" + ro.string() + "': Permission denied"));
  CHECK(std::filesystem::is_empty(ro));
  std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
}

TEST_CASE("files that are not amari files, or of a newer format, are refused for reading and appending",
          "[store]") {
  temp_dir dir;
  const std::string text = dir / "notes.txt";
  { std::ofstream(text) << "not hdf5 at all\n"; }
  CHECK_THAT(io_error_of([&] { st::file::open_read(text); }),
             Catch::Contains("notes.txt: is not an amari file (not an HDF5 file)"));
  CHECK_THAT(io_error_of([&] { st::file::open_append(text); }), Catch::Contains("not an HDF5 file"));
  CHECK(read_bytes(text) == "not hdf5 at all\n");

  CHECK_THAT(io_error_of([&] { st::file::open_read(dir / "absent.h5"); }),
             Catch::Contains("absent.h5: cannot open: No such file or directory"));

  // An HDF5 file without our root attributes.
  const std::string foreign = dir / "foreign.h5";
  {
    auto f = st::file::create(foreign, opts());
    f.root().remove_attr("format_version");
    f.finish("complete");
  }
  const std::string foreign_bytes = read_bytes(foreign);
  CHECK_THAT(io_error_of([&] { st::file::open_read(foreign); }),
             Catch::Contains("is an HDF5 file but not an amari file (no root attribute `format_version`)"));
  CHECK_THAT(io_error_of([&] { st::file::open_append(foreign); }), Catch::Contains("not an amari file"));
  CHECK(read_bytes(foreign) == foreign_bytes);

  // A newer format version.
  const std::string newer = dir / "newer.h5";
  {
    auto f = st::file::create(newer, opts());
    f.root().attr("format_version", std::int64_t{st::format_version + 1});
    f.finish("complete");
  }
  const std::string newer_bytes = read_bytes(newer);
  const std::string expect = "newer.h5: was written by amari " + std::string(amari::version()) +
                             " in format version " + std::to_string(st::format_version + 1) +
                             ", newer than this amari";
  CHECK_THAT(io_error_of([&] { st::file::open_read(newer); }), Catch::Contains(expect));
  CHECK_THAT(io_error_of([&] { st::file::open_append(newer); }), Catch::Contains(expect));
  CHECK(read_bytes(newer) == newer_bytes);
}

// ---------------------------------------------------------------------------------------------
// Checkpoint and resume

TEST_CASE("checkpoint: staged writes commit at flush into alternating slots", "[store]") {
  temp_dir dir;
  const std::string path = dir / "cp.h5";
  {
    auto f = st::file::create(path, opts());
    auto cp = f.checkpoint();
    CHECK_FALSE(cp.exists());
    auto g = f.group_at("/trajectory");
    auto t = g.make_series_scale("t", {.description = "time"});
    for (int k = 1; k <= 5; ++k) {
      t.append(k);
      cp.write("h", std::vector<double>{1.0 * k, 2.0 * k}, {1, 2});
      cp.write("time", 0.5 * k);
      cp.write("step", std::int64_t{k});
      cp.write("rng", std::vector<std::uint64_t>{~0ull, std::uint64_t(k)});
      cp.write("stepper", std::string("rk4 state ") + std::to_string(k));
      CHECK(cp.staged());
      f.flush();
      CHECK_FALSE(cp.staged());
    }
    t.append(6);  // after the last checkpoint
    f.flush();
    CHECK(cp.exists());
    CHECK(cp.read_double("time") == 2.5);
    f.finish("interrupted");
  }
  auto f = st::file::open_read(path);
  auto cp = f.checkpoint();
  REQUIRE(cp.exists());
  CHECK(cp.flush_index() == 5);
  CHECK(cp.read_doubles("h") == std::vector<double>{5, 10});
  CHECK(cp.shape("h") == std::vector<std::uint64_t>{1, 2});
  CHECK(cp.read_int("step") == 5);
  CHECK(cp.read_uints("rng") == std::vector<std::uint64_t>{~0ull, 5});
  CHECK(cp.read_string("stepper") == "rk4 state 5");
  CHECK(cp.series_rows("/trajectory/t") == 5);
  CHECK(f.group_at("/trajectory").shape("t") == std::vector<std::uint64_t>{6});
  CHECK(f.group_at("/checkpoint").attr_string("current") == "slot_a");  // commits 1, 3, 5
  CHECK_THROWS_AS(cp.series_rows("/nope"), amari::IoError);
}

TEST_CASE("resume: open_append rewinds the series to the checkpoint and continues", "[store]") {
  temp_dir dir;
  const std::string path = dir / "resume.h5";
  {
    auto f = st::file::create(path, opts());
    auto g = f.group_at("/trajectory");
    auto t = g.make_series_scale("t", {.description = "time"});
    auto q = g.make_series("q", {}, {.description = "q", .dims = {"t"}});
    for (int k = 0; k < 10; ++k) {
      t.append(k);
      q.append(k * k);
      if (k == 6) {
        f.checkpoint().write("k", std::int64_t{k});
        f.flush();
      }
    }
    f.flush();  // rows 7..9 are in the file but after the checkpoint
    f.finish("interrupted");
  }
  {
    auto o = opts();
    o.command_line = "amari simulate --resume resume.h5";
    auto f = st::file::open_append(path, o);
    CHECK(f.status() == "running");
    auto cp = f.checkpoint();
    REQUIRE(cp.exists());
    const auto k0 = cp.read_int("k");
    CHECK(k0 == 6);
    f.rewind_to_checkpoint();
    auto g = f.group_at("/trajectory");
    auto t = g.open_series("t");
    auto q = g.open_series("q");
    CHECK(t.rows() == 7);
    for (auto k = k0 + 1; k < 12; ++k) {
      t.append(static_cast<double>(k));
      q.append(static_cast<double>(k * k));
    }
    f.checkpoint().write("k", std::int64_t{11});
    f.finish("complete");
  }
  auto f = st::file::open_read(path);
  auto g = f.group_at("/trajectory");
  std::vector<double> t(12), q(12);
  for (int k = 0; k < 12; ++k) {
    t[k] = k;
    q[k] = k * k;
  }
  CHECK(g.read_doubles("t") == t);
  CHECK(g.read_doubles("q") == q);
  CHECK(f.root().attr_int("resumed") == 1);
  CHECK(f.root().attr_string("resume_command_line") == "amari simulate --resume resume.h5");
  CHECK(f.status() == "complete");
  CHECK(f.checkpoint().read_int("k") == 11);
  CHECK(f.checkpoint().series_rows("/trajectory/q") == 12);
}

TEST_CASE("resume refuses a file without a checkpoint", "[store]") {
  temp_dir dir;
  const std::string path = dir / "nocp.h5";
  { st::file::create(path, opts()).finish("interrupted"); }
  auto f = st::file::open_append(path);
  CHECK_THAT(io_error_of([&] { f.rewind_to_checkpoint(); }), Catch::Contains("no usable checkpoint"));
}

// ---------------------------------------------------------------------------------------------
// Crash safety, interruption, full disk (child processes: tests/store_helper.cpp)

namespace {

// A Python 3 with h5py (Debian's python3-h5py lives in /usr/bin/python3), or "" when there is none.
std::string python_with_h5py() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    auto r = amari::test::run_shell(std::string(py) + " -c 'import h5py, numpy'");
    if (r.status == 0) return py;
  }
  return "";
}

// Runs tests/check_h5py.py; returns its output. h5py is a dependency of the test suite (tools/setup
// installs python3-h5py): without it the calling test fails.
std::string check_with_h5py(const std::vector<std::string>& args) {
  static const std::string py = python_with_h5py();
  INFO("the h5py check needs python3-h5py and python3-numpy: run tools/setup");
  REQUIRE_FALSE(py.empty());
  std::string cmd = py + " " + AMARI_SOURCE_DIR "/tests/check_h5py.py";
  for (const auto& a : args) cmd += " '" + a + "'";
  return amari::test::run_shell(cmd).out;
}

}  // namespace

TEST_CASE("h5py reads the documented layout, attributes and dimension scales", "[store][python]") {
  temp_dir dir;
  const std::string path = dir / "layout.h5";
  {
    auto f = st::file::create(path, opts());
    auto g = f.group_at("/deepnet");
    g.write_scale("sigma_w", std::vector<double>{0.5, 1.0, 1.5}, {.description = "weight standard deviation"});
    g.write_scale("layer", std::vector<std::int64_t>{0, 1, 2, 3}, {.description = "layer index"});
    std::vector<double> q(12);
    std::iota(q.begin(), q.end(), 0.25);
    g.write("q", q, {.description = "length q^l", .units = "1", .dims = {"sigma_w", "layer"}}, {3, 4});
    g.write("labels", std::vector<std::string>{"ordered", "chaotic", "é-unicode"}, {.description = "labels"});
    auto tr = f.group_at("/trajectory");
    tr.write_scale("neuron", std::vector<std::int64_t>{0, 1, 2}, {.description = "recorded neuron"});
    auto t = tr.make_series_scale("t", {.description = "time", .units = "leak time constants"});
    auto h = tr.make_series("h", {3}, {.description = "traces", .dims = {"t", "neuron"}});
    for (int k = 0; k < 100; ++k) {
      t.append(0.1 * k);
      h.append(std::vector<double>{1.0 * k, 2.0 * k, 3.0 * k});
    }
    f.checkpoint().write("h", std::vector<double>{1, 2, 3});
    f.finish("complete");
  }
  const std::string out = check_with_h5py({"layout", path});
  CHECK_THAT(out, Catch::EndsWith("OK\n"));
}

TEST_CASE("a run killed with SIGKILL leaves a file that opens and holds every flushed sample",
          "[store][crash]") {
  // The child computes (sleeps) 3 ms per 20 samples and then flushes, like a run whose flush
  // interval is short; the moment of each kill is drawn at random (seeded: a reproducible
  // sequence, though not reproducible timing). A kill that lands inside a flush (about 5% of
  // them here; ~1e-4 for a real run flushing every 10 s) may leave the rows of that one flush
  // torn (docs/FORMAT.md): so the test checks the rows up to the last completed flush, which must
  // always be there. tests/stress_store_kill.py kills flush-bound writers hundreds of times.
  std::mt19937 rng(20240611);
  const int kills = 12;
  for (int i = 0; i < kills; ++i) {
    temp_dir dir;
    const std::string path = dir / "killed.h5";
    const int compression = i % 3 == 0 ? 0 : 4;
    auto c = amari::test::spawn(AMARI_STORE_HELPER_PATH,
                                {"writer", path, "20", std::to_string(compression), "3000"});
    const int wait_flushes = std::uniform_int_distribution<int>(1, 12)(rng);
    const int extra_us = std::uniform_int_distribution<int>(0, 4000)(rng);
    long flushed = 0;
    std::string line;
    for (int n = 0; n < wait_flushes && c.read_line(line); ++n) flushed = std::stol(line.substr(8));
    ::usleep(static_cast<useconds_t>(extra_us));
    ::kill(c.pid, SIGKILL);
    // Flushes reported before the kill took effect count too.
    while (c.read_line(line))
      if (line.starts_with("flushed ")) flushed = std::stol(line.substr(8));
    const int status = c.wait();
    INFO("kill " << i << " after " << wait_flushes << " flushes + " << extra_us << " us; flushed " << flushed);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(flushed >= 20);

    auto f = st::file::open_read(path);
    CHECK(f.status() == "running");
    auto g = f.group_at("/trajectory");
    auto t = g.read_doubles("t");
    auto m = g.read_doubles("m");
    auto tr = g.read_doubles("traces");
    const auto n = static_cast<std::size_t>(flushed);
    REQUIRE(t.size() >= n);
    REQUIRE(m.size() >= n);
    REQUIRE(tr.size() >= 8 * n);
    for (std::size_t k = 0; k < n; ++k) {
      if (t[k] != 0.1 * static_cast<double>(k) || m[k] != std::sin(0.1 * static_cast<double>(k)) ||
          tr[8 * k + 7] != static_cast<double>(k) + 7 / 1000.0) {
        FAIL("sample " << k << " is wrong: t = " << t[k] << ", m = " << m[k]);
      }
    }
    // The checkpoint is the one of the last complete flush (or, killed inside a flush, the one
    // before), and the series hold at least the rows it recorded.
    auto cp = f.checkpoint();
    REQUIRE(cp.exists());
    const auto k_cp = cp.read_int("k");
    CHECK(k_cp >= flushed - 20);
    CHECK(cp.series_rows("/trajectory/traces") == static_cast<std::uint64_t>(k_cp));
    CHECK(cp.read_doubles("state") == std::vector<double>(64, static_cast<double>(k_cp)));
    const std::string out = check_with_h5py({"crash", path, std::to_string(flushed)});
    CHECK_THAT(out, Catch::EndsWith("OK\n"));
  }
}

TEST_CASE("SIGTERM and SIGINT: the run flushes, marks the file interrupted and resumes", "[store][crash]") {
  for (int sig : {SIGTERM, SIGINT}) {
    temp_dir dir;
    const std::string path = dir / "int.h5";
    auto c = amari::test::spawn(AMARI_STORE_HELPER_PATH, {"signal", path});
    std::string line;
    REQUIRE(c.read_line(line));
    REQUIRE(line == "started");
    ::usleep(20000);
    ::kill(c.pid, sig);
    REQUIRE(c.read_line(line));
    REQUIRE(line.starts_with("interrupted "));
    const long rows = std::stol(line.substr(12));
    const int status = c.wait();
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 128 + sig);
    {
      auto f = st::file::open_read(path);
      CHECK(f.status() == "interrupted");
      CHECK(f.group_at("/trajectory").shape("t") == std::vector<std::uint64_t>{static_cast<std::uint64_t>(rows)});
      CHECK(f.checkpoint().read_int("k") == rows);
    }
    // Resume: everything up to the interruption is kept; appending continues the sequence.
    auto f = st::file::open_append(path);
    f.rewind_to_checkpoint();
    auto g = f.group_at("/trajectory");
    auto t = g.open_series("t");
    CHECK(t.rows() == static_cast<std::uint64_t>(rows));
    t.append(0.1 * static_cast<double>(rows));
    g.open_series("m").append(std::sin(0.1 * static_cast<double>(rows)));
    std::vector<double> row(8);
    for (int i = 0; i < 8; ++i) row[i] = static_cast<double>(rows) + i / 1000.0;
    g.open_series("traces").append(row);
    f.finish("complete");
    f.close();
    const std::string out = check_with_h5py({"crash", path, std::to_string(rows + 1)});
    CHECK_THAT(out, Catch::EndsWith("OK\n"));
  }
}

TEST_CASE("a full disk gives a clear error and leaves the flushed data readable", "[store][crash]") {
  // RLIMIT_FSIZE makes writes past the limit fail with EFBIG (SIGXFSZ ignored), as a full disk
  // fails them with ENOSPC: it works in any container, without mounting a small file system.
  // Two cases: the store sees before a flush that there is no room (the usual way a run ends on a
  // full disk), and, with that check off, HDF5's write itself fails in the middle of a flush.
  for (const bool nocheck : {false, true}) {
    temp_dir dir;
    const std::string path = dir / "full.h5";
    const std::string neighbour = dir / "other.txt";
    { std::ofstream(neighbour) << "untouched"; }
    std::vector<std::string> args{"fill", path, std::to_string(3 << 20)};
    if (nocheck) args.push_back("nocheck");
    auto r = amari::test::run_helper(args);
    INFO((nocheck ? "HDF5 write fails: " : "space check: ") << r.out);
    REQUIRE(WIFEXITED(r.status));  // in particular: no crash when the failed file is closed
    CHECK(WEXITSTATUS(r.status) == 3);
    CHECK_THAT(r.out, Catch::StartsWith(path + ": "));
    if (nocheck)
      CHECK_THAT(r.out, Catch::Contains("File too large (the disk is full or a file size limit was reached)"));
    else
      CHECK_THAT(r.out, Catch::Contains("cannot write: the disk is full or a file size limit was reached"));
    CHECK(read_bytes(neighbour) == "untouched");
    // What was flushed before the disk filled up is still there (the helper flushes every 1000).
    auto f = st::file::open_read(path);
    auto t = f.group_at("/trajectory").read_doubles("t");
    CHECK(t.size() >= 1000);
    for (std::size_t k = 0; k < t.size(); ++k)
      if (t[k] != 0.1 * static_cast<double>(k)) FAIL("sample " << k << " is wrong");
    CHECK(f.checkpoint().read_int("k") == static_cast<std::int64_t>(t.size()));
    const std::string out = check_with_h5py({"crash", path, "1000"});
    CHECK_THAT(out, Catch::EndsWith("OK\n"));
  }
}

// ---------------------------------------------------------------------------------------------
// amari inspect

namespace {

// A file with a time series, scalar results, a labelled grid and a checkpoint, all values known.
std::string make_inspect_fixture(const temp_dir& dir) {
  const std::string path = dir / "inspect.h5";
  auto f = st::file::create(path, opts());
  auto tr = f.group_at("/trajectory");
  auto t = tr.make_series_scale("t", {.description = "time", .units = "leak time constants"});
  auto m = tr.make_series("m", {}, {.description = "population mean of h", .dims = {"t"}});
  auto q = tr.make_series("q", {}, {.description = "population variance of h", .dims = {"t"}});
  tr.write_scale("neuron", std::vector<std::int64_t>{0, 1}, {.description = "recorded neuron"});
  auto h = tr.make_series("h", {2}, {.description = "traces", .dims = {"t", "neuron"}});
  for (int k = 0; k <= 2000; ++k) {
    t.append(0.1 * k);
    m.append(0.001 * k);
    q.append(1.0 - 0.0001 * k);
    h.append(std::vector<double>{1.0 * k, 3.0 * k});
  }
  auto ly = f.group_at("/lyapunov");
  ly.write_scalar("lambda_max", 0.125, {.description = "largest Lyapunov exponent", .units = "1/leak time constant"});
  auto ph = f.group_at("/phase");
  ph.write_scale("sigma_w", std::vector<double>{0.5, 1.5, 2.5}, {.description = "sigma_w"});
  ph.write("phase", std::vector<std::string>{"ordered", "chaotic", "chaotic"},
           {.description = "phase at each sigma_w", .dims = {"sigma_w"}});
  ph.write_scalar("undefined", std::nan(""), {.description = "a value that does not exist"});
  f.checkpoint().write("k", std::int64_t{2000});
  f.finish("complete");
  return path;
}

const amari::inspect::summary_entry* entry(const amari::inspect::report& r, const std::string& group,
                                           const std::string& key) {
  for (const auto& p : r.products)
    if (p.group == group)
      for (const auto& e : p.entries)
        if (e.key == key) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("inspect: tree, final values, scalar results and label counts", "[store][inspect]") {
  temp_dir dir;
  const std::string path = make_inspect_fixture(dir);
  const auto r = amari::inspect::inspect_file(path);
  auto number = [&](const std::string& g, const std::string& k) {
    const auto* e = entry(r, g, k);
    INFO(g << " " << k);
    REQUIRE(e);
    REQUIRE(e->number);
    return *e->number;
  };
  // Exact: the last appended values, read back unchanged.
  CHECK(number("/trajectory", "samples") == 2001);
  CHECK(number("/trajectory", "t final") == 0.1 * 2000);
  CHECK(number("/trajectory", "final m") == 0.001 * 2000);
  CHECK(number("/trajectory", "final q") == 1.0 - 0.0001 * 2000);
  CHECK(number("/trajectory", "final h (mean over neuron)") == 4000.0);
  CHECK(entry(r, "/trajectory", "t final")->units == "leak time constants");
  CHECK(number("/lyapunov", "lambda_max") == 0.125);
  CHECK(std::isnan(number("/phase", "undefined")));
  REQUIRE(entry(r, "/phase", "phase counts"));
  CHECK(entry(r, "/phase", "phase counts")->text == "chaotic: 2, ordered: 1");
  CHECK(number("/checkpoint", "flush index") == 1);

  const std::string text = amari::inspect::to_text(r);
  CHECK_THAT(text, Catch::Contains("status complete"));
  CHECK_THAT(text, Catch::Contains("command: " + opts().command_line));
  CHECK_THAT(text, Catch::Contains("    sigma_w = 1.5"));  // the config, indented
  CHECK_THAT(text, Catch::Contains("h: float64 (2001, 2) [t, neuron], series -- traces"));
  CHECK_THAT(text, Catch::Contains("final m = 2"));
  CHECK_THAT(text, Catch::Contains("lambda_max = 0.125 [1/leak time constant]"));
  CHECK_THAT(text, !Catch::Contains("slot_b"));  // only the current checkpoint slot is listed

  const auto j = nlohmann::json::parse(amari::inspect::to_json(r));
  CHECK(j["attributes"]["seed"].get<std::uint64_t>() == 18446744073709551557ull);
  CHECK(j["attributes"]["status"] == "complete");
  CHECK(j["summary"]["/trajectory"]["final q"]["value"].get<double>() == 1.0 - 0.0001 * 2000);
  CHECK(j["summary"]["/phase"]["undefined"]["value"].is_null());
  bool found = false;
  for (const auto& o : j["objects"])
    if (o["path"] == "/trajectory/h") {
      found = true;
      CHECK(o["shape"] == nlohmann::json::array({2001, 2}));
      CHECK(o["dims"] == nlohmann::json::array({"t", "neuron"}));
      CHECK(o["series"] == true);
      CHECK(o["attributes"]["description"] == "traces");
    }
  CHECK(found);
}

TEST_CASE("amari inspect: text, --json, and refusals with exit code 2", "[store][inspect][cli]") {
  temp_dir dir;
  const std::string path = make_inspect_fixture(dir);
  auto r = amari::test::run_shell(std::string(AMARI_CLI_PATH) + " inspect --json '" + path + "'");
  REQUIRE(WEXITSTATUS(r.status) == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["summary"]["/lyapunov"]["lambda_max"]["value"].get<double>() == 0.125);
  r = amari::test::run_shell(std::string(AMARI_CLI_PATH) + " inspect '" + path + "'");
  CHECK(WEXITSTATUS(r.status) == 0);
  CHECK_THAT(r.out, Catch::Contains("final m = 2"));
  const std::string text = dir / "notes.txt";
  { std::ofstream(text) << "hello"; }
  r = amari::test::run_shell(std::string(AMARI_CLI_PATH) + " inspect '" + text + "'");
  CHECK(WEXITSTATUS(r.status) == 2);  // the wrong input (docs/FORMAT.md, "amari inspect")
  CHECK(r.out == "amari: " + text + ": is not an amari file (not an HDF5 file)\n");
  r = amari::test::run_shell(std::string(AMARI_CLI_PATH) + " inspect");
  CHECK(WEXITSTATUS(r.status) == 2);
}

TEST_CASE("tools/plot renders every product of a file to PNG and PDF", "[store][plot]") {
  // tools/test installs both (tools/setup --plot); without them this test fails, saying so.
  INFO("tools/plot needs python3-h5py and python3-matplotlib: run tools/setup --plot");
  REQUIRE(amari::test::run_shell("/usr/bin/python3 -c 'import h5py, matplotlib'").status == 0);
  temp_dir dir;
  const std::string path = dir / "demo.h5";
  REQUIRE(amari::test::run_helper({"demo", path}).status == 0);
  auto r = amari::test::run_shell(std::string(AMARI_SOURCE_DIR) + "/tools/plot '" + path + "' -o '" +
                                  (dir / "fig").string() + "'");
  INFO(r.out);
  REQUIRE(WEXITSTATUS(r.status) == 0);
  // One figure per shape of product: the time series, the curves over a coordinate, the heat map.
  for (const char* name : {"demo_trajectory_series_t", "demo_deepnet_vs_layer", "demo_phase_map_chi1"})
    for (const char* ext : {".png", ".pdf"}) {
      const auto fig = dir / "fig" / (std::string(name) + ext);
      INFO(fig);
      CHECK(std::filesystem::exists(fig));
      CHECK(std::filesystem::file_size(fig) > 5000);
    }
  // A file that is not an amari file is refused.
  const std::string text = dir / "x.h5";
  { std::ofstream(text) << "no"; }
  r = amari::test::run_shell(std::string(AMARI_SOURCE_DIR) + "/tools/plot '" + text + "'");
  CHECK(WEXITSTATUS(r.status) != 0);
}

TEST_CASE("a file that another process is writing is neither replaced nor appended to", "[store][crash]") {
  temp_dir dir;
  const std::string path = dir / "busy.h5";
  auto c = amari::test::spawn(AMARI_STORE_HELPER_PATH, {"writer", path, "20", "4", "20000"});
  std::string line;
  REQUIRE(c.read_line(line));  // it has created the file and flushed once
  auto o = opts();
  o.force = true;
  CHECK_THAT(io_error_of([&] { st::file::create(path, o); }),
             Catch::Contains("busy.h5: is being written by another process (a running amari?); not touched"));
  CHECK_THAT(io_error_of([&] { st::file::open_append(path); }), Catch::Contains("is being written by another process"));
  // Reading works (inspect on a running run).
  CHECK(st::file::open_read(path).status() == "running");
  ::kill(c.pid, SIGKILL);
  c.wait();
  CHECK(st::file::open_read(path).group_at("/trajectory").shape("t").at(0) >= 20);
}
