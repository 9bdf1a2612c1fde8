// The cost of writing a trajectory with the store, against the cost of the run that produces it.
//
// The case of the issue: N = 2000 neurons, recording t, m, q and 32 neuron traces every 0.1 time
// units over t = 200 (2000 samples), flushed at an interval. Measured here:
//   - append:   the cost per sample of appending t, m, q and the 32 traces (buffered in memory);
//   - flush:    the cost of one flush as a function of the rows it writes, compressed (level 4) and
//               not (level 0), including the checkpoint of the full state h (N doubles);
//   - run:      the whole file (create, 2000 samples, a flush every R samples, finish) for several R;
//   - matvec:   the cost of one product W h with a dense N x N matrix (Eigen), the core of one
//               evaluation of the right-hand side of the network equations.
// The writing cost is then stated as a fraction of a lower bound of the run time: 2000 samples x
// 0.1 time units / dt steps x 4 right-hand-side evaluations (RK4) x one matvec, with dt = 0.05.
// One JSON object per line on stdout.
#include <Eigen/Dense>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <random>
#include <string>
#include <vector>

#include "amari/io/store.hpp"

namespace st = amari::store;
using clk = std::chrono::steady_clock;

namespace {

constexpr int n_neurons = 2000;
constexpr int n_traces = 32;
constexpr int n_samples = 2000;

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

struct recorder {
  st::file f;
  st::series t, m, q, traces;
  std::vector<double> h;

  recorder(const std::string& path, int level) : h(n_neurons) {
    st::file_options o;
    o.force = true;
    o.product = "bench_store";
    o.compression = level;
    f = st::file::create(path, o);
    auto g = f.group_at("/trajectory");
    std::vector<std::int64_t> idx(n_traces);
    for (int i = 0; i < n_traces; ++i) idx[i] = i * (n_neurons / n_traces);
    g.write_scale("neuron", idx, {.description = "recorded neuron"});
    t = g.make_series_scale("t", {.description = "time", .units = "1/leak rate"});
    m = g.make_series("m", {}, {.description = "population mean of h", .dims = {"t"}});
    q = g.make_series("q", {}, {.description = "population variance of h", .dims = {"t"}});
    traces = g.make_series("h", {n_traces}, {.description = "traces", .dims = {"t", "neuron"}});
  }

  // One sample of a (fake but realistic: chaotic-looking, incompressible) state.
  void sample(int k, std::mt19937_64& rng) {
    std::normal_distribution<double> z;
    for (int i = 0; i < n_traces; ++i) h[i * (n_neurons / n_traces)] = z(rng);
    double row[n_traces];
    for (int i = 0; i < n_traces; ++i) row[i] = h[i * (n_neurons / n_traces)];
    t.append(0.1 * k);
    m.append(z(rng) * 0.01);
    q.append(1.0 + 0.01 * z(rng));
    traces.append(row);
  }

  void checkpoint_and_flush(int k) {
    auto cp = f.checkpoint();
    cp.write("h", h);
    cp.write("time", 0.1 * k);
    f.flush();
  }
};

void emit(const std::string& json) { std::printf("%s\n", json.c_str()); }

}  // namespace

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "amari-bench-store";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bench.h5").string();
  std::mt19937_64 rng(7);

  // matvec: the unit of run time.
  Eigen::MatrixXd W = Eigen::MatrixXd::Random(n_neurons, n_neurons) / std::sqrt(double(n_neurons));
  Eigen::VectorXd x = Eigen::VectorXd::Random(n_neurons), y(n_neurons);
  int reps = 0;
  auto t0 = clk::now();
  while (seconds_since(t0) < 1.0) {
    y.noalias() = W * x;
    x.swap(y);
    ++reps;
  }
  const double matvec_s = seconds_since(t0) / reps;
  emit(fmt::format(R"({{"bench":"store","case":"matvec","n":{},"seconds":{:.6g},"checksum":{:.3g}}})", n_neurons,
                   matvec_s, x.norm()));
  const double dt = 0.05, rk_stages = 4;
  const double run_lower_bound_s = n_samples * (0.1 / dt) * rk_stages * matvec_s;
  emit(fmt::format(R"({{"bench":"store","case":"run_lower_bound","seconds":{:.6g},"assumes":"RK4, dt = 0.05, 2000 samples, one dense matvec per stage"}})",
                   run_lower_bound_s));

  // append: per sample, buffered.
  {
    recorder r(path, 4);
    const int n = 200000;
    t0 = clk::now();
    for (int k = 0; k < n; ++k) r.sample(k, rng);
    const double per = seconds_since(t0) / n;
    emit(fmt::format(R"({{"bench":"store","case":"append","seconds_per_sample":{:.6g},"note":"t, m, q and 32 traces, incl. drawing the random numbers"}})", per));
    r.f.finish("complete");
  }

  // flush: cost of one flush against the rows it writes.
  for (int level : {0, 4}) {
    for (int rows : {1, 10, 100, 1000}) {
      recorder r(path, level);
      int k = 0;
      double total = 0;
      int flushes = 0;
      while (k < 20000 && flushes < 200) {
        for (int i = 0; i < rows; ++i) r.sample(k++, rng);
        t0 = clk::now();
        r.checkpoint_and_flush(k);
        total += seconds_since(t0);
        ++flushes;
      }
      emit(fmt::format(R"({{"bench":"store","case":"flush","compression":{},"rows_per_flush":{},"seconds_per_flush":{:.6g},"flushes":{}}})",
                       level, rows, total / flushes, flushes));
      r.f.finish("complete");
    }
  }

  // run: the whole file for the case of the issue, flushing every R samples.
  for (int level : {0, 4}) {
    for (int every : {1, 20, 200, 2000}) {
      t0 = clk::now();
      {
        recorder r(path, level);
        for (int k = 0; k < n_samples; ++k) {
          r.sample(k, rng);
          if ((k + 1) % every == 0) r.checkpoint_and_flush(k + 1);
        }
        r.f.finish("complete");
      }
      const double s = seconds_since(t0);
      emit(fmt::format(R"({{"bench":"store","case":"run","compression":{},"flush_every_samples":{},"flushes":{},"seconds":{:.6g},"file_bytes":{},"fraction_of_run_lower_bound":{:.3g}}})",
                       level, every, n_samples / every, s, std::filesystem::file_size(path), s / run_lower_bound_s));
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
