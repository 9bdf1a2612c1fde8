// The finite-width (1/n) theory (amari/theory/finite.hpp): against the shared reference (independent
// adaptive quadrature), against the exact finite-n products of linear and relu nets without bias,
// and its two-point derivatives against finite differences of the closed-form kernels.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "amari/core/gauss.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/theory/finite.hpp"
#include "amari/theory/maps.hpp"
#include "reference.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::finite_params;
using amari::input_kind;
using amari::model_params;
using amari::test::close_to;

namespace {

finite_params params(const std::string& phi, double sw, double sb, double q0, std::int64_t layers,
                     input_kind inputs = input_kind::exact, double c0 = 0.5) {
  return {.model = model_params{.phi = Activation::parse(phi), .sigma_w = sw, .sigma_b = sb},
          .q0 = q0,
          .c0 = c0,
          .inputs = inputs,
          .layers = layers};
}

}  // namespace

TEST_CASE("finite: K, V, G1, var_q, kurtosis and mean_shift match the shared reference at every layer", "[finite]") {
  const auto ref = amari::test::load_reference("finite_width_sample.json");
  for (const auto& c : ref.at("cases")) {
    const auto p = params(c.at("phi"), c.at("sigma_w"), c.at("sigma_b"), c.at("q0"), c.at("layers"));
    const auto r = amari::run_finite(p);
    const std::pair<const char*, const std::vector<double>*> outputs[] = {
        {"K", &r.K},         {"V", &r.V},               {"G1", &r.G1},
        {"var_q", &r.var_q}, {"kurtosis", &r.kurtosis}, {"mean_shift", &r.mean_shift}};
    for (const auto& [key, values] : outputs) {
      const auto& expected = c.at(key);
      REQUIRE(values->size() == expected.size());
      for (std::size_t l = 0; l < expected.size(); ++l) {
        INFO(std::string(c.at("phi")) << " " << key << " at layer " << l);
        CHECK_THAT((*values)[l], close_to(expected[l].get<double>(), 1e-9, 1e-12));
      }
    }
  }
}

// Linear phi, no bias: G^{l+1} = Cw q^l exactly, so E[(G^{l+1})^2] = Cw^2 E[(G^l)^2] (1 + 2/n) and
// V^l = 2 m K_l^2 with m the number of layers whose q fluctuates (l - 1 for exact inputs, whose
// G^1 = Cw q0 is deterministic; l for Gaussian ones). ReLU, no bias: E[(G^{l+1})^2] = Cw^2
// E[(G^l)^2] (1 + 5/n) / 4, and for exact inputs E[(G^1)^2] = Cw^2 q0^2 (n + 5) / (4 (n + 2))
// (docs/finite_width.md), so V^l = (3 + 5 (l - 1)) K_l^2, and 5 l K_l^2 for Gaussian inputs.
// Neither has a mean shift (<phi^2>_K is linear in K).
TEST_CASE("finite: linear and relu nets without bias have the vertex of their exact finite-n products", "[finite]") {
  for (auto inputs : {input_kind::exact, input_kind::gaussian}) {
    const bool exact = inputs == input_kind::exact;
    const auto lin = amari::run_finite(params("linear", 1.3, 0.0, 0.8, 6, inputs));
    const auto relu = amari::run_finite(params("relu", 1.6, 0.0, 0.8, 6, inputs));
    for (int l = 1; l <= 6; ++l) {
      INFO("inputs " << to_string(inputs) << ", layer " << l);
      const double Kl = std::pow(1.3 * 1.3, l) * 0.8, Kr = std::pow(1.6 * 1.6 / 2, l) * 0.8;
      CHECK_THAT(lin.K[l], close_to(Kl, 1e-13));
      CHECK_THAT(lin.V[l], close_to(2.0 * (exact ? l - 1 : l) * Kl * Kl, 1e-11, 1e-13));
      // G1 sums terms of size ~ V / K (the second K-derivative, zero here, times V): its rounding
      // is 1e-12 of that scale, not of 1.
      CHECK_THAT(lin.G1[l], close_to(0.0, 0, 1e-11 * std::max(1.0, std::abs(lin.V[l]) / Kl)));
      CHECK_THAT(relu.K[l], close_to(Kr, 1e-12));
      CHECK_THAT(relu.V[l], close_to((exact ? 3.0 + 5.0 * (l - 1) : 5.0 * l) * Kr * Kr, 1e-10));
      CHECK_THAT(relu.G1[l], close_to(0.0, 0, 1e-11 * std::max(1.0, std::abs(relu.V[l]) / Kr)));
    }
  }
}

