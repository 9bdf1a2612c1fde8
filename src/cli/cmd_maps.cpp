// amari maps: deep-network mean-field maps: q*, c*, chi_1, depth scales and phase at one (sigma_w, sigma_b).
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class maps_command final : public command {
 public:
  std::string name() const override { return "maps"; }
  std::string summary() const override { return "deep-network mean-field maps: q*, c*, chi_1, depth scales and phase at one (sigma_w, sigma_b)"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari maps` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_maps_command() { return std::make_unique<maps_command>(); }

}  // namespace amari::cli
