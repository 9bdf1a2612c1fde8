#pragma once
// The /meanfield group (docs/FORMAT.md, "/meanfield"): Amari's order-parameter ODEs
// (amari/theory/meanfield.hpp), written by `amari meanfield` into its own file and by
// `amari simulate` next to its measurements, in the same layout.
//
//   /meanfield                attributes: the parameters (phi, w0, b0, sigma_w, sigma_b, m0, q0,
//                             t_end, dt_out, rtol, atol), final_fixed_point (-1: none), note;
//                             t (scale), m [t], q [t]
//   /meanfield/fixed_points   fixed_point, eigenvalue (scales); m, q, chi_1, stable,
//                             network_stable [fixed_point]; eigenvalues_real, _imag [fixed_point, eigenvalue]
#include <string>

#include <vector>

#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/theory/meanfield.hpp"

namespace amari::layout::meanfield {

inline constexpr const char* group = "/meanfield";
inline constexpr const char* fixed_points_group = "/meanfield/fixed_points";
inline constexpr const char* final_fixed_point = "final_fixed_point";  // attribute: index, -1 for none
inline constexpr const char* note = "note";                            // attribute, when there is one

// `note_text`: meanfield_network_note(p.model, r) (empty: none).
void write(store::file& f, const meanfield_params& p, const meanfield_result& r, const std::string& note_text);

struct record {
  meanfield_params params;  // settings.times are the t of the file
  meanfield_result result;
  std::string note;
};
// IoError when f holds no /meanfield.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f).
std::vector<io::summary_entry> summary(store::file& f);

// The results as `amari meanfield --json` prints them: the parameters (but the output times, which
// are t), t, m, q, fixed_points [{m, q, eigenvalues [[re, im], [re, im]], stable, chi_1,
// network_stable}], final_fixed_point (null: none), note (null: none).
io::record to_record(const meanfield_params& p, const meanfield_result& r, const std::string& note_text);

}  // namespace amari::layout::meanfield
