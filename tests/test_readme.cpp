// Every example of README.md is run and its output compared with the README's (tests/check_readme.py):
// the README cannot go stale.
#include <catch2/catch.hpp>
#include <string>

#include "cli_run.hpp"

TEST_CASE("README: every `$ amari ...` example runs and prints what the README shows", "[cli][readme]") {
  amari::test::scratch_dir dir;
  const std::string cmd = std::string("/usr/bin/python3 '") + AMARI_SOURCE_DIR + "/tests/check_readme.py' '" +
                          AMARI_CLI_PATH + "' '" + AMARI_SOURCE_DIR + "/README.md' > '" + (dir / "log") + "' 2>&1";
  const int raw = std::system(cmd.c_str());
  const std::string log = amari::test::slurp(dir / "log");
  INFO(log);
  CHECK(WIFEXITED(raw));
  CHECK(WEXITSTATUS(raw) == 0);
  CHECK_THAT(log, Catch::Contains("README examples run, 0 failed"));
}
