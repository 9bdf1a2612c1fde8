// The /meanfield and /dmft groups of amari files (include/amari/io/layout/theory.hpp, docs/FORMAT.md),
// and the theories that amari simulate writes next to its measurements.
#include "amari/io/layout/theory.hpp"

#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <optional>
#include <vector>

#include "amari/core/error.hpp"

namespace amari {

// The plain-language note for a fixed point that Amari's ODE calls stable (or that the trajectory
// reaches) but that the network cannot hold: chi_1 > 1.
std::string meanfield_network_note(const meanfield_params& p, const meanfield_result& r) {
  std::optional<std::size_t> which = r.final_fixed_point;
  if (!which)
    for (std::size_t i = 0; i < r.fixed_points.size(); ++i)
      if (r.fixed_points[i].stable && r.fixed_points[i].chi_1 > 1) {
        which = i;
        break;
      }
  if (!which) return "";
  const auto& fp = r.fixed_points[*which];
  if (fp.chi_1 <= 1) return "";
  std::string s = fmt::format(
      "fixed point #{} (q = {:.10g}) is unstable in the network: chi_1 = sigma_w^2 E[phi'(x)^2] = {:.6g} "
      "> 1, so the static state it describes breaks up into chaos and the network's variance is not "
      "this q. ",
      *which, fp.q, fp.chi_1);
  if (!p.phi.bounded())
    s += "For this unbounded activation the network then has no stationary state: its activity grows "
         "without bound.";
  else if (p.w0 == 0 && p.b0 == 0)
    s += fmt::format("The chaotic state's variance is the DMFT's Delta_0: run `amari dmft --phi {} "
                     "--sigma-w {} --sigma-b {}`.",
                     p.phi.spec(), format_number(p.sigma_w), format_number(p.sigma_b));
  else
    s += "The dynamic mean-field theory of the chaotic state (`amari dmft`) treats w0 = b0 = 0.";
  return s;
}

void write_meanfield_group(store::file& f, const meanfield_params& p, const meanfield_settings& s,
                           const meanfield_result& r, const std::string& note) {
  auto g = f.group_at("/meanfield");
  g.attr("phi", p.phi.spec());
  g.attr("w0", p.w0);
  g.attr("b0", p.b0);
  g.attr("sigma_w", p.sigma_w);
  g.attr("sigma_b", p.sigma_b);
  g.attr("m0", s.m0);
  g.attr("q0", s.q0);
  g.attr("rtol", s.rtol);
  g.attr("atol", s.atol);
  g.attr("final_fixed_point", r.final_fixed_point ? std::int64_t(*r.final_fixed_point) : std::int64_t(-1));
  if (!note.empty()) g.attr("note", note);
  g.write_scale("t", r.t, {.description = "time", .units = "leak time constants"});
  g.write("m", r.m, {.description = "population mean of h", .units = "h", .dims = {"t"}});
  g.write("q", r.q, {.description = "population variance of h", .units = "h^2", .dims = {"t"}});

  auto fg = f.group_at("/meanfield/fixed_points");
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

void write_dmft_group(store::file& f, const dmft_params& p, const dmft_result& r) {
  auto g = f.group_at("/dmft");
  const auto& st = r.stationary;
  g.attr("phi", p.phi.spec());
  g.attr("sigma_w", p.sigma_w);
  g.attr("sigma_b", p.sigma_b);
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

simulate_theory_status write_simulate_theory(store::file& f, const simulate_params& p, double m0, double q0) {
  simulate_theory_status st;
  const auto& n = p.net;
  auto traj = f.group_at("/trajectory");
  const char* map_reason =
      "--stepper map is a discrete-time network: its mean-field theory is the length map (amari maps), "
      "not the ODEs";

  // Amari's order-parameter ODEs at the sample times. Computed first and written only when the
  // computation succeeded, so that a theory that fails leaves no partial group.
  std::optional<meanfield_result> mf;
  meanfield_params mp{n.phi, n.w0, n.b0, n.sigma_w, n.sigma_b};
  meanfield_settings ms;
  ms.m0 = m0;
  ms.q0 = q0;
  if (p.stepper == stepper_kind::map) {
    st.meanfield_skipped = map_reason;
  } else {
    try {
      mp.validate();
      ms.times.resize(static_cast<std::size_t>(p.samples()));
      for (std::size_t k = 0; k < ms.times.size(); ++k) ms.times[k] = static_cast<double>(k) * p.dt_out;
      ms.validate();
      mf = solve_meanfield(mp, ms);
    } catch (const std::exception& e) {
      st.meanfield_skipped = fmt::format("the mean-field theory failed: {}", e.what());
    }
  }
  if (mf) {
    write_meanfield_group(f, mp, ms, *mf, meanfield_network_note(mp, *mf));
    st.meanfield = true;
  }

  // The DMFT on the lags of C(tau).
  std::optional<dmft_result> dr;
  dmft_params dp{n.phi, n.sigma_w, n.sigma_b};
  if (p.stepper == stepper_kind::map) {
    st.dmft_skipped = map_reason;
  } else if (n.w0 != 0 || n.b0 != 0) {
    st.dmft_skipped = fmt::format("the DMFT (amari dmft) treats w0 = b0 = 0; this run has w0 = {}, b0 = {}",
                                  format_number(n.w0), format_number(n.b0));
  } else {
    try {
      dp.validate();
      dmft_settings ds;
      ds.dt_out = p.dt_out;
      ds.tau_max = p.acf_lags() > 0 ? static_cast<double>(p.acf_lags() - 1) * p.dt_out : 20.0;
      ds.lyapunov = true;
      ds.validate();
      dr = solve_dmft(dp, ds);
    } catch (const std::exception& e) {
      st.dmft_skipped = fmt::format("the DMFT failed: {}", e.what());
    }
  }
  if (dr) {
    write_dmft_group(f, dp, *dr);
    st.dmft = true;
  }
  if (!st.meanfield) traj.attr("meanfield_skipped", st.meanfield_skipped);
  if (!st.dmft) traj.attr("dmft_skipped", st.dmft_skipped);
  return st;
}

}  // namespace amari
