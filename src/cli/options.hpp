#pragma once
// Options that are at once command-line flags and keys of a TOML config file.
//
// A command declares each option once, bound to a field of the library's parameter struct:
//
//   opts.add("sigma-w", p.sigma_w, "standard deviation of the weights, times sqrt(N)");
//
// gives `--sigma-w X` on the command line and `sigma_w = X` in `--config FILE.toml`. Values are
// taken as text and converted here, so that every bad value gets the same kind of message: the
// field, the value, what is accepted. The command line overrides the file, the file overrides the
// default; `resolved_toml()` writes what was used, for the output file.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace amari::cli {

class OptionSet {
 public:
  explicit OptionSet(CLI::App& app);

  // `name` is the long option without dashes ("sigma-w"), optionally preceded by a one-letter
  // short form ("o,output" gives -o and --output); its config key is the long name with '_'.
  // `unit` is shown in --help ("time units", "neurons"); the current value of the target is the
  // default shown.
  void add(const std::string& name, double& target, const std::string& help, const std::string& unit = "");
  void add(const std::string& name, std::int64_t& target, const std::string& help, const std::string& unit = "");
  void add(const std::string& name, std::string& target, const std::string& help, const std::string& unit = "");
  void add(const std::string& name, std::vector<double>& target, const std::string& help, const std::string& unit = "");
  // A switch: `--name` on the command line, `name = true|false` in the file.
  void add_flag(const std::string& name, bool& target, const std::string& help);
  // A required positional argument, e.g. the FILE of `amari inspect FILE` (command line only: not
  // a config key).
  void add_positional(const std::string& name, std::string& target, const std::string& help);

  // After CLI11 has parsed: read --config (if given), then convert the command-line values.
  // Throws amari::InvalidArgument for unknown keys (with a did-you-mean), wrong TOML types, values
  // that do not convert, and an unreadable config file.
  void resolve();

  // True when the option was given on the command line or in the config file.
  bool given(const std::string& name) const;
  bool on_command_line(const std::string& name) const;

  // Every option with the value used, as TOML ("key = value" lines, sorted as declared).
  std::string resolved_toml() const;

  const std::string& config_path() const { return config_path_; }

 private:
  struct entry {
    std::string name, key;
    CLI::Option* opt = nullptr;
    std::string raw;  // from the command line
    bool from_file = false;
    bool is_flag = false;
    std::function<void(const std::string& text)> from_text;
    std::function<void(const void* toml_node)> from_toml;  // const toml::node*
    std::function<std::string()> to_toml;
  };
  entry& make(const std::string& name, const std::string& help, const std::string& unit,
              const std::string& default_text, bool flag);

  CLI::App& app_;
  std::vector<std::unique_ptr<entry>> entries_;
  std::string config_path_;
};

// "did you mean 'sigma_w'?" for the known key closest to `word`, or "" when none is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& known);

}  // namespace amari::cli
