// Speed of the right-hand-side kernel (W times the activations) against the memory-bandwidth
// floor, measured side by side in one run:
//   * a STREAM-like triad a = b + s c on arrays far larger than the caches (bytes counted the
//     STREAM way: 3 x 8 per element), with 1 and with all threads, and a read kernel (s += a_i,
//     8 bytes per element) on all threads: a product W p only reads W, so the read bandwidth is
//     the tighter floor;
//   * the floor of one product: N^2 x sizeof(scalar) / bandwidth (triad and read);
//   * y = W p (amari's streaming kernel, 1 and all threads; Eigen's single-threaded product);
//   * Y = W P with R columns (amari's register-blocked kernel; Eigen's GEMM) -- the cost of R
//     replicas sharing W, as a ratio to one replica.
// Rounds alternate between the measurements, so that other load on the machine (a shared 2-core
// box) hits all of them alike; each reports its best, median and worst time over the rounds.
//
// usage: bench_kernels [--rounds K] [--storage] [N ...]     (default 4000, 7 rounds)
//   --storage  only what issue 16 needs: the bandwidths, W in double, float and half against a
//              double state (R = 1 and 16), the blocked accumulation and the compute floors
//              (no float state beyond half's, no AVX2-only or Eigen comparisons, no R = 4 or 64)
// Prints one JSON object per measurement.
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "amari/sim/kernels.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double time_once(const std::function<void()>& f, int reps) {
  const auto t0 = clock_type::now();
  for (int i = 0; i < reps; ++i) f();
  return std::chrono::duration<double>(clock_type::now() - t0).count() / reps;
}

struct bench_set {
  struct item {
    std::string name;
    std::function<void()> f;
    int reps;
    std::vector<double> times;
  };
  std::vector<item> items;
  void add(std::string name, std::function<void()> f, int reps) {
    items.push_back({std::move(name), std::move(f), reps, {}});
  }
  void run(int rounds) {
    for (auto& it : items) it.f();  // warm up (page faults, caches)
    for (int r = 0; r < rounds; ++r)
      for (auto& it : items) it.times.push_back(time_once(it.f, it.reps));
    for (auto& it : items) std::sort(it.times.begin(), it.times.end());
  }
  const std::vector<double>& times(const std::string& name) const {
    for (const auto& it : items)
      if (it.name == name) return it.times;
    static const std::vector<double> none{0.0};
    return none;
  }
  double best(const std::string& name) const { return times(name).front(); }
  double median(const std::string& name) const {
    const auto& t = times(name);
    return t[t.size() / 2];
  }
  double worst(const std::string& name) const { return times(name).back(); }
};

void emit(const nlohmann::json& j) { std::printf("%s\n", j.dump().c_str()); }

