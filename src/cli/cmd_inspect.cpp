// amari inspect: print the layout, attributes and a summary of an amari HDF5 file.
#include <cstdio>

#include "amari/core/error.hpp"
#include "amari/io/inspect.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"

namespace amari::cli {

namespace {
class inspect_command final : public command {
 public:
  std::string name() const override { return "inspect"; }
  std::string summary() const override { return "print the layout, attributes and a summary of an amari HDF5 file"; }
  void declare(OptionSet& opts) override {
    opts.add_positional("file", path_, "the amari HDF5 file to describe");
    opts.add("json", json_, "print one JSON object (attributes, objects, summary) instead of text");
    opts.add("quiet", quiet_, "print nothing; the exit code says whether FILE is a readable amari file");
  }
  int run(const invocation&) override {
    require_readable("file", path_);
    // A file that the store refuses to open (not HDF5, not an amari file, a newer format) is the
    // wrong input, a usage error (exit 2) with the store's one-line reason naming the file. A
    // failure while reading a file that did open is an I/O failure (IoError: exit 1).
    // docs/FORMAT.md, "amari inspect".
    try {
      (void)store::file::open_read(path_);
    } catch (const IoError& e) {
      throw InvalidArgument(e.what());
    }
    const auto report = amari::inspect::inspect_file(path_);
    if (quiet_) return 0;
    const std::string out = json_ ? amari::inspect::to_json(report) + "\n" : amari::inspect::to_text(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }

 private:
  std::string path_;
  bool json_ = false;
  bool quiet_ = false;
};
}  // namespace

std::unique_ptr<command> make_inspect_command() { return std::make_unique<inspect_command>(); }

}  // namespace amari::cli
