// The deep-network maps against the shared reference values (independent adaptive quadrature),
// against closed forms (relu; erf through the arcsine kernel), and against their own defining
// properties computed by independent routes: q* = V(q*), c* = C(c*), chi_1 = C'(1), chi_c = C'(c*),
// chi_q = V'(q*) by finite differences, layers_to_1pct by plain iteration, the phase against the
// edge of chaos.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/math/tools/toms748_solve.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>

#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/store.hpp"
#include "reference.hpp"
#include "cli_run.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::depth_phase;
using amari::model_params;
using amari::maps_result;
using amari::method;
using amari::test::close_to;

namespace {

const double sigma_bs[] = {0.0, 0.05, 0.3, 0.7, 1.0};
const double sigma_ws[] = {0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 4.0};

std::optional<double> opt(const nlohmann::json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}

// C(c) at q* by the plain two-dimensional quadrature of the core (no closed form, no Mehler).
double C_quad(const model_params& p, double q, double c) {
  return (p.sigma_w * p.sigma_w * amari::E_phi_phi(p.phi, q, q, c, method::quadrature) +
          p.sigma_b * p.sigma_b) / q;
}

// The least l >= 1 with |q^l - q*| < 0.01 q*, by plain iteration of length_map from q^0 = 10.
std::int64_t iterate_layers(const model_params& p, double q_star, method how) {
  double q = 10;
  for (std::int64_t l = 1; l < 1'000'000; ++l) {
    q = amari::length_map(p, q, how);
    if (std::abs(q - q_star) < 0.01 * q_star) return l;
  }
  return -1;
}

// x with 17 significant digits: the text that reads back as the same double.
std::string fmt_17(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

}  // namespace

TEST_CASE("maps reproduce the shared reference values", "[maps]") {
  const auto ref = amari::test::load_reference("maps_sample.json");
  for (const auto& e : ref["entries"]) {
    const model_params p{.phi = Activation::parse(e["phi"].get<std::string>()), .sigma_w = e["sigma_w"], .sigma_b = e["sigma_b"]};
    INFO(p.phi.spec() << " sigma_w = " << p.sigma_w << ", sigma_b = " << p.sigma_b);
    const maps_result r = amari::solve_maps(p);
    // The acceptance: 1e-9 relative (the reference has 12 significant digits), depth
    // scales 1e-7; an exact zero (q* = 0, c* = 0) is compared absolutely.
    auto check = [](std::optional<double> got, std::optional<double> want, double rel) {
      REQUIRE(got.has_value() == want.has_value());
      if (want) CHECK_THAT(*got, close_to(*want, rel, 1e-15));
    };
    check(r.q_star, opt(e["q_star"]), 1e-9);
    check(r.chi_1, opt(e["chi_1"]), 1e-9);
    check(r.c_star, opt(e["c_star"]), 1e-9);
    check(r.chi_c, opt(e["chi_c"]), 1e-9);
    check(r.xi_c, opt(e["xi_c"]), 1e-7);
    check(r.chi_q, opt(e["chi_q"]), 1e-9);
    check(r.xi_q, opt(e["xi_q"]), 1e-7);
    if (e["layers_to_1pct"].is_null())
      CHECK_FALSE(r.layers_to_1pct.has_value());
    else
      CHECK(r.layers_to_1pct == e["layers_to_1pct"].get<std::int64_t>());
    // The reference lists no phase: it follows from its chi_1.
    const double chi_1 = e["chi_1"];
    CHECK(r.phase == (chi_1 < 1 ? depth_phase::ordered : depth_phase::chaotic));
  }
}

TEST_CASE("the tanh edge of chaos matches the shared reference values", "[maps]") {
  const auto ref = amari::test::load_reference("maps_sample.json");
  const Activation tanh = Activation::parse("tanh");
  for (const auto& e : ref["edge_of_chaos_tanh"]) {
    const amari::edge_point edge = amari::edge_of_chaos(tanh, e["sigma_b"]);
    CHECK_THAT(edge.sigma_w, close_to(e["sigma_w"], 1e-9));
    REQUIRE(edge.q_star);
    CHECK_THAT(*edge.q_star, close_to(e["q_star"], 1e-9));
  }
}

TEST_CASE("fixed points hold to rounding: q* = V(q*) and c* = C(c*)", "[maps]") {
  for (const char* name : {"tanh", "erf", "relu", "hardtanh", "tanh:g=1.7"}) {
    const Activation act = Activation::parse(name);
    for (double sb : sigma_bs) {
      for (double sw : sigma_ws) {
        const model_params p{.phi = act, .sigma_w = sw, .sigma_b = sb};
        INFO(name << " sigma_w = " << sw << ", sigma_b = " << sb);
        const maps_result r = amari::solve_maps(p);
        if (!r.q_star) {
          CHECK(r.phase == depth_phase::divergent);
          continue;
        }
        const double q = *r.q_star;
        // q* is a root of V(q) - q found by Newton's method to rounding: the issue asks 1e-13.
        CHECK_THAT(amari::length_map(p, q), close_to(q, 1e-13, 1e-300));
        if (r.c_star && *r.c_star < 1) {
          // C by the plain 2-D quadrature, an independent route from the Mehler series and the
          // closed forms used to find c*; the core's 2-D rule is good to ~4e-13 near c = 0.95.
          CHECK_THAT(C_quad(p, q, *r.c_star), close_to(*r.c_star, 1e-12, 1e-13));
        }
      }
    }
  }
}

TEST_CASE("chi_1, chi_c and chi_q are the slopes of the maps (finite differences)", "[maps]") {
  for (const char* name : {"tanh", "erf", "hardtanh"}) {
    const Activation act = Activation::parse(name);
    for (double sb : sigma_bs) {
      for (double sw : sigma_ws) {
        const model_params p{.phi = act, .sigma_w = sw, .sigma_b = sb};
        INFO(name << " sigma_w = " << sw << ", sigma_b = " << sb);
        const maps_result r = amari::solve_maps(p);
        if (r.collapsed) continue;
        const double q = *r.q_star;
        // chi_q = V'(q*): central difference with h = 1e-4 q*, truncation error h^2 V''' / 6 ~
        // 1e-9 relative, rounding 1e-16 / 1e-4: tolerance 1e-6.
        const double h = 1e-4 * q;
        const double dV = (amari::length_map(p, q + h) - amari::length_map(p, q - h)) / (2 * h);
        CHECK_THAT(r.chi_q, close_to(dV, 1e-6, 1e-10));
        // chi_1 = C'(1) for smooth phi (for hardtanh C' has a square-root cusp at c = 1):
        // second-order one-sided difference with h = 1e-4; its truncation error h^2 C'''(1) / 3
        // reaches ~3e-6 for q* ~ 17, the quadrature's rounding ~4e-13 / h: tolerance 2e-5.
        if (act.smooth()) {
          const double k = 1e-4;
          const double dC = (3 * C_quad(p, q, 1.0) - 4 * C_quad(p, q, 1 - k) + C_quad(p, q, 1 - 2 * k)) / (2 * k);
          CHECK_THAT(r.chi_1, close_to(dC, 2e-5));
        }
        // chi_c = C'(c*) in the chaotic phase: central difference, tolerance as above.
        if (r.phase == depth_phase::chaotic && *r.c_star < 0.99) {
          const double k = 1e-4, c = *r.c_star;
          const double dC = (C_quad(p, q, c + k) - C_quad(p, q, c - k)) / (2 * k);
          CHECK_THAT(*r.chi_c, close_to(dC, 2e-5));
        }
      }
    }
  }
}

TEST_CASE("erf maps agree with an independent solution through the arcsine kernel", "[maps]") {
  // For erf, E[erf(u1) erf(u2)] = (2/pi) asin(2 c q / (1 + 2 q)) at equal variances q (Williams
  // 1997), so V, C and their slopes are elementary; q* and c* are solved here with TOMS 748. The
  // library's closed-form route and its quadrature route (no closed forms, Mehler series) must
  // both agree with it.
  using std::numbers::pi;
  const Activation erf = Activation::parse("erf");
  for (double sb : sigma_bs) {
    for (double sw : sigma_ws) {
      INFO("sigma_w = " << sw << ", sigma_b = " << sb);
      const double w2 = sw * sw, b2 = sb * sb;
      auto V = [&](double q) { return w2 * 2 / pi * std::asin(2 * q / (1 + 2 * q)) + b2; };
      double q = 0;
      const double s0 = w2 * 4 / pi;  // V'(0)
      if (sb > 0 || s0 > 1) {
        std::uintmax_t it = 200;
        const auto [a, b] = boost::math::tools::toms748_solve(
            [&](double x) { return V(x) - x; }, sb > 0 ? b2 : 1e-300, w2 + b2,
            boost::math::tools::eps_tolerance<double>(52), it);
        q = 0.5 * (a + b);
      }
      const double chi_1 = q > 0 ? w2 * 4 / pi / std::sqrt(1 + 4 * q) : s0;
      const double chi_q = q > 0 ? w2 * 4 / (pi * (1 + 2 * q) * std::sqrt(1 + 4 * q)) : s0;
      for (const bool quadrature : {false, true}) {
        INFO((quadrature ? "quadrature route" : "closed-form route"));
        amari::maps_options o;
        if (quadrature) o.how = method::quadrature;
        const maps_result r = amari::solve_maps({erf, sw, sb}, o);
        REQUIRE(r.q_star);
        CHECK_THAT(*r.q_star, close_to(q, 1e-12, 1e-300));
        // chi_1 at the collapse boundary is the same with either formula.
        CHECK_THAT(r.chi_1, close_to(chi_1, 1e-12));
        CHECK_THAT(r.chi_q, close_to(chi_q, 1e-12));
        if (q == 0) {
          CHECK_FALSE(r.c_star);
          continue;
        }
        double c = 1;
        if (chi_1 > 1) {
          auto C = [&](double x) { return (w2 * 2 / pi * std::asin(2 * x * q / (1 + 2 * q)) + b2) / q; };
          if (b2 == 0) {
            c = 0;
          } else {
            std::uintmax_t it = 200;
            // Bracket: C(0) - 0 > 0, and C(c) - c < 0 just below 1 (slope chi_1 > 1 at 1).
            double hi = 1 - 1e-3;
            while (C(hi) - hi >= 0) hi = 1 - (1 - hi) / 4;
            const auto [a, b] = boost::math::tools::toms748_solve(
                [&](double x) { return C(x) - x; }, 0.0, hi, boost::math::tools::eps_tolerance<double>(52), it);
            c = 0.5 * (a + b);
          }
        }
        const double chi_c = w2 * 4 / pi / std::sqrt((1 + 2 * q) * (1 + 2 * q) - 4 * c * c * q * q);
        REQUIRE(r.c_star);
        CHECK_THAT(*r.c_star, close_to(c, 1e-11, 1e-14));
        CHECK_THAT(*r.chi_c, close_to(chi_c, 1e-11));
      }
    }
  }
}

TEST_CASE("relu and linear maps are the closed forms", "[maps]") {
  const Activation relu = Activation::parse("relu"), linear = Activation::parse("linear");
  for (double sb : sigma_bs) {
    for (double sw : sigma_ws) {
      INFO("sigma_w = " << sw << ", sigma_b = " << sb);
      const double a = sw * sw / 2;  // V(q) = a q + sigma_b^2, chi_1 = chi_q = a
      const maps_result r = amari::solve_maps({relu, sw, sb});
      CHECK(r.chi_1 == a);
      if (a > 1) {
        CHECK(r.phase == depth_phase::divergent);
        CHECK_FALSE(r.q_star);
        CHECK_FALSE(r.c_star);
        CHECK_FALSE(r.layers_to_1pct);
        continue;
      }
      REQUIRE(r.q_star);
      CHECK_THAT(*r.q_star, close_to(sb * sb / (1 - a), 1e-15, 1e-300));
      CHECK(r.chi_q == a);
      CHECK(r.phase == depth_phase::ordered);
      if (sb == 0) {
        CHECK(r.collapsed);
        CHECK(*r.chi_c == a);  // lim E[relu'^2] = 1/2 at every q
        continue;
      }
      CHECK(*r.c_star == 1.0);
      CHECK(*r.chi_c == a);
      // q^l = q* + a^l (10 - q*): the closed-form count against plain iteration of V.
      CHECK(r.layers_to_1pct == iterate_layers({relu, sw, sb}, *r.q_star, method::automatic));
    }
  }
  // The critical relu map at sigma_b = 0 (every q a fixed point) and the divergent one above. The
  // double nearest sqrt(2) squares to 2 + 4.4e-16: a = 1 + 2.2e-16 is the edge (within 4 ulps).
  const maps_result crit = amari::solve_maps({relu, std::sqrt(2.0), 0.0});
  CHECK(crit.phase == depth_phase::critical);
  CHECK(crit.chi_1 == 1.0);
  REQUIRE(crit.q_star);
  CHECK(*crit.q_star == 1.0);
  CHECK_FALSE(crit.layers_to_1pct);  // q stays at 10
  CHECK(amari::solve_maps({relu, 1.5, 0.0}).phase == depth_phase::divergent);
  CHECK(amari::solve_maps({linear, 1.0, 0.1}).phase == depth_phase::divergent);
  const maps_result lin = amari::solve_maps({linear, 1.0, 0.0});  // C(c) = c: c^0 = 0.5 stays
  CHECK(lin.phase == depth_phase::critical);
  CHECK(*lin.c_star == 0.5);
  CHECK_FALSE(lin.xi_c);
  const maps_result lin2 = amari::solve_maps({linear, 0.5, 0.3});
  CHECK_THAT(*lin2.q_star, close_to(0.09 / 0.75, 1e-15));
  CHECK(lin2.chi_1 == 0.25);
}

TEST_CASE("a growth ratio within 4 ulps of 1 is the edge: relu and linear", "[maps]") {
  // a = gain sigma_w^2 (1/2 for relu, 1 for linear) at sigma_w = edge x (1 + k eps), k ulps of the
  // edge's sigma_w: |a - 1| is about 2 |k| eps, within 4 eps for |k| <= 1 (plus the rounding of the
  // square), and beyond it from |k| = 3 on.
  const double eps = std::numeric_limits<double>::epsilon();
  for (const char* name : {"relu", "linear"}) {
    const Activation phi = Activation::parse(name);
    const double edge = amari::edge_of_chaos(phi, 0.0).sigma_w, gain = std::string(name) == "relu" ? 0.5 : 1.0;
    for (double sw : {std::nextafter(edge, 0.0), edge, std::nextafter(edge, 2.0)}) {
      INFO(name << ": sigma_w = " << fmt_17(sw) << ", a - 1 = " << gain * sw * sw - 1);
      REQUIRE(std::abs(gain * sw * sw - 1) <= 4 * eps);
      const maps_result r = amari::solve_maps({phi, sw, 0.0});
      CHECK(r.phase == depth_phase::critical);
      CHECK(r.chi_1 == 1.0);
      CHECK(r.chi_q == 1.0);
      REQUIRE(r.q_star);
      CHECK(*r.q_star == 1.0);
      CHECK_FALSE(r.collapsed);
      CHECK_FALSE(r.layers_to_1pct);
      const auto fps = amari::find_length_fixed_points({phi, sw, 0.0});
      CHECK(fps.every_q);
      CHECK_FALSE(fps.divergent);
      // With a bias the critical map adds sigma_b^2 every layer: divergent, not a huge q*.
      CHECK(amari::solve_maps({phi, sw, 0.1}).phase == depth_phase::divergent);
    }
    // Beyond the few ulps the map is what it is: 1e-13 away from the edge (far inside the 1e-9
    // critical band of chi_1) the map diverges above and collapses below.
    const double up = edge * (1 + 1e-13), down = edge * (1 - 1e-13);
    const maps_result above = amari::solve_maps({phi, up, 0.0}), below = amari::solve_maps({phi, down, 0.0});
    CHECK(above.phase == depth_phase::divergent);
    CHECK(above.chi_1 > 1);
    CHECK(below.collapsed);
    CHECK(below.phase == depth_phase::critical);  // |chi_1 - 1| = 2e-13 < 1e-9
    CHECK(below.chi_1 < 1);
  }
  // The bounded maps' slope at q = 0 (sigma_b = 0): erf's edge sigma_w = sqrt(pi) / 2 squares to
  // pi / 4 only to rounding; there q = 0 is marginal, the map collapses and chi_1 = 1.
  const Activation erf = Activation::parse("erf");
  const double e = amari::edge_of_chaos(erf, 0.0).sigma_w;
  for (double sw : {std::nextafter(e, 0.0), e, std::nextafter(e, 2.0)}) {
    INFO("erf: sigma_w = " << fmt_17(sw));
    const auto fps = amari::find_length_fixed_points({erf, sw, 0.0});
    REQUIRE(fps.points.size() == 1);
    CHECK(fps.points[0].kind == amari::stability::marginal);
    CHECK(fps.points[0].slope == 1.0);
    const maps_result r = amari::solve_maps({erf, sw, 0.0});
    CHECK(r.collapsed);
    CHECK(r.chi_1 == 1.0);
    CHECK(r.phase == depth_phase::critical);
  }
}

TEST_CASE("the collapse is detected exactly, also where iteration creeps like 1/l", "[maps]") {
  for (const char* name : {"tanh", "erf", "hardtanh", "tanh:g=2"}) {
    const Activation act = Activation::parse(name);
    const double g = act.dphi0();
    INFO(name);
    // At sigma_w = 1 / phi'(0), sigma_b = 0 the length map is critical: q^l ~ 1/l, q* = 0.
    const maps_result edge = amari::solve_maps({act, 1 / g, 0.0});
    CHECK(edge.collapsed);
    CHECK(*edge.q_star == 0.0);
    CHECK_THAT(edge.chi_1, close_to(1.0, 1e-15));
    CHECK(edge.phase == depth_phase::critical);
    CHECK_FALSE(edge.xi_c);  // infinite
    CHECK_FALSE(edge.c_star);
    CHECK_FALSE(edge.layers_to_1pct);
    // Below: collapse with chi_1 = chi_c = chi_q = sigma_w^2 phi'(0)^2.
    const maps_result below = amari::solve_maps({act, 0.9 / g, 0.0});
    CHECK(below.collapsed);
    CHECK_THAT(below.chi_1, close_to(0.81, 1e-14));
    CHECK(*below.chi_c == below.chi_1);
    CHECK(below.chi_q == below.chi_1);
    CHECK_THAT(*below.xi_c, close_to(-1 / std::log(0.81), 1e-14));
    // Just above: a positive q* (small for the smooth ones, where V(q) - q starts like
    // (sigma_w^2 g^2 - 1) q - k q^2; hardtanh's correction is exponentially small in 1/q).
    const maps_result above = amari::solve_maps({act, 1.001 / g, 0.0});
    REQUIRE(above.q_star);
    CHECK(*above.q_star > 0);
    if (act.smooth()) CHECK(*above.q_star < 0.01);
    CHECK_THAT(amari::length_map({act, 1.001 / g, 0.0}, *above.q_star), close_to(*above.q_star, 1e-12));
    CHECK(above.phase == depth_phase::chaotic);
  }
}

TEST_CASE("E[phi(sqrt(q) z)^2] is concave in q for the bounded activations", "[maps]") {
  // The fixed-point analysis rests on it (at most two roots of V(q) - q). Second differences on a
  // geometric grid from 1e-3 to 60, relative step 5%: must be <= 0 up to the rounding of the
  // expectations (1e-13 relative of the values, amplified by 4 / (q h)^2 ... kept in `slack`).
  for (const char* name : {"tanh", "erf", "hardtanh", "tanh:g=3"}) {
    const Activation act = Activation::parse(name);
    INFO(name);
    for (double q = 1e-3; q < 60; q *= 1.3) {
      const double h = 0.05 * q;
      const double d2 = amari::E_phi2(act, q + h) - 2 * amari::E_phi2(act, q) + amari::E_phi2(act, q - h);
      INFO("q = " << q);
      CHECK(d2 <= 4e-13 * amari::E_phi2(act, q));
    }
  }
}

TEST_CASE("all fixed points of the length map with their stability", "[maps]") {
  const Activation tanh = Activation::parse("tanh"), relu = Activation::parse("relu");
  using amari::stability;
  // tanh, sigma_b = 0, chaotic: q = 0 unstable (slope sigma_w^2) and q* stable.
  auto fp = amari::find_length_fixed_points({tanh, 1.5, 0.0});
  REQUIRE(fp.points.size() == 2);
  CHECK(fp.points[0].q == 0.0);
  CHECK_THAT(fp.points[0].slope, close_to(2.25, 1e-14));
  CHECK(fp.points[0].kind == stability::unstable);
  CHECK_THAT(fp.points[1].q, close_to(0.793354042607, 1e-9));  // the shared reference's q*
  CHECK(fp.points[1].kind == stability::stable);
  CHECK(fp.points[1].slope < 1);
  // With a bias, one stable fixed point.
  fp = amari::find_length_fixed_points({tanh, 2.5, 0.3});
  REQUIRE(fp.points.size() == 1);
  CHECK(fp.points[0].kind == stability::stable);
  // Collapse: q = 0 alone, stable; marginal at sigma_w = 1.
  fp = amari::find_length_fixed_points({tanh, 0.9, 0.0});
  REQUIRE(fp.points.size() == 1);
  CHECK(fp.points[0].kind == stability::stable);
  CHECK(amari::find_length_fixed_points({tanh, 1.0, 0.0}).points[0].kind == stability::marginal);
  // relu: divergent with q = 0 unstable; no fixed point with a bias; every q at sigma_w^2 = 2.
  fp = amari::find_length_fixed_points({relu, 2.0, 0.0});
  CHECK(fp.divergent);
  REQUIRE(fp.points.size() == 1);
  CHECK(fp.points[0].kind == stability::unstable);
  fp = amari::find_length_fixed_points({relu, 2.0, 0.1});
  CHECK(fp.divergent);
  CHECK(fp.points.empty());
  CHECK(amari::find_length_fixed_points({Activation::parse("linear"), 1.0, 0.0}).every_q);
}

TEST_CASE("layers_to_1pct is the count of plain iterations of V", "[maps]") {
  for (const char* name : {"tanh", "erf", "hardtanh"}) {
    const Activation act = Activation::parse(name);
    for (double sb : sigma_bs) {
      for (double sw : {0.5, 1.2, 2.0, 4.0}) {
        const model_params p{.phi = act, .sigma_w = sw, .sigma_b = sb};
        INFO(name << " sigma_w = " << sw << ", sigma_b = " << sb);
        const maps_result r = amari::solve_maps(p);
        if (r.collapsed) continue;
        CHECK(r.layers_to_1pct == iterate_layers(p, *r.q_star, method::quadrature));
      }
    }
  }
}

TEST_CASE("the Mehler route and the plain 2-D quadrature give the same c* and chi_c", "[maps]") {
  amari::maps_options plain;
  plain.mehler = false;
  for (const char* name : {"tanh", "hardtanh"}) {
    const Activation act = Activation::parse(name);
    for (double sb : {0.05, 0.3, 1.0}) {
      for (double sw : {1.5, 2.0, 3.0, 4.0}) {
        INFO(name << " sigma_w = " << sw << ", sigma_b = " << sb);
        const maps_result a = amari::solve_maps({act, sw, sb});
        const maps_result b = amari::solve_maps({act, sw, sb}, plain);
        if (a.phase != depth_phase::chaotic) continue;
        CHECK(b.c_star_method == "2-D quadrature");
        // The two-point quadrature is good to ~4e-13 near c = 0.95; c* moves by that over
        // |C'(c*) - 1|, which is > 0.05 at these points.
        CHECK_THAT(*a.c_star, close_to(*b.c_star, 1e-11, 1e-13));
        CHECK_THAT(*a.chi_c, close_to(*b.chi_c, 1e-11));
      }
    }
  }
}

TEST_CASE("the edge of chaos: chi_1 = 1 there, ordered below and chaotic above", "[maps]") {
  for (const char* name : {"tanh", "erf", "hardtanh", "tanh:g=0.5"}) {
    const Activation act = Activation::parse(name);
    for (double sb : {0.0, 0.05, 0.3, 1.0}) {
      INFO(name << " sigma_b = " << sb);
      const amari::edge_point e = amari::edge_of_chaos(act, sb);
      // chi_1 at the edge: 1 to the accuracy of the one-point expectations (1e-12 is the issue's
      // requirement on sigma_w, and dchi_1/dsigma_w is of order 1).
      CHECK_THAT(amari::solve_maps({act, e.sigma_w, sb}).chi_1, close_to(1.0, 1e-12));
      if (sb == 0) CHECK_THAT(e.sigma_w, close_to(1 / act.dphi0(), 1e-15));
      // chi_1 - 1 changes sign linearly in sigma_w across the edge for sigma_b > 0, but only
      // quadratically on the chaotic side at sigma_b = 0 (q* grows from 0 there).
      const double step = sb > 0 ? 1e-6 : 1e-3;
      CHECK(amari::solve_maps({act, e.sigma_w * (1 - step), sb}).phase == depth_phase::ordered);
      CHECK(amari::solve_maps({act, e.sigma_w * (1 + step), sb}).phase == depth_phase::chaotic);
    }
  }
  CHECK(amari::edge_of_chaos(Activation::parse("relu"), 0.3).sigma_w == std::sqrt(2.0));
  CHECK(amari::edge_of_chaos(Activation::parse("linear"), 0.3).sigma_w == 1.0);
  const std::vector<double> sbs = {0.0, 0.5, 1.0};
  const auto curve = amari::edge_of_chaos_curve(Activation::parse("tanh"), sbs);
  REQUIRE(curve.size() == 3);
  CHECK(curve[0].sigma_w < curve[1].sigma_w);
  CHECK(curve[1].sigma_w < curve[2].sigma_w);
}

TEST_CASE("the phase diagram: point by point as solve_maps, independent of threads", "[maps]") {
  amari::phase_params pp;
  pp.phi = Activation::parse("tanh");
  pp.sigma_w = amari::grid_axis::parse("0.5:4:12", "sigma_w");
  pp.sigma_b = amari::grid_axis::parse("0:1:7", "sigma_b");
  pp.threads = 1;
  const amari::phase_diagram one = amari::compute_phase_diagram(pp);
  pp.threads = 2;
  const amari::phase_diagram two = amari::compute_phase_diagram(pp);
  const std::size_t nw = 12, nb = 7;
  REQUIRE(one.q_star.size() == nw * nb);
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  };
  CHECK(same(one.q_star, two.q_star));
  CHECK(same(one.c_star, two.c_star));
  CHECK(same(one.chi_c, two.chi_c));
  CHECK(same(one.xi_c, two.xi_c));
  CHECK(same(one.xi_q, two.xi_q));
  CHECK(one.layers_to_1pct == two.layers_to_1pct);
  CHECK(one.phase == two.phase);
  for (std::size_t i = 0; i < nb; ++i) {
    for (std::size_t j = 0; j < nw; ++j) {
      const std::size_t k = i * nw + j;
      const double sw = one.sigma_w[j], sb = one.sigma_b[i];
      INFO("sigma_w = " << sw << ", sigma_b = " << sb);
      const maps_result r = amari::solve_maps({pp.phi, sw, sb});
      CHECK(one.q_star[k] == *r.q_star);
      CHECK(one.chi_1[k] == r.chi_1);
      if (r.c_star) CHECK(one.c_star[k] == *r.c_star);
      else CHECK(std::isnan(one.c_star[k]));
      CHECK(one.layers_to_1pct[k] == r.layers_to_1pct.value_or(-1));
      CHECK(one.phase[k] == static_cast<std::int64_t>(r.phase));
      // Consistency with the edge curve stored beside it.
      const double edge = one.edge[i].sigma_w;
      if (std::abs(sw - edge) > 1e-6)
        CHECK(one.phase[k] == static_cast<std::int64_t>(sw < edge ? depth_phase::ordered : depth_phase::chaotic));
    }
  }
  CHECK(one.sigma_w.front() == 0.5);
  CHECK(one.sigma_w.back() == 4.0);
}

