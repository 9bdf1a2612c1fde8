// Parameters of `simulate`: parsing, validation, derived quantities, memory budget.
#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "amari/core/error.hpp"
#include "amari/sim/simulate.hpp"

namespace amari {

stepper_kind parse_stepper(std::string_view s) {
  if (s == "rk4") return stepper_kind::rk4;
  if (s == "dopri5") return stepper_kind::dopri5;
  if (s == "euler") return stepper_kind::euler;
  if (s == "map") return stepper_kind::map;
  throw InvalidArgument("stepper", s, "must be one of rk4, dopri5, euler, map");
}

precision_kind parse_precision(std::string_view s) {
  if (s == "double") return precision_kind::float64;
  if (s == "float") return precision_kind::float32;
  throw InvalidArgument("precision", s, "must be double or float");
}

std::string_view to_string(stepper_kind s) {
  switch (s) {
    case stepper_kind::rk4: return "rk4";
    case stepper_kind::dopri5: return "dopri5";
    case stepper_kind::euler: return "euler";
    case stepper_kind::map: return "map";
  }
  return "?";
}

std::string_view to_string(precision_kind p) {
  return p == precision_kind::float64 ? "double" : "float";
}

void parse_param(std::string_view text, std::string_view, stepper_kind& out) { out = parse_stepper(text); }
std::string param_text(stepper_kind s) { return std::string(to_string(s)); }
void parse_param(std::string_view text, std::string_view, precision_kind& out) { out = parse_precision(text); }
std::string param_text(precision_kind p) { return std::string(to_string(p)); }

std::string_view to_string(storage_kind s) {
  return s == storage_kind::float64 ? "double" : s == storage_kind::float32 ? "float" : "half";
}
void parse_param(std::string_view text, std::string_view, weight_precision_kind& out) {
  if (text == "state") out = weight_precision_kind::state;
  else if (text == "double") out = weight_precision_kind::float64;
  else if (text == "float") out = weight_precision_kind::float32;
  else if (text == "half") out = weight_precision_kind::float16;
  else throw InvalidArgument("weight_precision", text, "must be one of double, float, half (or state: as precision)");
}
std::string param_text(weight_precision_kind p) {
  switch (p) {
    case weight_precision_kind::float64: return "double";
    case weight_precision_kind::float32: return "float";
    case weight_precision_kind::float16: return "half";
    default: return "state";
  }
}
void parse_param(std::string_view text, std::string_view, accumulation_kind& out) {
  if (text == "state") out = accumulation_kind::state;
  else if (text == "blocked") out = accumulation_kind::blocked;
  else throw InvalidArgument("accumulation", text, "must be state or blocked");
}
std::string param_text(accumulation_kind a) { return a == accumulation_kind::blocked ? "blocked" : "state"; }

storage_kind simulate_params::weight_storage() const {
  switch (weight_precision) {
    case weight_precision_kind::float64: return storage_kind::float64;
    case weight_precision_kind::float32: return storage_kind::float32;
    case weight_precision_kind::float16: return storage_kind::float16;
    default: return precision == precision_kind::float64 ? storage_kind::float64 : storage_kind::float32;
  }
}

const param_table<simulate_params>& simulate_params::table() {
  using P = simulate_params;
  static const auto t = param_table<P>("simulate")
      .add("n", [](P& p) -> auto& { return p.net.n; })
      .add("phi", [](P& p) -> auto& { return p.net.model.phi; })
      .add("sigma_w", [](P& p) -> auto& { return p.net.model.sigma_w; })
      .add("sigma_b", [](P& p) -> auto& { return p.net.model.sigma_b; })
      .add("w0", [](P& p) -> auto& { return p.net.model.w0; })
      .add("b0", [](P& p) -> auto& { return p.net.model.b0; })
      .add("m0", [](P& p) -> auto& { return p.net.m0; })
      .add("q0", [](P& p) -> auto& { return p.net.q0; })
      .add("seed", [](P& p) -> auto& { return p.net.seed; })
      .add("replicas", [](P& p) -> auto& { return p.replicas; })
      .add("draws", [](P& p) -> auto& { return p.draws; })
      .add("t_end", [](P& p) -> auto& { return p.t_end; })
      .add("dt", [](P& p) -> auto& { return p.dt; })
      .add("dt_out", [](P& p) -> auto& { return p.dt_out; })
      .add("stepper", [](P& p) -> auto& { return p.stepper; })
      .add("rtol", [](P& p) -> auto& { return p.rtol; })
      .add("atol", [](P& p) -> auto& { return p.atol; })
      .add("precision", [](P& p) -> auto& { return p.precision; })
      .add("weight_precision", [](P& p) -> auto& { return p.weight_precision; })
      .add("accumulation", [](P& p) -> auto& { return p.accumulation; })
      .add("record_neurons", [](P& p) -> auto& { return p.record_neurons; })
      .add("lyapunov", [](P& p) -> auto& { return p.lyapunov; })
      .add("lyapunov_k", [](P& p) -> auto& { return p.lyapunov_k; })
      .add("lyapunov_interval", [](P& p) -> auto& { return p.lyapunov_interval; })
      .add("transient", [](P& p) -> auto& { return p.transient; })
      .add("acf_lag", [](P& p) -> auto& { return p.acf_lag; })
      .add("acf_neurons", [](P& p) -> auto& { return p.acf_neurons; })
      .add("replica_eps", [](P& p) -> auto& { return p.replica_eps; })
      .add("threads", [](P& p) -> auto& { return p.threads; })
      .add("flush_interval", [](P& p) -> auto& { return p.flush_interval; });
  return t;
}

namespace {

// x is an integer multiple of unit (to 1e-9 relative): the number, or -1.
std::int64_t multiple_of(double x, double unit) {
  const double k = std::round(x / unit);
  if (k < 1 || std::abs(k * unit - x) > 1e-9 * std::max(std::abs(x), unit)) return -1;
  return static_cast<std::int64_t>(k);
}

}  // namespace

void simulate_params::validate() const {
  net.validate();
  require_int_range("replicas", replicas, 1, 4096);
  require_int_range("draws", draws, 1, 100000);
  require_positive("t_end", t_end);
  require_positive("dt_out", dt_out);
  if (stepper == stepper_kind::map) {
    if (multiple_of(dt_out, 1.0) < 0)
      throw InvalidArgument("dt_out", format_number(dt_out), "must be a whole number of iterations >= 1 for the map");
  } else if (stepper != stepper_kind::dopri5) {
    require_positive("dt", dt);
    if (dt > t_end)
      throw InvalidArgument("dt", format_number(dt),
                            fmt::format("must be a number in (0, t_end = {}]", format_number(t_end)));
    if (dt_out < dt)
      throw InvalidArgument("dt_out", format_number(dt_out),
                            fmt::format("must be >= dt = {} (a sampling interval of whole steps)", format_number(dt)));
    if (multiple_of(dt_out, dt) < 0)
      throw InvalidArgument("dt_out", format_number(dt_out),
                            fmt::format("must be a multiple of dt = {} for the {} stepper",
                                        format_number(dt), to_string(stepper)));
  }
  if (multiple_of(t_end, dt_out) < 0)
    throw InvalidArgument("t_end", format_number(t_end),
                          fmt::format("must be a multiple of dt_out = {}", format_number(dt_out)));
  if (samples() > 100000000)
    throw InvalidArgument("dt_out", format_number(dt_out), "gives more than 1e8 samples: choose a larger one");
  if (stepper == stepper_kind::dopri5) {
    if (!std::isfinite(rtol) || rtol <= 0 || rtol >= 1)
      throw InvalidArgument("rtol", format_number(rtol), "must be a number in (0, 1)");
    require_nonnegative("atol", atol);
  }
  if (precision == precision_kind::float32 && weight_precision == weight_precision_kind::float64)
    throw InvalidArgument("weight_precision", "double",
                          "must not be wider than precision = float: use float or half (or precision = double)");
  if (accumulation == accumulation_kind::blocked &&
      (precision != precision_kind::float64 || weight_storage() == storage_kind::float64))
    throw InvalidArgument("accumulation", "blocked",
                          fmt::format("needs precision = double with weight_precision float or half (here {} with {}): "
                                      "use accumulation = state",
                                      to_string(precision), to_string(weight_storage())));
  require_int_range("record_neurons", record_neurons, 0, net.n);
  if (lyapunov) {
    require_int_range("lyapunov_k", lyapunov_k, 1, net.n);
    require_positive("lyapunov_interval", lyapunov_interval);
    if (stepper == stepper_kind::map && multiple_of(lyapunov_interval, 1.0) < 0)
      throw InvalidArgument("lyapunov_interval", format_number(lyapunov_interval),
                            "must be a whole number of iterations >= 1 for the map");
    if (stepper == stepper_kind::rk4 || stepper == stepper_kind::euler)
      if (multiple_of(lyapunov_interval, dt) < 0)
        throw InvalidArgument("lyapunov_interval", format_number(lyapunov_interval),
                              fmt::format("must be a multiple of dt = {}", format_number(dt)));
  }
  if (!std::isfinite(transient) || transient >= t_end)
    throw InvalidArgument("transient", format_number(transient),
                          fmt::format("must be a number < t_end = {} (negative: t_end / 4)", format_number(t_end)));
  if (!std::isfinite(acf_lag))
    throw InvalidArgument("acf_lag", format_number(acf_lag), "must be a finite number (negative: automatic, 0: none)");
  if (acf_lag > 0 && acf_lag > t_end - transient_time())
    throw InvalidArgument("acf_lag", format_number(acf_lag),
                          fmt::format("must not exceed the stationary window t_end - transient = {}",
                                      format_number(t_end - transient_time())));
  require_int_range("acf_neurons", acf_neurons, 1, std::numeric_limits<std::int64_t>::max());
  require_nonnegative("replica_eps", replica_eps);
  require_int_range("threads", threads, 0, 1024);
  require_positive("flush_interval", flush_interval);
}

double simulate_params::transient_time() const { return transient < 0 ? t_end / 4 : transient; }

double simulate_params::acf_lag_time() const {
  if (acf_lag >= 0) return acf_lag;
  return std::min(20.0, (t_end - transient_time()) / 2);
}

std::int64_t simulate_params::samples() const {
  return static_cast<std::int64_t>(std::llround(t_end / dt_out)) + 1;
}

std::int64_t simulate_params::acf_lags() const {
  const double lag = acf_lag_time();
  if (lag <= 0) return 0;
  return static_cast<std::int64_t>(std::floor(lag / dt_out + 1e-9)) + 1;
}

std::int64_t simulate_params::acf_neurons_used() const { return std::min(acf_neurons, net.n); }

sample_window stationary_window(const simulate_params& p) {
  const auto first = static_cast<std::int64_t>(std::ceil(p.transient_time() / p.dt_out - 1e-9));
  return {first, std::max<std::int64_t>(0, p.samples() - first)};
}

std::uint64_t checkpoint_bytes(const simulate_params& p) {
  // A checkpoint holds up to four N x C states in double (h, its derivative, the last step's
  // start); the observer's staging copies them up to twice more.
  return 3 * 4 * static_cast<std::uint64_t>(p.net.n) * static_cast<std::uint64_t>(p.columns()) * 8;
}

std::uint64_t memory_needed(const simulate_params& p, std::int64_t rows) {
  const bool single = p.precision == precision_kind::float32;
  const std::uint64_t s = single ? 4 : 8;
  const auto n = static_cast<std::uint64_t>(p.net.n), c = static_cast<std::uint64_t>(p.columns());
  const auto d = static_cast<std::uint64_t>(p.draws), r = static_cast<std::uint64_t>(p.replicas);
  std::uint64_t per_draw = weight_bytes(p.net.n, p.weight_storage(), rows);
  per_draw += 24 * n * (c + 8) * s;  // integrator states (dopri5 holds ~16 of them) and the panel
  per_draw += checkpoint_bytes(p);
  std::uint64_t total = d * per_draw;
  // The C(tau) ring buffer (the last L samples of the C(tau) neurons), once in the run and up to
  // three times in a checkpoint on its way to the file. Nothing grows with the run's length.
  if (p.acf_lags() > 0) {
    const auto neurons = static_cast<std::uint64_t>((p.acf_neurons_used() + 7) / 8 * 8);
    total += 4 * d * r * static_cast<std::uint64_t>(p.acf_lags()) * neurons * 8;
  }
  total += 64u << 20;  // the program itself
  return total;
}

std::int64_t draws_per_group(std::int64_t draws, std::int64_t groups) { return (draws + groups - 1) / groups; }

void require_memory(const simulate_params& p, std::int64_t rows, int processes, std::int64_t user_rows,
                    std::uint64_t extra) {
  const std::uint64_t user = static_cast<std::uint64_t>(user_rows) * static_cast<std::uint64_t>(p.net.n) * 8;
  const std::uint64_t need = (memory_needed(p, rows) + user + extra) * static_cast<std::uint64_t>(processes),
                      have = memory_available();
  if (need <= memory_usable()) return;
  auto gb = [](std::uint64_t b) { return fmt::format("{:.1f} GB", static_cast<double>(b) / 1e9); };
  const std::string where =
      processes > 1 ? fmt::format(" on {} ranks of this machine, {} rows of W each,", processes, rows) : "";
  const std::string given =
      user > 0 ? fmt::format(" and {} of the user's W read as float64", gb(user * static_cast<std::uint64_t>(processes)))
               : "";
  throw InvalidArgument(fmt::format(
      "n = {} with draws = {}, replicas = {} in {} precision with {} weights{} needs {} of memory ({} per "
      "weight matrix{}), but only {} is available: use a smaller n, fewer draws, narrower weights "
      "(--weight-precision float or half){}",
      p.net.n, p.draws, p.replicas, to_string(p.precision), to_string(p.weight_storage()), where, gb(need),
      gb(weight_bytes(p.net.n, p.weight_storage())), given, gb(have),
      user > 0 ? ", or more MPI ranks on more machines (each reads only its rows of the user's W)" : ""));
}

}  // namespace amari
