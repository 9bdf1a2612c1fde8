// The coupling kernels of include/amari/sim/kernels.hpp: y = W p (streaming dot products) and
// Y = W P (register-blocked, one pass over W for all columns). Hand-written because no installed
// library does what is needed here: Eigen's matrix-vector product is single-threaded and its GEMM
// packs W (an extra pass over memory that a product with few columns cannot amortise); a BLAS
// would not give results independent of the thread count.
#include "amari/sim/kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define AMARI_KERNEL_AVX2 1
#endif

namespace amari {

void aligned_deleter::operator()(void* p) const noexcept { std::free(p); }

template <class S>
aligned_array<S> make_aligned_array(std::size_t n) {
  constexpr std::size_t align = 64;
  std::size_t bytes = std::max<std::size_t>(n * sizeof(S), align);
  bytes = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return aligned_array<S>(static_cast<S*>(p));
}
template aligned_array<double> make_aligned_array<double>(std::size_t);
template aligned_array<float> make_aligned_array<float>(std::size_t);

std::int64_t padded_size(std::int64_t n) {
  std::int64_t ld = (n + 15) / 16 * 16;
  // Rows 4 KB apart (or a multiple) would put the rows a kernel streams side by side into the
  // same L1 sets; one more cache line of padding spreads them.
  if (ld % 256 == 0) ld += 16;
  return ld;
}

int resolve_threads(int requested) { return requested > 0 ? requested : omp_get_max_threads(); }

namespace {
#ifdef AMARI_KERNEL_AVX2
extern std::atomic<bool> allow_avx512;
#endif
}  // namespace

bool kernel_avx512(bool allow) {
#ifdef AMARI_KERNEL_AVX2
  allow_avx512 = allow;
  return allow && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
#else
  (void)allow;
  return false;
#endif
}

namespace {

// A thin layer over the vector instructions, so that each kernel is written once for both
// precisions. Without AVX2 + FMA it falls back to scalars (width 1).
template <class S>
struct simd;

#ifdef AMARI_KERNEL_AVX2
#define AMARI_INLINE inline __attribute__((always_inline))
template <>
struct simd<double> {
  using v = __m256d;
  static constexpr int w = 4;
  AMARI_INLINE static v zero() { return _mm256_setzero_pd(); }
  AMARI_INLINE static v load(const double* p) { return _mm256_load_pd(p); }
  AMARI_INLINE static v set1(const double* p) { return _mm256_broadcast_sd(p); }
  AMARI_INLINE static v fma(v a, v b, v c) { return _mm256_fmadd_pd(a, b, c); }
  AMARI_INLINE static v add(v a, v b) { return _mm256_add_pd(a, b); }
  AMARI_INLINE static void store(double* p, v x) { _mm256_store_pd(p, x); }
  AMARI_INLINE static double hsum(v x) {  // a fixed order: (0 + 1) + (2 + 3)
    alignas(32) double t[4];
    _mm256_store_pd(t, x);
    return (t[0] + t[1]) + (t[2] + t[3]);
  }
};
template <>
struct simd<float> {
  using v = __m256;
  static constexpr int w = 8;
  AMARI_INLINE static v zero() { return _mm256_setzero_ps(); }
  AMARI_INLINE static v load(const float* p) { return _mm256_load_ps(p); }
  AMARI_INLINE static v set1(const float* p) { return _mm256_broadcast_ss(p); }
  AMARI_INLINE static v fma(v a, v b, v c) { return _mm256_fmadd_ps(a, b, c); }
  AMARI_INLINE static v add(v a, v b) { return _mm256_add_ps(a, b); }
  AMARI_INLINE static void store(float* p, v x) { _mm256_store_ps(p, x); }
  AMARI_INLINE static float hsum(v x) {
    alignas(32) float t[8];
    _mm256_store_ps(t, x);
    return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
  }
};
#else
template <class S>
struct simd {
  using v = S;
  static constexpr int w = 1;
  static v zero() { return S(0); }
  static v load(const S* p) { return *p; }
  static v set1(const S* p) { return *p; }
  static v fma(v a, v b, v c) { return a * b + c; }
  static v add(v a, v b) { return a + b; }
  static void store(S* p, v x) { *p = x; }
  static S hsum(v x) { return x; }
};
#endif

// Dot products: RB rows of W (stride ld) against NC columns of P (column-major, stride pld; used
// with NC = 1), both padded with zeros to ld, a multiple of 2w. Every (row, column) has two
// vector accumulators (lanes j mod 2w), summed in a fixed order at the end: the result does not
// depend on RB. y[r * NC + c].
template <class S, int RB, int NC>
inline void multidot(const S* __restrict W, std::int64_t ld, const S* __restrict P,
                     std::int64_t pld, S* __restrict y) {
  using V = simd<S>;
  constexpr int w = V::w;
  typename V::v a0[RB][NC], a1[RB][NC];
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < NC; ++c) a0[r][c] = a1[r][c] = V::zero();
  for (std::int64_t j = 0; j < ld; j += 2 * w) {
    typename V::v p0[NC], p1[NC];
    for (int c = 0; c < NC; ++c) p0[c] = V::load(P + c * pld + j), p1[c] = V::load(P + c * pld + j + w);
    for (int r = 0; r < RB; ++r) {
      const auto w0 = V::load(W + r * ld + j), w1 = V::load(W + r * ld + j + w);
      for (int c = 0; c < NC; ++c) {
        a0[r][c] = V::fma(w0, p0[c], a0[r][c]);
        a1[r][c] = V::fma(w1, p1[c], a1[r][c]);
      }
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < NC; ++c) y[r * NC + c] = V::hsum(V::add(a0[r][c], a1[r][c]));
}

// Outer product: RB rows of W against CV vectors of columns of P (row-major, stride cp),
// starting at column c0. Every entry is one FMA chain over j = 0 .. n-1 in order.
// Result in t[r * CV * w + (c - c0)].
template <class S, int RB, int CV>
#ifdef AMARI_KERNEL_AVX2
__attribute__((always_inline))
#endif
inline void outer_rows(const S* __restrict W, std::int64_t ld, std::int64_t n,
                       const S* __restrict P, std::int64_t cp, std::int64_t c0, S* __restrict t) {
  using V = simd<S>;
  constexpr int w = V::w;
  typename V::v acc[RB][CV];
  for (int r = 0; r < RB; ++r)
    for (int v = 0; v < CV; ++v) acc[r][v] = V::zero();
  const S* pj = P + c0;
  for (std::int64_t j = 0; j < n; ++j, pj += cp) {
    typename V::v pv[CV];
    for (int v = 0; v < CV; ++v) pv[v] = V::load(pj + v * w);
    for (int r = 0; r < RB; ++r) {
      const auto wr = V::set1(W + r * ld + j);
      for (int v = 0; v < CV; ++v) acc[r][v] = V::fma(wr, pv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int v = 0; v < CV; ++v) V::store(t + (r * CV + v) * w, acc[r][v]);
}

#ifdef AMARI_KERNEL_AVX2
// The same outer product compiled for AVX-512VL, which doubles the vector registers (32): 6 rows
// against 4 vectors of columns, 24 accumulators, so each element of W feeds 4 FMAs instead of 2.
// At 16 double columns the AVX2 kernel needs 8 bytes of W per 2 FMAs -- more than the memory
// delivers to both cores at the FMA rate -- this one half that. The arithmetic (one FMA chain per
// entry, j in order) is the same, so the results are bit-identical to the AVX2 path. Chosen at
// run time when the processor has AVX-512VL (the build itself stays at AVX2, see CMakeLists.txt).
// (The 24 accumulators are named variables: as an array, g++ 12 keeps them in memory.)
template <class S>
__attribute__((target("avx512f,avx512vl"))) void outer_rows_wide(const S* __restrict W, std::int64_t ld,
                                                                  std::int64_t n, const S* __restrict P,
                                                                  std::int64_t cp, std::int64_t c0,
                                                                  S* __restrict t) {
  using V = simd<S>;
  constexpr int w = V::w;
#define AMARI_ACC(r) auto a##r##0 = V::zero(), a##r##1 = V::zero(), a##r##2 = V::zero(), a##r##3 = V::zero();
  AMARI_ACC(0) AMARI_ACC(1) AMARI_ACC(2) AMARI_ACC(3) AMARI_ACC(4) AMARI_ACC(5)
#undef AMARI_ACC
  const S* pj = P + c0;
  const S* w0 = W;
  for (std::int64_t j = 0; j < n; ++j, pj += cp, ++w0) {
    const auto p0 = V::load(pj), p1 = V::load(pj + w), p2 = V::load(pj + 2 * w), p3 = V::load(pj + 3 * w);
#define AMARI_ROW(r)                              \
  {                                               \
    const auto wr = V::set1(w0 + r * ld);         \
    a##r##0 = V::fma(wr, p0, a##r##0);            \
    a##r##1 = V::fma(wr, p1, a##r##1);            \
    a##r##2 = V::fma(wr, p2, a##r##2);            \
    a##r##3 = V::fma(wr, p3, a##r##3);            \
  }
    AMARI_ROW(0) AMARI_ROW(1) AMARI_ROW(2) AMARI_ROW(3) AMARI_ROW(4) AMARI_ROW(5)
#undef AMARI_ROW
  }
#define AMARI_STORE(r)                                                        \
  V::store(t + (r * 4 + 0) * w, a##r##0), V::store(t + (r * 4 + 1) * w, a##r##1), \
      V::store(t + (r * 4 + 2) * w, a##r##2), V::store(t + (r * 4 + 3) * w, a##r##3);
  AMARI_STORE(0) AMARI_STORE(1) AMARI_STORE(2) AMARI_STORE(3) AMARI_STORE(4) AMARI_STORE(5)
#undef AMARI_STORE
}
std::atomic<bool> allow_avx512{true};
bool have_avx512vl() {
  static const bool yes = __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
  return yes && allow_avx512.load(std::memory_order_relaxed);
}
#endif

// Below this many multiply-adds (~0.1 ms of work) a product runs on one thread: a parallel region
// costs a few microseconds, far more when the other core is busy with another process.
constexpr std::int64_t parallel_threshold = 1 << 19;

// Row groups: the first `full` groups have rb rows, then single rows. Which kernel a row gets
// depends only on its index, never on the thread that runs it.
struct row_groups {
  std::int64_t rb, full, count;
  row_groups(std::int64_t n, std::int64_t rb_) : rb(rb_), full(n / rb_), count(full + (n - full * rb_)) {}
  std::int64_t first(std::int64_t g) const { return g < full ? g * rb : full * rb + (g - full); }
  int size(std::int64_t g) const { return g < full ? static_cast<int>(rb) : 1; }
};

}  // namespace

template <class S>
std::int64_t simd_width() {
  return simd<S>::w;
}
template std::int64_t simd_width<double>();
template std::int64_t simd_width<float>();

template <class S>
panel<S>::panel(std::int64_t n, std::int64_t c) : n_(n), c_(c) {
  if (column_major()) {
    ld_ = padded_size(n);
    data_ = make_aligned_array<S>(static_cast<std::size_t>(ld_ * c));
  } else {
    const std::int64_t w = simd<S>::w;
    ld_ = (c + w - 1) / w * w;
    data_ = make_aligned_array<S>(static_cast<std::size_t>(ld_ * n));
    scratch_ = make_aligned_array<S>(static_cast<std::size_t>(n * c));
  }
}

template <class S>
void panel<S>::commit(std::int64_t c) {
  if (column_major()) return;
  const S* src = scratch_.get() + c * n_;
  S* dst = data_.get() + c;
  for (std::int64_t j = 0; j < n_; ++j) dst[j * ld_] = src[j];
}

template <class S>
coupling<S>::coupling(std::int64_t n)
    : n_(n), ld_(padded_size(n)), data_(make_aligned_array<S>(static_cast<std::size_t>(n * ld_))) {}

template <class S>
void coupling<S>::multiply(const panel<S>& P, S* out, const S* x, const S* b,
                           std::int64_t n_state, bool leak, int threads) const {
  const std::int64_t n = n_, ld = ld_, C = P.cols();
  const S* W = data_.get();
  // out(i, c) from the product y: subtract the leak, add the bias.
  auto finish = [=](std::int64_t i, std::int64_t c, S y) {
    if (leak && x) y -= x[c * n + i];
    if (b && c < n_state) y += b[i];
    out[c * n + i] = y;
  };
  constexpr int w = simd<S>::w;

  if (P.column_major()) {  // one column: streaming dot products, four rows at a time
    const S* p = P.data();
    const row_groups rg(n, 4);
    const bool par = threads > 1 && n * ld >= parallel_threshold;
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (par)
    for (std::int64_t g = 0; g < rg.count; ++g) {
      const std::int64_t i = rg.first(g);
      const S* Wi = W + i * ld;
      S y[4] = {};
      if (rg.size(g) > 1)
        multidot<S, 4, 1>(Wi, ld, p, 0, y);
      else
        multidot<S, 1, 1>(Wi, ld, p, 0, y);
      for (int r = 0; r < rg.size(g); ++r) finish(i + r, 0, y[r]);
    }
    return;
  }

  // Outer product: 6 rows x 2 vectors of columns (12 accumulators + 2 loads + 1 broadcast fit
  // the 16 vector registers), a last chunk of 1 vector when the vector count is odd; with
  // AVX-512VL, 6 rows x 4 vectors.
  constexpr int RB = 6;
  const std::int64_t cp = P.ld(), nvec = cp / w;
  const S* p = P.data();
  const row_groups rg(n, RB);
  const bool par = threads > 1 && n * n * nvec >= parallel_threshold;
#ifdef AMARI_KERNEL_AVX2
  const bool wide = nvec >= 4 && have_avx512vl();
#else
  const bool wide = false;
#endif
#pragma omp parallel num_threads(threads) if (par)
  {
    alignas(64) S t[RB * 4 * 32 / sizeof(S)];
#pragma omp for schedule(dynamic, 8)
    for (std::int64_t g = 0; g < rg.count; ++g) {
      const std::int64_t i = rg.first(g);
      const S* Wi = W + i * ld;
      const bool full = rg.size(g) > 1;
      for (std::int64_t v0 = 0; v0 < nvec;) {
        int cv = nvec - v0 >= 2 ? 2 : 1;
        const std::int64_t c0 = v0 * w;
#ifdef AMARI_KERNEL_AVX2
        if (wide && full && nvec - v0 >= 4) {
          cv = 4;
          outer_rows_wide<S>(Wi, ld, n, p, cp, c0, t);
        } else
#endif
        if (cv == 2)
          full ? outer_rows<S, RB, 2>(Wi, ld, n, p, cp, c0, t) : outer_rows<S, 1, 2>(Wi, ld, n, p, cp, c0, t);
        else
          full ? outer_rows<S, RB, 1>(Wi, ld, n, p, cp, c0, t) : outer_rows<S, 1, 1>(Wi, ld, n, p, cp, c0, t);
        const std::int64_t c_end = std::min<std::int64_t>(C, c0 + cv * w);
        for (int r = 0; r < rg.size(g); ++r)
          for (std::int64_t c = c0; c < c_end; ++c) finish(i + r, c, t[r * cv * w + (c - c0)]);
        v0 += cv;
      }
    }
  }
}

template class panel<double>;
template class panel<float>;
template class coupling<double>;
template class coupling<float>;

}  // namespace amari
