// Statistics of estimates (include/amari/core/stats.hpp): means with standard errors, batch means
// (Flyvbjerg & Petersen 1989), and the streaming accumulators of the simulation.
#include "amari/core/stats.hpp"

#include <Eigen/Core>
#include <unsupported/Eigen/FFT>

#include <algorithm>
#include <cmath>
#include <complex>
#include <stdexcept>
#include <string>

namespace amari {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

void require_size(const char* what, std::size_t got, std::size_t want) {
  if (got != want)
    throw std::invalid_argument(std::string(what) + ": a state of " + std::to_string(got) + " numbers, expected " +
                                std::to_string(want));
}

// Dot product of two arrays of n doubles, n a multiple of 8, in a fixed order (eight lanes, i mod 8,
// then summed pairwise): the same bits whatever the alignment of the arrays.
double dot8(const double* a, const double* b, std::int64_t n) {
  using lane = Eigen::Array<double, 8, 1>;
  lane acc = lane::Zero();
  for (std::int64_t i = 0; i < n; i += 8) acc += Eigen::Map<const lane>(a + i) * Eigen::Map<const lane>(b + i);
  return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

std::int64_t round_up8(std::int64_t n) { return (n + 7) / 8 * 8; }

}  // namespace

mean_sem mean_and_sem(std::span<const double> x) {
  mean_sem r;
  const auto n = static_cast<double>(x.size());
  if (x.empty()) {
    r.mean = nan;
    return r;
  }
  double s = 0;
  for (double v : x) s += v;
  r.mean = s / n;
  if (x.size() < 2) return r;
  double ss = 0;
  for (double v : x) ss += (v - r.mean) * (v - r.mean);
  r.sem = std::sqrt(ss / (n - 1) / n);
  return r;
}

void mean_and_sem_columns(std::span<const double> x, std::int64_t rows, std::int64_t cols, std::vector<double>& mean,
                          std::vector<double>& sem) {
  mean.assign(static_cast<std::size_t>(cols), nan);
  sem.assign(static_cast<std::size_t>(cols), nan);
  std::vector<double> column(static_cast<std::size_t>(rows));
  for (std::int64_t c = 0; c < cols; ++c) {
    for (std::int64_t r = 0; r < rows; ++r) column[r] = x[r * cols + c];
    const mean_sem ms = mean_and_sem(column);
    mean[c] = ms.mean;
    sem[c] = ms.sem;
  }
}

mean_sem ensemble_mean(std::span<const double> values, std::int64_t draws, std::int64_t replicas) {
  if (draws > 1) {
    std::vector<double> per_draw(static_cast<std::size_t>(draws), 0.0);
    for (std::int64_t d = 0; d < draws; ++d) {
      for (std::int64_t r = 0; r < replicas; ++r) per_draw[d] += values[d * replicas + r];
      per_draw[d] /= static_cast<double>(replicas);
    }
    return mean_and_sem(per_draw);
  }
  return mean_and_sem(values.subspan(0, static_cast<std::size_t>(replicas)));
}

const char* ensemble_sem_over(std::int64_t draws, std::int64_t replicas) {
  if (draws > 1) return sem_over_draws;
  return replicas > 1 ? sem_over_replicas : sem_over_none;
}

const char* time_average_sem_over(std::int64_t draws) { return draws > 1 ? sem_over_draws : sem_over_time; }

std::int64_t batch_of(std::int64_t i, std::int64_t n, std::int64_t b) {
  // The largest k with floor(k n / b) <= i, i.e. k n < (i + 1) b.
  return ((i + 1) * b - 1) / n;
}

std::int64_t batch_begin(std::int64_t k, std::int64_t n, std::int64_t b) { return k * n / b; }

mean_sem batch_means(std::span<const double> x, std::int64_t batches) {
  const auto n = static_cast<std::int64_t>(x.size());
  mean_sem r;
  if (n == 0) {
    r.mean = nan;
    return r;
  }
  double s = 0;
  for (double v : x) s += v;
  r.mean = s / static_cast<double>(n);
  const std::int64_t b = std::min(batches, n);
  if (b < 2) return r;
  std::vector<double> means;
  for (std::int64_t k = 0; k < b; ++k) {
    const std::int64_t lo = batch_begin(k, n, b), hi = batch_begin(k + 1, n, b);
    double bs = 0;
    for (std::int64_t i = lo; i < hi; ++i) bs += x[i];
    means.push_back(bs / static_cast<double>(hi - lo));
  }
  r.sem = mean_and_sem(means).sem;
  return r;
}

// ---------------------------------------------------------------------------------------------
// batch_means_accumulator

batch_means_accumulator::batch_means_accumulator(std::int64_t width, std::int64_t length, std::int64_t batches)
    : width_(width), length_(length), batches_(std::min(batches, length)) {
  if (width < 0 || length < 0 || batches < 1) throw std::invalid_argument("batch_means_accumulator: bad sizes");
  // Room for `batches` batches even when the window has fewer samples: the state has the same size
  // for every window length.
  total_.assign(static_cast<std::size_t>(width_), 0.0);
  sums_.assign(static_cast<std::size_t>(width_ * batches), 0.0);
}

void batch_means_accumulator::add(std::span<const double> row) {
  if (count_ >= length_) throw std::logic_error("batch_means_accumulator: more samples than the window holds");
  require_size("batch_means_accumulator::add", row.size(), static_cast<std::size_t>(width_));
  double* batch = sums_.data() + batch_of(count_, length_, batches_) * width_;
  for (std::int64_t j = 0; j < width_; ++j) {
    total_[j] += row[j];
    batch[j] += row[j];
  }
  ++count_;
}

double batch_means_accumulator::mean(std::int64_t j) const {
  return count_ > 0 ? total_[j] / static_cast<double>(count_) : nan;
}

double batch_means_accumulator::batch_mean(std::int64_t k, std::int64_t j) const {
  const std::int64_t lo = batch_begin(k, length_, batches_), hi = batch_begin(k + 1, length_, batches_);
  const std::int64_t n = std::clamp<std::int64_t>(count_ - lo, 0, hi - lo);
  return n > 0 ? sums_[k * width_ + j] / static_cast<double>(n) : nan;
}

namespace {
// Mean and error of the finite values among x (the batch averages of the batches that have data).
mean_sem over_finite(const std::vector<double>& x) {
  std::vector<double> v;
  for (double y : x)
    if (!std::isnan(y)) v.push_back(y);
  return mean_and_sem(v);
}
}  // namespace

mean_sem batch_means_accumulator::estimate(std::int64_t j) const {
  std::vector<double> means(static_cast<std::size_t>(batches_));
  for (std::int64_t k = 0; k < batches_; ++k) means[k] = batch_mean(k, j);
  return {mean(j), over_finite(means).sem};
}

mean_sem batch_means_accumulator::ensemble(std::int64_t draws, std::int64_t replicas, std::int64_t first,
                                           std::int64_t stride) const {
  auto col = [&](std::int64_t d, std::int64_t r) { return first + (d * replicas + r) * stride; };
  if (draws > 1) {
    std::vector<double> per_draw(static_cast<std::size_t>(draws), 0.0);
    for (std::int64_t d = 0; d < draws; ++d) {
      for (std::int64_t r = 0; r < replicas; ++r) per_draw[d] += mean(col(d, r));
      per_draw[d] /= static_cast<double>(replicas);
    }
    return mean_and_sem(per_draw);
  }
  mean_sem out;
  out.mean = 0;
  for (std::int64_t r = 0; r < replicas; ++r) out.mean += mean(col(0, r));
  out.mean /= static_cast<double>(replicas);
  std::vector<double> y(static_cast<std::size_t>(batches_), 0.0);
  for (std::int64_t k = 0; k < batches_; ++k) {
    for (std::int64_t r = 0; r < replicas; ++r) y[k] += batch_mean(k, col(0, r));
    y[k] /= static_cast<double>(replicas);
  }
  out.sem = over_finite(y).sem;
  return out;
}

std::vector<double> batch_means_accumulator::state() const {
  std::vector<double> s;
  s.reserve(1 + total_.size() + sums_.size());
  s.push_back(static_cast<double>(count_));
  s.insert(s.end(), total_.begin(), total_.end());
  s.insert(s.end(), sums_.begin(), sums_.end());
  return s;
}

void batch_means_accumulator::restore(std::span<const double> s) {
  require_size("batch_means_accumulator", s.size(), 1 + total_.size() + sums_.size());
  count_ = static_cast<std::int64_t>(s[0]);
  std::copy_n(s.begin() + 1, total_.size(), total_.begin());
  std::copy_n(s.begin() + 1 + static_cast<std::ptrdiff_t>(total_.size()), sums_.size(), sums_.begin());
}

// ---------------------------------------------------------------------------------------------
// autocorrelation_accumulator

autocorrelation_accumulator::autocorrelation_accumulator(std::int64_t series, std::int64_t neurons, std::int64_t lags,
                                                         std::int64_t length, std::int64_t batches)
    : series_(series), neurons_(neurons), lags_(lags), length_(length), batches_(std::min(batches, length)) {
  if (series < 1 || neurons < 1 || lags < 1 || length < 0 || batches < 1)
    throw std::invalid_argument("autocorrelation_accumulator: bad sizes");
  ring_.assign(static_cast<std::size_t>(series_ * lags_ * round_up8(neurons_)), 0.0);
  total_.assign(static_cast<std::size_t>(series_ * lags_), 0.0);
  sums_.assign(static_cast<std::size_t>(batches * series_ * lags_), 0.0);  // as batch_means_accumulator
  products_.assign(static_cast<std::size_t>(lags_), 0.0);
}

void autocorrelation_accumulator::add(std::span<const double> x) {
  if (count_ >= length_) throw std::logic_error("autocorrelation_accumulator: more samples than the window holds");
  require_size("autocorrelation_accumulator::add", x.size(), static_cast<std::size_t>(series_ * neurons_));
  const std::int64_t t = count_, stride = round_up8(neurons_), slot = t % lags_;
  const std::int64_t reach = std::min(lags_ - 1, t);  // the largest lag with a pair
  double* batch = sums_.data() + batch_of(t, length_, batches_) * series_ * lags_;
  for (std::int64_t s = 0; s < series_; ++s) {
    double* ring = ring_.data() + s * lags_ * stride;
    // The new sample into its slot (the padding stays 0), then its products with the samples
    // t - l, l = 0 .. reach, each a dot product over the neurons.
    std::copy_n(x.data() + s * neurons_, neurons_, ring + slot * stride);
    const double* now = ring + slot * stride;
    for (std::int64_t l = 0; l <= reach; ++l) {
      const std::int64_t other = (t - l) % lags_;
      products_[l] = dot8(now, ring + other * stride, stride);
    }
    for (std::int64_t l = 0; l <= reach; ++l) {
      total_[s * lags_ + l] += products_[l];
      batch[s * lags_ + l] += products_[l];
    }
  }
  ++count_;
}

std::int64_t autocorrelation_accumulator::pairs(std::int64_t k, std::int64_t l) const {
  // A pair (t - l, t) belongs to the batch of t; of the samples so far, those with t >= l.
  std::int64_t lo = 0, hi = count_;
  if (k >= 0) {
    lo = batch_begin(k, length_, batches_);
    hi = std::min(count_, batch_begin(k + 1, length_, batches_));
  }
  return std::max<std::int64_t>(0, hi - std::max(lo, l));
}

double autocorrelation_accumulator::value(std::int64_t s, std::int64_t l) const {
  const std::int64_t n = pairs(-1, l);
  return n > 0 ? total_[s * lags_ + l] / (static_cast<double>(neurons_) * static_cast<double>(n)) : nan;
}

double autocorrelation_accumulator::batch_value(std::int64_t k, std::int64_t s, std::int64_t l) const {
  const std::int64_t n = pairs(k, l);
  return n > 0 ? sums_[(k * series_ + s) * lags_ + l] / (static_cast<double>(neurons_) * static_cast<double>(n)) : nan;
}

mean_sem autocorrelation_accumulator::estimate(std::int64_t s, std::int64_t l) const {
  std::vector<double> values(static_cast<std::size_t>(batches_));
  for (std::int64_t k = 0; k < batches_; ++k) values[k] = batch_value(k, s, l);
  return {value(s, l), over_finite(values).sem};
}

mean_sem autocorrelation_accumulator::ensemble(std::int64_t l, std::int64_t draws, std::int64_t replicas) const {
  if (draws > 1) {
    std::vector<double> per_draw(static_cast<std::size_t>(draws), 0.0);
    for (std::int64_t d = 0; d < draws; ++d) {
      for (std::int64_t r = 0; r < replicas; ++r) per_draw[d] += value(d * replicas + r, l);
      per_draw[d] /= static_cast<double>(replicas);
    }
    return mean_and_sem(per_draw);
  }
  mean_sem out;
  out.mean = 0;
  for (std::int64_t r = 0; r < replicas; ++r) out.mean += value(r, l);
  out.mean /= static_cast<double>(replicas);
  std::vector<double> y(static_cast<std::size_t>(batches_), 0.0);
  for (std::int64_t k = 0; k < batches_; ++k) {
    for (std::int64_t r = 0; r < replicas; ++r) y[k] += batch_value(k, r, l);
    y[k] /= static_cast<double>(replicas);
  }
  out.sem = over_finite(y).sem;
  return out;
}

std::vector<double> autocorrelation_accumulator::state() const {
  // The ring without its zero padding: [series][slot][neurons].
  const std::int64_t stride = round_up8(neurons_);
  std::vector<double> s;
  s.reserve(static_cast<std::size_t>(1 + series_ * lags_ * neurons_) + total_.size() + sums_.size());
  s.push_back(static_cast<double>(count_));
  for (std::int64_t j = 0; j < series_ * lags_; ++j)
    s.insert(s.end(), ring_.begin() + j * stride, ring_.begin() + j * stride + neurons_);
  s.insert(s.end(), total_.begin(), total_.end());
  s.insert(s.end(), sums_.begin(), sums_.end());
  return s;
}

void autocorrelation_accumulator::restore(std::span<const double> s) {
  const std::int64_t stride = round_up8(neurons_), ring = series_ * lags_ * neurons_;
  require_size("autocorrelation_accumulator", s.size(),
               static_cast<std::size_t>(1 + ring) + total_.size() + sums_.size());
  count_ = static_cast<std::int64_t>(s[0]);
  for (std::int64_t j = 0; j < series_ * lags_; ++j)
    std::copy_n(s.begin() + 1 + j * neurons_, neurons_, ring_.begin() + j * stride);
  std::copy_n(s.begin() + 1 + ring, total_.size(), total_.begin());
  std::copy_n(s.begin() + 1 + ring + static_cast<std::ptrdiff_t>(total_.size()), sums_.size(), sums_.begin());
}

// ---------------------------------------------------------------------------------------------
// rate_accumulator

rate_accumulator::rate_accumulator(std::int64_t width, double t0, double t1, std::int64_t batches)
    : width_(width), batches_(batches), t0_(t0), t1_(t1) {
  if (width < 0 || batches < 1 || !(t1 > t0)) throw std::invalid_argument("rate_accumulator: bad sizes");
  sum_.assign(static_cast<std::size_t>(width_), 0.0);
  batch_time_.assign(static_cast<std::size_t>(batches_), 0.0);
  batch_sum_.assign(static_cast<std::size_t>(batches_ * width_), 0.0);
}

void rate_accumulator::add(std::span<const double> logs, double span, double t_mid) {
  require_size("rate_accumulator::add", logs.size(), static_cast<std::size_t>(width_));
  // The batch of the midpoint; 1e-9 of a batch decides a midpoint that falls on a boundary the
  // same way when the times carry different rounding (a run rebuilt from stored intervals).
  const double x = (t_mid - t0_) / (t1_ - t0_) * static_cast<double>(batches_);
  const auto k = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(x + 1e-9)), 0, batches_ - 1);
  time_ += span;
  batch_time_[k] += span;
  for (std::int64_t j = 0; j < width_; ++j) {
    sum_[j] += logs[j];
    batch_sum_[k * width_ + j] += logs[j];
  }
}

