// The parameter vocabulary (include/amari/core/params.hpp): every parameter of every command,
// defined once.
#include "amari/core/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace amari {

namespace {

using K = param_kind;
using R = param_role;

constexpr const char* time_unit = "leak time constants";

// The vocabulary, grouped as help lists it. Help texts say what the parameter is for every
// command that has it; a command's own defaults are shown beside them.
const param_spec entries[] = {
    // The random network (model_params).
    {.name = "phi", .kind = K::text, .help = "activation function: tanh, tanh:g=<gain > 0> (tanh(g h)), erf, relu, linear, hardtanh"},
    {.name = "sigma_w", .kind = K::real, .help = "standard deviation of the weights W_ij, times sqrt(N)"},
    {.name = "sigma_b", .kind = K::real, .unit = "units of h", .help = "standard deviation of the biases b_i"},
    {.name = "w0", .kind = K::real, .help = "mean of the weights W_ij, times N"},
    {.name = "b0", .kind = K::real, .unit = "units of h", .help = "mean of the biases b_i"},
    // Sizes and randomness.
    {.name = "n", .kind = K::integer, .unit = "neurons", .help = "number of neurons N (the width of every layer of a deep net)"},
    {.name = "layers", .kind = K::integer, .unit = "layers", .help = "depth L of the deep net"},
    {.name = "nets", .kind = K::integer, .help = "independent random deep nets to average over (per width with widths)"},
    {.name = "widths", .kind = K::reals, .unit = "neurons",
     .help = "a width sweep n1,n2,... (instead of n): the measured n-scaled 1/n quantities beside their theory"},
    {.name = "tied", .kind = K::flag,
     .help = "deep nets with the same (W, b) at every layer: the discrete-time recurrent net h^l = W phi(h^{l-1}) + b"},
    {.name = "sampling", .kind = K::text,
     .help = "how untied deep nets are drawn: weights (every W^l) or conditional (each layer's pre-activations from "
             "their exact Gaussian law given the layer below: the same nets in distribution, 3N normals per layer "
             "instead of N^2)"},
    {.name = "draws", .kind = K::integer, .help = "independent draws of (W, b), run side by side"},
    {.name = "replicas", .kind = K::integer, .help = "initial conditions sharing W and b"},
    {.name = "draw", .kind = K::integer, .help = "which draw d of (W, b) (simulate's draws are d = 0 .. draws - 1)"},
    {.name = "seed", .kind = K::integer, .help = "seed of every random number (W, b, initial states, inputs, tangent vectors)"},
    // Initial states and inputs.
    {.name = "m0", .kind = K::real, .unit = "units of h", .help = "mean of the initial state h_i(0)"},
    {.name = "q0", .kind = K::real, .unit = "units of h^2",
     .help = "second moment of the initial state: the variance of h_i(0), or |h^0|^2 / N of each deep-net input"},
    {.name = "c0", .kind = K::real,
     .help = "correlation of the two deep-net inputs (and of replica 0 with the others in compare)"},
    {.name = "inputs", .kind = K::text,
     .help = "deep-net inputs: exact (exactly the empirical q0 and c0) or gaussian (i.i.d. normal components of variance q0, correlation c0)"},
    {.name = "replica_eps", .kind = K::real, .unit = "units of h",
     .help = "> 0: replicas start at replica 0's h(0) plus eps N(0, 1)"},
    // Time.
    {.name = "t_end", .kind = K::real, .unit = time_unit, .help = "duration (iterations for the map)"},
    {.name = "dt", .kind = K::real, .unit = time_unit, .help = "step of the fixed-step integrators rk4 and euler"},
    {.name = "dt_out", .kind = K::real, .unit = time_unit, .help = "sampling interval of the output"},
    {.name = "times", .kind = K::reals, .unit = time_unit, .help = "explicit output times t1,t2,... (instead of t_end and dt_out)"},
    {.name = "tau_max", .kind = K::real, .unit = time_unit, .help = "last lag tau of the autocorrelation Delta(tau)"},
    {.name = "transient", .kind = K::real, .unit = time_unit,
     .help = "start of the stationary window (negative: t_end / 4)"},
    {.name = "iterations", .kind = K::integer, .help = "iterations of the tied discrete-time net (stationary window: the second half)"},
    // Integration.
    {.name = "stepper", .kind = K::text, .help = "rk4 | dopri5 (adaptive) | euler | map (h <- W phi(h) + b)"},
    {.name = "rtol", .kind = K::real, .help = "relative tolerance of the adaptive integrator"},
    {.name = "atol", .kind = K::real, .unit = "units of h", .help = "absolute tolerance of the adaptive integrator"},
    {.name = "precision", .kind = K::text, .help = "double | float: the state, the integrator and the observables"},
    {.name = "weight_precision", .kind = K::text,
     .help = "state | double | float | half: storage of W, the draw rounded to nearest (state: as precision; not wider)"},
    {.name = "accumulation", .kind = K::text,
     .help = "state | blocked: W phi(h) summed in the state's precision, or float sums over blocks of 128 added in double"},
    // Observables.
    {.name = "record_neurons", .kind = K::integer, .unit = "neurons", .help = "record the traces h_i(t) of neurons 0 .. K-1"},
    {.name = "lyapunov", .kind = K::flag, .help = "compute Lyapunov exponents (tangent dynamics, QR renormalisation)"},
    {.name = "lyapunov_k", .kind = K::integer, .help = "number of Lyapunov exponents (the top of the spectrum)"},
    {.name = "lyapunov_interval", .kind = K::real, .unit = time_unit, .help = "time between renormalisations of the tangent vectors"},
    {.name = "acf_lag", .kind = K::real, .unit = time_unit,
     .help = "largest lag of the autocorrelation C(tau) (negative: min(20, window / 2); 0: none)"},
    {.name = "acf_neurons", .kind = K::integer, .unit = "neurons", .help = "neurons used for C(tau) (the first ones)"},
    // How the computation runs.
    {.name = "threads", .kind = K::integer, .help = "threads (0: all cores); results do not depend on it", .role = R::runtime},
    {.name = "ranks_per_group", .kind = K::integer,
     .help = "under mpirun: the ranks that share one network's rows of W; the job's groups share the draws (0: "
             "the fewest that fit in memory)",
     .role = R::front_end},
    {.name = "flush_interval", .kind = K::real, .unit = "s", .help = "wall time between flushes and checkpoints of the output file",
     .role = R::runtime},
    // Inputs and outputs of the front ends.
    {.name = "h0", .kind = K::text,
     .help = "initial state from FILE:DATASET of shape [N] or [replicas, N]; none: drawn from N(m0, q0)", .role = R::front_end},
    {.name = "weights", .kind = K::text,
     .help = "the coupling matrix W from FILE:DATASET (HDF5) or FILE.npy, N x N float64 or float32; none: drawn "
             "from (w0, sigma_w)",
     .role = R::front_end},
    {.name = "bias", .kind = K::text,
     .help = "the bias vector b from FILE:DATASET (HDF5) or FILE.npy, length N; none: drawn from (b0, sigma_b)",
     .role = R::front_end},
    {.name = "output", .kind = K::text, .help = "the output HDF5 file (docs/FORMAT.md)", .role = R::front_end, .short_name = 'o'},
    {.name = "force", .kind = K::flag, .help = "overwrite the output file if it exists", .role = R::front_end},
    {.name = "resume", .kind = K::text, .help = "continue the interrupted run in this file (with its own parameters)",
     .role = R::front_end},
    {.name = "all_fixed_points", .kind = K::flag, .help = "also list every fixed point of the length map with its stability",
     .role = R::front_end},
    {.name = "json", .kind = K::flag, .help = "print the result as one JSON object on stdout", .role = R::front_end},
    {.name = "keep", .kind = K::flag,
     .help = "also store each grid point's full product, what the command alone writes (/sweep/points/<k>/product)",
     .role = R::front_end},
    {.name = "quiet", .kind = K::flag, .help = "no progress bar and no text report", .role = R::front_end},
};

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

double text_to_double(std::string_view field, std::string_view text) {
  const std::string t = trim(text);
  // strtod reads "inf" and "nan" with their signs; the library refuses non-finite values with its
  // own message naming the field.
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size())
    throw InvalidArgument(field, fmt::format("'{}'", text), "must be a number");
  return v;
}

