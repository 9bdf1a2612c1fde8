// The /dmft group (include/amari/io/layout/dmft.hpp).
#include "amari/io/layout/dmft.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::dmft {

void write(store::file& f, const dmft_params& p, const dmft_result& r) {
  auto g = f.group_at(group);
  const auto& st = r.stationary;
  io::write_params(g, dmft_params::table(), p);
  g.attr("chaotic", std::int64_t(st.chaotic));
  g.attr("delta_0", st.delta_0);
  g.attr("delta_inf", st.delta_inf);
  g.attr("q_static", st.q_static);
  g.attr("chi_1", st.chi_1);
  if (r.decay_time) g.attr("decay_time", *r.decay_time);
  if (r.lyapunov) g.attr("lyapunov", *r.lyapunov);
  if (r.transition) g.attr("transition_sigma_w", r.transition->sigma_w);
  if (r.edge_of_chaos) g.attr("edge_of_chaos_sigma_w", *r.edge_of_chaos);
  if (!st.chaotic) g.attr("message", st.message);
  g.write_scale("tau", r.trajectory.tau, {.description = "lag", .units = "leak time constants"});
  g.write("delta", r.trajectory.delta,
          {.description = "autocorrelation Delta(tau) = <h(t) h(t + tau)> of the stationary state",
           .units = "h^2", .dims = {"tau"}});
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /dmft", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, dmft_params::table());
  dmft_result& r = out.result;
  auto& st = r.stationary;
  st.chaotic = g.attr_int("chaotic") != 0;
  st.delta_0 = g.attr_double("delta_0");
  st.delta_inf = g.attr_double("delta_inf");
  st.q_static = g.attr_double("q_static");
  st.chi_1 = g.attr_double("chi_1");
  if (g.has_attr("message")) st.message = g.attr_string("message");
  if (g.has_attr("decay_time")) r.decay_time = g.attr_double("decay_time");
  if (g.has_attr("lyapunov")) r.lyapunov = g.attr_double("lyapunov");
  if (g.has_attr("transition_sigma_w")) r.transition = dmft_transition{.sigma_w = g.attr_double("transition_sigma_w")};
  if (g.has_attr("edge_of_chaos_sigma_w")) r.edge_of_chaos = g.attr_double("edge_of_chaos_sigma_w");
  r.trajectory.tau = g.read_doubles("tau");
  r.trajectory.delta = g.read_doubles("delta");
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  const record rec = read(f);
  const dmft_result& r = rec.result;
  const auto& st = r.stationary;
  std::vector<io::summary_entry> out;
  out.push_back(io::entry_words("solution", st.chaotic ? "chaotic" : "static (no chaotic solution): Delta(tau) = q*"));
  out.push_back(io::entry_value("delta_0", st.delta_0, "h^2", "Delta(0), the variance of h"));
  out.push_back(io::entry_value("delta_inf", st.delta_inf, "h^2", "Delta(infinity), the static part"));
  if (r.decay_time)
    out.push_back(io::entry_value("decay time", *r.decay_time, "leak time constants",
                        "tau where Delta - Delta_inf falls to half of Delta_0 - Delta_inf"));
  if (r.lyapunov) out.push_back(io::entry_value("lambda_max", *r.lyapunov, "1/leak time constant", "the maximal Lyapunov exponent"));
  out.push_back(io::entry_value("q*", st.q_static, "h^2", "the static solution"));
  out.push_back(io::entry_value("chi_1", st.chi_1, "", "at q*"));
  return out;
}

bool transition_at_edge(const dmft_result& r) {
  return r.transition && r.edge_of_chaos && std::abs(r.transition->sigma_w - *r.edge_of_chaos) <= 1e-9 * *r.edge_of_chaos;
}

io::record to_record(const dmft_params& p, const dmft_result& r) {
  const auto& st = r.stationary;
  io::record j = io::params_record(dmft_params::table(), p);
  j.add("chaotic", st.chaotic);
  j.add("delta_0", st.delta_0);
  j.add("delta_inf", st.delta_inf);
  j.add("tau", r.trajectory.tau);
  j.add("delta", r.trajectory.delta);
  j.add("decay_time", r.decay_time);
  j.add("lyapunov", r.lyapunov);
  j.add("q_static", st.q_static);
  j.add("chi_1", st.chi_1);
  j.add("message", st.chaotic ? io::value(nullptr) : io::value(st.message));
  j.add("transition", io::record()
                          .add("sigma_w", r.transition ? io::value(r.transition->sigma_w) : io::value(nullptr))
                          .add("edge_of_chaos_sigma_w", r.edge_of_chaos)
                          .add("coincide", transition_at_edge(r)));
  return j;
}

}  // namespace amari::layout::dmft
