// amari meanfield: integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class meanfield_command final : public command {
 public:
  std::string name() const override { return "meanfield"; }
  std::string summary() const override { return "integrate Amari's order-parameter ODEs for m(t), q(t) and find their fixed points"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari meanfield` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_meanfield_command() { return std::make_unique<meanfield_command>(); }

}  // namespace amari::cli