template <class S>
void fill_random(S* p, std::int64_t n, unsigned seed, double scale) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> z;
  for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<S>(scale * z(g));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::int64_t> sizes;
  int rounds = 7;
  bool storage_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (std::string(argv[i]) == "--storage") storage_only = true;
    else sizes.push_back(std::atoll(argv[i]));
  }
  if (sizes.empty()) sizes = {4000};
  const int all = omp_get_max_threads();

  // The triad, on 3 x 128 MB.
  const std::int64_t tn = std::int64_t(1) << 24;
  auto ta = amari::make_aligned_array<double>(tn), tb = amari::make_aligned_array<double>(tn),
       tc = amari::make_aligned_array<double>(tn);
  for (std::int64_t i = 0; i < tn; ++i) tb[i] = 1.0, tc[i] = 2.0;
  auto triad = [&](int threads) {
    double* a = ta.get();
    const double* b = tb.get();
    const double* c = tc.get();
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::int64_t i = 0; i < tn; ++i) a[i] = b[i] + 3.0 * c[i];
  };
  double read_sink = 0;
  auto read = [&](int threads) {
    const double* b = tb.get();
    double s = 0;
#pragma omp parallel for simd schedule(static) num_threads(threads) reduction(+ : s)
    for (std::int64_t i = 0; i < tn; ++i) s += b[i];
    read_sink += s;
  };

  for (const std::int64_t n : sizes) {
    bench_set set;
    set.add("triad_1", [&] { triad(1); }, 3);
    set.add("triad_all", [&] { triad(all); }, 3);
    set.add("read_all", [&] { read(all); }, 3);

    amari::coupling<double> Wd(n);
    amari::coupling<float> Wf(n);
    for (std::int64_t i = 0; i < n; ++i) {
      fill_random(Wd.row(i), n, 1000 + i, 1.0 / std::sqrt(double(n)));
      for (std::int64_t j = 0; j < n; ++j) Wf.row(i)[j] = static_cast<float>(Wd.row(i)[j]);
    }
    const int reps = std::max<int>(1, int(2e8 / double(n * n)));
    std::vector<double> base(n);
    fill_random(base.data(), n, 7, 1.0);
    // Panels with R columns (column c a shifted copy of the base vector).
    auto make_panel = [&](auto& P, std::int64_t R) {
      using S = std::remove_reference_t<decltype(*P.data())>;
      P = std::remove_reference_t<decltype(P)>(n, R);
      for (std::int64_t c = 0; c < R; ++c) {
        S* col = P.column(c);
        for (std::int64_t j = 0; j < n; ++j) col[j] = static_cast<S>(base[(j + 17 * c) % n]);
        P.commit(c);
      }
    };
    const std::vector<std::int64_t> Rs =
        storage_only ? std::vector<std::int64_t>{1, 16} : std::vector<std::int64_t>{1, 4, 16, 64};
    std::map<std::int64_t, amari::panel<double>> Pd;
    std::map<std::int64_t, amari::panel<float>> Pf;
    std::map<std::int64_t, std::vector<double>> Od;
    std::map<std::int64_t, std::vector<float>> Of;
    for (auto R : Rs) {
      make_panel(Pd[R], R);
      make_panel(Pf[R], R);
      Od[R].resize(n * R);
      Of[R].resize(n * R);
      const int r = R == 1 ? reps : std::max(1, reps / 4);
      set.add("double_" + std::to_string(R),
              [&, R] { Wd.multiply(Pd[R], Od[R].data(), nullptr, nullptr, 0, false, all); }, r);
      set.add("float_" + std::to_string(R),
              [&, R] { Wf.multiply(Pf[R], Of[R].data(), nullptr, nullptr, 0, false, all); }, r);
    }
    // The outer product without AVX-512VL (where the processor has it, the default uses it).
    for (std::int64_t R : {16, 64}) {
      if (storage_only) break;
      set.add("double_" + std::to_string(R) + "_avx2", [&, R] {
        amari::kernel_avx512(false);
        Wd.multiply(Pd[R], Od[R].data(), nullptr, nullptr, 0, false, all);
        amari::kernel_avx512(true);
      }, std::max(1, reps / 4));
      set.add("float_" + std::to_string(R) + "_avx2", [&, R] {
        amari::kernel_avx512(false);
        Wf.multiply(Pf[R], Of[R].data(), nullptr, nullptr, 0, false, all);
        amari::kernel_avx512(true);
      }, std::max(1, reps / 4));
    }
    if (!storage_only)
      set.add("double_1_1thread", [&] { Wd.multiply(Pd[1], Od[1].data(), nullptr, nullptr, 0, false, 1); }, reps);

    // Narrow storage (weight_precision): W in float or half against a double state (and half
    // against a float state), accumulated in the state's precision or (one column) in float blocks.
    amari::coupling<amari::half> Wh(n);
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) Wh.row(i)[j] = amari::to_half(Wd(i, j));
    using acc = amari::accumulation_kind;
    for (std::int64_t R : {1, 16}) {
      const int r = R == 1 ? reps : std::max(1, reps / 4);
      set.add("wfloat_sdouble_" + std::to_string(R),
              [&, R] { Wf.multiply(Pd[R], Od[R].data(), nullptr, nullptr, 0, false, all); }, r);
      set.add("whalf_sdouble_" + std::to_string(R),
              [&, R] { Wh.multiply(Pd[R], Od[R].data(), nullptr, nullptr, 0, false, all); }, r);
      set.add("whalf_sfloat_" + std::to_string(R),
              [&, R] { Wh.multiply(Pf[R], Of[R].data(), nullptr, nullptr, 0, false, all); }, r);
    }
    set.add("wfloat_sdouble_1_blocked",
            [&] { Wf.multiply(Pd[1], Od[1].data(), nullptr, nullptr, 0, false, all, acc::blocked); }, reps);
    set.add("whalf_sdouble_1_blocked",
            [&] { Wh.multiply(Pd[1], Od[1].data(), nullptr, nullptr, 0, false, all, acc::blocked); }, reps);
    // The compute floor: the same kernels on a W that stays in each core's L2 cache (n_c = 256:
    // 512 KB in double, 128 KB in half), per weight, times N^2 -- conversion and FMA without memory.
    const std::int64_t nc = 256;
    amari::coupling<double> Cd(nc);
    amari::coupling<float> Cf(nc);
    amari::coupling<amari::half> Ch(nc);
    for (std::int64_t i = 0; i < nc; ++i)
      for (std::int64_t j = 0; j < nc; ++j)
        Cd.row(i)[j] = Wd(i, j), Cf.row(i)[j] = Wf(i, j), Ch.row(i)[j] = Wh(i, j);
    amari::panel<double> Cp(nc, 1);
    for (std::int64_t j = 0; j < nc; ++j) Cp.column(0)[j] = base[j];
    std::vector<double> Co(nc);
    const int creps = 2000;
    // (one thread: the small product runs on one core; the floor for `all` cores divides by them)
    set.add("compute_double", [&] { Cd.multiply(Cp, Co.data(), nullptr, nullptr, 0, false, 1); }, creps);
    set.add("compute_wfloat", [&] { Cf.multiply(Cp, Co.data(), nullptr, nullptr, 0, false, 1); }, creps);
    set.add("compute_whalf", [&] { Ch.multiply(Cp, Co.data(), nullptr, nullptr, 0, false, 1); }, creps);
    set.add("compute_wfloat_blocked",
            [&] { Cf.multiply(Cp, Co.data(), nullptr, nullptr, 0, false, 1, acc::blocked); }, creps);
    set.add("compute_whalf_blocked",
            [&] { Ch.multiply(Cp, Co.data(), nullptr, nullptr, 0, false, 1, acc::blocked); }, creps);

    // Eigen: the single-threaded matrix-vector product and the GEMM a plain Eigen program uses.
    const std::int64_t ne = storage_only ? 0 : n;  // (no Eigen copy of W in --storage)
    Eigen::MatrixXd Me(ne, ne);
    for (std::int64_t i = 0; i < ne; ++i)
      for (std::int64_t j = 0; j < ne; ++j) Me(i, j) = Wd(i, j);
    Eigen::VectorXd ve = Eigen::Map<Eigen::VectorXd>(base.data(), ne), ye(ne);
    Eigen::MatrixXd Pe4 = Eigen::MatrixXd::Random(ne, 4), Pe16 = Eigen::MatrixXd::Random(ne, 16);
    Eigen::MatrixXd Oe4(ne, 4), Oe16(ne, 16);
    if (!storage_only) {
      set.add("eigen_double_1", [&] { ye.noalias() = Me * ve; }, reps);
      set.add("eigen_double_4", [&] { Oe4.noalias() = Me * Pe4; }, std::max(1, reps / 4));
      set.add("eigen_double_16", [&] { Oe16.noalias() = Me * Pe16; }, std::max(1, reps / 4));
    }

    set.run(rounds);

    // Bandwidths from the best rounds (as STREAM reports them).
    const double bw1 = 3 * 8.0 * tn / set.best("triad_1"), bw = 3 * 8.0 * tn / set.best("triad_all");
    const double bw_read = 8.0 * tn / set.best("read_all");
    emit({{"bench", "triad"}, {"n", n}, {"threads", 1}, {"gb_per_s", bw1 / 1e9},
          {"gb_per_s_median", 3 * 8.0 * tn / set.median("triad_1") / 1e9}});
    emit({{"bench", "triad"}, {"n", n}, {"threads", all}, {"gb_per_s", bw / 1e9},
          {"gb_per_s_median", 3 * 8.0 * tn / set.median("triad_all") / 1e9}});
    emit({{"bench", "read"}, {"n", n}, {"threads", all}, {"gb_per_s", bw_read / 1e9},
          {"gb_per_s_median", 8.0 * tn / set.median("read_all") / 1e9}});
    const double floor_d = double(n) * n * 8 / bw, floor_f = double(n) * n * 4 / bw;
    auto report = [&](const std::string& name, const std::string& impl, int threads, std::int64_t R,
                      const std::string& prec) {
      const double t = set.best(name), floor = prec == "double" ? floor_d : floor_f;
      const double bytes = double(n) * n * (prec == "double" ? 8 : 4);
      emit({{"bench", "rhs_kernel"}, {"impl", impl}, {"n", n}, {"columns", R}, {"precision", prec},
            {"threads", threads}, {"seconds", t}, {"seconds_median", set.median(name)},
            {"seconds_worst", set.worst(name)}, {"rounds", rounds}, {"floor_seconds", floor},
            {"ratio_to_floor", t / floor}, {"read_floor_seconds", bytes / bw_read},
            {"fraction_of_read_bandwidth", bytes / bw_read / t},
            {"fraction_of_triad_bandwidth", floor / t},
            {"w_bytes", bytes}, {"ratio_to_one_column", t / set.best(prec + "_1")},
            {"gflops", 2.0 * n * n * R / t / 1e9}});
    };
    for (auto R : Rs) {
      report("double_" + std::to_string(R), "amari", all, R, "double");
      report("float_" + std::to_string(R), "amari", all, R, "float");
    }
    for (std::int64_t R : {16, 64}) {
      if (storage_only) break;
      report("double_" + std::to_string(R) + "_avx2", "amari_avx2", all, R, "double");
      report("float_" + std::to_string(R) + "_avx2", "amari_avx2", all, R, "float");
    }
    if (!storage_only) report("double_1_1thread", "amari", 1, 1, "double");
    // Narrow storage: the bandwidth floor N^2 x bytes(weight) / read bandwidth, and the compute
    // floor (cache-resident kernel per weight x N^2 / cores).
    auto report_storage = [&](const std::string& name, const std::string& storage, const std::string& state,
                              std::int64_t R, const std::string& accumulation, const std::string& compute) {
      const double t = set.best(name);
      const double bytes = double(n) * n * (storage == "double" ? 8 : storage == "float" ? 4 : 2);
      const double floor = bytes / bw_read;
      nlohmann::json j = {{"bench", "rhs_kernel_storage"}, {"n", n}, {"columns", R}, {"weight_precision", storage},
                          {"precision", state}, {"accumulation", accumulation}, {"threads", all},
                          {"seconds", t}, {"seconds_median", set.median(name)}, {"rounds", rounds},
                          {"w_bytes", bytes}, {"read_floor_seconds", floor}, {"ratio_to_read_floor", t / floor},
                          {"speedup_vs_double", set.best("double_" + std::to_string(R)) / t},
                          {"gflops", 2.0 * n * n * R / t / 1e9}};
      if (!compute.empty()) {
        const double c = set.best(compute) / double(nc * nc) * double(n) * n / all;
        j["compute_floor_seconds"] = c;
        j["ratio_to_compute_floor"] = t / c;
      }
      emit(j);
    };
    report_storage("double_1", "double", "double", 1, "state", "compute_double");
    report_storage("double_16", "double", "double", 16, "state", "");
    for (std::int64_t R : {1, 16}) {
      const std::string r = std::to_string(R);
      report_storage("wfloat_sdouble_" + r, "float", "double", R, "state", R == 1 ? "compute_wfloat" : "");
      report_storage("whalf_sdouble_" + r, "half", "double", R, "state", R == 1 ? "compute_whalf" : "");
      report_storage("whalf_sfloat_" + r, "half", "float", R, "state", "");
    }
    report_storage("wfloat_sdouble_1_blocked", "float", "double", 1, "blocked", "compute_wfloat_blocked");
    report_storage("whalf_sdouble_1_blocked", "half", "double", 1, "blocked", "compute_whalf_blocked");
    if (!storage_only) {
      report("eigen_double_1", "eigen", 1, 1, "double");
      report("eigen_double_4", "eigen", all, 4, "double");
      report("eigen_double_16", "eigen", all, 16, "double");
    }
  }
  if (read_sink == 42) std::printf("#\n");  // keep the reads observable
}
