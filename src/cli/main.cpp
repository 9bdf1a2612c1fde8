// amari: the command-line front end. One try/catch maps errors to exit codes:
//   0 success, 1 runtime failure, 2 usage (bad option or value), 130/143 interrupted (SIGINT/SIGTERM).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <omp.h>
#include <optional>
#include <thread>

#include "amari/core/error.hpp"
#include "amari/core/params.hpp"
#include "amari/core/version.hpp"
#include "command.hpp"
#include "mpi.hpp"
#include "signals.hpp"

namespace {

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_of(" \t\n'\"\\$`*?[]{}()<>|&;!#~") == std::string::npos) return s;
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// OpenMP threads that wait for work spin by default (libgomp: ~0.3 ms per wait). With more threads
// than free cores -- two amari runs side by side, a parameter sweep, ctest -j2 -- the spinning
// threads take the cores from the working ones: measured on the 2-core development machine, two
// concurrent `amari simulate --n 1000` runs took 1.13 s spinning and 0.20 s with passive waiting,
// while one run alone took the same time either way (0.18 s; at N = 4000 2.6 s passive, 3.2 s
// spinning). libgomp reads its policy once, when it is loaded, so the only way to choose it for
// the user is to set it and start again (same pid, same arguments, before any handler or thread
// exists). Left alone: an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT, AMARI_NO_REEXEC (for
// debuggers and profilers that do not follow an exec), and a start through the dynamic loader
// (`ld-linux-x86-64.so.2 amari ...`, where /proc/self/exe is the loader, not amari).
void prefer_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT") || std::getenv("AMARI_NO_REEXEC")) return;
  char self[4096];
  const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return;
  self[len] = '\0';
  const char* base = std::strrchr(self, '/');
  base = base ? base + 1 : self;
  if (std::strncmp(base, "ld-", 3) == 0 || std::strncmp(base, "ld.so", 5) == 0) return;
  if (::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
  ::execv(self, argv);  // returns only on failure: then run as we are
}

// Under an MPI launcher every rank of a node shares its cores: unless told otherwise
// (OMP_NUM_THREADS, --threads), each takes its share.
void share_cores(int ranks_on_node) {
  if (ranks_on_node <= 1 || std::getenv("OMP_NUM_THREADS")) return;
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  omp_set_num_threads(std::max(1, cores / ranks_on_node));
}

// Only rank 0 of an MPI job speaks: every rank meets the same bad input, and rank 0 reports what
// the others send it.
bool speaks() {
  const auto* w = amari::cli::mpi::current();
  return !w || w->rank() == 0;
}

