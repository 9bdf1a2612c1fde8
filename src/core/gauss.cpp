#include "amari/core/gauss.hpp"

#include <algorithm>
#include <boost/math/quadrature/gauss.hpp>
#include <cmath>
#include <fmt/format.h>
#include <numbers>

#include "amari/core/error.hpp"

namespace amari {
namespace detail {

namespace {

// Integration range in z: the standard normal density beyond |z| = 9 is below 1e-18, so even a
// quartic integrand loses nothing at 1e-14 relative.
constexpr double z_max = 9.0;
// Trapezoidal step in z for a Gaussian-weighted polynomial: the aliasing error exp(-2 pi^2 / h^2)
// is 3e-18 at h = 0.7.
constexpr double h_gauss = 0.7;

// Smooth activations: the trapezoidal rule after the substitution z = z0 + a sinh(u).
//
// For an integrand analytic in the strip |Im u| < w the trapezoidal rule converges like
// exp(-2 pi w / h). tanh(g x) has its poles at x = i pi (k + 1/2) / g: in z they sit on the line
// Re z = z0 = -m / sqrt(q), the nearest at distance d = pi / (2 g sqrt q), which shrinks as q
// grows -- why fixed-order Gauss-Hermite fails there. The sinh map with a = d / sin(pi/4) puts the
// nearest pole at Im u = pi/4 and the others at Im u = pi/2, while the Gaussian factor stays
// bounded up to Im u = pi/4: a strip of half-width pi/4 whatever q, with the nodes crowded near
// z0, where the integrand changes, and sparse in the tails. erf is entire, but |erf(x + i y)| grows
// like exp(y^2 - x^2): it behaves like a function with singularities at distance ~1 from x = 0.
//
// The step h_sinh = 0.08 was measured (tests/test_gauss.cpp, "quadrature convergence") to give
// errors below 1e-13 relative for E[f] with f in {phi, phi^2, phi'^2, (phi phi')^2, Phi^2}, tanh and
// erf, q in [0.01, 50], m in {0, 0.7, -2.5}, against 30-digit adaptive quadrature; h = 0.10 gives
// 5e-13 and 0.12 gives 2e-10, so the margin is about three orders of magnitude.
constexpr double h_sinh = 0.08;
constexpr double sinh_rho = 0.70710678118654752;  // sin(pi/4)

// Kinked activations: Gauss-Legendre panels. Between kinks the integrand is a polynomial of low
// degree times the Gaussian density; 20 nodes on panels of length <= 1.5 integrate that to 1e-16.
constexpr double panel_max = 1.5;
using legendre = boost::math::quadrature::gauss<double, 20>;

constexpr double inv_sqrt_2pi = 0.39894228040143267794;
double density(double z) { return inv_sqrt_2pi * std::exp(-0.5 * z * z); }

// Appends the rule for E over z of F(scale z + shift) where, in z, the integrand's singularities
// lie at distance >= d from the real axis on the line Re z = z0 (d = inf: a polynomial).
// Vectorised: this runs once per outer node of every two-point expectation.
void append_smooth(double d, double z0, double scale, double shift, double weight, rule& r) {
  using Eigen::ArrayXd;
  const std::size_t old = r.z.size();
  // Singularities at least 10 from the real axis (a polynomial, or a small variance): the plain
  // trapezoidal rule in z is exact to exp(-2 pi 8 / h_gauss) e^{8^2/2} ~ e^-40 on the strip
  // |Im z| < 8. The sinh map would only hurt there: with a >> z_max its nodes span |u| << 1, where
  // a (e^u - e^-u) / 2 loses everything to cancellation (at q = 1e-40 all nodes fell on z0).
  if (!std::isfinite(d) || d >= 10) {
    const long K = static_cast<long>(std::floor(z_max / h_gauss));
    const Eigen::Index n = 2 * K + 1;
    r.z.resize(old + n);
    r.w.resize(old + n);
    const ArrayXd z = ArrayXd::LinSpaced(n, -K * h_gauss, K * h_gauss);
    Eigen::Map<ArrayXd>(r.z.data() + old, n) = scale * z + shift;
    Eigen::Map<ArrayXd>(r.w.data() + old, n) = (weight * h_gauss * inv_sqrt_2pi) * (-0.5 * z.square()).exp();
    return;
  }
  const double a = d / sinh_rho;
  // The step must also resolve the Gaussian where it peaks (z = 0, i.e. u = asinh(-z0 / a)), where
  // one step in u is a cosh(u) = sqrt(a^2 + z0^2) in z.
  const double h = std::min(h_sinh, h_gauss / std::hypot(a, z0));
  const long k_lo = static_cast<long>(std::ceil(std::asinh((-z_max - z0) / a) / h));
  const long k_hi = static_cast<long>(std::floor(std::asinh((z_max - z0) / a) / h));
  if (k_hi < k_lo) return;
  const Eigen::Index n = k_hi - k_lo + 1;
  r.z.resize(old + n);
  r.w.resize(old + n);
  const ArrayXd e = ArrayXd::LinSpaced(n, k_lo * h, k_hi * h).exp();
  const ArrayXd z = z0 + (0.5 * a) * (e - e.inverse());  // z0 + a sinh(u)
  Eigen::Map<ArrayXd>(r.z.data() + old, n) = scale * z + shift;
  Eigen::Map<ArrayXd>(r.w.data() + old, n) =
      (0.5 * weight * h * a * inv_sqrt_2pi) * (e + e.inverse()) * (-0.5 * z.square()).exp();
}

// Appends Gauss-Legendre panels covering [a, b] in z.
void append_panels(double a, double b, double scale, double shift, double weight, rule& r) {
  if (!(b > a)) return;
  const int n = std::max(1, static_cast<int>(std::ceil((b - a) / panel_max)));
  const double len = (b - a) / n;
  const auto& xs = legendre::abscissa();
  const auto& ws = legendre::weights();
  for (int p = 0; p < n; ++p) {
    const double lo = a + p * len, half = 0.5 * len, mid = lo + half;
    for (std::size_t k = 0; k < xs.size(); ++k) {
      for (int sgn : {-1, 1}) {
        if (xs[k] == 0 && sgn > 0) continue;
        const double z = mid + sgn * half * xs[k];
        r.z.push_back(scale * z + shift);
        r.w.push_back(weight * half * ws[k] * density(z));
      }
    }
  }
}

// Appends a piecewise Gauss-Legendre rule on [-z_max, z_max] split at the sorted breakpoints.
void append_piecewise(std::vector<double>& breaks, double scale, double shift, double weight, rule& r) {
  breaks.push_back(-z_max);
  breaks.push_back(z_max);
  std::sort(breaks.begin(), breaks.end());
  breaks.erase(std::unique(breaks.begin(), breaks.end()), breaks.end());
  for (std::size_t i = 0; i + 1 < breaks.size(); ++i) {
    const double a = std::max(breaks[i], -z_max), b = std::min(breaks[i + 1], z_max);
    append_panels(a, b, scale, shift, weight, r);
  }
}

// The value at a point of zero variance; at a kink, the mean of the two one-sided limits (the
// q -> 0 limit of the Gaussian expectation).
void append_point(const smoothness& s, double x, double weight, rule& r) {
  if (std::find(s.kinks.begin(), s.kinks.end(), x) != s.kinks.end()) {
    r.z.push_back(std::nextafter(x, -HUGE_VAL));
    r.w.push_back(0.5 * weight);
    r.z.push_back(std::nextafter(x, HUGE_VAL));
    r.w.push_back(0.5 * weight);
  } else {
    r.z.push_back(x);
    r.w.push_back(weight);
  }
}

// Appends the rule for E over z of F(scale z + shift), F built from the activation.
void append_1d(const smoothness& s, double scale, double shift, double weight, rule& r,
               std::vector<double>& breaks) {
  if (scale == 0) {
    append_point(s, shift, weight, r);
    return;
  }
  if (s.kinks.empty()) {
    append_smooth(s.singularity_distance / scale, -shift / scale, scale, shift, weight, r);
    return;
  }
  breaks.clear();
  for (double k : s.kinks) {
    const double zb = (k - shift) / scale;
    if (std::abs(zb) < z_max) breaks.push_back(zb);
  }
  append_piecewise(breaks, scale, shift, weight, r);
}

void check_variance(const char* field, double q) {
  if (!std::isfinite(q) || q < 0)
    throw InvalidArgument(field, format_number(q), "a variance must be a finite number >= 0");
}

}  // namespace

void rule_1d(const smoothness& s, double q, double m, rule& r) {
  check_variance("q", q);
  require_finite("m", m);
  r.clear();
  std::vector<double> breaks;
  append_1d(s, std::sqrt(q), m, 1.0, r, breaks);
}

void make_rule_2d(const smoothness& s, double q11, double q22, double c, rule_2d& r) {
  check_variance("q11", q11);
  check_variance("q22", q22);
  if (!(c >= -1.0 && c <= 1.0))
    throw InvalidArgument("c", format_number(c), "a correlation must be in [-1, 1]");
  r.outer.clear();
  r.inner.clear();
  r.inner_begin.assign(1, 0);
  // A zero variance is the limit q -> 0+. Where a kink sits at the mean (relu at 0) that limit
  // depends on the correlation (E[relu'(u1) relu'(u2)] = (pi - arccos c) / (2 pi) for every q > 0),
  // so a tiny standard deviation stands in for zero; the rules below are scale-free in z.
  const bool kink_at_zero = std::find(s.kinks.begin(), s.kinks.end(), 0.0) != s.kinks.end();
  const double tiny = kink_at_zero ? 1e-150 : 0.0;
  const double s1 = std::max(std::sqrt(q11), tiny), s2 = std::max(std::sqrt(q22), tiny);
  const double sc = std::sqrt((1 - c) * (1 + c));  // sqrt(1 - c^2) without cancellation near |c| = 1
  std::vector<double> breaks;

  auto close_inner = [&] { r.inner_begin.push_back(r.inner.size()); };

  if (s1 == 0 || s2 == 0 || sc == 0 || c == 0) {
    // Degenerate or separable cases reduce to one-dimensional rules.
    if (s1 == 0 || s2 == 0 || c == 0) {
      // u1 and u2 independent (or one of them constant): a product of two 1-D rules.
      rule one;
      append_1d(s, s2, 0.0, 1.0, one, breaks);
      append_1d(s, s1, 0.0, 1.0, r.outer, breaks);
      for (std::size_t i = 0; i < r.outer.size(); ++i) {
        r.inner.z.insert(r.inner.z.end(), one.z.begin(), one.z.end());
        r.inner.w.insert(r.inner.w.end(), one.w.begin(), one.w.end());
        close_inner();
      }
      return;
    }
    // |c| = 1: u2 = c sqrt(q22 / q11) u1 exactly. One rule in z1 that resolves both factors.
    if (s.kinks.empty()) {
      append_smooth(s.singularity_distance / std::max(s1, s2), 0.0, 1.0, 0.0, 1.0, r.outer);
    } else {
      for (double k : s.kinks) {
        for (double zb : {k / s1, k / (c * s2)})
          if (std::abs(zb) < z_max) breaks.push_back(zb);
      }
      append_piecewise(breaks, 1.0, 0.0, 1.0, r.outer);
    }
    for (std::size_t i = 0; i < r.outer.size(); ++i) {
      const double z1 = r.outer.z[i];
      r.outer.z[i] = s1 * z1;
      r.inner.z.push_back(c * s2 * z1);
      r.inner.w.push_back(1.0);
      close_inner();
    }
    return;
  }

  const double sigma = s2 * sc;  // inner standard deviation
  if (s.kinks.empty()) {
    // Outer: phi(s1 z1) times G(z1) = E_z2[g(s2 c z1 + sigma z2)], which near |c| = 1 is as steep
    // as g(s2 c z1): the step must resolve the larger of the two scales.
    // Both factors change fastest near z1 = 0; the inner rule is centred where its argument
    // s2 c z1 + sigma z2 crosses 0.
    append_smooth(s.singularity_distance / std::max(s1, s2 * std::abs(c)), 0.0, 1.0, 0.0, 1.0, r.outer);
    for (std::size_t i = 0; i < r.outer.size(); ++i) {
      const double z1 = r.outer.z[i], mu = s2 * c * z1;
      append_smooth(s.singularity_distance / sigma, -mu / sigma, sigma, mu, 1.0, r.inner);
      r.outer.z[i] = s1 * z1;
      close_inner();
    }
    return;
  }

  // Kinked: split the outer range at f's kinks and where the inner mean s2 c z1 crosses a kink of g;
  // around each crossing, G(z1) varies on the scale sc / |c|: grade panels geometrically towards it.
  const double width = sc / std::abs(c);
  for (double k : s.kinks) {
    const double zf = k / s1;
    if (std::abs(zf) < z_max) breaks.push_back(zf);
    const double zc = k / (s2 * c);
    for (double d = width; d < 2 * z_max; d *= 3) {
      for (double zb : {zc - d, zc, zc + d})
        if (std::abs(zb) < z_max) breaks.push_back(zb);
    }
  }
  append_piecewise(breaks, 1.0, 0.0, 1.0, r.outer);
  std::vector<double> inner_breaks;
  for (std::size_t i = 0; i < r.outer.size(); ++i) {
    const double z1 = r.outer.z[i];
    append_1d(s, sigma, s2 * c * z1, 1.0, r.inner, inner_breaks);
    r.outer.z[i] = s1 * z1;
    close_inner();
  }
}

rule& scratch_rule_1d() {
  thread_local rule r;
  return r;
}
rule_2d& scratch_rule_2d() {
  thread_local rule_2d r;
  return r;
}
std::vector<double>& scratch_vector(int which) {
  thread_local std::vector<double> v[4];
  return v[which];
}

}  // namespace detail

// ---- Closed forms --------------------------------------------------------------------------------

namespace {

constexpr double pi = std::numbers::pi;
constexpr double inv_sqrt_2pi = 0.39894228040143267794;

double normal_cdf(double x) { return 0.5 * std::erfc(-x * std::numbers::sqrt2 / 2); }
double normal_pdf(double x) { return inv_sqrt_2pi * std::exp(-0.5 * x * x); }

// The angle theta = arccos(c) and delta = pi - theta, both to full relative accuracy.
struct angle {
  double theta, delta;
};
angle angle_of(double c) {
  if (c >= 0) {
    const double th = 2 * std::asin(std::sqrt(0.5 * (1 - c)));
    return {th, pi - th};
  }
  const double de = 2 * std::asin(std::sqrt(0.5 * (1 + c)));
  return {pi - de, de};
}

// Arc-cosine kernels (Cho & Saul 2009): J1 = sin t + (pi - t) cos t, J2 = 3 sin t cos t +
// (pi - t)(1 + 2 cos^2 t). Near t = pi both vanish to high order; use their series in d = pi - t.
double arccos_J1(const angle& a) {
  const double d = a.delta;
  if (d < 0.5) {  // sum_k>=1 (-1)^(k+1) 2k d^(2k+1) / (2k+1)!
    double term = d, sum = 0;  // term = d^(2k+1) / (2k+1)!
    for (int k = 1; k < 30; ++k) {
      term *= d * d / ((2 * k) * (2 * k + 1));
      const double t = (k % 2 ? 1 : -1) * 2 * k * term;
      sum += t;
      if (std::abs(t) < 1e-18 * std::abs(sum)) break;
    }
    return sum;
  }
  return std::sin(a.theta) + d * std::cos(a.theta);
}
double arccos_J2(const angle& a) {
  const double d = a.delta;
  if (d < 0.5) {  // sum_k>=2 (-1)^k 4^k (2k-2) d^(2k+1) / (2k+1)!
    double term = d;  // 4^k d^(2k+1) / (2k+1)!
    double sum = 0;
    for (int k = 1; k < 30; ++k) {
      term *= 4 * d * d / ((2 * k) * (2 * k + 1));
      if (k < 2) continue;
      const double t = (k % 2 ? -1 : 1) * (2 * k - 2) * term;
      sum += t;
      if (std::abs(t) < 1e-18 * std::abs(sum)) break;
    }
    return sum;
  }
  const double ct = std::cos(a.theta);
  return 3 * std::sin(a.theta) * ct + d * (1 + 2 * ct * ct);
}

enum class kind { tanh, erf, relu, linear, hardtanh };
kind kind_of(const Activation& act) {
  return act.visit([](const auto& p) {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, tanh_phi>) return kind::tanh;
    if constexpr (std::is_same_v<P, erf_phi>) return kind::erf;
    if constexpr (std::is_same_v<P, relu_phi>) return kind::relu;
    if constexpr (std::is_same_v<P, linear_phi>) return kind::linear;
    if constexpr (std::is_same_v<P, hardtanh_phi>) return kind::hardtanh;
  });
}

void check_two_point(double q11, double q22, double c) {
  if (!std::isfinite(q11) || q11 < 0) throw InvalidArgument("q11", format_number(q11), "a variance must be a finite number >= 0");
  if (!std::isfinite(q22) || q22 < 0) throw InvalidArgument("q22", format_number(q22), "a variance must be a finite number >= 0");
  if (!(c >= -1.0 && c <= 1.0)) throw InvalidArgument("c", format_number(c), "a correlation must be in [-1, 1]");
}

[[noreturn]] void no_closed_form(const Activation& act, const char* what) {
  throw InvalidArgument("phi", act.spec(), fmt::format("{} has no closed form for this activation", what));
}

}  // namespace

