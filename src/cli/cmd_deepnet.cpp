// amari deepnet: finite-width random deep networks beside the mean-field maps (q^l, c^l, lambda^l).
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <vector>

#include "amari/sim/deepnet.hpp"
#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

nlohmann::json numbers(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr));
  return a;
}

// /deepnet of docs/FORMAT.md.
void write_file(const std::string& path, bool force, const invocation& inv, const deepnet_params& p,
                const deepnet_result& r, const maps_result& fixed) {
  auto f = store::file::create(path, {.force = force, .command_line = inv.command_line,
                                      .config_toml = inv.options.resolved_toml(),
                                      .seed = static_cast<std::uint64_t>(p.seed), .product = "deepnet"});
  auto g = f.group_at("/deepnet");
  g.attr("phi", p.phi.spec());
  g.attr("sigma_w", p.sigma_w);
  g.attr("sigma_b", p.sigma_b);
  g.attr("n", p.n);
  g.attr("layers", p.layers);
  g.attr("nets", p.nets);
  g.attr("q0", p.q0);
  g.attr("c0", p.c0);
  g.attr("seed", p.seed);
  g.attr("q_star", fixed.q_star.value_or(std::nan("")));
  g.attr("c_star", fixed.c_star.value_or(std::nan("")));
  g.attr("chi_1", fixed.chi_1);
  g.attr("phase", std::string(to_string(fixed.phase)));
  std::vector<std::int64_t> layer(r.layers + 1), net(r.nets);
  for (std::int64_t l = 0; l <= r.layers; ++l) layer[l] = l;
  for (std::int64_t k = 0; k < r.nets; ++k) net[k] = k;
  g.write_scale("layer", layer, {.description = "layer index l (0: the inputs)"});
  g.write_scale("net", net, {.description = "index of the random network"});
  const std::vector<std::uint64_t> shape{std::uint64_t(r.nets), std::uint64_t(r.layers + 1)};
  const std::vector<std::string> per_net{"net", "layer"}, per_layer{"layer"};
  g.write("q1", r.q1, {.description = "|h^l_1|^2 / N of input 1", .units = "h^2", .dims = per_net}, shape);
  g.write("q2", r.q2, {.description = "|h^l_2|^2 / N of input 2", .units = "h^2", .dims = per_net}, shape);
  g.write("c", r.c, {.description = "h^l_1 . h^l_2 / (|h^l_1| |h^l_2|)", .dims = per_net}, shape);
  g.write("lambda", r.lambda, {.description = "(1/2) ln(|v^l|^2 / |v^{l-1}|^2) of a tangent vector at input 1 "
                                              "(NaN at l = 0)", .units = "1/layer", .dims = per_net}, shape);
  auto layer_ds = [&](const char* name, const std::vector<double>& v, const std::string& what, const char* units = "") {
    g.write(name, v, {.description = what, .units = units, .dims = per_layer});
  };
  layer_ds("q1_mean", r.q1_mean, "mean over networks of q1", "h^2");
  layer_ds("q1_sem", r.q1_sem, "standard error of q1_mean (NaN for one network)", "h^2");
  layer_ds("q2_mean", r.q2_mean, "mean over networks of q2", "h^2");
  layer_ds("q2_sem", r.q2_sem, "standard error of q2_mean", "h^2");
  layer_ds("c_mean", r.c_mean, "mean over networks of c");
  layer_ds("c_sem", r.c_sem, "standard error of c_mean");
  layer_ds("lambda_mean", r.lambda_mean, "mean over networks of lambda", "1/layer");
  layer_ds("lambda_sem", r.lambda_sem, "standard error of lambda_mean", "1/layer");
  layer_ds("q_map", r.q_map, "the length map iterated from q0: q^l = V(q^{l-1})", "h^2");
  layer_ds("c_map", r.c_map, "the correlation map iterated from (q0, c0)");
  layer_ds("lambda_map", r.lambda_map, "(1/2) ln(sigma_w^2 E[phi'^2]) at q^{l-1} of the map", "1/layer");
  // The maps as curves, for the cobweb plots.
  const map_curves mc = sample_map_curves(p, r.q_map, fixed.q_star);
  g.write_scale("q_grid", mc.q, {.description = "q, the argument of the length map", .units = "h^2"});
  g.write("V", mc.V, {.description = "the length map V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2", .units = "h^2",
                      .dims = {"q_grid"}});
  g.write_scale("c_grid", mc.c, {.description = "c, the argument of the correlation map"});
  g.write("C", mc.C, {.description = "the correlation map C(c) at q = q_c (attribute)", .dims = {"c_grid"}});
  g.attr_of("C", "q_c", mc.q_c);
  g.attr_of("C", "q_c_is_fixed_point", std::int64_t(mc.q_c_is_fixed_point));
  f.finish("complete");
}

