#pragma once
// The /finite group of `amari finite` (docs/FORMAT.md, "/finite"): the 1/n corrections of deep
// random networks (amari/theory/finite.hpp), all theory.
//
//   /finite    attributes: the parameters (phi, sigma_w, sigma_b, q0, c0, inputs, layers);
//              scale layer; per layer K, V, G1, chi_par, var_q, kurtosis, mean_shift (input 1) and
//              K12, c, G1_12, V_11_12, V_11_22, V_12_12, cov_q11_q12, cov_q11_q22, var_q12,
//              c_shift (two inputs)
#include <span>
#include <vector>

#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/theory/finite.hpp"

namespace amari::layout::finite {

inline constexpr const char* group = "/finite";

// A dataset of finite_result over `layer`: its name (also its JSON key), description and units.
struct array_field {
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> finite_result::*member;
};
std::span<const array_field> per_layer();

void write(store::file& f, const finite_params& p, const finite_result& r);

struct record {
  finite_params params;
  finite_result result;
};
// IoError when f holds no /finite.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f): the last layer's K, var_q,
// kurtosis, mean_shift and c_shift.
std::vector<io::summary_entry> summary(store::file& f);

// The results as `amari finite --json` prints them: the parameters, layer (0..L) and every
// per-layer array (per_layer()).
io::record to_record(const finite_params& p, const finite_result& r);

}  // namespace amari::layout::finite
