// amari dmft: solve the Sompolinsky-Crisanti-Sommers dynamic mean-field theory of the chaotic network.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class dmft_command final : public command {
 public:
  std::string name() const override { return "dmft"; }
  std::string summary() const override { return "solve the Sompolinsky-Crisanti-Sommers dynamic mean-field theory of the chaotic network"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari dmft` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_dmft_command() { return std::make_unique<dmft_command>(); }

}  // namespace amari::cli
