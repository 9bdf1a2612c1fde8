// amari compare: the time and depth pictures side by side for one set of parameters.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class compare_command final : public command {
 public:
  std::string name() const override { return "compare"; }
  std::string summary() const override { return "the time and depth pictures side by side for one set of parameters"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari compare` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_compare_command() { return std::make_unique<compare_command>(); }

}  // namespace amari::cli
