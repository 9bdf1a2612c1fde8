#pragma once
// Options that are at once command-line flags and keys of a TOML config file, declared from the
// parameter vocabulary (amari/core/params.hpp):
//
//   opts.add_params(deepnet_params::table(), p_);   // every parameter of the command
//   opts.add("output", output_);                     // a front-end option of the vocabulary
//
// gives `--sigma-w X` on the command line and `sigma_w = X` in `--config FILE.toml`, with the
// vocabulary's help text, unit and the current value as the default shown. Command-line values
// are text, converted by the vocabulary (one kind of message for every bad value: the field, the
// value, what is accepted); TOML values must have the TOML type of the parameter's kind. The
// command line overrides the file, the file overrides the default; `resolved_toml()` writes what
// was used, for the output file.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/params.hpp"

namespace amari::cli {

class OptionSet {
 public:
  explicit OptionSet(CLI::App& app);

  // Every parameter of a command's table, bound to `target` (which must outlive the set).
  template <class P>
  void add_params(const param_table<P>& table, P& target) {
    for (const auto& e : table.entries())
      declare(*e.spec, [&target, &e](const param_value& v) { e.set(target, v); },
              [&target, &e] { return e.get(target); }, "");
  }
  // One entry of the vocabulary bound to a variable of the front end (output, force, json, quiet,
  // h0, resume, ...). `help`, when given, replaces the vocabulary's text for this command.
  void add(std::string_view name, std::string& target, const std::string& help = "");
  void add(std::string_view name, bool& target, const std::string& help = "");
  void add(std::string_view name, std::int64_t& target, const std::string& help = "");
  // A required positional argument, e.g. the FILE of `amari inspect FILE` (command line only: not
  // a config key).
  void add_positional(const std::string& name, std::string& target, const std::string& help);

  // Everything from the first positional argument on is left unparsed, for the front end to read
  // (`amari sweep [sweep options] COMMAND [command options]`): remaining() after parsing.
  void pass_through();
  std::vector<std::string> remaining() const;

  // After CLI11 has parsed: read --config (if given), then convert the command-line values.
  // Throws amari::InvalidArgument for unknown keys (with a did-you-mean), wrong TOML types, values
  // that do not convert, and an unreadable config file.
  void resolve();

  // True when the option (by its vocabulary name, "dt_out") was given on the command line or in
  // the config file.
  bool given(std::string_view name) const;
  // The names of the options given, in the order declared.
  std::vector<std::string> given_names() const;

  // Every option with the value used, as TOML ("key = value" lines, in the order declared).
  std::string resolved_toml() const;

  const std::string& config_path() const { return config_path_; }

 private:
  struct entry {
    const param_spec* spec = nullptr;
    CLI::Option* opt = nullptr;
    std::string raw;  // from the command line
    bool from_file = false;
    std::function<void(const param_value&)> set;
    std::function<param_value()> get;
  };
  void declare(const param_spec& spec, std::function<void(const param_value&)> set,
               std::function<param_value()> get, const std::string& help);
  const entry* find(std::string_view name) const;

  CLI::App& app_;
  std::vector<std::unique_ptr<entry>> entries_;
  std::string config_path_;
};

}  // namespace amari::cli