namespace closed_form {

bool has_two_point(const Activation& act) {
  const kind k = kind_of(act);
  return k == kind::erf || k == kind::relu || k == kind::linear;
}

double E_phi_phi(const Activation& act, double q11, double q22, double c) {
  check_two_point(q11, q22, c);
  switch (kind_of(act)) {
    case kind::erf:  // (2/pi) asin(2 c sqrt(q11 q22) / sqrt((1 + 2 q11)(1 + 2 q22)))
      return 2 / pi * std::asin(2 * c * std::sqrt(q11 * q22) / std::sqrt((1 + 2 * q11) * (1 + 2 * q22)));
    case kind::relu:  // sqrt(q11 q22) J1(theta) / (2 pi)
      return std::sqrt(q11 * q22) * arccos_J1(angle_of(c)) / (2 * pi);
    case kind::linear:
      return c * std::sqrt(q11 * q22);
    default:
      no_closed_form(act, "E[phi(u1) phi(u2)]");
  }
}

double E_dphi_dphi(const Activation& act, double q11, double q22, double c) {
  check_two_point(q11, q22, c);
  switch (kind_of(act)) {
    case kind::erf: {  // (4/pi) / sqrt((1 + 2 q11)(1 + 2 q22) - 4 c^2 q11 q22)
      const double d = 1 + 2 * q11 + 2 * q22 + 4 * q11 * q22 * (1 - c) * (1 + c);
      return 4 / pi / std::sqrt(d);
    }
    case kind::relu:  // P(u1 > 0, u2 > 0) = (pi - theta) / (2 pi), for every q11, q22 > 0 (and
                      // so in the limit of a zero variance)
      return angle_of(c).delta / (2 * pi);
    case kind::linear:
      return 1.0;
    default:
      no_closed_form(act, "E[phi'(u1) phi'(u2)]");
  }
}

}  // namespace closed_form

