#include "amari/theory/meanfield.hpp"

#include <algorithm>
// g++ 12 reports the implicitly copied, default-constructed temporaries of odeint's steppers with a
// std::array state as "(may be) used uninitialized" (a false positive: they are scratch space,
// written before being read in every stage). Silenced for odeint's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/numeric/odeint.hpp>
#pragma GCC diagnostic pop
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"

namespace amari {

namespace odeint = boost::numeric::odeint;

void meanfield_params::validate() const {
  model.validate();
  settings.validate();
}

const param_table<meanfield_params>& meanfield_params::table() {
  using P = meanfield_params;
  static const auto t = param_table<P>("meanfield")
                            .add("phi", [](P& p) -> auto& { return p.model.phi; })
                            .add("w0", [](P& p) -> auto& { return p.model.w0; })
                            .add("b0", [](P& p) -> auto& { return p.model.b0; })
                            .add("sigma_w", [](P& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](P& p) -> auto& { return p.model.sigma_b; })
                            .add("m0", [](P& p) -> auto& { return p.settings.m0; })
                            .add("q0", [](P& p) -> auto& { return p.settings.q0; })
                            .add("t_end", [](P& p) -> auto& { return p.settings.t_end; })
                            .add("dt_out", [](P& p) -> auto& { return p.settings.dt_out; })
                            .add("times", [](P& p) -> auto& { return p.settings.times; })
                            .add("rtol", [](P& p) -> auto& { return p.settings.rtol; })
                            .add("atol", [](P& p) -> auto& { return p.settings.atol; });
  return t;
}

namespace {
// More output samples than this is a typing error (and gigabytes of output), not a request.
constexpr std::size_t max_samples = 100'000'000;
}  // namespace

void meanfield_settings::validate() const {
  require_finite("m0", m0);
  require_nonnegative("q0", q0);
  if (times.empty()) {
    require_nonnegative("t_end", t_end);
    require_positive("dt_out", dt_out);
    if (t_end / dt_out > double(max_samples))
      throw InvalidArgument("dt_out", format_number(dt_out),
                            fmt::format("must give at most {} samples up to t_end = {}", max_samples,
                                        format_number(t_end)));
  } else {
    if (times.size() > max_samples)
      throw InvalidArgument("times", fmt::format("({} values)", times.size()),
                            fmt::format("must have at most {} values", max_samples));
    for (std::size_t i = 0; i < times.size(); ++i) {
      require_nonnegative("times", times[i]);
      if (i > 0 && !(times[i] > times[i - 1]))
        throw InvalidArgument("times", format_number(times[i]),
                              fmt::format("must be strictly increasing (follows {})",
                                          format_number(times[i - 1])));
    }
  }
  if (!(rtol > 0 && rtol < 1)) throw InvalidArgument("rtol", format_number(rtol), "must be a number in (0, 1)");
  if (!(atol > 0 && atol < 1)) throw InvalidArgument("atol", format_number(atol), "must be a number in (0, 1)");
}

std::vector<double> meanfield_settings::output_times() const {
  if (!times.empty()) return times;
  std::vector<double> out;
  // k dt_out rather than accumulated sums, so that the grid has no drift; t_end itself is the last
  // sample even when it is not a multiple of dt_out.
  const auto n = static_cast<std::size_t>(std::floor(t_end / dt_out * (1 + 1e-12)));
  for (std::size_t k = 0; k <= n; ++k) out.push_back(std::min(double(k) * dt_out, t_end));
  if (out.back() < t_end * (1 - 1e-12)) out.push_back(t_end);
  return out;
}

namespace {

// E[phi(x)] and E[phi(x)^2] at x = sqrt(q) z + m (q clamped at 0: a trial stage of the stepper may
// undershoot a variance that decays to 0).
std::array<double, 2> moments(const Activation& act, double m, double q) {
  q = std::max(q, 0.0);
  return {E_phi(act, q, m), E_phi2(act, q, m)};
}

std::array<double, 2> residual(const model_params& p, double m, double q) {
  const auto e = moments(p.phi, m, q);
  return {-m + p.w0 * e[0] + p.b0,
          2 * (-q + p.sigma_w * p.sigma_w * e[1] + p.sigma_b * p.sigma_b)};
}

double norm2(const std::array<double, 2>& v) { return std::hypot(v[0], v[1]); }

}  // namespace

void amari_ode::operator()(const meanfield_state& x, meanfield_state& dxdt, double t) const {
  if (!std::isfinite(x[0]) || !std::isfinite(x[1]) || std::abs(x[0]) > 1e100 || x[1] > 1e100)
    throw NumericalError(fmt::format("the order parameters diverge near t = {} (m = {}, q = {}): no "
                                     "bounded solution for these parameters",
                                     format_number(t), format_number(x[0]), format_number(x[1])));
  const auto r = residual(p_, x[0], x[1]);
  dxdt[0] = r[0];
  dxdt[1] = r[1];
}

namespace {
// Below this variance the expectations are taken at q = 0 (the point values; the error is O(q)):
// the activations are accurate in absolute, not relative, terms, so E[z phi phi'] / sqrt(q) loses
// its digits as q -> 0 (1e-12 relative at q = 1e-14, 1e-9 at 1e-16).
// For kinked activations the limit q -> 0 at a kink is the mean of the one-sided values, which
// the closed forms and panel rules give at q = q_point; the point values (one-sided) do not.
constexpr double q_point = 1e-14;
double effective_q(const Activation& a, double q) { return q < q_point ? (a.smooth() ? 0.0 : q_point) : q; }
}  // namespace

std::array<double, 4> meanfield_jacobian(const model_params& p, double m, double q) {
  const Activation& a = p.phi;
  q = effective_q(a, q);
  const double sw2 = p.sigma_w * p.sigma_w;
  // d/dm E[phi^2] = 2 E[phi phi']; at q = 0 the point value.
  const double e_phi_dphi =
      q > 0 ? expect(a, [](const auto& v) { return v.phi() * v.dphi(); }, q, m) : a.phi(m) * a.dphi(m);
  return {-1 + p.w0 * E_dphi(a, q, m), p.w0 * dq_E_phi(a, q, m),
          4 * sw2 * e_phi_dphi, 2 * (-1 + sw2 * dq_E_phi2(a, q, m))};
}

meanfield_fixed_point classify_fixed_point(const model_params& p, double m, double q) {
  meanfield_fixed_point fp;
  fp.m = m;
  fp.q = q;
  const auto J = meanfield_jacobian(p, m, q);
  const double tr = J[0] + J[3], det = J[0] * J[3] - J[1] * J[2];
  const std::complex<double> disc = std::sqrt(std::complex<double>(0.25 * tr * tr - det));
  std::complex<double> l1 = 0.5 * tr - disc, l2 = 0.5 * tr + disc;
  // For real roots, the one of larger modulus from the formula, the other from det = l1 l2 (no
  // cancellation).
  if (disc.imag() == 0) {
    const double big = tr >= 0 ? 0.5 * tr + disc.real() : 0.5 * tr - disc.real();
    const double small = big != 0 ? det / big : 0.0;
    l1 = std::min(big, small);
    l2 = std::max(big, small);
  }
  if (l2.real() < l1.real() || (l2.real() == l1.real() && l2.imag() < l1.imag())) std::swap(l1, l2);
  fp.eigenvalues = {l1, l2};
  fp.stable = l1.real() < 0 && l2.real() < 0;
  fp.chi_1 = p.sigma_w * p.sigma_w * E_dphi2(p.phi, effective_q(p.phi, q), m);
  fp.network_stable = fp.stable && fp.chi_1 < 1;
  return fp;
}

std::optional<std::array<double, 2>> newton_fixed_point(const model_params& p, double m, double q) {
  std::array<double, 2> x{m, std::max(q, 0.0)};
  auto F = residual(p, x[0], x[1]);
  for (int it = 0; it < 100; ++it) {
    const auto J = meanfield_jacobian(p, x[0], x[1]);
    const double det = J[0] * J[3] - J[1] * J[2];
    if (!std::isfinite(det) || det == 0) return std::nullopt;
    const double dm = -(J[3] * F[0] - J[1] * F[1]) / det;
    const double dq = -(-J[2] * F[0] + J[0] * F[1]) / det;
    if (!std::isfinite(dm) || !std::isfinite(dq)) return std::nullopt;
    // Backtracking on |F| (Armijo), keeping q >= 0.
    double lambda = 1;
    std::array<double, 2> xn{}, Fn{};
    bool accepted = false;
    for (int k = 0; k < 30; ++k, lambda *= 0.5) {
      xn = {x[0] + lambda * dm, std::max(x[1] + lambda * dq, 0.0)};
      Fn = residual(p, xn[0], xn[1]);
      if (norm2(Fn) <= (1 - 1e-4 * lambda) * norm2(F)) {
        accepted = true;
        break;
      }
    }
    const double step = std::max(std::abs(xn[0] - x[0]) / (1 + std::abs(x[0])),
                                 std::abs(xn[1] - x[1]) / (1 + x[1]));
    if (!accepted) {
      // No decrease: we are at the resolution of the quadrature (or stuck far from a root).
      const double scale = 1 + std::abs(x[0]) + x[1];
      if (norm2(F) < 1e-11 * scale) return x;
      return std::nullopt;
    }
    x = xn;
    F = Fn;
    if (step < 1e-14 || norm2(F) == 0) break;
  }
  const double scale = 1 + std::abs(x[0]) + x[1];
  if (!(norm2(F) < 1e-11 * scale)) return std::nullopt;
  // A fixed point on the boundary q = 0 (sigma_b = 0, phi(m) = 0), reached from above.
  if (x[1] > 0 && x[1] < q_point && norm2(residual(p, x[0], 0.0)) <= norm2(F)) x[1] = 0;
  return x;
}

namespace {

struct search_box {
  double m_lo, m_hi, s_hi;  // m range and sqrt(q) range [0, s_hi]
};

search_box box_for(const model_params& p) {
  const double sw2 = p.sigma_w * p.sigma_w, sb2 = p.sigma_b * p.sigma_b;
  if (p.phi.bounded()) {
    // |phi| <= 1 for every bounded activation of activation.hpp.
    const double dm = std::abs(p.w0) * 1.001 + 1e-9 * (1 + std::abs(p.b0));
    return {p.b0 - dm, p.b0 + dm, std::sqrt(sw2 + sb2) * 1.001 + 1e-9};
  }
  // |phi(x)| <= |x|: with r^2 = q + m^2, |m| <= |b0| + |w0| r and q <= sigma_w^2 r^2 + sigma_b^2,
  // so a r^2 - 2 |b0 w0| r - (sigma_b^2 + b0^2) <= 0 with a = 1 - sigma_w^2 - w0^2.
  const double a = 1 - sw2 - p.w0 * p.w0, bw = std::abs(p.b0 * p.w0);
  double R = 10 * (1 + std::abs(p.b0) + p.sigma_b);  // heuristic when a <= 0
  if (a > 1e-6) R = (bw + std::sqrt(bw * bw + a * (sb2 + p.b0 * p.b0))) / a * 1.001 + 1e-9;
  return {-R, R, R};
}

}  // namespace

std::vector<meanfield_fixed_point> find_fixed_points(const model_params& p) {
  p.validate();
  const search_box box = box_for(p);
  constexpr int n = 41;
  std::vector<double> ms(n), ss(n);
  for (int i = 0; i < n; ++i) {
    ms[i] = box.m_lo + (box.m_hi - box.m_lo) * i / (n - 1);
    ss[i] = box.s_hi * i / (n - 1);  // uniform in sqrt(q): the expectations vary like sqrt(q) near 0
  }
  std::vector<std::array<double, 2>> F(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) F[i * n + j] = residual(p, ms[i], ss[j] * ss[j]);

  std::vector<std::array<double, 2>> starts;
  for (int i = 0; i + 1 < n; ++i)
    for (int j = 0; j + 1 < n; ++j) {
      bool both = true;
      for (int c = 0; c < 2; ++c) {
        double lo = INFINITY, hi = -INFINITY;
        for (int di = 0; di < 2; ++di)
          for (int dj = 0; dj < 2; ++dj) {
            lo = std::min(lo, F[(i + di) * n + j + dj][c]);
            hi = std::max(hi, F[(i + di) * n + j + dj][c]);
          }
        both = both && lo <= 0 && hi >= 0;
      }
      if (both) {
        // The centre and the corners: near a pitchfork three fixed points share a cell, and Newton
        // from the centre finds only the middle one.
        const double sm = 0.5 * (ss[j] + ss[j + 1]);
        starts.push_back({0.5 * (ms[i] + ms[i + 1]), sm * sm});
        for (int di = 0; di < 2; ++di)
          for (int dj = 0; dj < 2; ++dj) starts.push_back({ms[i + di], ss[j + dj] * ss[j + dj]});
      }
    }
  // A coarse set of starts besides, in case two nullclines cross inside a cell without a sign
  // change at its corners.
  for (int i = 0; i < n; i += 8)
    for (int j = 0; j < n; j += 8) starts.push_back({ms[i], ss[j] * ss[j]});

  std::vector<std::array<double, 2>> found;
  for (const auto& s : starts) {
    const auto x = newton_fixed_point(p, s[0], s[1]);
    if (!x) continue;
    const bool dup = std::any_of(found.begin(), found.end(), [&](const auto& y) {
      return std::abs(y[0] - (*x)[0]) <= 1e-7 * (1 + std::abs(y[0])) &&
             std::abs(y[1] - (*x)[1]) <= 1e-7 * (1 + y[1]);
    });
    if (!dup) found.push_back(*x);
  }
  std::sort(found.begin(), found.end());
  std::vector<meanfield_fixed_point> out;
  for (const auto& x : found) out.push_back(classify_fixed_point(p, x[0], x[1]));
  return out;
}

namespace {

// Runge-Kutta-Fehlberg 7(8): at the tolerances we ask for (1e-11) an eighth-order method takes a
// few dozen steps where dopri5 takes hundreds, and each step costs a few microseconds of quadrature.
using error_checker = odeint::default_error_checker<double, odeint::array_algebra, odeint::default_operations>;
using controlled_stepper =
    odeint::controlled_runge_kutta<odeint::runge_kutta_fehlberg78<meanfield_state>, error_checker>;

double distance(const meanfield_fixed_point& fp, const meanfield_state& x) {
  return std::max(std::abs(x[0] - fp.m) / (1 + std::abs(fp.m)), std::abs(x[1] - fp.q) / (1 + fp.q));
}

void check_finite(const meanfield_state& x, double t) {
  if (!std::isfinite(x[0]) || !std::isfinite(x[1]) || std::abs(x[0]) > 1e100 || x[1] > 1e100)
    throw NumericalError(fmt::format("the order parameters diverge at t = {} (m = {}, q = {}): no "
                                     "bounded solution for these parameters",
                                     format_number(t), format_number(x[0]), format_number(x[1])));
}

}  // namespace

meanfield_result solve_meanfield(const model_params& p, const meanfield_settings& s,
                                 const run_control& control) {
  p.validate();
  s.validate();
  meanfield_result res;
  const std::vector<double> times = s.output_times();
  std::vector<double> grid = times;
  const bool prepend = grid.front() > 0;
  if (prepend) grid.insert(grid.begin(), 0.0);

  const amari_ode sys(p);
  controlled_stepper stepper(error_checker(s.atol, s.rtol));
  meanfield_state x{s.m0, s.q0};
  res.t.reserve(times.size());
  res.m.reserve(times.size());
  res.q.reserve(times.size());
  std::size_t k = 0;
  auto observer = [&](const meanfield_state& y, double t) {
    check_finite(y, t);
    if (prepend && k++ == 0) return;
    res.t.push_back(t);
    res.m.push_back(y[0]);
    res.q.push_back(y[1]);
    if (const int sig = control.stop_requested())
      throw Interrupted(sig, fmt::format("interrupted at t = {}", format_number(t)));
    control.report(t, grid.back());
  };
  if (grid.size() == 1) {
    observer(x, grid.front());
  } else {
    const double dt0 = std::min(0.01, grid[1] - grid[0]);
    odeint::integrate_times(stepper, sys, x, grid.begin(), grid.end(), dt0, observer);
  }

  res.fixed_points = find_fixed_points(p);

  // Follow the trajectory until it is within 1e-7 of a fixed point, or settles somewhere the grid
  // search missed (then refine that point by Newton and add it), or time runs out.
  double t = grid.back();
  double chunk = 1;
  const double t_limit = t + 1e5;
  while (true) {
    std::optional<std::size_t> near;
    for (std::size_t i = 0; i < res.fixed_points.size(); ++i)
      if (distance(res.fixed_points[i], x) < 1e-7) near = i;
    if (near) {
      res.final_fixed_point = near;
      break;
    }
    const auto r = residual(p, x[0], x[1]);
    if (norm2(r) < 1e-12 * (1 + std::abs(x[0]) + x[1])) {
      if (const auto y = newton_fixed_point(p, x[0], x[1])) {
        // One the grid search missed: add it, keeping the list sorted by (m, q).
        const auto fp = classify_fixed_point(p, (*y)[0], (*y)[1]);
        auto& fps = res.fixed_points;
        const auto at = std::find_if(fps.begin(), fps.end(), [&](const auto& f) {
          return f.m > fp.m || (f.m == fp.m && f.q > fp.q);
        });
        res.final_fixed_point = static_cast<std::size_t>(at - fps.begin());
        fps.insert(at, fp);
      }
      break;
    }
    if (t >= t_limit) break;
    try {
      odeint::integrate_adaptive(stepper, sys, x, t, t + chunk, std::min(0.01, chunk));
      check_finite(x, t + chunk);
    } catch (const NumericalError&) {
      break;  // diverges: approaches no fixed point
    }
    t += chunk;
    chunk = std::min(2 * chunk, 100.0);
    if (const int sig = control.stop_requested())
      throw Interrupted(sig, "interrupted while following the trajectory to its fixed point");
  }
  return res;
}

// The plain-language note for a fixed point that Amari's ODE calls stable (or that the trajectory
// reaches) but that the network cannot hold: chi_1 > 1.
std::string meanfield_network_note(const model_params& p, const meanfield_result& r) {
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

}  // namespace amari
