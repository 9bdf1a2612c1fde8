// --config FILE.toml for every command (issue 7): the example configs of data/ run and write their
// file, the resolved configuration is stored in it, the command line overrides the file; and
// `--help` / `--version` answer for every command.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "amari/io/store.hpp"
#include "cli_run.hpp"

namespace {

namespace fs = std::filesystem;
using amari::test::run_amari;
using amari::test::scratch_dir;
using amari::test::slurp;

// The "key = value" lines of a config file, comments and blank lines left out.
std::vector<std::string> settings(const fs::path& toml) {
  std::vector<std::string> out;
  std::ifstream in(toml);
  for (std::string line; std::getline(in, line);) {
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '"') quoted = !quoted;
      if (line[i] == '#' && !quoted) {
        line.resize(i);
        break;
      }
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string value_of(const std::vector<std::string>& lines, const std::string& key) {
  for (const auto& l : lines)
    if (l.rfind(key + " = ", 0) == 0) return l.substr(key.size() + 3);
  return "";
}

const char* const all_commands[] = {"simulate", "meanfield", "dmft", "maps", "edge",
                                     "phase",    "deepnet",   "finite",    "inspect"};

}  // namespace

TEST_CASE("data/: every example config runs, writes its file and stores the configuration in it", "[cli][config]") {
  const fs::path data = fs::path(AMARI_SOURCE_DIR) / "data";
  // One example per command that has options to configure (inspect has only --json/--quiet).
  for (const char* cmd : {"simulate", "meanfield", "dmft", "maps", "edge", "phase", "deepnet", "finite", "compare"}) {
    const fs::path toml = data / (std::string(cmd) + ".toml");
    INFO(toml.string());
    REQUIRE(fs::exists(toml));
    const auto lines = settings(toml);
    REQUIRE(!lines.empty());
    scratch_dir dir;
    const auto r = run_amari(std::string(cmd) + " --config '" + toml.string() + "'", dir.path);
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(!r.out.empty());  // the human summary
    std::string output = value_of(lines, "output");
    if (output.empty()) {
      // edge writes no file: its --json is the product.
      const auto j = run_amari(std::string(cmd) + " --config '" + toml.string() + "' --json", dir.path);
      REQUIRE(j.status == 0);
      const auto parsed = nlohmann::json::parse(j.out);
      CHECK(parsed.is_array());
      CHECK(parsed.size() == 6);  // sigma_b = "0:1:6"
      continue;
    }
    output = output.substr(1, output.size() - 2);  // unquote
    REQUIRE(fs::exists(dir.path / output));
    auto f = amari::store::file::open_read((dir.path / output).string());
    CHECK(f.root().attr_string("status") == "complete");
    CHECK(f.root().attr_string("product") == cmd);
    // The stored configuration holds every setting of the example, as written there.
    const std::string stored = f.root().attr_string("config");
    for (const auto& l : lines) CHECK_THAT(stored, Catch::Contains(l + "\n"));
    // inspect reads it.
    const auto inspect = run_amari("inspect --json " + output, dir.path);
    CHECK(inspect.status == 0);
    CHECK(nlohmann::json::parse(inspect.out).is_object());
  }
}

TEST_CASE("config files: the command line overrides the file, the file overrides the defaults", "[cli][config]") {
  scratch_dir dir;
  const fs::path toml = fs::path(AMARI_SOURCE_DIR) / "data" / "maps.toml";
  const auto r = run_amari("maps --config '" + toml.string() + "' --sigma-w 1.5 -o m.h5 --json", dir.path);
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["sigma_w"].get<double>() == 1.5);  // command line
  CHECK(j["sigma_b"].get<double>() == 0.3);  // file (default 0)
  CHECK(j.contains("fixed_points"));         // all_fixed_points = true from the file
  auto f = amari::store::file::open_read((dir.path / "m.h5").string());
  const std::string stored = f.root().attr_string("config");
  CHECK_THAT(stored, Catch::Contains("sigma_w = 1.5\n"));
  CHECK_THAT(stored, Catch::Contains("sigma_b = 0.3\n"));
  CHECK_THAT(stored, Catch::Contains("output = \"m.h5\"\n"));
  CHECK_THAT(f.root().attr_string("command_line"), Catch::Contains("--sigma-w 1.5"));