// ---- Named expectations -----------------------------------------------------------------------

namespace {
bool use_closed(method how) { return how == method::automatic; }
}  // namespace

double E_phi(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return m;
      case kind::erf: return std::erf(m / std::sqrt(1 + 2 * q));
      case kind::relu: {
        const double s = std::sqrt(q), a = m / s;
        return m * normal_cdf(a) + s * normal_pdf(a);
      }
      default: break;
    }
  }
  return expect(act, [](const auto& v) { return v.phi(); }, q, m);
}

double E_phi2(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return q + m * m;
      case kind::erf:
        if (m == 0) return 2 / pi * std::asin(2 * q / (1 + 2 * q));
        break;
      case kind::relu: {
        const double s = std::sqrt(q), a = m / s;
        return (m * m + q) * normal_cdf(a) + m * s * normal_pdf(a);
      }
      default: break;
    }
  }
  return expect(act, [](const auto& v) { return v.phi().square(); }, q, m);
}

double E_dphi(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return 1.0;
      case kind::erf: return 2 / std::sqrt(pi * (1 + 2 * q)) * std::exp(-m * m / (1 + 2 * q));
      case kind::relu: return normal_cdf(m / std::sqrt(q));
      default: break;
    }
  }
  return expect(act, [](const auto& v) { return v.dphi(); }, q, m);
}

