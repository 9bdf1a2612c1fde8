// amari sweep (src/cli/cmd_sweep.cpp, io/layout/sweep.hpp): a command over the grid of its options.
// Every number of a sweep must be the number the command prints on its own at that point, bit for
// bit; the seed reduction is the plain mean and sample standard error; bad input is refused before
// anything runs; an interrupted sweep resumes to the file an uninterrupted one writes.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "amari/io/store.hpp"
#include "cli_run.hpp"

namespace {

using amari::test::run_amari;
using amari::test::scratch_dir;
using nlohmann::json;

}  // namespace

TEST_CASE("sweep of maps: every grid value is what amari maps prints at that point", "[sweep][cli]") {
  scratch_dir dir;
  const auto r = run_amari("sweep --json -o s.h5 maps --sigma-w 1:2.5:4 --sigma-b 0,0.3 --phi tanh,erf", dir.path);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json s = json::parse(r.out);
  CHECK(s["command"] == "maps");
  CHECK(s["points"] == 16);
  CHECK(s["done"] == 16);
  const std::vector<double> sw = s["axes"]["sigma_w"];
  REQUIRE(sw == std::vector<double>{1.0, 1.5, 2.0, 2.5});
  const std::vector<double> sb = s["axes"]["sigma_b"];
  REQUIRE(sb == std::vector<double>{0.0, 0.3});
  const std::vector<std::string> phi = s["axes"]["phi"];
  REQUIRE(phi == std::vector<std::string>{"tanh", "erf"});
  int compared = 0;
  for (std::size_t i = 0; i < sw.size(); ++i)
    for (std::size_t j = 0; j < sb.size(); ++j)
      for (std::size_t k = 0; k < phi.size(); ++k) {
        const auto one = run_amari(fmt::format("maps --json --sigma-w {} --sigma-b {} --phi {}", sw[i], sb[j], phi[k]),
                                   dir.path);
        REQUIRE(one.status == 0);
        const json m = json::parse(one.out);
        for (const char* key : {"q_star", "chi_1", "c_star", "chi_c", "xi_c", "chi_q", "xi_q", "layers_to_1pct"}) {
          INFO(key << " at sigma_w = " << sw[i] << ", sigma_b = " << sb[j] << ", phi = " << phi[k]);
          const json& g = s[key][i][j][k];
          if (m[key].is_null()) CHECK(g.is_null());
          else CHECK(g.get<double>() == m[key].get<double>());
          ++compared;
        }
        CHECK(s["phase"][i][j][k] == m["phase"]);
      }
  CHECK(compared == 16 * 8);
  // The file: status complete; inspect summarises /sweep.
  const auto ins = run_amari("inspect s.h5", dir.path);
  CHECK(ins.status == 0);
  CHECK_THAT(ins.out, Catch::Contains("16 of 16 complete"));
}

TEST_CASE("sweep over seeds: per-seed values equal single runs, with mean and standard error over the seeds",
          "[sweep][cli]") {
  scratch_dir dir;
  const std::string opts = "--n 24 --layers 3 --nets 4 --sigma-w 1.5,2.5";
  const auto r = run_amari("sweep --json -o s.h5 deepnet " + opts + " --seed 1:3:3", dir.path);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json s = json::parse(r.out);
  const std::vector<std::int64_t> seeds = s["axes"]["seed"];
  REQUIRE(seeds == std::vector<std::int64_t>{1, 2, 3});
  REQUIRE(s.contains("q1_mean"));
  const std::vector<double> sigma{1.5, 2.5};
  for (std::size_t i = 0; i < 2; ++i) {
    std::vector<std::vector<double>> per_seed;
    for (std::int64_t seed : seeds) {
      const auto one = run_amari(fmt::format("deepnet --json --n 24 --layers 3 --nets 4 --sigma-w {} --seed {}",
                                             sigma[i], seed),
                                 dir.path);
      REQUIRE(one.status == 0);
      const std::vector<double> q = json::parse(one.out)["q1_mean"];
      const std::vector<double> g = s["q1_mean"][i][std::size_t(seed - 1)];
      CHECK(g == q);
      per_seed.push_back(q);
    }
    const std::vector<double> mean = s["q1_mean_mean_over_seed"][i], sem = s["q1_mean_sem_over_seed"][i];
    REQUIRE(mean.size() == per_seed[0].size());
    for (std::size_t l = 0; l < mean.size(); ++l) {
      const double a = per_seed[0][l], b = per_seed[1][l], c = per_seed[2][l];
      const double m = (a + b + c) / 3;
      const double sd = std::sqrt(((a - m) * (a - m) + (b - m) * (b - m) + (c - m) * (c - m)) / 2);
      CHECK(mean[l] == Approx(m).epsilon(1e-14));
      CHECK(sem[l] == Approx(sd / std::sqrt(3.0)).epsilon(1e-12).margin(1e-15));
    }
  }
}

TEST_CASE("sweep of finite: the per-layer theory over the grid is amari finite's at each point", "[sweep][cli]") {
  scratch_dir dir;
  const auto r = run_amari("sweep --json -o s.h5 finite --sigma-w 1.5,2 --sigma-b 0.2 --layers 3", dir.path);
  INFO(r.err);
  REQUIRE(r.status == 0);
  const json s = json::parse(r.out);
  REQUIRE(s["dims"] == json::array({"sigma_w"}));
  for (std::size_t i = 0; i < 2; ++i) {
    const auto one = run_amari(fmt::format("finite --json --sigma-w {} --sigma-b 0.2 --layers 3", i ? 2 : 1.5), dir.path);
    REQUIRE(one.status == 0);
    const json f = json::parse(one.out);
    for (const char* key : {"K", "var_q", "kurtosis", "mean_shift", "V", "G1"}) {
      INFO(key << " at point " << i);
      CHECK(s[key][i] == f[key]);
    }
  }
}

