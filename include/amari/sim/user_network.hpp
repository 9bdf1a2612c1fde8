#pragma once
// The user's own network: a coupling matrix W and/or a bias vector b given by the caller instead
// of drawn from (seed, draw) (network.hpp), for the same equations
//
//   dh/dt = -h + W phi(h) + b        (and the map h <- W phi(h) + b).
//
// W arrives as a non-owning view of an N x N array of float64 or float32 in any strides (C or
// Fortran order, numpy's or Eigen's) and is copied once, straight into amari's padded row-major
// coupling storage, converted to the precision of the state (kernels.hpp). The seed still drives
// everything else: h(0), the replica perturbations, the tangent vectors, and b when it is not
// given.
//
// Provenance. A W or b is identified by where it came from ("memory", or "FILE:DATASET") and a
// checksum: FNV-1a 64 (Fowler, Noll & Vo; offset basis 0xcbf29ce484222325, prime 0x100000001b3)
// over the bytes of its entries as little-endian IEEE 754 float64, in row-major (C) order -- so a
// float32 array and its float64 conversion have the same checksum, and so do a C-order and a
// Fortran-order copy of one matrix.
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "amari/sim/network.hpp"
#include "amari/sim/simulate.hpp"

namespace amari {

// A non-owning view of the user's N x N couplings: entry (i, j) is at
// data + i * row_stride + j * col_stride elements (C order: row_stride = cols, col_stride = 1;
// Fortran order: row_stride = 1, col_stride = rows).
struct weights_view {
  const void* data = nullptr;      // nullptr: W is drawn (unless it holds no rows: held = 0)
  bool single = false;             // float32 entries (else float64)
  std::int64_t rows = 0, cols = 0;
  std::int64_t row_stride = 0, col_stride = 0;  // in elements
  // The rows the view holds: first_row .. first_row + held - 1 (held < 0: all), when a process
  // holds some rows of a W too large to hold whole (the rows of an MPI rank); data points at the
  // first of them.
  std::int64_t first_row = 0, held = -1;
  // Instead of data: the rows read on demand (from the user's file, in blocks of about
  // weights_block_entries numbers), so that building the network holds one block of them at a
  // time beside the storage. fetch(first, count, out) writes rows first .. first + count - 1
  // (within the held rows) to out, row-major, as float64.
  std::function<void(std::int64_t first, std::int64_t count, double* out)> fetch = nullptr;

  bool given() const { return data != nullptr || rows > 0; }
  bool streamed() const { return data == nullptr && fetch != nullptr; }
  bool whole() const { return held < 0 || (first_row == 0 && held == rows); }
  std::int64_t held_first() const { return held < 0 ? 0 : first_row; }
  std::int64_t held_end() const { return held < 0 ? rows : first_row + held; }
  // Entry (i, j) of a view with data (not of a streamed one: read_weight_rows).
  double operator()(std::int64_t i, std::int64_t j) const {
    const std::int64_t k = (i - first_row) * row_stride + j * col_stride;
    return single ? static_cast<double>(static_cast<const float*>(data)[k]) : static_cast<const double*>(data)[k];
  }
};

// The numbers a block of a streamed view's rows holds at most (64 MB as float64).
inline constexpr std::int64_t weights_block_entries = std::int64_t{1} << 23;
// The rows a block of a view of n columns holds.
inline std::int64_t weights_block_rows(std::int64_t cols) {
  return cols > 0 ? (weights_block_entries + cols - 1) / cols : 1;
}
// Rows first .. first + count - 1 of w (held by it) into out, row-major, as float64.
void read_weight_rows(const weights_view& w, std::int64_t first, std::int64_t count, double* out);

// W's checksum (the provenance below) and the moments measure_model takes from it, accumulated
// row by row in order -- the same numbers whether W is held whole or read in blocks from its file.
struct weights_summary {
  std::uint64_t checksum = 0;
  double mean = 0;  // mean of the entries
  double ss = 0;    // sum of the squared deviations from the mean
  // The first non-finite entry in row-major order (-1: none) and its value: what
  // validate_user_network refuses for a streamed W, whose rows it does not hold.
  std::int64_t non_finite = -1;
  double non_finite_value = 0;
};
// Two passes over W's rows in order (the mean first, then the deviations from it, for accuracy):
// every block of rows to first(), then every block again to second().
class weights_summarizer {
 public:
  explicit weights_summarizer(std::int64_t entries) : entries_(entries) {}
  void first(const double* values, std::int64_t count);   // row-major entries
  void second(const double* values, std::int64_t count);
  weights_summary result() const;

