#pragma once
// The /maps group of `amari maps` (docs/FORMAT.md, "/maps"): the mean-field maps' results at one
// (phi, sigma_w, sigma_b), as scalar datasets, and every fixed point of the length map.
//
//   /maps                 attributes phi, sigma_w, sigma_b (the parameters), phase, c_star_method;
//                         scalars q_star, chi_1, c_star, chi_c, xi_c, chi_q, xi_q, layers_to_1pct
//   /maps/fixed_points    attributes every_q, divergent; fixed_point (scale), q, slope, stability
//
// Undefined values are NaN, infinite depth scales +inf, an undefined layers_to_1pct -1.
#include <vector>

#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/theory/maps.hpp"

namespace amari::layout::maps {

inline constexpr const char* group = "/maps";
inline constexpr const char* fixed_points_group = "/maps/fixed_points";

// The scalar results, in the order of the JSON output of `amari maps`.
inline constexpr const char* q_star = "q_star";
inline constexpr const char* chi_1 = "chi_1";
inline constexpr const char* c_star = "c_star";
inline constexpr const char* chi_c = "chi_c";
inline constexpr const char* xi_c = "xi_c";
inline constexpr const char* chi_q = "chi_q";
inline constexpr const char* xi_q = "xi_q";
inline constexpr const char* layers_to_1pct = "layers_to_1pct";

// Writes /maps and /maps/fixed_points into f (which must not have them).
void write(store::file& f, const maps_params& p, const maps_result& r, const length_fixed_points& fps);

struct record {
  maps_params params;
  maps_result result;  // layers_limit_hit is not recorded (false)
  length_fixed_points fixed_points;
};
// Reads them back; IoError when f holds no /maps.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f).
std::vector<io::summary_entry> summary(store::file& f);

// The results as `amari maps --json` prints them: the parameters, q_star, chi_1, c_star, chi_c,
// xi_c, chi_q, xi_q, layers_to_1pct (null: undefined or infinite) and phase; with `all`, also
// fixed_points [{q, slope, stability}] and every_q_fixed.
io::record to_record(const maps_params& p, const maps_result& r, const length_fixed_points* all = nullptr);

}  // namespace amari::layout::maps
