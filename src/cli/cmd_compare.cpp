// amari compare: the time and depth pictures side by side for one set of parameters
// (include/amari/sim/compare.hpp, docs/compare.md).
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>

#include "amari/sim/compare.hpp"
#include "amari/core/error.hpp"
#include "amari/io/layout/compare.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

std::string cell(const std::optional<double>& x) { return x ? fmt::format("{:.6g}", *x) : "n/a"; }

class compare_command final : public command {
 public:
  std::string name() const override { return "compare"; }
  std::string summary() const override {
    return "the time and depth pictures side by side: maps, deep nets, Amari's ODE, simulation, DMFT";
  }
  void declare(OptionSet& o) override {
    o.add_params(compare_params::table(), p_);
    o.add("output", output_, "write every curve and the table to this HDF5 file (/compare, docs/FORMAT.md)");
    o.add("force", force_);
    o.add("json", json_, "print the table as one JSON object on stdout");
    o.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("compare", quiet_ || json_);
    const compare_result r = run_compare(p_, run_control{&stop_flag(), bar.callback()});
    if (!output_.empty()) {
      auto f = create_output(inv, "compare", output_, force_, p_.seed);
      layout::compare::write(f, p_, r);
      f.finish("complete");
    }
    if (json_) {
      print_json(layout::compare::to_record(p_, r));
      return 0;
    }
    if (quiet_) return 0;
    std::printf("amari compare: phi = %s, sigma_w = %s, sigma_b = %s, w0 = %s, b0 = %s; N = %lld\n",
                p_.model.phi.spec().c_str(), format_number(p_.model.sigma_w).c_str(),
                format_number(p_.model.sigma_b).c_str(), format_number(p_.model.w0).c_str(),
                format_number(p_.model.b0).c_str(), (long long)p_.n);
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
      if (row.mean_field) std::printf("      infinite width (mean field): %s\n", cell(row.mean_field).c_str());
      std::printf("      %s\n", row.note.c_str());
    }
    std::printf("  %.1f s", r.seconds);
    if (!output_.empty()) std::printf("; written to %s", output_.c_str());
    std::printf("\n");
    return 0;
  }

 private:
  compare_params p_;
  std::string output_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_compare_command() { return std::make_unique<compare_command>(); }

}  // namespace amari::cli