double E_dphi2(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return 1.0;
      case kind::erf: return 4 / pi / std::sqrt(1 + 4 * q) * std::exp(-2 * m * m / (1 + 4 * q));
      case kind::relu: return normal_cdf(m / std::sqrt(q));
      default: break;
    }
  }
  return expect(act, [](const auto& v) { return v.dphi().square(); }, q, m);
}

double dq_E_phi(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return 0.0;
      case kind::erf: {
        const double v = 1 + 2 * q;
        return -2 / std::sqrt(pi) * m * std::exp(-m * m / v) / (v * std::sqrt(v));
      }
      case kind::relu: {
        const double s = std::sqrt(q);
        return normal_pdf(m / s) / (2 * s);
      }
      default: break;
    }
  }
  if (q == 0) return 0.5 * act.d2phi(m);
  const double s = std::sqrt(q);
  return expect(act, [](const auto& v) { return v.z() * v.dphi(); }, q, m) / (2 * s);
}

double dq_E_phi2(const Activation& act, double q, double m, method how) {
  if (use_closed(how) && q > 0) {
    switch (kind_of(act)) {
      case kind::linear: return 1.0;
      case kind::erf:
        if (m == 0) return 4 / pi / ((1 + 2 * q) * std::sqrt(1 + 4 * q));
        break;
      case kind::relu: return normal_cdf(m / std::sqrt(q));
      default: break;
    }
  }
  if (q == 0) {
    const double d = act.dphi(m);
    return d * d + act.phi(m) * act.d2phi(m);
  }
  const double s = std::sqrt(q);
  return expect(act, [](const auto& v) { return v.z() * v.phi() * v.dphi(); }, q, m) / s;
}

