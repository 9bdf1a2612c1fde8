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
#include "amari/io/layout/theory.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

// /meanfield of docs/FORMAT.md (the writer is shared with amari simulate: amari/io/layout/theory.hpp).
void write_file(const std::string& path, bool force, const invocation& inv, const meanfield_params& p,
                const meanfield_settings& s, const meanfield_result& r, const std::string& note) {
  auto f = store::file::create(path, {.force = force, .command_line = inv.command_line,
                                      .config_toml = inv.options.resolved_toml(), .product = "meanfield"});
  write_meanfield_group(f, p, s, r, note);
  f.finish("complete");
}

class meanfield_command final : public command {
 public:
  std::string name() const override { return "meanfield"; }
  std::string summary() const override {
    return "integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points";
  }
  void declare(OptionSet& opts) override {
    opts.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    opts.add("w0", p_.w0, "mean coupling, J_ij ~ N(w0 / N, sigma_w^2 / N)");
    opts.add("b0", p_.b0, "mean bias, b_i ~ N(b0, sigma_b^2)", "units of h");
    opts.add("sigma-w", p_.sigma_w, "coupling standard deviation");
    opts.add("sigma-b", p_.sigma_b, "bias standard deviation", "units of h");
    opts.add("m0", s_.m0, "initial mean of h", "units of h");
    opts.add("q0", s_.q0, "initial variance of h", "units of h^2");
    opts.add("t-end", s_.t_end, "last output time (with --dt-out)", "leak time constants");
    opts.add("dt-out", s_.dt_out, "output spacing (with --t-end)", "leak time constants");
    opts.add("times", s_.times, "explicit output times t1,t2,... (instead of --t-end/--dt-out)",
             "leak time constants");
    opts.add("rtol", s_.rtol, "relative tolerance of the adaptive integrator");
    opts.add("atol", s_.atol, "absolute tolerance of the adaptive integrator");
    opts.add("o,output", output_, "write the result to this HDF5 file (/meanfield, docs/FORMAT.md); none: no file");
    opts.add_flag("force", force_, "overwrite the output file if it exists");
    opts.add_flag("json", json_, "print the result as one JSON object on stdout");
    opts.add_flag("quiet", quiet_, "no progress bar and no text report");
    opts_ = &opts;
  }

  int run(const invocation& inv) override {
    if (opts_->given("times") && (opts_->given("t-end") || opts_->given("dt-out")))
      throw InvalidArgument("times: give either --times or --t-end/--dt-out, not both");
    p_.phi = Activation::parse(phi_, "phi");
    p_.validate();
    s_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("meanfield", quiet_ || json_);
    run_control control{&stop_flag(), bar.callback()};
    const meanfield_result r = solve_meanfield(p_, s_, control);
    const std::string note = meanfield_network_note(p_, r);
    if (!output_.empty()) write_file(output_, force_, inv, p_, s_, r, note);

    if (json_) {
      nlohmann::json j;
      j["t"] = r.t;
      j["m"] = r.m;
      j["q"] = r.q;
      nlohmann::json fps = nlohmann::json::array();
      for (const auto& fp : r.fixed_points) {
        nlohmann::json f;
        f["m"] = fp.m;
        f["q"] = fp.q;
        f["eigenvalues"] = {{fp.eigenvalues[0].real(), fp.eigenvalues[0].imag()},
                            {fp.eigenvalues[1].real(), fp.eigenvalues[1].imag()}};
        f["stable"] = fp.stable;
        f["chi_1"] = fp.chi_1;
        f["network_stable"] = fp.network_stable;
        fps.push_back(f);
      }
      j["fixed_points"] = fps;
      j["final_fixed_point"] = r.final_fixed_point ? nlohmann::json(*r.final_fixed_point) : nlohmann::json(nullptr);
      j["note"] = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;

    std::printf("Amari's order-parameter equations: phi = %s, w0 = %s, b0 = %s, sigma_w = %s, sigma_b = %s\n",
                p_.phi.spec().c_str(), format_number(p_.w0).c_str(), format_number(p_.b0).c_str(),
                format_number(p_.sigma_w).c_str(), format_number(p_.sigma_b).c_str());
    std::printf("  from (m0, q0) = (%s, %s); rtol %s, atol %s\n", format_number(s_.m0).c_str(),
                format_number(s_.q0).c_str(), format_number(s_.rtol).c_str(), format_number(s_.atol).c_str());
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
  std::string phi_ = "tanh";
  meanfield_params p_;
  meanfield_settings s_;
  std::string output_;
  bool json_ = false, quiet_ = false, force_ = false;
  const OptionSet* opts_ = nullptr;
};

}  // namespace

std::unique_ptr<command> make_meanfield_command() { return std::make_unique<meanfield_command>(); }

}  // namespace amari::cli
