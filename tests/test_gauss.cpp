// The Gaussian-expectation core against closed forms, the shared reference values (independent
// adaptive quadrature), and 30-digit references at large variance.
#include <boost/math/special_functions/owens_t.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "reference.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::method;
using amari::test::close_to;

namespace {

// The acceptance criterion of the foundation issue: 1e-10 relative, or 1e-13 absolute where the
// value is near zero.
close_to accurate(double expected) { return close_to(expected, 1e-10, 1e-13); }

const double cs[] = {-1.0, -0.999999, -0.5, 0.0, 0.5, 0.999999, 1.0};
const double qs[] = {0.0, 0.01, 0.3, 1.0, 2.5, 7.0, 20.0};

double Phi_n(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }
double phi_n(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }

// Bivariate standard normal CDF P(X < h, Y < k) with correlation r, through Owen's T (Owen 1956):
// an independent route to E[phi'(u1) phi'(u2)] for the kinked activations.
double bvn_cdf(double h, double k, double r) {
  using boost::math::owens_t;
  if (std::isinf(h) || std::isinf(k)) {
    if (h == -INFINITY || k == -INFINITY) return 0;
    return h == INFINITY ? Phi_n(k) : Phi_n(h);
  }
  const double s = std::sqrt((1 - r) * (1 + r));
  if (s == 0) return r > 0 ? Phi_n(std::min(h, k)) : std::max(0.0, Phi_n(h) + Phi_n(k) - 1);
  auto T = [&](double a, double b) {  // T(a, (b - r a) / (a s)), with its limit at a = 0
    if (a == 0) return (b - r * a) == 0 ? 0.0 : (b > 0 ? 0.25 : -0.25);
    return owens_t(a, (b - r * a) / (a * s));
  };
  const double beta = (h * k > 0 || (h * k == 0 && h + k >= 0)) ? 0.0 : 0.5;
  return 0.5 * Phi_n(h) + 0.5 * Phi_n(k) - T(h, k) - T(k, h) - beta;
}

double rect_prob(double a1, double b1, double a2, double b2, double r) {
  return bvn_cdf(b1, b2, r) - bvn_cdf(a1, b2, r) - bvn_cdf(b1, a2, r) + bvn_cdf(a1, a2, r);
}

}  // namespace

TEST_CASE("tanh expectations match the shared reference values", "[gauss]") {
  const auto ref = amari::test::load_reference("gauss_tanh.json");
  const Activation tanh = Activation::parse("tanh");
  for (const auto& r : ref["one_point"]) {
    const double q = r["q"], m = r["m"];
    INFO("q = " << q << ", m = " << m);
    CHECK_THAT(amari::E_phi(tanh, q, m), accurate(r["E_phi"]));
    CHECK_THAT(amari::E_phi2(tanh, q, m), accurate(r["E_phi2"]));
    CHECK_THAT(amari::E_dphi2(tanh, q, m), accurate(r["E_dphi2"]));
  }
  for (const auto& r : ref["two_point"]) {
    const double q11 = r["q11"], q22 = r["q22"], c = r["c"];
    INFO("q11 = " << q11 << ", q22 = " << q22 << ", c = " << c);
    CHECK_THAT(amari::E_phi_phi(tanh, q11, q22, c), accurate(r["E_phi_phi"]));
    CHECK_THAT(amari::E_dphi_dphi(tanh, q11, q22, c), accurate(r["E_dphi_dphi"]));
  }
}

TEST_CASE("quadrature convergence: tanh and erf up to q = 50 against 30-digit references", "[gauss]") {
  const auto ref = amari::test::load_reference("gauss_highq.json");
  for (const auto& r : ref["one_point"]) {
    const Activation act = Activation::parse(r["phi"].get<std::string>());
    const double q = r["q"], m = r["m"];
    INFO(act.spec() << " q = " << q << ", m = " << m);
    auto E = [&](auto f) { return amari::expect(act, f, q, m); };
    CHECK_THAT(E([](const auto& v) { return v.phi(); }), close_to(r["E_phi"], 1e-12, 1e-14));
    CHECK_THAT(E([](const auto& v) { return v.phi().square(); }), close_to(r["E_phi2"], 1e-12, 1e-14));
    CHECK_THAT(E([](const auto& v) { return v.dphi().square(); }), close_to(r["E_dphi2"], 1e-12, 1e-14));
    CHECK_THAT(E([](const auto& v) { return (v.phi() * v.dphi()).square(); }),
               close_to(r["E_phi_dphi_sq"], 1e-12, 1e-14));
    CHECK_THAT(E([](const auto& v) { return v.Phi().square(); }), close_to(r["E_Phi2"], 1e-12, 1e-14));
  }
  const Activation tanh = Activation::parse("tanh");
  for (const auto& r : ref["two_point"]) {
    const double q11 = r["q11"], q22 = r["q22"], c = r["c"];
    INFO("q11 = " << q11 << ", q22 = " << q22 << ", c = " << c);
    CHECK_THAT(amari::E_phi_phi(tanh, q11, q22, c), close_to(r["E_phi_phi"], 1e-11, 1e-14));
    CHECK_THAT(amari::E_dphi_dphi(tanh, q11, q22, c), close_to(r["E_dphi_dphi"], 1e-11, 1e-14));
  }
}

