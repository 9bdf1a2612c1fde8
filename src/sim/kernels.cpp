// The coupling kernels of include/amari/sim/kernels.hpp: y = W p (streaming dot products) and
// Y = W P (register-blocked, one pass over W for all columns). Hand-written because no installed
// library does what is needed here: Eigen's matrix-vector product is single-threaded and its GEMM
// packs W (an extra pass over memory that a product with few columns cannot amortise); a BLAS
// would not give results independent of the thread count.
#include "amari/sim/kernels.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <new>
#include <string>
#include <type_traits>

#include "amari/core/error.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define AMARI_KERNEL_AVX2 1
#endif
#if defined(AMARI_KERNEL_AVX2) && defined(__F16C__)
#define AMARI_KERNEL_F16C 1
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
template aligned_array<half> make_aligned_array<half>(std::size_t);

half to_half(double x) {
  const auto sign = static_cast<std::uint16_t>(std::signbit(x) ? 0x8000 : 0);
  const double a = std::abs(x);
  if (std::isnan(a)) return {static_cast<std::uint16_t>(sign | 0x7e00)};
  if (a == 0) return {sign};
  // The quantum of half at a's binade (2^-24 below 2^-14, where half is subnormal); a / q is
  // exact, and nearbyint rounds ties to even in the default rounding mode.
  const int e = std::max(std::ilogb(a), -14);
  const double q = std::ldexp(1.0, e - 10);
  const double r = std::nearbyint(a / q) * q;
  if (r > 65504.0) return {static_cast<std::uint16_t>(sign | 0x7c00)};
  const int er = std::ilogb(r);
  if (r == 0 || er < -14) return {static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(r / 0x1p-24))};
  const auto m = static_cast<std::uint16_t>(std::ldexp(r, 10 - er) - 1024.0);
  return {static_cast<std::uint16_t>(sign | ((er + 15) << 10) | m)};
}

double to_double(half h) {
  const int e = (h.bits >> 10) & 0x1f, m = h.bits & 0x3ff;
  double v;
  if (e == 0)
    v = std::ldexp(static_cast<double>(m), -24);
  else if (e == 31)
    v = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else
    v = std::ldexp(static_cast<double>(m + 1024), e - 25);
  return (h.bits & 0x8000) ? -v : v;
}

bool half_subnormal(half h) { return (h.bits & 0x7c00) == 0 && (h.bits & 0x3ff) != 0; }

std::size_t storage_bytes(storage_kind s) {
  return s == storage_kind::float64 ? 8 : s == storage_kind::float32 ? 4 : 2;
}

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
std::atomic<bool> allow_f16c{true};
bool have_f16c() {
#ifdef AMARI_KERNEL_F16C
  static const bool yes = __builtin_cpu_supports("f16c");
  return yes && allow_f16c.load(std::memory_order_relaxed);
#else
  return false;
#endif
}
}  // namespace

bool kernel_f16c(bool allow) {
  allow_f16c = allow;
  return have_f16c();
}

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
#define AMARI_INLINE_ANY AMARI_INLINE
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
#define AMARI_INLINE_ANY inline
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

