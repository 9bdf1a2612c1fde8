// The /meanfield group (include/amari/io/layout/meanfield.hpp).
#include "amari/io/layout/meanfield.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <vector>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::meanfield {

void write(store::file& f, const meanfield_params& p, const meanfield_result& r, const std::string& note_text) {
  auto g = f.group_at(group);
  // The output times are the scale t; the rest of the parameters are attributes.
  io::write_params(g, meanfield_params::table(), p, {"times"});
  g.attr(final_fixed_point, r.final_fixed_point ? std::int64_t(*r.final_fixed_point) : std::int64_t(-1));
  if (!note_text.empty()) g.attr(note, note_text);
  g.write_scale("t", r.t, {.description = "time", .units = "leak time constants"});
  g.write("m", r.m, {.description = "population mean of h", .units = "h", .dims = {"t"}});
  g.write("q", r.q, {.description = "population variance of h", .units = "h^2", .dims = {"t"}});

  auto fg = f.group_at(fixed_points_group);
  const std::size_t n = r.fixed_points.size();
  std::vector<std::int64_t> index(n), stable(n), network_stable(n), component{0, 1};
  std::vector<double> m(n), q(n), chi(n), re(2 * n), im(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& fp = r.fixed_points[i];
    index[i] = std::int64_t(i);
    m[i] = fp.m;
    q[i] = fp.q;
    chi[i] = fp.chi_1;
    stable[i] = fp.stable;
    network_stable[i] = fp.network_stable;
    for (int k = 0; k < 2; ++k) {
      re[2 * i + k] = fp.eigenvalues[k].real();
      im[2 * i + k] = fp.eigenvalues[k].imag();
    }
  }
  fg.write_scale("fixed_point", index, {.description = "index of the fixed point (sorted by m, then q)"});
  fg.write_scale("eigenvalue", component, {.description = "index of the Jacobian eigenvalue (by ascending real part)"});
  fg.write("m", m, {.description = "mean of h at the fixed point", .units = "h", .dims = {"fixed_point"}});
  fg.write("q", q, {.description = "variance of h at the fixed point", .units = "h^2", .dims = {"fixed_point"}});
  fg.write("eigenvalues_real", re, {.description = "real parts of the Jacobian's eigenvalues", .units = "1/leak time constant",
                                    .dims = {"fixed_point", "eigenvalue"}}, {n, 2});
  fg.write("eigenvalues_imag", im, {.description = "imaginary parts of the Jacobian's eigenvalues", .units = "1/leak time constant",
                                    .dims = {"fixed_point", "eigenvalue"}}, {n, 2});
  fg.write("stable", stable, {.description = "1 if both eigenvalues have negative real part", .dims = {"fixed_point"}});
  fg.write("chi_1", chi, {.description = "sigma_w^2 E[phi'(x)^2]: the network's static state is unstable if > 1",
                          .dims = {"fixed_point"}});
  fg.write("network_stable", network_stable, {.description = "1 if stable and chi_1 < 1", .dims = {"fixed_point"}});
}

record read(store::file& f) {
  if (!f.has(group)) throw IoError(fmt::format("{}: holds no /meanfield", f.path()));
  auto g = f.group_at(group);
  record out;
  out.params = io::read_params(g, meanfield_params::table());
  meanfield_result& r = out.result;
  r.t = g.read_doubles("t");
  r.m = g.read_doubles("m");
  r.q = g.read_doubles("q");
  out.params.settings.times = r.t;
  if (g.has_attr(note)) out.note = g.attr_string(note);
  if (const auto k = g.attr_int(final_fixed_point); k >= 0) r.final_fixed_point = static_cast<std::size_t>(k);
  if (f.has(fixed_points_group)) {
    auto fg = f.group_at(fixed_points_group);
    const auto m = fg.read_doubles("m"), q = fg.read_doubles("q"), chi = fg.read_doubles("chi_1");
    const auto re = fg.read_doubles("eigenvalues_real"), im = fg.read_doubles("eigenvalues_imag");
    const auto stable = fg.read_ints("stable"), net = fg.read_ints("network_stable");
    for (std::size_t i = 0; i < m.size(); ++i) {
      meanfield_fixed_point fp;
      fp.m = m[i];
      fp.q = q[i];
      fp.chi_1 = chi[i];
      fp.stable = stable[i] != 0;
      fp.network_stable = net[i] != 0;
      for (int k = 0; k < 2; ++k) fp.eigenvalues[k] = {re[2 * i + k], im[2 * i + k]};
      r.fixed_points.push_back(fp);
    }
  }
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  const record rec = read(f);
  const meanfield_result& r = rec.result;
  std::vector<io::summary_entry> out;
  if (!r.t.empty()) {
    const std::string at = fmt::format("at t = {}", io::short_number(r.t.back()));
    out.push_back(io::entry_value("m(t_end)", r.m.back(), "h", "", std::nullopt, at));
    out.push_back(io::entry_value("q(t_end)", r.q.back(), "h^2", "", std::nullopt, at));
  }
  if (!f.has(fixed_points_group)) return out;
  out.push_back(io::entry_value("fixed points", double(r.fixed_points.size()), "", "every fixed point of the ODE (/meanfield/fixed_points)"));
  if (!r.final_fixed_point || *r.final_fixed_point >= r.fixed_points.size()) {
    out.push_back(io::entry_words("final fixed point", "none: the trajectory settles to no fixed point"));
    return out;
  }
  const auto k = *r.final_fixed_point;
  const auto& fp = r.fixed_points[k];
  out.push_back(io::entry_words("final fixed point",
                      fmt::format("#{}: {}{}", k, fp.stable ? "stable" : "unstable",
                                  fp.network_stable ? ", stable in the network (chi_1 < 1)" : ", unstable in the network (chi_1 > 1)"),
                      "the fixed point the trajectory converges to"));
  out.push_back(io::entry_value("fixed point m", fp.m, "h"));
  out.push_back(io::entry_value("fixed point q", fp.q, "h^2"));
  out.push_back(io::entry_value("fixed point chi_1", fp.chi_1, "", "sigma_w^2 E[phi'(x)^2] there"));
  return out;
}

io::record to_record(const meanfield_params& p, const meanfield_result& r, const std::string& note_text) {
  io::record j = io::params_record(meanfield_params::table(), p);
  j.erase("times");  // the output times are t
  j.add("t", r.t);
  j.add("m", r.m);
  j.add("q", r.q);
  io::value::array fps;
  for (const auto& fp : r.fixed_points) {
    io::value::array ev;
    for (const auto& z : fp.eigenvalues) ev.push_back(std::vector<double>{z.real(), z.imag()});
    fps.push_back(io::record()
                      .add("m", fp.m)
                      .add("q", fp.q)
                      .add("eigenvalues", std::move(ev))
                      .add("stable", fp.stable)
                      .add("chi_1", fp.chi_1)
                      .add("network_stable", fp.network_stable));
  }
  j.add("fixed_points", std::move(fps));
  j.add(final_fixed_point, r.final_fixed_point);
  j.add(note, note_text.empty() ? io::value(nullptr) : io::value(note_text));
  return j;
}

}  // namespace amari::layout::meanfield