TEST_CASE("sweep: bad input is refused before anything runs (exit 2, one line, no file)", "[sweep][cli]") {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"sweep -o s.h5 maps --sigma-w 1,-1", {"sigma_w = -1", "at the grid point sigma_w = -1"}},
      {"sweep -o s.h5 maps --sigma-x 1,2", {"sigma_x", "unknown parameter of `amari maps`", "sigma_w"}},
      {"sweep maps --sigma-w 1,2 -o s.h5", {"-o belongs to the sweep"}},
      {"sweep maps --sigma-w 1,2 --json", {"--json belongs to the sweep"}},
      {"sweep -o s.h5 phase --sigma-w 1,2", {"command = phase", "accepted: simulate, meanfield, dmft, maps, deepnet, finite"}},
      {"sweep -o s.h5", {"needs a command"}},
      {"sweep -o s.h5 deepnet --seed 1:2:3", {"seed = '1:2:3'", "not an integer"}},
      {"sweep -o s.h5 maps --sigma-w 1:0:3", {"sigma_w"}},
      {"sweep -o s.h5 maps --sigma-w 1,2 --sigma-w 3", {"given twice"}},
      {"sweep -o s.h5 simulate --n 1000,1000000 --t-end 1", {"n = 1000000", "memory", "at the grid point n = 1000000"}},
  };
  for (const auto& [args, expected] : cases) {
    scratch_dir dir;
    const auto r = run_amari(args, dir.path);
    INFO("amari " << args << "\nstderr: " << r.err);
    CHECK(r.status == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const auto& e : expected) CHECK_THAT(r.err, Catch::Contains(e));
    CHECK_FALSE(std::filesystem::exists(dir / "s.h5"));
    CHECK_FALSE(std::filesystem::exists(dir / "sweep.h5"));
  }
}

namespace {
// Runs `amari args` in `cwd`; polls `ready` every 20 ms and sends SIGINT once it holds. The exit code
// (128 + signal when killed by one).
int run_until(const std::string& args, const std::filesystem::path& cwd, const std::function<bool()>& ready) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string cmd = "cd '" + cwd.string() + "' && exec '" + std::string(AMARI_CLI_PATH) + "' " + args +
                            " > /dev/null 2>&1";
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, WNOHANG) == 0) {
    if (ready()) {
      ::kill(pid, SIGINT);
      ::waitpid(pid, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
}  // namespace

TEST_CASE("sweep: SIGINT keeps the completed points and --resume runs the rest to the same file contents",
          "[sweep][resume][cli]") {
  scratch_dir dir;
  // Six points of a simulation of about a tenth of a second each.
  const std::string cmd = "simulate --n 200 --t-end 60 --sigma-w 1.5,2 --seed 1,2,3 --lyapunov";
  REQUIRE(run_amari("sweep --quiet -o full.h5 " + cmd, dir.path).status == 0);
  const auto some_done = [&] {
    try {
      auto f = amari::store::file::open_read(dir / "cut.h5");
      if (!f.has("/sweep/points")) return false;
      const auto n = f.group_at("/sweep/points").children().size();
      return n >= 1 && n < 6;
    } catch (const std::exception&) {
      return false;
    }
  };
  const int status = run_until("sweep --quiet -o cut.h5 " + cmd, dir.path, some_done);
  REQUIRE(status == 130);
  {
    auto f = amari::store::file::open_read(dir / "cut.h5");
    CHECK(f.status() == "interrupted");
    const auto n = f.group_at("/sweep/points").children().size();
    CHECK((n >= 1 && n < 6));
  }
  CHECK(run_amari("sweep --resume cut.h5 maps --sigma-w 1,2", dir.path).status == 2);  // nothing after FILE
  const auto res = run_amari("sweep --quiet --resume cut.h5", dir.path);
  INFO(res.err);
  REQUIRE(res.status == 0);
  auto a = amari::store::file::open_read(dir / "full.h5"), b = amari::store::file::open_read(dir / "cut.h5");
  CHECK(b.status() == "complete");
  int compared = 0;
  for (const auto& name : a.group_at("/sweep").children()) {
    if (a.info("/sweep/" + name).is_group || a.info("/sweep/" + name).type == "string") continue;
    INFO(name);
    const auto x = a.group_at("/sweep").read_doubles(name), y = b.group_at("/sweep").read_doubles(name);
    REQUIRE(x.size() == y.size());
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(((x[i] == y[i]) || (std::isnan(x[i]) && std::isnan(y[i]))));
    ++compared;
  }
  CHECK(compared >= 10);  // q_final, the stationary averages, lambda, each with errors, and the axes
  // One point against the same simulation run on its own (sigma_w = 2, seed = 3: grid point [1][2]).
  const auto one = run_amari("simulate --json --quiet -o one.h5 --n 200 --t-end 60 --sigma-w 2 --seed 3 --lyapunov",
                             dir.path);
  REQUIRE(one.status == 0);
  const auto single = nlohmann::json::parse(one.out);
  const auto grid = a.group_at("/sweep");
  for (const char* key : {"q_final", "stationary_q2", "stationary_q2_sem", "lyapunov", "lyapunov_sem"}) {
    INFO(key);
    CHECK(grid.read_doubles(key).at(1 * 3 + 2) == single[key].get<double>());
  }
  CHECK(run_amari("sweep --resume cut.h5", dir.path).status == 2);  // complete: nothing to resume
}
