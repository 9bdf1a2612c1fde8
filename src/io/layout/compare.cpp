// The /compare group (include/amari/io/layout/compare.hpp).
#include "amari/io/layout/compare.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numeric>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::compare {

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// One curve of compare_result: its subgroup, name, description, units.
struct curve {
  const char* group;
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> compare_result::*member;
};

// The curves, subgroup by subgroup; each subgroup's axis is written first (see axes below).
const curve curves[] = {
    {"/compare/depth", "q_map", "length map q^l = V(q^{l-1}) from q0 (second moment of h^l)", "h^2", &compare_result::q_map},
    {"/compare/depth", "c_map", "correlation map c^l from (q0, c0)", "", &compare_result::c_map},
    {"/compare/depth", "lambda_map", "(1/2) ln(sigma_w^2 E[phi'^2]) at the map's q^{l-1} (NaN at l = 0)", "1/layer",
     &compare_result::lambda_map},
    {"/compare/depth", "q_net", "untied deep net: |h^l_1|^2 / N, mean over nets", "h^2", &compare_result::q_net},
    {"/compare/depth", "q_net_sem", "standard error of q_net over nets", "h^2", &compare_result::q_net_sem},
    {"/compare/depth", "c_net", "untied deep net: cosine of the two inputs' h^l, mean over nets", "", &compare_result::c_net},
    {"/compare/depth", "c_net_sem", "standard error of c_net over nets", "", &compare_result::c_net_sem},
    {"/compare/depth", "lambda_net",
     "untied deep net: (1/2) ln(|v^l|^2 / |v^{l-1}|^2) of a tangent vector, mean over nets", "1/layer",
     &compare_result::lambda_net},
    {"/compare/depth", "lambda_net_sem", "standard error of lambda_net over nets", "1/layer", &compare_result::lambda_net_sem},
    {"/compare/time", "m_ode", "Amari's order-parameter ODE: population mean m(t)", "h", &compare_result::m_ode},
    {"/compare/time", "q_ode", "Amari's order-parameter ODE: population variance q(t)", "h^2", &compare_result::q_ode},
    {"/compare/time", "m_sim", "simulation: population mean mean_i h_i, mean over draws", "h", &compare_result::m_sim},
    {"/compare/time", "m_sim_sem", "standard error of m_sim over draws", "h", &compare_result::m_sim_sem},
    {"/compare/time", "q_sim", "simulation: population variance mean_i (h_i - m)^2, mean over draws", "h^2",
     &compare_result::q_sim},
    {"/compare/time", "q_sim_sem", "standard error of q_sim over draws", "h^2", &compare_result::q_sim_sem},
    {"/compare/time", "q2_sim", "simulation: second moment mean_i h_i^2, mean over draws", "h^2", &compare_result::q2_sim},
    {"/compare/time", "q2_sim_sem", "standard error of q2_sim over draws", "h^2", &compare_result::q2_sim_sem},
    {"/compare/time", "c12_sim",
     "simulation: correlation of replica 0 with the others, h^0 . h^a / (|h^0| |h^a|), mean over draws", "",
     &compare_result::c12_sim},
    {"/compare/time", "c12_sim_sem", "standard error of c12_sim over draws", "", &compare_result::c12_sim_sem},
    {"/compare/autocorrelation", "C_sim",
     "simulation: C(tau) = < mean_i h_i(t) h_i(t + tau) >_t over the stationary window, mean over draws", "h^2",
     &compare_result::acf_sim},
    {"/compare/autocorrelation", "C_sim_sem", "standard error of C_sim over draws", "h^2", &compare_result::acf_sim_sem},
    {"/compare/dmft", "delta", "SCS DMFT autocorrelation Delta(tau) of the chaotic state", "h^2",
     &compare_result::delta_dmft},
    {"/compare/tied", "m_theory", "mean-field map: m' = w0 E[phi(x)] + b0", "h", &compare_result::m_tied_theory},
    {"/compare/tied", "q_theory",
     "mean-field map: q' = sigma_w^2 E[phi(x)^2] + sigma_b^2 (the length map when w0 = b0 = 0)", "h^2",
     &compare_result::q_tied_theory},
    {"/compare/tied", "c_theory", "correlation map from (q0, c0) (NaN unless w0 = b0 = 0)", "", &compare_result::c_tied_theory},
    {"/compare/tied", "m_sim", "tied net: population mean, mean over draws", "h", &compare_result::m_tied},
    {"/compare/tied", "m_sim_sem", "standard error of m_sim over draws", "h", &compare_result::m_tied_sem},
    {"/compare/tied", "q_sim", "tied net: population variance, mean over draws", "h^2", &compare_result::q_tied},
    {"/compare/tied", "q_sim_sem", "standard error of q_sim over draws", "h^2", &compare_result::q_tied_sem},
    {"/compare/tied", "c12_sim", "tied net: correlation of replica 0 with the others, mean over draws", "",
     &compare_result::c12_tied},
    {"/compare/tied", "c12_sim_sem", "standard error of c12_sim over draws", "", &compare_result::c12_tied_sem},
};

