// The dynamics the simulator must reproduce: the ordered fixed point of the depth map, Lyapunov
// exponents against the Jacobian's eigenvalues and mean-field theory, chaos (a positive exponent,
// decorrelating replicas) against the independent reference values.
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <boost/math/distributions/chi_squared.hpp>
#include <catch2/catch.hpp>
#include <cmath>

#include "amari/core/gauss.hpp"
#include "amari/sim/network.hpp"
#include "amari/sim/simulate.hpp"
#include "simulate_support.hpp"
#include "tolerance.hpp"

using amari::simulate_params;
using amari::stepper_kind;
using amari::test::bonferroni_k;
using amari::test::close_to;
using amari::test::run_sim;
using amari::test::within_se;

namespace {

// q* = sigma_w^2 E[phi(sqrt(q*) z)^2] + sigma_b^2 by iteration (a contraction in the ordered
// phase), from the Gaussian-expectation core.
double depth_map_q_star(const amari::Activation& act, double sw, double sb) {
  double q = 1;
  for (int i = 0; i < 2000; ++i) {
    const double next = sw * sw * amari::E_phi2(act, q) + sb * sb;
    if (std::abs(next - q) < 1e-15) return next;
    q = next;
  }
  return q;
}

}  // namespace

// tanh, sigma_w = 0.8, sigma_b = 0.3: every trajectory settles on a fixed point
// h* = W phi(h*) + b. Its second moment q2 = mean_i h*_i^2 fluctuates from draw to draw: the
// fields h*_i are nearly Gaussian, so the sample second moment of N of them scatters by
// sqrt(2 q*^2 / N), and sigma_w^2 mean_j phi(h*_j)^2 by sigma_w^2 sqrt(Var phi^2 / N); the fixed
// point equation q = V(q) + noise amplifies both by 1 / (1 - V'(q*)). That, over sqrt(D) draws,
// is the standard error: derived, not estimated, so one comparison needs k = bonferroni_k(1)
// (normal); the O(1/N) bias of a finite network, q* / N = 0.05%, is the allowance.
TEST_CASE("ordered network: the fixed point has the depth map's q*", "[simulate][dynamics][heavy]") {
  const auto act = amari::Activation::parse("tanh");
  const double sw = 0.8, sb = 0.3;
  const double q_star = depth_map_q_star(act, sw, sb);
  REQUIRE_THAT(q_star, close_to(sw * sw * amari::E_phi2(act, q_star) + sb * sb, 1e-13));

  simulate_params p;
  p.net.n = 2000;
  p.net.model.sigma_w = sw;
  p.net.model.sigma_b = sb;
  p.draws = 6;
  p.precision = amari::precision_kind::float32;  // q2 to ~1e-7: far below the finite-N scatter
  p.t_end = 60;
  p.dt_out = 5;
  p.record_neurons = 0;
  const auto out = run_sim(p);
  const auto& last = out.samples.back();
  const auto& before = out.samples[out.samples.size() - 2];
  // Static: q2 no longer moves (the relaxation rate is |lambda_max| ~ 0.25-0.3: e^{-14} by t = 55).
  for (std::int64_t d = 0; d < p.draws; ++d) CHECK_THAT(last.q2[d], close_to(before.q2[d], 1e-5));

  const double n = static_cast<double>(p.net.n);
  const double e_phi4 = amari::expect(act, [](const auto& v) { return v.phi().square().square(); }, q_star);
  const double var_phi2 = e_phi4 - std::pow(amari::E_phi2(act, q_star), 2);
  const double v_prime = sw * sw * amari::dq_E_phi2(act, q_star);
  const double sd_draw = std::sqrt(2 * q_star * q_star + std::pow(sw, 4) * var_phi2) / std::sqrt(n) / (1 - v_prime);
  const double se = sd_draw / std::sqrt(double(p.draws));
  const auto ens = amari::ensemble_mean(last.q2, p.draws, 1);
  INFO("q* = " << q_star << ", simulated " << ens.mean << " +- " << ens.sem << " (derived se " << se << ")");
  CHECK_THAT(ens.mean, within_se(q_star, se, bonferroni_k(1), q_star / n));
  // The derived scatter is the one observed: the error estimated from D = 6 draws is
  // se sqrt(chi^2_5 / 5); we accept the central 1 - 1e-3 range of that ratio.
  const boost::math::chi_squared_distribution<double> chi2(double(p.draws - 1));
  const double ratio = ens.sem / se;
  CHECK(ratio > std::sqrt(boost::math::quantile(chi2, 5e-4) / double(p.draws - 1)));
  CHECK(ratio < std::sqrt(boost::math::quantile(chi2, 1 - 5e-4) / double(p.draws - 1)));
}

