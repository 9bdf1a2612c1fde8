#include "amari/theory/dmft.hpp"

#include <algorithm>
#include <array>
#include <boost/math/quadrature/gauss.hpp>
#include <boost/math/quadrature/gauss_kronrod.hpp>
#include <boost/math/special_functions/chebyshev.hpp>
#include <boost/math/tools/roots.hpp>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <numbers>

// g++ 12 reports the implicitly copied, default-constructed temporaries of odeint's steppers with a
// std::array state as "(may be) used uninitialized" (a false positive: they are scratch space,
// written before being read in every stage). Silenced for odeint's headers only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/numeric/odeint.hpp>
#pragma GCC diagnostic pop

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"

namespace amari {

namespace odeint = boost::numeric::odeint;

void dmft_params::validate() const {
  model.validate();
  model.require_centred("the DMFT");
  settings.validate();
}

const param_table<dmft_params>& dmft_params::table() {
  using P = dmft_params;
  static const auto t = param_table<P>("dmft")
                            .add("phi", [](P& p) -> auto& { return p.model.phi; })
                            .add("sigma_w", [](P& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](P& p) -> auto& { return p.model.sigma_b; })
                            .add("tau_max", [](P& p) -> auto& { return p.settings.tau_max; })
                            .add("dt_out", [](P& p) -> auto& { return p.settings.dt_out; });
  return t;
}

void dmft_settings::validate() const {
  require_nonnegative("tau_max", tau_max);
  require_positive("dt_out", dt_out);
  if (tau_max / dt_out > 1e8)
    throw InvalidArgument("dt_out", format_number(dt_out),
                          fmt::format("must give at most 1e8 samples up to tau_max = {}", format_number(tau_max)));
}

namespace {

double corr(double delta, double delta_0) {
  if (delta_0 <= 0) return 1.0;
  return std::clamp(delta / delta_0, -1.0, 1.0);
}

// Root of f on [a, b] (f(a), f(b) of opposite signs, or one of them zero) by TOMS 748.
template <class F>
double bracketed_root(F f, double a, double b, double fa, double fb, int bits = 50) {
  if (fa == 0) return a;
  if (fb == 0) return b;
  if ((fa > 0) == (fb > 0))
    throw NumericalError(fmt::format("internal: no sign change on [{}, {}]", format_number(a), format_number(b)));
  boost::uintmax_t it = 200;
  const auto r = boost::math::tools::toms748_solve(f, a, b, fa, fb,
                                                   boost::math::tools::eps_tolerance<double>(bits), it);
  return 0.5 * (r.first + r.second);
}

}  // namespace

double dmft_potential(const model_params& p, double delta, double delta_0) {
  return -0.5 * delta * delta +
         p.sigma_w * p.sigma_w * E_Phi_Phi(p.phi, delta_0, delta_0, corr(delta, delta_0)) +
         p.sigma_b * p.sigma_b * delta;
}

double dmft_dpotential(const model_params& p, double delta, double delta_0) {
  return -delta + p.sigma_w * p.sigma_w * E_phi_phi(p.phi, delta_0, delta_0, corr(delta, delta_0)) +
         p.sigma_b * p.sigma_b;
}

double dmft_d2potential(const model_params& p, double delta, double delta_0) {
  return -1 + p.sigma_w * p.sigma_w * E_dphi_dphi(p.phi, delta_0, delta_0, corr(delta, delta_0));
}

std::optional<double> static_variance(const model_params& p) {
  p.validate();
  const double sw2 = p.sigma_w * p.sigma_w, sb2 = p.sigma_b * p.sigma_b;
  if (!p.phi.bounded()) {
    // relu and linear are positively homogeneous with phi(0) = 0: E[phi(sqrt(q) z)^2] = k q.
    const double k = E_phi2(p.phi, 1.0);
    if (sw2 * k < 1) return sb2 / (1 - sw2 * k);
    return std::nullopt;
  }
  // |phi| <= 1: q* <= sigma_w^2 + sigma_b^2 =: q_hi, where h(q_hi) <= 0.
  auto h = [&](double q) { return sw2 * E_phi2(p.phi, q) + sb2 - q; };
  const double q_hi = sw2 + sb2;
  if (q_hi == 0) return 0.0;
  const double h_hi = h(q_hi);
  if (h_hi >= 0) return q_hi;
  double q_lo = 0, h_lo = h(0);
  if (!(h_lo > 0)) {
    // phi(0) = 0 and sigma_b = 0: q = 0 is a root; look for a positive one below q_hi.
    bool found = false;
    for (int k = 1; k <= 200 && !found; ++k) {
      q_lo = std::ldexp(q_hi, -k);
      h_lo = h(q_lo);
      found = h_lo > 0;
    }
    if (!found) return 0.0;
  }
  return bracketed_root(h, q_lo, q_hi, h_lo, h_hi, 52);
}

std::optional<double> dmft_hilltop(const model_params& p, double d0) {
  if (!(d0 > 0)) return std::nullopt;
  auto dV = [&](double d) { return dmft_dpotential(p, d, d0); };
  auto d2V = [&](double d) { return dmft_d2potential(p, d, d0); };
  const double s0 = d2V(0);
  if (p.sigma_b == 0 && p.phi.odd()) {
    // V'(0) = sigma_w^2 E[phi]^2 = 0 exactly: 0 is the hilltop if it is a maximum.
    if (s0 < 0) return 0.0;
    return std::nullopt;
  }
  // V'(0) = sigma_w^2 E[phi]^2 + sigma_b^2 > 0, and V' is convex on [0, Delta_0] (V''' =
  // sigma_w^2 E[phi'' phi''] >= 0 for a non-negative covariance): V' has a first root there iff its
  // minimum is negative.
  const double v0 = dV(0);
  if (s0 >= 0) return std::nullopt;
  const double s1 = d2V(d0);
  double dm = d0, vm;
  if (s1 > 0) dm = bracketed_root(d2V, 0, d0, s0, s1);
  vm = dV(dm);
  if (!(vm < 0)) return std::nullopt;
  return bracketed_root(dV, 0, dm, v0, vm);
}

namespace {

// V(Delta_0; Delta_0) - V(Delta_inf; Delta_0): zero on the separatrix. Two forms: the potential
// itself (E[Phi Phi], one two-point expectation) and the integral of the force,
// int_{Delta_inf}^{Delta_0} V' = int_0^{theta_inf} V'(Delta_0 cos theta) Delta_0 sin theta dtheta
// (40-point Gauss-Legendre in the angle, where the integrand is analytic also for kinked
// activations). The first is 40 times cheaper; near the transition, where the gap is O(A^3) for an
// amplitude A = Delta_0 - Delta_inf << q*, its O(1e-13 q*^2) cancellation error hides the sign
// change below A ~ 1e-4 q*, while the integral's error is O(1e-13 A).
enum class gap_form { potential, integral };

std::optional<double> energy_gap(const model_params& p, double d0, gap_form form) {
  const auto dinf = dmft_hilltop(p, d0);
  if (!dinf) return std::nullopt;
  if (form == gap_form::potential) return dmft_potential(p, d0, d0) - dmft_potential(p, *dinf, d0);
  const double theta_inf = std::acos(corr(*dinf, d0));
  return boost::math::quadrature::gauss<double, 40>::integrate(
      [&](double th) { return dmft_dpotential(p, d0 * std::cos(th), d0) * d0 * std::sin(th); }, 0.0, theta_inf);
}

struct chaotic_pair {
  double delta_0, delta_inf;
};

// The chaotic solution below q* (chi_1 > 1), or nullopt when the energy condition shows no sign
// change at the resolution of this form. At Delta_0 = q* the static point lies in a valley of V
// (g < 0); at small Delta_0 either V has no hilltop or g > 0. Bisection on "hilltop exists and
// g < 0" finds a bracket [a, b] with g(a) > 0 > g(b), which TOMS 748 refines.
std::optional<chaotic_pair> solve_chaotic(const model_params& p, double qs, gap_form form) {
  auto below = [&](double d0) {
    const auto g = energy_gap(p, d0, form);
    return std::make_pair(g.has_value() && *g < 0, g);
  };
  double b = qs;
  auto [pb, gb] = below(b);
  if (!pb) return std::nullopt;
  double a = qs * 1e-6;
  auto [pa, ga] = below(a);
  if (pa) return std::nullopt;
  for (int it = 0; it < 200 && !(ga && *ga > 0); ++it) {
    const double mid = 0.5 * (a + b);
    auto [pm, gm] = below(mid);
    if (pm) {
      b = mid;
      gb = gm;
    } else {
      a = mid;
      ga = gm;
    }
    if (b - a < 1e-15 * b) break;
  }
  if (!(ga && *ga > 0)) return std::nullopt;
  // Where V has no hilltop (left of the bracket) count the gap as positive, its sign next to it.
  auto g = [&](double d0) {
    const auto v = energy_gap(p, d0, form);
    return v ? *v : 1.0;
  };
  const double d0 = bracketed_root(g, a, b, *ga, *gb, 47);
  return chaotic_pair{d0, *dmft_hilltop(p, d0)};
}

}  // namespace

dmft_stationary solve_dmft_stationary(const model_params& p) {
  p.validate();
  p.require_centred("the DMFT");
  dmft_stationary st;
  const auto q = static_variance(p);
  if (!q)
    throw NumericalError(fmt::format(
        "no stationary solution: with phi = {} and sigma_w = {} the variance of h grows without bound "
        "(sigma_w^2 E[phi^2] / q >= 1)",
        p.phi.spec(), format_number(p.sigma_w)));
  st.q_static = *q;
  st.chi_1 = p.sigma_w * p.sigma_w * E_dphi2(p.phi, st.q_static);
  st.delta_0 = st.delta_inf = st.q_static;
  if (!p.phi.bounded()) {
    st.message = fmt::format(
        "no chaotic solution: {} is positively homogeneous, so the network either settles to its "
        "static state or its activity grows without bound; here chi_1 = {:.6g} < 1 and the static "
        "solution q* = {:.10g} (the depth map's fixed point) is stable",
        p.phi.spec(), st.chi_1, st.q_static);
    return st;
  }
  if (st.chi_1 <= 1 + 1e-10) {
    st.message = fmt::format(
        "no chaotic solution: chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2] = {:.10g} <= 1 at the static "
        "solution q* = {:.10g}, so the static state (the depth map's fixed point) is stable and the "
        "network settles to it: Delta(tau) = q* for all tau",
        st.chi_1, st.q_static);
    return st;
  }
  auto r = solve_chaotic(p, st.q_static, gap_form::potential);
  if (!r || r->delta_0 - r->delta_inf < 1e-2 * st.q_static) {
    if (auto r2 = solve_chaotic(p, st.q_static, gap_form::integral)) r = r2;
  }
  if (!r) {
    // The amplitude vanishes linearly at the transition: within ~1e-6 of it (chi_1 - 1 ~ 1e-6)
    // it is below what the expectations resolve.
    if (st.chi_1 < 1 + 1e-4) {
      st.message = fmt::format(
          "no resolvable chaotic solution: chi_1 = {:.12g} is so close to 1 that the chaotic "
          "amplitude Delta_0 - Delta_inf (which vanishes linearly at the transition) is below the "
          "numerical resolution; Delta(tau) = q* = {:.10g} (the static solution) is reported",
          st.chi_1, st.q_static);
      return st;
    }
    throw NumericalError(fmt::format("could not solve the DMFT energy condition below q* = {} (chi_1 = {})",
                                     format_number(st.q_static), format_number(st.chi_1)));
  }
  st.delta_0 = r->delta_0;
  st.delta_inf = r->delta_inf;
  st.chaotic = true;
  return st;
}

namespace {

// A Chebyshev interpolant on [a, b] (hand-written because Boost's chebyshev_transform needs FFTW,
// which is not among our dependencies): f(x) = c0/2 + sum_k c_k T_k(t), t = (2x - a - b)/(b - a),
// coefficients from f at the n Chebyshev points of the first kind (a direct O(n^2) DCT: n <= 512).
class chebyshev {
 public:
  chebyshev() = default;
  chebyshev(const std::vector<double>& values, double a, double b) : a_(a), b_(b) {
    const std::size_t n = values.size();
    c_.assign(n, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::size_t k = 0; k < n; ++k)
        s += values[k] * std::cos(std::numbers::pi * double(j) * (double(k) + 0.5) / double(n));
      c_[j] = 2.0 / double(n) * s;
    }
  }
  // The n interpolation points in [a, b].
  static std::vector<double> nodes(std::size_t n, double a, double b) {
    std::vector<double> x(n);
    for (std::size_t k = 0; k < n; ++k) {
      const double t = std::cos(std::numbers::pi * (double(k) + 0.5) / double(n));
      x[k] = 0.5 * (a + b) + 0.5 * (b - a) * t;
    }
    return x;
  }
  double operator()(double x) const {
    const double t = std::clamp((2 * x - a_ - b_) / (b_ - a_), -1.0, 1.0);
    return boost::math::chebyshev_clenshaw_recurrence(c_.data(), c_.size(), t);
  }
  // The antiderivative that vanishes at x0.
  chebyshev integral(double x0) const {
    chebyshev r;
    r.a_ = a_;
    r.b_ = b_;
    const std::size_t n = c_.size();
    r.c_.assign(n + 1, 0.0);
    const double con = 0.25 * (b_ - a_);
    for (std::size_t j = 1; j <= n; ++j) {
      const double prev = c_[j - 1], next = j + 1 < n ? c_[j + 1] : 0.0;
      r.c_[j] = con * (prev - next) / double(j);
    }
    r.c_[0] = 0;
    r.c_[0] = -2 * r(x0);
    return r;
  }
  // Largest magnitude among the last eighth of the coefficients (the truncation error's size).
  double tail() const {
    double m = 0;
    for (std::size_t j = c_.size() - c_.size() / 8; j < c_.size(); ++j) m = std::max(m, std::abs(c_[j]));
    return m;
  }

