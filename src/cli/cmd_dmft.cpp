// amari dmft: solve the Sompolinsky-Crisanti-Sommers dynamic mean-field theory of the chaotic network.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "amari/theory/dmft.hpp"
#include "amari/core/error.hpp"
#include "amari/io/store.hpp"
#include "amari/io/layout/theory.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

nlohmann::json number_or_null(const std::optional<double>& x) {
  if (!x || !std::isfinite(*x)) return nullptr;
  return *x;
}

// /dmft of docs/FORMAT.md (the writer is shared with amari simulate: amari/io/layout/theory.hpp).
void write_file(const std::string& path, bool force, const invocation& inv, const dmft_params& p,
                const dmft_result& r) {
  auto f = store::file::create(path, {.force = force, .command_line = inv.command_line,
                                      .config_toml = inv.options.resolved_toml(), .product = "dmft"});
  write_dmft_group(f, p, r);
  f.finish("complete");
}

class dmft_command final : public command {
 public:
  std::string name() const override { return "dmft"; }
  std::string summary() const override {
    return "solve the Sompolinsky-Crisanti-Sommers dynamic mean-field theory of the chaotic network";
  }
  void declare(OptionSet& opts) override {
    opts.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    opts.add("sigma-w", p_.sigma_w, "coupling standard deviation, J_ij ~ N(0, sigma_w^2 / N)");
    opts.add("sigma-b", p_.sigma_b, "bias standard deviation, b_i ~ N(0, sigma_b^2)", "units of h");
    opts.add("tau-max", s_.tau_max, "last lag tau of the autocorrelation Delta(tau)", "leak time constants");
    opts.add("dt-out", s_.dt_out, "spacing of the output lags", "leak time constants");
    opts.add("o,output", output_, "write the result to this HDF5 file (/dmft, docs/FORMAT.md); none: no file");
    opts.add_flag("force", force_, "overwrite the output file if it exists");
    opts.add_flag("json", json_, "print the result as one JSON object on stdout");
    opts.add_flag("quiet", quiet_, "no progress bar and no text report");
  }

  int run(const invocation& inv) override {
    p_.phi = Activation::parse(phi_, "phi");
    p_.validate();
    s_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("dmft", quiet_ || json_);
    run_control control{&stop_flag(), bar.callback()};
    const dmft_result r = solve_dmft(p_, s_, control);
    if (!output_.empty()) write_file(output_, force_, inv, p_, r);
    const auto& st = r.stationary;
    const bool coincide = r.transition && r.edge_of_chaos &&
                          std::abs(r.transition->sigma_w - *r.edge_of_chaos) <= 1e-9 * *r.edge_of_chaos;

    if (json_) {
      nlohmann::json j;
      j["phi"] = p_.phi.spec();
      j["sigma_w"] = p_.sigma_w;
      j["sigma_b"] = p_.sigma_b;
      j["chaotic"] = st.chaotic;
      j["delta_0"] = st.delta_0;
      j["delta_inf"] = st.delta_inf;
      j["tau"] = r.trajectory.tau;
      j["delta"] = r.trajectory.delta;
      j["decay_time"] = number_or_null(r.decay_time);
      j["lyapunov"] = number_or_null(r.lyapunov);
      j["q_static"] = st.q_static;
      j["chi_1"] = st.chi_1;
      j["message"] = st.chaotic ? nlohmann::json(nullptr) : nlohmann::json(st.message);
      nlohmann::json t;
      t["sigma_w"] = r.transition ? nlohmann::json(r.transition->sigma_w) : nlohmann::json(nullptr);
      t["edge_of_chaos_sigma_w"] = number_or_null(r.edge_of_chaos);
      t["coincide"] = coincide;
      j["transition"] = t;
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;

    std::printf("SCS dynamic mean-field theory: phi = %s, sigma_w = %s, sigma_b = %s (w0 = 0)\n",
                p_.phi.spec().c_str(), format_number(p_.sigma_w).c_str(), format_number(p_.sigma_b).c_str());
    std::printf("  static solution (the depth map's fixed point): q* = %.12g, chi_1 = %.10g (%s)\n",
                st.q_static, st.chi_1, st.chi_1 > 1 ? "unstable in the network" : "stable");
    if (st.chaotic) {
      std::printf("  chaotic solution: Delta_0 = %.12g (variance of h), Delta_inf = %.12g\n", st.delta_0,
                  st.delta_inf);
      std::printf("  decay time (Delta - Delta_inf falls to half): %.10g\n", *r.decay_time);
    } else {
      std::printf("  %s\n", st.message.c_str());
    }
    if (r.lyapunov)
      std::printf("  maximal Lyapunov exponent: %.10g%s\n", *r.lyapunov,
                  st.chaotic ? "" : " (the static state's -1 + sqrt(chi_1))");
    if (r.transition && r.edge_of_chaos) {
      std::printf("  transition at sigma_b = %s: sigma_w = %.12g (DMFT: chaos branches off the static "
                  "solution);\n    depth map's edge of chaos (chi_1 = 1): sigma_w = %.12g -- %s\n",
                  format_number(p_.sigma_b).c_str(), r.transition->sigma_w, *r.edge_of_chaos,
                  coincide ? "they coincide: both are the point where the static solution's chi_1 reaches 1"
                           : "they differ");
    }
    if (!st.chaotic) return 0;  // Delta(tau) = q*: nothing to tabulate
    const auto& tau = r.trajectory.tau;
    const auto rows = table_rows(tau.size());
    std::printf("  %12s  %18s\n", "tau", "Delta(tau)");
    for (std::size_t i : rows) std::printf("  %12.6g  %18.12g\n", tau[i], r.trajectory.delta[i]);
    if (rows.size() < tau.size()) std::printf("  (%zu lags; --json for all)\n", tau.size());
    return 0;
  }

 private:
  std::string phi_ = "tanh";
  dmft_params p_;
  dmft_settings s_;
  std::string output_;
  bool json_ = false, quiet_ = false, force_ = false;
};

}  // namespace

std::unique_ptr<command> make_dmft_command() { return std::make_unique<dmft_command>(); }

}  // namespace amari::cli
