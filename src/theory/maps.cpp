#include "amari/theory/maps.hpp"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <boost/math/tools/toms748_solve.hpp>
#include <charconv>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <limits>
#include <mutex>

#include "amari/core/error.hpp"

namespace amari {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// ---- What kind of length map the activation gives ---------------------------------------------
//
// bounded (tanh, erf, hardtanh): |phi| <= 1 and, for each z, s -> phi(sqrt(s) z)^2 is concave
//   (phi odd with phi(t)/t and phi'(t) decreasing on t > 0: d/ds phi(sqrt s z)^2 =
//   z^2 (phi(t)/t) phi'(t) with t = sqrt(s) |z|), so V is increasing, concave and bounded by
//   sigma_w^2 + sigma_b^2. tests/test_maps.cpp checks the concavity numerically.
// homogeneous (relu, linear): phi(a h) = a phi(h) for a > 0, so V(q) = gain sigma_w^2 q + sigma_b^2
//   with gain = E[phi(z)^2] (1/2 for relu, 1 for linear), and E[phi'^2] = gain at every q.
enum class map_kind { bounded, homogeneous };

map_kind kind_of(const Activation& act) {
  return act.bounded() ? map_kind::bounded : map_kind::homogeneous;
}

double homogeneous_gain(const Activation& act) {
  return act.visit([](const auto& p) -> double {
    using P = std::decay_t<decltype(p)>;
    if constexpr (std::is_same_v<P, relu_phi>) return 0.5;
    if constexpr (std::is_same_v<P, linear_phi>) return 1.0;
    throw InvalidArgument("phi", std::string(P::name), "is not a positively homogeneous activation");
  });
}

// A growth ratio (the slope of the length map at a fixed point, or the homogeneous maps' factor
// a = gain sigma_w^2) within a few ulps of 1 is 1. sigma_w is given as a decimal, and its square
// misses the edge by the rounding: `amari edge --phi relu --sigma-b 0` prints sigma_w = sqrt(2) to
// 17 digits, 1.4142135623730951, whose square / 2 is 1 + 2.2e-16 -- which must read back as the
// edge (every q a fixed point), not as a map that diverges. 4 ulps of 1 (8.9e-16) cover the
// rounding of a typed sigma_w (half an ulp, doubled by the square) and of the product with the gain,
// and are far below any ratio that can be told from 1 in 10^15 layers.
double snap_to_one(double ratio) {
  return std::abs(ratio - 1.0) <= 4 * std::numeric_limits<double>::epsilon() ? 1.0 : ratio;
}

// The homogeneous maps' factor: V(q) = a q + sigma_b^2.
double homogeneous_slope(const model_params& p) {
  return snap_to_one(homogeneous_gain(p.phi) * p.sigma_w * p.sigma_w);
}

// One-point expectations at x = sqrt(q) z from one pass over the nodes (or the closed forms).
struct one_point {
  double E_phi2 = 0;     // E[phi^2]
  double dq_E_phi2 = 0;  // d/dq E[phi^2] = E[phi'^2 + phi phi'']
  double E_dphi2 = 0;    // E[phi'^2]
};

one_point one_point_at(const Activation& act, double q, method how) {
  one_point r;
  if (q == 0) {
    // The limit q -> 0+. All activations here have phi(0) = 0, so phi phi'' contributes nothing
    // and V'(0+) = sigma_w^2 lim E[phi'^2]; the core evaluates that limit (for relu the mean of
    // the one-sided values, 1/2, which is E[relu'^2] at every q > 0).
    r.E_phi2 = 0;
    r.E_dphi2 = E_dphi2(act, 0.0);
    r.dq_E_phi2 = r.E_dphi2;
    return r;
  }
  if (how == method::automatic && closed_form::has_two_point(act)) {
    r.E_phi2 = E_phi2(act, q);
    r.dq_E_phi2 = dq_E_phi2(act, q);
    r.E_dphi2 = E_dphi2(act, q);
    return r;
  }
  const auto e = expect(
      act,
      [](const auto& v) { return std::tuple(v.phi().square(), v.z() * v.phi() * v.dphi(), v.dphi().square()); },
      q);
  r.E_phi2 = e[0];
  r.dq_E_phi2 = e[1] / std::sqrt(q);  // Gaussian integration by parts (holds for kinks too)
  r.E_dphi2 = e[2];
  return r;
}

double E_phi2_at(const Activation& act, double q, method how) {
  if (q == 0) return 0.0;
  return E_phi2(act, q, 0.0, how);
}

// ---- A root between a positive and a negative value --------------------------------------------
//
// Both fixed-point equations here, G(q) = V(q) - q = 0 and D(c) = C(c) - c = 0, have the form
// f(lo) > 0 >= f(hi) with f concave (G) or convex (D) on the bracket, and Newton's method started on
// the right side converges monotonically (from above for concave f, from below for convex f: the
// tangent lies on the far side of the function). This Newton iteration keeps the bracket and falls
// back to bisection whenever a step would leave it. Hand-written rather than Boost's
// newton_raphson_iterate, whose heuristic ("two slow steps: bisect towards the far end") derails
// the slow first steps across the sharp bend of the hardtanh length map, and whose bracket sanity
// check throws where, near the edge of chaos, c* lies within ~1e-10 of 1 and D is rounding noise;
// here the bracket shrinks to the noise and the best estimate is returned.
template <class F>
double bracketed_newton(F&& f, double lo, double hi, double x) {
  for (int it = 0; it < 300; ++it) {
    const auto [v, dv] = f(x);
    if (v == 0) return x;
    if (v > 0) lo = x;
    else hi = x;
    if (!(hi - lo > 4e-16 * std::abs(hi))) break;
    double next = dv != 0 ? x - v / dv : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 2e-16 * std::abs(x)) return next;
    x = next;
  }
  return x;
}

