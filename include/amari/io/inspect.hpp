#pragma once
// `amari inspect FILE`: what an amari HDF5 file holds -- its root attributes, the tree of groups
// and datasets (type, shape, named dimensions, attributes) and a short summary of each product
// (final values of every time series, scalar results, counts of labelled grid points, the
// checkpoint), as text for people and JSON for scripts. Reads the file through the store only
// (include/amari/io/store.hpp); the layout is docs/FORMAT.md.
#include <optional>
#include <string>
#include <vector>

#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"

namespace amari::inspect {

// The summary of a group starts with what its product is about (docs/FORMAT.md, "amari inspect"):
// simulate: m and q at t_end with their ensemble standard errors beside the mean-field ODE, the
// Lyapunov exponents +- SE beside the DMFT's, the stationary averages beside Delta_0 and q*;
// meanfield: the fixed point reached; dmft: Delta_0, Delta_inf, decay time, lambda_max; maps: the
// phase; phase: points per phase and the sigma_w range of the edge of chaos; deepnet: q and c at
// the last layer, networks +- SE beside the maps; finite: the last layer's K, var_q, kurtosis,
// mean_shift, c_shift. Then the generic part: final values of every
// time series, scalar datasets, counts of label datasets.
//
// One line of a product's summary: a number (NaN when undefined) with its units, or a text.
using io::summary_entry;

struct product_summary {
  std::string group;  // "/trajectory"
  std::vector<summary_entry> entries;
};

struct report {
  std::string path;
  std::vector<store::attribute> root;           // root attributes
  std::vector<store::object_info> objects;      // every group and dataset below the root, depth first
  std::vector<product_summary> products;        // one per group that has something to summarise
};

// Opens `path` for reading (store::file::open_read: refuses non-amari and newer files) and builds
// the report.
report inspect_file(const std::string& path);

// The report as text: header (version, status, command line), configuration, tree, summaries.
std::string to_text(const report& r);
// The report as one JSON object (docs/FORMAT.md, "amari inspect --json"); NaN and inf are null.
std::string to_json(const report& r);

}  // namespace amari::inspect
