#pragma once
// The /network group (docs/FORMAT.md, "/network"): a network's W and b and where they came from.
//
// In the file of `amari network`:
//   /network   attributes: the parameters (n, phi, sigma_w, sigma_b, w0, b0, seed, draw),
//              weights_checksum, bias_checksum; datasets W [N, N] (row i: the inputs of neuron i)
//              and b [N], float64, compressed.
// In the file of `amari simulate` with the user's W or b (--weights, --bias; Python weights=,
// bias=), the provenance that --resume needs:
//   /network   attributes weights_source, bias_source: "drawn", "memory", or the FILE:DATASET (or
//              FILE.npy) it was read from; weights_checksum, bias_checksum (user_network.hpp:
//              "fnv1a64:" and 16 hex digits; for given arrays only); datasets W and/or b when
//              they came from memory (so that the file alone resumes the run).
#include <vector>

#include "amari/io/arrays.hpp"
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"
#include "amari/sim/user_network.hpp"

namespace amari::layout::network {

inline constexpr const char* group = "/network";

// amari network.
void write(store::file& f, const network_draw_params& p, const dense_network& net);
// What `amari network --json` prints: the parameters, weights_checksum, bias_checksum, and the
// empirical w_mean, w_var, b_mean, b_var (means and population variances of the entries).
io::record to_record(const network_draw_params& p, const dense_network& net);
// The summary of `amari inspect`.
std::vector<io::summary_entry> summary(store::file& f);

// A simulation's user network: its provenance (and the arrays that came from memory).
void write_provenance(store::file& f, const user_network& u);
// The user's network of a simulation file, to resume it: arrays stored in the file, or re-read
// from their files, whose checksums must match the recorded ones (InvalidArgument, field weights
// or bias, otherwise). Nothing given (no /network, or both drawn): an empty loaded_network.
// Whether a simulation file's W was the user's (from a file or from memory), not drawn.
bool has_user_weights(store::file& f);
// With `rows`, only those rows of W are read (the rows of an MPI rank); its checksum is then that
// of the whole file read in blocks, and checked only when `verify` (by one rank of a job).
loaded_network read_provenance(store::file& f, row_range rows = {}, bool verify = true);

}  // namespace amari::layout::network