TEST_CASE("ranges start:stop:count", "[maps]") {
  const auto g = amari::grid_axis::parse("0.5:4:8", "sigma_w");
  CHECK(g.count == 8);
  const auto v = g.values();
  REQUIRE(v.size() == 8);
  CHECK(v.front() == 0.5);
  CHECK(v.back() == 4.0);
  CHECK_THAT(v[1], close_to(1.0, 1e-15));
  const auto one = amari::grid_axis::parse("0.3", "sigma_b");
  CHECK(one.values() == std::vector<double>{0.3});
  CHECK(amari::grid_axis::parse("1:1:1", "sigma_b").values() == std::vector<double>{1.0});
  for (const char* bad : {"0.5:4:0", "4:0.5:10", "0.5:4", "0.5:4:8:2", "a:4:8", "0.5:4:2.5", "0.5:inf:3",
                          "nan:1:3", "1:2:1", "", "0.5:4:-3", "0.5::3"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(amari::grid_axis::parse(bad, "sigma_w"), amari::InvalidArgument);
  }
  try {
    (void)amari::grid_axis::parse("4:0.5:10", "sigma_w");
  } catch (const amari::InvalidArgument& e) {
    CHECK(std::string(e.what()) == "sigma_w = 4:0.5:10: a range start:stop:count needs stop >= start");
  }
}

TEST_CASE("bad parameters are refused with the field named", "[maps]") {
  const Activation tanh = Activation::parse("tanh");
  CHECK_THROWS_WITH(amari::solve_maps({tanh, -1.0, 0.3}), "sigma_w = -1: must be a finite number >= 0");
  CHECK_THROWS_WITH(amari::solve_maps({tanh, 1.0, NAN}), "sigma_b = nan: must be a finite number >= 0");
  CHECK_THROWS_AS(amari::edge_of_chaos(tanh, -0.1), amari::InvalidArgument);
  amari::phase_params pp;
  pp.sigma_w = {-1.0, 2.0, 3};
  CHECK_THROWS_AS(pp.validate(), amari::InvalidArgument);
  pp.sigma_w = {0.5, 2.0, 3};
  pp.threads = -2;
  CHECK_THROWS_AS(pp.validate(), amari::InvalidArgument);
}

TEST_CASE("sigma_w = 0: the output is the bias alone", "[maps]") {
  const maps_result r = amari::solve_maps({Activation::parse("tanh"), 0.0, 0.5});
  CHECK(*r.q_star == 0.25);
  CHECK(r.chi_1 == 0.0);
  CHECK(*r.c_star == 1.0);
  CHECK(*r.xi_c == 0.0);
  CHECK(r.layers_to_1pct == 1);
}

// ---- The commands: amari maps, amari edge, amari phase ---------------------------------------------



namespace {

// The binary in a scratch directory of this test program (tests/cli_run.hpp).
amari::test::cli_result run_cli(const std::string& args) {
  static const amari::test::scratch_dir dir;
  return amari::test::run_amari(args, dir.path);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("amari_maps_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

TEST_CASE("amari maps --json: the contract's keys, the library's numbers, null where undefined", "[maps][cli]") {
  const amari::test::cli_result r = run_cli("maps --phi tanh --sigma-w 2.5 --sigma-b 0.3 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"c_star", "chi_1", "chi_c", "chi_q", "layers_to_1pct", "phase", "phi",
                                         "q_star", "sigma_b", "sigma_w", "xi_c", "xi_q"});
  const maps_result m = amari::solve_maps({Activation::parse("tanh"), 2.5, 0.3});
  // JSON numbers carry 17 significant digits: the same doubles.
  CHECK(j["q_star"].get<double>() == *m.q_star);
  CHECK(j["c_star"].get<double>() == *m.c_star);
  CHECK(j["chi_c"].get<double>() == *m.chi_c);
  CHECK(j["xi_q"].get<double>() == *m.xi_q);
  CHECK(j["layers_to_1pct"] == 3);
  CHECK(j["phase"] == "chaotic");
  CHECK(j["phi"] == "tanh");

  const auto collapse = nlohmann::json::parse(run_cli("maps --phi tanh --sigma-w 0.9 --sigma-b 0 --json").out);
  CHECK(collapse["q_star"] == 0.0);
  CHECK(collapse["c_star"].is_null());
  CHECK(collapse["layers_to_1pct"].is_null());
  CHECK(collapse["phase"] == "ordered");
  const auto critical = nlohmann::json::parse(run_cli("maps --phi tanh --sigma-w 1 --sigma-b 0 --json").out);
  CHECK(critical["xi_c"].is_null());  // infinite
  CHECK(critical["phase"] == "critical");
  const auto divergent = nlohmann::json::parse(run_cli("maps --phi relu --sigma-w 2 --sigma-b 0.3 --json --all-fixed-points").out);
  CHECK(divergent["q_star"].is_null());
  CHECK(divergent["phase"] == "divergent");
  CHECK(divergent["fixed_points"].empty());

  const auto all = nlohmann::json::parse(run_cli("maps --phi tanh --sigma-w 1.5 --sigma-b 0 --json --all-fixed-points").out);
  REQUIRE(all["fixed_points"].size() == 2);
  CHECK(all["fixed_points"][0]["stability"] == "unstable");
  CHECK(all["fixed_points"][1]["stability"] == "stable");

  const amari::test::cli_result table = run_cli("maps --phi erf --sigma-w 2 --sigma-b 0.05 --all-fixed-points");
  CHECK(table.status == 0);
  CHECK(table.out.find("chaotic") != std::string::npos);
  CHECK(table.out.find("stable") != std::string::npos);
}

TEST_CASE("amari maps -o writes /maps, and bad input exits 2 without a file", "[maps][cli]") {
  const std::string path = temp_path("maps.h5");
  std::filesystem::remove(path);
  REQUIRE(run_cli("maps --phi tanh --sigma-w 1.5 --sigma-b 0 --quiet -o " + path).status == 0);
  {
    auto f = amari::store::file::open_read(path);
    auto g = f.group_at("/maps");
    CHECK(g.attr_string("phase") == "chaotic");
    CHECK_THAT(g.read_doubles("q_star").at(0), close_to(0.793354042607, 1e-9));
    CHECK(std::isnan(g.read_doubles("c_star").at(0)) == false);
    CHECK(g.read_ints("layers_to_1pct").at(0) == 7);
    auto fp = f.group_at("/maps/fixed_points");
    CHECK(fp.read_strings("stability") == std::vector<std::string>{"unstable", "stable"});
  }
  CHECK(run_cli("maps --sigma-w 2 -o " + path).status != 0);  // exists, no --force
  std::filesystem::remove(path);
  const amari::test::cli_result bad = run_cli("maps --sigma-w -1 -o " + path);
  CHECK(bad.status == 2);
  CHECK(bad.err == "amari: sigma_w = -1: must be a finite number >= 0\n");
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("amari edge --json: one object, or an array over a range", "[maps][cli]") {
  const amari::test::cli_result r = run_cli("edge --phi tanh --sigma-b 0.3 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j.size() == 3);
  CHECK(j["phi"] == "tanh");
  CHECK(j["sigma_b"] == 0.3);
  CHECK_THAT(j["sigma_w"].get<double>(), close_to(1.39558397515, 1e-9));  // the shared reference
  const auto curve = nlohmann::json::parse(run_cli("edge --phi erf --sigma-b 0:1:5 --json").out);
  REQUIRE(curve.size() == 5);
  CHECK(curve[4]["sigma_b"] == 1.0);
  CHECK(curve[4]["sigma_w"].get<double>() == amari::edge_of_chaos(Activation::parse("erf"), 1.0).sigma_w);
  // A config file gives sigma_b as a number.
  const std::string toml = temp_path("edge.toml");
  std::ofstream(toml) << "phi = \"tanh\"\nsigma_b = 0.05\n";
  const auto cfg = nlohmann::json::parse(run_cli("edge --config " + toml + " --json").out);
  CHECK_THAT(cfg["sigma_w"].get<double>(), close_to(1.12253900477, 1e-9));
  std::filesystem::remove(toml);
  for (const char* bad : {"0.5:4:0", "4:0.5:10", "x"}) {
    const amari::test::cli_result e = run_cli(std::string("edge --sigma-b ") + bad);
    CHECK(e.status == 2);
    CHECK(e.err.rfind("amari: sigma_b = ", 0) == 0);
  }
}

TEST_CASE("amari phase -o: the grids with their axes, equal to the library's", "[maps][cli]") {
  const std::string path = temp_path("phase.h5");
  std::filesystem::remove(path);
  const amari::test::cli_result r = run_cli("phase --phi tanh --sigma-w 0.5:4:9 --sigma-b 0:1:4 --quiet -o " + path);
  REQUIRE(r.status == 0);
  amari::phase_params pp;
  pp.phi = Activation::parse("tanh");
  pp.sigma_w = {0.5, 4.0, 9};
  pp.sigma_b = {0.0, 1.0, 4};
  const amari::phase_diagram d = amari::compute_phase_diagram(pp);
  {
    auto f = amari::store::file::open_read(path);
    auto g = f.group_at("/phase");
    CHECK(g.shape("q_star") == std::vector<std::uint64_t>{4, 9});
    CHECK(f.info("/phase/q_star").dims == std::vector<std::string>{"sigma_b", "sigma_w"});
    CHECK(f.info("/phase/edge_sigma_w").dims == std::vector<std::string>{"sigma_b"});
    CHECK(g.read_doubles("sigma_w") == d.sigma_w);
    CHECK(g.read_doubles("sigma_b") == d.sigma_b);
    CHECK(g.read_doubles("q_star") == d.q_star);
    CHECK(g.read_doubles("chi_1") == d.chi_1);
    CHECK(g.read_ints("layers_to_1pct") == d.layers_to_1pct);
    CHECK(g.read_ints("phase") == d.phase);
    const auto c = g.read_doubles("c_star");
    for (std::size_t k = 0; k < c.size(); ++k)
      CHECK((std::isnan(c[k]) ? std::isnan(d.c_star[k]) : c[k] == d.c_star[k]));
    const auto edge = g.read_doubles("edge_sigma_w");
    REQUIRE(edge.size() == 4);
    CHECK(edge[0] == 1.0);  // sigma_b = 0: 1 / tanh'(0)
  }
  std::filesystem::remove(path);
  for (const char* bad : {"--sigma-w 0.5:4:0", "--sigma-w 4:0.5:10", "--sigma-b 0:1", "--sigma-w -1:2:3"}) {
    INFO(bad);
    const amari::test::cli_result e = run_cli(std::string("phase ") + bad + " -o " + path);
    CHECK(e.status == 2);
    CHECK_FALSE(std::filesystem::exists(path));
  }
  CHECK(run_cli("phase --sigma-w 0.5:4:3 --sigma-b 0:1:2").status == 2);  // no -o
}

TEST_CASE("amari edge -> amari maps / phase: the printed edge reads back as critical (relu, linear)", "[maps][cli]") {
  for (const char* name : {"relu", "linear"}) {
    INFO(name);
    const auto edge = run_cli(std::string("edge --phi ") + name + " --sigma-b 0 --json");
    REQUIRE(edge.status == 0);
    const double sw = nlohmann::json::parse(edge.out)["sigma_w"].get<double>();
    // The number as a user would copy it: the 17 significant digits JSON printed.
    const std::string typed = fmt_17(sw);
    const auto maps = run_cli(std::string("maps --phi ") + name + " --sigma-w " + typed + " --sigma-b 0 --json");
    REQUIRE(maps.status == 0);
    const auto j = nlohmann::json::parse(maps.out);
    INFO(maps.out);
    CHECK(j["phase"] == "critical");
    CHECK(j["chi_1"].get<double>() == 1.0);
    CHECK(j["q_star"].get<double>() == 1.0);
    const auto text = run_cli(std::string("maps --phi ") + name + " --sigma-w " + typed + " --sigma-b 0 --all-fixed-points");
    REQUIRE(text.status == 0);
    CHECK_THAT(text.out, Catch::Contains("every q >= 0"));
    CHECK_THAT(text.out, !Catch::Contains("divergent"));
    CHECK_THAT(text.out, !Catch::Contains("grow without bound"));
    // amari phase on a one-column grid at the same sigma_w: critical (1) at sigma_b = 0, then
    // divergent (3) with a bias.
    const std::string path = temp_path(std::string("edge_phase_") + name + ".h5");
    std::filesystem::remove(path);
    const auto ph = run_cli(std::string("phase --phi ") + name + " --sigma-w " + typed + ":" + typed +
                            ":1 --sigma-b 0:0.2:2 --quiet -o " + path);
    REQUIRE(ph.status == 0);
    {
      auto f = amari::store::file::open_read(path);
      CHECK(f.group_at("/phase").read_ints("phase") == std::vector<std::int64_t>{1, 3});
    }
    std::filesystem::remove(path);
  }
}
