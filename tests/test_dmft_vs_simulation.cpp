// The SCS dynamic mean-field theory against the finite network it describes (issue 5, "Against
// simulation"): tanh, sigma_w = 2, sigma_b = 0, N = 2000, eight draws of W. Two independent
// computations meet here: the DMFT's Delta_0, Delta(tau) and Lyapunov exponent (src/theory/dmft.cpp:
// a root-finding problem in (Delta_0, Delta_inf), an ODE along the separatrix and a Schroedinger
// ground state) and the simulator's time averages over a chaotic trajectory (src/simulate.cpp).
#include <catch2/catch.hpp>
#include <cmath>

#include "amari/theory/dmft.hpp"
#include "amari/sim/simulate.hpp"
#include "simulate_support.hpp"
#include "tolerance.hpp"

using amari::test::bonferroni_k;
using amari::test::within_se;

namespace {

// Delta(tau) of the DMFT at a lag on its output grid.
double delta_at(const amari::dmft_trajectory& tr, double tau) {
  for (std::size_t k = 0; k < tr.tau.size(); ++k)
    if (std::abs(tr.tau[k] - tau) < 1e-9) return tr.delta[k];
  FAIL("lag " << tau << " is not on the DMFT grid");
  return NAN;
}

}  // namespace

TEST_CASE("dmft against the network: Delta_0, Delta(tau) and the Lyapunov exponent at N = 2000",
          "[dmft][simulate][heavy]") {
  const amari::model_params dp{.phi = amari::Activation::parse("tanh"), .sigma_w = 2, .sigma_b = 0};
  amari::dmft_settings ds;
  ds.tau_max = 6;
  ds.dt_out = 0.5;
  const auto theory = amari::solve_dmft(dp, ds);
  REQUIRE(theory.stationary.chaotic);
  REQUIRE(theory.lyapunov);

  amari::simulate_params p;
  p.net.n = 2000;
  p.net.model.phi = dp.phi;
  p.net.model.sigma_w = 2;
  p.net.model.sigma_b = 0;
  // Eight draws of one trajectory each: the errors are over draws (7 degrees of freedom), so they
  // include the spread between networks.
  p.draws = 8;
  p.replicas = 1;
  // float32 halves the bytes of W per right-hand side; its rounding (1e-7) is far below the
  // statistical errors asserted here (1e-2), and the chaotic trajectory forgets it anyway.
  p.precision = amari::precision_kind::float32;
  // rtol 1e-5: what is compared is the invariant measure, not a path (the trajectory is chaotic).
  // At rtol 1e-4 the exponent came out 0.096 +- 0.003 against 0.103 +- 0.004 here: not clearly a
  // bias, but the tangent dynamics is the quantity most sensitive to the step control, so we keep
  // the tighter tolerance.
  p.rtol = 1e-5;
  p.atol = 1e-7;
  p.t_end = 120;
  p.dt_out = 0.5;
  p.transient = 40;  // C relaxes from q0 = 1 within ~4 decay times (~20); the tangent vectors faster
  p.acf_lag = 5;
  p.acf_neurons = 2000;
  p.record_neurons = 0;
  p.lyapunov = true;
  const auto out = amari::test::run_sim(p);
  const auto& r = out.result;

  // Five statistical comparisons below (<h^2>, C at three lags, lambda), each with an error over
  // the 8 draws: k = bonferroni_k(5, 7); the O(1/N) shifts of a finite network are allowances.
  const double k = bonferroni_k(5, double(p.draws - 1));
  REQUIRE(r.sem_over == "draws");

  // The time-averaged variance after t = 40 within 5% of Delta_0 (the criterion). The
  // finite-N correction is O(1/N) ~ 0.05%, and the statistical error of 8 draws x 80 time units
  // ~0.5% (the reference's <h^2> = 1.912 +- 0.013 at N = 4000 over a similar window): 5% is a
  // margin of ten of those errors, so a wrong Delta_0 (the static q* = 2.1215 is 10% off) fails.
  const double delta_0 = theory.stationary.delta_0;
  INFO("Delta_0 = " << delta_0 << ", simulated <h^2> = " << r.stationary_q2.mean << " +- "
                    << r.stationary_q2.sem);
  CHECK(std::abs(r.stationary_q2.mean - delta_0) < 0.05 * delta_0);
  // And within k of its own standard errors plus the O(1/N) allowance (2/N relative):
  CHECK_THAT(r.stationary_q2.mean, within_se(delta_0, r.stationary_q2.sem, k, 2.0 / p.net.n * delta_0));

  // The autocorrelation C(tau) = <mean_i h_i(t) h_i(t + tau)> against Delta(tau) within k
  // standard errors over the draws at tau = 1, 2, 5 (the criterion, with k for the
  // number of comparisons and draws instead of 3).
  REQUIRE(r.acf_tau.size() == 11);
  for (double tau : {1.0, 2.0, 5.0}) {
    const auto l = static_cast<std::size_t>(std::lround(tau / p.dt_out));
    REQUIRE(std::abs(r.acf_tau[l] - tau) < 1e-12);
    const double d = delta_at(theory.trajectory, tau);
    INFO("tau = " << tau << ": Delta = " << d << ", C = " << r.acf[l] << " +- " << r.acf_sem[l]);
    CHECK(r.acf_sem[l] > 0);
    CHECK_THAT(r.acf[l], within_se(d, r.acf_sem[l], k, 2.0 / p.net.n * delta_0));
  }

  // The maximal Lyapunov exponent: the DMFT's sqrt(-E_0) - 1 (0.1125) against the tangent
  // dynamics. Finite networks sit below the DMFT value by O(1/N): the shared reference runs give
  // 0.101 at N = 1000 and 0.1108 at N = 4000, i.e. ~0.107 expected at N = 2000, 0.006 below. We
  // assert k standard errors (over the draws) plus a 0.01 allowance for that shift; measured
  // agreement is quoted in docs/dmft.md.
  const double lam = r.lyapunov[0], se = r.lyapunov_sem[0];
  INFO("lambda: DMFT " << *theory.lyapunov << ", simulated " << lam << " +- " << se);
  CHECK(lam > 0);
  CHECK_THAT(lam, within_se(*theory.lyapunov, se, k, 0.01));
}