 private:
  double a_ = 0, b_ = 1;
  std::vector<double> c_;
};

// What the integrations need, as functions of Delta in [Delta_inf, Delta_0]: V'(Delta),
// W(Delta) = V(Delta_inf) - V(Delta) = -int_{Delta_inf}^{Delta} V', and E[phi' phi'](Delta), as
// Chebyshev interpolants in theta = arccos(Delta / Delta_0), in which they are analytic also for
// the kinked activations (whose E[phi' phi'] has a sqrt(1 - c) singularity at c = 1).
struct separatrix {
  double d0, dinf, theta_inf, sw2;
  chebyshev dV, W, Cp;

  separatrix(const model_params& p, const dmft_stationary& s) : d0(s.delta_0), dinf(s.delta_inf) {
    sw2 = p.sigma_w * p.sigma_w;
    theta_inf = std::acos(corr(dinf, d0));
    for (std::size_t n = 64;; n *= 2) {
      const auto th = chebyshev::nodes(n, 0.0, theta_inf);
      std::vector<double> vdV(n), vG(n), vCp(n);
      for (std::size_t k = 0; k < n; ++k) {
        const double c = std::cos(th[k]);
        vdV[k] = dmft_dpotential(p, d0 * c, d0);
        vG[k] = vdV[k] * d0 * std::sin(th[k]);  // dW/dtheta
        vCp[k] = E_dphi_dphi(p.phi, d0, d0, c);
      }
      dV = chebyshev(vdV, 0.0, theta_inf);
      Cp = chebyshev(vCp, 0.0, theta_inf);
      W = chebyshev(vG, 0.0, theta_inf).integral(theta_inf);
      if ((dV.tail() < 1e-14 * (1 + d0) && Cp.tail() < 1e-13) || n >= 512) break;
    }
  }
  double theta(double delta) const { return std::acos(corr(delta, d0)); }
  double dpot(double delta) const { return dV(theta(delta)); }
  double gap(double delta) const { return std::max(W(theta(delta)), 0.0); }
  double cp(double delta) const { return Cp(theta(std::max(delta, dinf))); }
};

using state2 = std::array<double, 2>;
using state1 = std::array<double, 1>;
using checker2 = odeint::default_error_checker<double, odeint::array_algebra, odeint::default_operations>;
template <class S>
using rkf78 = odeint::controlled_runge_kutta<odeint::runge_kutta_fehlberg78<S>, checker2>;

constexpr double ode_rtol = 1e-12, ode_atol = 1e-14;

// Appends x[0] at each of the sorted times ts (>= t0, repeats allowed), integrating from t0.
template <class Stepper, class System, class State>
void sample(Stepper stepper, System sys, State x, double t0, const std::vector<double>& ts,
            std::vector<double>& out) {
  std::vector<double> grid{t0};
  for (double t : ts)
    if (t > grid.back()) grid.push_back(t);
  std::vector<double> vals;
  vals.reserve(grid.size());
  if (grid.size() == 1)
    vals.push_back(x[0]);
  else
    odeint::integrate_times(stepper, sys, x, grid.begin(), grid.end(), 1e-3,
                            [&](const State& y, double) { vals.push_back(y[0]); });
  std::size_t g = 0;
  for (double t : ts) {
    while (grid[g] < t) ++g;
    out.push_back(vals[g]);
  }
}

// Delta'' = -V'(Delta), state (Delta, Delta').
struct phase1_rhs {
  const separatrix* s;
  void operator()(const state2& x, state2& dx, double) const {
    dx[0] = x[1];
    dx[1] = -s->dpot(x[0]);
  }
};
// Delta' = -sqrt(2 (V(Delta_inf) - V(Delta))).
struct phase2_rhs {
  const separatrix* s;
  void operator()(const state1& x, state1& dx, double) const { dx[0] = -std::sqrt(2 * s->gap(x[0])); }
};

// Delta(tau) along the separatrix, at increasing times.
class separatrix_flow {
 public:
  explicit separatrix_flow(const separatrix& s) : s_(s) {
    const double A = s.d0 - s.dinf;
    const double v0 = s.dpot(s.d0);  // V'(Delta_0) > 0: the initial deceleration
    // Near tau = 0, Delta_0 - Delta ~ V'(Delta_0) tau^2 / 2, and V' only decreases on the way: at
    // this tau_s Delta has fallen by at most 0.3 A; extend until it has fallen by at least 0.1 A.
    tau_s_ = std::sqrt(0.6 * A / v0);
    for (int i = 0; i < 60; ++i) {
      end_ = phase1_to(tau_s_);
      if (end_[0] <= s.d0 - 0.1 * A) break;
      tau_s_ *= 1.5;
    }
    if (end_[0] > s.d0 - 0.1 * A) throw NumericalError("internal: the DMFT trajectory does not leave Delta_0");
    mismatch_ = std::abs(0.5 * end_[1] * end_[1] - s.gap(end_[0]));
  }
  double tau_s() const { return tau_s_; }
  double delta_s() const { return end_[0]; }
  double mismatch() const { return mismatch_; }

