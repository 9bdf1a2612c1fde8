// A child process for the store tests (tests/test_store_crash.cpp, test_store.cpp):
//
//   store_helper writer PATH FLUSH_EVERY [COMPRESSION [COMPUTE_US]]
//       writes a time series t = k * 0.1, m = sin(t), traces[i] = k + i / 1000 (8 neurons) and a
//       checkpoint, flushes every FLUSH_EVERY samples and prints "flushed ROWS" after each flush,
//       forever (until killed). COMPUTE_US: microseconds of sleep per FLUSH_EVERY samples, the
//       stand-in for the computation of a real run (0: flush as fast as possible)
//   store_helper fill PATH LIMIT_BYTES [nocheck]
//       with a file size limit of LIMIT_BYTES (SIGXFSZ ignored: writes fail with EFBIG, as on a
//       full disk), writes series until the store throws; prints the message; exit 3. With
//       `nocheck` the store's check of the room left before each flush is off, so that HDF5's
//       write itself fails.
//   store_helper check-writable-as-nobody PATH
//       drops root privileges (user nobody) and tries to create PATH; prints the message
//   store_helper demo PATH
//       writes a small file of every shape of product (a time series with traces, a 1-D result
//       over a coordinate, a 2-D grid, a label grid, scalars), for tools/plot and inspect
//   store_helper signal PATH
//       writes like `writer` (flushing every 50 samples) but polls a SIGTERM/SIGINT flag as an
//       amari command does: on a signal it flushes, marks the file "interrupted", prints
//       "interrupted ROWS" and exits with 128 + signal
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/store.hpp"

namespace st = amari::store;

namespace {

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_signal(int s) { g_signal = s; }

struct writer {
  st::file f;
  st::series t, m, traces;
  std::int64_t k = 0;

  writer(const std::string& path, int compression) {
    st::file_options o;
    o.force = true;
    o.product = "store_helper";
    o.compression = compression;
    f = st::file::create(path, o);
    auto g = f.group_at("/trajectory");
    std::vector<std::int64_t> idx{0, 1, 2, 3, 4, 5, 6, 7};
    g.write_scale("neuron", idx, {.description = "recorded neuron"});
    t = g.make_series_scale("t", {.description = "time", .units = "leak time constants"});
    m = g.make_series("m", {}, {.description = "sin(t)", .dims = {"t"}});
    traces = g.make_series("traces", {8}, {.description = "k + i/1000", .dims = {"t", "neuron"}});
  }

  void step() {
    const double time = 0.1 * static_cast<double>(k);
    t.append(time);
    m.append(std::sin(time));
    double row[8];
    for (int i = 0; i < 8; ++i) row[i] = static_cast<double>(k) + i / 1000.0;
    traces.append(row);
    ++k;
  }

  void checkpoint_and_flush() {
    auto cp = f.checkpoint();
    cp.write("k", k);
    std::vector<double> state(64, static_cast<double>(k));
    cp.write("state", state);
    f.flush();
  }
};

int run_writer(const std::string& path, long every, int compression, long compute_us) {
  writer w(path, compression);
  while (true) {
    w.step();
    if (compute_us > 0 && w.k % every == every / 2) ::usleep(static_cast<useconds_t>(compute_us));
    if (w.k % every == 0) {
      w.checkpoint_and_flush();
      std::printf("flushed %lld\n", static_cast<long long>(w.k));
      std::fflush(stdout);
    }
  }
}

int run_fill(const std::string& path, long limit, bool nocheck) {
  if (nocheck) ::setenv("AMARI_STORE_TEST_NO_SPACE_CHECK", "1", 1);
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit rl{static_cast<rlim_t>(limit), static_cast<rlim_t>(limit)};
  if (::setrlimit(RLIMIT_FSIZE, &rl) != 0) {
    std::printf("setrlimit failed\n");
    return 1;
  }
  try {
    writer w(path, 0);
    for (int i = 0; i < 100000000; ++i) {
      w.step();
      if (w.k % 1000 == 0) w.checkpoint_and_flush();
    }
  } catch (const amari::IoError& e) {
    std::printf("%s\n", e.what());
    return 3;
  }
  std::printf("no error\n");
  return 0;
}

int run_as_nobody(const std::string& path) {
  if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
    std::printf("cannot drop privileges\n");
    return 1;
  }
  try {
    st::file::create(path, {});
  } catch (const amari::IoError& e) {
    std::printf("%s\n", e.what());
    return 3;
  }
  std::printf("no error\n");
  return 0;
}

