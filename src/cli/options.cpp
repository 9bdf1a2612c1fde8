#include "options.hpp"

#include <cmath>
#include <fmt/format.h>
#include <toml++/toml.h>

#include "amari/core/error.hpp"

namespace amari::cli {

namespace {

std::string toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

// A TOML value as the parameter's kind, or InvalidArgument naming the field: TOML has types, so a
// string where a number belongs is refused rather than converted.
param_value from_toml(const param_spec& s, const toml::node& n) {
  auto wrong = [&](std::string_view accepted) {
    return InvalidArgument(s.name, fmt::format("{} in the config file", toml_type_name(n)), accepted);
  };
  switch (s.kind) {
    case param_kind::real:
      if (auto v = n.value_exact<double>()) return *v;
      if (auto i = n.value_exact<std::int64_t>()) return static_cast<double>(*i);
      throw wrong("must be a number");
    case param_kind::integer:
      if (auto i = n.value_exact<std::int64_t>()) return *i;
      throw wrong("must be an integer");
    case param_kind::flag:
      if (auto b = n.value_exact<bool>()) return *b;
      throw wrong("must be true or false");
    case param_kind::text:
      if (auto t = n.value_exact<std::string>()) return *t;
      throw wrong("must be a string");
    case param_kind::axis:
      // A number is also accepted as its text: `sigma_b = 0.3` like every numeric option.
      if (auto t = n.value_exact<std::string>()) return *t;
      if (n.is_number()) return format_number(*n.value<double>());
      throw wrong("must be a number or a string start:stop:count");
    case param_kind::reals: {
      const toml::array* arr = n.as_array();
      if (!arr) throw wrong("must be an array of numbers");
      std::vector<double> out;
      for (const auto& item : *arr) {
        if (auto v = item.value_exact<double>()) out.push_back(*v);
        else if (auto i = item.value_exact<std::int64_t>()) out.push_back(static_cast<double>(*i));
        else
          throw InvalidArgument(s.name, fmt::format("an array holding {}", toml_type_name(item)),
                                "must be an array of numbers");
      }
      return out;
    }
  }
  throw wrong("has an unknown kind");
}

std::string_view placeholder(param_kind k) {
  switch (k) {
    case param_kind::real: return "X";
    case param_kind::integer: return "INT";
    case param_kind::reals: return "X,Y,...";
    case param_kind::axis: return "X|A:B:N";
    default: return "TEXT";
  }
}

}  // namespace

OptionSet::OptionSet(CLI::App& app) : app_(app) {
  app_.add_option("--config", config_path_, "TOML file with any of these options as keys, written with '_' (sigma_w = 2.0); the command line wins [default: none]")
      ->option_text("FILE.toml");
}

void OptionSet::declare(const param_spec& spec, std::function<void(const param_value&)> set,
                        std::function<param_value()> get, const std::string& help) {
  auto e = std::make_unique<entry>();
  e->spec = &spec;
  e->set = std::move(set);
  e->get = std::move(get);
  const std::string flag = spec.option();
  const std::string names = spec.short_name ? fmt::format("-{},{}", spec.short_name, flag) : flag;
  // The default and the unit go into the description: "[default: 100 leak time constants]".
  std::string text = help.empty() ? std::string(spec.help) : help;
  const std::string unit = spec.unit.empty() ? "" : " " + std::string(spec.unit);
  if (spec.kind == param_kind::flag) {
    text += " [default: off]";
    // (Not add_flag(name, text): a non-const std::string there is taken as the flag's target.)
    e->opt = app_.add_flag(names)->description(text);
  } else {
    const std::string shown = format_value(e->get());
    if (!shown.empty())
      text += fmt::format(" [default: {}{}]", shown, unit);
    else
      text += spec.unit.empty() ? " [default: none]" : fmt::format(" [default: none;{}]", unit);
    e->opt = app_.add_option(names, e->raw, text);
    e->opt->option_text(std::string(placeholder(spec.kind)));
  }
  entries_.push_back(std::move(e));
}

void OptionSet::add(std::string_view name, std::string& target, const std::string& help) {
  declare(vocabulary(name), [&target](const param_value& v) { target = std::get<std::string>(v); },
          [&target] { return param_value(target); }, help);
}

void OptionSet::add(std::string_view name, bool& target, const std::string& help) {
  declare(vocabulary(name), [&target](const param_value& v) { target = std::get<bool>(v); },
          [&target] { return param_value(target); }, help);
}

void OptionSet::add(std::string_view name, std::int64_t& target, const std::string& help) {
  declare(vocabulary(name), [&target](const param_value& v) { target = std::get<std::int64_t>(v); },
          [&target] { return param_value(target); }, help);
}

void OptionSet::add_positional(const std::string& name, std::string& target, const std::string& help) {
  app_.add_option(name, target, help)->required();
}

void OptionSet::pass_through() { app_.prefix_command(); }

std::vector<std::string> OptionSet::remaining() const { return app_.remaining(); }

const OptionSet::entry* OptionSet::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (e->spec->name == name) return e.get();
  return nullptr;
}

bool OptionSet::given(std::string_view name) const {
  const entry* e = find(name);
  if (!e) throw std::logic_error("amari: unknown option " + std::string(name));
  return e->opt->count() > 0 || e->from_file;
}

std::vector<std::string> OptionSet::given_names() const {
  std::vector<std::string> out;
  for (const auto& e : entries_)
    if (e->opt->count() > 0 || e->from_file) out.emplace_back(e->spec->name);
  return out;
}

void OptionSet::resolve() {
  if (!config_path_.empty()) {
    toml::table tbl;
    try {
      tbl = toml::parse_file(config_path_);
    } catch (const toml::parse_error& err) {
      const auto& src = err.source();
      if (err.description().find("File could not be opened") != std::string_view::npos)
        throw InvalidArgument("config", config_path_, "cannot be read (no such file, or no permission)");
      throw InvalidArgument("config", config_path_,
                            fmt::format("is not valid TOML (line {}, column {}: {})", src.begin.line,
                                        src.begin.column, err.description()));
    }
    std::vector<std::string> known;
    for (const auto& e : entries_) known.emplace_back(e->spec->name);
    for (const auto& [k, node] : tbl) {
      const std::string key(k.str());
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->spec->name == key; });
      if (it == entries_.end()) {
        const std::string hint = did_you_mean(key, known);
        throw InvalidArgument("config", config_path_,
                              fmt::format("unknown key '{}' for `amari {}`{}", key, app_.get_name(),
                                          hint.empty() ? "" : "; " + hint));
      }
      entry& e = **it;
      if (e.opt->count() > 0) continue;  // the command line wins
      e.set(from_toml(*e.spec, node));
      e.from_file = true;
    }
  }
  for (auto& e : entries_) {
    if (e->opt->count() == 0) continue;
    if (e->spec->kind == param_kind::flag)
      e->set(true);
    else
      e->set(parse_value(*e->spec, e->raw));
  }
}

std::string OptionSet::resolved_toml() const {
  std::string out;
  for (const auto& e : entries_) out += fmt::format("{} = {}\n", e->spec->name, format_toml(e->get()));
  return out;
}

}  // namespace amari::cli
