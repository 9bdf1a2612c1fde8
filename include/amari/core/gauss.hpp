#pragma once
// Gaussian expectations of functions built from an activation and its derivatives.
//
//   one point:  E[f(x)],          x = sqrt(q) z + m,                    z ~ N(0, 1)
//   two points: E[f(u1) g(u2)],   u1 = sqrt(q11) z1,
//                                 u2 = sqrt(q22) (c z1 + sqrt(1 - c^2) z2),  z1, z2 ~ N(0, 1) i.i.d.
//
// f and g are callables that receive an `act_block` -- a block of points together with the
// activation's phi, dphi, d2phi and Phi at those points, each computed on first use -- and return
// an Eigen array expression (or a std::tuple of them, to get several expectations from one set of
// activation values). For example E[phi'(x)^2] is
//
//   expect(act, [](const auto& v) { return v.dphi().square(); }, q, m);
//
// Accuracy: better than 1e-12 relative (1e-14 absolute near zero) for every activation in
// activation.hpp with q up to 50; the test suite checks 1e-10 against closed forms and independent
// references. How:
//  * smooth activations (tanh, erf, linear): the trapezoidal rule in z. For a Gaussian-weighted
//    integrand analytic in the strip |Im z| < d it converges like exp(-2 pi d / step), so the step
//    is chosen from the distance of phi's singularities to the real axis, which for tanh(g x) is
//    pi / (2 g sqrt(q)) in z: the rule refines itself as q grows, where fixed-order Gauss-Hermite
//    stalls (64 nodes miss E[tanh'(sqrt(7) z)^2] by 3%; here about 140 nodes give 1e-14).
//  * kinked activations (relu, hardtanh): Gauss-Legendre panels split at the kinks, and in two
//    points at the z1 where the inner mean crosses a kink, with panels graded geometrically towards
//    it so that c -> +-1 keeps full accuracy.
//  * the limits q = 0 and c = +-1 reduce exactly to fewer dimensions (no 0/0, no NaN).
// Closed forms (erf: the arcsine kernel; relu: the arc-cosine kernels; linear) are used by the
// named expectations below as fast paths, and the tests hold the quadrature against them.
//
// All functions are thread-safe (scratch space is thread-local).
#include <Eigen/Core>
#include <array>
#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "amari/core/activation.hpp"

namespace amari {

// A block of points x (and, in one-point expectations, the standard-normal coordinate z) with the
// activation's values there, computed lazily and cached.
template <class P>
class act_block {
 public:
  static constexpr int size = 64;
  using array = Eigen::Array<double, size, 1>;

  act_block(const P& p, const array& x, const array& z) : p_(p), x_(x), z_(z) {}

  const array& x() const { return x_; }
  const array& z() const { return z_; }  // one-point only: x = sqrt(q) z + m
  const array& phi() const {
    if (!(have_ & 1)) phi_ = p_.phi(x_), have_ |= 1;
    return phi_;
  }
  const array& dphi() const {
    if (!(have_ & 2)) dphi_ = p_.dphi(x_), have_ |= 2;
    return dphi_;
  }
  const array& d2phi() const {
    if (!(have_ & 4)) d2phi_ = p_.d2phi(x_), have_ |= 4;
    return d2phi_;
  }
  const array& Phi() const {
    if (!(have_ & 8)) Phi_ = p_.Phi(x_), have_ |= 8;
    return Phi_;
  }
  const P& policy() const { return p_; }

