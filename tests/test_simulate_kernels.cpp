// The right-hand-side kernel against a compensated reference product, and its determinism
// contract: bit-identical for any thread count, and (from two columns on) a column's result
// independent of how many other columns ride along.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "amari/sim/kernels.hpp"

namespace {

template <class S>
struct problem {
  std::int64_t n, c;
  amari::coupling<S> W;
  amari::panel<S> P;
  std::vector<double> pd;  // P column-major, as double
  std::vector<double> x, b;

  problem(std::int64_t n_, std::int64_t c_, unsigned seed) : n(n_), c(c_), W(n_), P(n_, c_) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> z;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) W.row(i)[j] = static_cast<S>(z(g) / std::sqrt(double(n)));
    pd.resize(n * c);
    for (std::int64_t k = 0; k < c; ++k) {
      S* col = P.column(k);
      for (std::int64_t j = 0; j < n; ++j) col[j] = static_cast<S>(std::tanh(z(g))), pd[k * n + j] = col[j];
      P.commit(k);
    }
    for (std::int64_t i = 0; i < n * c; ++i) x.push_back(static_cast<S>(z(g)));
    for (std::int64_t i = 0; i < n; ++i) b.push_back(static_cast<S>(z(g)));
  }

  std::vector<S> run(bool leak, bool bias, std::int64_t n_state, int threads) const {
    std::vector<S> xs(x.begin(), x.end()), bs(b.begin(), b.end()), out(n * c);
    W.multiply(P, out.data(), leak ? xs.data() : nullptr, bias ? bs.data() : nullptr, n_state, leak, threads);
    return out;
  }
};