// Linear, no bias, two inputs: G_ab^{l+1} = Cw q_ab^l, so n Cov(q^{l+1}) = Cw^2 n Cov(q^l) + W(K^{l+1})
// (W the Wick covariance), and c^l = q12 / sqrt(q11 q22) is the sample correlation of the inputs
// after the random linear maps.
TEST_CASE("finite: two inputs through linear layers follow the Wick recursion", "[finite]") {
  const double q0 = 0.9, c0 = 0.3, Cw = 1.1 * 1.1;
  const auto r = amari::run_finite(params("linear", 1.1, 0.0, q0, 4, input_kind::gaussian, c0));
  // n Cov at layer l: S^l = W(K^l) + Cw^2 S^{l-1}, S^0 = W(K^0) (Gaussian inputs).
  double s11 = 0, s12 = 0, s13 = 0, s22 = 0;
  for (int l = 0; l <= 4; ++l) {
    const double K = std::pow(Cw, l) * q0, K12 = c0 * K;
    s11 = 2 * K * K + Cw * Cw * s11;
    s12 = 2 * K * K12 + Cw * Cw * s12;
    s13 = 2 * K12 * K12 + Cw * Cw * s13;
    s22 = K * K + K12 * K12 + Cw * Cw * s22;
    INFO("layer " << l);
    CHECK_THAT(r.K12[l], close_to(K12, 1e-13));
    CHECK_THAT(r.var_q[l], close_to(s11, 1e-11));
    CHECK_THAT(r.cov_q11_q12[l], close_to(s12, 1e-10));
    CHECK_THAT(r.cov_q11_q22[l], close_to(s13, 1e-10));
    CHECK_THAT(r.var_q12[l], close_to(s22, 1e-10));
    CHECK_THAT(r.G1_12[l], close_to(0.0, 0, 1e-10));
    // The sample correlation of i.i.d. pairs has E r = rho - rho (1 - rho^2) / (2 n) + O(1/n^2)
    // (Fisher 1915); after l linear layers the q's are those of a Gaussian sample whose covariance
    // fluctuates, which the delta method adds up: here S / K^2 is (l + 1) times the Wick one.
    CHECK_THAT(r.c_shift[l], close_to(-(l + 1) * c0 * (1 - c0 * c0) / 2, 1e-10, 1e-12));
  }
}

