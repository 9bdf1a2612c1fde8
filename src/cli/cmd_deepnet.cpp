// amari deepnet: finite-width random deep networks beside the mean-field maps (q^l, c^l, lambda^l).
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <vector>

#include "amari/sim/deepnet.hpp"
#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/layout/deepnet.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class deepnet_command final : public command {
 public:
  std::string name() const override { return "deepnet"; }
  std::string summary() const override {
    return "finite-width random deep networks: per-layer q, c and perturbation growth beside the maps";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(deepnet_params::table(), p_);
    opts.add("output", output_, "write the result to this HDF5 file (/deepnet, docs/FORMAT.md); none: no file");
    opts.add("force", force_);
    opts.add("json", json_,
             "print the per-layer results as one JSON object on stdout; with --widths also widths and the "
             "measured [width][layer] var_q, kurtosis, mean_shift, c_shift (plain names: measurements) with "
             "their _sem and theory_ twins");
    opts.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    if (inv.options.given("widths") && inv.options.given("n"))
      throw InvalidArgument("widths: give either --n (one width) or --widths (a sweep), not both");
    // n: the width of the per-network rows, the last of the sweep (validate() checks the widths)
    if (!p_.widths.empty() && p_.widths.back() >= 2 && p_.widths.back() <= 1e6)
      p_.n = static_cast<std::int64_t>(p_.widths.back());
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("deepnet", quiet_ || json_);
    const deepnet_result r = run_deepnet(p_, run_control{&stop_flag(), bar.callback()});
    const maps_result& fixed = r.fixed;
    if (!output_.empty()) {
      auto f = create_output(inv, "deepnet", output_, force_, p_.seed);
      layout::deepnet::write(f, p_, r);
      f.finish("complete");
    }

    if (json_) {
      print_json(layout::deepnet::to_record(p_, r));
      return 0;
    }
    if (quiet_) return 0;
    std::printf("Random deep networks%s: phi = %s, sigma_w = %s, sigma_b = %s, N = %lld, %lld networks, seed %lld\n",
                p_.tied ? " with tied weights (the same W, b at every layer)" : "", p_.model.phi.spec().c_str(), format_number(p_.model.sigma_w).c_str(), format_number(p_.model.sigma_b).c_str(),
                (long long)(r.sweep.widths.empty() ? p_.n : r.sweep.widths.back()), (long long)p_.nets, (long long)p_.seed);
    std::printf("  inputs q0 = %s, c0 = %s; mean +- standard error over networks beside the maps\n",
                format_number(p_.q0).c_str(), format_number(p_.c0).c_str());
    std::printf("  %5s  %22s  %10s  %22s  %10s  %22s  %10s\n", "layer", "q (input 1)", "map", "c", "map",
                "lambda", "map");
    auto pm = [](double m, double s) {
      return std::isnan(s) ? fmt::format("{:.6g}", m) : fmt::format("{:.6g} +- {:.2g}", m, s);
    };
    for (std::int64_t l = 0; l <= r.layers; ++l)
      std::printf("  %5lld  %22s  %10.6g  %22s  %10.6g  %22s  %10s\n", (long long)l, pm(r.q1_mean[l], r.q1_sem[l]).c_str(),
                  r.q_map[l], pm(r.c_mean[l], r.c_sem[l]).c_str(), r.c_map[l],
                  l == 0 ? "" : pm(r.lambda_mean[l], r.lambda_sem[l]).c_str(),
                  l == 0 ? "" : fmt::format("{:.4g}", r.lambda_map[l]).c_str());
    std::printf("  maps' fixed point: q* = %s, c* = %s, chi_1 = %.6g ((1/2) ln chi_1 = %.4g), %s\n",
                fixed.q_star ? fmt::format("{:.6g}", *fixed.q_star).c_str() : "undefined",
                fixed.c_star ? fmt::format("{:.6g}", *fixed.c_star).c_str() : "undefined", fixed.chi_1,
                0.5 * std::log(fixed.chi_1), std::string(to_string(fixed.phase)).c_str());
    const auto& sw = r.sweep;
    if (!sw.widths.empty()) {
      std::printf("  width sweep (%lld networks per width; the rows above are of width %lld): measured +- SE [theory]\n",
                  (long long)p_.nets, (long long)sw.widths.back());
      std::printf("  %6s  %5s  %30s  %30s  %30s  %30s\n", "width", "layer", "n Var(q)", "n kurtosis", "n (E q - K)",
                  "n (E c - c_map)");
      const std::size_t cols = static_cast<std::size_t>(r.layers + 1);
      auto cell = [](double m, double s, double t) { return fmt::format("{:.4g} +- {:.2g} [{:.4g}]", m, s, t); };
      for (std::size_t w = 0; w < sw.widths.size(); ++w)
        for (std::size_t l = 0; l < cols; ++l) {
          const std::size_t i = w * cols + l;
          std::printf("  %6lld  %5zu  %30s  %30s  %30s  %30s\n", (long long)sw.widths[w], l,
                      cell(sw.var_q[i], sw.var_q_sem[i], sw.theory_var_q[i]).c_str(),
                      cell(sw.kurtosis[i], sw.kurtosis_sem[i], sw.theory_kurtosis[i]).c_str(),
                      cell(sw.mean_shift[i], sw.mean_shift_sem[i], sw.theory_mean_shift[i]).c_str(),
                      cell(sw.c_shift[i], sw.c_shift_sem[i], sw.theory_c_shift[i]).c_str());
        }
    }
    if (!output_.empty()) std::printf("  written to %s\n", output_.c_str());
    return 0;
  }

 private:
  deepnet_params p_;
  std::string output_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_deepnet_command() { return std::make_unique<deepnet_command>(); }

}  // namespace amari::cli