std::int64_t text_to_int(std::string_view field, std::string_view text) {
  const std::string t = trim(text);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (!t.empty() && ec == std::errc() && ptr == t.data() + t.size()) return v;
  // "1e3" and "1000.0" are integers written as reals: accepted when exact.
  double d = 0;
  try {
    d = text_to_double(field, t);
  } catch (const InvalidArgument&) {
    throw InvalidArgument(field, fmt::format("'{}'", text), "must be an integer");
  }
  if (!std::isfinite(d) || d != std::floor(d) || std::abs(d) > 9.0e15)
    throw InvalidArgument(field, fmt::format("'{}'", text), "must be an integer");
  return static_cast<std::int64_t>(d);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
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

// The value's own words, for messages about a value of the wrong kind.
std::string describe(const param_value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) return fmt::format("'{}'", x);
        else return format_value(param_value(x));
      },
      v);
}

}  // namespace

// ---- model_params ---------------------------------------------------------------------------------

void model_params::validate() const {
  require_nonnegative("sigma_w", sigma_w);
  require_nonnegative("sigma_b", sigma_b);
  require_finite("w0", w0);
  require_finite("b0", b0);
}

void model_params::require_centred(std::string_view theory) const {
  if (w0 != 0)
    throw InvalidArgument("w0", format_number(w0), fmt::format("must be 0 for {} (zero-mean weights)", theory));
  if (b0 != 0)
    throw InvalidArgument("b0", format_number(b0), fmt::format("must be 0 for {} (zero-mean biases)", theory));
}

