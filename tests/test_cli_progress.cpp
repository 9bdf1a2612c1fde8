// The progress bar (src/cli/progress.hpp): on stderr when it is a terminal, never when it is a pipe
// or with --quiet. The runs here are short, so AMARI_PROGRESS_AFTER=0 lets the bar appear at once
// instead of after 2 s; the terminal is a pseudo-terminal (forkpty).
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_run.hpp"

namespace {

struct tty_run {
  int status = -1;
  std::string text;  // stdout and stderr as the terminal saw them
};

// Runs amari with `args` on a pseudo-terminal in `cwd`, with AMARI_PROGRESS_AFTER=0.
tty_run run_on_tty(const std::vector<std::string>& args, const std::string& cwd) {
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::setenv("AMARI_PROGRESS_AFTER", "0", 1);
    std::vector<char*> argv{const_cast<char*>(AMARI_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(AMARI_CLI_PATH, argv.data());
    ::_exit(127);
  }
  tty_run r;
  char buf[4096];
  for (;;) {
    const ssize_t k = ::read(master, buf, sizeof buf);
    if (k > 0) r.text.append(buf, std::size_t(k));
    else if (k < 0 && errno == EINTR) continue;
    else break;  // EIO once the child has exited and the terminal is closed
  }
  ::close(master);
  int raw = 0;
  ::waitpid(pid, &raw, 0);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

// The bar's line: "<label> [###...] NN%  <rate>/s  <time> left".
bool has_bar(const std::string& text, const std::string& label) {
  const auto at = text.find(label + " [");
  return at != std::string::npos && text.find("%", at) != std::string::npos &&
         text.find("/s", at) != std::string::npos && text.find(" left", at) != std::string::npos;
}

}  // namespace

TEST_CASE("progress bar: shown on a terminal by every long-running command, never on a pipe or with --quiet",
          "[cli][progress]") {
  amari::test::scratch_dir dir;
  const std::vector<std::pair<std::string, std::vector<std::string>>> runs = {
      {"simulate", {"simulate", "--n", "50", "--t-end", "5", "-o", "s.h5"}},
      {"phase", {"phase", "--sigma-w", "0.5:4:5", "--sigma-b", "0:1:4", "-o", "p.h5"}},
      {"deepnet", {"deepnet", "--n", "30", "--layers", "3", "--nets", "6", "--threads", "1"}},
      {"dmft", {"dmft", "--sigma-w", "2", "--tau-max", "5"}},
      {"meanfield", {"meanfield", "--sigma-w", "2", "--t-end", "5"}},
      {"edge", {"edge", "--sigma-b", "0:1:4"}},
  };
  for (const auto& [label, args] : runs) {
    INFO("amari " << label);
    const tty_run tty = run_on_tty(args, dir.path.string());
    INFO("terminal: " << tty.text);
    CHECK(tty.status == 0);
    CHECK(has_bar(tty.text, label));

    // --quiet on the same terminal: no bar.
    auto quiet = args;
    quiet.push_back("--quiet");
    if (label == "simulate" || label == "phase") quiet.push_back("--force");
    const tty_run q = run_on_tty(quiet, dir.path.string());
    CHECK(q.status == 0);
    CHECK_FALSE(has_bar(q.text, label));
    CHECK(q.text.find('[') == std::string::npos);
  }
  // stderr a pipe (a file here): nothing on it at all.
  ::setenv("AMARI_PROGRESS_AFTER", "0", 1);
  const auto piped = amari::test::run_amari("deepnet --n 30 --layers 3 --nets 6 --threads 1", dir.path);
  const auto piped_sim = amari::test::run_amari("simulate --n 50 --t-end 5 --force -o s.h5", dir.path);
  ::unsetenv("AMARI_PROGRESS_AFTER");
  CHECK(piped.status == 0);
  CHECK(piped.err.empty());
  CHECK(piped_sim.status == 0);
  CHECK(piped_sim.err.empty());
}