// The two-point derivatives (Hermite polynomials in K^{-1} u) against central finite differences
// of the closed-form kernels (erf: arcsine; relu: arc-cosine).
TEST_CASE("finite: the two-point derivatives match finite differences of the closed-form kernels", "[finite]") {
  for (const char* name : {"erf", "relu"}) {
    const Activation phi = Activation::parse(name);
    const double x0[3] = {0.7, 0.3, 1.1};
    auto F = [&](const double* x) {
      return amari::closed_form::E_phi_phi(phi, x[0], x[2], x[1] / std::sqrt(x[0] * x[2]));
    };
    const auto t = amari::finite_two_point(phi, x0[0], x0[1], x0[2]);
    CHECK_THAT(t.F12, close_to(F(x0), 1e-11));
    const double h = 1e-3;
    for (int y = 0; y < 3; ++y) {
      double xp[3] = {x0[0], x0[1], x0[2]}, xm[3] = {x0[0], x0[1], x0[2]};
      xp[y] += h;
      xm[y] -= h;
      INFO(name << " d/dx_" << y);
      // central differences: error h^2 F''' / 6 ~ 1e-7 here
      CHECK_THAT(t.d[y], close_to((F(xp) - F(xm)) / (2 * h), 1e-6, 1e-8));
      for (int z = 0; z < 3; ++z) {
        double a[3] = {x0[0], x0[1], x0[2]}, b[3] = {x0[0], x0[1], x0[2]}, c[3] = {x0[0], x0[1], x0[2]},
               d[3] = {x0[0], x0[1], x0[2]};
        a[y] += h, a[z] += h;
        b[y] += h, b[z] -= h;
        c[y] -= h, c[z] += h;
        d[y] -= h, d[z] -= h;
        INFO(name << " d2/dx_" << y << " dx_" << z);
        CHECK_THAT(t.d2(y, z), close_to((F(a) - F(b) - F(c) + F(d)) / (4 * h * h), 1e-5, 1e-7));
      }
    }
  }
}

TEST_CASE("finite: one input of the two-input recursion is the single-input one, and the second input mirrors it",
          "[finite]") {
  const auto r = amari::run_finite(params("tanh", 2.0, 0.2, 1.0, 8, input_kind::exact, 0.5));
  for (int l = 0; l <= 8; ++l) {
    INFO("layer " << l);
    CHECK(std::isfinite(r.c_shift[l]));
    CHECK_THAT(r.var_q[l], close_to(2 * r.K[l] * r.K[l] + r.V[l], 1e-14, 1e-14));
    // |Cov| <= sqrt(Var Var): the covariance of (q11, q12, q22) is positive semi-definite
    CHECK(std::abs(r.cov_q11_q12[l]) <= std::sqrt(r.var_q[l] * r.var_q12[l]) * (1 + 1e-12) + 1e-14);
    CHECK(std::abs(r.cov_q11_q22[l]) <= r.var_q[l] * (1 + 1e-12) + 1e-14);
  }
  CHECK_THAT(r.c_shift[0], close_to(0.0, 0, 1e-15));  // exact inputs: c^0 = c0 in every net
}

TEST_CASE("finite: validation names the field", "[finite]") {
  auto p = params("tanh", 1.0, 0.1, 1.0, 3);
  p.q0 = 0;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("q0"));
  p = params("tanh", 1.0, 0.1, 1.0, 0);
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("layers"));
  p = params("tanh", 1.0, 0.1, 1.0, 3, input_kind::exact, 1.5);
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("c0"));
  input_kind k{};
  CHECK_THROWS_WITH(amari::parse_param("uniform", "inputs", k), Catch::Contains("exact or gaussian"));
}