TEST_CASE("two-point quadrature matches the closed forms of erf, relu and linear", "[gauss]") {
  for (const char* name : {"erf", "relu", "linear"}) {
    const Activation act = Activation::parse(name);
    for (double q11 : {0.0, 0.2, 1.0, 4.0, 20.0})
      for (double q22 : {0.0, 0.5, 1.0, 9.0})
        for (double c : cs) {
          INFO(name << " q11 = " << q11 << ", q22 = " << q22 << ", c = " << c);
          const double pp = amari::closed_form::E_phi_phi(act, q11, q22, c);
          const double dd = amari::closed_form::E_dphi_dphi(act, q11, q22, c);
          CHECK_THAT(amari::E_phi_phi(act, q11, q22, c, method::quadrature), close_to(pp, 1e-10, 1e-15));
          CHECK_THAT(amari::E_dphi_dphi(act, q11, q22, c, method::quadrature), close_to(dd, 1e-10, 1e-15));
          CHECK(std::isfinite(amari::E_Phi_Phi(act, q11, q22, c)));
        }
  }
}

TEST_CASE("E[Phi Phi] closed forms (relu, linear) match quadrature", "[gauss]") {
  for (const char* name : {"relu", "linear"}) {
    const Activation act = Activation::parse(name);
    for (double q : {0.3, 1.0, 6.0})
      for (double c : cs) {
        INFO(name << " q = " << q << ", c = " << c);
        CHECK_THAT(amari::E_Phi_Phi(act, q, 2 * q, c, method::quadrature),
                   close_to(amari::E_Phi_Phi(act, q, 2 * q, c), 1e-10, 1e-15));
      }
  }
}

TEST_CASE("one-point quadrature matches the closed forms, with means", "[gauss]") {
  for (const char* name : {"erf", "relu", "linear"}) {
    const Activation act = Activation::parse(name);
    for (double q : {0.01, 0.3, 1.0, 7.0, 20.0})
      for (double m : {0.0, 0.4, -1.3, 3.0}) {
        INFO(name << " q = " << q << ", m = " << m);
        CHECK_THAT(amari::E_phi(act, q, m, method::quadrature), accurate(amari::E_phi(act, q, m)));
        CHECK_THAT(amari::E_dphi(act, q, m, method::quadrature), accurate(amari::E_dphi(act, q, m)));
        CHECK_THAT(amari::E_dphi2(act, q, m, method::quadrature), accurate(amari::E_dphi2(act, q, m)));
        CHECK_THAT(amari::E_phi2(act, q, m, method::quadrature), accurate(amari::E_phi2(act, q, m)));
        CHECK_THAT(amari::dq_E_phi(act, q, m, method::quadrature), accurate(amari::dq_E_phi(act, q, m)));
        if (m == 0 || std::string(name) != "erf")
          CHECK_THAT(amari::dq_E_phi2(act, q, m, method::quadrature), accurate(amari::dq_E_phi2(act, q, m)));
      }
  }
}