 private:
  std::int64_t entries_, seen_ = 0, non_finite_ = -1;
  std::uint64_t checksum_ = 0xcbf29ce484222325ULL;
  double sum_ = 0, ss_ = 0, non_finite_value_ = 0;
};
// Of a view that holds every row (held or streamed).
weights_summary summarize_weights(const weights_view& w);

// A C-order view of a row-major float64 array of rows x cols.
weights_view c_order_view(const double* data, std::int64_t rows, std::int64_t cols);

struct user_network {
  weights_view weights;
  const double* bias = nullptr;    // length bias_size; nullptr: b is drawn
  std::int64_t bias_size = 0;
  // Provenance: "memory" or "FILE:DATASET" (what --weights / --bias said).
  std::string weights_source, bias_source;
  // W's checksum and moments, given when the view holds only some of W's rows.
  std::optional<weights_summary> summary;

  bool has_weights() const { return weights.given(); }
  bool has_bias() const { return bias != nullptr; }
};

// Fits p to the user's network, before validation:
//  - n, when not in `given` (the names of the parameters the user set), becomes the number of
//    rows of W (or the length of b when only b is given);
//  - refuses (InvalidArgument naming the field, the value and what is accepted) sigma_w or w0 in
//    `given` together with weights, sigma_b or b0 together with a bias (they describe a drawn
//    W or b), and then everything validate_user_network refuses.
void apply_user_network(simulate_params& p, const user_network& u, const std::set<std::string>& given);

// Refuses a user's network that does not fit p: W not N x N or b not of length N (N = p.net.n),
// non-finite entries (of a streamed W: those its summary found, if it has one; make_network
// refuses them too as it reads the rows), draws > 1 with weights. Any strides are accepted (negative, or 0 for a
// broadcast array). simulate() calls it.
void validate_user_network(const simulate_params& p, const user_network& u);

// The checksum of the header comment.
std::uint64_t fnv1a64_checksum(const weights_view& w);
std::uint64_t fnv1a64_checksum(const double* data, std::int64_t n);
// As text: "fnv1a64:" and 16 lower-case hexadecimal digits.
std::string checksum_text(std::uint64_t c);

// The network draw `draw` of a run: W and b from u where given, drawn from p otherwise (exactly
// as draw_network, whose result it is when u is null or gives neither). Only the rows in `rows`
// of W are kept.
template <class S>
network<S> make_network(const network_params& p, std::int64_t draw, int threads, const user_network* u,
                        storage_kind storage = sizeof(S) == 8 ? storage_kind::float64 : storage_kind::float32,
                        accumulation_kind acc = accumulation_kind::state, row_range rows = {});

// The b of draw `draw` that draw_network draws: b_i = b0 + sigma_b z_i from stream (seed, draw, "b", 0).
Eigen::VectorXd draw_bias(const network_params& p, std::int64_t draw);

// The (W, b) that simulate draws for draw `draw` in double precision, dense (`amari network`):
// simulate with these as the user's network reproduces the drawn run bit for bit.
struct dense_network {
  Eigen::MatrixXd W;
  Eigen::VectorXd b;
};
dense_network draw_dense_network(const network_params& p, std::int64_t draw, int threads = 0);  // 0: all cores

// The parameters of `amari network`: the network of simulate and which draw of it.
struct network_draw_params {
  network_params net;
  std::int64_t draw = 0;   // which draw d of (W, b) (simulate's draws are d = 0 .. draws - 1)
  std::int64_t threads = 0;

  void validate() const;  // throws InvalidArgument naming the field
  static const param_table<network_draw_params>& table();
};

// The empirical moments of the user's network, for the theories that assume i.i.d. Gaussian W
// and b (predictions.hpp): w0 = N mean(W), sigma_w^2 = N var(W), b0 = mean(b), sigma_b^2 = var(b)
// (variances with divisor N^2 and N: the population of entries), from u where given, from p.model
// otherwise. `note` says which were measured.
struct empirical_model {
  model_params model;
  std::string note;
};
empirical_model measure_model(const network_params& p, const user_network& u);

}  // namespace amari
