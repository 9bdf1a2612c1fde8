#pragma once
// The parameter vocabulary: every parameter amari accepts is defined once, here and in
// src/core/params.cpp, with its name, type, unit and help text. The name is at once the TOML key
// (`sigma_w = 2.5`), the command-line option with '-' for '_' (`--sigma-w 2.5`), the Python
// keyword (`sigma_w=2.5`) and the HDF5 attribute that records it.
//
// A command's parameters are a plain value struct (deepnet_params, simulate_params, ...) with the
// command's defaults as default member initialisers, a validate() that names the bad field, and
// a param_table that binds each of its fields to a vocabulary entry:
//
//   const param_table<deepnet_params>& deepnet_params::table() {
//     static const auto t = param_table<deepnet_params>{"deepnet"}
//         .add("phi", [](deepnet_params& p) -> auto& { return p.model.phi; })
//         .add("n", [](deepnet_params& p) -> auto& { return p.n; }) ...;
//     return t;
//   }
//
// Front ends walk the table: the CLI declares its options and reads TOML from it, the io layer
// writes and reads the attributes, resume checks which parameters may change, JSON output echoes
// them, and the Python module takes its keywords from it. None of them lists a parameter again.
//
// The parameters that describe the random network -- the activation and the distribution of
// W and b -- are one struct, model_params, embedded where needed (designated initialisers
// everywhere: `model_params{.phi = Activation::parse("erf"), .sigma_w = 1.5}`). Their defaults
// differ by command (defaults below, the one place where that choice is written down).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "amari/core/activation.hpp"
#include "amari/core/error.hpp"

namespace amari {

// ---- The shared model parameters ----------------------------------------------------------------

// The random network's ensemble:  phi,  W_ij ~ N(w0 / N, sigma_w^2 / N),  b_i ~ N(b0, sigma_b^2).
struct model_params {
  Activation phi{};      // the activation function
  double sigma_w = 1.0;  // standard deviation of W_ij times sqrt(N) (dimensionless, >= 0)
  double sigma_b = 0.0;  // standard deviation of the bias b_i (units of h, >= 0)
  double w0 = 0.0;       // mean of W_ij times N (dimensionless)
  double b0 = 0.0;       // mean of the bias (units of h)

  // Throws InvalidArgument naming the first bad field.
  void validate() const;
  // The depth maps and the SCS DMFT describe zero-mean weights and biases: throws InvalidArgument
  // naming w0 or b0 when either is not 0 (`theory` names the theory in the message).
  void require_centred(std::string_view theory) const;
};

// Each command's defaults of the shared model parameters (the activation is tanh everywhere).
namespace defaults {
// The depth picture (maps, edge, phase, deepnet): a chaotic point of tanh, away from the edge.
inline const model_params depth{.sigma_w = 2.5, .sigma_b = 0.3};
// The time picture (simulate, dmft, compare): the chaotic phase of the SCS network.
inline const model_params time{.sigma_w = 2.0, .sigma_b = 0.0};
// Amari's order-parameter equations (meanfield): a single stable fixed point.
inline const model_params meanfield{.sigma_w = 1.0, .sigma_b = 0.0};
}  // namespace defaults

// ---- Axes: a value, or count values from start to stop ----------------------------------------------

// count values evenly spaced from start to stop inclusive: "start:stop:count" or a single number.
struct grid_axis {
  double start = 0;
  double stop = 0;
  std::int64_t count = 1;
  // Parses "0.5:4:256" or "0.3"; throws InvalidArgument naming `field` when malformed.
  static grid_axis parse(std::string_view text, std::string_view field);
  // count >= 1, finite ends, stop >= start, and start = stop when count = 1.
  void validate(std::string_view field) const;
  std::vector<double> values() const;  // the first is start and the last stop, exactly
  std::string spec() const;            // "start:stop:count" (or the single value)
};

// ---- The vocabulary --------------------------------------------------------------------------------

enum class param_kind {
  real,     // a number                         sigma_w = 2.5
  integer,  // a whole number                   n = 1000
  flag,     // on or off                        lyapunov = true
  text,     // a word or path                   phi = "tanh:g=2", stepper = "rk4"
  reals,    // a list of numbers                times = [0, 1, 5]
  axis,     // a number or start:stop:count     sigma_b = "0:1:11" (a grid_axis)
};

// What a parameter is for.
enum class param_role {
  model,      // defines the result: recorded in the output file, fixed when a run is resumed
  runtime,    // only how the result is computed (threads, flush interval): may change on resume
  front_end,  // what a front end does with the result (output file, JSON, quiet): no library field
};

struct param_spec {
  // (Default member initialisers let the vocabulary name only the fields it sets.)
  std::string_view name{};    // snake_case: TOML key, Python keyword, HDF5 attribute
  param_kind kind = param_kind::real;
  std::string_view unit{};    // shown in help ("" dimensionless)
  std::string_view help{};    // one line, lower case, no final full stop
  param_role role = param_role::model;
  char short_name = 0;        // a one-letter command-line form (-o), or 0

