// The theories that amari simulate writes next to its measurements (/meanfield, /dmft;
// include/amari/io/layout/theory.hpp): the same layout and the same numbers as amari meanfield and
// amari dmft at the same parameters, the reasons written when a theory does not apply or fails,
// and a failing theory that does not fail the simulation.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "amari/io/store.hpp"
#include "store_test_util.hpp"

namespace st = amari::store;
using amari::test::run_shell;
using amari::test::temp_dir;

namespace {

int cli(const std::string& args, std::string* out = nullptr) {
  const auto r = run_shell(std::string(AMARI_CLI_PATH) + " " + args);
  if (out) *out = r.out;
  INFO(args << "\n" << r.out);
  return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
}

// Every dataset of group `g` in file a equals the one in file b, bit for bit (NaN = NaN).
void same_group(const std::string& a, const std::string& b, const std::string& g,
                const std::vector<std::string>& names) {
  auto fa = st::file::open_read(a), fb = st::file::open_read(b);
  auto ga = fa.group_at(g), gb = fb.group_at(g);
  for (const auto& n : names) {
    INFO(g << "/" << n);
    REQUIRE(ga.has(n));
    REQUIRE(gb.has(n));
    CHECK(ga.shape(n) == gb.shape(n));
    CHECK(fa.info(g + "/" + n).dims == fb.info(g + "/" + n).dims);
    const auto x = ga.read_doubles(n), y = gb.read_doubles(n);
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK((x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))));
  }
}

}  // namespace

TEST_CASE("simulate writes /meanfield equal to amari meanfield at the same parameters", "[simulate][theory][cli]") {
  temp_dir dir;
  const std::string sim = dir / "sim.h5", mf = dir / "mf.h5";
  const std::string net = "--phi tanh --sigma-w 0.8 --sigma-b 0.2 --w0 0.5 --b0 0.1 --m0 0.3 --q0 1.5";
  REQUIRE(cli("simulate --n 100 " + net + " --t-end 10 --dt-out 0.5 --stepper rk4 --dt 0.05 --quiet -o " + sim) == 0);
  REQUIRE(cli("meanfield " + net + " --t-end 10 --dt-out 0.5 --quiet -o " + mf) == 0);
  // The sample times k * 0.5 are the meanfield grid too, so both integrations take the same steps:
  // the numbers agree bit for bit (one writer, one solver).
  same_group(sim, mf, "/meanfield", {"t", "m", "q"});
  same_group(sim, mf, "/meanfield/fixed_points",
             {"fixed_point", "m", "q", "eigenvalues_real", "eigenvalues_imag", "stable", "chi_1", "network_stable"});
  auto f = st::file::open_read(sim), g = st::file::open_read(mf);
  auto a = f.group_at("/meanfield"), b = g.group_at("/meanfield");
  for (const char* k : {"w0", "b0", "sigma_w", "sigma_b", "m0", "q0", "rtol", "atol"}) CHECK(a.attr_double(k) == b.attr_double(k));
  CHECK(a.attr_string("phi") == b.attr_string("phi"));
  CHECK(a.attr_int("final_fixed_point") == b.attr_int("final_fixed_point"));
  CHECK(f.group_at("/meanfield").shape("t") == f.group_at("/trajectory").shape("t"));
  CHECK(f.group_at("/meanfield").read_doubles("t") == f.group_at("/trajectory").read_doubles("t"));
  CHECK(f.info("/meanfield/q").dims == std::vector<std::string>{"t"});
  // w0 != 0: no DMFT, and the reason.
  CHECK_FALSE(f.has("/dmft"));
  CHECK(f.group_at("/trajectory").attr_string("dmft_skipped") ==
        "the DMFT (amari dmft) treats w0 = b0 = 0; this run has w0 = 0.5, b0 = 0.1");
  CHECK_FALSE(f.group_at("/trajectory").has_attr("meanfield_skipped"));
  CHECK(f.status() == "complete");
}