int run_demo(const std::string& path) {
  st::file_options o;
  o.force = true;
  o.product = "demo";
  o.command_line = "store_helper demo " + path;
  o.config_toml = "n = 100\n";
  o.seed = 1;
  auto f = st::file::create(path, o);
  {
    auto g = f.group_at("/trajectory");
    std::vector<std::int64_t> idx{0, 1, 2, 3};
    g.write_scale("neuron", idx, {.description = "recorded neuron"});
    auto t = g.make_series_scale("t", {.description = "time", .units = "leak time constants"});
    auto q = g.make_series("q", {}, {.description = "q(t) = 1 - exp(-t)", .dims = {"t"}});
    auto h = g.make_series("h", {4}, {.description = "h_i(t) = sin(t + i)", .dims = {"t", "neuron"}});
    for (int k = 0; k <= 200; ++k) {
      const double tt = 0.05 * k;
      t.append(tt);
      q.append(1 - std::exp(-tt));
      h.append(std::vector<double>{std::sin(tt), std::sin(tt + 1), std::sin(tt + 2), std::sin(tt + 3)});
    }
  }
  {
    auto g = f.group_at("/deepnet");
    std::vector<std::int64_t> layer(20);
    std::vector<double> ql(20), cl(20);
    for (int l = 0; l < 20; ++l) {
      layer[l] = l;
      ql[l] = 2 - std::exp(-0.3 * l);
      cl[l] = 0.2 + 0.8 * std::exp(-0.2 * l);
    }
    g.write_scale("layer", layer, {.description = "layer l"});
    g.write("q", ql, {.description = "length q^l", .dims = {"layer"}});
    g.write("c", cl, {.description = "correlation c^l", .dims = {"layer"}});
  }
  {
    auto g = f.group_at("/phase");
    std::vector<double> sw, sb;
    for (int i = 0; i < 30; ++i) sw.push_back(0.5 + 0.1 * i);
    for (int j = 0; j < 20; ++j) sb.push_back(0.05 * j);
    g.write_scale("sigma_w", sw, {.description = "weight standard deviation sigma_w"});
    g.write_scale("sigma_b", sb, {.description = "bias standard deviation sigma_b"});
    std::vector<double> chi(sw.size() * sb.size());
    std::vector<std::string> label;
    for (std::size_t j = 0; j < sb.size(); ++j)
      for (std::size_t i = 0; i < sw.size(); ++i) chi[j * sw.size() + i] = sw[i] * sw[i] / (1 + 2 * sb[j]);
    g.write("chi1", chi, {.description = "chi_1 (toy formula)", .dims = {"sigma_b", "sigma_w"}}, {sb.size(), sw.size()});
    g.write_scalar("lambda", 0.25, {.description = "a scalar result", .units = "1/leak time constant"});
  }
  f.finish("complete");
  return 0;
}

int run_signal(const std::string& path) {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  writer w(path, 4);
  std::printf("started\n");
  std::fflush(stdout);
  while (true) {
    w.step();
    if (w.k % 50 == 0) w.checkpoint_and_flush();
    if (g_signal) {  // a safe point: what an amari command does on SIGINT/SIGTERM
      w.checkpoint_and_flush();
      w.f.finish("interrupted");
      std::printf("interrupted %lld\n", static_cast<long long>(w.k));
      std::fflush(stdout);
      return 128 + g_signal;
    }
    if (w.k % 1000 == 0) ::usleep(1000);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: store_helper writer|fill|check-writable-as-nobody|signal PATH [...]\n");
    return 2;
  }
  const std::string mode = argv[1], path = argv[2];
  try {
    if (mode == "writer" && argc >= 4)
      return run_writer(path, std::atol(argv[3]), argc >= 5 ? std::atoi(argv[4]) : 4, argc >= 6 ? std::atol(argv[5]) : 0);
    if (mode == "fill" && argc >= 4)
      return run_fill(path, std::atol(argv[3]), argc >= 5 && std::string(argv[4]) == "nocheck");
    if (mode == "check-writable-as-nobody") return run_as_nobody(path);
    if (mode == "signal") return run_signal(path);
    if (mode == "demo") return run_demo(path);
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "store_helper: bad arguments\n");
  return 2;
}
