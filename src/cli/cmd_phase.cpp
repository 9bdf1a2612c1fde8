// amari phase: the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/layout/phase.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class phase_command final : public command {
 public:
  std::string name() const override { return "phase"; }
  std::string summary() const override {
    return "the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5";
  }
  void declare(OptionSet& opts) override {
    opts.add_params(phase_params::table(), p_);
    opts.add("output", output_, "the HDF5 file to write (/phase, docs/FORMAT.md); required");
    opts.add("force", force_);
    opts.add("quiet", quiet_);
  }

  int run(const invocation& inv) override {
    p_.validate();
    if (output_.empty())
      throw InvalidArgument("output", "(none)", "amari phase writes an HDF5 file: give -o FILE.h5");
    require_writable(output_, force_);
    const auto t0 = std::chrono::steady_clock::now();
    progress_bar bar("phase", quiet_);
    const phase_diagram d = compute_phase_diagram(p_, {}, run_control{&stop_flag(), bar.callback()});
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    {
      auto f = create_output(inv, "phase", output_, force_);
      layout::phase::write(f, p_, d);
      f.finish("complete");
    }
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
  phase_params p_;
  std::string output_;
  bool force_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_phase_command() { return std::make_unique<phase_command>(); }

}  // namespace amari::cli
