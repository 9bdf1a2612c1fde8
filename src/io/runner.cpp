// io/runner.hpp: each command's library call and its record, behind one interface.
#include "amari/io/runner.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <utility>

#include "amari/core/error.hpp"
#include "amari/io/layout/deepnet.hpp"
#include "amari/io/layout/dmft.hpp"
#include "amari/io/layout/finite.hpp"
#include "amari/io/layout/maps.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/sim/predictions.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/theory/finite.hpp"
#include "amari/theory/maps.hpp"
#include "amari/theory/meanfield.hpp"

namespace amari::io {

namespace {

constexpr std::array<std::string_view, 6> commands = {"simulate", "meanfield", "dmft", "maps", "deepnet", "finite"};

// Wall-clock figures: left out so that equal parameters give equal records.
constexpr std::array<std::string_view, 2> wall_clock = {"seconds", "setup_seconds"};

// The record without the command's parameters (the keys params_record gave it, where a result of
// the same name has not replaced them: simulate's `lyapunov` is the flag and the exponent) and
// without wall-clock figures.
template <class P>
record results_only(const param_table<P>& table, const P& p, record r) {
  const record params = params_record(table, p);
  for (std::size_t i = 0; i < params.size(); ++i) {
    const value* v = r.find(params.keys[i]);
    if (v && encode(record().add(params.keys[i], *v)) == encode(record().add(params.keys[i], params.values[i])))
      r.erase(params.keys[i]);
  }
  for (auto k : wall_clock) r.erase(k);
  return r;
}

template <class P>
class table_runner final : public runner {
 public:
  // (the row_split: this process's share of the network, simulate only; ranks = 1: all of it)
  using run_fn = std::function<record(P&, const run_control&, store::file*, const row_split&)>;
  using check_fn = std::function<void(P&, const std::vector<std::string>& given, const row_split&)>;
  using memory_fn = std::function<std::uint64_t(const P&, const row_split&)>;

  table_runner(std::string command, run_fn run, check_fn check, memory_fn memory = nullptr)
      : command_(std::move(command)), run_(std::move(run)), check_(std::move(check)), memory_(std::move(memory)) {}

  const std::string& command() const override { return command_; }
  std::vector<const param_spec*> params() const override {
    std::vector<const param_spec*> out;
    for (const auto& e : P::table().entries()) out.push_back(e.spec);
    return out;
  }
  void set(std::string_view name, const param_value& v) override {
    P::table().set(p_, name, v);
    given_.emplace_back(name);
  }
  param_value get(std::string_view name) const override { return P::table().get(p_, name); }
  void validate() override { check_(p_, given_, split_); }
  std::uint64_t memory_needed() const override { return memory_ ? memory_(p_, split_) : 0; }
  void split_rows(const row_split& split) override {
    if (split.ranks > 1 && command_ != "simulate")
      throw InvalidArgument("ranks_per_group", std::to_string(split.ranks),
                            fmt::format("shares the rows of W of simulate's points only; {} points run on one rank "
                                        "each: accepted 0 or 1",
                                        command_));
    split_ = split;
  }
  record run(const run_control& control) override {
    return results_only(P::table(), p_, run_(p_, control, nullptr, split_));
  }
  record run(const run_control& control, store::file& product) override {
    return results_only(P::table(), p_, run_(p_, control, &product, split_));
  }
  std::unique_ptr<runner> clone() const override { return std::make_unique<table_runner>(*this); }

