#pragma once
// Mean-field maps of deep random feed-forward networks: signal propagation in depth.
//
// A network h^l = W^l phi(h^{l-1}) + b^l with W_ij ~ N(0, sigma_w^2 / N), b_i ~ N(0, sigma_b^2),
// fresh at every layer, carries in the limit N -> infinity the length of one input and the
// correlation of two through the maps (Poole et al. 2016, "Exponential expressivity in deep neural
// networks through transient chaos", NeurIPS; Schoenholz et al. 2017, "Deep information
// propagation", ICLR):
//
//   length map        V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2,               z ~ N(0, 1)
//   correlation map   C(c) = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q*,
//                     u1 = sqrt(q*) z1, u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)
//
// and around their fixed points q* = V(q*), c* = C(c*):
//
//   chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]              (= C'(1): growth of small perturbations)
//   chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at c*          (= C'(c*), Price's theorem)
//   chi_q = sigma_w^2 E[phi'^2 + phi phi''] at q*         (= V'(q*), Gaussian integration by parts)
//   xi_c = -1 / ln chi_c,  xi_q = -1 / ln chi_q           (depth scales, in layers)
//   layers_to_1pct = min { l >= 1 : |q^l - q*| / q* < 0.01 },  q^{l+1} = V(q^l), q^0 = 10
//   phase: ordered (chi_1 < 1), chaotic (chi_1 > 1), critical (|chi_1 - 1| < 1e-9), divergent.
//
// q* is the stable fixed point reached from q^0 = 1 and c* the one reached from c^0 = 0.5. How they
// are found, and why that is reliable, is in docs/maps.md; in short: for the bounded activations
// (tanh, erf, hardtanh) E[phi(sqrt(q) z)^2] is concave in q, so V(q) - q has at most two roots
// and the length map collapses (q* = 0) exactly when sigma_b = 0 and sigma_w^2 phi'(0)^2 <= 1;
// for relu and linear V is linear in q; on [0, 1] the correlation map is increasing and convex
// (Mehler: E[phi(u1) phi(u2)] = sum_n a_n^2 c^n, a_n the Hermite coefficients of phi(sqrt(q*) z)),
// so C(c) - c has one root below 1 when chi_1 > 1 and none when chi_1 <= 1, and Newton's method
// started at c = 0 converges to it monotonically.
//
// Where q* = 0 (collapse) c* and layers_to_1pct are undefined, and chi_1 = chi_c = chi_q =
// sigma_w^2 lim_{q->0} E[phi'(sqrt(q) z)^2] (= sigma_w^2 phi'(0)^2 for smooth phi, sigma_w^2 / 2
// for relu, whose E[phi'^2] = 1/2 at every q). Where q grows without bound (relu with
// sigma_w^2 > 2, or = 2 with sigma_b > 0; linear with sigma_w >= 1 and sigma_b > 0 or sigma_w > 1)
// the phase is divergent: q*, c*, chi_c, xi_c, xi_q and layers_to_1pct are undefined, and chi_1 =
// chi_q is the q-independent growth factor of those homogeneous maps.
//
// In results, "undefined" and "infinite" are std::nullopt; the CLI prints them as JSON null.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/control.hpp"
#include "amari/core/gauss.hpp"
#include "amari/core/params.hpp"

namespace amari {

// ---- Parameters ------------------------------------------------------------------------------------

// The vocabulary of `amari maps`: the shared model parameters (core/params.hpp) with the depth
// picture's defaults; the maps themselves take model_params (w0 = b0 = 0: zero-mean weights).
struct maps_params {
  model_params model = defaults::depth;

