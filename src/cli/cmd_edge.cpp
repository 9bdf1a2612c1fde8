// amari edge: the edge of chaos, sigma_w with chi_1 = 1 at given sigma_b (one value or a range).
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class edge_command final : public command {
 public:
  std::string name() const override { return "edge"; }
  std::string summary() const override {
    return "the edge of chaos: the sigma_w with chi_1 = 1 at given sigma_b (a value or a range start:stop:count)";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(edge_params::table(), p_);
    opts.add("json", json_, "print JSON: one object {phi, sigma_b, sigma_w}, or an array of them for a range");
    opts.add("quiet", quiet_);
  }

  int run(const invocation&) override {
    p_.validate();
    const Activation& phi = p_.phi;
    // One value prints one object; a range (even of one point, 0.3:0.3:1) an array.
    const bool single = param_text(p_.sigma_b).find(':') == std::string::npos;
    const std::vector<double> sb = p_.sigma_b.values();
    progress_bar bar("edge", quiet_ || json_);
    const std::vector<edge_point> curve = edge_of_chaos_curve(phi, sb, {}, run_control{&stop_flag(), bar.callback()});

    if (json_) {
      auto obj = [&](const edge_point& e) {
        return nlohmann::json{{"phi", phi.spec()}, {"sigma_b", e.sigma_b}, {"sigma_w", e.sigma_w}};
      };
      nlohmann::json j;
      if (single) {
        j = obj(curve.front());
      } else {
        j = nlohmann::json::array();
        for (const auto& e : curve) j.push_back(obj(e));
      }
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;
    std::printf("Edge of chaos (chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = 1): phi = %s\n", phi.spec().c_str());
    std::printf("  %12s  %20s  %20s\n", "sigma_b", "sigma_w", "q*");
    for (const auto& e : curve)
      std::printf("  %12.6g  %20.15g  %20s\n", e.sigma_b, e.sigma_w,
                  e.q_star ? fmt::format("{:.12g}", *e.q_star).c_str() : "(divergent)");
    if (!phi.bounded())
      std::printf("  for %s chi_1 = %s sigma_w^2 at every q; with sigma_b > 0 the length map diverges there\n",
                  phi.spec().c_str(), phi.spec() == "relu" ? "1/2" : "");
    return 0;
  }

 private:
  edge_params p_;
  bool json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_edge_command() { return std::make_unique<edge_command>(); }

}  // namespace amari::cli
