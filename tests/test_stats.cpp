// The statistics module (include/amari/core/stats.hpp): the streaming accumulators against the
// same statistics computed from the whole series in memory, their checkpoint state, and the
// batch-means standard error against its closed form for an AR(1) process.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <vector>

#include "amari/core/stats.hpp"
#include "tolerance.hpp"

using amari::test::bonferroni_k;
using amari::test::close_to;
using amari::test::within_se;

namespace {

// A 64-bit LCG (Knuth's MMIX constants) and Box-Muller: reproducible normals without the library's
// streams, so that these tests do not depend on the code they test.
struct normals {
  std::uint64_t s;
  explicit normals(std::uint64_t seed) : s(seed) {}
  double uniform() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(s >> 11) + 0.5) * 0x1p-53;
  }
  double operator()() {
    const double u = uniform(), v = uniform();
    return std::sqrt(-2 * std::log(u)) * std::cos(2 * M_PI * v);
  }
};

// x [T][S][M]: S series of M correlated values, each an AR(1) walk around a sine.
std::vector<double> test_series(std::int64_t T, std::int64_t S, std::int64_t M, std::uint64_t seed) {
  normals z(seed);
  std::vector<double> x(static_cast<std::size_t>(T * S * M));
  std::vector<double> state(static_cast<std::size_t>(S * M), 0.0);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t j = 0; j < S * M; ++j) {
      state[j] = 0.8 * state[j] + 0.6 * z();
      x[t * S * M + j] = state[j] + std::sin(0.05 * double(t) * double(j % 5 + 1)) + 0.1 * double(j % 3);
    }
  return x;
}

// Series s of x [T][S][M] as [T][M].
std::vector<double> one_series(const std::vector<double>& x, std::int64_t T, std::int64_t S, std::int64_t M,
                               std::int64_t s) {
  std::vector<double> y(static_cast<std::size_t>(T * M));
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t i = 0; i < M; ++i) y[t * M + i] = x[(t * S + s) * M + i];
  return y;
}

}  // namespace

TEST_CASE("stats: mean and standard error, ensemble means and their labels", "[stats]") {
  const std::vector<double> x{1, 2, 3, 4};
  const auto ms = amari::mean_and_sem(x);
  CHECK(ms.mean == 2.5);
  CHECK_THAT(ms.sem, close_to(std::sqrt(5.0 / 3.0 / 4.0), 1e-15));  // s^2 = 5/3
  CHECK(std::isnan(amari::mean_and_sem(std::vector<double>{7}).sem));
  CHECK(std::isnan(amari::mean_and_sem(std::vector<double>{}).mean));
  // [D = 2][R = 2]: the draws' replica means 1.5 and 3.5, error over the two draws.
  const auto e = amari::ensemble_mean(x, 2, 2);
  CHECK(e.mean == 2.5);
  CHECK_THAT(e.sem, close_to(1.0, 1e-15));
  // One draw: over replicas; one run: none.
  CHECK_THAT(amari::ensemble_mean(x, 1, 4).sem, close_to(ms.sem, 1e-15));
  CHECK(std::isnan(amari::ensemble_mean(x, 1, 1).sem));
  CHECK(std::string(amari::ensemble_sem_over(2, 1)) == "draws");
  CHECK(std::string(amari::ensemble_sem_over(1, 3)) == "replicas (one draw of W)");
  CHECK(std::string(amari::ensemble_sem_over(1, 1)) == "none (one run)");
  CHECK(std::string(amari::time_average_sem_over(1)) == "time batches (one draw of W)");
  CHECK(std::string(amari::time_average_sem_over(4)) == "draws");
  std::vector<double> mean, sem;
  amari::mean_and_sem_columns(x, 2, 2, mean, sem);  // columns {1, 3} and {2, 4}
  CHECK(mean == std::vector<double>{2, 3});
  CHECK_THAT(sem[0], close_to(1.0, 1e-15));
}

TEST_CASE("stats: batches partition the window", "[stats]") {
  for (std::int64_t n : {1, 7, 20, 21, 39, 1000, 1001}) {
    const std::int64_t b = std::min<std::int64_t>(20, n);
    std::int64_t previous = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t k = amari::batch_of(i, n, b);
      INFO("n = " << n << ", i = " << i);
      REQUIRE(k >= previous);
      REQUIRE(k < b);
      CHECK(amari::batch_begin(k, n, b) <= i);
      CHECK(i < amari::batch_begin(k + 1, n, b));
      previous = k;
    }
    CHECK(previous == b - 1);
  }
}

