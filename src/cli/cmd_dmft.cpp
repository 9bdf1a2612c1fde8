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
#include "amari/io/layout/dmft.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class dmft_command final : public command {
 public:
  std::string name() const override { return "dmft"; }
  std::string summary() const override {
    return "solve the Sompolinsky-Crisanti-Sommers dynamic mean-field theory of the chaotic network";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(dmft_params::table(), p_);
    opts.add("output", output_, "write the result to this HDF5 file (/dmft, docs/FORMAT.md); none: no file");
    opts.add("force", force_);
    opts.add("json", json_);
    opts.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("dmft", quiet_ || json_);
    run_control control{&stop_flag(), bar.callback()};
    const model_params& m = p_.model;
    const dmft_result r = solve_dmft(m, p_.settings, control);
    if (!output_.empty()) {
      auto f = create_output(inv, "dmft", output_, force_);
      layout::dmft::write(f, p_, r);
      f.finish("complete");
    }
    const auto& st = r.stationary;
    const bool coincide = layout::dmft::transition_at_edge(r);

    if (json_) {
      print_json(layout::dmft::to_record(p_, r));
      return 0;
    }
    if (quiet_) return 0;

    std::printf("SCS dynamic mean-field theory: phi = %s, sigma_w = %s, sigma_b = %s (w0 = 0)\n",
                m.phi.spec().c_str(), format_number(m.sigma_w).c_str(), format_number(m.sigma_b).c_str());
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
                  format_number(m.sigma_b).c_str(), r.transition->sigma_w, *r.edge_of_chaos,
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
  dmft_params p_;
  std::string output_;
  bool json_ = false, quiet_ = false, force_ = false;
};

}  // namespace

std::unique_ptr<command> make_dmft_command() { return std::make_unique<dmft_command>(); }

}  // namespace amari::cli
