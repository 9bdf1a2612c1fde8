// amari phase: the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

// /phase of docs/FORMAT.md.
void write_file(const std::string& path, bool force, const invocation& inv, const phase_params& p,
                const phase_diagram& d) {
  auto f = store::file::create(path, {.force = force, .command_line = inv.command_line,
                                      .config_toml = inv.options.resolved_toml(), .product = "phase"});
  auto g = f.group_at("/phase");
  g.attr("phi", p.phi.spec());
  g.attr("sigma_w_range", p.sigma_w.spec());
  g.attr("sigma_b_range", p.sigma_b.spec());
  g.attr("critical_band", critical_band);
  g.write_scale("sigma_w", d.sigma_w, {.description = "weight standard deviation times sqrt(N)"});
  g.write_scale("sigma_b", d.sigma_b, {.description = "bias standard deviation", .units = "h"});
  const std::vector<std::uint64_t> shape{d.sigma_b.size(), d.sigma_w.size()};
  const std::vector<std::string> dims{"sigma_b", "sigma_w"};
  auto grid = [&](const char* name, const std::vector<double>& v, const std::string& what, const char* units = "") {
    g.write(name, v, {.description = what, .units = units, .dims = dims}, shape);
  };
  grid("q_star", d.q_star, "fixed point of the length map reached from q = 1 (0: collapse; NaN: divergent)", "h^2");
  grid("c_star", d.c_star, "fixed point of the correlation map reached from c = 0.5 (NaN: undefined)");
  grid("chi_1", d.chi_1, "sigma_w^2 E[phi'(sqrt(q*) z)^2]");
  grid("chi_c", d.chi_c, "sigma_w^2 E[phi'(u1) phi'(u2)] at c* (NaN: undefined)");
  grid("chi_q", d.chi_q, "V'(q*) (NaN: divergent)");
  grid("xi_c", d.xi_c, "-1 / ln chi_c (inf: infinite; NaN: undefined)", "layers");
  grid("xi_q", d.xi_q, "-1 / ln chi_q (inf: infinite; NaN: undefined)", "layers");
  g.write("layers_to_1pct", d.layers_to_1pct,
          {.description = "least l >= 1 with |q^l - q*| / q* < 0.01 from q^0 = 10 (-1: undefined)",
           .units = "layers", .dims = dims}, shape);
  g.write("phase", d.phase, {.description = "0 ordered (chi_1 < 1), 1 critical (|chi_1 - 1| < 1e-9), "
                                            "2 chaotic (chi_1 > 1), 3 divergent", .dims = dims}, shape);
  g.attr_of("phase", "flag_meanings", std::string("ordered critical chaotic divergent"));
  std::vector<double> edge_w(d.edge.size()), edge_q(d.edge.size());
  for (std::size_t i = 0; i < d.edge.size(); ++i) {
    edge_w[i] = d.edge[i].sigma_w;
    edge_q[i] = d.edge[i].q_star.value_or(std::nan(""));
  }
  g.write("edge_sigma_w", edge_w, {.description = "the edge of chaos: sigma_w with chi_1 = 1 at each sigma_b",
                                   .dims = {"sigma_b"}});
  g.write("edge_q_star", edge_q, {.description = "q* on the edge of chaos (NaN: divergent)", .units = "h^2",
                                  .dims = {"sigma_b"}});
  f.finish("complete");
}

class phase_command final : public command {
 public:
  std::string name() const override { return "phase"; }
  std::string summary() const override {
    return "the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5";
  }
  void declare(OptionSet& opts) override {
    opts.add("phi", phi_, "activation function: " + std::string(Activation::accepted_forms()));
    opts.add("sigma-w", sigma_w_, "weight standard deviations times sqrt(N): start:stop:count (or one value)");
    opts.add("sigma-b", sigma_b_, "bias standard deviations: start:stop:count (or one value)", "units of h");
    opts.add("threads", p_.threads, "threads (0: all cores); results do not depend on it");
    opts.add("o,output", output_, "the HDF5 file to write (/phase, docs/FORMAT.md); required");
    opts.add_flag("force", force_, "overwrite the output file if it exists");
    opts.add_flag("quiet", quiet_, "no progress bar and no text report");
  }

  int run(const invocation& inv) override {
    p_.phi = Activation::parse(phi_, "phi");
    p_.sigma_w = grid_axis::parse(sigma_w_, "sigma_w");
    p_.sigma_b = grid_axis::parse(sigma_b_, "sigma_b");
    p_.validate();
    if (output_.empty())
      throw InvalidArgument("output", "(none)", "amari phase writes an HDF5 file: give -o FILE.h5");
    require_writable(output_, force_);
    const auto t0 = std::chrono::steady_clock::now();
    progress_bar bar("phase", quiet_);
    const phase_diagram d = compute_phase_diagram(p_, {}, run_control{&stop_flag(), bar.callback()});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    write_file(output_, force_, inv, p_, d);
    if (quiet_) return 0;
    std::size_t count[4] = {0, 0, 0, 0};
    for (auto ph : d.phase) ++count[ph];
    std::printf("Phase diagram of phi = %s over sigma_w = %s, sigma_b = %s (%zu points, %.2f s) -> %s\n",
                p_.phi.spec().c_str(), p_.sigma_w.spec().c_str(), p_.sigma_b.spec().c_str(), d.phase.size(),
                seconds, output_.c_str());
    std::printf("  ordered %zu, critical %zu, chaotic %zu, divergent %zu\n", count[0], count[1], count[2], count[3]);
    std::printf("  edge of chaos: sigma_w = %.12g at sigma_b = %s ... %.12g at sigma_b = %s\n",
                d.edge.front().sigma_w, format_number(d.sigma_b.front()).c_str(), d.edge.back().sigma_w,
                format_number(d.sigma_b.back()).c_str());
    return 0;
  }

 private:
  std::string phi_ = "tanh";
  std::string sigma_w_ = "0.5:4:256", sigma_b_ = "0:1:128";
  phase_params p_;
  std::string output_;
  bool force_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_phase_command() { return std::make_unique<phase_command>(); }

}  // namespace amari::cli