  // Delta at the sorted times ts (>= 0).
  std::vector<double> at(const std::vector<double>& ts) const {
    std::vector<double> t1, t2;
    for (double t : ts) (t <= tau_s_ ? t1 : t2).push_back(t);
    std::vector<double> out;
    out.reserve(ts.size());
    t1.push_back(tau_s_);  // so that phase 1 ends exactly where phase 2 starts
    sample(rkf78<state2>(checker2(ode_atol, ode_rtol)), phase1_system(), state2{s_.d0, 0.0}, 0.0, t1, out);
    out.pop_back();
    sample(rkf78<state1>(checker2(ode_atol, ode_rtol)), phase2_system(), state1{end_[0]}, tau_s_, t2, out);
    return out;
  }

  // The tau at which Delta falls to `target` in (Delta_inf, Delta_0).
  double time_of(double target) const {
    if (target <= end_[0]) {
      // tau_s + int_target^{Delta_s} dDelta / sqrt(2 W): a smooth, positive integrand.
      auto f = [&](double d) { return 1 / std::sqrt(2 * s_.gap(d)); };
      double err = 0;
      const double I = boost::math::quadrature::gauss_kronrod<double, 31>::integrate(f, target, end_[0], 8, 1e-12, &err);
      return tau_s_ + I;
    }
    auto h = [&](double t) { return phase1_to(t)[0] - target; };
    return bracketed_root(h, 0.0, tau_s_, s_.d0 - target, end_[0] - target, 50);
  }

