#pragma once
// A finite random rate network (Amari 1972; Sompolinsky, Crisanti & Sommers 1988):
//
//   dh_i/dt = -h_i + sum_j W_ij phi(h_j) + b_i,          i = 1 .. N,
//   W_ij ~ N(w0 / N, sigma_w^2 / N),   b_i ~ N(b0, sigma_b^2),   h_i(0) ~ N(m0, q0),  all i.i.d.
//
// Reproducibility. Every random number comes from its own stream, keyed by (seed, draw, what,
// index) through a SplitMix64 hash (Steele, Lea & Flood 2014) into a Boost mt19937_64 and Boost's
// normal_distribution (ziggurat; both portable, unlike std::normal_distribution):
//   row i of W in draw d          <- stream (seed, d, "W", i)
//   the bias vector b of draw d   <- stream (seed, d, "b", 0)
//   h(0) of replica r in draw d   <- stream (seed, d, "h0", r)
//   the perturbation of replica r <- stream (seed, d, "eps", r)
//   the tangent vectors of replica r <- stream (seed, d, "tangent", r)   (Lyapunov exponents)
// so that neither the number of threads, nor the number of replicas, nor the precision changes
// what a row of W, b or an initial condition receives: W is drawn in double, and a narrower
// storage (float or half, kernels.hpp) holds the double draw rounded to nearest (weights::set_row,
// the one place where that happens), so every precision sees the same network up to rounding.
#include <Eigen/Core>
#include <cstdint>
#include <string>

#include "amari/core/activation.hpp"
#include "amari/core/params.hpp"
#include "amari/sim/kernels.hpp"

namespace amari {

struct network_params {
  std::int64_t n = 1000;     // number of neurons N
  model_params model = defaults::time;  // phi and the distribution of W and b
  double m0 = 0.0;           // mean of h_i(0)
  double q0 = 1.0;           // variance of h_i(0)
  std::int64_t seed = 1;     // root of every random stream (>= 0)

  // Throws InvalidArgument naming the first bad field.
  void validate() const;
};

// The random streams (see the header comment).
enum class stream_kind : std::uint64_t { weights = 1, bias = 2, initial = 3, perturbation = 4, tangent = 5 };
std::uint64_t stream_key(std::int64_t seed, std::int64_t draw, stream_kind kind, std::int64_t index);

// n standard normal numbers from the stream `key`.
void standard_normals(std::uint64_t key, double* out, std::int64_t n);

// One draw of (W, b) for a state in precision S (W stored in S or narrower).
template <class S>
struct network {
  weights<S> W;
  Eigen::Matrix<S, Eigen::Dynamic, 1> b;
};

// The rows of W one process holds: all of them (count < 0), or first .. first + count - 1 when a
// network is spread over several processes (simulate_inputs::rows).
struct row_range {
  std::int64_t first = 0, count = -1;
};

// How `parts` processes share a network of n neurons by rows: part p holds the rows n p / parts ..
// n (p + 1) / parts - 1 (floor(n / parts) or ceil(n / parts) of them).
constexpr row_range row_block(std::int64_t n, std::int64_t part, std::int64_t parts) {
  const std::int64_t first = n * part / parts;
  return {first, n * (part + 1) / parts - first};
}

// The most rows a part holds: ceil(n / parts).
constexpr std::int64_t largest_row_block(std::int64_t n, std::int64_t parts) { return (n + parts - 1) / parts; }

// Draws W and b of draw `draw` (rows of W in parallel over `threads`; the result does not depend
// on the thread count), W stored in `storage` (by default S) with the product accumulated as `acc`.
// Only the rows in `rows` are drawn (each from its own stream: the same values as in the whole W);
// b is drawn whole.
template <class S>
network<S> draw_network(const network_params& p, std::int64_t draw, int threads,
                        storage_kind storage = sizeof(S) == 8 ? storage_kind::float64 : storage_kind::float32,
                        accumulation_kind acc = accumulation_kind::state, row_range rows = {});

// h(0) of replica r of draw d: N(m0, q0) i.i.d., or, when eps > 0 and r > 0, replica 0's plus
// eps times a standard normal vector.
Eigen::VectorXd draw_initial(const network_params& p, std::int64_t draw, std::int64_t replica,
                             double eps);

// Bytes one draw's W occupies in `storage` (with the row padding): all N rows, or `rows` of them.
std::uint64_t weight_bytes(std::int64_t n, storage_kind storage, std::int64_t rows = -1);

extern template struct network<double>;
extern template struct network<float>;

}  // namespace amari