double rate_accumulator::rate(std::int64_t j) const { return time_ > 0 ? sum_[j] / time_ : nan; }

double rate_accumulator::batch_rate(std::int64_t k, std::int64_t j) const {
  return batch_time_[k] > 0 ? batch_sum_[k * width_ + j] / batch_time_[k] : nan;
}

mean_sem rate_accumulator::estimate(std::int64_t j) const {
  std::vector<double> rates(static_cast<std::size_t>(batches_));
  for (std::int64_t k = 0; k < batches_; ++k) rates[k] = batch_rate(k, j);
  return {rate(j), over_finite(rates).sem};
}

std::vector<double> rate_accumulator::state() const {
  std::vector<double> s;
  s.reserve(1 + sum_.size() + batch_time_.size() + batch_sum_.size());
  s.push_back(time_);
  s.insert(s.end(), sum_.begin(), sum_.end());
  s.insert(s.end(), batch_time_.begin(), batch_time_.end());
  s.insert(s.end(), batch_sum_.begin(), batch_sum_.end());
  return s;
}

void rate_accumulator::restore(std::span<const double> s) {
  require_size("rate_accumulator", s.size(), 1 + sum_.size() + batch_time_.size() + batch_sum_.size());
  time_ = s[0];
  auto it = s.begin() + 1;
  std::copy_n(it, sum_.size(), sum_.begin());
  it += static_cast<std::ptrdiff_t>(sum_.size());
  std::copy_n(it, batch_time_.size(), batch_time_.begin());
  it += static_cast<std::ptrdiff_t>(batch_time_.size());
  std::copy_n(it, batch_sum_.size(), batch_sum_.begin());
}

