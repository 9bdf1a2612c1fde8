// amari finite: the 1/n corrections of deep random networks (K, V, G1; var_q, kurtosis, mean_shift;
// the two-input covariance and correlation shift), all theory.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>

#include "amari/core/error.hpp"
#include "amari/io/layout/finite.hpp"
#include "amari/theory/finite.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"

namespace amari::cli {

namespace {

class finite_command final : public command {
 public:
  std::string name() const override { return "finite"; }
  std::string summary() const override {
    return "finite-width (1/n) theory of deep random nets: per-layer n Var(q), n x kurtosis, n x mean shift, c shift";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(finite_params::table(), p_);
    opts.add("output", output_, "write the result to this HDF5 file (/finite, docs/FORMAT.md); none: no file");
    opts.add("force", force_);
    opts.add("json", json_, "print the per-layer theory as one JSON object on stdout (every key is theory)");
    opts.add("quiet", quiet_, "no text report");
  }

  int run(const invocation& inv) override {
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    const finite_result r = run_finite(p_);
    if (!output_.empty()) {
      auto f = create_output(inv, "finite", output_, force_);
      layout::finite::write(f, p_, r);
      f.finish("complete");
    }
    if (json_) {
      print_json(layout::finite::to_record(p_, r));
      return 0;
    }
    if (quiet_) return 0;
    std::printf("Finite-width corrections (1/n): phi = %s, sigma_w = %s, sigma_b = %s, q0 = %s, c0 = %s, %s inputs\n",
                p_.model.phi.spec().c_str(), format_number(p_.model.sigma_w).c_str(),
                format_number(p_.model.sigma_b).c_str(), format_number(p_.q0).c_str(), format_number(p_.c0).c_str(),
                std::string(to_string(p_.inputs)).c_str());
    std::printf("  at width n: Var(q) = var_q / n, excess kurtosis of h_i = kurtosis / n, E q = K + mean_shift / n,\n"
                "  E c = c + c_shift / n (+ O(1/n^2); docs/finite_width.md)\n");
    std::printf("  %5s  %12s  %12s  %12s  %12s  %12s  %12s\n", "layer", "K", "var_q", "kurtosis", "mean_shift", "c",
                "c_shift");
    for (std::int64_t l = 0; l <= r.layers; ++l)
      std::printf("  %5lld  %12.6g  %12.6g  %12.6g  %12.6g  %12.6g  %12.6g\n", (long long)l, r.K[l], r.var_q[l],
                  r.kurtosis[l], r.mean_shift[l], r.c[l], r.c_shift[l]);
    if (std::isfinite(r.xi_c))
      std::printf("  correlation depth: c* = %.6g, chi_c = %.6g, xi_c = %.6g layers; at width n: c*_n = c* + %.6g / n,\n"
                  "  chi_c(n) = chi_c + %.6g / n, xi_c(n) = xi_c + %.6g / n\n",
                  r.c_star, r.chi_c, r.xi_c, r.c_star_shift, r.chi_c_shift, r.xi_c_shift);
    else
      std::printf("  correlation depth: no fixed point c* < 1 (ordered or critical phase): no finite-width xi_c\n");
    if (!output_.empty()) std::printf("  written to %s\n", output_.c_str());
    return 0;
  }

 private:
  finite_params p_;
  std::string output_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_finite_command() { return std::make_unique<finite_command>(); }

}  // namespace amari::cli