// The exact finite-n products (docs/finite_width.md, "Exact finite-n checks") by Monte Carlo at
// n = 8 and 16: E[(q^l)^2] = (1 + 2/n) E[(G^l)^2], with E[(G^l)^2] = Cw^{2l} q0^2 times
//   linear, exact inputs:     (1 + 2/n)^{l-1}            linear, Gaussian inputs:  (1 + 2/n)^l
//   relu, exact inputs:       (n + 5) / (4 (n + 2)) ((1 + 5/n) / 4)^{l-1}
//   relu, Gaussian inputs:    ((1 + 5/n) / 4)^l.
// 200000 networks per case; each mean of (q^l)^2 within 4 standard errors (sample sd / sqrt(nets);
// 32 comparisons, so the chance of a false failure is below 32 x 6.3e-5 = 2e-3).
TEST_CASE("finite: the exact second moments of linear and relu nets without bias, by Monte Carlo at n = 8, 16",
          "[finite][deepnet]") {
  const double q0 = 0.7;
  // Both ways of drawing the nets: every W^l, and the pre-activations from their conditional law.
  const auto sampling = GENERATE(amari::deepnet_sampling::weights, amari::deepnet_sampling::conditional);
  for (const char* phi : {"linear", "relu"}) {
    const bool relu = std::string(phi) == "relu";
    const double sw = relu ? 1.5 : 1.1, Cw = sw * sw;
    for (auto inputs : {input_kind::exact, input_kind::gaussian}) {
      for (std::int64_t n : {8, 16}) {
        amari::deepnet_params p;
        p.sampling = sampling;
        p.model = model_params{.phi = Activation::parse(phi), .sigma_w = sw, .sigma_b = 0.0};
        p.n = n;
        p.layers = 4;
        p.nets = 200000;
        p.q0 = q0;
        p.inputs = inputs;
        p.seed = 11;
        const auto r = amari::run_deepnet(p);
        const double dn = double(n);
        double G2 = q0 * q0;  // E[(G^0)^2]: the recursion below starts from the inputs
        for (int l = 1; l <= 4; ++l) {
          const bool first = l == 1;
          const bool exact = inputs == input_kind::exact;
          double factor;
          if (!relu)
            factor = Cw * Cw * (first && exact ? 1.0 : 1 + 2 / dn);
          else
            factor = Cw * Cw * (first && exact ? (dn + 5) / (4 * (dn + 2)) : (1 + 5 / dn) / 4);
          G2 *= factor;
          const double expected = G2 * (1 + 2 / dn);
          double s = 0, ss = 0;
          for (std::int64_t k = 0; k < p.nets; ++k) {
            const double q = r.q1[k * (p.layers + 1) + l], x = q * q;
            s += x, ss += x * x;
          }
          const double N = double(p.nets), mean = s / N;
          const double se = std::sqrt((ss / N - mean * mean) / (N - 1));
          INFO(phi << ", " << to_string(inputs) << " inputs, sampling " << to_string(sampling) << ", n = " << n
                   << ", layer " << l << ": E q^2 = " << mean
                   << " +- " << se << ", exact " << expected);
          CHECK_THAT(mean, amari::test::within_se(expected, se, 4.0));
        }
      }
    }
  }
}

