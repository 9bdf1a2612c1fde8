#pragma once
// Amari's order-parameter equations for the random rate network
//
//   dh_i/dt = -h_i + sum_j J_ij phi(h_j) + b_i,   J_ij ~ N(w0 / N, sigma_w^2 / N),  b_i ~ N(b0, sigma_b^2)
//
// in the mean-field (annealed) description, where h is Gaussian with mean m and variance q:
//
//   dm/dt = -m + w0 E[phi(x)] + b0                                   x = sqrt(q) z + m, z ~ N(0, 1)
//   dq/dt = 2 ( -q + sigma_w^2 E[phi(x)^2] + sigma_b^2 )
//
// (S. Amari, "Characteristics of random nets of analog neuron-like elements", IEEE Trans. Syst. Man
// Cybern. 2, 643 (1972); written as in section 4.1.2 of the deep mean-field notes this project grew
// from). The fixed points solve the right-hand side = 0 by Newton's method with the analytic
// Jacobian (Gaussian integration by parts, d/dq E[f(x)] = E[f''(x)] / 2, d/dm E[f(x)] = E[f'(x)]):
//
//   J = [ -1 + w0 E[phi']              w0 E[phi''] / 2                 ]
//       [ 4 sigma_w^2 E[phi phi']      2 (-1 + sigma_w^2 E[phi'^2 + phi phi'']) ]
//
// With w0 = b0 = 0 the q-equation's fixed point is the depth map's q* (Poole et al. 2016). Whether
// that static state is what the network does is a different question: the static solution of the
// network is linearly stable only while chi_1 = sigma_w^2 E[phi'(x)^2] < 1 (the bulk of the
// spectrum of J diag(phi'(h)) has radius sqrt(chi_1)); beyond, the network is chaotic and its
// variance is the DMFT's Delta_0 (amari/theory/dmft.hpp), not q*. docs/meanfield.md has the details.
#include <array>
#include <complex>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/control.hpp"
#include "amari/core/params.hpp"

namespace amari {

// The equations see the network through the shared model parameters (core/params.hpp):
// phi, J_ij ~ N(w0 / N, sigma_w^2 / N), b_i ~ N(b0, sigma_b^2).

// How to integrate and where to report.
struct meanfield_settings {
  double m0 = 0.0;            // initial mean of h
  double q0 = 1.0;            // initial variance of h (>= 0)
  double t_end = 20.0;        // last output time (units of the leak time constant), used with dt_out
  double dt_out = 0.1;        // output spacing when `times` is empty
  std::vector<double> times;  // explicit output times (>= 0, increasing); overrides t_end/dt_out
  double rtol = 1e-11;        // relative tolerance of the adaptive stepper
  double atol = 1e-13;        // absolute tolerance of the adaptive stepper

  void validate() const;
  // The output times: `times` if given, else 0, dt_out, 2 dt_out, ..., t_end (t_end included).
  std::vector<double> output_times() const;
};

// The vocabulary of `amari meanfield`: the model (with Amari's-ODE defaults) and the settings.
struct meanfield_params {
  model_params model = defaults::meanfield;
  meanfield_settings settings;

  void validate() const;
  static const param_table<meanfield_params>& table();
};

// The right-hand side as an odeint system: state = (m, q).
using meanfield_state = std::array<double, 2>;
class amari_ode {
 public:
  explicit amari_ode(const model_params& p) : p_(p) {}
  void operator()(const meanfield_state& x, meanfield_state& dxdt, double t) const;

 private:
  model_params p_;
};

// The Jacobian d(dm/dt, dq/dt) / d(m, q) at (m, q), row-major.
std::array<double, 4> meanfield_jacobian(const model_params& p, double m, double q);

struct meanfield_fixed_point {
  double m = 0, q = 0;
  std::array<std::complex<double>, 2> eigenvalues;  // of the Jacobian, by ascending real part
  bool stable = false;       // both eigenvalues with negative real part
  double chi_1 = 0;          // sigma_w^2 E[phi'(x)^2]: the network's static state is unstable if > 1
  bool network_stable = false;  // stable in the ODE and chi_1 < 1
};

// Classifies (m, q), which must be a fixed point, by its Jacobian and chi_1.
meanfield_fixed_point classify_fixed_point(const model_params& p, double m, double q);

// All fixed points, sorted by m then q. Newton's method from every cell of a 41 x 41 grid over a
// box that contains every fixed point (bounded activations: |m - b0| <= |w0|, q <= sigma_w^2 +
// sigma_b^2) in which both components of the right-hand side change sign, plus a coarse set of
// starts; converged points are deduplicated. A fixed point whose nullclines cross tangentially
// (a saddle-node bifurcation) can be missed. For unbounded activations (relu, linear) the box is
// the a-priori bound when sigma_w^2 + w0^2 < 1 and otherwise a heuristic one.
std::vector<meanfield_fixed_point> find_fixed_points(const model_params& p);

// Refines an approximate fixed point by damped Newton; nullopt if it does not converge.
std::optional<std::array<double, 2>> newton_fixed_point(const model_params& p, double m, double q);

struct meanfield_result {
  std::vector<double> t, m, q;
  std::vector<meanfield_fixed_point> fixed_points;
  // Index into fixed_points of the one the trajectory from (m0, q0) converges to (found by
  // continuing the integration past the last output time until it settles), or none when it does
  // not settle (e.g. q grows without bound for an unbounded activation).
  std::optional<std::size_t> final_fixed_point;
};

// Integrates from (m0, q0) with an adaptive Runge-Kutta-Fehlberg 7(8) stepper that lands exactly on
// every output time, finds all fixed points and the one reached. Polls `control` after each output
// sample (throws Interrupted when asked to stop).
meanfield_result solve_meanfield(const model_params& p, const meanfield_settings& s,
                                 const run_control& control = {});

// The plain-language note for a fixed point that the ODE reaches (or calls stable) but that the
// network cannot hold because chi_1 > 1; empty when there is none.
std::string meanfield_network_note(const model_params& p, const meanfield_result& r);

}  // namespace amari
