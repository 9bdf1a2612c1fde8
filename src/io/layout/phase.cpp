// The /phase group (include/amari/io/layout/phase.hpp).
#include "amari/io/layout/phase.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "amari/core/error.hpp"

namespace amari::layout::phase {

namespace {
// The grids of doubles: name, description, units.
struct grid_name {
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> phase_diagram::*member;
};
const grid_name grids[] = {
    {"q_star", "fixed point of the length map reached from q = 1 (0: collapse; NaN: divergent)", "h^2", &phase_diagram::q_star},
    {"c_star", "fixed point of the correlation map reached from c = 0.5 (NaN: undefined)", "", &phase_diagram::c_star},
    {"chi_1", "sigma_w^2 E[phi'(sqrt(q*) z)^2]", "", &phase_diagram::chi_1},
    {"chi_c", "sigma_w^2 E[phi'(u1) phi'(u2)] at c* (NaN: undefined)", "", &phase_diagram::chi_c},
    {"chi_q", "V'(q*) (NaN: divergent)", "", &phase_diagram::chi_q},
    {"xi_c", "-1 / ln chi_c (inf: infinite; NaN: undefined)", "layers", &phase_diagram::xi_c},
    {"xi_q", "-1 / ln chi_q (inf: infinite; NaN: undefined)", "layers", &phase_diagram::xi_q},
};
}  // namespace

void write(store::file& f, const phase_params& p, const phase_diagram& d) {
  auto g = f.group_at(group);
  g.attr("phi", p.phi.spec());
  g.attr("sigma_w_range", p.sigma_w.spec());
  g.attr("sigma_b_range", p.sigma_b.spec());
  g.attr("critical_band", critical_band);
  g.write_scale("sigma_w", d.sigma_w, {.description = "weight standard deviation times sqrt(N)"});
  g.write_scale("sigma_b", d.sigma_b, {.description = "bias standard deviation", .units = "h"});
  const std::vector<std::uint64_t> shape{d.sigma_b.size(), d.sigma_w.size()};
  const std::vector<std::string> dims{"sigma_b", "sigma_w"};
  for (const auto& gr : grids)
    g.write(gr.name, d.*gr.member, {.description = gr.description, .units = gr.units, .dims = dims}, shape);
  g.write("layers_to_1pct", d.layers_to_1pct,
          {.description = "least l >= 1 with |q^l - q*| / q* < 0.01 from q^0 = 10 (-1: undefined)",
           .units = "layers", .dims = dims}, shape);
  g.write(phase, d.phase, {.description = "0 ordered (chi_1 < 1), 1 critical (|chi_1 - 1| < 1e-9), "
                                          "2 chaotic (chi_1 > 1), 3 divergent", .dims = dims}, shape);
  g.attr_of(phase, "flag_meanings", std::string(flag_meanings));
  std::vector<double> edge_w(d.edge.size()), edge_q(d.edge.size());
  for (std::size_t i = 0; i < d.edge.size(); ++i) {
    edge_w[i] = d.edge[i].sigma_w;
    edge_q[i] = d.edge[i].q_star.value_or(std::nan(""));
  }
  g.write(edge_sigma_w, edge_w, {.description = "the edge of chaos: sigma_w with chi_1 = 1 at each sigma_b",
                                 .dims = {"sigma_b"}});
  g.write(edge_q_star, edge_q, {.description = "q* on the edge of chaos (NaN: divergent)", .units = "h^2",
                                .dims = {"sigma_b"}});
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /phase", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params.phi = Activation::parse(g.attr_string("phi"));
  out.params.sigma_w = grid_axis::parse(g.attr_string("sigma_w_range"), "sigma_w_range");
  out.params.sigma_b = grid_axis::parse(g.attr_string("sigma_b_range"), "sigma_b_range");
  phase_diagram& d = out.diagram;
  d.sigma_w = g.read_doubles("sigma_w");
  d.sigma_b = g.read_doubles("sigma_b");
  for (const auto& gr : grids) d.*gr.member = g.read_doubles(gr.name);
  d.layers_to_1pct = g.read_ints("layers_to_1pct");
  d.phase = g.read_ints(phase);
  const auto ew = g.read_doubles(edge_sigma_w), eq = g.read_doubles(edge_q_star);
  for (std::size_t i = 0; i < ew.size(); ++i)
    d.edge.push_back({.sigma_b = d.sigma_b.at(i), .sigma_w = ew[i],
                      .q_star = std::isnan(eq[i]) ? std::nullopt : std::optional<double>(eq[i])});
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  using io::short_number;
  const record rec = read(f);
  const phase_diagram& d = rec.diagram;
  std::vector<io::summary_entry> out;
  if (d.sigma_w.empty() || d.sigma_b.empty()) return out;
  out.push_back(io::entry_words("grid", fmt::format("{} x {} points: sigma_w {} .. {}, sigma_b {} .. {}", d.sigma_w.size(),
                                              d.sigma_b.size(), short_number(d.sigma_w.front()), short_number(d.sigma_w.back()),
                                              short_number(d.sigma_b.front()), short_number(d.sigma_b.back()))));
  const std::vector<std::string> meanings = {"ordered", "critical", "chaotic", "divergent"};  // flag_meanings
  std::vector<std::size_t> n(meanings.size(), 0);
  for (auto v : d.phase)
    if (v >= 0 && static_cast<std::size_t>(v) < n.size()) ++n[static_cast<std::size_t>(v)];
  for (std::size_t i = 0; i < n.size(); ++i)
    out.push_back(io::entry_value(meanings[i] + " points", double(n[i]), "", "grid points in this phase"));
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& e : d.edge)
    if (std::isfinite(e.sigma_w)) lo = std::min(lo, e.sigma_w), hi = std::max(hi, e.sigma_w);
  if (hi >= lo) {
    out.push_back(io::entry_value("edge sigma_w min", lo, "", "the edge of chaos chi_1 = 1 over the sigma_b of the grid"));
    out.push_back(io::entry_value("edge sigma_w max", hi, "", "", std::nullopt,
                        fmt::format("(sigma_b {} .. {})", short_number(d.sigma_b.front()), short_number(d.sigma_b.back()))));
  }
  return out;
}

}  // namespace amari::layout::phase