mean_sem ensemble_rate(std::span<const rate_accumulator> draws, std::int64_t replicas, std::int64_t k, std::int64_t a) {
  const auto D = static_cast<std::int64_t>(draws.size());
  if (D > 1) {
    std::vector<double> per_draw(static_cast<std::size_t>(D), 0.0);
    for (std::int64_t d = 0; d < D; ++d) {
      for (std::int64_t r = 0; r < replicas; ++r) per_draw[d] += draws[d].rate(r * k + a);
      per_draw[d] /= static_cast<double>(replicas);
    }
    return mean_and_sem(per_draw);
  }
  mean_sem out;
  out.mean = 0;
  for (std::int64_t r = 0; r < replicas; ++r) out.mean += draws[0].rate(r * k + a);
  out.mean /= static_cast<double>(replicas);
  std::vector<double> y(static_cast<std::size_t>(draws[0].batches()), 0.0);
  for (std::int64_t b = 0; b < draws[0].batches(); ++b) {
    for (std::int64_t r = 0; r < replicas; ++r) y[b] += draws[0].batch_rate(b, r * k + a);
    y[b] /= static_cast<double>(replicas);
  }
  out.sem = over_finite(y).sem;
  return out;
}

// ---------------------------------------------------------------------------------------------
// C(tau) of a series held in memory