// Each subgroup's axis: the scale's name, its values in compare_result (or an index), its meaning.
struct axis {
  const char* group;
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> compare_result::*member;
  bool index;  // written as the integers 0 .. n-1 (the member holds the same numbers as doubles)
};
const axis axes[] = {
    {"/compare/depth", "layer", "layer index l (0: the inputs)", "", &compare_result::layer, true},
    {"/compare/time", "t", "time", "leak time constants", &compare_result::t, false},
    {"/compare/autocorrelation", "tau", "lag", "leak time constants", &compare_result::tau, false},
    {"/compare/dmft", "tau", "lag", "leak time constants", &compare_result::tau_dmft, false},
    {"/compare/tied", "iteration", "iteration k of h(k+1) = W phi(h(k)) + b", "iterations", &compare_result::iteration, true},
};

std::optional<double> opt(double x) { return std::isnan(x) ? std::nullopt : std::optional<double>(x); }

}  // namespace

void write(store::file& f, const compare_params& p, const compare_result& r) {
  auto g = f.group_at(group);
  compare_params used = p;
  used.transient = p.transient_time();
  io::write_params(g, compare_params::table(), used);
  g.attr("phase", r.phase);
  g.attr("depth_phase", r.depth_phase);
  g.attr("chi_1", r.chi_1);
  g.attr("depth_chi_1", r.depth_chi_1);
  g.attr("m_star", r.m_star.value_or(nan_v));
  g.attr("q_star", r.q_star.value_or(nan_v));
  g.attr("depth_q_star", r.depth_q_star.value_or(nan_v));
  g.attr("depth_c_star", r.depth_c_star.value_or(nan_v));
  g.attr("seconds", r.seconds);

  for (const auto& a : axes) {
    const auto& v = r.*a.member;
    // The autocorrelation and the DMFT exist only in some phases: no axis, no group.
    if (v.empty() && std::string(a.name) == "tau") continue;
    auto sg = f.group_at(a.group);
    if (a.index) {
      std::vector<std::int64_t> idx(v.size());
      std::iota(idx.begin(), idx.end(), std::int64_t{0});
      sg.write_scale(a.name, idx, {.description = a.description, .units = a.units});
    } else {
      sg.write_scale(a.name, v, {.description = a.description, .units = a.units});
    }
    for (const auto& c : curves)
      if (std::string(c.group) == a.group)
        sg.write(c.name, r.*c.member, {.description = c.description, .units = c.units, .dims = {a.name}});
  }

  auto tb = f.group_at(table_group);
  const std::size_t n = r.rows.size();
  std::vector<std::string> names, units, notes;
  std::vector<double> th, sim, diff, se, mf;
  for (const auto& row : r.rows) {
    mf.push_back(row.mean_field.value_or(nan_v));
    names.push_back(row.name);
    units.push_back(row.units);
    notes.push_back(row.note);
    th.push_back(row.theory.value_or(nan_v));
    sim.push_back(row.simulation.value_or(nan_v));
    diff.push_back(row.difference.value_or(nan_v));
    se.push_back(row.sem.value_or(nan_v));
  }
  std::vector<std::int64_t> rows(n);
  std::iota(rows.begin(), rows.end(), std::int64_t{0});
  tb.write_scale("row", rows, {.description = "row of the comparison table"});
  tb.write("name", names, {.description = "quantity compared (docs/compare.md)", .dims = {"row"}});
  tb.write("units", units, {.description = "units of theory, simulation, difference and sem (empty: none)",
                            .dims = {"row"}});
  tb.write("theory", th, {.description = "mean-field prediction (NaN: the row does not apply)", .dims = {"row"}});
  tb.write("simulation", sim, {.description = "measured value (NaN: the row does not apply)", .dims = {"row"}});
  tb.write("difference", diff, {.description = "simulation - theory", .dims = {"row"}});
  tb.write("sem", se, {.description = "standard error of the measured value", .dims = {"row"}});
  tb.write("note", notes, {.description = "what each side is, or why the row does not apply", .dims = {"row"}});
  tb.write("mean_field", mf,
           {.description = "finite_* rows: the infinite-width value beside the 1/N-corrected theory (NaN: other rows)",
            .dims = {"row"}});
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /compare", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, compare_params::table());
  compare_result& r = out.result;
  r.phase = g.attr_string("phase");
  r.depth_phase = g.attr_string("depth_phase");
  r.chi_1 = g.attr_double("chi_1");
  r.depth_chi_1 = g.attr_double("depth_chi_1");
  r.m_star = opt(g.attr_double("m_star"));
  r.q_star = opt(g.attr_double("q_star"));
  r.depth_q_star = opt(g.attr_double("depth_q_star"));
  r.depth_c_star = opt(g.attr_double("depth_c_star"));
  r.seconds = g.attr_double("seconds");
  for (const auto& a : axes) {
    if (!f.has(a.group)) continue;
    auto sg = f.group_at(a.group);
    r.*a.member = sg.read_doubles(a.name);
    for (const auto& c : curves)
      if (std::string(c.group) == a.group) r.*c.member = sg.read_doubles(c.name);
  }
  auto tb = f.group_at(table_group);
  const auto names = tb.read_strings("name"), units = tb.read_strings("units"), notes = tb.read_strings("note");
  const auto th = tb.read_doubles("theory"), sim = tb.read_doubles("simulation"), diff = tb.read_doubles("difference"),
             se = tb.read_doubles("sem");
  // (files written before the finite-width rows have no mean_field column)
  const auto mf = tb.has("mean_field") ? tb.read_doubles("mean_field") : std::vector<double>(names.size(), nan_v);
  for (std::size_t i = 0; i < names.size(); ++i)
    r.rows.push_back({.name = names[i], .units = units[i], .theory = opt(th[i]), .simulation = opt(sim[i]),
                      .difference = opt(diff[i]), .sem = opt(se[i]), .note = notes[i], .mean_field = opt(mf[i])});
  return out;
}

io::record to_record(const compare_params& p, const compare_result& r) {
  io::record j = io::params_record(compare_params::table(), p);
  j.add("phase", r.phase);
  j.add("chi_1", r.chi_1);
  io::value::array rows;
  for (const auto& row : r.rows)
    rows.push_back(io::record()
                       .add("name", row.name)
                       .add("theory", row.theory)
                       .add("simulation", row.simulation)
                       .add("difference", row.difference)
                       .add("sem", row.sem)
                       .add("mean_field", row.mean_field)
                       .add("units", row.units)
                       .add("note", row.note));
  j.add("rows", std::move(rows));
  return j;
}

}  // namespace amari::layout::compare