TEST_CASE("stats: the streaming batch means equal the batch means of the series", "[stats]") {
  const std::int64_t T = 1003, S = 3;  // not a multiple of the 20 batches
  const auto x = test_series(T, S, 1, 11);
  amari::batch_means_accumulator acc(S, T);
  for (std::int64_t t = 0; t < T; ++t) acc.add(std::span<const double>(x.data() + t * S, S));
  for (std::int64_t s = 0; s < S; ++s) {
    const auto y = one_series(x, T, S, 1, s);
    const auto direct = amari::batch_means(y);
    const auto streamed = acc.estimate(s);
    CHECK(streamed.mean == direct.mean);  // the same sums in the same order
    CHECK_THAT(streamed.sem, close_to(direct.sem, 1e-13));
  }
  // The ensemble of one draw and three replicas: the replica mean, its error from the batches of the
  // replica mean -- which is the batch-means error of the replica-mean series.
  std::vector<double> mean_series(T);
  for (std::int64_t t = 0; t < T; ++t) mean_series[t] = (x[t * S] + x[t * S + 1] + x[t * S + 2]) / 3;
  const auto ens = acc.ensemble(1, 3);
  const auto direct = amari::batch_means(mean_series);
  CHECK_THAT(ens.mean, close_to(direct.mean, 1e-14));
  CHECK_THAT(ens.sem, close_to(direct.sem, 1e-12));
  // Three draws of one replica: over draws.
  const auto draws = acc.ensemble(3, 1);
  const std::vector<double> means{acc.mean(0), acc.mean(1), acc.mean(2)};
  CHECK(draws.mean == amari::mean_and_sem(means).mean);
  CHECK(draws.sem == amari::mean_and_sem(means).sem);
}

TEST_CASE("stats: streaming C(tau) equals the direct sums and the FFT, per batch too", "[stats]") {
  const std::int64_t T = 700, S = 2, M = 13, L = 60;  // M not a multiple of 8: padded lanes
  const auto x = test_series(T, S, M, 5);
  amari::autocorrelation_accumulator acc(S, M, L, T);
  for (std::int64_t t = 0; t < T; ++t) acc.add(std::span<const double>(x.data() + t * S * M, S * M));
  for (std::int64_t s = 0; s < S; ++s) {
    const auto y = one_series(x, T, S, M, s);
    const auto direct = amari::autocorrelation_direct(y.data(), T, M, L);
    const auto fft = amari::autocorrelation_fft(y.data(), T, M, L);
    for (std::int64_t l = 0; l < L; ++l) {
      INFO("series " << s << ", lag " << l);
      CHECK_THAT(acc.value(s, l), close_to(direct[l], 1e-12));
      CHECK_THAT(acc.value(s, l), close_to(fft[l], 1e-12));
    }
    // Batch k holds the pairs (t - l, t) with t in the batch: its estimate from the series itself.
    for (std::int64_t k : {0, 7, 19})
      for (std::int64_t l : {0, 1, 30, 59}) {
        const std::int64_t lo = amari::batch_begin(k, T, 20), hi = amari::batch_begin(k + 1, T, 20);
        double sum = 0;
        std::int64_t pairs = 0;
        for (std::int64_t t = std::max(lo, l); t < hi; ++t, ++pairs)
          for (std::int64_t i = 0; i < M; ++i) sum += y[t * M + i] * y[(t - l) * M + i];
        INFO("batch " << k << ", lag " << l);
        if (pairs == 0)
          CHECK(std::isnan(acc.batch_value(k, s, l)));
        else
          CHECK_THAT(acc.batch_value(k, s, l), close_to(sum / double(M * pairs), 1e-12));
      }
  }
}

TEST_CASE("stats: an accumulator restored from its state continues bit for bit", "[stats]") {
  const std::int64_t T = 500, S = 2, M = 9, L = 25;
  const auto x = test_series(T, S, M, 3);
  amari::autocorrelation_accumulator whole(S, M, L, T);
  amari::batch_means_accumulator whole_b(S * M, T);
  amari::rate_accumulator whole_r(S, 0.0, double(T));
  for (std::int64_t cut : {1, 24, 25, 26, 333}) {
    amari::autocorrelation_accumulator first(S, M, L, T), second(S, M, L, T);
    amari::batch_means_accumulator first_b(S * M, T), second_b(S * M, T);
    amari::rate_accumulator first_r(S, 0.0, double(T)), second_r(S, 0.0, double(T));
    for (std::int64_t t = 0; t < T; ++t) {
      const std::span<const double> row(x.data() + t * S * M, S * M);
      const std::span<const double> logs(x.data() + t * S * M, S);
      if (cut == 1) {  // the uninterrupted reference, once
        whole.add(row), whole_b.add(row), whole_r.add(logs, 1.0, t + 0.5);
      }
      if (t == cut) {
        const auto state = first.state(), state_b = first_b.state(), state_r = first_r.state();
        // The state has the same size at every point of the run.
        CHECK(state.size() == amari::autocorrelation_accumulator(S, M, L, T).state().size());
        CHECK(state_b.size() == amari::batch_means_accumulator(S * M, T).state().size());
        CHECK(state_r.size() == amari::rate_accumulator(S, 0.0, double(T)).state().size());
        second.restore(state), second_b.restore(state_b), second_r.restore(state_r);
      }
      auto& a = t < cut ? first : second;
      auto& b = t < cut ? first_b : second_b;
      auto& r = t < cut ? first_r : second_r;
      a.add(row), b.add(row), r.add(logs, 1.0, t + 0.5);
    }
    INFO("cut at " << cut);
    CHECK(second.state() == whole.state());
    CHECK(second_b.state() == whole_b.state());
    CHECK(second_r.state() == whole_r.state());
  }
  CHECK_THROWS_AS(whole.restore(std::vector<double>(3)), std::invalid_argument);
}

