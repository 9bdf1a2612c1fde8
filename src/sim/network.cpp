#include "amari/sim/network.hpp"

#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <string>

#include "amari/core/error.hpp"

namespace amari {

void network_params::validate() const {
  if (n < 1 || n > 1000000)
    throw InvalidArgument("n", std::to_string(n), "must be an integer in [1, 1000000]");
  model.validate();
  require_finite("m0", m0);
  require_nonnegative("q0", q0);
  if (seed < 0) throw InvalidArgument("seed", std::to_string(seed), "must be an integer >= 0");
}

namespace {
// SplitMix64's finaliser (Steele, Lea & Flood 2014): a bijective mix of 64 bits.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

std::uint64_t stream_key(std::int64_t seed, std::int64_t draw, stream_kind kind, std::int64_t index) {
  std::uint64_t k = mix(static_cast<std::uint64_t>(seed));
  k = mix(k ^ static_cast<std::uint64_t>(draw));
  k = mix(k ^ static_cast<std::uint64_t>(kind));
  return mix(k ^ static_cast<std::uint64_t>(index));
}

void standard_normals(std::uint64_t key, double* out, std::int64_t n) {
  boost::random::mt19937_64 engine(key);
  boost::random::normal_distribution<double> z;
  for (std::int64_t i = 0; i < n; ++i) out[i] = z(engine);
}

template <class S>
network<S> draw_network(const network_params& p, std::int64_t draw, int threads, storage_kind storage,
                        accumulation_kind acc, row_range rows) {
  const std::int64_t n = p.n, first = rows.first, last = rows.count < 0 ? n : first + rows.count;
  network<S> net{weights<S>(n, storage, acc, first, last - first), Eigen::Matrix<S, Eigen::Dynamic, 1>(n)};
  const double mean = p.model.w0 / static_cast<double>(n), sd = p.model.sigma_w / std::sqrt(static_cast<double>(n));
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> z(static_cast<std::size_t>(n));
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t i = first; i < last; ++i) {
      standard_normals(stream_key(p.seed, draw, stream_kind::weights, i), z.data(), n);
      for (std::int64_t j = 0; j < n; ++j) z[j] = mean + sd * z[j];
      net.W.set_row(i, z.data());
    }
  }
  std::vector<double> z(static_cast<std::size_t>(n));
  standard_normals(stream_key(p.seed, draw, stream_kind::bias, 0), z.data(), n);
  for (std::int64_t i = 0; i < n; ++i) net.b[i] = static_cast<S>(p.model.b0 + p.model.sigma_b * z[i]);
  return net;
}

Eigen::VectorXd draw_initial(const network_params& p, std::int64_t draw, std::int64_t replica,
                             double eps) {
  Eigen::VectorXd h(p.n), z(p.n);
  if (eps > 0 && replica > 0) {
    h = draw_initial(p, draw, 0, 0.0);
    standard_normals(stream_key(p.seed, draw, stream_kind::perturbation, replica), z.data(), p.n);
    return h + eps * z;
  }
  standard_normals(stream_key(p.seed, draw, stream_kind::initial, replica), z.data(), p.n);
  return (p.m0 + std::sqrt(p.q0) * z.array()).matrix();
}

std::uint64_t weight_bytes(std::int64_t n, storage_kind storage, std::int64_t rows) {
  return static_cast<std::uint64_t>(rows < 0 ? n : rows) * static_cast<std::uint64_t>(padded_size(n)) *
         storage_bytes(storage);
}

template network<double> draw_network<double>(const network_params&, std::int64_t, int, storage_kind,
                                              accumulation_kind, row_range);
template network<float> draw_network<float>(const network_params&, std::int64_t, int, storage_kind,
                                            accumulation_kind, row_range);
template struct network<double>;
template struct network<float>;

}  // namespace amari