TEST_CASE("hardtanh one-point expectations match truncated-normal moments", "[gauss]") {
  const Activation act = Activation::parse("hardtanh");
  for (double q : {0.01, 0.3, 1.0, 7.0, 20.0})
    for (double m : {0.0, 0.4, -1.3, 3.0}) {
      INFO("q = " << q << ", m = " << m);
      const double s = std::sqrt(q), al = (-1 - m) / s, be = (1 - m) / s;
      const double inside = Phi_n(be) - Phi_n(al);
      const double x1 = m * inside + s * (phi_n(al) - phi_n(be));
      const double x2 = (m * m + q) * inside + s * ((-1 + m) * phi_n(al) - (1 + m) * phi_n(be));
      CHECK_THAT(amari::E_phi(act, q, m), accurate(Phi_n(-be) - Phi_n(al) + x1));
      CHECK_THAT(amari::E_phi2(act, q, m), accurate(1 - inside + x2));
      CHECK_THAT(amari::E_dphi2(act, q, m), accurate(inside));
      // d/dq E[phi^2] = E[z phi phi'] / sqrt(q) = E[x (x - m) 1{|x| < 1}] / q
      CHECK_THAT(amari::dq_E_phi2(act, q, m), accurate((x2 - m * x1) / q));
    }
}

TEST_CASE("kinked two-point expectations match bivariate-normal probabilities", "[gauss]") {
  const Activation ht = Activation::parse("hardtanh");
  for (double q11 : {0.2, 1.0, 5.0})
    for (double q22 : {0.5, 3.0})
      for (double c : {-0.999999, -0.5, 0.3, 0.9, 0.999999}) {
        INFO("q11 = " << q11 << ", q22 = " << q22 << ", c = " << c);
        const double s1 = std::sqrt(q11), s2 = std::sqrt(q22);
        // hardtanh' = 1{|u| < 1}: P(|u1| < 1, |u2| < 1).
        CHECK_THAT(amari::E_dphi_dphi(ht, q11, q22, c), accurate(rect_prob(-1 / s1, 1 / s1, -1 / s2, 1 / s2, c)));
      }
}

TEST_CASE("hardtanh two-point expectations satisfy Price's theorem and the limits", "[gauss]") {
  const Activation ht = Activation::parse("hardtanh");
  for (double q : {0.3, 2.0, 9.0}) {
    INFO("q = " << q);
    // c = 1 and c = -1 are the one-point second moment; c = 0 factorises (E[phi] = 0).
    CHECK_THAT(amari::E_phi_phi(ht, q, q, 1.0), accurate(amari::E_phi2(ht, q)));
    CHECK_THAT(amari::E_phi_phi(ht, q, q, -1.0), accurate(-amari::E_phi2(ht, q)));
    CHECK_THAT(amari::E_phi_phi(ht, q, q, 0.0), close_to(0.0, 0, 1e-15));
    // d/dc E[phi(u1) phi(u2)] = sqrt(q11 q22) E[phi'(u1) phi'(u2)] (Price 1958).
    for (double c : {-0.6, 0.1, 0.7}) {
      const double h = 1e-5;
      const double fd = (amari::E_phi_phi(ht, q, 2 * q, c + h) - amari::E_phi_phi(ht, q, 2 * q, c - h)) / (2 * h);
      CHECK_THAT(fd, close_to(std::sqrt(2.0) * q * amari::E_dphi_dphi(ht, q, 2 * q, c), 1e-8));
    }
  }
}

TEST_CASE("limits q = 0 and c = +-1 are exact and finite", "[gauss]") {
  for (const char* name : {"tanh", "tanh:g=2", "erf", "relu", "linear", "hardtanh"}) {
    const Activation act = Activation::parse(name);
    INFO(name);
    // q = 0: the value at the mean (the mean of the one-sided limits at a kink).
    CHECK_THAT(amari::E_phi(act, 0.0, 0.37), close_to(act.phi(0.37), 1e-15, 1e-300));
    CHECK_THAT(amari::E_dphi2(act, 0.0, -0.8), close_to(std::pow(act.dphi(-0.8), 2), 1e-15, 1e-300));
    for (double q : qs) {
      for (double c : {-1.0, 1.0}) {
        INFO("q = " << q << ", c = " << c);
        const double pp = amari::E_phi_phi(act, q, q, c), dd = amari::E_dphi_dphi(act, q, q, c);
        REQUIRE(std::isfinite(pp));
        REQUIRE(std::isfinite(dd));
        // u2 = c u1: at c = 1 the second moments; at c = -1 for odd phi their negatives (even phi').
        if (c == 1 || act.odd()) {
          CHECK_THAT(pp, close_to(c * amari::E_phi2(act, q), 1e-10, 1e-15));
          CHECK_THAT(dd, close_to(amari::E_dphi2(act, q), 1e-10, 1e-15));
        }
      }
      // Continuity at c = 1: the value at c = 1 - 1e-12 is within O(1e-12) of the value at 1.
      CHECK_THAT(amari::E_phi_phi(act, q, q, 1 - 1e-12), close_to(amari::E_phi_phi(act, q, q, 1.0), 1e-10, 1e-12));
    }
  }
  const Activation relu = Activation::parse("relu");
  // At a kink the q = 0 limit is the mean of the one-sided values: E[relu'(sqrt(q) z)] = 1/2.
  CHECK(amari::E_dphi(relu, 0.0, 0.0, method::quadrature) == 0.5);
  // In two points the q -> 0 limit at a kink depends on the correlation: P(u1 > 0, u2 > 0).
  for (double c : {-1.0, -0.3, 0.0, 0.8, 1.0})
    CHECK_THAT(amari::E_dphi_dphi(relu, 0.0, 0.0, c, method::quadrature),
               close_to(0.25 + std::asin(c) / (2 * std::numbers::pi), 1e-12, 1e-15));
}

