// amari meanfield: integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/theory/meanfield.hpp"
#include "amari/io/store.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class meanfield_command final : public command {
 public:
  std::string name() const override { return "meanfield"; }
  std::string summary() const override {
    return "integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(meanfield_params::table(), p_);
    opts.add("output", output_, "write the result to this HDF5 file (/meanfield, docs/FORMAT.md); none: no file");
    opts.add("force", force_);
    opts.add("json", json_);
    opts.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    if (inv.options.given("times") && (inv.options.given("t_end") || inv.options.given("dt_out")))
      throw InvalidArgument("times: give either --times or --t-end/--dt-out, not both");
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("meanfield", quiet_ || json_);
    run_control control{&stop_flag(), bar.callback()};
    const model_params& m = p_.model;
    const meanfield_settings& s = p_.settings;
    const meanfield_result r = solve_meanfield(m, s, control);
    const std::string note = meanfield_network_note(m, r);
    if (!output_.empty()) {
      auto f = create_output(inv, "meanfield", output_, force_);
      layout::meanfield::write(f, p_, r, note);
      f.finish("complete");
    }

    if (json_) {
      print_json(layout::meanfield::to_record(p_, r, note));
      return 0;
    }
    if (quiet_) return 0;

    std::printf("Amari's order-parameter equations: phi = %s, w0 = %s, b0 = %s, sigma_w = %s, sigma_b = %s\n",
                m.phi.spec().c_str(), format_number(m.w0).c_str(), format_number(m.b0).c_str(),
                format_number(m.sigma_w).c_str(), format_number(m.sigma_b).c_str());
    std::printf("  from (m0, q0) = (%s, %s); rtol %s, atol %s\n", format_number(s.m0).c_str(),
                format_number(s.q0).c_str(), format_number(s.rtol).c_str(), format_number(s.atol).c_str());
    const auto rows = table_rows(r.t.size());
    std::printf("  %12s  %18s  %18s\n", "t", "m", "q");
    for (std::size_t i : rows) std::printf("  %12.6g  %18.12g  %18.12g\n", r.t[i], r.m[i], r.q[i]);
    if (rows.size() < r.t.size()) std::printf("  (%zu samples; --json for all)\n", r.t.size());
    std::printf("  fixed points:\n");
    for (std::size_t i = 0; i < r.fixed_points.size(); ++i) {
      const auto& fp = r.fixed_points[i];
      auto ev = [](std::complex<double> z) {
        return z.imag() == 0 ? fmt::format("{:.8g}", z.real()) : fmt::format("{:.8g}{:+.8g}i", z.real(), z.imag());
      };
      std::printf("    #%zu  m = %.12g, q = %.12g; eigenvalues %s, %s: %s; chi_1 = %.6g%s\n", i, fp.m, fp.q,
                  ev(fp.eigenvalues[0]).c_str(), ev(fp.eigenvalues[1]).c_str(), fp.stable ? "stable" : "unstable",
                  fp.chi_1, fp.chi_1 > 1 ? " (> 1: unstable in the network)" : "");
    }
    if (r.final_fixed_point)
      std::printf("  the trajectory converges to fixed point #%zu\n", *r.final_fixed_point);
    else
      std::printf("  the trajectory converges to no fixed point\n");
    if (!note.empty()) std::printf("  note: %s\n", note.c_str());
    return 0;
  }

 private:
  meanfield_params p_;
  std::string output_;
  bool json_ = false, quiet_ = false, force_ = false;
};

}  // namespace

std::unique_ptr<command> make_meanfield_command() { return std::make_unique<meanfield_command>(); }

}  // namespace amari::cli