// At a stable fixed point the tangent dynamics is linear with constant Jacobian
// J = -I + W diag(phi'(h*)): the Lyapunov spectrum is the real parts of J's eigenvalues, largest
// first (a complex pair counts twice). Tolerance 2%: the finite-time estimate converges like
// log(1 + e^{-gap t0}) / T, with the spectral gap ~0.02 at N = 400, t0 = 200, T = 1000: < 0.3%.
// Mean field: the spectral radius of W diag(phi') is sqrt(chi_1) (circular law), so
// lambda_max -> -1 + sqrt(chi_1); at N = 400 the rightmost eigenvalue of a Ginibre-like matrix
// sits ~ rho sqrt(log(N / 2 pi) / 4N) ~ 2-3% of the radius outside (with Gumbel fluctuations of
// the same size): we allow 0.06 (~ 5 such widths at rho ~ 0.7).
TEST_CASE("Lyapunov spectrum at a fixed point: Jacobian eigenvalues and mean field", "[simulate][dynamics][heavy]") {
  const auto act = amari::Activation::parse("tanh");
  simulate_params p;
  p.net.n = 400;
  p.net.model.sigma_w = 0.8;
  p.net.model.sigma_b = 0.3;
  p.t_end = 1200;
  p.dt_out = 100;
  p.record_neurons = p.net.n;
  p.lyapunov = true;
  p.lyapunov_k = 3;
  p.transient = 200;
  const auto out = run_sim(p);

  const auto net = amari::draw_network<double>(p.net, 0, 1);
  Eigen::MatrixXd J(p.net.n, p.net.n);
  const auto& last = out.samples.back();
  for (std::int64_t i = 0; i < p.net.n; ++i)
    for (std::int64_t j = 0; j < p.net.n; ++j) J(i, j) = net.W(i, j) * act.dphi(last.traces[j]);
  J -= Eigen::MatrixXd::Identity(p.net.n, p.net.n);
  Eigen::EigenSolver<Eigen::MatrixXd> es(J, false);
  std::vector<double> re;
  for (std::int64_t i = 0; i < p.net.n; ++i) re.push_back(es.eigenvalues()[i].real());
  std::sort(re.rbegin(), re.rend());
  for (int a = 0; a < 3; ++a) {
    INFO("exponent " << a << ": " << out.result.lyapunov[a] << " +- " << out.result.lyapunov_sem[a]
                     << ", eigenvalue real part " << re[a]);
    CHECK_THAT(out.result.lyapunov[a], close_to(re[a], 0.02));
  }
  double q_star = 1;
  for (int i = 0; i < 500; ++i) q_star = 0.64 * amari::E_phi2(act, q_star) + 0.09;
  const double chi1 = 0.64 * amari::E_dphi2(act, q_star);
  INFO("mean field -1 + sqrt(chi_1) = " << -1 + std::sqrt(chi1));
  CHECK_THAT(out.result.lyapunov[0], close_to(-1 + std::sqrt(chi1), 0, 0.06));
}

