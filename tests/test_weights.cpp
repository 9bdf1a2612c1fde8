// Bytes per weight (kernels.hpp): W stored in half or float against a state in double or float.
// The half rounding against a brute-force search; the narrow kernels against the same kernel on
// the rounded W held in the state's precision (bit for bit), against a long-double reference
// product (to the rounding bound), across thread counts and conversion paths; the blocked
// accumulation against its error bound; the one rounding point (weights::set_row) and its refusals.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/sim/kernels.hpp"
#include "amari/sim/network.hpp"

using amari::half;
using amari::storage_kind;
using amari::accumulation_kind;

namespace {

// Every finite half, ordered by value (negative zero left out): the nearest one to x by search.
struct half_table {
  std::vector<std::pair<double, std::uint16_t>> v;
  half_table() {
    for (std::uint32_t b = 0; b < 0x10000; ++b) {
      const auto h = half{static_cast<std::uint16_t>(b)};
      if ((b & 0x7c00) == 0x7c00 || b == 0x8000) continue;
      v.emplace_back(amari::to_double(h), static_cast<std::uint16_t>(b));
    }
    std::sort(v.begin(), v.end());
  }
  // Nearest; ties to the even significand (last bit 0).
  std::uint16_t nearest(double x) const {
    auto it = std::lower_bound(v.begin(), v.end(), std::make_pair(x, std::uint16_t(0)));
    if (it == v.end()) return v.back().second;
    if (it == v.begin()) return it->second;
    const auto lo = *(it - 1), hi = *it;
    const double dl = x - lo.first, dh = hi.first - x;
    if (dl < dh) return lo.second;
    if (dh < dl) return hi.second;
    return (lo.second & 1) == 0 ? lo.second : hi.second;
  }
};

template <class T>
T round_to(double x) {
  if constexpr (std::is_same_v<T, half>) return amari::to_half(x);
  else return static_cast<T>(x);
}
template <class T>
double value(T x) {
  if constexpr (std::is_same_v<T, half>) return amari::to_double(x);
  else return static_cast<double>(x);
}

// W (N(0, 1/n)) rounded to T, the same values held in S, and a panel of tanh(z).
template <class S, class T>
struct problem {
  std::int64_t n, c;
  amari::coupling<T> Wt;
  amari::coupling<S> Ws;
  amari::panel<S> P;
  std::vector<double> pd, x, b;
  problem(std::int64_t n_, std::int64_t c_, unsigned seed) : n(n_), c(c_), Wt(n_), Ws(n_), P(n_, c_) {
    std::mt19937_64 g(seed);
    std::normal_distribution<double> z;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        Wt.row(i)[j] = round_to<T>(z(g) / std::sqrt(double(n)));
        Ws.row(i)[j] = static_cast<S>(value(Wt.row(i)[j]));
      }
    for (std::int64_t k = 0; k < c; ++k) {
      S* col = P.column(k);
      for (std::int64_t j = 0; j < n; ++j) col[j] = static_cast<S>(std::tanh(z(g))), pd.push_back(col[j]);
      P.commit(k);
    }
    for (std::int64_t i = 0; i < n * c; ++i) x.push_back(static_cast<S>(z(g)));
    for (std::int64_t i = 0; i < n; ++i) b.push_back(static_cast<S>(z(g)));
  }
  std::vector<S> run_narrow(int threads, accumulation_kind acc = accumulation_kind::state) const {
    std::vector<S> xs(x.begin(), x.end()), bs(b.begin(), b.end()), out(n * c);
    Wt.multiply(P, out.data(), xs.data(), bs.data(), (c + 1) / 2, true, threads, acc);
    return out;
  }
  std::vector<S> run_wide(int threads) const {
    std::vector<S> xs(x.begin(), x.end()), bs(b.begin(), b.end()), out(n * c);
    Ws.multiply(P, out.data(), xs.data(), bs.data(), (c + 1) / 2, true, threads);
    return out;
  }
  // Entries outside the bound e_j = slack * sum_j |w p| + 4 u |y| of a long-double reference.
  std::int64_t off_reference(const std::vector<S>& out, double slack, double u) const {
    std::int64_t bad = 0;
    const std::int64_t n_state = (c + 1) / 2;
    for (std::int64_t k = 0; k < c; ++k)
      for (std::int64_t i = 0; i < n; ++i) {
        long double s = 0, sa = 0;
        for (std::int64_t j = 0; j < n; ++j) {
          const long double t = static_cast<long double>(value(Wt(i, j))) * pd[k * n + j];
          s += t, sa += std::abs(t);
        }
        const long double y = s - static_cast<S>(x[k * n + i]) + (k < n_state ? static_cast<S>(b[i]) : 0);
        if (std::abs(double(out[k * n + i] - y)) > slack * double(sa) + 4 * u * (std::abs(double(y)) + 4)) ++bad;
      }
    return bad;
  }
};

