#pragma once
// Writing the mean-field theories into amari files (docs/FORMAT.md, "/meanfield" and "/dmft"):
//
//   /meanfield  Amari's order-parameter ODEs (amari/theory/meanfield.hpp)
//                 dm/dt = -m + w0 E[phi(x)] + b0,  dq/dt = 2 (-q + sigma_w^2 E[phi(x)^2] + sigma_b^2),
//               x = sqrt(q) z + m: m(t), q(t) at the output times and every fixed point;
//   /dmft       the SCS stationary dynamic mean-field theory (amari/theory/dmft.hpp; Sompolinsky, Crisanti
//               and Sommers, PRL 61, 259 (1988)): Delta(tau) and its characteristic numbers.
//
// One writer per group, used by `amari meanfield` and `amari dmft` for their own files and by
// `amari simulate`, which writes both theories at the parameters of the simulated network next to
// its measurements (write_simulate_theory), so that the layout is the same in both files.
#include <string>

#include "amari/theory/dmft.hpp"
#include "amari/theory/meanfield.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/io/store.hpp"

namespace amari {

// The plain-language note for a fixed point that the ODE reaches (or calls stable) but that the
// network cannot hold because chi_1 > 1; empty when there is none.
std::string meanfield_network_note(const meanfield_params& p, const meanfield_result& r);

// Writes the group /meanfield (attributes, t, m, q, fixed_points/...) into f. Refuses (store
// error) when it exists.
void write_meanfield_group(store::file& f, const meanfield_params& p, const meanfield_settings& s,
                           const meanfield_result& r, const std::string& note);

// Writes the group /dmft (attributes, tau, delta) into f.
void write_dmft_group(store::file& f, const dmft_params& p, const dmft_result& r);

// What write_simulate_theory did: for each group, written or the reason why not.
struct simulate_theory_status {
  bool meanfield = false, dmft = false;
  std::string meanfield_skipped, dmft_skipped;  // why not (empty when written)
};

// The theories of a simulation at its parameters, into the simulation's file:
//  - /meanfield: solve_meanfield from (m0, q0) (the initial statistics of h), at the sample times
//    t_k = k dt_out, k = 0 .. samples() - 1, with the meanfield library's default tolerances;
//  - /dmft (only when w0 = 0 and b0 = 0, the DMFT's setting): solve_dmft on the lags of C(tau),
//    0, dt_out, .., (acf_lags() - 1) dt_out (when the run has no C(tau): 0 .. 20 in steps of
//    dt_out), with the Lyapunov exponent; below the transition its static answer Delta = q*.
// Neither applies to --stepper map (a discrete-time network: its theory is the length map of
// amari maps). A theory that throws (no fixed point, no static solution, ...) writes no group.
// For each group not written, /trajectory gets the attribute `meanfield_skipped` or
// `dmft_skipped` with the reason. Only store errors propagate.
simulate_theory_status write_simulate_theory(store::file& f, const simulate_params& p, double m0, double q0);

}  // namespace amari