class deepnet_command final : public command {
 public:
  std::string name() const override { return "deepnet"; }
  std::string summary() const override {
    return "finite-width random deep networks: per-layer q, c and perturbation growth beside the maps";
  }
  void declare(OptionSet& opts) override {
    opts.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    opts.add("sigma-w", p_.sigma_w, "weight standard deviation times sqrt(N)");
    opts.add("sigma-b", p_.sigma_b, "bias standard deviation", "units of h");
    opts.add("n", p_.n, "width N of every layer", "neurons");
    opts.add("layers", p_.layers, "depth L", "layers");
    opts.add("nets", p_.nets, "independent random networks to average over");
    opts.add("q0", p_.q0, "empirical second moment |h^0|^2 / N of each input", "units of h^2");
    opts.add("c0", p_.c0, "empirical correlation of the two inputs");
    opts.add("seed", p_.seed, "random seed (weights, biases, inputs, tangent vector)");
    opts.add("threads", p_.threads, "threads over networks (0: all cores); results do not depend on it");
    opts.add("o,output", output_, "write the result to this HDF5 file (/deepnet, docs/FORMAT.md); none: no file");
    opts.add_flag("force", force_, "overwrite the output file if it exists");
    opts.add_flag("json", json_, "print the per-layer results as one JSON object on stdout");
    opts.add_flag("quiet", quiet_, "no progress bar and no text report");
  }

  int run(const invocation& inv) override {
    p_.phi = Activation::parse(phi_, "phi");
    p_.validate();
    if (!output_.empty()) require_writable(output_, force_);
    progress_bar bar("deepnet", quiet_ || json_);
    const deepnet_result r = run_deepnet(p_, run_control{&stop_flag(), bar.callback()});
    const maps_result fixed = solve_maps(maps_params{p_.phi, p_.sigma_w, p_.sigma_b});
    if (!output_.empty()) write_file(output_, force_, inv, p_, r, fixed);

    if (json_) {
      nlohmann::json j;
      j["phi"] = p_.phi.spec();
      j["sigma_w"] = p_.sigma_w;
      j["sigma_b"] = p_.sigma_b;
      j["n"] = p_.n;
      j["nets"] = p_.nets;
      std::vector<double> layer(r.layers + 1);
      for (std::int64_t l = 0; l <= r.layers; ++l) layer[l] = double(l);
      j["layer"] = layer;
      j["q1_mean"] = numbers(r.q1_mean);
      j["q1_sem"] = numbers(r.q1_sem);
      j["q2_mean"] = numbers(r.q2_mean);
      j["q2_sem"] = numbers(r.q2_sem);
      j["c_mean"] = numbers(r.c_mean);
      j["c_sem"] = numbers(r.c_sem);
      j["lambda_mean"] = numbers(r.lambda_mean);
      j["lambda_sem"] = numbers(r.lambda_sem);
      j["q_map"] = numbers(r.q_map);
      j["c_map"] = numbers(r.c_map);
      j["lambda_map"] = numbers(r.lambda_map);
      std::printf("%s\n", j.dump().c_str());
      return 0;
    }
    if (quiet_) return 0;
    std::printf("Random deep networks: phi = %s, sigma_w = %s, sigma_b = %s, N = %lld, %lld networks, seed %lld\n",
                p_.phi.spec().c_str(), format_number(p_.sigma_w).c_str(), format_number(p_.sigma_b).c_str(),
                (long long)p_.n, (long long)p_.nets, (long long)p_.seed);
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
    if (!output_.empty()) std::printf("  written to %s\n", output_.c_str());
    return 0;
  }

 private:
  std::string phi_ = "tanh";
  deepnet_params p_;
  std::string output_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_deepnet_command() { return std::make_unique<deepnet_command>(); }

}  // namespace amari::cli
