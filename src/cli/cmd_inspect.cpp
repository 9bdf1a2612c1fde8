// amari inspect: print the layout, attributes and a summary of an amari HDF5 file.
#include "amari/error.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class inspect_command final : public command {
 public:
  std::string name() const override { return "inspect"; }
  std::string summary() const override { return "print the layout, attributes and a summary of an amari HDF5 file"; }
  void declare(OptionSet&) override {}
  int run(const invocation&) override { throw amari::Error("`amari inspect` is not implemented yet"); }
};
}  // namespace

std::unique_ptr<command> make_inspect_command() { return std::make_unique<inspect_command>(); }

}  // namespace amari::cli
