#pragma once
// The /dmft group (docs/FORMAT.md, "/dmft"): the SCS stationary dynamic mean-field theory
// (amari/theory/dmft.hpp), written by `amari dmft` into its own file and by `amari simulate` next
// to its measurements, in the same layout.
//
//   /dmft   attributes: the parameters (phi, sigma_w, sigma_b, tau_max, dt_out) and chaotic,
//           delta_0, delta_inf, q_static, chi_1, decay_time, lyapunov, transition_sigma_w,
//           edge_of_chaos_sigma_w (when defined), message (when not chaotic);
//           tau (scale), delta [tau]
#include <vector>

#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/theory/dmft.hpp"

namespace amari::layout::dmft {

inline constexpr const char* group = "/dmft";

void write(store::file& f, const dmft_params& p, const dmft_result& r);

struct record {
  dmft_params params;
  dmft_result result;  // transition: sigma_w only
};
// IoError when f holds no /dmft.
record read(store::file& f);

// The summary of `amari inspect` (io/summary.hpp), from read(f).
std::vector<io::summary_entry> summary(store::file& f);

// The results as `amari dmft --json` prints them: the parameters, chaotic, delta_0, delta_inf, tau,
// delta, decay_time, lyapunov, q_static, chi_1, message (null when chaotic), transition {sigma_w,
// edge_of_chaos_sigma_w, coincide}.
io::record to_record(const dmft_params& p, const dmft_result& r);
// Whether the DMFT's transition and the depth map's edge of chaos are the same sigma_w (to 1e-9).
bool transition_at_edge(const dmft_result& r);

}  // namespace amari::layout::dmft