double E_phi_phi(const Activation& act, double q11, double q22, double c, method how) {
  if (use_closed(how) && closed_form::has_two_point(act)) return closed_form::E_phi_phi(act, q11, q22, c);
  return expect2(act, [](const auto& v) { return v.phi(); }, [](const auto& v) { return v.phi(); }, q11, q22, c);
}

double E_dphi_dphi(const Activation& act, double q11, double q22, double c, method how) {
  if (use_closed(how) && closed_form::has_two_point(act)) return closed_form::E_dphi_dphi(act, q11, q22, c);
  return expect2(act, [](const auto& v) { return v.dphi(); }, [](const auto& v) { return v.dphi(); }, q11, q22, c);
}

double E_Phi_Phi(const Activation& act, double q11, double q22, double c, method how) {
  if (use_closed(how)) {
    switch (kind_of(act)) {
      case kind::linear:  // E[u1^2 u2^2] / 4 = q11 q22 (1 + 2 c^2) / 4
        check_two_point(q11, q22, c);
        return q11 * q22 * (1 + 2 * c * c) / 4;
      case kind::relu:  // E[relu^2 relu^2] / 4 = q11 q22 J2(theta) / (8 pi)
        check_two_point(q11, q22, c);
        return q11 * q22 * arccos_J2(angle_of(c)) / (8 * pi);
      default: break;
    }
  }
  return expect2(act, [](const auto& v) { return v.Phi(); }, [](const auto& v) { return v.Phi(); }, q11, q22, c);
}

}  // namespace amari

