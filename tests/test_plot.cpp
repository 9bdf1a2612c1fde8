// tools/plot on files of every product, written by the commands themselves: each product's own
// figures (docs/FORMAT.md layouts, theory overlays) are rendered to PNG and PDF. They need
// python3-h5py and python3-matplotlib, which tools/test installs (tools/setup --plot); without them
// the tests fail, saying so, rather than pass having checked nothing.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "store_test_util.hpp"

using amari::test::run_shell;
using amari::test::temp_dir;

namespace {

bool have_python_plotting() {
  return run_shell("/usr/bin/python3 -c 'import h5py, matplotlib'").status == 0;
}

void make(const std::string& args) {
  const auto r = run_shell(std::string(AMARI_CLI_PATH) + " " + args);
  INFO(args << "\n" << r.out);
  REQUIRE(WIFEXITED(r.status));
  REQUIRE(WEXITSTATUS(r.status) == 0);
}

// Plots `file` into dir/fig and checks that every figure `stem_name` exists as PNG and PDF (a
// rendered figure with axes, labels and lines is well above 5 kB in both formats).
std::string check_figures(const temp_dir& dir, const std::string& file, const std::vector<std::string>& names,
                          const std::string& options = "") {
  const std::string fig = (dir / "fig").string();
  const auto r = run_shell(std::string(AMARI_SOURCE_DIR) + "/tools/plot '" + (dir / file).string() + "' -o '" + fig +
                           "' " + options);
  INFO(r.out);
  REQUIRE(WEXITSTATUS(r.status) == 0);
  CHECK_THAT(r.out, !Catch::Contains("Warning"));
  const std::string stem = std::filesystem::path(file).stem().string();
  for (const auto& name : names)
    for (const char* ext : {".png", ".pdf"}) {
      const auto path = std::filesystem::path(fig) / (stem + "_" + name + ext);
      INFO(path);
      REQUIRE(std::filesystem::exists(path));
      CHECK(std::filesystem::file_size(path) > 5000);
    }
  return r.out;
}

}  // namespace

TEST_CASE("tools/plot draws each product's own figures", "[plot][cli]") {
  INFO("tools/plot needs python3-h5py and python3-matplotlib: run tools/setup --plot");
  REQUIRE(have_python_plotting());
  temp_dir dir;
  SECTION("simulate: chaotic, replicas, Lyapunov, the mean-field and DMFT overlays") {
    make("simulate --n 200 --sigma-w 2 --replicas 3 --t-end 16 --dt-out 0.2 --lyapunov --lyapunov-k 2 "
         "--acf-lag 5 --record-neurons 3 --quiet -o " + (dir / "sim.h5").string());
    check_figures(dir, "sim.h5", {"trajectory_m_q", "trajectory_series_t", "replicas_overlaps", "lyapunov_estimate",
                                  "stationary_autocorrelation", "meanfield_m_q", "dmft_delta"});
  }
  SECTION("simulate: several draws, w0 != 0 (no DMFT)") {
    make("simulate --n 100 --sigma-w 0.8 --w0 0.6 --m0 0.5 --draws 3 --t-end 8 --quiet -o " + (dir / "ens.h5").string());
    check_figures(dir, "ens.h5", {"trajectory_m_q", "stationary_autocorrelation", "meanfield_m_q"});
  }
  SECTION("simulate: a file of format version 1 (tests/data), with its error bars") {
    std::filesystem::copy_file(std::string(AMARI_SOURCE_DIR) + "/tests/data/v1_complete.h5", dir / "v1.h5");
    check_figures(dir, "v1.h5", {"trajectory_m_q", "lyapunov_estimate", "stationary_autocorrelation", "meanfield_m_q",
                                 "dmft_delta"});
  }
  SECTION("meanfield, dmft, maps") {
    make("meanfield --sigma-w 0.9 --w0 1.5 --b0 0.1 --quiet -o " + (dir / "mf.h5").string());
    check_figures(dir, "mf.h5", {"meanfield_m_q"});
    make("dmft --sigma-w 1.8 --sigma-b 0.2 --quiet -o " + (dir / "dm.h5").string());
    check_figures(dir, "dm.h5", {"dmft_delta"});
    make("maps --sigma-w 2.5 --sigma-b 0.3 --quiet -o " + (dir / "maps.h5").string());
    check_figures(dir, "maps.h5", {"maps_fixed_points"});
  }
  SECTION("phase: heat maps with the edge of chaos") {
    make("phase --sigma-w 0.5:4:30 --sigma-b 0:1:12 --quiet -o " + (dir / "phase.h5").string());
    check_figures(dir, "phase.h5", {"phase_map_phase", "phase_map_chi_1", "phase_map_q_star", "phase_map_c_star",
                                    "phase_map_xi_c"});
  }
  SECTION("sweep: a result against one axis, a band over seeds, the DMFT's lambda_max beside the Lyapunov exponent") {
    make("sweep --quiet -o " + (dir / "lyap.h5").string() +
         " simulate --n 100 --t-end 20 --lyapunov --sigma-w 1.5,2,2.5 --seed 1,2 --phi tanh,erf");
    // One line per phi; the DMFT overlay through the CLI given (no warning that it is missing).
    const std::string out = check_figures(dir, "lyap.h5", {"sweep_lyapunov", "sweep_q_final", "sweep_stationary_q"},
                                          std::string("--amari '") + AMARI_CLI_PATH + "'");
    CHECK_THAT(out, !Catch::Contains("DMFT overlay"));
    // Another result, another axis, an axis fixed; and what is refused.
    const auto fixed = check_figures(dir, "lyap.h5", {"sweep_q_final"}, "--result q_final --x seed --fix phi=erf");
    CHECK_THAT(fixed, !Catch::Contains("lyapunov"));
    const auto bad = run_shell(std::string(AMARI_SOURCE_DIR) + "/tools/plot '" + (dir / "lyap.h5").string() +
                               "' -o '" + (dir / "fig").string() + "' --result nope");
    CHECK(WEXITSTATUS(bad.status) != 0);
    CHECK_THAT(bad.out, Catch::Contains("result = nope: not a result of this sweep"));
  }
  SECTION("deepnet: panels A-D and the perturbation growth") {
    make("deepnet --sigma-w 2.5 --sigma-b 0.3 --n 200 --layers 12 --nets 5 --quiet -o " + (dir / "deep.h5").string());
    check_figures(dir, "deep.h5", {"deepnet_maps", "deepnet_lambda"});
    make("deepnet --phi relu --sigma-w 2 --sigma-b 0.3 --n 100 --layers 8 --nets 3 --quiet -o " + (dir / "relu.h5").string());
    check_figures(dir, "relu.h5", {"deepnet_maps"});
  }
}