  void validate() const;  // model.validate() and w0 = b0 = 0
  static const param_table<maps_params>& table();
};

// How the expectations are computed (the defaults are what users want; the tests switch to the
// plain two-dimensional quadrature as an independent second route).
struct maps_options {
  method how = method::automatic;  // quadrature: no closed forms (erf, relu, linear)
  bool mehler = true;              // E[phi(u1) phi(u2)] at equal variances by Mehler's series
                                   // where it converges fast (tanh, hardtanh), else 2-D quadrature
  std::int64_t max_layers = 1'000'000;  // layers_to_1pct is left undefined beyond this many
};

// ---- The length map ------------------------------------------------------------------------------

enum class stability { stable, unstable, marginal };
std::string_view to_string(stability s);

struct length_fixed_point {
  double q = 0;      // V(q) = q
  double slope = 0;  // V'(q) (for q = 0 the right derivative)
  stability kind = stability::stable;
};

struct length_fixed_points {
  std::vector<length_fixed_point> points;  // all fixed points in q >= 0, ascending
  bool every_q = false;     // V(q) = q for every q (relu at sigma_w^2 = 2, linear at sigma_w = 1,
                            // both with sigma_b = 0): `points` then holds q = 1, the one reached
  bool divergent = false;   // iterates from q^0 > 0 grow without bound
};

double length_map(const model_params& p, double q, method how = method::automatic);        // V(q)
double length_map_slope(const model_params& p, double q, method how = method::automatic);  // V'(q)
// The correlation after one layer of two inputs of equal variance q and correlation c:
// (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / V(q). At q = q* this is C(c).
double correlation_map(const model_params& p, double q, double c, method how = method::automatic);

length_fixed_points find_length_fixed_points(const model_params& p, const maps_options& o = {});

// ---- Everything at one (phi, sigma_w, sigma_b) --------------------------------------------------

enum class depth_phase { ordered, critical, chaotic, divergent };
std::string_view to_string(depth_phase p);
inline constexpr double critical_band = 1e-9;  // |chi_1 - 1| below this is critical

struct maps_result {
  std::optional<double> q_star;  // 0 when the map collapses; undefined when it diverges
  double chi_1 = 0;
  std::optional<double> c_star;  // undefined when q* = 0 or divergent
  std::optional<double> chi_c;
  std::optional<double> xi_c;    // undefined where infinite (chi_c = 1) or divergent
  double chi_q = 0;
  std::optional<double> xi_q;
  std::optional<std::int64_t> layers_to_1pct;  // undefined when q* = 0, divergent, or > max_layers
  depth_phase phase = depth_phase::ordered;
  bool collapsed = false;           // q* = 0
  bool layers_limit_hit = false;    // layers_to_1pct would need more than max_layers
  std::string c_star_method;        // "fixed (ordered)", "closed form", "Mehler series (N terms)",
                                    // "2-D quadrature": how c* was found (for docs and the table)
};

maps_result solve_maps(const model_params& p, const maps_options& o = {});

// -1 / ln(chi) for chi in [0, 1); nullopt for chi >= 1 (infinite, or a growth rather than a decay).
std::optional<double> depth_scale(double chi);

// ---- The edge of chaos ---------------------------------------------------------------------------

struct edge_point {
  double sigma_b = 0;
  double sigma_w = 0;            // chi_1(sigma_w, sigma_b) = 1
  std::optional<double> q_star;  // q* there (undefined where the map diverges: relu, linear)
};

// The sigma_w at which chi_1 = 1, found to ~2e-15 relative by a bracketing root finder (TOMS 748)
// on chi_1(sigma_w) - 1. Exact for relu (sqrt 2) and linear (1).
edge_point edge_of_chaos(const Activation& phi, double sigma_b, const maps_options& o = {});
std::vector<edge_point> edge_of_chaos_curve(const Activation& phi, std::span<const double> sigma_b,
                                            const maps_options& o = {}, const run_control& ctl = {});

// The vocabulary of `amari edge`: the activation and one sigma_b or a range of them.
struct edge_params {
  Activation phi{};
  grid_axis sigma_b{.start = 0.3, .stop = 0.3, .count = 1};  // (units of h, >= 0)

  void validate() const;
  static const param_table<edge_params>& table();
};

// ---- The phase diagram ---------------------------------------------------------------------------

struct phase_params {
  Activation phi{};
  grid_axis sigma_w{.start = 0.5, .stop = 4.0, .count = 256};  // (dimensionless)
  grid_axis sigma_b{.start = 0.0, .stop = 1.0, .count = 128};  // (units of h)
  std::int64_t threads = 0;          // OpenMP threads (0: all available); results do not depend on it
  std::int64_t max_points = 100'000'000;  // guard against a mistyped count

  void validate() const;
  static const param_table<phase_params>& table();
};

// Row-major grids of shape (sigma_b.count, sigma_w.count): element [i * n_w + j] belongs to
// sigma_b[i], sigma_w[j]. Undefined values are NaN, infinite depth scales +inf, an undefined
// layers_to_1pct -1, phase the integer value of depth_phase. Every point is computed
// independently, exactly as solve_maps does it, so the grid agrees bit for bit with single points
// and does not depend on the number of threads.
struct phase_diagram {
  std::vector<double> sigma_w, sigma_b;
  std::vector<double> q_star, c_star, chi_1, chi_c, chi_q, xi_c, xi_q;
  std::vector<std::int64_t> layers_to_1pct, phase;
  std::vector<edge_point> edge;  // the edge of chaos at each sigma_b of the grid
};

// Polls ctl between rows of the grid; throws amari::Interrupted when asked to stop.
phase_diagram compute_phase_diagram(const phase_params& p, const maps_options& o = {},
                                    const run_control& ctl = {});

}  // namespace amari