// ---- grid_axis ------------------------------------------------------------------------------------

namespace {

double parse_number(std::string_view field, std::string_view whole, std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double x = 0;
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    throw InvalidArgument(field, whole, "must be a number or a range start:stop:count (e.g. 0.5:4:256)");
  return x;
}

}  // namespace

grid_axis grid_axis::parse(std::string_view text, std::string_view field) {
  grid_axis g;
  const auto c1 = text.find(':');
  if (c1 == std::string_view::npos) {
    g.start = g.stop = parse_number(field, text, text);
    g.count = 1;
  } else {
    const auto c2 = text.find(':', c1 + 1);
    if (c2 == std::string_view::npos || text.find(':', c2 + 1) != std::string_view::npos)
      throw InvalidArgument(field, text, "a range must be start:stop:count (e.g. 0.5:4:256)");
    g.start = parse_number(field, text, text.substr(0, c1));
    g.stop = parse_number(field, text, text.substr(c1 + 1, c2 - c1 - 1));
    const double n = parse_number(field, text, text.substr(c2 + 1));
    if (!(n >= 1 && n <= 1e9 && n == std::floor(n)))
      throw InvalidArgument(field, text, "the count of a range start:stop:count must be an integer >= 1");
    g.count = static_cast<std::int64_t>(n);
  }
  g.validate(field);
  return g;
}

void grid_axis::validate(std::string_view field) const {
  const std::string text = spec();
  if (!std::isfinite(start) || !std::isfinite(stop))
    throw InvalidArgument(field, text, "the ends of a range must be finite numbers");
  if (count < 1) throw InvalidArgument(field, text, "the count of a range start:stop:count must be an integer >= 1");
  if (stop < start) throw InvalidArgument(field, text, "a range start:stop:count needs stop >= start");
  if (count == 1 && stop != start)
    throw InvalidArgument(field, text, "a range of count 1 needs start = stop (or give a single number)");
}

