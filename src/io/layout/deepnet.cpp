// The /deepnet group (include/amari/io/layout/deepnet.hpp).
#include "amari/io/layout/deepnet.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::deepnet {

namespace {

const array_field layer_arrays[] = {
    {"q1_mean", "mean over networks of q1", "h^2", &deepnet_result::q1_mean},
    {"q1_sem", "standard error of q1_mean (NaN for one network)", "h^2", &deepnet_result::q1_sem},
    {"q2_mean", "mean over networks of q2", "h^2", &deepnet_result::q2_mean},
    {"q2_sem", "standard error of q2_mean", "h^2", &deepnet_result::q2_sem},
    {"c_mean", "mean over networks of c", "", &deepnet_result::c_mean},
    {"c_sem", "standard error of c_mean", "", &deepnet_result::c_sem},
    {"lambda_mean", "mean over networks of lambda", "1/layer", &deepnet_result::lambda_mean},
    {"lambda_sem", "standard error of lambda_mean", "1/layer", &deepnet_result::lambda_sem},
    {"q_map", "the length map iterated from q0: q^l = V(q^{l-1})", "h^2", &deepnet_result::q_map},
    {"c_map", "the correlation map iterated from (q0, c0)", "", &deepnet_result::c_map},
    {"lambda_map", "(1/2) ln(sigma_w^2 E[phi'^2]) at q^{l-1} of the map", "1/layer", &deepnet_result::lambda_map},
};

const array_field net_arrays[] = {
    {"q1", "|h^l_1|^2 / N of input 1", "h^2", &deepnet_result::q1},
    {"q2", "|h^l_2|^2 / N of input 2", "h^2", &deepnet_result::q2},
    {"c", "h^l_1 . h^l_2 / (|h^l_1| |h^l_2|)", "", &deepnet_result::c},
    {"lambda", "(1/2) ln(|v^l|^2 / |v^{l-1}|^2) of a tangent vector at input 1 (NaN at l = 0)", "1/layer",
     &deepnet_result::lambda},
};

// The width sweep's [width][layer] arrays (deepnet_result::width_sweep).
struct sweep_field {
  const char* name;
  const char* description;
  const char* units;
  std::vector<double> deepnet_result::width_sweep::*member;
};
using S = deepnet_result::width_sweep;
const sweep_field sweep_arrays[] = {
    {"var_q", "measured n Var(q^l) of input 1 over the networks", "h^4", &S::var_q},
    {"var_q_sem", "jackknife standard error of var_q", "h^4", &S::var_q_sem},
    {"theory_var_q", "the 1/n theory of var_q: 2 K^2 + V (amari finite)", "h^4", &S::theory_var_q},
    {"kurtosis", "measured n x excess kurtosis of h^l_i (input 1), over networks and neurons", "", &S::kurtosis},
    {"kurtosis_sem", "jackknife standard error of kurtosis", "", &S::kurtosis_sem},
    {"theory_kurtosis", "the 1/n theory of kurtosis: 3 V / K^2", "", &S::theory_kurtosis},
    {"mean_shift", "measured n (mean q^l - K^l), input 1", "h^2", &S::mean_shift},
    {"mean_shift_sem", "standard error of mean_shift", "h^2", &S::mean_shift_sem},
    {"theory_mean_shift", "the 1/n theory of mean_shift: G1", "h^2", &S::theory_mean_shift},
    {"c_shift", "measured n (mean c^l - c^l of the map)", "", &S::c_shift},
    {"c_shift_sem", "standard error of c_shift", "", &S::c_shift_sem},
    {"theory_c_shift", "the 1/n theory of c_shift (amari finite)", "", &S::theory_c_shift},
};

}  // namespace

std::span<const array_field> per_layer() { return layer_arrays; }
std::span<const array_field> per_net() { return net_arrays; }

