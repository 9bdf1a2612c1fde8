#pragma once
// The time and depth pictures of one random network, side by side (docs/compare.md).
//
// For one (phi, sigma_w, sigma_b, w0, b0):
//
//   depth, untied   h^l = W^l phi(h^{l-1}) + b^l      fresh W^l_ij ~ N(0, sigma_w^2/N), b^l ~ N(0, sigma_b^2)
//                   against the maps q^l = V(q^{l-1}), c^l = C(c^{l-1}) (Poole et al. 2016;
//                   Schoenholz et al. 2017; amari/theory/maps.hpp, amari/sim/deepnet.hpp)
//   time, tied      dh/dt = -h + W phi(h) + b          W_ij ~ N(w0/N, sigma_w^2/N), b_i ~ N(b0, sigma_b^2)
//                   against Amari's order-parameter ODE (Amari 1972; amari/theory/meanfield.hpp) and, in
//                   the chaotic phase, the SCS dynamic mean-field theory (Sompolinsky, Crisanti &
//                   Sommers 1988; amari/theory/dmft.hpp)
//   discrete, tied  h(t+1) = W phi(h(t)) + b          (a deep net with tied weights) against the
//                   mean-field map m' = w0 E[phi(x)] + b0, q' = sigma_w^2 E[phi(x)^2] + sigma_b^2,
//                   x ~ N(m, q), which is the depth map when w0 = b0 = 0
//
// and the quantities that tie them (one row each, theory against measurement, docs/compare.md
// derives each prediction and its order in 1/N):
//
//   static_variance   stationary population variance q of the ODE network   vs q* (ordered phase)
//   static_mean       stationary population mean m                          vs m* (ordered phase)
//   lyapunov_time     maximal Lyapunov exponent of dh/dt  vs -1 + max(sqrt(chi_1), w0 E[phi'])
//                     (ordered: circular law + rank-one outlier) or the DMFT's (chaotic)
//   delta_0           stationary second moment <h^2>                         vs SCS Delta_0 (chaotic)
//   replica_overlap   stationary replica correlation c_12                    vs 1 (ordered phase)
//   decay_time        lag where C(tau) = C(0) / 2              vs the DMFT's (chaotic, odd phi, sigma_b = 0)
//   depth_variance    untied deep net's q at the last layer                  vs the length map's q^L
//   depth_lambda      untied deep net's per-layer growth of a perturbation   vs (1/2) ln chi_1
//   tied_variance     tied discrete net's stationary q                        vs the map's fixed point
//   tied_correlation  tied discrete net's stationary replica correlation     vs c*
//   tied_lambda       tied discrete net's Lyapunov exponent per iteration    vs (1/2) ln chi_1
//
// and the finite-width rows (the untied deep net at layer L against amari/theory/finite.hpp: the
// theory carries the 1/n corrections, the row's mean_field holds the infinite-width value beside it):
//
//   finite_mean_q     mean over nets of q^L = |h^L|^2 / N        vs K^L + G1^L / N     (mean field K^L)
//   finite_var_q      variance over nets of q^L                  vs (2 K^2 + V) / N    (mean field 0)
//   finite_kurtosis   excess kurtosis of h^L_i over nets, neurons vs 3 V / (K^2 N)     (mean field 0)
//   finite_mean_c     mean over nets of c^L                      vs c^L + c_shift / N  (mean field c^L)
//
// Rows that do not apply in the phase at hand have no numbers and say why in their note.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/control.hpp"
#include "amari/core/params.hpp"

namespace amari {

struct compare_params {
  model_params model = defaults::time;  // phi, sigma_w, sigma_b, and w0, b0 (time pictures only;
                                        // the untied deep net has zero-mean weights and biases)
  double q0 = 1.0;              // second moment of the inputs / initial states (units of h^2, > 0)
  double c0 = 0.5;              // correlation of the two inputs / of replica 0 with the others (-1, 1)
  std::int64_t n = 1000;        // width N of every network (>= 2)
  std::int64_t layers = 30;     // depth L of the untied deep net (>= 1)
  std::int64_t nets = 8;        // independent untied deep nets (>= 2: standard errors)
  std::int64_t replicas = 2;    // initial conditions sharing W and b (>= 2: replica overlap)
  std::int64_t draws = 4;       // independent (W, b) of the time pictures (>= 2: standard errors)
  double t_end = 50.0;          // duration of the continuous-time run (leak time constants)
  double dt_out = 0.1;          // its sampling interval (leak time constants)
  double transient = -1.0;      // start of its stationary window; < 0: t_end / 4
  std::int64_t iterations = 60; // iterations of the tied discrete-time net (>= 4); window: 2nd half
  std::int64_t seed = 1;        // random seed (>= 0)
  std::int64_t threads = 0;     // threads (0: all cores); results do not depend on it