// The positive fixed point of a bounded length map: G concave with G(hi) < 0 at hi = sigma_w^2 +
// sigma_b^2 (V <= hi there); Newton from hi.
double positive_root(const model_params& p, double lo, double hi, method how) {
  const double w2 = p.sigma_w * p.sigma_w, b2 = p.sigma_b * p.sigma_b;
  auto G = [&](double q) {
    const one_point o = one_point_at(p.phi, q, how);
    return std::pair(w2 * o.E_phi2 + b2 - q, w2 * o.dq_E_phi2 - 1.0);
  };
  return bracketed_newton(G, lo, hi, hi);
}

// The fixed-point structure, and q* (the one reached from q^0 = 1), of any length map.
struct length_solution {
  length_fixed_points all;
  std::optional<double> q_star;  // nullopt: divergent
};

stability stability_of(double slope) {
  if (slope == 1.0) return stability::marginal;
  return slope < 1.0 ? stability::stable : stability::unstable;
}

length_solution solve_length(const model_params& p, method how) {
  length_solution s;
  const double w2 = p.sigma_w * p.sigma_w, b2 = p.sigma_b * p.sigma_b;
  if (kind_of(p.phi) == map_kind::homogeneous) {
    const double a = homogeneous_slope(p);  // V(q) = a q + b2
    if (a < 1) {
      const double q = b2 / (1 - a);
      s.all.points.push_back({q, a, stability::stable});
      s.q_star = q;
    } else if (a == 1 && b2 == 0) {
      s.all.every_q = true;
      s.all.points.push_back({1.0, 1.0, stability::marginal});
      s.q_star = 1.0;
    } else {
      // a > 1: q = 0 is an unstable fixed point when b2 = 0, and nothing else is; a = 1 with
      // b2 > 0 adds b2 every layer.
      if (b2 == 0) s.all.points.push_back({0.0, a, stability::unstable});
      s.all.divergent = true;
    }
    return s;
  }
  // Bounded.
  if (w2 == 0) {  // V(q) = b2
    s.all.points.push_back({b2, 0.0, stability::stable});
    s.q_star = b2;
    return s;
  }
  if (b2 > 0) {
    // G(b2) = w2 E[phi^2](b2) > 0 > G(w2 + b2): exactly one root, stable.
    const double q = positive_root(p, b2, w2 + b2, how);
    s.all.points.push_back({q, w2 * one_point_at(p.phi, q, how).dq_E_phi2, stability::stable});
    s.q_star = q;
    return s;
  }
  // sigma_b = 0: q = 0 is a fixed point with slope G'(0) + 1 = w2 lim E[phi'^2]; a positive root
  // exists iff that slope exceeds 1 (G concave with G(0) = 0), and then it is the one reached.
  const double s0 = snap_to_one(w2 * one_point_at(p.phi, 0.0, how).E_dphi2);
  s.all.points.push_back({0.0, s0, stability_of(s0)});
  if (s0 > 1) {
    const double q = positive_root(p, 0.0, w2, how);
    if (q > 0) {
      s.all.points.push_back({q, w2 * one_point_at(p.phi, q, how).dq_E_phi2, stability::stable});
      s.q_star = q;
      return s;
    }
  }
  s.q_star = 0.0;
  return s;
}

