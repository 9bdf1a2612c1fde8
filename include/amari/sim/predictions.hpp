#pragma once
// The mean-field theories at a simulation's parameters, which `amari simulate` writes next to its
// measurements (/meanfield and /dmft, in the layouts of `amari meanfield` and `amari dmft`):
//
//  - Amari's order-parameter ODEs (theory/meanfield.hpp) from (m0, q0), the initial statistics of
//    h, at the sample times t_k = k dt_out, k = 0 .. samples() - 1, with the meanfield library's
//    default tolerances;
//  - the SCS DMFT (theory/dmft.hpp), only when w0 = 0 and b0 = 0 (its setting), on the lags of
//    C(tau), 0, dt_out, .., (acf_lags() - 1) dt_out (when the run has no C(tau): 0 .. 20 in steps
//    of dt_out), with the Lyapunov exponent; below the transition its static answer Delta = q*.
//
// Neither applies to --stepper map (a discrete-time network: its theory is the length map of
// amari maps). A theory that fails (no fixed point, no static solution, ...) is left out, with
// the reason.
//
// With the user's own W or b (user_network.hpp), which the theories do not describe, they are
// solved at the empirical moments of the given arrays (measure_model): w0 = N mean(W),
// sigma_w^2 = N var(W), b0 = mean(b), sigma_b^2 = var(b); `model_note` says so. The DMFT, which
// treats w0 = b0 = 0, then takes a measured mean as 0 when it is within 3 standard errors of 0
// (of N mean(W): sigma_w / sqrt(N); of mean(b): sigma_b / sqrt(N)), as for a W drawn with w0 = 0,
// and says so in the note; a larger mean leaves it out.
#include <optional>
#include <string>

#include "amari/sim/simulate.hpp"
#include "amari/sim/user_network.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/theory/meanfield.hpp"

namespace amari {

struct simulation_predictions {
  meanfield_params meanfield_setup;            // as solved (model, m0, q0, the sample times)
  std::optional<meanfield_result> meanfield;   // none: see meanfield_skipped
  std::string meanfield_note;                  // meanfield_network_note (empty: none)
  std::string meanfield_skipped;               // why there is no meanfield (empty when there is)
  dmft_params dmft_setup;
  std::optional<dmft_result> dmft;
  std::string dmft_skipped;
  std::string model_note;                      // empty: the run's own (drawn) W and b
};

// The theories for a run with parameters p whose initial state has mean m0 and variance q0 (the
// drawn N(m0, q0), or the measured statistics of a given initial state).
// `u`: the user's network, if any.
simulation_predictions predict_simulation(const simulate_params& p, double m0, double q0,
                                          const user_network* u = nullptr);

}  // namespace amari
