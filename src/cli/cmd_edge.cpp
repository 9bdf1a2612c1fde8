// amari edge: the edge of chaos: the sigma_w where chi_1 = 1 at a given sigma_b.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class edge_command final : public command {
 public:
  std::string name() const override { return "edge"; }
  std::string summary() const override { return "the edge of chaos: the sigma_w where chi_1 = 1 at a given sigma_b"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari edge` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_edge_command() { return std::make_unique<edge_command>(); }

}  // namespace amari::cli