namespace {

// The width sweep against the theory by Richardson extrapolation: at width n the n-scaled
// measurement is m(n) = T + a / n + O(1/n^2), so (n2 m(n2) - n1 m(n1)) / (n2 - n1) = T + O(1/(n1 n2))
// measures T with the O(l/n) term a removed (the "allowance" is measured, not assumed); its
// standard error follows from the two independent widths. The O(1/(n1 n2)) residual is left out of
// the tolerance: for the relu analogue, whose exact products give b ~ 12.5 l^2 K^2, it is
// b / (n1 n2) (about 0.5% of var_q at l = 8 for n1 = 32, n2 = 128), well inside the errors here.
struct extrapolated {
  double value, se;
};
extrapolated richardson(double n1, double m1, double s1, double n2, double m2, double s2) {
  const double d = n2 - n1;
  return {(n2 * m2 - n1 * m1) / d, std::sqrt(n2 * n2 * s2 * s2 + n1 * n1 * s1 * s1) / d};
}

// Checks var_q, kurtosis and mean_shift (and c_shift) at layers 1..L of a two-width sweep.
void check_sweep(const amari::deepnet_params& p, const amari::deepnet_result& r, bool with_c) {
  const auto& s = r.sweep;
  REQUIRE(s.widths.size() == 2);
  const std::size_t cols = static_cast<std::size_t>(p.layers + 1);
  const double n1 = double(s.widths[0]), n2 = double(s.widths[1]);
  const int quantities = with_c ? 4 : 3;
  const double k = amari::test::bonferroni_k(quantities * int(p.layers), double(p.nets - 1));
  const std::pair<const char*, const std::vector<double> amari::deepnet_result::width_sweep::*> q[][3] = {
      {{"var_q", &amari::deepnet_result::width_sweep::var_q}, {"", &amari::deepnet_result::width_sweep::var_q_sem},
       {"", &amari::deepnet_result::width_sweep::theory_var_q}},
      {{"kurtosis", &amari::deepnet_result::width_sweep::kurtosis},
       {"", &amari::deepnet_result::width_sweep::kurtosis_sem},
       {"", &amari::deepnet_result::width_sweep::theory_kurtosis}},
      {{"mean_shift", &amari::deepnet_result::width_sweep::mean_shift},
       {"", &amari::deepnet_result::width_sweep::mean_shift_sem},
       {"", &amari::deepnet_result::width_sweep::theory_mean_shift}},
      {{"c_shift", &amari::deepnet_result::width_sweep::c_shift},
       {"", &amari::deepnet_result::width_sweep::c_shift_sem},
       {"", &amari::deepnet_result::width_sweep::theory_c_shift}}};
  for (int i = 0; i < quantities; ++i) {
    const auto& m = s.*(q[i][0].second);
    const auto& se = s.*(q[i][1].second);
    const auto& th = s.*(q[i][2].second);
    for (std::size_t l = 1; l < cols; ++l) {
      const extrapolated e = richardson(n1, m[l], se[l], n2, m[cols + l], se[cols + l]);
      INFO(p.model.phi.spec() << " (" << p.model.sigma_w << ", " << p.model.sigma_b << ") " << q[i][0].first
                              << " at layer " << l << ": n = " << n1 << ": " << m[l] << " +- " << se[l] << ", n = "
                              << n2 << ": " << m[cols + l] << " +- " << se[cols + l] << ", extrapolated "
                              << e.value << " +- " << e.se << ", theory " << th[l]);
      CHECK(th[l] == th[cols + l]);
      CHECK_THAT(e.value, amari::test::within_se(th[l], e.se, k));
    }
  }
}

amari::deepnet_params sweep_params(const char* phi, double sw, double sb, std::vector<double> widths,
                                   std::int64_t layers, std::int64_t nets, std::int64_t seed) {
  amari::deepnet_params p;
  p.model = model_params{.phi = Activation::parse(phi), .sigma_w = sw, .sigma_b = sb};
  p.widths = std::move(widths);
  p.n = static_cast<std::int64_t>(p.widths.back());
  p.layers = layers;
  p.nets = nets;
  p.seed = seed;
  return p;
}

}  // namespace

TEST_CASE("finite: a width sweep of chaotic tanh nets extrapolates to the 1/n theory (widths 16, 32)",
          "[finite][deepnet]") {
  const auto p = sweep_params("tanh", 2.5, 0.3, {16, 32}, 4, 40000, 5);
  const auto r = amari::run_deepnet(p);
  const auto th = amari::run_finite(
      finite_params{.model = p.model, .q0 = p.q0, .c0 = p.c0, .inputs = p.inputs, .layers = p.layers});
  for (std::size_t l = 0; l <= 4; ++l) CHECK(r.sweep.theory_var_q[l] == th.var_q[l]);
  // exact inputs: q^0 = q0 in every network
  CHECK(r.sweep.var_q[0] < 1e-20);
  CHECK(std::abs(r.sweep.mean_shift[0]) < 1e-10);
  check_sweep(p, r, true);
}

// The acceptance runs of issue 14: four cases at widths 32 and 128, layers 1..8. The heavy test
// draws every W^l; the default suite runs the same comparisons on nets drawn from the conditional
// law of the pre-activations (the same distribution of every statistic, ~10x faster), at another
// seed. tools/finite_study robustness runs them at many seeds (docs/finite_width.md).
namespace {
void four_phases(amari::deepnet_sampling sampling, std::int64_t seed) {
  const double edge = amari::edge_of_chaos(Activation::parse("tanh"), 0.3).sigma_w;
  const std::tuple<const char*, double, double> cases[] = {
      {"tanh", 1.2, 0.3}, {"tanh", edge, 0.3}, {"tanh", 2.5, 0.3}, {"erf", 1.7, 0.2}};
  for (const auto& [phi, sw, sb] : cases) {
    auto p = sweep_params(phi, sw, sb, {32, 128}, 8, 60000, seed);
    p.sampling = sampling;
    check_sweep(p, amari::run_deepnet(p), false);
  }
}
}  // namespace

