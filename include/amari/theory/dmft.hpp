#pragma once
// The stationary dynamic mean-field theory of the chaotic rate network (w0 = 0)
//
//   dh_i/dt = -h_i + sum_j J_ij phi(h_j) + b_i,   J_ij ~ N(0, sigma_w^2 / N),  b_i ~ N(0, sigma_b^2)
//
// (H. Sompolinsky, A. Crisanti and H.-J. Sommers, Phys. Rev. Lett. 61, 259 (1988); M. Helias and
// D. Dahmen, "Statistical field theory for neural networks", Lecture Notes in Physics 970 (2020)).
// For N -> infinity each h_i is a Gaussian process whose stationary autocorrelation
// Delta(tau) = <h(t) h(t + tau)> obeys
//
//   Delta''(tau) = Delta - sigma_w^2 E[phi(x1) phi(x2)] - sigma_b^2 = -dV/dDelta,
//   V(Delta; Delta_0) = -Delta^2 / 2 + sigma_w^2 E[Phi(x1) Phi(x2)] + sigma_b^2 Delta,
//
// (x1, x2) centred Gaussian with variances Delta_0 = Delta(0) and covariance Delta, Phi' = phi
// (Price's theorem: d/dDelta E[Phi(x1) Phi(x2)] = E[phi(x1) phi(x2)]). Delta(tau) is the motion of
// a particle in V that starts at rest at Delta_0 and creeps up to the hilltop Delta_inf (the
// smallest root of V' on [0, Delta_0]; 0 when sigma_b = 0 and phi is odd) as tau -> infinity:
//
//   V(Delta_0; Delta_0) = V(Delta_inf; Delta_0),     V'(Delta_inf; Delta_0) = 0.
//
// The maximal Lyapunov exponent follows from the tangent dynamics' autocorrelation
// <dh(t) dh(s)> = exp(lambda (t + s)) chi(t - s), whose equation of motion is the Schroedinger
// problem
//
//   [-d^2/dtau^2 - sigma_w^2 E[phi'(x1) phi'(x2)](Delta(tau))] chi = E chi,   lambda = sqrt(-E_0) - 1
//
// with E_0 the ground state; Delta'(tau) is the exact eigenfunction with E = -1 (lambda = 0), the
// time-translation mode. docs/dmft.md has the derivations and how each number is checked.
#include <optional>
#include <string>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/control.hpp"
#include "amari/core/params.hpp"

namespace amari {

// The theory sees the network through the shared model parameters (core/params.hpp) with
// w0 = b0 = 0: phi, J_ij ~ N(0, sigma_w^2 / N), b_i ~ N(0, sigma_b^2).

struct dmft_settings {
  double tau_max = 30.0;  // last output lag (units of the leak time constant)
  double dt_out = 0.1;    // output spacing in tau
  bool lyapunov = true;   // also compute the maximal Lyapunov exponent

  void validate() const;
};

// The vocabulary of `amari dmft`: the model (with the time picture's defaults) and the settings.
struct dmft_params {
  model_params model = defaults::time;
  dmft_settings settings;