std::vector<double> autocorrelation_direct(const double* x, std::int64_t T, std::int64_t M,
                                           std::int64_t lags) {
  // Rows of x are the samples: each lag is T - l dot products of length M (Eigen vectorises them).
  const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> X(x, T, M);
  std::vector<double> c(static_cast<std::size_t>(lags), 0.0);
  for (std::int64_t l = 0; l < lags && l < T; ++l) {
    double s = 0;
    for (std::int64_t t = 0; t + l < T; ++t) s += X.row(t).dot(X.row(t + l));
    c[l] = s / (static_cast<double>(M) * static_cast<double>(T - l));
  }
  return c;
}

std::vector<double> autocorrelation_fft(const double* x, std::int64_t T, std::int64_t M,
                                        std::int64_t lags) {
  // Wiener-Khinchin: with zero padding to nfft >= 2T the inverse transform of |X(f)|^2 is the
  // linear (not circular) correlation sum_t x(t) x(t + l). Only the sum over neurons is wanted,
  // so the power spectra are summed and transformed back once; two real series share one complex
  // transform: for z = x + i y, |X_k|^2 + |Y_k|^2 = (|Z_k|^2 + |Z_{-k}|^2) / 2.
  std::int64_t nfft = 1;
  while (nfft < 2 * T) nfft *= 2;
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> z(static_cast<std::size_t>(nfft)), Z;
  std::vector<double> power(static_cast<std::size_t>(nfft), 0.0), back;
  for (std::int64_t i = 0; i < M; i += 2) {
    const bool pair = i + 1 < M;
    std::fill(z.begin(), z.end(), std::complex<double>(0, 0));
    for (std::int64_t t = 0; t < T; ++t) z[t] = {x[t * M + i], pair ? x[t * M + i + 1] : 0.0};
    fft.fwd(Z, z);
    for (std::int64_t k = 0; k < nfft; ++k) {
      const auto& a = Z[k];
      const auto& b = Z[(nfft - k) % nfft];
      power[k] += 0.5 * (a.real() * a.real() + a.imag() * a.imag() + b.real() * b.real() + b.imag() * b.imag());
    }
  }
  std::vector<std::complex<double>> P(power.begin(), power.end());
  std::vector<std::complex<double>> r;
  fft.inv(r, P);
  std::vector<double> sum(static_cast<std::size_t>(lags), 0.0);
  for (std::int64_t l = 0; l < lags && l < T; ++l)
    sum[l] = r[l].real() / (static_cast<double>(M) * static_cast<double>(T - l));
  return sum;
}

std::vector<double> autocorrelation(const double* x, std::int64_t T, std::int64_t M, std::int64_t lags) {
  // Direct sums cost ~T L M / 8 cycles (vectorised), the FFT ~3 M nfft log2(nfft) (scalar
  // complex arithmetic, two series per transform): the cheaper one.
  std::int64_t nfft = 1, bits = 0;
  while (nfft < 2 * T) nfft *= 2, ++bits;
  const double direct = static_cast<double>(T) * static_cast<double>(std::min(lags, T)) / 8;
  const double fft = 3.0 * static_cast<double>(nfft) * static_cast<double>(bits);
  return fft < direct ? autocorrelation_fft(x, T, M, lags) : autocorrelation_direct(x, T, M, lags);
}

}  // namespace amari
