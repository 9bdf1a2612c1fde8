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
//
// Bytes per weight. W may be stored narrower than the state it multiplies (coupling<T> against a
// panel<S>): T = double, float or IEEE half (binary16) with S = double, or T = float or half with
// S = float. A weight is converted to S where it is used, exactly (every half and float is a double),
// so the product is that of the rounded W in the precision of the state. Half uses the F16C
// conversion (vcvtph2ps), chosen at run time like AVX-512VL (without it, a software conversion
// that gives the same bits). In the dot kernel the conversion happens in registers; the outer
// product converts a strip of rows (256 columns at a time) into a small buffer in S and continues
// each entry's FMA chain over the strips, so the arithmetic is the same as for W in S. There is no
// AVX-512 path for narrow storage: the build machine has no AVX-512, and a path that cannot be
// tested here is not offered.
//
// Accumulation (C = 1 only, S = double, T = float or half): `state` (the default) accumulates
// in double; `blocked` converts p once to float, accumulates W p in float over blocks of 128
// consecutive j (two accumulators of 8 lanes), and adds each block's float partial sum into a
// double accumulator. The blocks are fixed by j alone: still bit-identical for any thread count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <variant>

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

// IEEE 754 binary16, held as its bits.
struct half {
  std::uint16_t bits = 0;
};
// x rounded to the nearest half (ties to even), directly from double (no double rounding through
// float); |x| beyond the largest half (65504) rounds to infinity.
half to_half(double x);
double to_double(half h);  // exact
// Whether to_half(x) is subnormal (0 < |x| < 2^-14, where half keeps fewer than 11 bits).
bool half_subnormal(half h);

// How W is stored and how the product accumulates (see the header comment).
enum class storage_kind { float64, float32, float16 };
enum class accumulation_kind { state, blocked };
std::size_t storage_bytes(storage_kind s);  // 8, 4, 2

// Lets the half kernels use F16C when the processor has it (the default) or not; returns whether
// they will. The results are the same either way.
bool kernel_f16c(bool allow);

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

// The N x N coupling matrix stored in T (double, float or half), row-major, rows padded to
// padded_size(N) with zeros; or a block of its rows, first .. first + rows - 1 (one process's share
// of a network spread over several: every row index below is the row's index in the whole W).
template <class T>
class coupling {
 public:
  coupling() = default;
  explicit coupling(std::int64_t n, std::int64_t first = 0, std::int64_t rows = -1);  // rows < 0: all

  std::int64_t n() const { return n_; }
  std::int64_t first_row() const { return first_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t stride() const { return ld_; }
  T* row(std::int64_t i) { return data_.get() + (i - first_) * ld_; }
  const T* row(std::int64_t i) const { return data_.get() + (i - first_) * ld_; }
  T operator()(std::int64_t i, std::int64_t j) const { return data_[(i - first_) * ld_ + j]; }
  std::size_t bytes() const { return static_cast<std::size_t>(rows_ * ld_) * sizeof(T); }

  // out(i, c) = (W P)(i, c) - leak * x(i, c) + (c < n_state ? b_i : 0) for the rows i held, c < C
  // (the other rows of out are left as they are); out and x column-major N x C (leading dimension
  // N); x and b may be null (no such term).
  // S is the state's precision, not narrower than T.
  // (S is deduced from P alone, so that x and b may be nullptr.)
  template <class S>
  void multiply(const panel<S>& P, std::type_identity_t<S>* out, const std::type_identity_t<S>* x,
                const std::type_identity_t<S>* b, std::int64_t n_state, bool leak, int threads,
                accumulation_kind acc = accumulation_kind::state) const;

 private:
  std::int64_t n_ = 0, first_ = 0, rows_ = 0, ld_ = 0;
  aligned_array<T> data_;
};

// The coupling matrix of a network whose state is in S, stored in any precision not wider than S
// (chosen at run time).
template <class S>
class weights {
 public:
  weights() = default;
  // Throws InvalidArgument (weight_precision) when `storage` is wider than S. The rows first ..
  // first + rows - 1 only (rows < 0: all), as coupling.
  weights(std::int64_t n, storage_kind storage, accumulation_kind acc = accumulation_kind::state,
          std::int64_t first = 0, std::int64_t rows = -1);

  std::int64_t n() const;
  std::int64_t first_row() const { return first_; }
  std::int64_t rows() const { return rows_; }
  std::int64_t stride() const;
  storage_kind storage() const { return storage_; }
  accumulation_kind accumulation() const { return acc_; }
  std::size_t bytes() const;

  // Row i of W from its N values in double: the one place where a weight is rounded (to nearest,
  // ties to even) to the storage. Returns how many of the row's values are subnormal in half (0
  // for the other storages); throws InvalidArgument (weight_precision) when a finite value
  // overflows the storage (|w| > 65504 for half).
  std::int64_t set_row(std::int64_t i, const double* w);
  // W(i, j) as stored (j < stride(): the padding reads 0).
  double operator()(std::int64_t i, std::int64_t j) const;

  void multiply(const panel<S>& P, S* out, const S* x, const S* b, std::int64_t n_state, bool leak,
                int threads) const;

 private:
  storage_kind storage_ = storage_kind::float64;
  accumulation_kind acc_ = accumulation_kind::state;
  std::int64_t first_ = 0, rows_ = 0;
  std::variant<std::monostate, coupling<double>, coupling<float>, coupling<half>> c_;
};

// The vector width of the kernels (4 doubles or 8 floats with AVX2, 1 without).
template <class S>
std::int64_t simd_width();

extern template class panel<double>;
extern template class panel<float>;
extern template class coupling<double>;
extern template class coupling<float>;
extern template class coupling<half>;
extern template class weights<double>;
extern template class weights<float>;

}  // namespace amari