TEST_CASE("stats: rates in batches of time", "[stats]") {
  // Intervals of length 0.5 from t = 10 to 30 with log growth 0.5 (j + 1) + noise: the rates
  // are j + 1 up to the noise; batch k of 20 holds the two intervals with midpoints in [10 + k, 11 + k).
  amari::rate_accumulator acc(2, 10.0, 30.0);
  normals z(9);
  std::vector<double> per_batch_sum(20, 0.0);
  for (int i = 0; i < 40; ++i) {
    const double noise = 0.01 * z();
    const std::vector<double> logs{0.5 + noise, 1.0};
    acc.add(logs, 0.5, 10.25 + 0.5 * i);
    per_batch_sum[i / 2] += 0.5 + noise;
  }
  CHECK(acc.time() == 20.0);
  CHECK_THAT(acc.rate(1), close_to(2.0, 1e-15));
  CHECK(acc.estimate(1).sem == 0);  // the same rate in every batch
  std::vector<double> rates;
  for (double s : per_batch_sum) rates.push_back(s / 1.0);
  const auto expect = amari::mean_and_sem(rates);
  CHECK_THAT(acc.estimate(0).mean, close_to(expect.mean, 1e-14));
  CHECK_THAT(acc.estimate(0).sem, close_to(expect.sem, 1e-12));
  // A midpoint on a batch boundary (11.0: between batches 0 and 1) goes to the later batch, also
  // when rounding puts it a hair below.
  amari::rate_accumulator edge(1, 10.0, 30.0);
  edge.add(std::vector<double>{1.0}, 1.0, 11.0 - 1e-14);
  CHECK(std::isnan(edge.batch_rate(0, 0)));
  CHECK(edge.batch_rate(1, 0) == 1.0);
}

// The batch-means error of the mean of a stationary AR(1) series x_t = a x_{t-1} + sqrt(1 - a^2) e_t
// (unit variance, autocorrelation a^|l|) against its closed form. The variance of the mean of n
// consecutive samples is V(n) = [n (1 + a)/(1 - a) - 2 a (1 - a^n)/(1 - a)^2] / n^2. With B batches
// of b = n/B samples, E[sum_k (y_k - ybar)^2] = B V(b) - B V(n) exactly (equal means), so the
// batch-means estimate of the squared error has expectation E[sem^2] = (V(b) - V(n)) / (B - 1)
// (Flyvbjerg & Petersen 1989, eq. 25 for blocks of independent data; here with the correlation
// between batches included). Two checks: (1) the average of sem^2 over 400 independent series
// agrees with that expectation within standard errors; (2) the expectation is the true V(n) to 2%
// when the batches are long (b = 1000 against an integrated correlation time (1 + a)/(1 - a) = 19):
// so the error bar is honest.
TEST_CASE("stats: the batch-means error of a correlated series has its closed-form expectation", "[stats]") {
  const double a = 0.9;
  const std::int64_t n = 20000, B = 20, b = n / B, series = 400;
  auto V = [a](double m) { return (m * (1 + a) / (1 - a) - 2 * a * (1 - std::pow(a, m)) / ((1 - a) * (1 - a))) / (m * m); };
  const double expect_sem2 = (V(double(b)) - V(double(n))) / double(B - 1);
  // (2) deterministic: the closed forms themselves.
  CHECK_THAT(expect_sem2, close_to(V(double(n)), 0.02));

  normals z(2024);
  std::vector<double> sem2, mean_over_sem;
  for (std::int64_t k = 0; k < series; ++k) {
    amari::batch_means_accumulator acc(1, n, B);
    double x = z();  // stationary start
    for (std::int64_t t = 0; t < n; ++t) {
      acc.add(std::span<const double>(&x, 1));
      x = a * x + std::sqrt(1 - a * a) * z();
    }
    const auto e = acc.estimate(0);
    sem2.push_back(e.sem * e.sem);
    mean_over_sem.push_back(e.mean / e.sem);
  }
  // (1) One comparison; its standard error is estimated from 400 series (t with 399 dof).
  const auto avg = amari::mean_and_sem(sem2);
  INFO("mean sem^2 = " << avg.mean << " +- " << avg.sem << ", expected " << expect_sem2 << ", V(n) = " << V(double(n)));
  CHECK_THAT(avg.mean, within_se(expect_sem2, avg.sem, bonferroni_k(1, series - 1)));
  // And the standardised means mean / sem follow Student's t with B - 1 = 19 degrees of freedom,
  // whose variance is 19/17 = 1.118: their mean square over 400 series within its standard error.
  std::vector<double> t2;
  for (double v : mean_over_sem) t2.push_back(v * v);
  const auto t2m = amari::mean_and_sem(t2);
  INFO("mean (mean/sem)^2 = " << t2m.mean << " +- " << t2m.sem);
  CHECK_THAT(t2m.mean, within_se(19.0 / 17.0, t2m.sem, bonferroni_k(1, series - 1)));
}
