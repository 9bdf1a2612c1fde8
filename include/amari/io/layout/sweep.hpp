#pragma once
// The /sweep group of `amari sweep` (docs/FORMAT.md, "/sweep"): one command run over the Cartesian
// grid of its options given as lists or ranges (the axes), every result a dataset over the grid.
//
//   /sweep                  attributes command, axes (names, in order), points (the grid's size),
//                           done (points complete when the file was finished); string dataset
//                           arguments (the command's options as given: what --resume re-reads)
//   /sweep/<axis>           one scale per axis: its values (a text axis: indices 0..k-1, with
//                           attribute labels)
//   /sweep/points/<k>       the results of grid point k (row-major over the axes, the last fastest),
//                           written as it completes: what a resume finds done
//   /sweep/points/<k>/product  with --keep (attribute keep = 1 of /sweep): the point's own file as
//                           the command alone writes it (root attributes, groups, datasets; no
//                           /checkpoint)
//   /sweep/<result>         at the end: every result over [axes..., its own axes]; text results as
//                           indices with attribute labels; arrays shorter than the longest padded
//                           with NaN (attribute padded)
//   /sweep/<result>_mean_over_seed, _sem_over_seed   with a `seed` axis: mean and standard error
//                           over the seeds, over the other axes
//
// Wall-clock figures are not results (files of equal sweeps are equal dataset for dataset).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amari/core/params.hpp"
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"
#include "amari/io/summary.hpp"

namespace amari::layout::sweep {

inline constexpr const char* group = "/sweep";
inline constexpr const char* points_group = "/sweep/points";

struct axis {
  std::string name;
  const param_spec* spec = nullptr;
  std::vector<param_value> values;
};

// A command over a grid: the options fixed at one value, and the axes.
struct plan {
  std::string command;
  std::vector<std::string> arguments;  // the command's options as given (tokens)
  std::vector<std::pair<std::string, param_value>> fixed;
  std::vector<axis> axes;
  bool keep = false;  // each point's full product too (--keep)

  std::int64_t points() const;
  // The value index on each axis of grid point k.
  std::vector<std::int64_t> coordinates(std::int64_t k) const;
  // "sigma_w = 1.5, seed = 2" for messages.
  std::string describe(std::int64_t k) const;
};

// Creates /sweep with the plan (f must not have it).
void write_plan(store::file& f, const plan& p);
// The grid points already written (resume, inspect): done[k].
std::vector<bool> points_done(store::file& f, std::int64_t points);
// Writes grid point k's results (its own group; reaches the disk with the next flush).
void write_point(store::file& f, std::int64_t k, const io::record& results);
// With --keep: the whole amari file at `source` (a finished file of the point's command) into
// /sweep/points/<k>/product: its root attributes on that group, every group below with its
// attributes, every dataset with its values, shape, description, units, other attributes and
// dimension scales (series become fixed datasets; numbers are stored as float64 or int64). Its
// /checkpoint (the run's resume state) is left out.
void write_product(store::file& f, std::int64_t k, const std::string& source);
// At the end: the results over the grid, and the means over seeds.
void write_grid(store::file& f, const plan& p);

// The command and the arguments of a file's sweep (resume re-parses them into a plan).
struct stored_plan {
  std::string command;
  std::vector<std::string> arguments;
  bool keep = false;
};
stored_plan read_plan(store::file& f);

// One dataset of /sweep as stored: its shape and values (integers kept as integers) and, for texts,
// the labels its values index (-1: none at that point).
struct stored_array {
  std::string name;
  std::vector<std::uint64_t> shape;
  bool integer = false;
  std::vector<double> reals;
  std::vector<std::int64_t> ints;
  std::optional<std::vector<std::string>> labels;
  double at(std::size_t i) const { return integer ? static_cast<double>(ints[i]) : reals[i]; }
};
// /sweep as read back by every front end: the command, the axes (outermost first), the number of
// points and of those complete, and every result over the grid (the grid's axes, then its own).
struct contents {
  std::string command;
  std::vector<stored_array> axes;
  std::int64_t points = 0, done = 0;
  std::vector<stored_array> results;
};
contents read(store::file& f);

// What `amari sweep --json` prints: command, axes {name: values}, and every result of /sweep over
// the grid (nested arrays, the axes outermost).
io::record to_record(store::file& f);

// The summary of `amari inspect`.
std::vector<io::summary_entry> summary(store::file& f);

}  // namespace amari::layout::sweep