template <class S, class T>
void check_narrow(std::int64_t n, std::int64_t c) {
  INFO("n = " << n << ", columns = " << c << ", state " << sizeof(S) << " bytes, weights " << sizeof(T) << " bytes");
  const problem<S, T> pr(n, c, static_cast<unsigned>(n * 31 + c));
  const auto narrow = pr.run_narrow(2);
  // the same bits as the kernel on the rounded W held in S ...
  CHECK(narrow == pr.run_wide(2));
  // ... and the product of the rounded W to the rounding bound of a dot product in S (Higham,
  // Accuracy and Stability, 3.1: n u sum |w p|; allowed twice that)
  const double u = sizeof(S) == 8 ? 0x1p-53 : 0x1p-24;
  CHECK(pr.off_reference(narrow, 2.0 * double(n) * u, u) == 0);
}

}  // namespace

TEST_CASE("half: round to nearest, ties to even, from double directly", "[weights][kernels]") {
  using amari::to_half;
  CHECK(to_half(1.0).bits == 0x3c00);
  CHECK(to_half(-2.0).bits == 0xc000);
  CHECK(to_half(65504.0).bits == 0x7bff);
  CHECK(to_half(65519.99).bits == 0x7bff);
  CHECK(to_half(65520.0).bits == 0x7c00);  // the tie rounds to even: 2^16, beyond range
  CHECK(to_half(0x1p-24).bits == 0x0001);  // the smallest subnormal
  CHECK(to_half(0x1p-25).bits == 0x0000);  // a tie with 0: even
  CHECK(to_half(3 * 0x1p-25).bits == 0x0002);
  CHECK(to_half(1.0 + 0x1p-11).bits == 0x3c00);       // tie: even
  CHECK(to_half(1.0 + 3 * 0x1p-11).bits == 0x3c02);   // tie: even
  // 1 + 2^-11 + 2^-40 is just above the tie: via float it would round to the tie first (2^-40 is
  // below float's half ulp) and then to even, 1.0 -- the double rounding that to_half avoids
  CHECK(to_half(1.0 + 0x1p-11 + 0x1p-40).bits == 0x3c01);
  CHECK(amari::half_subnormal(to_half(1e-5)));
  CHECK_FALSE(amari::half_subnormal(to_half(1e-4)));
  CHECK(std::isinf(amari::to_double(to_half(1e6))));
  // random doubles over half's range against a search of all halves
  const half_table tab;
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> e(-26, 16.1), s(1, 2);
  std::int64_t differ = 0;
  for (int k = 0; k < 200000; ++k) {
    const double x = (k % 2 ? -1 : 1) * s(g) * std::exp2(std::floor(e(g)));
    if (std::abs(x) >= 65520) continue;
    const std::uint16_t expect = x < 0 ? static_cast<std::uint16_t>(tab.nearest(-x) | 0x8000) : tab.nearest(x);
    const std::uint16_t got = to_half(x).bits;
    differ += got != expect && !((got & 0x7fff) == 0 && (expect & 0x7fff) == 0);
  }
  CHECK(differ == 0);
}

TEST_CASE("narrow weights: the product of the rounded W in the state's precision", "[weights][kernels]") {
  for (std::int64_t n : {1, 7, 33, 130, 300}) {
    for (std::int64_t c : {1, 2, 3, 5, 9, 16, 17}) {
      check_narrow<double, float>(n, c);
      check_narrow<double, half>(n, c);
      check_narrow<float, half>(n, c);
    }
  }
}

TEST_CASE("narrow weights: F16C and the software conversion give the same bits", "[weights][kernels]") {
  const bool f16c = amari::kernel_f16c(true);
  INFO("this processor: " << (f16c ? "F16C" : "no F16C (both runs convert in software)"));
  for (std::int64_t c : {1, 3, 16}) {
    const problem<double, half> pd(301, c, 3);
    const problem<float, half> pf(301, c, 4);
    const auto d1 = pd.run_narrow(2), b1 = pd.run_narrow(2, accumulation_kind::blocked);
    const auto f1 = pf.run_narrow(2);
    amari::kernel_f16c(false);
    const auto d2 = pd.run_narrow(2), b2 = pd.run_narrow(2, accumulation_kind::blocked);
    const auto f2 = pf.run_narrow(2);
    amari::kernel_f16c(true);
    CHECK(d1 == d2);
    CHECK(f1 == f2);
    CHECK(b1 == b2);
  }
}