// Loads of w consecutive weights stored in T as a vector of S (the conversion is exact).
// `plain`: T = S. `widen`: float to double. `f16c`: half through vcvtph2ps. `soft`: half through
// to_double, one by one (where F16C is absent; the same values, slowly).
template <class S, class T>
struct load_plain {
  AMARI_INLINE_ANY static typename simd<S>::v load(const T* p) { return simd<S>::load(p); }
};
template <class S>
struct load_soft {
  AMARI_INLINE_ANY static typename simd<S>::v load(const half* p) {
    alignas(64) S t[simd<S>::w];
    for (int l = 0; l < simd<S>::w; ++l) t[l] = static_cast<S>(to_double(p[l]));
    return simd<S>::load(t);
  }
#ifdef AMARI_KERNEL_AVX2
  AMARI_INLINE_ANY static __m256 load8(const half* p) {
    alignas(32) float t[8];
    for (int l = 0; l < 8; ++l) t[l] = static_cast<float>(to_double(p[l]));
    return _mm256_load_ps(t);
  }
#endif
};
#ifdef AMARI_KERNEL_AVX2
struct load_widen {
  AMARI_INLINE_ANY static __m256d load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  AMARI_INLINE_ANY static __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
};
#endif
#ifdef AMARI_KERNEL_F16C
template <class S>
struct load_f16c;
template <>
struct load_f16c<double> {
  AMARI_INLINE_ANY static __m256d load(const half* p) {
    return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  AMARI_INLINE_ANY static __m256 load8(const half* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
template <>
struct load_f16c<float> {
  AMARI_INLINE_ANY static __m256 load(const half* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
#endif
#ifndef AMARI_KERNEL_AVX2
struct load_widen {
  static double load(const float* p) { return *p; }
};
#endif

// Dot products: RB rows of W (stride ld) against NC columns of P (column-major, stride pld; used
// with NC = 1), both padded with zeros to ld, a multiple of 2w. Every (row, column) has two
// vector accumulators (lanes j mod 2w), summed in a fixed order at the end: the result does not
// depend on RB. y[r * NC + c].
template <class S, int RB, int NC, class T = S, class L = load_plain<S, S>>
inline void multidot(const T* __restrict W, std::int64_t ld, const S* __restrict P,
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
      const auto w0 = L::load(W + r * ld + j), w1 = L::load(W + r * ld + j + w);
      for (int c = 0; c < NC; ++c) {
        a0[r][c] = V::fma(w0, p0[c], a0[r][c]);
        a1[r][c] = V::fma(w1, p1[c], a1[r][c]);
      }
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int c = 0; c < NC; ++c) y[r * NC + c] = V::hsum(V::add(a0[r][c], a1[r][c]));
}

// The blocked accumulation (state double, W in float or half, one column): p in float, float
// sums over blocks of `block` consecutive j (two accumulators of 8 lanes, j mod 16), each block's
// sum added to a double accumulator (4 lanes) per row. The blocks depend on j alone.
constexpr std::int64_t block = 128;
template <int RB, class T, class L>
inline void multidot_blocked(const T* __restrict W, std::int64_t ld, const float* __restrict p,
                             double* __restrict y) {
#ifdef AMARI_KERNEL_AVX2
  __m256d d[RB];
  for (int r = 0; r < RB; ++r) d[r] = _mm256_setzero_pd();
  for (std::int64_t j0 = 0; j0 < ld; j0 += block) {
    const std::int64_t j1 = std::min(ld, j0 + block);
    __m256 a0[RB], a1[RB];
    for (int r = 0; r < RB; ++r) a0[r] = a1[r] = _mm256_setzero_ps();
    for (std::int64_t j = j0; j < j1; j += 16) {
      const __m256 p0 = _mm256_load_ps(p + j), p1 = _mm256_load_ps(p + j + 8);
      for (int r = 0; r < RB; ++r) {
        a0[r] = _mm256_fmadd_ps(L::load8(W + r * ld + j), p0, a0[r]);
        a1[r] = _mm256_fmadd_ps(L::load8(W + r * ld + j + 8), p1, a1[r]);
      }
    }
    for (int r = 0; r < RB; ++r) {
      const __m256 s = _mm256_add_ps(a0[r], a1[r]);
      d[r] = _mm256_add_pd(d[r], _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(s)),
                                               _mm256_cvtps_pd(_mm256_extractf128_ps(s, 1))));
    }
  }
  for (int r = 0; r < RB; ++r) y[r] = simd<double>::hsum(d[r]);
#else
  for (int r = 0; r < RB; ++r) {
    double d = 0;
    for (std::int64_t j0 = 0; j0 < ld; j0 += block) {
      float a = 0;
      for (std::int64_t j = j0; j < std::min(ld, j0 + block); ++j)
        a += static_cast<float>(L::load(W + r * ld + j)) * p[j];
      d += a;
    }
    y[r] = d;
  }
#endif
}

// Outer product: RB rows of W against CV vectors of columns of P (row-major, stride cp),
// starting at column c0. Every entry is one FMA chain over j = 0 .. n-1 in order, continued from
// t when `first` is false (the strips of a narrow W). Result in t[r * tld + (c - c0)].
template <class S, int RB, int CV>
#ifdef AMARI_KERNEL_AVX2
__attribute__((always_inline))
#endif
inline void outer_rows(const S* __restrict W, std::int64_t ld, std::int64_t n,
                       const S* __restrict P, std::int64_t cp, std::int64_t c0, S* __restrict t,
                       std::int64_t tld, bool first = true) {
  using V = simd<S>;
  constexpr int w = V::w;
  typename V::v acc[RB][CV];
  for (int r = 0; r < RB; ++r)
    for (int v = 0; v < CV; ++v) acc[r][v] = first ? V::zero() : V::load(t + r * tld + v * w);
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
    for (int v = 0; v < CV; ++v) V::store(t + r * tld + v * w, acc[r][v]);
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

template <class T>
coupling<T>::coupling(std::int64_t n, std::int64_t first, std::int64_t rows)
    : n_(n), first_(first), rows_(rows < 0 ? n : rows), ld_(padded_size(n)),
      data_(make_aligned_array<T>(static_cast<std::size_t>(rows_ * ld_))) {
  if (first_ < 0 || first_ + rows_ > n_) throw std::logic_error("amari: coupling rows outside the matrix");
}

namespace {

// The product for the rows first .. first + rows - 1 of an N x N matrix W stored in T (rows ld
// apart, W pointing at row `first`) and the state in S; L loads weights as S. Each entry's sum is
// the same whichever rows are held (the row groups only decide which kernel serves a row, and both
// accumulate a row the same way), so a matrix split into row blocks gives the bits of the whole.
template <class S, class T, class L>
void multiply_impl(const T* W, std::int64_t rows, std::int64_t n, std::int64_t ld, std::int64_t first,
                   const panel<S>& P, S* out, const S* x, const S* b, std::int64_t n_state, bool leak, int threads,
                   accumulation_kind acc) {
  const std::int64_t C = P.cols();
  // out(i, c) from the product y: subtract the leak, add the bias (i local, first + i in out).
  auto finish = [=](std::int64_t i, std::int64_t c, S y) {
    const std::int64_t g = first + i;
    if (leak && x) y -= x[c * n + g];
    if (b && c < n_state) y += b[g];
    out[c * n + g] = y;
  };
  constexpr int w = simd<S>::w;

  if (P.column_major()) {  // one column: streaming dot products, four rows at a time
    const S* p = P.data();
    const row_groups rg(rows, 4);
    const bool par = threads > 1 && rows * ld >= parallel_threshold;
    if constexpr (std::is_same_v<S, double> && !std::is_same_v<T, double>) {
      if (acc == accumulation_kind::blocked) {
        // p once in float (N values: nothing against the N^2 of the product).
        const aligned_array<float> pf = make_aligned_array<float>(static_cast<std::size_t>(ld));
        for (std::int64_t j = 0; j < n; ++j) pf[j] = static_cast<float>(p[j]);
        const float* q = pf.get();
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (par)
        for (std::int64_t g = 0; g < rg.count; ++g) {
          const std::int64_t i = rg.first(g);
          double y[4] = {};
          if (rg.size(g) > 1)
            multidot_blocked<4, T, L>(W + i * ld, ld, q, y);
          else
            multidot_blocked<1, T, L>(W + i * ld, ld, q, y);
          for (int r = 0; r < rg.size(g); ++r) finish(i + r, 0, y[r]);
        }
        return;
      }
    }
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads) if (par)
    for (std::int64_t g = 0; g < rg.count; ++g) {
      const std::int64_t i = rg.first(g);
      const T* Wi = W + i * ld;
      S y[4] = {};
      if (rg.size(g) > 1)
        multidot<S, 4, 1, T, L>(Wi, ld, p, 0, y);
      else
        multidot<S, 1, 1, T, L>(Wi, ld, p, 0, y);
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
  const row_groups rg(rows, RB);
  const bool par = threads > 1 && rows * n * nvec >= parallel_threshold;

  if constexpr (!std::is_same_v<S, T>) {
    // W narrower than the state: strips of J columns of the group's rows converted to S, each
    // entry's FMA chain continued from strip to strip (the same arithmetic as W in S).
    constexpr std::int64_t J = 256;
#pragma omp parallel num_threads(threads) if (par)
    {
      const aligned_array<S> buf = make_aligned_array<S>(static_cast<std::size_t>(RB * J));
      const aligned_array<S> t = make_aligned_array<S>(static_cast<std::size_t>(RB * cp));
#pragma omp for schedule(dynamic, 8)
      for (std::int64_t g = 0; g < rg.count; ++g) {
        const std::int64_t i = rg.first(g);
        const bool full = rg.size(g) > 1;
        for (std::int64_t j0 = 0; j0 < n; j0 += J) {
          const std::int64_t len = std::min(J, n - j0), conv = (len + 15) / 16 * 16;  // within the padding
          for (int r = 0; r < rg.size(g); ++r)
            for (std::int64_t j = 0; j < conv; j += w) simd<S>::store(buf.get() + r * J + j, L::load(W + (i + r) * ld + j0 + j));
          const S* pj = p + j0 * cp;
          for (std::int64_t v0 = 0; v0 < nvec;) {
            const int cv = nvec - v0 >= 2 ? 2 : 1;
            const std::int64_t c0 = v0 * w;
            S* tc = t.get() + c0;
            if (cv == 2)
              full ? outer_rows<S, RB, 2>(buf.get(), J, len, pj, cp, c0, tc, cp, j0 == 0)
                   : outer_rows<S, 1, 2>(buf.get(), J, len, pj, cp, c0, tc, cp, j0 == 0);
            else
              full ? outer_rows<S, RB, 1>(buf.get(), J, len, pj, cp, c0, tc, cp, j0 == 0)
                   : outer_rows<S, 1, 1>(buf.get(), J, len, pj, cp, c0, tc, cp, j0 == 0);
            v0 += cv;
          }
        }
        for (int r = 0; r < rg.size(g); ++r)
          for (std::int64_t c = 0; c < C; ++c) finish(i + r, c, t[r * cp + c]);
      }
    }
    return;
  } else {
#ifdef AMARI_KERNEL_AVX2
    const bool wide = nvec >= 4 && have_avx512vl();
#else
    const bool wide = false;
#endif
    // Without AVX-512, in double, and with more than 2 vectors of columns, a group's rows are
    // taken in strips of J columns of W, every vector of columns before the next strip: the strip
    // (RB x J, 12 KB) comes from memory once and then from L1, where the vectors one after the
    // other over the whole rows would read each row again from L2. Each entry's FMA chain is
    // continued from strip to strip (`first`), so the arithmetic is the same. Measured on an AVX2
    // host (bench_kernels, N = 4000 and 8000): 16 double columns 13-15% faster, 64 4-5% faster;
    // in float, 64 columns were 10-12% slower, so float keeps the whole rows.
    constexpr std::int64_t J = 256;
    const bool strips = !wide && nvec > 2 && sizeof(S) == 8;
#pragma omp parallel num_threads(threads) if (par)
    {
      alignas(64) S t[RB * 4 * 32 / sizeof(S)];
      aligned_array<S> ts;  // the strips' accumulators (allocated only when strips are taken)
      if (strips) ts = make_aligned_array<S>(static_cast<std::size_t>(RB * cp));
#pragma omp for schedule(dynamic, 8)
      for (std::int64_t g = 0; g < rg.count; ++g) {
        const std::int64_t i = rg.first(g);
        const S* Wi = W + i * ld;
        const bool full = rg.size(g) > 1;
        if (strips && full) {
          for (std::int64_t j0 = 0; j0 < n; j0 += J) {
            const std::int64_t len = std::min(J, n - j0);
            const S* pj = p + j0 * cp;
            for (std::int64_t v0 = 0; v0 < nvec;) {
              const std::int64_t c0 = v0 * w;
              if (nvec - v0 >= 2) {
                outer_rows<S, RB, 2>(Wi + j0, ld, len, pj, cp, c0, ts.get() + c0, cp, j0 == 0);
                v0 += 2;
              } else {
                outer_rows<S, RB, 1>(Wi + j0, ld, len, pj, cp, c0, ts.get() + c0, cp, j0 == 0);
                v0 += 1;
              }
            }
          }
          for (int r = 0; r < RB; ++r)
            for (std::int64_t c = 0; c < C; ++c) finish(i + r, c, ts[r * cp + c]);
          continue;
        }
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
            full ? outer_rows<S, RB, 2>(Wi, ld, n, p, cp, c0, t, 2 * w) : outer_rows<S, 1, 2>(Wi, ld, n, p, cp, c0, t, 2 * w);
          else
            full ? outer_rows<S, RB, 1>(Wi, ld, n, p, cp, c0, t, w) : outer_rows<S, 1, 1>(Wi, ld, n, p, cp, c0, t, w);
          const std::int64_t c_end = std::min<std::int64_t>(C, c0 + cv * w);
          for (int r = 0; r < rg.size(g); ++r)
            for (std::int64_t c = c0; c < c_end; ++c) finish(i + r, c, t[r * cv * w + (c - c0)]);
          v0 += cv;
        }
      }
    }
  }
}

}  // namespace

template <class T>
template <class S>
void coupling<T>::multiply(const panel<S>& P, std::type_identity_t<S>* out, const std::type_identity_t<S>* x,
                           const std::type_identity_t<S>* b, std::int64_t n_state, bool leak, int threads,
                           accumulation_kind acc) const {
  static_assert(sizeof(T) <= sizeof(S), "the storage must not be wider than the state");
  const T* W = data_.get();
  if constexpr (std::is_same_v<T, S>) {
    multiply_impl<S, T, load_plain<S, S>>(W, rows_, n_, ld_, first_, P, out, x, b, n_state, leak, threads, acc);
  } else if constexpr (std::is_same_v<T, float>) {
    multiply_impl<S, T, load_widen>(W, rows_, n_, ld_, first_, P, out, x, b, n_state, leak, threads, acc);
  } else {
#ifdef AMARI_KERNEL_F16C
    if (have_f16c()) {
      multiply_impl<S, T, load_f16c<S>>(W, rows_, n_, ld_, first_, P, out, x, b, n_state, leak, threads, acc);
      return;
    }
#endif
    multiply_impl<S, T, load_soft<S>>(W, rows_, n_, ld_, first_, P, out, x, b, n_state, leak, threads, acc);
  }
}

// ---- weights<S>: the storage chosen at run time

template <class S>
weights<S>::weights(std::int64_t n, storage_kind storage, accumulation_kind acc, std::int64_t first,
                    std::int64_t rows)
    : storage_(storage), acc_(acc), first_(first), rows_(rows < 0 ? n : rows) {
  switch (storage) {
    case storage_kind::float64:
      if constexpr (!std::is_same_v<S, double>)
        throw InvalidArgument("weight_precision", "double", "must not be wider than precision = float (float or half)");
      else
        c_.template emplace<coupling<double>>(n, first_, rows_);
      break;
    case storage_kind::float32: c_.template emplace<coupling<float>>(n, first_, rows_); break;
    case storage_kind::float16: c_.template emplace<coupling<half>>(n, first_, rows_); break;
  }
}

template <class S>
std::int64_t weights<S>::n() const {
  return std::visit([](const auto& c) -> std::int64_t {
    if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>) return 0; else return c.n();
  }, c_);
}

template <class S>
std::int64_t weights<S>::stride() const {
  return std::visit([](const auto& c) -> std::int64_t {
    if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>) return 0; else return c.stride();
  }, c_);
}

template <class S>
std::size_t weights<S>::bytes() const {
  return std::visit([](const auto& c) -> std::size_t {
    if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>) return 0; else return c.bytes();
  }, c_);
}