// The reference in long double; the error bound of a floating-point dot product of length n is
// n u sum |w p| (Higham, Accuracy and Stability, 3.1); we allow 2 n u sum|w p| + 4 u |result|.
template <class S>
void check_against_reference(std::int64_t n, std::int64_t c) {
  INFO("n = " << n << ", columns = " << c << ", " << (sizeof(S) == 8 ? "double" : "float"));
  const problem<S> pr(n, c, static_cast<unsigned>(n * 100 + c));
  const std::int64_t n_state = (c + 1) / 2;
  const auto out = pr.run(true, true, n_state, 2);
  const double u = sizeof(S) == 8 ? 0x1p-53 : 0x1p-24;
  int bad = 0;
  for (std::int64_t k = 0; k < c; ++k)
    for (std::int64_t i = 0; i < n; ++i) {
      long double s = 0, sa = 0;
      for (std::int64_t j = 0; j < n; ++j) {
        const long double t = static_cast<long double>(pr.W(i, j)) * pr.pd[k * n + j];
        s += t;
        sa += std::abs(t);
      }
      const long double expect = s - static_cast<S>(pr.x[k * n + i]) + (k < n_state ? static_cast<S>(pr.b[i]) : 0);
      const double bound = 2.0 * double(n) * u * double(sa) + 4 * u * (std::abs(double(expect)) + 4);
      if (std::abs(double(out[k * n + i] - expect)) > bound) ++bad;
    }
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("the kernel computes W P - x + b to rounding accuracy", "[kernels]") {
  for (std::int64_t n : {1, 7, 16, 33, 130}) {
    for (std::int64_t c : {1, 2, 3, 4, 5, 9, 16, 17}) {
      check_against_reference<double>(n, c);
      check_against_reference<float>(n, c);
    }
  }
}

TEST_CASE("the kernel is bit-identical for 1 and 2 threads", "[kernels]") {
  for (std::int64_t c : {1, 2, 3, 4, 6, 16}) {
    INFO("columns = " << c);
    // n = 900: above the size from which the kernel splits the rows between threads.
    const problem<double> pd(900, c, 11);
    CHECK(pd.run(true, true, 1, 1) == pd.run(true, true, 1, 2));
    const problem<float> pf(900, c, 12);
    CHECK(pf.run(false, true, c, 1) == pf.run(false, true, c, 2));
  }
}

TEST_CASE("with two or more columns, a column's product does not depend on the others", "[kernels]") {
  const std::int64_t n = 301;
  const problem<double> two(n, 2, 5);
  const auto y2 = two.run(false, false, 0, 2);
  for (std::int64_t c : {3, 4, 9, 16}) {
    amari::panel<double> P(n, c);
    for (std::int64_t k = 0; k < c; ++k) {
      double* col = P.column(k);
      for (std::int64_t j = 0; j < n; ++j) col[j] = k < 2 ? two.pd[k * n + j] : 0.5 * k;
      P.commit(k);
    }
    std::vector<double> out(n * c);
    two.W.multiply(P, out.data(), nullptr, nullptr, 0, false, 2);
    CHECK(std::vector<double>(out.begin(), out.begin() + 2 * n) == y2);
  }
}

// From five columns on, every entry of the product is one fused multiply-add chain over j in the
// order j = 0 .. n-1, whichever vector width computes it (AVX2, or AVX-512VL where the processor has
// it): the scalar chain of std::fma gives the same bits. So the two vector paths agree with each
// other by agreeing with it, on any machine (here the AVX-512VL path runs where the processor has
// it, and the comparison with the chain runs everywhere).
template <class S>
void check_fma_chain(const problem<S>& pr, bool allow_wide) {
  amari::kernel_avx512(allow_wide);
  const auto out = pr.run(false, false, 0, 2);
  amari::kernel_avx512(true);
  std::int64_t differ = 0;
  for (std::int64_t k = 0; k < pr.c; ++k)
    for (std::int64_t i = 0; i < pr.n; ++i) {
      S y = 0;
      for (std::int64_t j = 0; j < pr.n; ++j)
        y = amari::simd_width<S>() > 1 ? std::fma(pr.W(i, j), static_cast<S>(pr.pd[k * pr.n + j]), y)
                                       : pr.W(i, j) * static_cast<S>(pr.pd[k * pr.n + j]) + y;
      differ += out[k * pr.n + i] != y;
    }
  CHECK(differ == 0);
}

TEST_CASE("the AVX-512VL and AVX2 outer products give the same bits: a fused multiply-add chain per entry",
          "[kernels]") {
  const problem<double> pd(500, 16, 21);
  const problem<float> pf(500, 32, 22);
  // (and 5 vectors of columns over more than one strip of W: the AVX2 path's last vector alone)
  const problem<double> pd5(300, 20, 23);
  const problem<float> pf5(300, 40, 24);
  for (bool wide : {false, true}) {
    INFO((wide ? "AVX-512VL where the processor has it" : "AVX2") << "; this processor: "
         << (amari::kernel_avx512(true) ? "AVX-512VL" : "no AVX-512VL"));
    check_fma_chain(pd, wide);
    check_fma_chain(pf, wide);
    check_fma_chain(pd5, wide);
    check_fma_chain(pf5, wide);
  }
  const bool wide = amari::kernel_avx512(true);
  const auto d1 = pd.run(true, true, 8, 2);
  const auto f1 = pf.run(true, true, 8, 2);
  amari::kernel_avx512(false);
  const auto d2 = pd.run(true, true, 8, 2);
  const auto f2 = pf.run(true, true, 8, 2);
  amari::kernel_avx512(true);
  INFO("AVX-512VL " << (wide ? "used" : "absent: both runs take the AVX2 path"));
  CHECK(d1 == d2);
  CHECK(f1 == f2);
}

namespace {

// The product of W's rows split into blocks (one network over several processes) against the whole
// W's: every block's rows must carry the whole product's bits, for every storage and accumulation.
template <class S>
void check_row_blocks(std::int64_t n, std::int64_t c, amari::storage_kind storage, amari::accumulation_kind acc) {
  INFO("n = " << n << ", columns = " << c << ", state " << (sizeof(S) == 8 ? "double" : "float") << ", storage "
              << amari::storage_bytes(storage) << " B, accumulation " << (acc == amari::accumulation_kind::blocked ? "blocked" : "state"));
  std::mt19937_64 g(static_cast<unsigned>(n + 7 * c));
  std::normal_distribution<double> z;
  std::vector<double> w(static_cast<std::size_t>(n * n));
  for (auto& v : w) v = z(g) / std::sqrt(double(n));
  amari::panel<S> P(n, c);
  for (std::int64_t k = 0; k < c; ++k) {
    S* col = P.column(k);
    for (std::int64_t j = 0; j < n; ++j) col[j] = static_cast<S>(std::tanh(z(g)));
    P.commit(k);
  }
  std::vector<S> x(static_cast<std::size_t>(n * c)), b(static_cast<std::size_t>(n));
  for (auto& v : x) v = static_cast<S>(z(g));
  for (auto& v : b) v = static_cast<S>(z(g));
  const std::int64_t n_state = (c + 1) / 2;

  amari::weights<S> whole(n, storage, acc);
  for (std::int64_t i = 0; i < n; ++i) whole.set_row(i, w.data() + i * n);
  std::vector<S> want(static_cast<std::size_t>(n * c));
  whole.multiply(P, want.data(), x.data(), b.data(), n_state, true, 2);

  // Blocks of uneven sizes that cut the kernels' row groups (4 rows; 6 in the outer product).
  const std::int64_t cuts[] = {0, 5, n / 3 + 1, n - 7, n};
  std::vector<S> got(static_cast<std::size_t>(n * c), S(-12345));
  for (int k = 0; k + 1 < 5; ++k) {
    const std::int64_t first = cuts[k], rows = cuts[k + 1] - cuts[k];
    amari::weights<S> block(n, storage, acc, first, rows);
    CHECK(block.bytes() == static_cast<std::size_t>(rows * block.stride()) * amari::storage_bytes(storage));
    for (std::int64_t i = first; i < first + rows; ++i) block.set_row(i, w.data() + i * n);
    block.multiply(P, got.data(), x.data(), b.data(), n_state, true, k % 2 + 1);
  }
  std::int64_t differ = 0;
  for (std::size_t i = 0; i < got.size(); ++i) differ += std::memcmp(&got[i], &want[i], sizeof(S)) != 0;
  CHECK(differ == 0);
}

}  // namespace

TEST_CASE("W split into row blocks gives the whole product's bits in every row", "[kernels]") {
  using amari::accumulation_kind;
  using amari::storage_kind;
  for (std::int64_t c : {1, 3, 9})
    for (std::int64_t n : {61, 200}) {
      check_row_blocks<double>(n, c, storage_kind::float64, accumulation_kind::state);
      check_row_blocks<double>(n, c, storage_kind::float32, accumulation_kind::state);
      check_row_blocks<double>(n, c, storage_kind::float16, accumulation_kind::state);
      check_row_blocks<double>(n, c, storage_kind::float16, accumulation_kind::blocked);
      check_row_blocks<double>(n, c, storage_kind::float32, accumulation_kind::blocked);
      check_row_blocks<float>(n, c, storage_kind::float32, accumulation_kind::state);
      check_row_blocks<float>(n, c, storage_kind::float16, accumulation_kind::state);
    }
}
