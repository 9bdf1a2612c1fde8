#pragma once
// A sweep as the front ends run it (`amari sweep`, `amari.sweep`): the plan from the command's
// options as given (lists a,b,c and ranges start:stop:count are axes), every grid point checked
// before anything runs, and the serial run that writes each point as it completes (layout/sweep.hpp).
//
//   auto plan = io::sweep::make_plan("maps", {"--sigma-w", "1:2.5:4", "--phi", "tanh,erf"});
//   io::sweep::validate_all(plan);
//   auto f = store::file::create(...);  layout::sweep::write_plan(f, plan);
//   io::sweep::run s(f, plan, layout::sweep::points_done(f, plan.points()), progress);
//   s.run_points(s.left(), control);
//   s.finish(control);   // the grid, status complete; or Error / Interrupted, the file resumable
//
// Both front ends parse with make_plan, so that a file's `arguments` mean the same to either
// (--resume in the CLI, resume= in Python). Under MPI the CLI deals the points out itself and hands
// the results of the other ranks to write_point.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/control.hpp"
#include "amari/core/params.hpp"
#include "amari/io/layout/sweep.hpp"
#include "amari/io/record.hpp"
#include "amari/io/runner.hpp"
#include "amari/io/store.hpp"

namespace amari::io::sweep {

using layout::sweep::plan;

// The sweep's own options (output, json, quiet, force, resume, keep, config): refused after the
// command, with where they belong.
std::span<const std::string_view> own_options();

// The values of one option as given: a list of items, each a value or (numeric) a range
// start:stop:count. InvalidArgument naming the option for a bad item.
std::vector<param_value> option_values(const param_spec& spec, const std::string& text);

// The plan of `command` with its options `args`, tokens as on the command line ("--sigma-w",
// "1:2:5", or "--sigma-w=1:2:5"; a flag alone is on, followed by a list of true/false an axis).
// InvalidArgument (the CLI's one-line message) for an unknown command or option, an option given
// twice, a missing value, a value that does not parse.
plan make_plan(const std::string& command, const std::vector<std::string>& args);

// The plan stored in a sweep file (its command and arguments, parsed again by make_plan), for a
// resume: InvalidArgument "resume = PATH: ..." when the sweep in it is complete.
plan resume_plan(const std::string& path);

// A runner with the parameters of grid point k set (not yet validated).
std::unique_ptr<runner> point_runner(const plan& p, std::int64_t k);

// A file in the temporary directory ($TMPDIR, else /tmp), removed with this object.
class scratch_file {
 public:
  explicit scratch_file(const std::string& stem = "amari");
  ~scratch_file();
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs grid point k (validated first). With `product` (plan.keep), also writes the point's product
// there, as the command alone would (a new file; its command_line says which point of which
// sweep: `sweep_command_line`). With `split` (simulate only), this process's rows of the point's
// network (runner.hpp): every process of the split runs the point at once.
record run_point(const plan& p, std::int64_t k, const run_control& control, const std::string& product = "",
                 const std::string& sweep_command_line = "", const row_split& split = {});

// Validates every grid point (InvalidArgument naming the point) and checks memory: with
// `ranks_on_node` processes on a node each running a point (or, with `split`, its share of a
// point's rows), the largest times their number must fit at once.
void validate_all(const plan& p, int ranks_on_node = 1, const row_split& split = {});
// The most memory a process needs for a point of the grid, each point shared as `split` says.
std::uint64_t largest_point_memory(const plan& p, const row_split& split = {});

// The serial part of a sweep on the process that owns the file.
class run {
 public:
  // `done`: the points already in the file (layout::sweep::points_done). `progress(done, total)` is
  // called with the points complete after each one written (may be empty).
  run(store::file& f, const plan& p, std::vector<bool> done, std::function<void(double, double)> progress = {});

  // The points not yet done, in order.
  std::vector<std::int64_t> left() const;
  std::int64_t complete() const { return complete_; }
  std::int64_t points() const { return points_; }

  // Writes grid point k's results (and with plan.keep the product file at `product`) and flushes
  // the file: a killed sweep loses only the points in flight.
  void write_point(std::int64_t k, const record& r, const std::string& product = "");
  // Runs `todo` in order with `control` (its stop flag is looked at before each point, and the
  // point's runner gets it), writing each (with plan.keep its product too, through a scratch
  // file); after each point calls `between` (the CLI reads the
  // results of its other ranks there). Stops at a stop request, an Interrupted, or the first
  // failure (kept for finish: its message names the grid point).
  void run_points(std::span<const std::int64_t> todo, const run_control& control,
                  const std::function<void()>& between = {});
  // Records a failure elsewhere (another rank's); the first is kept.
  void fail(const std::string& message);
  void interrupted() { interrupted_ = true; }
  bool stopped() const { return interrupted_ || !failure_.empty(); }

  // Ends the sweep. After a failure: status "failed" and Error (the message, and where the
  // completed points are). After an interruption (or a stop request in control): status
  // "interrupted" and Interrupted (with the signal in control's stop flag, else SIGINT). Otherwise
  // writes the grid (layout::sweep::write_grid) and sets the status "complete".
  void finish(const run_control& control);

 private:
  store::file& f_;
  const plan& p_;
  std::vector<bool> done_;
  std::function<void(double, double)> progress_;
  std::int64_t points_ = 0, complete_ = 0;
  std::string failure_;
  bool interrupted_ = false;
};

}  // namespace amari::io::sweep
