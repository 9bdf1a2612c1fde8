#pragma once
// The right-hand side kernel of the rate network: the product of the coupling matrix with the
// activations of all trajectories that share it,
//
//   Y = W P,       W: N x N,   P = [phi(H), phi'(H) * V]: N x C,
//   out(i, c) = Y(i, c) - leak * X(i, c) + (c < n_state ? b_i : 0),
//
// so that one pass over W serves the R replicas H (the first n_state columns) and the tangent
// vectors V of the Lyapunov computation (Amari 1972; the variational equation
// J v = -v + W (phi'(h) * v) as in Sompolinsky, Crisanti & Sommers 1988).
//
// W is the whole cost: for one trajectory the product streams N^2 numbers from memory and does
// one FMA per number, so its speed is the memory bandwidth. Eigen never threads a matrix-vector
// product and its GEMM packs W into blocks (an extra pass over memory that a product with few
// columns cannot amortise), so the kernel is written here, in two forms (src/kernels.cpp):
//   * C = 1 ("dot"): four rows of W at a time dotted with p, each row with two vector
//     accumulators (lanes j mod 2w, 8 FMA chains in flight), summed in a fixed order.
//   * C > 1 ("outer product"): P row-major, padded to the vector width w; 6 rows of W against 2
//     vectors of columns (AVX2: 12 accumulators in 16 registers) or 4 (AVX-512VL, chosen at run
//     time: 24 accumulators in 32 registers), each entry one FMA chain over j in order; W is read
//     from memory once, P stays in L2. Each entry's sum depends only on its row and column: with
//     two or more columns, adding columns (replicas, tangent vectors) changes no other column by
//     one bit.
// Rows are split between threads (OpenMP, dynamic chunks of ~50 rows: a core that another
// process is also using takes fewer, instead of holding everyone back). Every entry Y(i, c) is accumulated in an order
// fixed by (i, c) and C alone -- not by the thread count or the row blocking -- so results are
// bit-identical for any number of threads.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace amari {

// Memory aligned to a cache line, freed with std::free.
struct aligned_deleter {
  void operator()(void* p) const noexcept;
};
template <class S>
using aligned_array = std::unique_ptr<S[], aligned_deleter>;
template <class S>
aligned_array<S> make_aligned_array(std::size_t n);  // zero-filled

// The number of elements a row of W is padded to (a multiple of 16, i.e. of a cache line for
// float and two for double, and not of 256: rows 4 KB apart would alias in the L1 cache), so
// that every row starts on a cache line.
std::int64_t padded_size(std::int64_t n);

// Lets the outer-product kernel use AVX-512VL when the processor has it (the default) or not;
// returns whether it will. The results are the same either way (tests and benchmarks switch it).
bool kernel_avx512(bool allow);

// Number of threads the kernels use for `requested` (0: all that OpenMP offers).
int resolve_threads(int requested);

template <class S>
class coupling;

// The right operand P of the product (N x C), stored in the layout the kernel for C wants:
// a padded column for C = 1, otherwise row-major with rows
// padded to a multiple of the vector width. Padding stays zero.
template <class S>
class panel {
 public:
  panel() = default;
  panel(std::int64_t n, std::int64_t c);

  std::int64_t rows() const { return n_; }
  std::int64_t cols() const { return c_; }
  bool column_major() const { return c_ == 1; }
  std::int64_t ld() const { return ld_; }  // column stride (column-major) or row stride
  S* data() { return data_.get(); }
  const S* data() const { return data_.get(); }

  // Where to write column c (n contiguous values); then commit(c) moves it into place. Distinct
  // columns may be written and committed from different threads.
  S* column(std::int64_t c) { return column_major() ? data_.get() + c * ld_ : scratch_.get() + c * n_; }
  void commit(std::int64_t c);

 private:
  std::int64_t n_ = 0, c_ = 0, ld_ = 0;
  aligned_array<S> data_, scratch_;
};

// The N x N coupling matrix, row-major, rows padded to padded_size(N) with zeros.
template <class S>
class coupling {
 public:
  coupling() = default;
  explicit coupling(std::int64_t n);

  std::int64_t n() const { return n_; }
  std::int64_t stride() const { return ld_; }
  S* row(std::int64_t i) { return data_.get() + i * ld_; }
  const S* row(std::int64_t i) const { return data_.get() + i * ld_; }
  S operator()(std::int64_t i, std::int64_t j) const { return data_[i * ld_ + j]; }
  std::size_t bytes() const { return static_cast<std::size_t>(n_ * ld_) * sizeof(S); }

  // out(i, c) = (W P)(i, c) - leak * x(i, c) + (c < n_state ? b_i : 0) for all i < N, c < C;
  // out and x column-major N x C (leading dimension N); x and b may be null (no such term).
  void multiply(const panel<S>& P, S* out, const S* x, const S* b, std::int64_t n_state,
                bool leak, int threads) const;

 private:
  std::int64_t n_ = 0, ld_ = 0;
  aligned_array<S> data_;
};

// The vector width of the kernels (4 doubles or 8 floats with AVX2, 1 without).
template <class S>
std::int64_t simd_width();

extern template class panel<double>;
extern template class panel<float>;
extern template class coupling<double>;
extern template class coupling<float>;

}  // namespace amari
