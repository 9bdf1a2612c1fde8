#pragma once
// Arrays the user hands to a run from files (--weights, --bias; docs/simulate.md, "Your own
// network"): a dataset of an HDF5 file, "FILE:DATASET" (any HDF5 file, amari's or not), or a
// NumPy .npy file, "FILE.npy" (format versions 1 to 3: the magic "\x93NUMPY", the version, the
// header length, a Python-literal dict with 'descr', 'fortran_order' and 'shape', then the data;
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
//
// Accepted element types: float64 and float32 (HDF5: any byte order, HDF5 converts; .npy:
// little-endian '<f8' and '<f4'). Anything else -- integers, float16, big-endian .npy, complex,
// strings, Python objects -- is refused with one line naming the field, the source and the type.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "amari/sim/network.hpp"
#include "amari/sim/user_network.hpp"

namespace amari {

struct array_data {
  std::vector<double> values;        // row-major (C order), as float64 (float32 converted exactly)
  std::vector<std::int64_t> shape;
  std::string dtype;                 // "float64" | "float32"
  std::string spec;                  // as given: "FILE:DATASET" or "FILE.npy"
  std::string path, dataset;         // the file, and the dataset within it ("" for .npy)
  std::int64_t first_row = 0;        // values hold the rows first_row, ... of the first dimension
};

// Reads `spec`; `field` names the parameter in the errors (InvalidArgument: the spec is not
// FILE:DATASET, the file or dataset is missing or unreadable, the type is not accepted). With
// `rows`, only those rows of the first dimension are read (shape stays the whole array's): an
// HDF5 hyperslab, or the rows' bytes of a .npy (a run per row in C order, per column in Fortran
// order; decoded in chunks of 64 MB); {0, 0} reads the shape and type alone.
array_data read_array(const std::string& field, const std::string& spec, row_range rows = {});
// The array in consecutive blocks of whole rows of about `elements` numbers each, in row order:
// a large array read with bounded memory.
void for_each_row_block(const std::string& field, const std::string& spec, std::int64_t elements,
                        const std::function<void(const array_data&)>& fn);

// The user's network from files, owning its arrays; `view()` points into them (valid while this
// object, or the one it is moved into, lives).
struct loaded_network {
  array_data weights, bias;        // no shape: not given
  // W's checksum and moments when weights holds some of its rows only, or none (computed by
  // streaming the file: weights_summary_of); view() hands it on.
  std::optional<weights_summary> summary;
  // Set: W's rows `*streamed` are not held but read from the file (weights.spec) a block at a
  // time while the network is built (weights_view::fetch), so that memory holds the storage and
  // one block; weights then holds W's shape alone.
  std::optional<row_range> streamed = std::nullopt;
  user_network view() const;
};
// Reads --weights and --bias (either spec may be empty: not given). Shapes are checked against
// n by apply_user_network / validate_user_network, not here; a W that is not 2-D or a b that is
// not 1-D is refused here.
// With `rows`, only those rows of W are read (b always whole).
loaded_network read_user_network(const std::string& weights_spec, const std::string& bias_spec, row_range rows = {});
// The checksum and moments of the W in a file, read a block of rows at a time (bounded memory),
// the same numbers as summarize_weights of the whole W held in memory: two passes over the file,
// or one for the checksum alone (`moments` false: mean and ss are then not computed).
weights_summary weights_summary_of(const std::string& weights_spec, bool moments = true);

}  // namespace amari