std::vector<double> grid_axis::values() const {
  std::vector<double> v(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i)
    v[i] = count == 1 ? start : start + (stop - start) * (double(i) / double(count - 1));
  if (count > 1) v.back() = stop;
  return v;
}

std::string grid_axis::spec() const {
  return fmt::format("{}:{}:{}", format_number(start), format_number(stop), count);
}

// ---- The vocabulary --------------------------------------------------------------------------------

std::string param_spec::option() const {
  std::string o = "--" + std::string(name);
  std::replace(o.begin(), o.end(), '_', '-');
  return o;
}

std::span<const param_spec> vocabulary() { return entries; }

const param_spec& vocabulary(std::string_view name) {
  for (const auto& e : entries)
    if (e.name == name) return e;
  throw std::logic_error(fmt::format("amari: '{}' is not in the parameter vocabulary (src/core/params.cpp)", name));
}

std::string_view kind_words(param_kind k) {
  switch (k) {
    case param_kind::real: return "a number";
    case param_kind::integer: return "an integer";
    case param_kind::flag: return "true or false";
    case param_kind::text: return "a string";
    case param_kind::reals: return "a list of numbers";
    case param_kind::axis: return "a number or a range start:stop:count";
  }
  return "?";
}

param_value parse_value(const param_spec& spec, std::string_view text) {
  switch (spec.kind) {
    case param_kind::real: return text_to_double(spec.name, text);
    case param_kind::integer: return text_to_int(spec.name, text);
    case param_kind::flag: {
      const std::string t = trim(text);
      if (t == "true" || t == "1" || t == "on" || t == "yes") return true;
      if (t == "false" || t == "0" || t == "off" || t == "no") return false;
      throw InvalidArgument(spec.name, fmt::format("'{}'", text), "must be true or false");
    }
    case param_kind::reals: {
      std::vector<double> out;
      std::stringstream ss{std::string(text)};
      std::string item;
      while (std::getline(ss, item, ',')) out.push_back(text_to_double(spec.name, item));
      if (out.empty())
        throw InvalidArgument(spec.name, fmt::format("'{}'", text), "must be a comma-separated list of numbers");
      return out;
    }
    case param_kind::text:
    case param_kind::axis: return std::string(text);
  }
  return std::string(text);
}

std::string format_value(const param_value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>) return format_number(x);
        else if constexpr (std::is_same_v<T, std::string>) return x;
        else {
          std::string s;
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i > 0) s += ',';
            s += format_number(x[i]);
          }
          return s;
        }
      },
      v);
}

namespace {
std::string toml_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = format_number(v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}
}  // namespace

std::string format_toml(const param_value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
        else if constexpr (std::is_same_v<T, std::int64_t>) return std::to_string(x);
        else if constexpr (std::is_same_v<T, double>) return toml_number(x);
        else if constexpr (std::is_same_v<T, std::string>) {
          std::string out = "\"";
          for (char ch : x) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
          }
          return out + "\"";
        } else {
          std::string s = "[";
          for (std::size_t i = 0; i < x.size(); ++i) {
            if (i > 0) s += ", ";
            s += toml_number(x[i]);
          }
          return s + "]";
        }
      },
      v);
}

std::vector<std::string> split_text(std::string_view text, char sep) {
  std::vector<std::string> out;
  for (std::size_t start = 0;;) {
    const auto at = text.find(sep, start);
    out.emplace_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::string did_you_mean(std::string_view word, std::span<const std::string> known) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& k : known) {
    const std::size_t d = edit_distance(word, k);
    if (d < best_d) best_d = d, best = k;
  }
  if (best.empty() || best_d > std::max<std::size_t>(2, word.size() / 3)) return "";
  return fmt::format("did you mean '{}'?", best);
}

