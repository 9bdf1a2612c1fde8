#pragma once
// The commands of the `amari` tool. Each lives in its own cmd_<name>.cpp: it declares its options
// (bound to the library's parameter structs), and `run` calls the library and reports. No
// numerics here: the CLI translates text to structs and results to text.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "amari/io/store.hpp"
#include "options.hpp"

namespace amari::cli {

// What every command receives besides its own options.
struct invocation {
  const OptionSet& options;
  std::string command_line;  // argv joined with spaces (shell-quoted where needed)
};

// A new output file of `product` with the run's provenance as root attributes (the command line,
// the resolved configuration, the seed of a random product).
store::file create_output(const invocation& inv, const std::string& product, const std::string& path, bool force,
                          std::optional<std::int64_t> seed = std::nullopt);

class command {
 public:
  virtual ~command() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  // Declare the options, bound to members of the command object.
  virtual void declare(OptionSet& opts) = 0;
  // Validate (through the library), compute, write, report. Returns the exit code.
  virtual int run(const invocation& inv) = 0;
};

std::unique_ptr<command> make_simulate_command();
std::unique_ptr<command> make_meanfield_command();
std::unique_ptr<command> make_dmft_command();
std::unique_ptr<command> make_maps_command();
std::unique_ptr<command> make_edge_command();
std::unique_ptr<command> make_phase_command();
std::unique_ptr<command> make_deepnet_command();
std::unique_ptr<command> make_network_command();
std::unique_ptr<command> make_finite_command();
std::unique_ptr<command> make_compare_command();
std::unique_ptr<command> make_sweep_command();
std::unique_ptr<command> make_inspect_command();

}  // namespace amari::cli
