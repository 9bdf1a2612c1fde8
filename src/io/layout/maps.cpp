// The /maps group (include/amari/io/layout/maps.hpp).
#include "amari/io/layout/maps.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::maps {

namespace {

constexpr double nan_v = std::numeric_limits<double>::quiet_NaN();

// A stored value back to the result's optional: NaN (undefined) and inf (infinite) are nullopt.
std::optional<double> defined(double x) { return std::isfinite(x) ? std::optional<double>(x) : std::nullopt; }

depth_phase parse_phase(const std::string& s) {
  for (auto p : {depth_phase::ordered, depth_phase::critical, depth_phase::chaotic, depth_phase::divergent})
    if (to_string(p) == s) return p;
  throw IoError(fmt::format("/maps: unknown phase '{}'", s));
}

stability parse_stability(const std::string& s) {
  for (auto k : {stability::stable, stability::unstable, stability::marginal})
    if (to_string(k) == s) return k;
  throw IoError(fmt::format("/maps/fixed_points: unknown stability '{}'", s));
}

}  // namespace

void write(store::file& f, const maps_params& p, const maps_result& r, const length_fixed_points& fps) {
  auto g = f.group_at(group);
  io::write_params(g, maps_params::table(), p);
  g.attr("phase", std::string(to_string(r.phase)));
  g.attr("c_star_method", r.c_star_method);
  auto val = [](const std::optional<double>& x, bool infinite) { return x ? *x : (infinite ? HUGE_VAL : nan_v); };
  const bool defined_phase = r.phase != depth_phase::divergent;
  g.write_scalar(q_star, val(r.q_star, false),
                 {.description = "fixed point of the length map reached from q = 1 (0: collapse; NaN: divergent)", .units = "h^2"});
  g.write_scalar(chi_1, r.chi_1, {.description = "sigma_w^2 E[phi'(sqrt(q*) z)^2]"});
  g.write_scalar(c_star, val(r.c_star, false),
                 {.description = "fixed point of the correlation map reached from c = 0.5 (NaN: undefined)"});
  g.write_scalar(chi_c, val(r.chi_c, false), {.description = "sigma_w^2 E[phi'(u1) phi'(u2)] at c* (NaN: undefined)"});
  g.write_scalar(xi_c, val(r.xi_c, defined_phase && r.chi_c),
                 {.description = "-1 / ln chi_c (inf: infinite; NaN: undefined)", .units = "layers"});
  g.write_scalar(chi_q, defined_phase ? r.chi_q : nan_v, {.description = "V'(q*) = sigma_w^2 E[phi'^2 + phi phi''] at q*"});
  g.write_scalar(xi_q, val(r.xi_q, defined_phase),
                 {.description = "-1 / ln chi_q (inf: infinite; NaN: undefined)", .units = "layers"});
  g.write_scalar(layers_to_1pct, r.layers_to_1pct.value_or(-1),
                 {.description = "least l >= 1 with |q^l - q*| / q* < 0.01 from q^0 = 10 (-1: undefined)", .units = "layers"});

  auto fg = f.group_at(fixed_points_group);
  fg.attr("every_q", std::int64_t(fps.every_q));
  fg.attr("divergent", std::int64_t(fps.divergent));
  const std::size_t n = fps.points.size();
  std::vector<std::int64_t> index(n);
  std::vector<double> q(n), slope(n);
  std::vector<std::string> kind(n);
  for (std::size_t i = 0; i < n; ++i) {
    index[i] = std::int64_t(i);
    q[i] = fps.points[i].q;
    slope[i] = fps.points[i].slope;
    kind[i] = std::string(to_string(fps.points[i].kind));
  }
  fg.write_scale("fixed_point", index, {.description = "index of the fixed point (ascending q)"});
  fg.write("q", q, {.description = "fixed point of the length map, V(q) = q", .units = "h^2", .dims = {"fixed_point"}});
  fg.write("slope", slope, {.description = "V'(q) at the fixed point", .dims = {"fixed_point"}});
  fg.write("stability", kind,
           {.description = "stable (V' < 1), unstable (V' > 1) or marginal (V' = 1)", .dims = {"fixed_point"}});
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /maps", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, maps_params::table());
  maps_result& r = out.result;
  auto scalar = [&](const char* name) { return g.read_doubles(name).at(0); };
  r.phase = parse_phase(g.attr_string("phase"));
  r.c_star_method = g.has_attr("c_star_method") ? g.attr_string("c_star_method") : "";
  r.q_star = defined(scalar(q_star));
  r.chi_1 = scalar(chi_1);
  r.c_star = defined(scalar(c_star));
  r.chi_c = defined(scalar(chi_c));
  r.xi_c = defined(scalar(xi_c));
  r.chi_q = scalar(chi_q);
  r.xi_q = defined(scalar(xi_q));
  const std::int64_t layers = g.read_ints(layers_to_1pct).at(0);
  if (layers >= 0) r.layers_to_1pct = layers;
  r.collapsed = r.q_star && *r.q_star == 0;
  if (f.has(fixed_points_group)) {
    auto fg = f.group_at(fixed_points_group);
    out.fixed_points.every_q = fg.attr_int("every_q") != 0;
    out.fixed_points.divergent = fg.attr_int("divergent") != 0;
    const auto q = fg.read_doubles("q"), slope = fg.read_doubles("slope");
    const auto kind = fg.read_strings("stability");
    for (std::size_t i = 0; i < q.size(); ++i)
      out.fixed_points.points.push_back({.q = q[i], .slope = slope[i], .kind = parse_stability(kind.at(i))});
  }
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  const record rec = read(f);
  return {io::entry_words("phase", std::string(to_string(rec.result.phase)),
                    "ordered (chi_1 < 1), critical, chaotic (chi_1 > 1) or divergent")};
}

io::record to_record(const maps_params& p, const maps_result& r, const length_fixed_points* all) {
  io::record j = io::params_record(maps_params::table(), p);
  j.add(q_star, r.q_star);
  j.add(chi_1, r.chi_1);
  j.add(c_star, r.c_star);
  j.add(chi_c, r.chi_c);
  j.add(xi_c, r.xi_c);
  j.add(chi_q, r.chi_q);
  j.add(xi_q, r.xi_q);
  j.add(layers_to_1pct, r.layers_to_1pct);
  j.add("phase", to_string(r.phase));
  if (all) {
    io::value::array list;
    for (const auto& fp : all->points)
      list.push_back(io::record().add("q", fp.q).add("slope", fp.slope).add("stability", to_string(fp.kind)));
    j.add("fixed_points", std::move(list));
    j.add("every_q_fixed", all->every_q);
  }
  return j;
}

}  // namespace amari::layout::maps