  std::string option() const;  // "--sigma-w"
};

// Every parameter of every command, in the order help lists them.
std::span<const param_spec> vocabulary();
// The entry of `name`; throws std::logic_error for a name that is not in the vocabulary (a
// programming error, not a user's).
const param_spec& vocabulary(std::string_view name);

// A parameter's value, whatever its kind (an axis is held as its text).
using param_value = std::variant<bool, std::int64_t, double, std::string, std::vector<double>>;

// Text to value, as the command line and a sweep's lists give it ("2.5", "1e3", "true", "1,2,5");
// throws InvalidArgument naming the field ("n = '1.5': must be an integer").
param_value parse_value(const param_spec& spec, std::string_view text);
// The text that parse_value reads back as the same value ("2.5", "tanh", "0.5,1,2", "true").
std::string format_value(const param_value& v);
// The value as TOML ("2.5", "1000", "true", "\"tanh\"", "[0.0, 1.0]"): what a front end writes into
// the `config` attribute of an output file, one "key = value" line per parameter.
std::string format_toml(const param_value& v);
// The items of a list as text, as the front ends and files write them: "tanh,erf" -> {"tanh", "erf"},
// "a,,b" -> {"a", "", "b"}, "" -> {""} (an empty item is kept so that the caller can refuse it).
std::vector<std::string> split_text(std::string_view text, char sep = ',');
// "one of ..." words for error messages: "a number", "an integer", ...
std::string_view kind_words(param_kind k);

// "did you mean 'sigma_w'?" for the name in `known` closest to `word`, or "" when none is close.
std::string did_you_mean(std::string_view word, std::span<const std::string> known);
// The one message for a parameter a command does not have, in every front end (the command line,
// a TOML file's key, a sweep's option, a Python keyword):
// "sigmaw: unknown parameter of `amari maps`; did you mean 'sigma_w'?".
std::string unknown_parameter(std::string_view command, std::string_view name, std::span<const std::string> known);

// How a field of type T is read from and written to a param_value. double, int64, bool,
// std::string and std::vector<double> are themselves; Activation, grid_axis and enums are text,
// through parse_param(text, field, T&) and param_text(const T&), found by argument-dependent lookup.
namespace detail {
template <class T>
constexpr param_kind kind_of() {
  if constexpr (std::is_same_v<T, double>) return param_kind::real;
  else if constexpr (std::is_same_v<T, std::int64_t>) return param_kind::integer;
  else if constexpr (std::is_same_v<T, bool>) return param_kind::flag;
  else if constexpr (std::is_same_v<T, std::vector<double>>) return param_kind::reals;
  else if constexpr (std::is_same_v<T, grid_axis>) return param_kind::axis;
  else return param_kind::text;
}
void convert(const param_spec& s, const param_value& v, double& out);
void convert(const param_spec& s, const param_value& v, std::int64_t& out);
void convert(const param_spec& s, const param_value& v, bool& out);
void convert(const param_spec& s, const param_value& v, std::string& out);
void convert(const param_spec& s, const param_value& v, std::vector<double>& out);
std::string text_of(const param_spec& s, const param_value& v);  // a text value, or InvalidArgument
// The axis form of a numeric entry: kind axis, the help saying "a value, or a range".
const param_spec& axis_spec(std::string_view name);
}  // namespace detail

void parse_param(std::string_view text, std::string_view field, Activation& out);
std::string param_text(const Activation& a);
void parse_param(std::string_view text, std::string_view field, grid_axis& out);
std::string param_text(const grid_axis& a);

// The parameters of one command: each binds a vocabulary entry to a field of P.
template <class P>
class param_table {
 public:
  struct entry {
    const param_spec* spec;
    std::function<param_value(const P&)> get;
    std::function<void(P&, const param_value&)> set;  // converts; throws InvalidArgument naming the field
  };

  explicit param_table(std::string command) : command_(std::move(command)) {}

  // Binds the vocabulary entry `name` to the field that `field(p)` returns a reference to.
  template <class F>
  param_table&& add(std::string_view name, F field) && {
    add_entry(name, field);
    return std::move(*this);
  }
  template <class F>
  param_table& add(std::string_view name, F field) & {
    add_entry(name, field);
    return *this;
  }

  const std::string& command() const { return command_; }
  const std::vector<entry>& entries() const { return entries_; }
  const entry* find(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.spec->name == name) return &e;
    return nullptr;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.emplace_back(e.spec->name);
    return out;
  }
  // Sets `name` in p; InvalidArgument for a name this command does not have (with the closest
  // one) or a value of the wrong kind.
  void set(P& p, std::string_view name, const param_value& v) const {
    const entry* e = find(name);
    if (!e) {
      throw InvalidArgument(unknown_parameter(command_, name, names()));
    }
    e->set(p, v);
  }
  param_value get(const P& p, std::string_view name) const {
    const entry* e = find(name);
    if (!e) throw std::logic_error("amari: " + command_ + " has no parameter " + std::string(name));
    return e->get(p);
  }

 private:
  template <class F>
  void add_entry(std::string_view name, F field) {
    using T = std::remove_cvref_t<decltype(field(std::declval<P&>()))>;
    // A grid_axis field takes the numeric entry's axis form ("a value, or a range").
    const param_spec& s = detail::kind_of<T>() == param_kind::axis ? detail::axis_spec(name) : vocabulary(name);
    if (s.kind != detail::kind_of<T>())
      throw std::logic_error("amari: the field bound to " + std::string(name) + " is not of its vocabulary kind");
    entry e;
    e.spec = &s;
    e.get = [field](const P& p) -> param_value {
      const T& v = field(const_cast<P&>(p));
      if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> ||
                    std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<double>>)
        return param_value(v);
      else
        return param_value(param_text(v));
    };
    e.set = [field, &s](P& p, const param_value& v) {
      T& target = field(p);
      if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::int64_t> || std::is_same_v<T, double> ||
                    std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<double>>)
        detail::convert(s, v, target);
      else
        parse_param(detail::text_of(s, v), s.name, target);
    };
    entries_.push_back(std::move(e));
  }

  std::string command_;
  std::vector<entry> entries_;
};

}  // namespace amari
