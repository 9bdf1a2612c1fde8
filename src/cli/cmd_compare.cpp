// amari compare: the time and depth pictures side by side for one set of parameters
// (include/amari/sim/compare.hpp, docs/compare.md).
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

#include "amari/sim/compare.hpp"
#include "amari/core/error.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

nlohmann::json number(const std::optional<double>& x) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return *x;
}

std::string cell(const std::optional<double>& x) { return x ? fmt::format("{:.6g}", *x) : "n/a"; }

class compare_command final : public command {
 public:
  std::string name() const override { return "compare"; }
  std::string summary() const override {
    return "the time and depth pictures side by side: maps, deep nets, Amari's ODE, simulation, DMFT";
  }
  void declare(OptionSet& o) override {
    o.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    o.add("sigma-w", p_.sigma_w, "weight standard deviation times sqrt(N)");
    o.add("sigma-b", p_.sigma_b, "bias standard deviation", "units of h");
    o.add("w0", p_.w0, "mean weight times N (time pictures; the untied deep net has none)");
    o.add("b0", p_.b0, "mean bias (time pictures)", "units of h");
    o.add("q0", p_.q0, "second moment of the inputs and initial states", "units of h^2");
    o.add("c0", p_.c0, "correlation of the two inputs, and of replica 0 with the other replicas, in (-1, 1)");
    o.add("n", p_.n, "width N of every network", "neurons");
    o.add("layers", p_.layers, "depth L of the untied deep net", "layers");
    o.add("nets", p_.nets, "independent untied deep nets (>= 2)");
    o.add("replicas", p_.replicas, "initial conditions sharing W and b (>= 2)");
    o.add("draws", p_.draws, "independent draws of (W, b) for the time pictures (>= 2)");
    o.add("t-end", p_.t_end, "duration of the continuous-time run", "leak time constants");
    o.add("dt-out", p_.dt_out, "its sampling interval", "leak time constants");
    o.add("transient", p_.transient, "start of its stationary window (negative: t_end / 4)", "leak time constants");
    o.add("iterations", p_.iterations, "iterations of the tied discrete-time net (window: the second half)");
    o.add("seed", p_.seed, "random seed");
    o.add("threads", p_.threads, "threads (0: all cores); results do not depend on it");
    o.add("o,output", output_, "write every curve and the table to this HDF5 file (/compare, docs/FORMAT.md)", "path");
    o.add_flag("force", force_, "overwrite the output file if it exists");
    o.add_flag("json", json_, "print the table as one JSON object on stdout");
    o.add_flag("quiet", quiet_, "no progress bar and no text report");
  }

  int run(const invocation& inv) override {
    p_.phi = Activation::parse(phi_, "phi");
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("compare", quiet_ || json_);
    const compare_result r = run_compare(p_, run_control{&stop_flag(), bar.callback()});
    if (!output_.empty()) {
      auto f = store::file::create(output_, {.force = force_, .command_line = inv.command_line,
                                             .config_toml = inv.options.resolved_toml(),
                                             .seed = static_cast<std::uint64_t>(p_.seed), .product = "compare"});
      write_compare(f, p_, r);
      f.finish("complete");
    }
    if (json_) {
      nlohmann::json j;
      j["phi"] = p_.phi.spec();
      j["sigma_w"] = p_.sigma_w;
      j["sigma_b"] = p_.sigma_b;
      j["w0"] = p_.w0;
      j["b0"] = p_.b0;
      j["n"] = p_.n;
      j["phase"] = r.phase;
      j["chi_1"] = r.chi_1;
      j["rows"] = nlohmann::json::array();
      for (const auto& row : r.rows)
        j["rows"].push_back({{"name", row.name},
                             {"theory", number(row.theory)},
                             {"simulation", number(row.simulation)},
                             {"difference", number(row.difference)},
                             {"sem", number(row.sem)},
                             {"units", row.units},
                             {"note", row.note}});
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;
    std::printf("amari compare: phi = %s, sigma_w = %s, sigma_b = %s, w0 = %s, b0 = %s; N = %lld\n",
                p_.phi.spec().c_str(), format_number(p_.sigma_w).c_str(), format_number(p_.sigma_b).c_str(),
                format_number(p_.w0).c_str(), format_number(p_.b0).c_str(), (long long)p_.n);
    std::printf("  time pictures: %s phase, chi_1 = %.6g at (m*, q*) = (%s, %s); depth maps: %s, chi_1 = %.6g\n",
                r.phase.c_str(), r.chi_1, cell(r.m_star).c_str(), cell(r.q_star).c_str(), r.depth_phase.c_str(),
                r.depth_chi_1);
    std::printf("  %-17s %12s %12s %12s %10s %7s\n", "quantity", "theory", "simulation", "difference", "s.e.",
                "diff/se");
    for (const auto& row : r.rows) {
      const std::string z =
          row.difference && row.sem && *row.sem > 0 ? fmt::format("{:+.2f}", *row.difference / *row.sem) : "";
      std::printf("  %-17s %12s %12s %12s %10s %7s  %s\n", row.name.c_str(), cell(row.theory).c_str(),
                  cell(row.simulation).c_str(), cell(row.difference).c_str(),
                  row.sem ? fmt::format("{:.2g}", *row.sem).c_str() : "", z.c_str(), row.units.c_str());
      std::printf("      %s\n", row.note.c_str());
    }
    std::printf("  %.1f s", r.seconds);
    if (!output_.empty()) std::printf("; written to %s", output_.c_str());
    std::printf("\n");
    return 0;
  }

 private:
  std::string phi_ = "tanh";
  compare_params p_;
  std::string output_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_compare_command() { return std::make_unique<compare_command>(); }

}  // namespace amari::cli
