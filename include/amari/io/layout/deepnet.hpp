#pragma once
// The /deepnet group of `amari deepnet` (docs/FORMAT.md, "/deepnet"): finite-width random deep
// nets beside the mean-field maps.
//
//   /deepnet   attributes: the parameters (phi, sigma_w, sigma_b, n, layers, nets, q0, c0, inputs,
//              seed; widths is the scale width)
//              and the maps' q_star, c_star, chi_1, phase;
//              scales layer, net; per network [net, layer] q1, q2, c, lambda; per layer
//              <x>_mean, <x>_sem for x in q1, q2, c, lambda; q_map, c_map, lambda_map;
//              the maps as curves: q_grid, V [q_grid], c_grid, C [c_grid] (attributes q_c,
//              q_c_is_fixed_point);
//              with a width sweep (parameter widths): the scale width and [width, layer] var_q,
//              kurtosis, mean_shift, c_shift (measured), each with <x>_sem and theory_<x>; the
//              per-network arrays and their means are then those of the last width
#include <span>

#include <vector>

#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/sim/deepnet.hpp"

namespace amari::layout::deepnet {

inline constexpr const char* group = "/deepnet";

// A dataset of deepnet_result: its name (also its JSON key), description and units.
struct array_field {
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> deepnet_result::*member;
};
std::span<const array_field> per_layer();  // over `layer`: q1_mean, q1_sem, ..., q_map, c_map, lambda_map
std::span<const array_field> per_net();    // over (`net`, `layer`): q1, q2, c, lambda

void write(store::file& f, const deepnet_params& p, const deepnet_result& r);

struct record {
  deepnet_params params;  // threads is not recorded (0)
  deepnet_result result;  // fixed: q_star, c_star, chi_1 and phase only
};
// IoError when f holds no /deepnet.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f).
std::vector<io::summary_entry> summary(store::file& f);

// The results as `amari deepnet --json` prints them: the parameters, layer, and every per-layer array
// (per_layer()).
io::record to_record(const deepnet_params& p, const deepnet_result& r);

}  // namespace amari::layout::deepnet
