// amari simulate: simulate a finite random rate network dh/dt = -h + W phi(h) + b.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class simulate_command final : public command {
 public:
  std::string name() const override { return "simulate"; }
  std::string summary() const override { return "simulate a finite random rate network dh/dt = -h + W phi(h) + b"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari simulate` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_simulate_command() { return std::make_unique<simulate_command>(); }

}  // namespace amari::cli