// ---- The correlation fixed point in the chaotic phase --------------------------------------------
//
// D(c) = C(c) - c is convex on [0, 1] (C = sum of nonnegative powers of c), D(0) >= 0, D(1) = 0 and
// D'(1) = chi_1 - 1 > 0: one root c* in [0, 1), with D' = chi_c - 1 < 0 there. Newton's method
// from any c <= c* climbs monotonically to it (the tangent of a convex function lies below it).

struct c_root {
  double c = 1, chi_c = 1;
  std::string how;
};

// Newton's method from below for the root of the convex D = C(c) - c in [start, 1), D(start) >= 0,
// D(1) = 0 by construction (so 1 is the initial right end of the bracket, never evaluated).
template <class D>
double newton_up(D&& d, double start) {
  return bracketed_newton(d, start, 1.0, start);
}

// Mehler's series: coefficients from one 1-D pass (smooth phi) or exactly from the kinks
// (piecewise-linear phi), then polynomials. Orders tried: from 24 up, as the root requires, to a
// maximum beyond which (c* close to 1) the 2-D quadrature is cheaper: the quadrature of the
// coefficients costs ~40 ns x order x nodes (75 us at order 1000 for tanh against ~50 us for one
// two-point evaluation, of which Newton needs ~10 near c = 1); the exact coefficients ~30 ns x order.
constexpr int mehler_start_order = 24;

std::optional<c_root> c_star_mehler(const model_params& p, double q, double& c_lower) {
  const double w2 = p.sigma_w * p.sigma_w, b2 = p.sigma_b * p.sigma_b;
  const int mehler_max_order = p.phi.smooth() ? 2000 : 100000;
  int N = mehler_start_order;
  double c = 0;
  for (;;) {
    const hermite_expansion e = hermite_coefficients(p.phi, q, N);
    auto D = [&](double x) {
      return std::pair((w2 * e.E_phi_phi(x) + b2) / q - x, w2 * e.E_dphi_dphi(x) - 1.0);
    };
    // The truncated series is a lower bound of C, so its root is a lower bound of c*: each new
    // order starts from the previous root.
    c = newton_up(D, c);
    c_lower = c;
    const double chi_c = w2 * e.E_dphi_dphi(c);
    const double slope = std::abs(chi_c - 1.0);
    const double err_C = w2 * e.error_bound_phi_phi(c) / q;  // bound on C - C_N at c
    const double err_chi = w2 * e.error_bound_dphi_dphi(c);
    // Accept when the truncation moves c* by < 1e-16 and chi_c by < 1e-16 relative.
    if (err_C <= 1e-16 * slope && err_chi <= 1e-16 * chi_c)
      return c_root{c, chi_c, fmt::format("Mehler series ({} terms)", N + 1)};
    if (N >= mehler_max_order || c >= 1) return std::nullopt;
    // The order at which tail * c^(N+1) reaches the tolerance, with some margin.
    const double need = std::log(1e-17 * slope * q / (w2 * std::max(e.tail(), 1e-300))) / std::log(c);
    N = std::min(mehler_max_order, std::max(2 * N, static_cast<int>(1.2 * need) + 8));
  }
}