 private:
  const P& p_;
  const array& x_;
  const array& z_;
  mutable unsigned have_ = 0;
  mutable array phi_, dphi_, d2phi_, Phi_;
};

namespace detail {

// A quadrature rule: E[F(z)] ~ sum_k w[k] F(z[k]) for the relevant Gaussian variable.
struct rule {
  std::vector<double> z, w;
  void clear() {
    z.clear();
    w.clear();
  }
  std::size_t size() const { return z.size(); }
};

// What a rule needs to know about the integrand's smoothness, in the pre-activation variable x.
struct smoothness {
  // Distance from the real axis (around x = 0) within which the activation is analytic and of
  // moderate size; infinity for a polynomial.
  double singularity_distance = 0;
  std::vector<double> kinks;  // points where the integrand may fail to be smooth
};

template <class P>
smoothness smoothness_of(const P& p) {
  smoothness s;
  s.singularity_distance = p.singularity_distance();
  s.kinks.assign(p.kinks().begin(), p.kinks().end());
  return s;
}

// E[F(sqrt(q) z + m)] ~ sum w_k F(x_k): fills r with the x_k (in r.z) and weights.
void rule_1d(const smoothness& s, double q, double m, rule& r);

// Two points. Fills the outer rule (points x1 and weights) and, for each outer point i, the inner
// points x2 and weights in the half-open range [inner_begin[i], inner_begin[i+1]) of `inner`.
struct rule_2d {
  rule outer, inner;
  std::vector<std::size_t> inner_begin;
};
void make_rule_2d(const smoothness& s, double q11, double q22, double c, rule_2d& r);

// Thread-local scratch, reused between calls.
rule& scratch_rule_1d();
rule_2d& scratch_rule_2d();
std::vector<double>& scratch_vector(int which);

template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};

template <class R>
constexpr std::size_t result_count() {
  if constexpr (is_tuple<std::remove_cvref_t<R>>::value)
    return std::tuple_size_v<std::remove_cvref_t<R>>;
  else
    return 1;
}

// Sum over nodes given points xs, weights ws: returns std::array<double, K>.
template <class P, class F>
auto weighted_sum(const P& p, F& f, const double* xs, const double* zs, const double* ws,
                  std::size_t n) {
  using block = act_block<P>;
  using array = typename block::array;
  using R = decltype(f(std::declval<const block&>()));
  constexpr std::size_t K = result_count<R>();
  std::array<double, K> acc{};
  array x, z, w;
  for (std::size_t start = 0; start < n; start += block::size) {
    const std::size_t len = std::min<std::size_t>(block::size, n - start);
    for (std::size_t k = 0; k < len; ++k) {
      x[k] = xs[start + k];
      z[k] = zs ? zs[start + k] : 0.0;
      w[k] = ws[start + k];
    }
    for (std::size_t k = len; k < std::size_t(block::size); ++k) x[k] = z[k] = w[k] = 0.0;
    const block v(p, x, z);
    if constexpr (K == 1 && !is_tuple<std::remove_cvref_t<R>>::value) {
      acc[0] += (w * f(v)).sum();
    } else {
      auto r = f(v);
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((acc[I] += (w * std::get<I>(r)).sum()), ...);
      }(std::make_index_sequence<K>{});
    }
  }
  return acc;
}

template <class A>
auto unwrap(const A& a) {
  if constexpr (std::tuple_size_v<A> == 1)
    return a[0];
  else
    return a;
}

}  // namespace detail

// E[f(sqrt(q) z + m)]; q >= 0. Returns a double, or std::array<double, K> when f returns a
// std::tuple of K expressions.
template <class F>
auto expect(const Activation& act, F&& f, double q, double m = 0.0) {
  return act.visit([&](const auto& p) {
    detail::rule& r = detail::scratch_rule_1d();
    detail::rule_1d(detail::smoothness_of(p), q, m, r);
    std::vector<double>& zs = detail::scratch_vector(0);
    zs.resize(r.size());
    const double sq = std::sqrt(q);
    for (std::size_t k = 0; k < r.size(); ++k) zs[k] = sq > 0 ? (r.z[k] - m) / sq : 0.0;
    return detail::unwrap(detail::weighted_sum(p, f, r.z.data(), zs.data(), r.w.data(), r.size()));
  });
}

// E[f(u1) g(u2)] for the centred bivariate normal with variances q11, q22 >= 0 and correlation
// c in [-1, 1]. g may return a tuple (then the result is an array); f returns one expression.
template <class F, class G>
auto expect2(const Activation& act, F&& f, G&& g, double q11, double q22, double c) {
  return act.visit([&](const auto& p) {
    detail::rule_2d& r = detail::scratch_rule_2d();
    detail::make_rule_2d(detail::smoothness_of(p), q11, q22, c, r);
    // Outer values f(x1_i) w1_i, then the inner sum of g over all (i, j) weighted by them.
    const std::size_t n1 = r.outer.size();
    std::vector<double>& fw = detail::scratch_vector(0);
    fw.resize(n1);
    {
      using block = act_block<std::decay_t<decltype(p)>>;
      typename block::array x, z = block::array::Zero(), out;
      for (std::size_t start = 0; start < n1; start += block::size) {
        const std::size_t len = std::min<std::size_t>(block::size, n1 - start);
        for (std::size_t k = 0; k < std::size_t(block::size); ++k)
          x[k] = k < len ? r.outer.z[start + k] : 0.0;
        const block v(p, x, z);
        out = f(v);
        for (std::size_t k = 0; k < len; ++k) fw[start + k] = out[k] * r.outer.w[start + k];
      }
    }
    std::vector<double>& w2 = detail::scratch_vector(1);
    w2.resize(r.inner.size());
    for (std::size_t i = 0; i < n1; ++i)
      for (std::size_t j = r.inner_begin[i]; j < r.inner_begin[i + 1]; ++j)
        w2[j] = fw[i] * r.inner.w[j];
    return detail::unwrap(
        detail::weighted_sum(p, g, r.inner.z.data(), nullptr, w2.data(), r.inner.size()));
  });
}