  void validate() const;  // model.validate(), w0 = b0 = 0, settings.validate()
  static const param_table<dmft_params>& table();
};

// The potential and its first two derivatives in Delta, at fixed Delta_0 (> 0, |Delta| <= Delta_0).
double dmft_potential(const model_params& p, double delta, double delta_0);
double dmft_dpotential(const model_params& p, double delta, double delta_0);
double dmft_d2potential(const model_params& p, double delta, double delta_0);

// The static solution: q* = sigma_w^2 E[phi(sqrt(q*) z)^2] + sigma_b^2, the positive root when
// there is one (the depth map's fixed point); nullopt when it does not exist (an unbounded
// activation whose variance grows without bound).
std::optional<double> static_variance(const model_params& p);

// The hilltop Delta_inf of V(.; Delta_0) on [0, Delta_0], if V has one there.
std::optional<double> dmft_hilltop(const model_params& p, double delta_0);

struct dmft_stationary {
  bool chaotic = false;   // a time-dependent (chaotic) solution exists
  double delta_0 = 0;     // Delta(0): the variance of h
  double delta_inf = 0;   // Delta(infinity): the static part of the autocorrelation
  double q_static = 0;    // the static solution q* (the depth map's fixed point)
  double chi_1 = 0;       // sigma_w^2 E[phi'(sqrt(q*) z)^2] at the static solution
  std::string message;    // why there is no chaotic solution (empty when chaotic)
};

// Solves the two conditions for (Delta_0, Delta_inf) by bracketing (bisection to find a bracket,
// then TOMS 748). Below the transition (chi_1 <= 1) there is no chaotic solution and the static one
// (Delta == q*) is returned with a message saying so. Throws NumericalError when the static
// solution does not exist either.
dmft_stationary solve_dmft_stationary(const model_params& p);

struct dmft_trajectory {
  std::vector<double> tau, delta;
  double decay_time = 0;  // tau where Delta - Delta_inf = (Delta_0 - Delta_inf) / 2
  // |Delta'^2 / 2 - (V(Delta_inf) - V(Delta))| where the integration changes form (a consistency
  // check of the separatrix: should be ~1e-12)
  double energy_mismatch = 0;
};

// Delta(tau) on tau = 0, dt, ..., tau_max (tau_max included) for a chaotic solution: the
// second-order equation of motion from rest at Delta_0 (where the energy relation is singular) up
// to tau_s, where Delta has fallen by 10-30% of Delta_0 - Delta_inf, and from there the
// first-order energy relation Delta' = -sqrt(2 (V(Delta_inf) - V(Delta))), which has Delta_inf as
// an attracting fixed point and cannot overshoot it (the second-order equation would leave the
// separatrix exponentially). E[phi phi] and E[phi' phi'] are Chebyshev interpolants in the angle
// arccos(Delta / Delta_0) (64 nodes, checked to converge); both integrations use an adaptive
// Runge-Kutta-Fehlberg 7(8) stepper at rtol 1e-12.
dmft_trajectory integrate_dmft(const model_params& p, const dmft_stationary& s, double tau_max, double dt);

struct dmft_lyapunov_result {
  double lambda_max = 0;   // sqrt(-E_0) - 1
  double ground_energy = 0;  // E_0 (even sector)
  double odd_energy = 0;     // the lowest odd-sector eigenvalue: -1 exactly (the Delta' mode)
  double extent = 0;         // the half-line [0, extent] on which the problem was solved
};

// The maximal Lyapunov exponent of the chaotic solution: Numerov's method on a uniform grid of step
// 1/64 and 1/32 (Richardson-extrapolated) with the exact decaying solution beyond the extent,
// ground state by bisection on the node count (Sturm). For a non-chaotic solution, the static
// state's -1 + sqrt(chi_1) (the rightmost edge of the circular bulk of -1 + J diag(phi')).
dmft_lyapunov_result dmft_lyapunov(const model_params& p, const dmft_stationary& s);

struct dmft_transition {
  double sigma_w = 0;  // where the chaotic solution branches off the static one
  double q_static = 0; // q* there
};

// The transition at this sigma_b, from the DMFT: the chaotic solution bifurcates from the static
// one (Delta == q*) where the valley of V between hilltop and Delta_0 vanishes, i.e. where q* is a
// double root of V'(.; q*): V'(q*; q*) = 0 and V''(q*; q*) = 0, solved to 1e-12 by TOMS 748 in
// sigma_w. nullopt for an unbounded activation (no chaos) or none below sigma_w = 1e3.
std::optional<dmft_transition> dmft_transition_point(const Activation& phi, double sigma_b);

// The depth map's edge of chaos at this sigma_b: chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = 1 with
// q* the fixed point of q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2 (Poole et al. 2016), from
// one-point expectations only.
std::optional<double> depth_map_edge_of_chaos(const Activation& phi, double sigma_b);

struct dmft_result {
  dmft_stationary stationary;
  dmft_trajectory trajectory;           // constant Delta == q* when not chaotic
  std::optional<double> decay_time;     // none when not chaotic
  std::optional<double> lyapunov;       // when settings.lyapunov
  std::optional<dmft_transition> transition;
  std::optional<double> edge_of_chaos;  // the depth map's, for comparison
};

dmft_result solve_dmft(const model_params& p, const dmft_settings& s, const run_control& control = {});

}  // namespace amari
