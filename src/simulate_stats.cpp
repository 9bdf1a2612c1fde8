// Statistics of simulated runs: ensemble means with standard errors, batch means for
// time-correlated series, and the autocorrelation function (FFT and direct sums).
#include <unsupported/Eigen/FFT>

#include <cmath>
#include <complex>
#include <limits>
#include <vector>

#include "amari/simulate.hpp"

namespace amari {

namespace {
mean_sem mean_and_sem(const std::vector<double>& x) {
  mean_sem r;
  const auto n = static_cast<double>(x.size());
  if (x.empty()) {
    r.mean = std::numeric_limits<double>::quiet_NaN();
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
}  // namespace

mean_sem ensemble_mean(const std::vector<double>& values, std::int64_t draws, std::int64_t replicas) {
  if (draws > 1) {
    std::vector<double> per_draw(static_cast<std::size_t>(draws), 0.0);
    for (std::int64_t d = 0; d < draws; ++d) {
      for (std::int64_t r = 0; r < replicas; ++r) per_draw[d] += values[d * replicas + r];
      per_draw[d] /= static_cast<double>(replicas);
    }
    return mean_and_sem(per_draw);
  }
  return mean_and_sem(std::vector<double>(values.begin(), values.begin() + replicas));
}

mean_sem batch_means(const std::vector<double>& x, std::int64_t batches) {
  const auto n = static_cast<std::int64_t>(x.size());
  mean_sem r;
  if (n == 0) {
    r.mean = std::numeric_limits<double>::quiet_NaN();
    return r;
  }
  double s = 0;
  for (double v : x) s += v;
  r.mean = s / static_cast<double>(n);
  const std::int64_t b = std::min(batches, n);
  if (b < 2) return r;
  std::vector<double> means;
  for (std::int64_t k = 0; k < b; ++k) {
    const std::int64_t lo = k * n / b, hi = (k + 1) * n / b;
    double bs = 0;
    for (std::int64_t i = lo; i < hi; ++i) bs += x[i];
    means.push_back(bs / static_cast<double>(hi - lo));
  }
  r.sem = mean_and_sem(means).sem;
  return r;
}

std::vector<double> autocorrelation_direct(const double* x, std::int64_t T, std::int64_t M,
                                           std::int64_t lags) {
  std::vector<double> c(static_cast<std::size_t>(lags), 0.0);
  for (std::int64_t l = 0; l < lags && l < T; ++l) {
    double s = 0;
    for (std::int64_t t = 0; t + l < T; ++t) {
      const double* a = x + t * M;
      const double* b = x + (t + l) * M;
      for (std::int64_t i = 0; i < M; ++i) s += a[i] * b[i];
    }
    c[l] = s / (static_cast<double>(M) * static_cast<double>(T - l));
  }
  return c;
}

std::vector<double> autocorrelation_fft(const double* x, std::int64_t T, std::int64_t M,
                                        std::int64_t lags) {
  // Wiener-Khinchin: with zero padding to nfft >= 2T the inverse transform of |X(f)|^2 is the
  // linear (not circular) correlation sum_t x(t) x(t + l).
  std::int64_t nfft = 1;
  while (nfft < 2 * T) nfft *= 2;
  Eigen::FFT<double> fft;
  std::vector<double> buf(static_cast<std::size_t>(nfft)), back;
  std::vector<std::complex<double>> spec;
  std::vector<double> sum(static_cast<std::size_t>(lags), 0.0);
  for (std::int64_t i = 0; i < M; ++i) {
    std::fill(buf.begin(), buf.end(), 0.0);
    for (std::int64_t t = 0; t < T; ++t) buf[t] = x[t * M + i];
    fft.fwd(spec, buf);
    for (auto& z : spec) z = std::norm(z);
    fft.inv(back, spec);
    for (std::int64_t l = 0; l < lags && l < T; ++l) sum[l] += back[l];
  }
  for (std::int64_t l = 0; l < lags && l < T; ++l)
    sum[l] /= static_cast<double>(M) * static_cast<double>(T - l);
  return sum;
}

}  // namespace amari