TEST_CASE("finite: width sweeps at 32 and 128 extrapolate to the 1/n theory in four phases", "[finite][deepnet][heavy]") {
  four_phases(amari::deepnet_sampling::weights, 21);
}

TEST_CASE("finite: the four-phase width sweeps, nets drawn from the conditional law", "[finite][deepnet]") {
  four_phases(amari::deepnet_sampling::conditional, 22);
}

// The correlation depth at finite width (finite_correlation_depth, docs/finite_width.md, "The
// correlation depth"): computed at the fixed point by linear algebra (the fixed points V*, G* of
// the recursions and the first-order shift of the eigenvalue chi_c), checked here against the
// iterated recursions of run_finite, an independent computation:
//   * c_star_shift = lim_l c_shift^l (taken at l = 300, where the transients are below
//     300 chi_c^300 ~ 1e-23);
//   * chi_c_shift / chi_c = the slope D of the secular term of c_shift: with q0 = q* the map's
//     c^l - c* ~ A chi_c^l and c_shift^l - c_shift^inf ~ (B + D' l) chi_c^l, so
//     r_l = (c_shift^l - c_shift^inf) / (c^l - c*) has r_{l+1} - r_l -> D'/A = chi_c_shift / chi_c.
//     The next modes decay like chi_c^{2l} and chi_par^l, so at layer l the difference carries a
//     residual ~ chi_c^l relative (1e-6 for tanh, chi_c = 0.82, at l = 70; 3.5e-5 for erf,
//     chi_c = 0.86), and the rounding of c^l - c* (~1e-6 at l = 70) costs ~1e-9 relative: tolerance
//     10 chi_c^l relative.
TEST_CASE("finite: the 1/n shift of the correlation depth agrees with the secular term of the recursions",
          "[finite]") {
  for (const auto& [phi, sw, sb] : {std::tuple{"tanh", 2.5, 0.3}, std::tuple{"erf", 1.7, 0.2}}) {
    const model_params m{.phi = Activation::parse(phi), .sigma_w = sw, .sigma_b = sb};
    const auto d = amari::finite_correlation_depth(m);
    const auto maps = amari::solve_maps(m);
    INFO(phi << " (" << sw << ", " << sb << "): chi_c " << d.chi_c << ", chi_c_shift " << d.chi_c_shift
             << ", xi_c " << d.xi_c << ", xi_c_shift " << d.xi_c_shift);
    REQUIRE(maps.chi_c);
    REQUIRE(maps.q_star);
    CHECK_THAT(d.chi_c, close_to(*maps.chi_c, 1e-9));
    CHECK_THAT(d.xi_c, close_to(*maps.xi_c, 1e-8));
    CHECK_THAT(d.xi_c_shift, close_to(d.xi_c * d.xi_c * d.chi_c_shift / d.chi_c, 1e-14));
    const std::int64_t L = 300, l0 = 70;
    const auto r = amari::run_finite(params(phi, sw, sb, *maps.q_star, L, input_kind::exact, 0.6));
    // run_finite carries the same scalars
    CHECK(r.xi_c_shift == d.xi_c_shift);
    CHECK(r.c_star_shift == d.c_star_shift);
    const double c_star = r.c[L], shift_inf = r.c_shift[L];
    CHECK_THAT(d.c_star, close_to(c_star, 1e-10));
    CHECK_THAT(d.c_star_shift, close_to(shift_inf, 1e-8));
    auto ratio = [&](std::int64_t l) { return (r.c_shift[l] - shift_inf) / (r.c[l] - c_star); };
    const double D = ratio(l0 + 1) - ratio(l0);
    CHECK_THAT(D, close_to(d.chi_c_shift / d.chi_c, 10 * std::pow(d.chi_c, double(l0))));
  }
  // No fixed point c* < 1 in the ordered phase: NaN.
  const auto ordered = amari::finite_correlation_depth({.phi = Activation::parse("tanh"), .sigma_w = 1.2, .sigma_b = 0.3});
  CHECK(std::isnan(ordered.xi_c_shift));
  CHECK(std::isnan(ordered.c_star_shift));
}

