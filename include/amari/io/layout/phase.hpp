#pragma once
// The /phase group of `amari phase` (docs/FORMAT.md, "/phase"): the maps' results on a
// (sigma_b, sigma_w) grid and the edge of chaos at each sigma_b.
//
//   /phase   attributes phi, sigma_w_range, sigma_b_range, critical_band; scales sigma_w, sigma_b;
//            grids [sigma_b, sigma_w] q_star, c_star, chi_1, chi_c, chi_q, xi_c, xi_q,
//            layers_to_1pct, phase (flag_meanings); edge_sigma_w, edge_q_star [sigma_b]
#include <vector>

#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/theory/maps.hpp"

namespace amari::layout::phase {

inline constexpr const char* group = "/phase";
inline constexpr const char* phase = "phase";
inline constexpr const char* flag_meanings = "ordered critical chaotic divergent";  // of depth_phase's values
inline constexpr const char* edge_sigma_w = "edge_sigma_w";
inline constexpr const char* edge_q_star = "edge_q_star";

void write(store::file& f, const phase_params& p, const phase_diagram& d);

struct record {
  phase_params params;  // threads is not recorded (0)
  phase_diagram diagram;
};
// IoError when f holds no /phase.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f).
std::vector<io::summary_entry> summary(store::file& f);

}  // namespace amari::layout::phase