// ---- Mehler's expansion ---------------------------------------------------------------------------

namespace amari {

namespace {

// The standard-normal weight is split as rho(z) = g(z)^2 with g(z) = (2 pi)^(-1/4) exp(-z^2/4):
// the Hermite functions psi_n = h_n g (h_n = He_n / sqrt(n!)) stay bounded (|psi_n| < 1) where
// h_n alone overflows, and the integrand phi h_n rho = (phi g) psi_n decays like exp(-z^2/4)
// whatever n: |z| <= 12.5 leaves out less than 1e-17.
constexpr double hermite_z_max = 12.5;

// Nodes z >= 0 (odd activations: the integrands of the odd coefficients and of E[phi^2] are even)
// or on the whole line, with weights for plain integration over z.
void hermite_rule(const detail::smoothness& s, double q, int n_max, bool half_line,
                  std::vector<double>& z, std::vector<double>& w) {
  z.clear();
  w.clear();
  const double lo = half_line ? 0.0 : -hermite_z_max, hi = hermite_z_max;
  if (s.kinks.empty()) {
    // Trapezoidal rule, step from the strip of analyticity in z: phi(sqrt(q) z) is analytic for
    // |Im z| < d = singularity_distance / sqrt(q); we use d' = 3/4 of it (where |tanh| <= 2.6) and
    // at most 4. In the strip |psi_n g| grows by at most exp(d' sqrt(2n + 1) + d'^2 / 2), and the
    // rule's error is ~ that times exp(-2 pi d' / h): h is chosen to make it 1e-17.
    const double d = std::min(0.75 * s.singularity_distance / std::sqrt(q), 4.0);
    const double h = 2 * pi * d / (39.0 + d * std::sqrt(2.0 * n_max + 1) + 0.5 * d * d);
    const long K = static_cast<long>(std::ceil(hermite_z_max / h));
    for (long k = half_line ? 0 : -K; k <= K; ++k) {
      z.push_back(k * h);
      w.push_back(half_line ? (k == 0 ? h : 2 * h) : h);
    }
    return;
  }
  // Kinked: Gauss-Legendre panels between the kinks (in z: kink / sqrt(q)); on a panel the
  // integrand is a low-degree polynomial times psi_n g, whose local wavenumber is below
  // sqrt(n + 1/2): panels of length <= 3 / sqrt(n_max + 1) keep k L <= 3, which 20 nodes
  // integrate to rounding.
  using legendre = boost::math::quadrature::gauss<double, 20>;
  std::vector<double> breaks{lo, hi};
  for (double k : s.kinks) {
    const double zb = k / std::sqrt(q);
    if (zb > lo && zb < hi) breaks.push_back(zb);
  }
  std::sort(breaks.begin(), breaks.end());
  const double L = std::min(1.0, 3.0 / std::sqrt(n_max + 1.0));
  const auto& xs = legendre::abscissa();
  const auto& ws = legendre::weights();
  for (std::size_t i = 0; i + 1 < breaks.size(); ++i) {
    const double a = breaks[i], b = breaks[i + 1];
    if (!(b > a)) continue;
    const int n = std::max(1, static_cast<int>(std::ceil((b - a) / L)));
    const double len = (b - a) / n, half = 0.5 * len;
    for (int p = 0; p < n; ++p) {
      const double mid = a + p * len + half;
      for (std::size_t k = 0; k < xs.size(); ++k) {
        for (int sgn : {-1, 1}) {
          if (xs[k] == 0 && sgn > 0) continue;
          z.push_back(mid + sgn * half * xs[k]);
          w.push_back((half_line ? 2 : 1) * half * ws[k]);
        }
      }
    }
  }
}

}  // namespace

hermite_expansion hermite_coefficients(const Activation& act, double q, int n_max) {
  if (!std::isfinite(q) || q <= 0)
    throw InvalidArgument("q", format_number(q), "Hermite coefficients need a finite variance > 0");
  if (n_max < 0 || n_max > 100000)
    throw InvalidArgument("n_max", std::to_string(n_max), "must be an integer in [0, 100000]");
  const bool odd = act.odd();
  const bool piecewise_linear = act.visit([](const auto& p) {
    using P = std::decay_t<decltype(p)>;
    return std::is_same_v<P, relu_phi> || std::is_same_v<P, hardtanh_phi>;
  });
  if (piecewise_linear) {
    // Exact, with no quadrature: by Gaussian integration by parts E[f(sqrt(q) z) He_n(z)] =
    // sqrt(q) E[f'(sqrt(q) z) He_{n-1}(z)], so a_n = q E[phi''(sqrt(q) z) h_{n-2}(z)] / sqrt(n (n-1))
    // for n >= 2; phi'' = sum_k J_k delta(x - x_k) (J_k the jump of the slope at the kink x_k) makes
    // that a_n = sqrt(q) / sqrt(n (n-1)) sum_k J_k h_{n-2}(z_k) rho(z_k), z_k = x_k / sqrt(q).
    // a_0 = E[phi], a_1 = sqrt(q) E[phi'] come from the one-point expectations.
    hermite_expansion e;
    e.q = q;
    e.a.assign(static_cast<std::size_t>(n_max) + 1, 0.0);
    e.E_phi2 = E_phi2(act, q);
    e.a[0] = E_phi(act, q);
    if (n_max >= 1) e.a[1] = std::sqrt(q) * E_dphi(act, q);
    const double sq = std::sqrt(q);
    act.visit([&](const auto& p) {
      for (double x : p.kinks()) {
        const double jump = p.dphi(std::nextafter(x, HUGE_VAL)) - p.dphi(std::nextafter(x, -HUGE_VAL));
        const double zk = x / sq;
        const double g = std::pow(2 * pi, -0.25) * std::exp(-0.25 * zk * zk);
        // psi_m = h_m(z_k) g(z_k) (bounded) by the recurrence; h_m rho = psi_m g.
        double before = 0, psi = g;  // psi_{m-1}, psi_m with m = n - 2
        for (int n = 2; n <= n_max; ++n) {
          const int m = n - 2;
          e.a[n] += jump * sq * psi * g / std::sqrt(double(n) * (n - 1));
          const double next = (zk * psi - std::sqrt(double(m)) * before) / std::sqrt(m + 1.0);
          before = psi;
          psi = next;
        }
      }
    });
    return e;
  }
  std::vector<double> zs, ws;
  act.visit([&](const auto& p) { hermite_rule(detail::smoothness_of(p), q, n_max, odd, zs, ws); });

  using Eigen::ArrayXd;
  const Eigen::Index K = static_cast<Eigen::Index>(zs.size());
  const Eigen::Map<const ArrayXd> z(zs.data(), K), w(ws.data(), K);
  const ArrayXd g = std::pow(2 * pi, -0.25) * (-0.25 * z.square()).exp();
  ArrayXd f(K);
  act.visit([&](const auto& p) { f = p.phi((z * std::sqrt(q)).eval()); });

  hermite_expansion e;
  e.q = q;
  e.a.assign(static_cast<std::size_t>(n_max) + 1, 0.0);
  e.E_phi2 = (w * f.square() * g.square()).sum();
  const ArrayXd F = w * f * g;
  // psi_0 = g, psi_1 = z g, psi_{n+1} = (z psi_n - sqrt(n) psi_{n-1}) / sqrt(n + 1).
  ArrayXd prev = g, cur = z * g, next(K);
  e.a[0] = odd ? 0.0 : (F * prev).sum();
  if (n_max >= 1) e.a[1] = (F * cur).sum();
  for (int n = 1; n < n_max; ++n) {
    next = (z * cur - std::sqrt(double(n)) * prev) * (1.0 / std::sqrt(n + 1.0));
    prev.swap(cur);
    cur.swap(next);
    // a_{n+1}; for odd phi the even coefficients vanish by symmetry (and the half-line rule
    // would not compute them).
    e.a[n + 1] = (odd && (n + 1) % 2 == 0) ? 0.0 : (F * cur).sum();
  }
  return e;
}

double hermite_expansion::tail() const {
  double s = 0;
  for (double x : a) s += x * x;
  return std::max(0.0, E_phi2 - s);
}

double hermite_expansion::E_phi_phi(double c) const {
  double s = 0;
  for (std::size_t n = a.size(); n-- > 0;) s = s * c + a[n] * a[n];
  return s;
}

double hermite_expansion::E_dphi_dphi(double c) const {
  double s = 0;
  for (std::size_t n = a.size(); n-- > 1;) s = s * c + double(n) * a[n] * a[n];
  return s / q;
}

double hermite_expansion::error_bound_phi_phi(double c) const {
  const double x = std::abs(c);
  if (x >= 1) return tail() > 0 ? HUGE_VAL : 0.0;
  return tail() * std::pow(x, order() + 1);
}

double hermite_expansion::error_bound_dphi_dphi(double c) const {
  const double x = std::abs(c);
  const double t = tail();
  if (t == 0) return 0.0;
  if (x >= 1) return HUGE_VAL;
  // max over n > N of n x^(n-1): n x^(n-1) grows while n < 1 / ln(1/x).
  const double n1 = order() + 1;
  double m = n1 * std::pow(x, n1 - 1);
  if (x > 0) {
    const double peak = 1 / std::log(1 / x);
    for (double n : {std::floor(peak), std::ceil(peak)})
      if (n > n1) m = std::max(m, n * std::pow(x, n - 1));
  }
  return t * m / q;
}

}  // namespace amari