 private:
  std::string command_;
  run_fn run_;
  check_fn check_;
  memory_fn memory_;
  P p_{};
  std::vector<std::string> given_;
  row_split split_;
};

// This process's rows of a network of n neurons shared as `split` says (all of them: ranks = 1).
row_range rows_of(const row_split& split, std::int64_t n) { return row_block(n, split.rank, split.ranks); }

// The largest share of a network of n neurons over `split`'s processes (-1: all of W, unshared).
std::int64_t rows_held(const row_split& split, std::int64_t n) {
  return split.ranks > 1 ? largest_row_block(n, split.ranks) : -1;
}

// Receives nothing: the record comes from the result.
class null_observer final : public simulation_observer {
 public:
  void on_sample(const sample&) override {}
};

}  // namespace

std::span<const std::string_view> runner_commands() { return commands; }

std::string runner::config_toml() const {
  std::string out;
  for (const auto* s : params()) out += std::string(s->name) + " = " + format_toml(get(s->name)) + "\n";
  return out;
}

std::unique_ptr<runner> make_runner(std::string_view command) {
  if (command == "simulate")
    return std::make_unique<table_runner<simulate_params>>(
        "simulate",
        [](simulate_params& p, const run_control& control, store::file* f, const row_split& split) {
          row_share share{rows_of(split, p.net.n), split.exchange, split.exchange_float};
          const simulate_inputs in{.share = split.ranks > 1 ? &share : nullptr};
          if (!f) {
            null_observer obs;
            return layout::simulate::to_record(p, simulate(p, obs, control, in));
          }
          // As `amari simulate -o`: the writer with the theories' predictions; it finishes the file.
          simulation_writer writer(*f, p, false, false,
                                   [&p](double m0, double q0) { return predict_simulation(p, m0, q0, nullptr); });
          return layout::simulate::to_record(p, simulate(p, writer, control, in));
        },
        [](simulate_params& p, const std::vector<std::string>& given, const row_split& split) {
          // The map samples whole iterations: unless dt_out is given, every one (as `amari simulate`).
          if (p.stepper == stepper_kind::map && std::find(given.begin(), given.end(), "dt_out") == given.end())
            p.dt_out = 1;
          p.validate();
          if (p.net.n < split.ranks)
            throw InvalidArgument("n", std::to_string(p.net.n),
                                  fmt::format("must be at least ranks_per_group ({}) to spread W over them", split.ranks));
          require_memory(p, rows_held(split, p.net.n));
        },
        [](const simulate_params& p, const row_split& split) { return memory_needed(p, rows_held(split, p.net.n)); });
  if (command == "meanfield")
    return std::make_unique<table_runner<meanfield_params>>(
        "meanfield",
        [](meanfield_params& p, const run_control& control, store::file* f, const row_split&) {
          const meanfield_result r = solve_meanfield(p.model, p.settings, control);
          if (f) {
            layout::meanfield::write(*f, p, r, meanfield_network_note(p.model, r));
            f->finish("complete");
          }
          record out = layout::meanfield::to_record(p, r, meanfield_network_note(p.model, r));
          // The fixed point the trajectory reached, as numbers (NaN: none).
          const auto* fp = r.final_fixed_point ? &r.fixed_points[*r.final_fixed_point] : nullptr;
          out.add("final_m", fp ? fp->m : std::nan(""));
          out.add("final_q", fp ? fp->q : std::nan(""));
          // Their number instead of the list of records (which the sweep's layout would also turn
          // into `fixed_points_count`, and which has none to count when it is empty).
          out.erase("fixed_points");
          out.add("fixed_points_count", static_cast<std::int64_t>(r.fixed_points.size()));
          return out;
        },
        [](meanfield_params& p, const std::vector<std::string>& given, const row_split&) {
          auto has = [&](const char* n) { return std::find(given.begin(), given.end(), n) != given.end(); };
          if (has("times") && (has("t_end") || has("dt_out")))
            throw InvalidArgument("times: give either --times or --t-end/--dt-out, not both");
          p.validate();
        });
  if (command == "dmft")
    return std::make_unique<table_runner<dmft_params>>(
        "dmft",
        [](dmft_params& p, const run_control& control, store::file* f, const row_split&) {
          const dmft_result r = solve_dmft(p.model, p.settings, control);
          if (f) {
            layout::dmft::write(*f, p, r);
            f->finish("complete");
          }
          return layout::dmft::to_record(p, r);
        },
        [](dmft_params& p, const auto&, const row_split&) { p.validate(); });
  if (command == "maps")
    return std::make_unique<table_runner<maps_params>>(
        "maps",
        [](maps_params& p, const run_control&, store::file* f, const row_split&) {
          const maps_result r = solve_maps(p.model);
          if (f) {
            layout::maps::write(*f, p, r, find_length_fixed_points(p.model));
            f->finish("complete");
          }
          return layout::maps::to_record(p, r);
        },
        [](maps_params& p, const auto&, const row_split&) { p.validate(); });
  if (command == "deepnet")
    return std::make_unique<table_runner<deepnet_params>>(
        "deepnet",
        [](deepnet_params& p, const run_control& control, store::file* f, const row_split&) {
          const deepnet_result r = run_deepnet(p, control);
          if (f) {
            layout::deepnet::write(*f, p, r);
            f->finish("complete");
          }
          return layout::deepnet::to_record(p, r);
        },
        [](deepnet_params& p, const auto&, const row_split&) { p.validate(); });
  if (command == "finite")
    return std::make_unique<table_runner<finite_params>>(
        "finite",
        [](finite_params& p, const run_control&, store::file* f, const row_split&) {
          const finite_result r = run_finite(p);
          if (f) {
            layout::finite::write(*f, p, r);
            f->finish("complete");
          }
          return layout::finite::to_record(p, r);
        },
        [](finite_params& p, const auto&, const row_split&) { p.validate(); });
  std::string list;
  for (auto c : commands) list += (list.empty() ? "" : ", ") + std::string(c);
  throw InvalidArgument("command = " + std::string(command) + ": not a command a sweep runs; accepted: " + list);
}

}  // namespace amari::io