c_root c_star_chaotic(const model_params& p, double q, const maps_options& o) {
  const double w2 = p.sigma_w * p.sigma_w, b2 = p.sigma_b * p.sigma_b;
  if (p.phi.odd() && b2 == 0) {
    // C(0) = sigma_w^2 E[phi]^2 / q* = 0: c* = 0 exactly, and chi_c = sigma_w^2 E[phi']^2.
    const double m = E_dphi(p.phi, q, 0.0, o.how);
    return c_root{0.0, w2 * m * m, "exact (odd phi, sigma_b = 0)"};
  }
  const bool closed = o.how == method::automatic && closed_form::has_two_point(p.phi);
  double start = 0;
  if (!closed && o.mehler) {
    if (auto r = c_star_mehler(p, q, start)) return *r;
  }
  auto D = [&](double c) {
    return std::pair((w2 * E_phi_phi(p.phi, q, q, c, o.how) + b2) / q - c,
                     w2 * E_dphi_dphi(p.phi, q, q, c, o.how) - 1.0);
  };
  const double c = newton_up(D, start);
  return c_root{c, w2 * E_dphi_dphi(p.phi, q, q, c, o.how), closed ? "closed form" : "2-D quadrature"};
}

// ---- layers_to_1pct ----------------------------------------------------------------------------------

struct layer_count {
  std::optional<std::int64_t> layers;
  bool limit_hit = false;
};

layer_count layers_to_1pct(const model_params& p, double q_star, const maps_options& o) {
  constexpr double q0 = 10.0;
  layer_count r;
  if (!(q_star > 0)) return r;
  const double w2 = p.sigma_w * p.sigma_w, b2 = p.sigma_b * p.sigma_b;
  if (kind_of(p.phi) == map_kind::homogeneous) {
    // q^l - q* = a^l (q^0 - q*) exactly: the least l >= 1 with a^l |q^0 - q*| < 0.01 q*.
    const double a = homogeneous_slope(p), d = std::abs(q0 - q_star), tol = 0.01 * q_star;
    if (a >= 1) return r;  // every_q: q stays at 10, never within 1% of q* = 1
    auto within = [&](std::int64_t l) { return std::pow(a, double(l)) * d < tol; };
    if (a == 0 || within(1)) {
      r.layers = 1;
      return r;
    }
    auto l = static_cast<std::int64_t>(std::floor(std::log(tol / d) / std::log(a))) + 1;
    while (l > 1 && within(l - 1)) --l;  // guard the rounding of the logarithms
    while (!within(l)) ++l;
    r.layers = l;
    return r;
  }
  double q = q0;
  for (std::int64_t l = 1; l <= o.max_layers; ++l) {
    q = w2 * E_phi2_at(p.phi, q, o.how) + b2;
    if (std::abs(q - q_star) < 0.01 * q_star) {
      r.layers = l;
      return r;
    }
  }
  r.limit_hit = true;
  return r;
}

depth_phase phase_of(double chi_1) {
  if (std::abs(chi_1 - 1.0) < critical_band) return depth_phase::critical;
  return chi_1 < 1 ? depth_phase::ordered : depth_phase::chaotic;
}

}  // namespace

// ---- Public ---------------------------------------------------------------------------------------

void maps_params::validate() const {
  model.validate();
  model.require_centred("the depth maps");
}

const param_table<maps_params>& maps_params::table() {
  static const auto t = param_table<maps_params>("maps")
                            .add("phi", [](maps_params& p) -> auto& { return p.model.phi; })
                            .add("sigma_w", [](maps_params& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](maps_params& p) -> auto& { return p.model.sigma_b; });
  return t;
}

void edge_params::validate() const {
  sigma_b.validate("sigma_b");
  require_nonnegative("sigma_b", sigma_b.start);
}

const param_table<edge_params>& edge_params::table() {
  static const auto t = param_table<edge_params>("edge")
                            .add("phi", [](edge_params& p) -> auto& { return p.phi; })
                            .add("sigma_b", [](edge_params& p) -> auto& { return p.sigma_b; });
  return t;
}