 private:
  phase1_rhs phase1_system() const { return {&s_}; }
  phase2_rhs phase2_system() const { return {&s_}; }
  state2 phase1_to(double tau) const {
    state2 x{s_.d0, 0.0};
    rkf78<state2> st(checker2(ode_atol, ode_rtol));
    odeint::integrate_adaptive(st, phase1_system(), x, 0.0, tau, 1e-3);
    return x;
  }

  const separatrix& s_;
  double tau_s_ = 0;
  state2 end_{};
  double mismatch_ = 0;
};

std::vector<double> uniform_grid(double tau_max, double dt) {
  std::vector<double> g;
  const auto n = static_cast<std::size_t>(std::floor(tau_max / dt * (1 + 1e-12)));
  for (std::size_t k = 0; k <= n; ++k) g.push_back(std::min(double(k) * dt, tau_max));
  if (g.back() < tau_max * (1 - 1e-12)) g.push_back(tau_max);
  return g;
}

dmft_trajectory trajectory_on(const separatrix_flow& flow, const dmft_stationary& s, double tau_max, double dt) {
  dmft_trajectory tr;
  tr.tau = uniform_grid(tau_max, dt);
  tr.delta = flow.at(tr.tau);
  tr.decay_time = flow.time_of(s.delta_inf + 0.5 * (s.delta_0 - s.delta_inf));
  tr.energy_mismatch = flow.mismatch();
  return tr;
}

void require_chaotic(const dmft_stationary& s) {
  if (!s.chaotic) throw InvalidArgument("this DMFT computation needs a chaotic solution (" + s.message + ")");
}

}  // namespace

