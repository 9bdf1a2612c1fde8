// Statistics of simulated runs: ensemble means with standard errors, batch means for
// time-correlated series, and the autocorrelation function (FFT and direct sums).
#include <Eigen/Core>
#include <unsupported/Eigen/FFT>

#include <algorithm>

#include <cmath>
#include <complex>
#include <limits>
#include <vector>

#include "amari/sim/simulate.hpp"

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