TEST_CASE("narrow weights: bit-identical for 1 and 2 threads", "[weights][kernels]") {
  for (std::int64_t c : {1, 2, 5, 16}) {
    INFO("columns = " << c);
    // n = 900: above the size from which the kernel splits the rows between threads
    const problem<double, half> a(900, c, 31);
    CHECK(a.run_narrow(1) == a.run_narrow(2));
    CHECK(a.run_narrow(1, accumulation_kind::blocked) == a.run_narrow(2, accumulation_kind::blocked));
    const problem<double, float> f(900, c, 32);
    CHECK(f.run_narrow(1) == f.run_narrow(2));
    CHECK(f.run_narrow(1, accumulation_kind::blocked) == f.run_narrow(2, accumulation_kind::blocked));
    const problem<float, half> h(900, c, 33);
    CHECK(h.run_narrow(1) == h.run_narrow(2));
  }
}

TEST_CASE("blocked accumulation: within the bound of float sums over blocks of 128", "[weights][kernels]") {
  // p rounded to float (u_f |w p| per term), a float sum over at most 128 terms (128 u_f sum
  // |w p| over the block, Higham 3.1), the blocks added in double: 130 u_f sum |w p| in all;
  // allowed twice that. (The state accumulation meets 2 n u_d.)
  const double uf = 0x1p-24;
  for (std::int64_t n : {7, 130, 1000, 3001}) {
    INFO("n = " << n);
    const problem<double, half> h(n, 1, static_cast<unsigned>(n));
    CHECK(h.off_reference(h.run_narrow(2, accumulation_kind::blocked), 2 * 130 * uf, 0x1p-53) == 0);
    const problem<double, float> f(n, 1, static_cast<unsigned>(n + 1));
    CHECK(f.off_reference(f.run_narrow(2, accumulation_kind::blocked), 2 * 130 * uf, 0x1p-53) == 0);
  }
}

TEST_CASE("weights: set_row is the one rounding point, and refuses what the storage cannot hold", "[weights]") {
  const std::int64_t n = 40;
  std::vector<double> row(n);
  for (std::int64_t j = 0; j < n; ++j) row[j] = std::sin(double(j)) * 1e-3;
  row[3] = 1e-6;  // subnormal in half (below 2^-14), as are the sines near 0 (e.g. j = 22)
  std::int64_t below = 0;
  for (double w : row) below += w != 0 && std::abs(w) < 0x1p-14;
  REQUIRE(below >= 2);
  amari::weights<double> h(n, storage_kind::float16), f(n, storage_kind::float32), d(n, storage_kind::float64);
  CHECK(h.set_row(2, row.data()) == below);
  CHECK(f.set_row(2, row.data()) == 0);
  CHECK(d.set_row(2, row.data()) == 0);
  for (std::int64_t j = 0; j < n; ++j) {
    CHECK(h(2, j) == amari::to_double(amari::to_half(row[j])));
    CHECK(f(2, j) == static_cast<double>(static_cast<float>(row[j])));
    CHECK(d(2, j) == row[j]);
  }
  CHECK(h.bytes() * 4 == d.bytes());
  CHECK(f.bytes() * 2 == d.bytes());
  row[7] = 7e4;
  try {
    h.set_row(0, row.data());
    FAIL("no exception");
  } catch (const amari::InvalidArgument& e) {
    CHECK_THAT(e.what(), Catch::Contains("weight_precision") && Catch::Contains("65504") && Catch::Contains("W(0, 7)"));
  }
  CHECK_THROWS_AS(amari::weights<float>(n, storage_kind::float64), amari::InvalidArgument);
}

TEST_CASE("weights: the drawn network in half is the double draw rounded", "[weights][network]") {
  amari::network_params p;
  p.n = 300;
  p.model.sigma_w = 1.7;
  const auto d = amari::draw_network<double>(p, 2, 2);
  const auto h = amari::draw_network<double>(p, 2, 1, storage_kind::float16);
  const auto hf = amari::draw_network<float>(p, 2, 2, storage_kind::float16);
  std::int64_t differ = 0;
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) {
      const double r = amari::to_double(amari::to_half(d.W(i, j)));
      differ += h.W(i, j) != r || hf.W(i, j) != r;
    }
  CHECK(differ == 0);
  CHECK(h.b == d.b);
}