std::string unknown_parameter(std::string_view command, std::string_view name, std::span<const std::string> known) {
  const std::string hint = did_you_mean(name, known);
  return fmt::format("{}: unknown parameter of `amari {}`{}", name, command, hint.empty() ? "" : "; " + hint);
}

namespace detail {

const param_spec& axis_spec(std::string_view name) {
  // One axis entry per numeric vocabulary entry, made on first use and kept for the program's life.
  static std::mutex lock;
  static std::deque<param_spec> specs;
  static std::deque<std::string> helps;
  const std::lock_guard<std::mutex> guard(lock);
  for (const auto& s : specs)
    if (s.name == name) return s;
  const param_spec& base = vocabulary(name);
  helps.push_back(std::string(base.help) + ": a value, or a range start:stop:count");
  param_spec s = base;
  s.kind = param_kind::axis;
  s.help = helps.back();
  specs.push_back(s);
  return specs.back();
}

void convert(const param_spec& s, const param_value& v, double& out) {
  if (const auto* d = std::get_if<double>(&v)) out = *d;
  else if (const auto* i = std::get_if<std::int64_t>(&v)) out = static_cast<double>(*i);
  else if (const auto* t = std::get_if<std::string>(&v)) out = std::get<double>(parse_value(s, *t));
  else throw InvalidArgument(s.name, describe(v), "must be a number");
}

void convert(const param_spec& s, const param_value& v, std::int64_t& out) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    out = *i;
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (!std::isfinite(*d) || *d != std::floor(*d) || std::abs(*d) > 9.0e15)
      throw InvalidArgument(s.name, format_number(*d), "must be an integer");
    out = static_cast<std::int64_t>(*d);
  } else if (const auto* t = std::get_if<std::string>(&v)) {
    out = std::get<std::int64_t>(parse_value(s, *t));
  } else {
    throw InvalidArgument(s.name, describe(v), "must be an integer");
  }
}

void convert(const param_spec& s, const param_value& v, bool& out) {
  if (const auto* b = std::get_if<bool>(&v)) out = *b;
  else if (const auto* t = std::get_if<std::string>(&v)) out = std::get<bool>(parse_value(s, *t));
  else throw InvalidArgument(s.name, describe(v), "must be true or false");
}

void convert(const param_spec& s, const param_value& v, std::string& out) { out = text_of(s, v); }

void convert(const param_spec& s, const param_value& v, std::vector<double>& out) {
  if (const auto* l = std::get_if<std::vector<double>>(&v)) out = *l;
  else if (const auto* d = std::get_if<double>(&v)) out = {*d};
  else if (const auto* i = std::get_if<std::int64_t>(&v)) out = {static_cast<double>(*i)};
  else if (const auto* t = std::get_if<std::string>(&v)) out = std::get<std::vector<double>>(parse_value(s, *t));
  else throw InvalidArgument(s.name, describe(v), "must be a list of numbers");
}

std::string text_of(const param_spec& s, const param_value& v) {
  if (const auto* t = std::get_if<std::string>(&v)) return *t;
  // A number is also accepted as its text: an axis (sigma_b = 0.3 for "a value or a range") is
  // then written like every numeric option.
  if (s.kind == param_kind::axis) {
    if (const auto* d = std::get_if<double>(&v)) return format_number(*d);
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  }
  throw InvalidArgument(s.name, describe(v), fmt::format("must be {}", kind_words(s.kind)));
}

}  // namespace detail

void parse_param(std::string_view text, std::string_view field, Activation& out) { out = Activation::parse(text, field); }
std::string param_text(const Activation& a) { return a.spec(); }
void parse_param(std::string_view text, std::string_view field, grid_axis& out) { out = grid_axis::parse(text, field); }
std::string param_text(const grid_axis& a) { return a.count == 1 && a.start == a.stop ? format_number(a.start) : a.spec(); }

}  // namespace amari
