// A child process for the store tests (tests/test_store_crash.cpp, test_store.cpp):
//
//   store_helper writer PATH FLUSH_EVERY [COMPRESSION]
//       writes a time series t = k * 0.1, m = sin(t), traces[i] = k + i / 1000 (8 neurons) and a
//       checkpoint, flushes every FLUSH_EVERY samples and prints "flushed ROWS" after each flush,
//       forever (until killed)
//   store_helper fill PATH LIMIT_BYTES
//       with a file size limit of LIMIT_BYTES (SIGXFSZ ignored: writes fail with EFBIG, as on a
//       full disk), writes series until the store throws; prints the message; exit 3
//   store_helper check-writable-as-nobody PATH
//       drops root privileges (user nobody) and tries to create PATH; prints the message
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

#include "amari/error.hpp"
#include "amari/store.hpp"

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
    t = g.make_series_scale("t", {.description = "time", .units = "1/leak rate"});
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

int run_writer(const std::string& path, long every, int compression) {
  writer w(path, compression);
  while (true) {
    w.step();
    if (w.k % every == 0) {
      w.checkpoint_and_flush();
      std::printf("flushed %lld\n", static_cast<long long>(w.k));
      std::fflush(stdout);
    }
  }
}

int run_fill(const std::string& path, long limit) {
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
    if (mode == "writer" && argc >= 4) return run_writer(path, std::atol(argv[3]), argc >= 5 ? std::atoi(argv[4]) : 4);
    if (mode == "fill" && argc >= 4) return run_fill(path, std::atol(argv[3]));
    if (mode == "check-writable-as-nobody") return run_as_nobody(path);
    if (mode == "signal") return run_signal(path);
  } catch (const std::exception& e) {
    std::printf("error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "store_helper: bad arguments\n");
  return 2;
}