// ---- Named expectations, with closed forms where they exist -----------------------------------

enum class method {
  automatic,  // closed form when the activation has one, quadrature otherwise
  quadrature  // always quadrature (for tests of the quadrature against the closed forms)
};

// One point, x = sqrt(q) z + m.
double E_phi(const Activation& act, double q, double m = 0, method how = method::automatic);
double E_phi2(const Activation& act, double q, double m = 0, method how = method::automatic);
double E_dphi(const Activation& act, double q, double m = 0, method how = method::automatic);
double E_dphi2(const Activation& act, double q, double m = 0, method how = method::automatic);
// d/dq E[phi(x)] = E[phi''(x)] / 2 and d/dq E[phi(x)^2] = E[phi'^2 + phi phi''] (Gaussian
// integration by parts), computed as E[z phi'(x)] / (2 sqrt q) and E[z phi phi'(x)] / sqrt q, which
// holds for the kinked activations too (their phi'' has delta parts). At q = 0 the smooth limit.
double dq_E_phi(const Activation& act, double q, double m = 0, method how = method::automatic);
double dq_E_phi2(const Activation& act, double q, double m = 0, method how = method::automatic);

// Two points, centred.
double E_phi_phi(const Activation& act, double q11, double q22, double c,
                 method how = method::automatic);
double E_dphi_dphi(const Activation& act, double q11, double q22, double c,
                   method how = method::automatic);
double E_Phi_Phi(const Activation& act, double q11, double q22, double c,
                 method how = method::automatic);

// ---- Mehler's expansion at equal variances ----------------------------------------------------
//
// For u1, u2 of equal variance q and correlation c (Mehler 1866; e.g. O'Donnell, "Analysis of
// Boolean Functions", ch. 11):
//
//   E[phi(u1) phi(u2)]   = sum_n a_n^2 c^n,
//   E[phi'(u1) phi'(u2)] = sum_n n a_n^2 c^(n-1) / q        (d/dc of the above over q: Price),
//   a_n = E[phi(sqrt(q) z) He_n(z)] / sqrt(n!)               (normalised Hermite coefficients),
//
// with sum_n a_n^2 = E[phi(sqrt(q) z)^2]. All terms are >= 0 for c >= 0, so a truncated sum is a
// lower bound and `tail()` (the omitted weight) bounds the error: for 0 <= c < 1 the first sum is
// off by at most tail() c^(N+1) and the second by tail() max_{n>N} n c^(n-1) / q. The
// coefficients come from one one-dimensional pass (the Hermite functions by their three-term
// recurrence, which is stable), after which each c costs a polynomial evaluation: the fast route
// to the correlation map of deep networks.
struct hermite_expansion {
  double q = 0;
  std::vector<double> a;  // a[0..N]
  double E_phi2 = 0;      // E[phi(sqrt(q) z)^2] by the same rule

  int order() const { return static_cast<int>(a.size()) - 1; }  // N
  double tail() const;                  // max(0, E_phi2 - sum a_n^2)
  double E_phi_phi(double c) const;     // sum_{n <= N} a_n^2 c^n
  double E_dphi_dphi(double c) const;   // sum_{n <= N} n a_n^2 c^(n-1) / q
  // Bounds on the truncation errors of E_phi_phi and E_dphi_dphi at 0 <= c < 1.
  double error_bound_phi_phi(double c) const;
  double error_bound_dphi_dphi(double c) const;
};

// The coefficients a_0..a_n_max of phi(sqrt(q) z), q > 0, accurate to ~1e-15 absolute for
// n_max up to 1000 and q up to 50 (trapezoidal rule for smooth activations, Gauss-Legendre panels
// split at the kinks otherwise, both refined with n_max to resolve the Hermite functions).
hermite_expansion hermite_coefficients(const Activation& act, double q, int n_max);

// The closed forms themselves (throw InvalidArgument for an activation without one).
namespace closed_form {
bool has_two_point(const Activation& act);
double E_phi_phi(const Activation& act, double q11, double q22, double c);
double E_dphi_dphi(const Activation& act, double q11, double q22, double c);
}  // namespace closed_form

}  // namespace amari