  void validate() const;  // throws InvalidArgument naming the field
  double transient_time() const { return transient < 0 ? t_end / 4 : transient; }
  static const param_table<compare_params>& table();  // the vocabulary of `amari compare`
};

// One row of the table. Undefined entries (a row that does not apply) are nullopt.
struct compare_row {
  std::string name;                   // identifier (snake_case), the list in the header comment
  std::string units;                  // of theory, simulation, difference, sem ("" dimensionless)
  std::optional<double> theory;       // the mean-field prediction
  std::optional<double> simulation;   // the measurement (mean over draws or nets)
  std::optional<double> difference;   // simulation - theory
  std::optional<double> sem;          // standard error of the measurement
  std::string note;                   // how each side is defined, or why the row does not apply
  std::optional<double> mean_field;   // the finite_* rows: the infinite-width value (theory is then
                                      // the 1/N-corrected prediction); nullopt for the other rows
  bool applies() const { return theory && simulation; }
};

// The time pictures' phase, classified at Amari's fixed point (m*, q*) reached from (0, q0):
//   ordered    the fixed point is stable in the ODE and chi_1 < 1 (the network's static state is
//              linearly stable)
//   critical   |chi_1 - 1| < critical_band (1e-9, amari/theory/maps.hpp)
//   chaotic    chi_1 > 1
//   unstable   chi_1 < 1 but the fixed point is unstable in the ODE (reached only along its stable
//              manifold, e.g. m = 0 kept by symmetry while w0 E[phi'] > 1 would move m away)
//   unbounded  the ODE reaches no fixed point (no stationary state)
enum class time_phase { ordered, critical, chaotic, unstable, unbounded };
inline constexpr time_phase all_time_phases[] = {time_phase::ordered, time_phase::critical, time_phase::chaotic,
                                                 time_phase::unstable, time_phase::unbounded};
std::string_view to_string(time_phase p);

struct compare_result {
  // The pictures' phases: the time picture's from chi_1 at Amari's fixed point (m*, q*) reached
  // from (0, q0), the depth picture's from the maps (they agree when w0 = b0 = 0).
  std::string phase;        // to_string(time_phase): "ordered", "critical", "chaotic", "unstable" or "unbounded"
  std::string depth_phase;  // to_string(depth_phase) of amari/theory/maps.hpp: "ordered", "critical",
                            // "chaotic" or "divergent"
  double chi_1 = 0;                  // sigma_w^2 E[phi'(x)^2] at (m*, q*) (time pictures)
  double depth_chi_1 = 0;            // the maps' chi_1 at q* (untied deep net)
  std::optional<double> m_star, q_star;  // Amari's fixed point reached from (0, q0)
  std::optional<double> depth_q_star, depth_c_star;

  // Depth (untied deep net vs maps), l = 0..L.
  std::vector<double> layer, q_map, c_map, lambda_map;
  std::vector<double> q_net, q_net_sem, c_net, c_net_sem, lambda_net, lambda_net_sem;

  // Continuous time: Amari's ODE and the simulation on the same times t.
  std::vector<double> t, m_ode, q_ode;
  std::vector<double> m_sim, m_sim_sem, q_sim, q_sim_sem, q2_sim, q2_sim_sem, c12_sim, c12_sim_sem;
  // Stationary autocorrelation of the simulation and, in the chaotic phase, the DMFT's Delta(tau).
  std::vector<double> tau, acf_sim, acf_sim_sem;
  std::vector<double> tau_dmft, delta_dmft;

  // Discrete time with tied weights: iteration k = 0..iterations, the mean-field map's m, q
  // (the depth map when w0 = b0 = 0) and c (the correlation map; NaN unless w0 = b0 = 0).
  std::vector<double> iteration, m_tied_theory, q_tied_theory, c_tied_theory;
  std::vector<double> m_tied, m_tied_sem, q_tied, q_tied_sem, c12_tied, c12_tied_sem;

  std::vector<compare_row> rows;
  double seconds = 0;  // wall time
};

// Runs all pictures (progress over the whole; polls ctl and throws amari::Interrupted when asked
// to stop). Throws InvalidArgument for bad parameters (also the memory guard of the simulations).
compare_result run_compare(const compare_params& p, const run_control& ctl = {});


// The mean-field map of the tied discrete-time net from (m0, q0): k = 0..iterations.
struct tied_trajectory {
  std::vector<double> m, q;
};
tied_trajectory iterate_tied_map(const model_params& model, double m0, double q0, std::int64_t iterations);

}  // namespace amari