// tanh, sigma_w = 2, sigma_b = 0 (chaotic, N = 2000): the maximal exponent is positive, and two
// replicas started 1e-6 apart separate (after ~ln(1e6)/lambda ~ 130 time units) until their
// correlation c_12 is near 0. "Near": c_12 = 0 is the stable fixed point of the correlation map,
// but barely -- its slope sigma_w^2 E[phi'(sqrt(Delta_0) z)]^2 = 0.948 at Delta_0 = 1.925 -- so
// the finite-N overlap of two independent trajectories fluctuates by ~1/sqrt(N (1 - 0.948)) ~ 0.1
// (observed: |c_12| ~ 0.05-0.3 over t in [150, 400]); we require mean |c_12| < 0.3 late.
// At sigma_w = 0.8 both fall into the same fixed point (h = 0, approached along the same slowest
// direction): c_12 stays 1.
TEST_CASE("chaos: positive exponent and decorrelating replicas, and in order c_12 = 1", "[simulate][dynamics][heavy]") {
  simulate_params p;
  p.net.n = 2000;
  p.net.model.sigma_w = 2;
  p.net.model.sigma_b = 0;
  p.replicas = 2;
  p.replica_eps = 1e-6;
  p.precision = amari::precision_kind::float32;  // the physics, not the last digits
  p.rtol = 1e-5;
  p.atol = 1e-7;
  p.t_end = 220;
  p.dt_out = 1;
  p.record_neurons = 0;
  p.lyapunov = true;
  p.transient = 40;
  p.acf_lag = 0;
  const auto out = run_sim(p);
  // The exponent: the references give 0.101 +- 0.004 at N = 1000 and 0.1108 at N = 4000; at
  // N = 2000 we expect 0.106 (their 1/N interpolation) with an allowance of 0.005 for it and the
  // references' 0.004 added to the error. The error is from 20 batches in time of the two replicas'
  // mean (one draw: 19 degrees of freedom); one comparison: k = bonferroni_k(1, 19).
  const double lam = out.result.lyapunov[0], se = out.result.lyapunov_sem[0];
  INFO("lambda = " << lam << " +- " << se << " (" << out.result.sem_over << ")");
  CHECK(out.result.sem_over == "time batches (one draw of W)");
  CHECK_THAT(lam, within_se(0.106, std::hypot(se, 0.004), bonferroni_k(1, 19), 0.005));
  CHECK(out.samples[10].c_ab[1] > 0.999);  // t = 10: still together
  double late = 0;
  int count = 0;
  for (const auto& s : out.samples)
    if (s.t >= 180) late += std::abs(s.c_ab[1]), ++count;
  INFO("mean |c_12| over t >= 180: " << late / count);
  CHECK(late / count < 0.3);

  p.net.model.sigma_w = 0.8;
  p.t_end = 60;
  p.lyapunov = false;
  p.precision = amari::precision_kind::float64;
  const auto ordered = run_sim(p);
  for (const auto& s : ordered.samples) CHECK(s.c_ab[1] > 1 - 1e-6);
}

// Against the independent reference (float32 RK4, 3 draws x 4 trajectories, t in [100, 400]):
// N = 1000, sigma_w = 2: lambda_max = 0.101 +- 0.004 and, for N = 4000, <h^2> = 1.912 +- 0.013
// (DMFT Delta_0 = 1.9248; at N = 1000 we compare with Delta_0 and a 1/N allowance). Six draws of
// one trajectory each, so that the errors over draws (5 degrees of freedom) include the spread
// between networks; two comparisons: k = bonferroni_k(2, 5).
TEST_CASE("chaos: exponent and variance against the reference values", "[simulate][dynamics][heavy]") {
  simulate_params p;
  p.net.n = 1000;
  p.net.model.sigma_w = 2;
  p.net.model.sigma_b = 0;
  p.draws = 6;
  p.replicas = 1;
  p.precision = amari::precision_kind::float32;
  p.rtol = 1e-5;
  p.atol = 1e-7;
  p.t_end = 250;
  p.dt_out = 0.5;
  p.transient = 100;
  p.record_neurons = 0;
  p.lyapunov = true;
  const auto out = run_sim(p);
  const double lam = out.result.lyapunov[0], se = out.result.lyapunov_sem[0];
  const double k = bonferroni_k(2, double(p.draws - 1));
  INFO("lambda = " << lam << " +- " << se);
  CHECK(out.result.sem_over == "draws");
  CHECK_THAT(lam, within_se(0.101, std::hypot(0.004, se), k));
  const auto& q2 = out.result.stationary_q2;
  INFO("<h^2> = " << q2.mean << " +- " << q2.sem);
  CHECK_THAT(q2.mean, within_se(1.9248, q2.sem, k, 2.0 / 1000 * 1.9248 * 5));
  // C(0) is <h^2> over the C(tau) neurons -- here all of them, so the same sum in another order --
  // and C decreases from there.
  REQUIRE(out.result.acf.size() > 10);
  CHECK_THAT(out.result.acf[0], close_to(q2.mean, 1e-12));
  CHECK(out.result.acf[10] < out.result.acf[0]);
}