template <class S>
std::int64_t weights<S>::set_row(std::int64_t i, const double* w) {
  std::int64_t subnormal = 0;
  auto overflow = [&](std::int64_t j, const char* limit) {
    throw InvalidArgument("weight_precision", storage_ == storage_kind::float16 ? "half" : "float",
                          fmt::format("cannot hold W({}, {}) = {:.6g}: beyond {}'s largest value {}", i, j, w[j],
                                      storage_ == storage_kind::float16 ? "half" : "float", limit));
  };
  std::visit([&](auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (std::is_same_v<C, coupling<double>>) {
      std::copy_n(w, c.n(), c.row(i));
    } else if constexpr (std::is_same_v<C, coupling<float>>) {
      float* row = c.row(i);
      for (std::int64_t j = 0; j < c.n(); ++j) {
        row[j] = static_cast<float>(w[j]);
        if (std::isinf(row[j]) && std::isfinite(w[j])) overflow(j, "3.4e38");
      }
    } else if constexpr (std::is_same_v<C, coupling<half>>) {
      half* row = c.row(i);
      for (std::int64_t j = 0; j < c.n(); ++j) {
        row[j] = to_half(w[j]);
        if ((row[j].bits & 0x7fff) == 0x7c00 && std::isfinite(w[j])) overflow(j, "65504");
        subnormal += half_subnormal(row[j]);
      }
    }
  }, c_);
  return subnormal;
}