void write(store::file& f, const deepnet_params& p, const deepnet_result& r) {
  auto g = f.group_at(group);
  io::write_params(g, deepnet_params::table(), p, {"widths"});  // the widths are the `width` scale
  const maps_result& fixed = r.fixed;
  g.attr("q_star", fixed.q_star.value_or(std::nan("")));
  g.attr("c_star", fixed.c_star.value_or(std::nan("")));
  g.attr("chi_1", fixed.chi_1);
  g.attr("phase", std::string(to_string(fixed.phase)));
  std::vector<std::int64_t> layer(r.layers + 1), net(r.nets);
  for (std::int64_t l = 0; l <= r.layers; ++l) layer[l] = l;
  for (std::int64_t k = 0; k < r.nets; ++k) net[k] = k;
  g.write_scale("layer", layer, {.description = "layer index l (0: the inputs)"});
  g.write_scale("net", net, {.description = "index of the random network"});
  const std::vector<std::uint64_t> shape{std::uint64_t(r.nets), std::uint64_t(r.layers + 1)};
  for (const auto& a : net_arrays)
    g.write(a.name, r.*a.member, {.description = a.description, .units = a.units, .dims = {"net", "layer"}}, shape);
  for (const auto& a : layer_arrays)
    g.write(a.name, r.*a.member, {.description = a.description, .units = a.units, .dims = {"layer"}});
  // The maps as curves, for the cobweb plots.
  const map_curves& mc = r.curves;
  g.write_scale("q_grid", mc.q, {.description = "q, the argument of the length map", .units = "h^2"});
  g.write("V", mc.V, {.description = "the length map V(q) = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2", .units = "h^2",
                      .dims = {"q_grid"}});
  g.write_scale("c_grid", mc.c, {.description = "c, the argument of the correlation map"});
  g.write("C", mc.C, {.description = "the correlation map C(c) at q = q_c (attribute)", .dims = {"c_grid"}});
  g.attr_of("C", "q_c", mc.q_c);
  g.attr_of("C", "q_c_is_fixed_point", std::int64_t(mc.q_c_is_fixed_point));
  // The width sweep: the scale `width` and the [width, layer] measurements beside their theory.
  const auto& sw = r.sweep;
  if (!sw.widths.empty()) {
    g.write_scale("width", sw.widths, {.description = "the width n of the sweep", .units = "neurons"});
    const std::vector<std::uint64_t> wshape{std::uint64_t(sw.widths.size()), std::uint64_t(r.layers + 1)};
    for (const auto& a : sweep_arrays)
      g.write(a.name, sw.*a.member, {.description = a.description, .units = a.units, .dims = {"width", "layer"}},
              wshape);
  }
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /deepnet", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, deepnet_params::table());
  deepnet_result& r = out.result;
  r.nets = out.params.nets;
  r.layers = out.params.layers;
  for (const auto& a : net_arrays) r.*a.member = g.read_doubles(a.name);
  for (const auto& a : layer_arrays) r.*a.member = g.read_doubles(a.name);
  auto opt = [](double x) { return std::isnan(x) ? std::nullopt : std::optional<double>(x); };
  r.fixed.q_star = opt(g.attr_double("q_star"));
  r.fixed.c_star = opt(g.attr_double("c_star"));
  r.fixed.chi_1 = g.attr_double("chi_1");
  const std::string phase = g.attr_string("phase");
  for (auto ph : {depth_phase::ordered, depth_phase::critical, depth_phase::chaotic, depth_phase::divergent})
    if (to_string(ph) == phase) r.fixed.phase = ph;
  if (g.has("q_grid")) {
    r.curves.q = g.read_doubles("q_grid");
    r.curves.V = g.read_doubles("V");
    r.curves.c = g.read_doubles("c_grid");
    r.curves.C = g.read_doubles("C");
    r.curves.q_c = g.attr_double_of("C", "q_c");
    r.curves.q_c_is_fixed_point = g.attr_int_of("C", "q_c_is_fixed_point") != 0;
  }
  if (g.has("width")) {
    for (double w : g.read_doubles("width")) r.sweep.widths.push_back(static_cast<std::int64_t>(w));
    out.params.widths = g.read_doubles("width");
    for (const auto& a : sweep_arrays) r.sweep.*a.member = g.read_doubles(a.name);
  }
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  const record rec = read(f);
  const deepnet_result& r = rec.result;
  std::vector<io::summary_entry> out;
  if (r.q_map.empty()) return out;
  const std::size_t l = r.q_map.size() - 1;
  const std::string at = fmt::format("at layer {}", l);
  out.push_back(io::entry_value("final q networks", r.q1_mean.at(l), "h^2", "mean over the networks (+- SE)", r.q1_sem.at(l), at));
  out.push_back(io::entry_value("final q map", r.q_map.at(l), "h^2", "the map iterated from the inputs", std::nullopt, at));
  out.push_back(io::entry_value("final c networks", r.c_mean.at(l), "", "mean over the networks (+- SE)", r.c_sem.at(l), at));
  out.push_back(io::entry_value("final c map", r.c_map.at(l), "", "the map iterated from the inputs", std::nullopt, at));
  out.push_back(io::entry_value("q*", r.fixed.q_star.value_or(std::nan("")), "h^2", "the maps' fixed point"));
  out.push_back(io::entry_value("c*", r.fixed.c_star.value_or(std::nan(""))));
  out.push_back(io::entry_value("chi_1", r.fixed.chi_1));
  out.push_back(io::entry_words("phase", std::string(to_string(r.fixed.phase))));
  return out;
}

io::record to_record(const deepnet_params& p, const deepnet_result& r) {
  io::record j = io::params_record(deepnet_params::table(), p);
  if (p.widths.empty()) j.erase("widths");  // without a sweep, deepnet's keys are as before
  std::vector<double> layer(static_cast<std::size_t>(r.layers + 1));
  for (std::int64_t l = 0; l <= r.layers; ++l) layer[static_cast<std::size_t>(l)] = double(l);
  j.add("layer", std::move(layer));
  for (const auto& a : per_layer()) j.add(a.name, r.*a.member);
  // The width sweep: plain names are measurements, theory_ the theory, each [width][layer].
  const auto& sw = r.sweep;
  if (!sw.widths.empty()) {
    j.add("widths", sw.widths);
    const std::size_t cols = static_cast<std::size_t>(r.layers + 1);
    for (const auto& a : sweep_arrays) {
      io::value::array rows;
      const auto& v = sw.*a.member;
      for (std::size_t w = 0; w < sw.widths.size(); ++w)
        rows.emplace_back(std::vector<double>(v.begin() + w * cols, v.begin() + (w + 1) * cols));
      j.add(a.name, io::value(std::move(rows)));
    }
  }
  return j;
}

}  // namespace amari::layout::deepnet