  // A flag on the command line wins over `false` in the file; the text options read TOML numbers.
  std::ofstream(dir / "d.toml") << "json = false\nsigma_w = 2\nsigma_b = 0\ntau_max = 2\ndt_out = 1\n";
  const auto d = run_amari("dmft --config d.toml --json", dir.path);
  REQUIRE(d.status == 0);
  CHECK(nlohmann::json::parse(d.out)["tau"].size() == 3);
  std::ofstream(dir / "e.toml") << "sigma_b = 0.3\n";
  const auto e = run_amari("edge --config e.toml --json", dir.path);
  REQUIRE(e.status == 0);
  CHECK(nlohmann::json::parse(e.out)["sigma_b"].get<double>() == 0.3);
}

TEST_CASE("config files: every command accepts --config and refuses unknown keys with a did-you-mean", "[cli][config]") {
  scratch_dir dir;
  std::ofstream(dir / "typo.toml") << "quite = true\n";
  for (const char* cmd : all_commands) {
    INFO(cmd);
    const auto r = run_amari(std::string(cmd) + " --config typo.toml" + (std::string(cmd) == "inspect" ? " x.h5" : ""),
                             dir.path);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains("unknown key 'quite' for `amari " + std::string(cmd) + "`"));
    CHECK_THAT(r.err, Catch::Contains("did you mean 'quiet'?"));
  }
}

TEST_CASE("amari --help, <command> --help and --version", "[cli][help]") {
  scratch_dir dir;
  const auto top = run_amari("--help", dir.path);
  CHECK(top.status == 0);
  for (const char* cmd : all_commands) CHECK_THAT(top.out, Catch::Contains(cmd));
  CHECK_THAT(top.out, Catch::Contains("compare"));
  const auto version = run_amari("--version", dir.path);
  CHECK(version.status == 0);
  CHECK(version.out.rfind("amari ", 0) == 0);
  for (const char* cmd : all_commands) {
    INFO(cmd);
    const auto h = run_amari(std::string(cmd) + " --help", dir.path);
    CHECK(h.status == 0);
    CHECK_THAT(h.out, Catch::Contains("--config FILE.toml"));
    CHECK_THAT(h.out, Catch::Contains("--quiet"));
  }
  // Defaults and units are shown with the options (spot checks, one per kind of option).
  const auto sim = run_amari("simulate --help", dir.path).out;
  CHECK_THAT(sim, Catch::Contains("--n INT") && Catch::Contains("[default: 1000 neurons]"));
  CHECK_THAT(sim, Catch::Contains("--t-end X") && Catch::Contains("leak time constants"));
  CHECK_THAT(sim, Catch::Contains("default: 1000"));
  CHECK_THAT(sim, Catch::Contains("default: dopri5"));
}

// src/cli/main.cpp starts itself again with OMP_WAIT_POLICY=PASSIVE when the user set no OpenMP
// wait policy (the suite sets one for every test, so this is the only test of that path): the
// arguments -- with spaces and quotes -- and the exit codes must come through unchanged.
TEST_CASE("without OMP_WAIT_POLICY amari restarts itself with its arguments and exit codes intact", "[cli]") {
  scratch_dir dir;
  const std::string amari = "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT -u AMARI_NO_REEXEC '" +
                            std::string(AMARI_CLI_PATH) + "'";
  auto run = [&](const std::string& args) {
    const std::string cmd = "cd '" + dir.path.string() + "' && " + amari + " " + args + " < /dev/null > out 2> err";
    const int raw = std::system(cmd.c_str());
    return std::make_pair(WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir.path / "out") + slurp(dir.path / "err"));
  };
  const auto ok = run("maps --phi 'tanh:g=1.5' --sigma-w 2 --json");
  REQUIRE(ok.first == 0);
  const auto j = nlohmann::json::parse(ok.second);
  CHECK(j["phi"] == "tanh:g=1.5");
  CHECK(j["sigma_w"] == 2.0);
  const auto bad = run("maps --phi 'tanh with spaces' --json");
  CHECK(bad.first == 2);
  CHECK_THAT(bad.second, Catch::Contains("tanh with spaces"));
  // The command line recorded in a file is the one the user typed.
  const auto file = run("maps --sigma-w 1.5 -o 'a b.h5'");
  REQUIRE(file.first == 0);
  const auto shown = run("inspect 'a b.h5'");
  REQUIRE(shown.first == 0);
  CHECK_THAT(shown.second, Catch::Contains("maps --sigma-w 1.5 -o 'a b.h5'"));
}