TEST_CASE("simulate writes /dmft on the lags of C(tau), equal to amari dmft", "[simulate][theory][cli]") {
  temp_dir dir;
  const std::string sim = dir / "sim.h5", dm = dir / "dm.h5";
  REQUIRE(cli("simulate --n 200 --phi tanh --sigma-w 2 --sigma-b 0.3 --t-end 12 --dt-out 0.1 --acf-lag 4 "
              "--lyapunov --quiet -o " + sim) == 0);
  REQUIRE(cli("dmft --phi tanh --sigma-w 2 --sigma-b 0.3 --tau-max 4 --dt-out 0.1 --quiet -o " + dm) == 0);
  same_group(sim, dm, "/dmft", {"tau", "delta"});
  auto f = st::file::open_read(sim), g = st::file::open_read(dm);
  auto a = f.group_at("/dmft"), b = g.group_at("/dmft");
  for (const char* k : {"delta_0", "delta_inf", "q_static", "chi_1", "decay_time", "lyapunov", "transition_sigma_w"})
    CHECK(a.attr_double(k) == b.attr_double(k));
  CHECK(a.attr_int("chaotic") == 1);
  // The DMFT's lags are the lags of the measured C(tau).
  CHECK(a.read_doubles("tau") == f.group_at("/stationary").read_doubles("tau"));
  // And the ODE is there too (with the note that its fixed point is unstable in the network).
  REQUIRE(f.has("/meanfield"));
  CHECK(f.group_at("/meanfield").has_attr("note"));
  CHECK_FALSE(f.group_at("/trajectory").has_attr("dmft_skipped"));
}

TEST_CASE("simulate: theories that do not apply or fail write a reason, never fail the run", "[simulate][theory][cli]") {
  temp_dir dir;
  SECTION("the map") {
    const std::string sim = dir / "map.h5";
    REQUIRE(cli("simulate --n 50 --stepper map --t-end 5 --quiet -o " + sim) == 0);
    auto f = st::file::open_read(sim);
    CHECK_FALSE(f.has("/meanfield"));
    CHECK_FALSE(f.has("/dmft"));
    CHECK_THAT(f.group_at("/trajectory").attr_string("meanfield_skipped"), Catch::Contains("--stepper map"));
    CHECK_THAT(f.group_at("/trajectory").attr_string("dmft_skipped"), Catch::Contains("--stepper map"));
    CHECK(f.status() == "complete");
  }
  SECTION("relu beyond sigma_w^2 = 2: the DMFT has no solution (it throws); the run completes") {
    const std::string sim = dir / "relu.h5";
    REQUIRE(cli("simulate --n 50 --phi relu --sigma-w 2 --t-end 3 --stepper rk4 --dt 0.05 --quiet -o " + sim) == 0);
    auto f = st::file::open_read(sim);
    CHECK_FALSE(f.has("/dmft"));
    CHECK_THAT(f.group_at("/trajectory").attr_string("dmft_skipped"), Catch::StartsWith("the DMFT failed: "));
    CHECK(f.has("/meanfield"));
    CHECK(f.status() == "complete");
  }
  SECTION("--h0: the ODE starts from the measured m(0), q(0)") {
    const std::string first = dir / "first.h5", sim = dir / "h0.h5";
    REQUIRE(cli("simulate --n 80 --sigma-w 0.5 --m0 1 --q0 2 --t-end 2 --quiet -o " + first) == 0);
    REQUIRE(cli("simulate --n 80 --sigma-w 0.5 --t-end 2 --h0 " + first + ":/trajectory/h_final --quiet -o " + sim) == 0);
    auto f = st::file::open_read(sim);
    auto mf = f.group_at("/meanfield"), tr = f.group_at("/trajectory");
    CHECK(mf.has_attr("initial_state"));
    // One replica of one draw: the measured first sample is the initial state of the ODE, exactly.
    CHECK(mf.read_doubles("m").at(0) == tr.read_doubles("m").at(0));
    CHECK(mf.read_doubles("q").at(0) == tr.read_doubles("q").at(0));
    CHECK(mf.attr_double("q0") == tr.read_doubles("q").at(0));
  }
}
