// The machine's own limits, against which amari's kernels are judged:
//   triad   a[i] = b[i] + s c[i]   (STREAM's triad; 24 bytes counted per element, as STREAM does)
//   read    s += a[i]              (8 bytes per element)
//   fma     independent fused multiply-adds in registers (2 flops each)
// on 1 thread and on all threads (OpenMP), arrays far larger than the last-level cache.
// Usage: bench_machine [--mb MB] [--reps R] [--quick]. Prints one JSON object per kernel and thread
// count: the best (STREAM reports the best of its repetitions), median and worst rate.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

struct stats {
  double best, median, worst;
};
stats summarise(std::vector<double> rates) {
  std::sort(rates.begin(), rates.end());
  return {rates.back(), rates[rates.size() / 2], rates.front()};
}

// One timed pass of the triad on `threads` threads; returns GB/s (24 bytes per element).
double triad(double* a, const double* b, const double* c, std::size_t n, int threads) {
  const double s = 3.0;
  const auto t0 = clock_type::now();
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
  const double t = seconds_since(t0);
  return 24.0 * double(n) / t / 1e9;
}

double read_pass(const double* a, std::size_t n, int threads, double& sink) {
  double total = 0;
  const auto t0 = clock_type::now();
#pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+ : total)
  for (std::size_t i = 0; i < n; ++i) total += a[i];
  const double t = seconds_since(t0);
  sink += total;
  return 8.0 * double(n) / t / 1e9;
}

// Peak FMA rate: 12 independent accumulator chains (enough to cover the FMA latency on two
// pipes) of 4-wide double FMAs; returns GFLOP/s.
double fma_peak(long iters, int threads, double& sink) {
  double total = 0;
  const auto t0 = clock_type::now();
#pragma omp parallel num_threads(threads) reduction(+ : total)
  {
    __m256d acc[12];
    for (int k = 0; k < 12; ++k) acc[k] = _mm256_set1_pd(1.0 + 1e-3 * k);
    const __m256d m = _mm256_set1_pd(0.9999999), add = _mm256_set1_pd(1e-7);
    for (long i = 0; i < iters; ++i)
      for (int k = 0; k < 12; ++k) acc[k] = _mm256_fmadd_pd(acc[k], m, add);
    __m256d s = acc[0];
    for (int k = 1; k < 12; ++k) s = _mm256_add_pd(s, acc[k]);
    double out[4];
    _mm256_storeu_pd(out, s);
    total += out[0] + out[1] + out[2] + out[3];
  }
  const double t = seconds_since(t0);
  sink += total;
  return 2.0 * 4 * 12 * double(iters) * threads / t / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t mb = 256;  // per array: 8x a 32 MB last-level cache
  int reps = 10;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mb" && i + 1 < argc) mb = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (arg == "--quick") mb = 128, reps = 5;
    else {
      std::fprintf(stderr, "usage: bench_machine [--mb MB] [--reps R] [--quick]\n");
      return 2;
    }
  }
  const std::size_t n = mb * (1u << 20) / sizeof(double);
  const int max_threads = omp_get_max_threads();
  std::vector<double> a(n), b(n), c(n);
  // First touch in parallel, so that pages are spread as the kernels will use them.
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;

  double sink = 0;
  std::vector<int> thread_counts = {1};
  if (max_threads > 1) thread_counts.push_back(max_threads);
  for (int threads : thread_counts) {
    std::vector<double> tr, rd, fm;
    for (int r = 0; r < reps + 1; ++r) {  // interleaved; the first pass of each is a warm-up
      const double x = triad(a.data(), b.data(), c.data(), n, threads);
      const double y = read_pass(a.data(), n, threads, sink);
      const double z = fma_peak(20'000'000 / (reps > 5 ? 1 : 2), threads, sink);
      if (r > 0) tr.push_back(x), rd.push_back(y), fm.push_back(z);
    }
    for (auto [name, unit, v] : {std::tuple{"triad", "GB/s", tr}, std::tuple{"read", "GB/s", rd},
                                 std::tuple{"fma_peak", "GFLOP/s", fm}}) {
      const stats s = summarise(v);
      nlohmann::json j = {{"bench", "machine"}, {"kernel", name}, {"threads", threads}, {"unit", unit},
                          {"best", s.best}, {"median", s.median}, {"worst", s.worst},
                          {"reps", reps}, {"array_mb", mb}};
      std::printf("%s\n", j.dump().c_str());
    }
  }
  if (sink == 42) std::printf("#\n");  // keep the work observable
}
