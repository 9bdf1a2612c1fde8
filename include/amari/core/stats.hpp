#pragma once
// Statistics of estimates: one implementation of "mean +- standard error" for every front end
// (simulate, compare, deepnet, the file writers), and streaming accumulators whose state does not
// grow with the length of the run.
//
// The standard error of a mean is what its name says only if the samples it is computed from are
// independent. amari's policy (docs/simulate.md, "Error bars"):
//   - spread between networks comes from independent draws of (W, b): with D > 1 draws, the
//     standard error is that of the mean over draws of the per-draw means (replicas averaged first);
//   - a time average of a correlated stationary series gets a batch-means error: the window is cut
//     into a fixed number of batches of (nearly) equal length, and the batch averages are treated as
//     independent (Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989), the blocking method;
//     reliable when a batch is long compared with the correlation time). With one draw this is the
//     error of the time average of that network; it says nothing about other networks;
//   - where the only spread available is over replicas (initial conditions) that share one W, the
//     error is over replicas and is labelled so ("replicas (one draw of W)").
//
// Accumulators (batch_means_accumulator, autocorrelation_accumulator, rate_accumulator) take their
// samples one at a time with O(1) state in the run length, and serialise that state to a flat vector
// of fixed size (state(), restore()) for checkpoints: restoring and continuing gives the same bits as
// never stopping.
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace amari {

struct mean_sem {
  double mean = 0, sem = std::numeric_limits<double>::quiet_NaN();
};

// Mean of independent samples and its standard error s / sqrt(n), s^2 = sum (x - mean)^2 / (n - 1).
// n = 0: NaN mean; n < 2: NaN error.
mean_sem mean_and_sem(std::span<const double> x);

// Column-wise: x is [rows][cols] row-major, each column's mean over the rows and its error.
void mean_and_sem_columns(std::span<const double> x, std::int64_t rows, std::int64_t cols, std::vector<double>& mean,
                          std::vector<double>& sem);

// values [D][R] (one number per draw and replica): the mean over draws of the replica means, with
// its standard error over draws when D > 1, over replicas when D = 1 < R (labelled "replicas (one
// draw of W)"), NaN when D = R = 1.
mean_sem ensemble_mean(std::span<const double> values, std::int64_t draws, std::int64_t replicas);

// The labels of the standard errors (the attribute `sem_over` of the files).
inline constexpr const char* sem_over_draws = "draws";
inline constexpr const char* sem_over_replicas = "replicas (one draw of W)";
inline constexpr const char* sem_over_time = "time batches (one draw of W)";
inline constexpr const char* sem_over_none = "none (one run)";
// What ensemble_mean's error is taken over.
const char* ensemble_sem_over(std::int64_t draws, std::int64_t replicas);
// What the error of a time average over the stationary window is taken over (time_average_estimate,
// the accumulators' ensemble estimates): draws when D > 1, otherwise time batches.
const char* time_average_sem_over(std::int64_t draws);

// The number of batches of every batch-means error in amari.
inline constexpr std::int64_t default_batches = 20;

// Batch k of b holds the samples [floor(k n / b), floor((k + 1) n / b)) of n; the batch of sample i.
std::int64_t batch_of(std::int64_t i, std::int64_t n, std::int64_t b);
std::int64_t batch_begin(std::int64_t k, std::int64_t n, std::int64_t b);

// Batch-means estimate of the mean of a correlated series held in memory and its standard error
// (min(batches, n) batches; NaN error with fewer than 2). The streaming accumulator below gives the
// same numbers.
mean_sem batch_means(std::span<const double> x, std::int64_t batches = default_batches);

// Means of `width` series sampled together, over a window of `length` samples known in advance,
// and their batch sums.
class batch_means_accumulator {
 public:
  batch_means_accumulator() = default;
  batch_means_accumulator(std::int64_t width, std::int64_t length, std::int64_t batches = default_batches);

  void add(std::span<const double> row);  // the next sample of every series (width values)
  std::int64_t count() const { return count_; }
  std::int64_t width() const { return width_; }
  std::int64_t batches() const { return batches_; }  // in use: min(batches, length)
  double mean(std::int64_t j) const;  // of series j over the samples so far (NaN before any)
  double batch_mean(std::int64_t k, std::int64_t j) const;  // NaN for a batch without samples
  mean_sem estimate(std::int64_t j) const;  // mean and batch-means error of series j

  // The ensemble estimate of the series first + (d R + r) stride (d < D, r < R): with D > 1 the
  // mean over draws of the replica means of the time averages, error over draws; with D = 1 the
  // replica mean, error from the batch averages of the replica mean (time_average_sem_over).
  mean_sem ensemble(std::int64_t draws, std::int64_t replicas, std::int64_t first = 0, std::int64_t stride = 1) const;

  // The state has the same size for any window length: 1 + width (1 + batches), batches as asked
  // (a window shorter than that many samples uses only as many batches as it has samples).
  std::vector<double> state() const;
  void restore(std::span<const double> s);    // throws std::invalid_argument on a size mismatch

 private:
  std::int64_t width_ = 0, length_ = 0, batches_ = 0, count_ = 0;
  std::vector<double> total_;  // [width]
  std::vector<double> sums_;   // [batches][width]
};

// C(tau_l) = mean over neurons i and pairs (t, t + l) in the window of x_i(t) x_i(t + l), divided
// by the number of pairs T - l, for `series` sets of `neurons` values sampled together (one set per
// draw and replica), lags l = 0 .. lags-1. A ring buffer holds the last `lags` samples of every
// series; each new sample adds its `lags` products (an Eigen matrix-vector product per series).
// Per batch (the pair belongs to the batch of its later sample) the lag sums are kept too, so that
// each batch gives its own estimate of C and the batch-means error follows.
class autocorrelation_accumulator {
 public:
  autocorrelation_accumulator() = default;
  autocorrelation_accumulator(std::int64_t series, std::int64_t neurons, std::int64_t lags, std::int64_t length,
                              std::int64_t batches = default_batches);

  // The next sample: x is [series][neurons] row-major.
  void add(std::span<const double> x);
  std::int64_t count() const { return count_; }
  std::int64_t lags() const { return lags_; }
  std::int64_t batches() const { return batches_; }
  double value(std::int64_t s, std::int64_t l) const;  // NaN while there is no pair at lag l
  double batch_value(std::int64_t k, std::int64_t s, std::int64_t l) const;  // NaN without pairs
  mean_sem estimate(std::int64_t s, std::int64_t l) const;  // value and batch-means error of series s
  // C at lag l over the series d R + r, as batch_means_accumulator::ensemble.
  mean_sem ensemble(std::int64_t l, std::int64_t draws, std::int64_t replicas) const;

  std::vector<double> state() const;  // fixed size: 1 + series (neurons lags + lags (1 + batches))
  void restore(std::span<const double> s);

 private:
  std::int64_t pairs(std::int64_t k, std::int64_t l) const;  // pairs at lag l in batch k (k < 0: all so far)
  std::int64_t series_ = 0, neurons_ = 0, lags_ = 0, length_ = 0, batches_ = 0, count_ = 0;
  std::vector<double> ring_;   // [series][lags slots][neurons]; slot of sample t: t mod lags
  std::vector<double> total_;  // [series][lags]
  std::vector<double> sums_;   // [batches][series][lags]
  std::vector<double> products_;  // scratch
};

// Growth rates from intervals of log growth: rate_j = sum log_j / total time, for `width` rates
// that share their intervals (the Lyapunov exponents of the replicas of one draw), with the sums in
// `batches` batches of equal time over [t0, t1] (an interval belongs to the batch of its midpoint)
// for the batch-means error. (The time of the intervals is summed as given, so that a run rebuilt
// from stored intervals has the same sums.)
class rate_accumulator {
 public:
  rate_accumulator() = default;
  rate_accumulator(std::int64_t width, double t0, double t1, std::int64_t batches = default_batches);

  // One interval of length `span` centred at `t_mid`: its log growth of each rate.
  void add(std::span<const double> logs, double span, double t_mid);
  double time() const { return time_; }
  double rate(std::int64_t j) const;  // NaN before any interval
  double batch_rate(std::int64_t k, std::int64_t j) const;  // NaN for an empty batch
  mean_sem estimate(std::int64_t j) const;  // the rate and its batch-means error
  std::int64_t batches() const { return batches_; }

  std::vector<double> state() const;  // fixed size: 1 + width + batches (1 + width)
  void restore(std::span<const double> s);

 private:
  std::int64_t width_ = 0, batches_ = 0;
  double t0_ = 0, t1_ = 0, time_ = 0;
  std::vector<double> sum_;        // [width]
  std::vector<double> batch_time_;  // [batches]
  std::vector<double> batch_sum_;  // [batches][width]
};

// The rates a of every draw's accumulator (rates [D] accumulators, each of width R k): exponent a
// over the ensemble, as batch_means_accumulator::ensemble (draws when D > 1, time batches of the
// replica mean when D = 1).
mean_sem ensemble_rate(std::span<const rate_accumulator> draws, std::int64_t replicas, std::int64_t k, std::int64_t a);

// C(tau_l) = mean over neurons and t of x_i(t) x_i(t + l), l = 0 .. lags-1, for x [T][M]
// (row-major) held in memory: by FFT (Wiener-Khinchin, zero-padded) or by direct sums. Unbiased:
// divided by the number of pairs T - l. (The simulation streams C with autocorrelation_accumulator;
// these are the second method the tests hold it against.)
std::vector<double> autocorrelation_fft(const double* x, std::int64_t T, std::int64_t M, std::int64_t lags);
std::vector<double> autocorrelation_direct(const double* x, std::int64_t T, std::int64_t M, std::int64_t lags);
// The cheaper of the two for these sizes (the FFT for long lag ranges).
std::vector<double> autocorrelation(const double* x, std::int64_t T, std::int64_t M, std::int64_t lags);

}  // namespace amari