std::string_view to_string(stability s) {
  switch (s) {
    case stability::stable: return "stable";
    case stability::unstable: return "unstable";
    case stability::marginal: return "marginal";
  }
  return "?";
}

std::string_view to_string(depth_phase p) {
  switch (p) {
    case depth_phase::ordered: return "ordered";
    case depth_phase::critical: return "critical";
    case depth_phase::chaotic: return "chaotic";
    case depth_phase::divergent: return "divergent";
  }
  return "?";
}

std::optional<double> depth_scale(double chi) {
  if (!(chi < 1) || chi < 0) return std::nullopt;
  if (chi == 0) return 0.0;
  return -1.0 / std::log(chi);
}

double length_map(const model_params& p, double q, method how) {
  p.validate();
  require_nonnegative("q", q);
  return p.sigma_w * p.sigma_w * E_phi2_at(p.phi, q, how) + p.sigma_b * p.sigma_b;
}

double length_map_slope(const model_params& p, double q, method how) {
  p.validate();
  require_nonnegative("q", q);
  return p.sigma_w * p.sigma_w * one_point_at(p.phi, q, how).dq_E_phi2;
}

double correlation_map(const model_params& p, double q, double c, method how) {
  p.validate();
  require_nonnegative("q", q);
  require_in_range("c", c, -1.0, 1.0);
  const double v = length_map(p, q, how);
  if (v == 0) throw InvalidArgument("q", format_number(q), "the correlation is undefined where V(q) = 0");
  return (p.sigma_w * p.sigma_w * E_phi_phi(p.phi, q, q, c, how) + p.sigma_b * p.sigma_b) / v;
}

length_fixed_points find_length_fixed_points(const model_params& p, const maps_options& o) {
  p.validate();
  p.require_centred("the depth maps");
  return solve_length(p, o.how).all;
}

maps_result solve_maps(const model_params& p, const maps_options& o) {
  p.validate();
  p.require_centred("the depth maps");
  const double w2 = p.sigma_w * p.sigma_w;
  maps_result r;
  const length_solution len = solve_length(p, o.how);

  if (!len.q_star) {  // divergent (homogeneous maps only)
    r.phase = depth_phase::divergent;
    r.chi_1 = r.chi_q = homogeneous_slope(p);
    return r;
  }
  const double q = *len.q_star;
  r.q_star = q;

  if (q == 0) {  // collapse: chi_1 = chi_c = chi_q = sigma_w^2 lim_{q->0} E[phi'^2]
    r.collapsed = true;
    r.chi_1 = r.chi_q = snap_to_one(w2 * one_point_at(p.phi, 0.0, o.how).E_dphi2);
    r.chi_c = r.chi_1;
    r.xi_c = depth_scale(r.chi_1);
    r.xi_q = depth_scale(r.chi_q);
    r.phase = phase_of(r.chi_1);
    return r;
  }

  if (kind_of(p.phi) == map_kind::homogeneous) {
    const double a = homogeneous_slope(p);
    r.chi_1 = r.chi_q = a;
    if (len.all.every_q && std::holds_alternative<linear_phi>(p.phi.variant())) {
      // V(q) = q and C(c) = c: every correlation is a fixed point; c^0 = 0.5 stays.
      r.c_star = 0.5;
      r.c_star_method = "exact (C(c) = c)";
    } else {
      r.c_star = 1.0;  // a <= 1: ordered (or relu's critical map, which creeps up to c = 1)
      r.c_star_method = "exact (chi_1 <= 1)";
    }
    r.chi_c = a;
  } else {
    const one_point op = one_point_at(p.phi, q, o.how);
    r.chi_1 = w2 * op.E_dphi2;
    r.chi_q = w2 * op.dq_E_phi2;
    if (r.chi_1 <= 1) {
      r.c_star = 1.0;
      r.chi_c = r.chi_1;
      r.c_star_method = "exact (chi_1 <= 1)";
    } else {
      const c_root cr = c_star_chaotic(p, q, o);
      r.c_star = cr.c;
      r.chi_c = cr.chi_c;
      r.c_star_method = cr.how;
    }
  }
  r.xi_c = depth_scale(*r.chi_c);
  r.xi_q = depth_scale(r.chi_q);
  const layer_count lc = layers_to_1pct(p, q, o);
  r.layers_to_1pct = lc.layers;
  r.layers_limit_hit = lc.limit_hit;
  r.phase = phase_of(r.chi_1);
  return r;
}