// Every rank meets the same bad input; only rank 0 says so. The others end a moment later, so that
// mpirun, which ends the job when the first rank exits with an error, does not end rank 0 before
// it has spoken.
void say(const char* what) {
  if (speaks()) std::fprintf(stderr, "amari: %s\n", what);
  else std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

int run(int argc, char** argv);

// The first option on the command line that `sub` does not have, as the message for an unknown
// parameter (core/params.hpp), or nothing. Numbers (-1, -2.5e3) are values, not options.
std::optional<std::string> unknown_option(const CLI::App& sub, int argc, char** argv) {
  std::vector<std::string> known;
  std::vector<std::string> shorts;
  for (const CLI::Option* o : sub.get_options()) {
    for (std::string n : o->get_lnames()) {
      std::replace(n.begin(), n.end(), '-', '_');
      known.push_back(n);
    }
    for (const auto& n : o->get_snames()) shorts.push_back(n);
  }
  for (int i = 2; i < argc; ++i) {
    const std::string tok = argv[i];
    if (tok.size() < 2 || tok[0] != '-' || tok == "--") continue;
    char* end = nullptr;
    std::strtod(tok.c_str(), &end);
    if (end && *end == '\0') continue;
    std::string name = tok.substr(tok[1] == '-' ? 2 : 1);
    name = name.substr(0, name.find('='));
    std::replace(name.begin(), name.end(), '-', '_');
    const bool is_short = tok[1] != '-';
    if (is_short ? std::find(shorts.begin(), shorts.end(), name) == shorts.end()
                 : std::find(known.begin(), known.end(), name) == known.end())
      return amari::unknown_parameter(sub.get_name(), name, known);
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_waiting(argv);
  try {
    amari::cli::mpi::world world(&argc, &argv);
    share_cores(world.node_size());
    return run(argc, argv);
  } catch (const amari::InvalidArgument& e) {  // MPI launched in a build without it
    std::fprintf(stderr, "amari: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "amari: %s\n", e.what());
    return 1;
  }
}

namespace {

int run(int argc, char** argv) {
  using namespace amari::cli;
  CLI::App app{"amari: statistical dynamics of random neural networks -- finite-size simulation and "
               "mean-field theory of the time (rate network) and depth (deep network) pictures.",
               "amari"};
  app.set_version_flag("--version", fmt::format("amari {} ({})", amari::version(), amari::git_describe()));
  app.require_subcommand(1);
  app.fallthrough(false);
  app.footer("Run `amari <command> --help` for the options of a command.");

  std::vector<std::unique_ptr<command>> commands;
  commands.push_back(make_simulate_command());
  commands.push_back(make_meanfield_command());
  commands.push_back(make_dmft_command());
  commands.push_back(make_maps_command());
  commands.push_back(make_edge_command());
  commands.push_back(make_phase_command());
  commands.push_back(make_deepnet_command());
  commands.push_back(make_finite_command());
  commands.push_back(make_compare_command());
  commands.push_back(make_network_command());
  commands.push_back(make_sweep_command());
  commands.push_back(make_inspect_command());

  std::vector<std::unique_ptr<OptionSet>> option_sets;
  std::vector<CLI::App*> subs;
  for (auto& c : commands) {
    CLI::App* sub = app.add_subcommand(c->name(), c->summary());
    option_sets.push_back(std::make_unique<OptionSet>(*sub));
    c->declare(*option_sets.back());
    subs.push_back(sub);
  }

  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + shell_quote(argv[i]);

  // An unknown command: say so, with the closest one (CLI11 would only say that one is required).
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto& c : commands) names.push_back(c->name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      const std::string hint = amari::did_you_mean(argv[1], names);
      if (speaks()) std::fprintf(stderr, "amari: command = %s: unknown; %saccepted: %s (see `amari --help`)\n", argv[1],
                   hint.empty() ? "" : (hint + " ").c_str(), list.c_str());
      return 2;
    }
  }

  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::Success& e) {
      return app.exit(e);  // --help, --version
    } catch (const CLI::ParseError& e) {
      // One line, naming what was wrong; exit code 2 (usage). An unknown option gets the message
      // every front end gives for an unknown parameter (a TOML key, a Python keyword).
      if (const auto sub = std::find_if(subs.begin(), subs.end(), [](const CLI::App* a) { return a->parsed(); });
          sub != subs.end() && dynamic_cast<const CLI::ExtrasError*>(&e)) {
        if (const auto msg = unknown_option(**sub, argc, argv)) {
          if (speaks()) std::fprintf(stderr, "amari: %s (see `amari %s --help`)\n", msg->c_str(),
                                     (*sub)->get_name().c_str());
          return 2;
        }
      }
      std::string what = e.what();
      if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
      if (speaks()) std::fprintf(stderr, "amari: %s (see `amari --help`)\n", what.c_str());
      return 2;
    }
    for (std::size_t i = 0; i < commands.size(); ++i) {
      if (!subs[i]->parsed()) continue;
      option_sets[i]->resolve();
      if (const auto* w = mpi::current();
          w && w->size() > 1 && commands[i]->name() != "sweep" && commands[i]->name() != "simulate")
        throw amari::InvalidArgument(fmt::format(
            "mpi: `amari {}` on {} ranks: only `amari sweep` (its points) and `amari simulate` (one network's rows) "
            "spread over the ranks of an MPI job; accepted: mpirun ... amari sweep|simulate ..., or a plain start",
            commands[i]->name(), w->size()));
      install_signal_handlers();
      return commands[i]->run(invocation{*option_sets[i], command_line});
    }
    return 2;
  } catch (const amari::Interrupted& e) {
    say(e.what());
    return 128 + e.signal();
  } catch (const amari::InvalidArgument& e) {
    say(e.what());
    return 2;
  } catch (const amari::Error& e) {
    say(e.what());
    return 1;
  } catch (const std::exception& e) {
    say((std::string("internal error: ") + e.what()).c_str());
    return 1;
  }
}

}  // namespace