template <class S>
double weights<S>::operator()(std::int64_t i, std::int64_t j) const {
  return std::visit([&](const auto& c) -> double {
    using C = std::decay_t<decltype(c)>;
    if constexpr (std::is_same_v<C, std::monostate>) return 0.0;
    else if constexpr (std::is_same_v<C, coupling<half>>) return to_double(c(i, j));
    else return static_cast<double>(c(i, j));
  }, c_);
}

template <class S>
void weights<S>::multiply(const panel<S>& P, S* out, const S* x, const S* b, std::int64_t n_state, bool leak,
                          int threads) const {
  std::visit([&](const auto& c) {
    using C = std::decay_t<decltype(c)>;
    if constexpr (std::is_same_v<C, std::monostate>) return;
    else if constexpr (std::is_same_v<C, coupling<double>>) {
      if constexpr (std::is_same_v<S, double>) c.multiply(P, out, x, b, n_state, leak, threads, acc_);
    } else {
      c.multiply(P, out, x, b, n_state, leak, threads, acc_);
    }
  }, c_);
}

template class panel<double>;
template class panel<float>;
template class coupling<double>;
template class coupling<float>;
template class coupling<half>;
template void coupling<double>::multiply<double>(const panel<double>&, double*, const double*,
    const double*, std::int64_t, bool, int, accumulation_kind) const;
template void coupling<float>::multiply<float>(const panel<float>&, float*, const float*,
    const float*, std::int64_t, bool, int, accumulation_kind) const;
template void coupling<float>::multiply<double>(const panel<double>&, double*, const double*,
    const double*, std::int64_t, bool, int, accumulation_kind) const;
template void coupling<half>::multiply<double>(const panel<double>&, double*, const double*,
    const double*, std::int64_t, bool, int, accumulation_kind) const;
template void coupling<half>::multiply<float>(const panel<float>&, float*, const float*,
    const float*, std::int64_t, bool, int, accumulation_kind) const;
template class weights<double>;
template class weights<float>;

}  // namespace amari
