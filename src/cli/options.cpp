#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <sstream>
#include <toml++/toml.h>

#include "amari/core/error.hpp"

namespace amari::cli {

namespace {

std::string key_of(const std::string& name) {
  std::string k = name;
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

double to_double(const std::string& field, const std::string& text) {
  const std::string t = trim(text);
  double v = 0;
  // from_chars does not read "inf"/"nan" signs consistently; strtod does, and the library rejects
  // non-finite values with its own message naming the field.
  char* end = nullptr;
  errno = 0;
  v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size())
    throw InvalidArgument(field, fmt::format("'{}'", text), "must be a number");
  return v;
}

std::int64_t to_int(const std::string& field, const std::string& text) {
  const std::string t = trim(text);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    // "1e3" and "1000.0" are integers written as reals: accept them when exact.
    double d = 0;
    try {
      d = to_double(field, t);
    } catch (const InvalidArgument&) {
      throw InvalidArgument(field, fmt::format("'{}'", text), "must be an integer");
    }
    if (!std::isfinite(d) || d != std::floor(d) || std::abs(d) > 9.0e15)
      throw InvalidArgument(field, fmt::format("'{}'", text), "must be an integer");
    v = static_cast<std::int64_t>(d);
  }
  return v;
}

std::vector<double> to_list(const std::string& field, const std::string& text) {
  std::vector<double> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(to_double(field, item));
  if (out.empty()) throw InvalidArgument(field, fmt::format("'{}'", text), "must be a comma-separated list of numbers");
  return out;
}

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

std::string toml_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = format_number(v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  if (best.empty() || best_d > std::max<std::size_t>(2, word.size() / 3)) return "";
  return fmt::format("did you mean '{}'?", best);
}

OptionSet::OptionSet(CLI::App& app) : app_(app) {
  app_.add_option("--config", config_path_, "TOML file with any of these options as keys, written with '_' (sigma_w = 2.0); the command line wins [default: none]")
      ->option_text("FILE.toml");
}

OptionSet::entry& OptionSet::make(const std::string& name, const std::string& help, const std::string& unit,
                                  const std::string& default_text, bool flag) {
  auto e = std::make_unique<entry>();
  const auto comma = name.find(',');
  const std::string short_flag = comma == std::string::npos ? "" : "-" + name.substr(0, comma) + ",";
  e->name = comma == std::string::npos ? name : name.substr(comma + 1);
  e->key = key_of(e->name);
  e->is_flag = flag;
  // The default and the unit go into the description: "[default: 100 leak time constants]".
  std::string text = help;
  if (flag)
    text += " [default: off]";
  else if (!default_text.empty())
    text += fmt::format(" [default: {}{}]", default_text, unit.empty() ? "" : " " + unit);
  else
    text += unit.empty() ? " [default: none]" : fmt::format(" [default: none; {}]", unit);
  if (flag) {
    // (Not add_flag(name, text): a non-const std::string there is taken as the flag's target.)
    e->opt = app_.add_flag(short_flag + "--" + e->name)->description(text);
  } else {
    e->opt = app_.add_option(short_flag + "--" + e->name, e->raw, text);
  }
  entries_.push_back(std::move(e));
  return *entries_.back();
}

void OptionSet::add_positional(const std::string& name, std::string& target, const std::string& help) {
  app_.add_option(name, target, help)->required();
}

void OptionSet::add(const std::string& name, double& target, const std::string& help, const std::string& unit) {
  entry& e = make(name, help, unit, format_number(target), false);
  e.opt->option_text("X");
  const std::string field = e.key;
  e.from_text = [&target, field](const std::string& t) { target = to_double(field, t); };
  e.from_toml = [&target, field](const void* p) {
    const auto& n = *static_cast<const toml::node*>(p);
    if (auto v = n.value_exact<double>()) target = *v;
    else if (auto i = n.value_exact<std::int64_t>()) target = double(*i);
    else throw InvalidArgument(field, fmt::format("{} in the config file", toml_type_name(n)), "must be a number");
  };
  e.to_toml = [&target] { return toml_number(target); };
}

void OptionSet::add(const std::string& name, std::int64_t& target, const std::string& help, const std::string& unit) {
  entry& e = make(name, help, unit, std::to_string(target), false);
  e.opt->option_text("INT");
  const std::string field = e.key;
  e.from_text = [&target, field](const std::string& t) { target = to_int(field, t); };
  e.from_toml = [&target, field](const void* p) {
    const auto& n = *static_cast<const toml::node*>(p);
    if (auto i = n.value_exact<std::int64_t>()) target = *i;
    else throw InvalidArgument(field, fmt::format("{} in the config file", toml_type_name(n)), "must be an integer");
  };
  e.to_toml = [&target] { return std::to_string(target); };
}

void OptionSet::add(const std::string& name, std::string& target, const std::string& help, const std::string& unit) {
  entry& e = make(name, help, unit, target.empty() ? "" : target, false);
  e.opt->option_text("TEXT");
  const std::string field = e.key;
  e.from_text = [&target](const std::string& t) { target = t; };
  e.from_toml = [&target, field](const void* p) {
    const auto& n = *static_cast<const toml::node*>(p);
    if (auto s = n.value_exact<std::string>()) target = *s;
    // A number is also accepted as its text: options that take "a value or a range" (amari edge
    // --sigma-b 0.3 or 0:1:11) are then `sigma_b = 0.3` in the file like every numeric option.
    else if (n.is_number()) target = format_number(*n.value<double>());
    else throw InvalidArgument(field, fmt::format("{} in the config file", toml_type_name(n)), "must be a string");
  };
  e.to_toml = [&target] { return toml_string(target); };
}

void OptionSet::add(const std::string& name, std::vector<double>& target, const std::string& help,
                    const std::string& unit) {
  std::string def;
  for (double v : target) def += (def.empty() ? "" : ",") + format_number(v);
  entry& e = make(name, help, unit, def, false);
  e.opt->option_text("X,Y,...");
  const std::string field = e.key;
  e.from_text = [&target, field](const std::string& t) { target = to_list(field, t); };
  e.from_toml = [&target, field](const void* p) {
    const auto& n = *static_cast<const toml::node*>(p);
    const toml::array* arr = n.as_array();
    if (!arr) throw InvalidArgument(field, fmt::format("{} in the config file", toml_type_name(n)), "must be an array of numbers");
    std::vector<double> out;
    for (const auto& item : *arr) {
      if (auto v = item.value_exact<double>()) out.push_back(*v);
      else if (auto i = item.value_exact<std::int64_t>()) out.push_back(double(*i));
      else throw InvalidArgument(field, fmt::format("an array holding {}", toml_type_name(item)), "must be an array of numbers");
    }
    target = std::move(out);
  };
  e.to_toml = [&target] {
    std::string s = "[";
    for (std::size_t i = 0; i < target.size(); ++i) s += (i ? ", " : "") + toml_number(target[i]);
    return s + "]";
  };
}

void OptionSet::add_flag(const std::string& name, bool& target, const std::string& help) {
  entry& e = make(name, help, "", "", true);
  const std::string field = e.key;
  e.from_text = [&target](const std::string&) { target = true; };
  e.from_toml = [&target, field](const void* p) {
    const auto& n = *static_cast<const toml::node*>(p);
    if (auto b = n.value_exact<bool>()) target = *b;
    else throw InvalidArgument(field, fmt::format("{} in the config file", toml_type_name(n)), "must be true or false");
  };
  e.to_toml = [&target] { return std::string(target ? "true" : "false"); };
}

bool OptionSet::on_command_line(const std::string& name) const {
  for (const auto& e : entries_)
    if (e->name == name) return e->opt->count() > 0;
  throw std::logic_error("unknown option " + name);
}

bool OptionSet::given(const std::string& name) const {
  for (const auto& e : entries_)
    if (e->name == name) return e->opt->count() > 0 || e->from_file;
  throw std::logic_error("unknown option " + name);
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
    for (const auto& e : entries_) known.push_back(e->key);
    for (const auto& [k, node] : tbl) {
      const std::string key(k.str());
      auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->key == key; });
      if (it == entries_.end()) {
        const std::string hint = did_you_mean(key, known);
        throw InvalidArgument("config", config_path_,
                              fmt::format("unknown key '{}' for `amari {}`{}", key, app_.get_name(),
                                          hint.empty() ? "" : "; " + hint));
      }
      entry& e = **it;
      if (e.opt->count() > 0) continue;  // the command line wins
      e.from_toml(&node);
      e.from_file = true;
    }
  }
  for (auto& e : entries_)
    if (e->opt->count() > 0) e->from_text(e->raw);
}

std::string OptionSet::resolved_toml() const {
  std::string out;
  for (const auto& e : entries_) out += fmt::format("{} = {}\n", e->key, e->to_toml());
  return out;
}

}  // namespace amari::cli
