// The tools' own contracts that the rest of the suite does not exercise: tools/bench installs what
// it needs (tools/setup --bench) before anything else, and stops when that fails.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_run.hpp"
#include "store_test_util.hpp"

namespace fs = std::filesystem;

TEST_CASE("tools/bench runs tools/setup --bench first, and stops when it fails", "[tools]") {
  // tools/bench finds everything relative to its own directory: a copy of it beside a stand-in
  // tools/setup that records its arguments and exits with $STUB_EXIT.
  amari::test::scratch_dir dir;
  fs::create_directories(dir.path / "tools");
  fs::copy_file(fs::path(AMARI_SOURCE_DIR) / "tools" / "bench", dir.path / "tools" / "bench");
  {
    std::ofstream stub(dir / "tools/setup");
    stub << "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/../setup_calls\"\nexit ${STUB_EXIT:-0}\n";
  }
  fs::permissions(dir.path / "tools" / "setup", fs::perms::owner_all, fs::perm_options::add);
  std::string bench = "'";  // (appended piecewise: g++ 12 misreads "'" + s, -Wrestrict)
  bench += dir / "tools/bench";
  bench += "' --quick --dry-run --no-build";
  auto calls = [&] { return fs::exists(dir.path / "setup_calls") ? amari::test::slurp(dir.path / "setup_calls") : ""; };

  // Bad options are refused before anything is installed.
  auto r = amari::test::run_shell(bench + " --only nothing");
  CHECK(WEXITSTATUS(r.status) == 2);
  CHECK(calls().empty());
  // A failing setup stops it, with the reason, before the dry run says anything.
  r = amari::test::run_shell(std::string("STUB_EXIT=3 ").append(bench));
  INFO(r.out);
  CHECK(WEXITSTATUS(r.status) == 1);
  CHECK_THAT(r.out, Catch::Contains("tools/setup --bench failed (exit 3)"));
  CHECK_THAT(r.out, !Catch::Contains("dry run"));
  CHECK(calls() == "--bench\n");
  // When setup succeeds, the dry run goes on (here it then reports the files this copy lacks).
  r = amari::test::run_shell(bench);
  CHECK_THAT(r.out, Catch::Contains("dry run (nothing is measured)"));
  CHECK(calls() == "--bench\n--bench\n");
}
