// Checkpoints and resume: a run continued from any checkpoint equals the uninterrupted run bit for
// bit (fixed and adaptive steps alike: the checkpoint holds the adaptive step size and the
// first-same-as-last derivative, and the samples already interpolated past the last one
// emitted). Through the HDF5 file: interruption, status, resume, and the CLI contract.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "amari/core/error.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "simulate_support.hpp"

using amari::simulate_params;
using amari::stepper_kind;

namespace {

simulate_params resumable(stepper_kind st) {
  simulate_params p;
  p.net.n = 120;
  p.net.model.sigma_w = 1.8;
  p.net.model.sigma_b = 0.2;
  p.replicas = 2;
  p.draws = 2;
  p.stepper = st;
  p.t_end = 30;
  p.dt_out = 0.5;
  p.record_neurons = 3;
  p.lyapunov = true;
  p.lyapunov_k = 2;
  p.transient = 5;
  p.acf_lag = 4;
  p.acf_neurons = 50;
  p.flush_interval = 1e-9;  // a checkpoint after every sample
  p.threads = 2;
  return p;
}

bool same_sample(const amari::sample& x, const amari::sample& y) {
  auto eq = [](const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
  };
  return x.t == y.t && eq(x.m, y.m) && eq(x.q, y.q) && eq(x.q2, y.q2) && eq(x.q_ab, y.q_ab) &&
         eq(x.traces, y.traces) && eq(x.lyapunov, y.lyapunov) && eq(x.phi_mean, y.phi_mean);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("amari_test_" + std::to_string(::getpid()) + "_" + name)).string();
}

}  // namespace

TEST_CASE("resuming from any checkpoint reproduces the uninterrupted run bit for bit", "[simulate][resume]") {
  for (auto st : {stepper_kind::rk4, stepper_kind::dopri5, stepper_kind::map}) {
    for (auto prec : {amari::precision_kind::float64, amari::precision_kind::float32}) {
      INFO(amari::to_string(st) << " " << amari::to_string(prec));
      simulate_params p = resumable(st);
      p.precision = prec;
      if (st == stepper_kind::map) p.dt_out = 1, p.acf_lag = 3;
      amari::test::recorder full;
      full.keep_checkpoints = true;
      const auto r_full = amari::simulate(p, full);
      REQUIRE(full.flushes.size() > 10);
      for (std::size_t which : {std::size_t(1), full.flushes.size() / 3, full.flushes.size() - 2}) {
        const amari::checkpoint& ck = full.flushes[which];
        amari::test::recorder rest;
        amari::simulate_inputs in;
        in.resume = &ck;
        const auto r_rest = amari::simulate(p, rest, {}, in);
        REQUIRE(rest.samples.size() == full.samples.size() - static_cast<std::size_t>(ck.next_sample));
        bool same = true;
        for (std::size_t k = 0; k < rest.samples.size(); ++k)
          same = same && same_sample(rest.samples[k], full.samples[ck.next_sample + k]);
        CHECK(same);
        CHECK(r_rest.steps == r_full.steps);
        CHECK(r_rest.rhs_evals == r_full.rhs_evals);
        CHECK(r_rest.lyapunov == r_full.lyapunov);
        CHECK(r_rest.lyapunov_sem == r_full.lyapunov_sem);
        CHECK(r_rest.acf == r_full.acf);
        CHECK(r_rest.stationary_q2.mean == r_full.stationary_q2.mean);
      }
    }
  }
}

TEST_CASE("an interrupted file run resumes to the same file as an uninterrupted one", "[simulate][resume]") {
  const std::string a = temp_path("full.h5"), b = temp_path("cut.h5");
  simulate_params p = resumable(stepper_kind::dopri5);
  p.flush_interval = 0.05;
  {
    auto f = amari::store::file::create(a, {.force = true, .product = "simulate"});
    amari::simulation_writer w(f, p);
    amari::simulate(p, w);
  }
  {
    auto f = amari::store::file::create(b, {.force = true, .product = "simulate"});
    amari::simulation_writer w(f, p);
    std::atomic<int> stop{0};
    amari::run_control control;
    control.stop = &stop;
    control.progress = [&](double done, double) {
      if (done >= 25) stop = SIGINT;
    };
    CHECK_THROWS_AS(amari::simulate(p, w, control), amari::Interrupted);
  }
  {
    auto f = amari::store::file::open_read(b);
    CHECK(f.status() == "interrupted");
    CHECK(f.group_at("/trajectory").shape("q")[0] == 25);
  }
  {
    auto f = amari::store::file::open_append(b);
    const simulate_params q = amari::read_simulate_params(f);
    CHECK(q.net.n == p.net.n);
    CHECK(q.stepper == p.stepper);
    const auto ck = amari::read_checkpoint(f, q);
    CHECK(ck.next_sample == 25);
    f.rewind_to_checkpoint();
    amari::simulation_writer w(f, q, true);
    amari::simulate_inputs in;
    in.resume = &ck;
    amari::simulate(q, w, {}, in);
  }
  auto fa = amari::store::file::open_read(a), fb = amari::store::file::open_read(b);
  CHECK(fb.status() == "complete");
  for (const char* ds : {"/trajectory/t", "/trajectory/q", "/trajectory/m", "/trajectory/h", "/trajectory/h_final",
                         "/replicas/c_ab", "/ensemble/q_mean", "/ensemble/q_sem", "/lyapunov/estimate",
                         "/lyapunov/exponents", "/stationary/C", "/stationary/q2"}) {
    INFO(ds);
    const std::string s(ds);
    const auto slash = s.rfind('/');
    const auto ga = fa.group_at(s.substr(0, slash)), gb = fb.group_at(s.substr(0, slash));
    const auto va = ga.read_doubles(s.substr(slash + 1)), vb = gb.read_doubles(s.substr(slash + 1));
    REQUIRE(va.size() == vb.size());
    bool same = true;
    for (std::size_t i = 0; i < va.size(); ++i) same = same && (va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i])));
    CHECK(same);
  }
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