// The finite-width chi_1 (finite_result::lambda_shift, docs/finite_width.md, "The finite-width
// chi_1"): n (E lambda^l - (1/2) ln(Cw <phi'^2>_{K^{l-1}})).
//   * against an independent implementation of the same formulas (scipy.integrate.quad at
//     epsrel 1e-13 on amari finite's K, G1, V, written for this test in the development session):
//     tanh (2.5, 0.3), q0 = 1, exact inputs, to 1e-8 relative; a cruder one (200-node
//     Gauss-Hermite, finite differences for the K-derivatives) agreed to 1e-4;
//   * against the networks: amari deepnet at n = 32 and n = 128, 20000 nets each, the Richardson
//     extrapolation of n (mean lambda^l - (1/2) ln chi_1(K^{l-1})) to n = infinity (as the width
//     sweep tests above), within bonferroni_k(4 layers, 19999 dof) of its standard error. Without
//     the h-v correlation term (the rho^2 term, 0.19 to 0.32 at layers 2..4) the theory would be
//     off by several standard errors (~0.1 here).
TEST_CASE("finite: the finite-width chi_1 (lambda_shift) against a second implementation and the networks",
          "[finite][deepnet]") {
  const auto r = amari::run_finite(params("tanh", 2.5, 0.3, 1.0, 6));
  const double reference[] = {-1.0870059749741525, -1.7763157171888229, -2.012076672488732,
                              -1.938536041972643,  -1.915972751461653,  -1.9126154988228847};
  CHECK(std::isnan(r.lambda_shift[0]));
  for (std::size_t l = 1; l <= 6; ++l) {
    INFO("layer " << l);
    CHECK_THAT(r.lambda_shift[l], close_to(reference[l - 1], 1e-8));
  }
  const std::int64_t L = 4, nets = 20000;
  std::vector<amari::deepnet_result> runs;
  for (std::int64_t n : {32, 128}) {
    amari::deepnet_params p;
    p.model = model_params{.phi = Activation::parse("tanh"), .sigma_w = 2.5, .sigma_b = 0.3};
    p.n = n;
    p.layers = L;
    p.nets = nets;
    p.seed = 31;
    runs.push_back(amari::run_deepnet(p));
  }
  const double k = amari::test::bonferroni_k(int(L), double(nets - 1));
  for (std::int64_t l = 1; l <= L; ++l) {
    const double base = 0.5 * std::log(2.5 * 2.5 * amari::E_dphi2(Activation::parse("tanh"), r.K[l - 1]));
    const double m1 = 32 * (runs[0].lambda_mean[l] - base), s1 = 32 * runs[0].lambda_sem[l];
    const double m2 = 128 * (runs[1].lambda_mean[l] - base), s2 = 128 * runs[1].lambda_sem[l];
    const double t = (128 * m2 - 32 * m1) / 96, se = std::hypot(128 * s2, 32 * s1) / 96;
    INFO("layer " << l << ": n = 32: " << m1 << " +- " << s1 << ", n = 128: " << m2 << " +- " << s2
                  << ", extrapolated " << t << " +- " << se << ", theory " << r.lambda_shift[l]);
    CHECK_THAT(t, amari::test::within_se(r.lambda_shift[l], se, k));
  }
}