TEST_CASE("derivatives in q by Gaussian integration by parts", "[gauss]") {
  for (const char* name : {"tanh", "tanh:g=1.5", "erf", "hardtanh", "relu"}) {
    const Activation act = Activation::parse(name);
    for (double q : {0.05, 0.8, 4.0})
      for (double m : {0.0, 0.6}) {
        INFO(name << " q = " << q << ", m = " << m);
        const double h = 1e-5 * q;
        const double fd1 = (amari::E_phi(act, q + h, m) - amari::E_phi(act, q - h, m)) / (2 * h);
        const double fd2 = (amari::E_phi2(act, q + h, m) - amari::E_phi2(act, q - h, m)) / (2 * h);
        CHECK_THAT(amari::dq_E_phi(act, q, m), close_to(fd1, 1e-6, 1e-9));
        CHECK_THAT(amari::dq_E_phi2(act, q, m), close_to(fd2, 1e-6, 1e-9));
      }
  }
}

TEST_CASE("several expectations from one set of activation values", "[gauss]") {
  const Activation act = Activation::parse("tanh:g=1.3");
  const auto [a, b, c] = amari::expect(
      act, [](const auto& v) { return std::make_tuple(v.phi(), v.phi().square(), v.dphi().square()); }, 2.0, 0.4);
  CHECK(a == amari::E_phi(act, 2.0, 0.4));
  CHECK(b == amari::E_phi2(act, 2.0, 0.4));
  CHECK(c == amari::E_dphi2(act, 2.0, 0.4));
}

TEST_CASE("bad variances and correlations are refused", "[gauss]") {
  const Activation act;
  CHECK_THROWS_AS(amari::E_phi(act, -1.0), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::E_phi(act, NAN), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::E_phi(act, 1.0, INFINITY), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::E_phi_phi(act, 1.0, 1.0, 1.0000001), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::E_phi_phi(act, 1.0, -2.0, 0.5), amari::InvalidArgument);
  CHECK_THROWS_WITH(amari::E_phi_phi(act, 1.0, 1.0, 2.0), Catch::Contains("c = 2") && Catch::Contains("[-1, 1]"));
}

TEST_CASE("tiny variances: the rule keeps its nodes apart and tends to the point value", "[gauss]") {
  // For q -> 0 the smooth rule's sinh map is nearly linear over its range; computing sinh(u) as
  // (e^u - e^-u) / 2 once collapsed every node onto z0 (E[phi'] was 6.98 at q = 1e-40). The
  // weights must still sum to one and E[f] tend to f(m): E[phi'] = phi'(m) + O(q) for both odd
  // and shifted arguments, through the quadrature (tanh, erf) and the closed form (erf).
  for (const char* name : {"tanh", "erf", "tanh:g=2"}) {
    const Activation act = Activation::parse(name);
    for (double q : {1e-16, 1e-24, 1e-40, 1e-100, 1e-300})
      for (double m : {0.0, 0.3}) {
        INFO(name << " q = " << q << ", m = " << m);
        CHECK_THAT(amari::expect(act, [](const auto& v) { return v.x() * 0 + 1; }, q, m), close_to(1.0, 1e-14));
        CHECK_THAT(amari::E_dphi(act, q, m, method::quadrature), close_to(act.dphi(m), 1e-12));
        CHECK_THAT(amari::E_dphi2(act, q, m, method::quadrature), close_to(act.dphi(m) * act.dphi(m), 1e-12));
      }
  }
}

// ---- Mehler's expansion (added with the deep-network maps) ----------------------------------------