namespace {
struct cli_result {
  int status;
  std::string out;
};
// Runs the CLI; if `ready` is given, polls it every 20 ms while the command runs and sends SIGINT
// once it returns true.
cli_result run_cli(const std::string& args, const std::function<bool()>& ready = {}) {
  const std::string out_file = temp_path("cli_out.txt");
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = std::string(AMARI_CLI_PATH) + " " + args + " > " + out_file + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (ready) {
    int st = 0;
    while (::waitpid(pid, &st, WNOHANG) == 0) {
      if (ready()) {
        ::kill(pid, SIGINT);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  std::ifstream in(out_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(out_file);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), text};
}
}  // namespace

TEST_CASE("amari simulate: JSON summary, SIGINT, --resume, bad input", "[simulate][resume][cli]") {
  const std::string a = temp_path("cli_a.h5"), b = temp_path("cli_b.h5"), none = temp_path("none.h5");
  const std::string opts = " --n 150 --t-end 600 --dt-out 0.05 --sigma-w 1.6 --replicas 2 --lyapunov --flush-interval 0.1 --quiet";
  auto full = run_cli("simulate" + opts + " --json -o " + a + " --force");
  REQUIRE(full.status == 0);
  const auto j = nlohmann::json::parse(full.out);
  for (const char* key : {"n", "t_end", "steps", "rhs_evals", "q_final", "lyapunov", "lyapunov_spectrum", "seconds"})
    CHECK(j.contains(key));
  CHECK(j["n"] == 150);
  CHECK(j["lyapunov"].get<double>() > 0);

  // Interrupt once the file holds its first flushed samples (a flush every 0.1 s of a run of 12001
  // samples that takes seconds: most of it is still to come), then resume.
  const auto first_rows = [&] {
    try {
      auto f = amari::store::file::open_read(b);
      const auto rows = f.group_at("/trajectory").shape("t").at(0);
      return rows > 0 && rows < 12001;
    } catch (const std::exception&) {
      return false;  // not created yet, or not yet flushed
    }
  };
  const auto cut = run_cli("simulate" + opts + " -o " + b + " --force", first_rows);
  REQUIRE(cut.status == 130);
  {
    CHECK_THAT(cut.out, Catch::Contains("interrupted") && Catch::Contains("--resume"));
    {
      auto f = amari::store::file::open_read(b);
      CHECK(f.status() == "interrupted");
    }
    CHECK(run_cli("simulate --resume " + b + " --n 100").status == 2);  // parameters cannot change
    const auto res = run_cli("simulate --resume " + b + " --json");
    REQUIRE(res.status == 0);
    CHECK(nlohmann::json::parse(res.out)["rhs_evals"] == j["rhs_evals"]);
    auto fa = amari::store::file::open_read(a), fb = amari::store::file::open_read(b);
    CHECK(fb.status() == "complete");
    CHECK(fa.group_at("/trajectory").read_doubles("q") == fb.group_at("/trajectory").read_doubles("q"));
    CHECK(fa.group_at("/lyapunov").read_doubles("exponents") == fb.group_at("/lyapunov").read_doubles("exponents"));
    CHECK(run_cli("simulate --resume " + b).status == 2);  // complete: nothing to resume
  }

  // Bad input: exit 2, one line naming the field, no file.
  for (const std::string bad : {"--sigma-w -1", "--stepper rk45", "--precision half", "--t-end 10.05",
                                "--n 1000000 --draws 4", "--replicas 0"}) {
    INFO(bad);
    const auto r = run_cli("simulate " + bad + " -o " + none);
    CHECK(r.status == 2);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(none));
  }
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}

TEST_CASE("a run starts from the final state of another (h0)", "[simulate][resume]") {
  const std::string a = temp_path("h0_a.h5");
  simulate_params p;
  p.net.n = 64;
  p.replicas = 2;
  p.t_end = 5;
  p.dt_out = 1;
  p.record_neurons = 64;
  {
    auto f = amari::store::file::create(a, {.force = true, .product = "simulate"});
    amari::simulation_writer w(f, p);
    amari::simulate(p, w);
  }
  const Eigen::MatrixXd h0 = amari::read_initial_state(a + ":/trajectory/h_final", p.net.n, p.replicas);
  REQUIRE(h0.cols() == 2);
  auto fa = amari::store::file::open_read(a);
  const auto traces = fa.group_at("/trajectory").read_doubles("h");  // [T, R, K]
  const std::size_t last = traces.size() - 2 * 64;
  for (std::int64_t r = 0; r < 2; ++r)
    for (std::int64_t i = 0; i < 64; ++i) CHECK(h0(i, r) == traces[last + r * 64 + i]);
  amari::simulate_inputs in;
  in.h0 = &h0;
  const auto b = amari::test::run_sim(p, in);
  for (std::int64_t r = 0; r < 2; ++r)
    for (std::int64_t i = 0; i < 64; ++i) CHECK(b.samples[0].traces[r * 64 + i] == h0(i, r));
  // Shape checks name the field.
  CHECK_THROWS_AS(amari::read_initial_state(a + ":/trajectory/h_final", 65, 2), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::read_initial_state(a + ":/trajectory/nothing", 64, 2), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::read_initial_state(a, 64, 2), amari::InvalidArgument);
  std::filesystem::remove(a);
}
