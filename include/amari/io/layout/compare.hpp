#pragma once
// The /compare group of `amari compare` (docs/FORMAT.md, "/compare"): the time and depth pictures
// of one random network side by side.
//
//   /compare                  attributes: the parameters, phase, depth_phase, chi_1, depth_chi_1,
//                             m_star, q_star, depth_q_star, depth_c_star, seconds
//   /compare/depth            layer; q_map, c_map, lambda_map, q_net(_sem), c_net(_sem), lambda_net(_sem)
//   /compare/time             t; m_ode, q_ode, m_sim(_sem), q_sim(_sem), q2_sim(_sem), c12_sim(_sem)
//   /compare/autocorrelation  tau; C_sim, C_sim_sem            (when the run has C(tau))
//   /compare/dmft             tau; delta                        (chaotic phase)
//   /compare/tied             iteration; m_theory, q_theory, c_theory, m_sim(_sem), q_sim(_sem), c12_sim(_sem)
//   /compare/table            row; name, units, theory, simulation, difference, sem, note, mean_field
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/compare.hpp"

namespace amari::layout::compare {

inline constexpr const char* group = "/compare";
inline constexpr const char* table_group = "/compare/table";

// Writes /compare and its subgroups into f.
void write(store::file& f, const compare_params& p, const compare_result& r);

struct record {
  compare_params params;  // transient as used; threads is not recorded (0)
  compare_result result;
};
// IoError when f holds no /compare.
record read(store::file& f);

// The results as `amari compare --json` prints them: the parameters, phase, chi_1, rows [{name,
// theory, simulation, difference, sem, mean_field, units, note}] (null where a row does not apply).
io::record to_record(const compare_params& p, const compare_result& r);

}  // namespace amari::layout::compare
