// amari maps: deep-network mean-field maps: q*, c*, chi_1, depth scales and phase at one (sigma_w, sigma_b).
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/layout/maps.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"

namespace amari::cli {

namespace {

std::string stability_words(const length_fixed_point& fp) {
  return fmt::format("{} (V'(q) = {:.12g})", to_string(fp.kind), fp.slope);
}

// A missing value in the table: "undefined" or "infinite" (JSON: null for both).
std::string missing(const maps_result& r, const char* what) {
  if (r.phase == depth_phase::divergent || r.collapsed) return "undefined";
  if (std::string(what) == "layers") return r.layers_limit_hit ? "undefined (limit)" : "never";
  return "infinite";
}

class maps_command final : public command {
 public:
  std::string name() const override { return "maps"; }
  std::string summary() const override {
    return "deep-network mean-field maps: q*, c*, chi_1, depth scales and phase at one (sigma_w, sigma_b)";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(maps_params::table(), p_);
    opts.add("all_fixed_points", all_);
    opts.add("output", output_, "write the result to this HDF5 file (/maps, docs/FORMAT.md); none: no file");
    opts.add("force", force_);
    opts.add("json", json_);
    opts.add("quiet", quiet_, "no text report");
  }

  int run(const invocation& inv) override {
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    const maps_result r = solve_maps(p_.model);
    const length_fixed_points fps = find_length_fixed_points(p_.model);
    if (!output_.empty()) {
      auto f = create_output(inv, "maps", output_, force_);
      layout::maps::write(f, p_, r, fps);
      f.finish("complete");
    }

    if (json_) {
      print_json(layout::maps::to_record(p_, r, all_ ? &fps : nullptr));
      return 0;
    }
    if (quiet_) return 0;

    const model_params& m = p_.model;
    std::printf("Deep-network mean-field maps: phi = %s, sigma_w = %s, sigma_b = %s\n", m.phi.spec().c_str(),
                format_number(m.sigma_w).c_str(), format_number(m.sigma_b).c_str());
    auto row = [](const char* name, const std::string& value, const std::string& what) {
      std::printf("  %-15s %-22s %s\n", name, value.c_str(), what.c_str());
    };
    auto num = [&](const std::optional<double>& x, const char* what) {
      return x ? fmt::format("{:.12g}", *x) : missing(r, what);
    };
    row("q*", num(r.q_star, "q"), "fixed point of V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2");
    row("chi_1", fmt::format("{:.12g}", r.chi_1), "sigma_w^2 E[phi'(sqrt(q*) z)^2]");
    row("c*", num(r.c_star, "c"),
        r.c_star ? fmt::format("fixed point of the correlation map from c = 0.5 [{}]", r.c_star_method)
                 : std::string("fixed point of the correlation map from c = 0.5"));
    row("chi_c", num(r.chi_c, "chi_c"), "sigma_w^2 E[phi'(u1) phi'(u2)] at c*");
    row("xi_c", num(r.xi_c, "xi"), "-1 / ln chi_c  [layers]");
    row("chi_q", r.phase == depth_phase::divergent ? missing(r, "chi_q") : fmt::format("{:.12g}", r.chi_q),
        "V'(q*)");
    row("xi_q", num(r.xi_q, "xi"), "-1 / ln chi_q  [layers]");
    row("layers_to_1pct", r.layers_to_1pct ? std::to_string(*r.layers_to_1pct) : missing(r, "layers"),
        "least l >= 1 with |q^l - q*| < 1% of q*, from q^0 = 10");
    const char* why = r.phase == depth_phase::ordered   ? "chi_1 < 1: nearby inputs converge"
                      : r.phase == depth_phase::chaotic ? "chi_1 > 1: nearby inputs decorrelate"
                      : r.phase == depth_phase::critical ? "|chi_1 - 1| < 1e-9: the edge of chaos"
                                                         : "q grows without bound";
    row("phase", std::string(to_string(r.phase)), why);
    if (r.collapsed)
      std::printf("  the length map collapses (q* = 0): c* and layers_to_1pct are undefined, and chi_1 = chi_c = "
                  "chi_q = sigma_w^2 lim_{q->0} E[phi'(sqrt(q) z)^2]\n");
    if (r.phase == depth_phase::divergent)
      std::printf("  q grows without bound: nothing is defined at a fixed point; chi_1 = chi_q is the growth factor of "
                  "q per layer\n");
    if (r.layers_limit_hit)
      std::printf("  layers_to_1pct: not reached within %lld layers (this close to the collapse, q^l approaches q* "
                  "only like 1/l)\n", (long long)maps_options{}.max_layers);
    if (all_) {
      std::printf("  fixed points of the length map:\n");
      if (fps.every_q) std::printf("    every q >= 0 (V(q) = q); q* = 1 is the one reached from q = 1\n");
      else if (fps.points.empty()) std::printf("    none\n");
      else
        for (const auto& fp : fps.points)
          std::printf("    q = %-20.12g %s\n", fp.q, stability_words(fp).c_str());
      if (fps.divergent) std::printf("    iterates from any q > 0 grow without bound\n");
    }
    return 0;
  }

 private:
  maps_params p_;
  std::string output_;
  bool all_ = false, json_ = false, quiet_ = false, force_ = false;
};

}  // namespace

std::unique_ptr<command> make_maps_command() { return std::make_unique<maps_command>(); }

}  // namespace amari::cli