TEST_CASE("Mehler's expansion: Hermite coefficients against closed forms and the 2-D quadrature", "[gauss][mehler]") {
  const double mqs[] = {0.01, 0.3, 2.0, 10.0, 50.0};
  const double mcs[] = {-0.9, -0.3, 0.0, 0.4, 0.8, 0.95};
  for (const char* name : {"erf", "relu", "tanh", "hardtanh", "tanh:g=2"}) {
    const Activation act = Activation::parse(name);
    // erf and relu against their closed forms (arcsine and arc-cosine kernels): the coefficients
    // are good to ~1e-16, so the sum to ~1e-14 beyond its truncation bound. tanh and hardtanh
    // against the core's 2-D quadrature, itself good to ~4e-13 near c = 0.95.
    const double tol = amari::closed_form::has_two_point(act) ? 2e-14 : 5e-13;
    for (double q : mqs) {
      const amari::hermite_expansion e = amari::hermite_coefficients(act, q, 1500);
      for (double c : mcs) {
        INFO(name << " q = " << q << ", c = " << c);
        const double pp = amari::E_phi_phi(act, q, q, c), dd = amari::E_dphi_dphi(act, q, q, c);
        CHECK(std::abs(e.E_phi_phi(c) - pp) <= e.error_bound_phi_phi(c) + tol * std::max(1.0, std::abs(pp)));
        CHECK(std::abs(e.E_dphi_dphi(c) - dd) <= e.error_bound_dphi_dphi(c) + tol * std::max(1.0, std::abs(dd)));
      }
    }
  }
}

TEST_CASE("Mehler's expansion: the truncation bound holds and the coefficients are the known ones", "[gauss][mehler]") {
  // A short expansion: the truncation error is large and must stay within the bound.
  for (const char* name : {"tanh", "erf", "hardtanh", "relu"}) {
    const Activation act = Activation::parse(name);
    for (int N : {3, 8, 20}) {
      const amari::hermite_expansion e = amari::hermite_coefficients(act, 2.0, N);
      for (double c : {0.3, 0.7, 0.9}) {
        INFO(name << " N = " << N << ", c = " << c);
        const double err = std::abs(e.E_phi_phi(c) - amari::E_phi_phi(act, 2.0, 2.0, c));
        CHECK(err <= e.error_bound_phi_phi(c) + 1e-13);
        CHECK(std::abs(e.E_dphi_dphi(c) - amari::E_dphi_dphi(act, 2.0, 2.0, c)) <= e.error_bound_dphi_dphi(c) + 1e-13);
      }
    }
  }
  // Parseval: sum a_n^2 = E[phi^2] (the omitted weight vanishes for a smooth phi).
  const Activation tanh = Activation::parse("tanh");
  CHECK(amari::hermite_coefficients(tanh, 3.0, 800).tail() < 1e-14);
  // linear: a_1 = sqrt(q), all others 0.
  const auto lin = amari::hermite_coefficients(Activation::parse("linear"), 2.5, 10);
  CHECK_THAT(lin.a[1], close_to(std::sqrt(2.5), 1e-14));
  for (int n : {0, 2, 3, 7}) CHECK(std::abs(lin.a[n]) < 1e-15);
  // relu: a_0 = sqrt(q / 2 pi), a_1 = sqrt(q) / 2, a_2 = sqrt(q / (4 pi)), odd n >= 3 vanish.
  const double q = 1.7;
  const auto relu = amari::hermite_coefficients(Activation::parse("relu"), q, 6);
  CHECK_THAT(relu.a[0], close_to(std::sqrt(q / (2 * std::numbers::pi)), 1e-14));
  CHECK_THAT(relu.a[1], close_to(std::sqrt(q) / 2, 1e-14));
  CHECK_THAT(relu.a[2], close_to(std::sqrt(q / (4 * std::numbers::pi)), 1e-14));
  CHECK(std::abs(relu.a[3]) < 1e-16);
  CHECK(std::abs(relu.a[5]) < 1e-16);
  // odd activations have no even coefficients.
  const auto th = amari::hermite_coefficients(tanh, 1.0, 6);
  CHECK(th.a[0] == 0.0);
  CHECK(th.a[2] == 0.0);
  CHECK_THROWS_AS(amari::hermite_coefficients(tanh, 0.0, 6), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::hermite_coefficients(tanh, 1.0, -1), amari::InvalidArgument);
}