dmft_trajectory integrate_dmft(const model_params& p, const dmft_stationary& s, double tau_max, double dt) {
  require_chaotic(s);
  dmft_settings{tau_max, dt}.validate();
  const separatrix sep(p, s);
  const separatrix_flow flow(sep);
  return trajectory_on(flow, s, tau_max, dt);
}

namespace {

// Number of nodes on [0, infinity) of the solution of chi'' = (W - E) chi on the grid W[0], W[s],
// W[2s], ... (spacing s h), even (chi'(0) = 0) or odd (chi(0) = 0), by Numerov's method, continued
// beyond the grid by the exact solution in the constant potential w_inf.
int numerov_nodes(const std::vector<double>& W, double h0, int s, double w_inf, double E, bool even) {
  const double h = h0 * s, h2 = h * h / 12;
  const std::size_t n = (W.size() - 1) / s;
  auto f = [&](std::size_t j) { return W[j * s] - E; };
  double y_prev, y;
  if (even) {
    // chi_{-1} = chi_1 (symmetry): chi_1 = (1 + 5 h2 f_0) / (1 - h2 f_1) chi_0.
    y_prev = 1.0;
    y = (1 + 5 * h2 * f(0)) / (1 - h2 * f(1));
  } else {
    y_prev = 0.0;
    y = h;
  }
  int nodes = 0;
  for (std::size_t j = 1; j < n; ++j) {
    const double y_next = (2 * (1 + 5 * h2 * f(j)) * y - (1 - h2 * f(j - 1)) * y_prev) / (1 - h2 * f(j + 1));
    if ((y_next < 0) != (y < 0) && y_next != 0) ++nodes;
    y_prev = y;
    y = y_next;
    if (std::abs(y) > 1e100) {  // rescale; the node count is scale-free
      y *= 1e-100;
      y_prev *= 1e-100;
    }
  }
  // Beyond: chi_j = A r_-^j + B r_+^j with r_-^{-1} = r_+ the roots of the recursion in the
  // constant potential; one more node iff the growing part has the other sign than chi now.
  const double a = h2 * (w_inf - E);
  const double beta = (1 + 5 * a) / (1 - a);
  const double r_minus = beta - std::sqrt(beta * beta - 1);
  const double growing = y - r_minus * y_prev;  // proportional to B, with a positive factor
  if (growing != 0 && (growing < 0) != (y < 0)) ++nodes;
  return nodes;
}

// The lowest eigenvalue with `nodes_below` nodes flipping to nodes_below + 1, by bisection in E.
double numerov_level(const std::vector<double>& W, double h, int s, double w_inf, bool even, double lo, double hi) {
  if (numerov_nodes(W, h, s, w_inf, lo, even) != 0)
    throw NumericalError("internal: Numerov node count at the bottom of the potential is not zero");
  if (numerov_nodes(W, h, s, w_inf, hi, even) == 0)
    throw NumericalError("internal: no bound state below the upper bracket of the Lyapunov problem");
  for (int it = 0; it < 200 && hi - lo > 4 * std::numeric_limits<double>::epsilon() * std::abs(hi); ++it) {
    const double mid = 0.5 * (lo + hi);
    (numerov_nodes(W, h, s, w_inf, mid, even) == 0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

}  // namespace

namespace {

dmft_lyapunov_result lyapunov_on(const separatrix& sep, const separatrix_flow& flow, const dmft_stationary& s) {
  dmft_lyapunov_result r;
  const double w_inf = -sep.sw2 * sep.cp(s.delta_inf);
  const double lam_inf = std::sqrt(std::max(1 + w_inf, 0.0));  // sqrt(-V''(Delta_inf))
  // Delta - Delta_inf ~ exp(-lam_inf tau): by tau_s + 40 / lam_inf the potential is constant to
  // ~e^-40 relative. Near the transition everything varies on the scale 1 / lam_inf (which
  // diverges), and the grid step grows with it: a fixed number of points per decay length.
  const double lam = std::max(lam_inf, 1e-6);
  const double h = std::max(1.0, 0.25 / lam) / 64;
  const double L = flow.tau_s() + 40 / lam;
  const auto M = static_cast<std::size_t>(std::ceil(L / h / 2)) * 2;
  std::vector<double> tau(M + 1);
  for (std::size_t j = 0; j <= M; ++j) tau[j] = double(j) * h;
  const std::vector<double> delta = flow.at(tau);
  std::vector<double> W(M + 1);
  for (std::size_t j = 0; j <= M; ++j) W[j] = -sep.sw2 * sep.cp(delta[j]);
  const double w_min = *std::min_element(W.begin(), W.end()) - 1e-9;
  // Even sector: the ground state lies below the odd level -1 (Delta' has one node).
  auto even = [&](int st) { return numerov_level(W, h, st, w_inf, true, w_min, -1.0 + 1e-9); };
  auto odd = [&](int st) { return numerov_level(W, h, st, w_inf, false, w_min, w_inf - 1e-12); };
  const double e1 = even(1), e2 = even(2);
  const double o1 = odd(1), o2 = odd(2);
  r.ground_energy = (16 * e1 - e2) / 15;  // Numerov's error is O(h^4): Richardson
  r.odd_energy = (16 * o1 - o2) / 15;
  r.lambda_max = std::sqrt(-r.ground_energy) - 1;
  r.extent = tau[M];
  return r;
}

dmft_lyapunov_result static_lyapunov(const dmft_stationary& s) {
  // The static state's Jacobian -1 + J diag(phi'(h)) has its bulk in the disc of radius
  // sqrt(chi_1) around -1; the Schroedinger problem with the constant potential -chi_1 has its
  // continuum from E = -chi_1 up: both give -1 + sqrt(chi_1).
  dmft_lyapunov_result r;
  r.lambda_max = std::sqrt(s.chi_1) - 1;
  r.ground_energy = -s.chi_1;
  r.odd_energy = -s.chi_1;
  return r;
}

}  // namespace

dmft_lyapunov_result dmft_lyapunov(const model_params& p, const dmft_stationary& s) {
  if (!s.chaotic) return static_lyapunov(s);
  const separatrix sep(p, s);
  const separatrix_flow flow(sep);
  return lyapunov_on(sep, flow, s);
}

std::optional<dmft_transition> dmft_transition_point(const Activation& phi, double sigma_b) {
  require_nonnegative("sigma_b", sigma_b);
  if (!phi.bounded()) return std::nullopt;
  if (sigma_b == 0 && phi.odd()) {
    // q* = 0 up to the transition, where V''(0; 0) = -1 + sigma_w^2 phi'(0)^2 vanishes: exactly
    // 1 / phi'(0). (The root finder below gets there only to ~1e-11: E[phi^2] at q* -> 0 has
    // relative errors 3e-16 / sqrt(q*).)
    return dmft_transition{1 / phi.dphi0(), 0.0};
  }
  // For each sigma_w: the static solution D = q* as the root of V'(D; D) (two-point expectations
  // at c = 1), then V''(q*; q*).
  auto qstar = [&](double sw) {
    const model_params p{.phi = phi, .sigma_w = sw, .sigma_b = sigma_b};
    const double hi = sw * sw + sigma_b * sigma_b;
    auto f = [&](double d) { return dmft_dpotential(p, d, d); };
    if (hi == 0) return 0.0;
    const double f_hi = f(hi);
    if (f_hi >= 0) return hi;
    double lo = 0, f_lo = f(0);
    if (!(f_lo > 0)) {
      bool found = false;
      for (int k = 1; k <= 200 && !found; ++k) {
        lo = std::ldexp(hi, -k);
        f_lo = f(lo);
        found = f_lo > 0;
      }
      if (!found) return 0.0;
    }
    return bracketed_root(f, lo, hi, f_lo, f_hi, 52);
  };
  auto curvature = [&](double sw) {
    const model_params p{.phi = phi, .sigma_w = sw, .sigma_b = sigma_b};
    const double q = qstar(sw);
    return dmft_d2potential(p, q, q);
  };
  double lo = 0, f_lo = curvature(0);
  double hi = 1 / phi.dphi0(), f_hi = curvature(hi);
  while (f_hi <= 0) {
    lo = hi;
    f_lo = f_hi;
    hi *= 2;
    if (hi > 1e3) return std::nullopt;
    f_hi = curvature(hi);
  }
  dmft_transition t;
  t.sigma_w = bracketed_root(curvature, lo, hi, f_lo, f_hi, 50);
  t.q_static = qstar(t.sigma_w);
  return t;
}

std::optional<double> depth_map_edge_of_chaos(const Activation& phi, double sigma_b) {
  require_nonnegative("sigma_b", sigma_b);
  if (!phi.bounded()) return std::nullopt;
  // sigma_b = 0, odd phi: q* = 0 and chi_1 = sigma_w^2 phi'(0)^2 up to the edge, 1 / phi'(0). (The
  // root finder gets within 1e-9..1e-11 of it only: q* -> 0 there, where E[phi^2] loses relative
  // accuracy.)
  if (sigma_b == 0 && phi.odd()) return 1 / phi.dphi0();
  auto chi = [&](double sw) {
    const auto q = static_variance(model_params{.phi = phi, .sigma_w = sw, .sigma_b = sigma_b});
    return sw * sw * E_dphi2(phi, *q) - 1;
  };
  double lo = 0, f_lo = chi(0);
  double hi = 1 / phi.dphi0(), f_hi = chi(hi);
  while (f_hi <= 0) {
    lo = hi;
    f_lo = f_hi;
    hi *= 2;
    if (hi > 1e3) return std::nullopt;
    f_hi = chi(hi);
  }
  return bracketed_root(chi, lo, hi, f_lo, f_hi, 50);
}

dmft_result solve_dmft(const model_params& p, const dmft_settings& s, const run_control& control) {
  p.validate();
  s.validate();
  dmft_result r;
  r.stationary = solve_dmft_stationary(p);
  if (const int sig = control.stop_requested()) throw Interrupted(sig, "interrupted");
  control.report(1, 4);
  if (r.stationary.chaotic) {
    const separatrix sep(p, r.stationary);
    const separatrix_flow flow(sep);
    r.trajectory = trajectory_on(flow, r.stationary, s.tau_max, s.dt_out);
    r.decay_time = r.trajectory.decay_time;
    control.report(2, 4);
    if (const int sig = control.stop_requested()) throw Interrupted(sig, "interrupted");
    if (s.lyapunov) r.lyapunov = lyapunov_on(sep, flow, r.stationary).lambda_max;
  } else {
    r.trajectory.tau = uniform_grid(s.tau_max, s.dt_out);
    r.trajectory.delta.assign(r.trajectory.tau.size(), r.stationary.q_static);
    if (s.lyapunov) r.lyapunov = static_lyapunov(r.stationary).lambda_max;
  }
  control.report(3, 4);
  if (const int sig = control.stop_requested()) throw Interrupted(sig, "interrupted");
  r.transition = dmft_transition_point(p.phi, p.sigma_b);
  r.edge_of_chaos = depth_map_edge_of_chaos(p.phi, p.sigma_b);
  return r;
}

}  // namespace amari