// ---- Edge of chaos ---------------------------------------------------------------------------------

namespace {

double chi_1_at(const Activation& phi, double sigma_w, double sigma_b, method how, double* q_out = nullptr) {
  const model_params p{.phi = phi, .sigma_w = sigma_w, .sigma_b = sigma_b};
  const length_solution len = solve_length(p, how);
  const double q = len.q_star.value_or(0.0);
  if (q_out) *q_out = q;
  return sigma_w * sigma_w * one_point_at(phi, q, how).E_dphi2;
}

}  // namespace

edge_point edge_of_chaos(const Activation& phi, double sigma_b, const maps_options& o) {
  require_nonnegative("sigma_b", sigma_b);
  edge_point e;
  e.sigma_b = sigma_b;
  if (kind_of(phi) == map_kind::homogeneous) {
    // chi_1 = gain sigma_w^2 at every q: sqrt(2) for relu, 1 for linear. There the map is
    // critical (every q a fixed point) for sigma_b = 0 and divergent otherwise.
    e.sigma_w = std::sqrt(1.0 / homogeneous_gain(phi));
    if (sigma_b == 0) e.q_star = 1.0;
    return e;
  }
  // Bounded. At sigma_b = 0 the edge is where the collapse ends: sigma_w^2 lim E[phi'^2] = 1.
  const double s0 = 1.0 / std::sqrt(one_point_at(phi, 0.0, o.how).E_dphi2);
  if (sigma_b == 0) {
    e.sigma_w = s0;
    e.q_star = 0.0;
    return e;
  }
  auto f = [&](double s) { return chi_1_at(phi, s, sigma_b, o.how) - 1.0; };
  // chi_1(0) = 0; walk up from the sigma_b = 0 edge until chi_1 > 1.
  double lo = 0, flo = -1, hi = s0, fhi = f(hi);
  for (int k = 0; fhi <= 0; ++k) {
    if (k > 200)
      throw NumericalError(fmt::format("no edge of chaos found for phi = {}, sigma_b = {} (chi_1 < 1 up to "
                                       "sigma_w = {})", phi.spec(), format_number(sigma_b), format_number(hi)));
    lo = hi;
    flo = fhi;
    hi *= 1.5;
    fhi = f(hi);
  }
  std::uintmax_t iters = 200;
  try {
    const auto [a, b] = boost::math::tools::toms748_solve(
        f, lo, hi, flo, fhi, boost::math::tools::eps_tolerance<double>(50), iters);
    e.sigma_w = 0.5 * (a + b);
  } catch (const std::exception& ex) {
    throw NumericalError(fmt::format("the edge of chaos for phi = {}, sigma_b = {} was not found: {}",
                                     phi.spec(), format_number(sigma_b), ex.what()));
  }
  double q = 0;
  chi_1_at(phi, e.sigma_w, sigma_b, o.how, &q);
  e.q_star = q;
  return e;
}

std::vector<edge_point> edge_of_chaos_curve(const Activation& phi, std::span<const double> sigma_b,
                                            const maps_options& o, const run_control& ctl) {
  for (double b : sigma_b) require_nonnegative("sigma_b", b);
  std::vector<edge_point> out;
  out.reserve(sigma_b.size());
  for (std::size_t i = 0; i < sigma_b.size(); ++i) {
    if (int sig = ctl.stop_requested())
      throw Interrupted(sig, fmt::format("interrupted after {} of {} points of the edge of chaos", i, sigma_b.size()));
    out.push_back(edge_of_chaos(phi, sigma_b[i], o));
    ctl.report(double(i + 1), double(sigma_b.size()));
  }
  return out;
}

// ---- Ranges -------------------------------------------------------------------------------------------

