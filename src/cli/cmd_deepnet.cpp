// amari deepnet: finite-width random deep networks propagating two inputs, against the maps.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class deepnet_command final : public command {
 public:
  std::string name() const override { return "deepnet"; }
  std::string summary() const override { return "finite-width random deep networks propagating two inputs, against the maps"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari deepnet` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_deepnet_command() { return std::make_unique<deepnet_command>(); }

}  // namespace amari::cli
