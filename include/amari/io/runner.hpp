#pragma once
// A command as a function of its parameters: set them by name (the vocabulary, core/params.hpp),
// validate, run, and get the results as the record that `amari <command> --json` prints
// (io/record.hpp), without a file. What `amari sweep` runs at every grid point.
//
//   auto r = io::make_runner("maps");
//   r->set("sigma_w", 2.5);  r->validate();
//   io::record out = r->run({});   // q_star, chi_1, ... (the parameters are left out)
//
// The commands: simulate, meanfield, dmft, maps, deepnet, finite (runner_commands()).
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/control.hpp"
#include "amari/core/params.hpp"
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"

namespace amari::io {

// A simulate point's network shared by `ranks` processes by rows of W (the ranks of a group of an
// MPI job, in the CLI; sim/simulate.hpp, row_share): this process is `rank` and holds the rows
// n rank / ranks .. n (rank + 1) / ranks - 1 of the point's n; exchange(y, n, cols) fills in the
// other processes' rows of the n x cols column-major y (called by every process at the same point).
struct row_split {
  int ranks = 1, rank = 0;
  std::function<void(double* y, std::int64_t n, std::int64_t cols)> exchange;
  std::function<void(float* y, std::int64_t n, std::int64_t cols)> exchange_float;
};

class runner {
 public:
  virtual ~runner() = default;
  virtual const std::string& command() const = 0;
  // The command's parameters (its param_table), in the table's order.
  virtual std::vector<const param_spec*> params() const = 0;
  // Sets a parameter; InvalidArgument for a name the command does not have (with the closest one)
  // or a value that does not convert.
  virtual void set(std::string_view name, const param_value& v) = 0;
  virtual param_value get(std::string_view name) const = 0;
  // The command's own checks (InvalidArgument naming the field), including the memory the run
  // would need against what is available.
  virtual void validate() = 0;
  // Bytes the run needs at most (0 for the theory commands, whose needs are small); with
  // split_rows, this process's share.
  virtual std::uint64_t memory_needed() const { return 0; }
  // Shares the network by rows with other processes (before validate, which then checks the
  // memory of this process's rows). InvalidArgument (naming ranks_per_group) for a command other
  // than simulate, and at validate for n < ranks.
  virtual void split_rows(const row_split& split) = 0;
  // Runs; the results without the parameters and without wall-clock figures (`seconds`), so that
  // two runs of the same parameters give equal records. Interrupted when control asks to stop.
  virtual record run(const run_control& control) = 0;
  // Runs as run(control) and also writes the command's product into `product` (a new, empty
  // file): the groups and datasets that `amari <command> -o FILE` writes; the file is finished.
  virtual record run(const run_control& control, store::file& product) = 0;
  // The parameters as TOML, one `name = value` line each (the `config` of the product's file).
  std::string config_toml() const;
  virtual std::unique_ptr<runner> clone() const = 0;
};

// The commands a runner exists for.
std::span<const std::string_view> runner_commands();
// InvalidArgument (naming `command`, with the accepted ones) for another name.
std::unique_ptr<runner> make_runner(std::string_view command);

}  // namespace amari::io