// ---- Phase diagram ------------------------------------------------------------------------------------

const param_table<phase_params>& phase_params::table() {
  static const auto t = param_table<phase_params>("phase")
                            .add("phi", [](phase_params& p) -> auto& { return p.phi; })
                            .add("sigma_w", [](phase_params& p) -> auto& { return p.sigma_w; })
                            .add("sigma_b", [](phase_params& p) -> auto& { return p.sigma_b; })
                            .add("threads", [](phase_params& p) -> auto& { return p.threads; });
  return t;
}

void phase_params::validate() const {
  sigma_w.validate("sigma_w");
  sigma_b.validate("sigma_b");
  require_nonnegative("sigma_w", sigma_w.start);
  require_nonnegative("sigma_b", sigma_b.start);
  if (threads < 0 || threads > 4096)
    throw InvalidArgument("threads", std::to_string(threads), "must be an integer in [0, 4096] (0: all cores)");
  if (double(sigma_w.count) * double(sigma_b.count) > double(max_points))
    throw InvalidArgument("sigma_w", sigma_w.spec(),
                          fmt::format("the grid would have {} x {} points, more than {}",
                                      sigma_w.count, sigma_b.count, max_points));
}

phase_diagram compute_phase_diagram(const phase_params& p, const maps_options& o, const run_control& ctl) {
  p.validate();
  phase_diagram d;
  d.sigma_w = p.sigma_w.values();
  d.sigma_b = p.sigma_b.values();
  const std::size_t nw = d.sigma_w.size(), nb = d.sigma_b.size(), n = nw * nb;
  for (auto* v : {&d.q_star, &d.c_star, &d.chi_1, &d.chi_c, &d.chi_q, &d.xi_c, &d.xi_q}) v->assign(n, nan);
  d.layers_to_1pct.assign(n, -1);
  d.phase.assign(n, 0);
  d.edge.resize(nb);

  auto put = [](const std::optional<double>& x, bool infinite_when_missing) {
    return x ? *x : (infinite_when_missing ? HUGE_VAL : nan);
  };
  std::atomic<int> stop{0};
  std::atomic<std::size_t> rows_done{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;  // the first exception of any row (written under the mutex)
  std::mutex failure_mutex, report_mutex;
  const int threads = p.threads > 0 ? static_cast<int>(p.threads) : omp_get_max_threads();

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::size_t i = 0; i < nb; ++i) {
    if (stop.load() || failed.load()) continue;
    if (int sig = ctl.stop_requested()) {
      stop.store(sig);
      continue;
    }
    try {
      for (std::size_t j = 0; j < nw; ++j) {
        const maps_result r = solve_maps(model_params{.phi = p.phi, .sigma_w = d.sigma_w[j], .sigma_b = d.sigma_b[i]}, o);
        const std::size_t k = i * nw + j;
        const bool defined = r.phase != depth_phase::divergent;
        d.q_star[k] = put(r.q_star, false);
        d.c_star[k] = put(r.c_star, false);
        d.chi_1[k] = r.chi_1;
        d.chi_c[k] = put(r.chi_c, false);
        d.chi_q[k] = defined ? r.chi_q : nan;
        // A missing depth scale is infinite (chi = 1) except where the map diverges.
        d.xi_c[k] = put(r.xi_c, defined && r.chi_c);
        d.xi_q[k] = put(r.xi_q, defined);
        d.layers_to_1pct[k] = r.layers_to_1pct.value_or(-1);
        d.phase[k] = static_cast<std::int64_t>(r.phase);
      }
      d.edge[i] = edge_of_chaos(p.phi, d.sigma_b[i], o);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      failed.store(true);
    }
    const std::size_t done = ++rows_done;
    if (ctl.progress) {
      std::lock_guard lock(report_mutex);
      ctl.report(double(done), double(nb));
    }
  }
  if (failure) std::rethrow_exception(failure);
  if (int sig = stop.load())
    throw Interrupted(sig, fmt::format("phase diagram interrupted after {} of {} rows", rows_done.load(), nb));
  return d;
}

}  // namespace amari
