// amari phase: the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class phase_command final : public command {
 public:
  std::string name() const override { return "phase"; }
  std::string summary() const override { return "the order-to-chaos phase diagram over a (sigma_w, sigma_b) grid, into HDF5"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari phase` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_phase_command() { return std::make_unique<phase_command>(); }

}  // namespace amari::cli
