// The simulator against closed forms, scipy's step control, the order of the steppers, and its
// reproducibility contract.
#include <boost/math/special_functions/bessel.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <unsupported/Eigen/MatrixFunctions>

#include "amari/core/error.hpp"
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

simulate_params small_tanh(std::int64_t n = 100) {
  simulate_params p;
  p.net.n = n;
  p.net.model.sigma_w = 1.5;
  p.net.model.sigma_b = 0.3;
  p.t_end = 4;
  p.dt_out = 1;
  p.record_neurons = n;
  p.threads = 2;
  return p;
}

// h_i(t) for neuron i of replica r (draw d) at sample k.
double trace(const amari::sample& s, std::int64_t d, std::int64_t r, std::int64_t i) {
  return s.traces[(d * s.replicas + r) * s.neurons + i];
}

// Max over neurons of |h_i - h_ref_i| at the last sample.
double final_error(const amari::test::run_output& a, const amari::test::run_output& ref) {
  const auto &x = a.samples.back(), &y = ref.samples.back();
  double e = 0;
  for (std::size_t j = 0; j < x.traces.size(); ++j) e = std::max(e, std::abs(x.traces[j] - y.traces[j]));
  return e;
}

}  // namespace

TEST_CASE("simulation parameters are validated, naming the field", "[simulate]") {
  auto field_of = [](auto change) {
    simulate_params p;
    change(p);
    try {
      p.validate();
    } catch (const amari::InvalidArgument& e) {
      return e.field();
    }
    return std::string("(none)");
  };
  CHECK(field_of([](simulate_params&) {}) == "(none)");
  CHECK(field_of([](simulate_params& p) { p.replicas = 0; }) == "replicas");
  CHECK(field_of([](simulate_params& p) { p.t_end = -1; }) == "t_end");
  CHECK(field_of([](simulate_params& p) { p.t_end = 10.05; }) == "t_end");  // not a multiple of dt_out
  CHECK(field_of([](simulate_params& p) { p.stepper = stepper_kind::rk4, p.dt = 0.03; }) == "dt_out");
  CHECK(field_of([](simulate_params& p) { p.stepper = stepper_kind::map, p.dt_out = 0.5; }) == "dt_out");
  CHECK(field_of([](simulate_params& p) { p.rtol = 0; }) == "rtol");
  CHECK(field_of([](simulate_params& p) { p.record_neurons = 5000; }) == "record_neurons");
  CHECK(field_of([](simulate_params& p) { p.lyapunov = true, p.lyapunov_k = 0; }) == "lyapunov_k");
  CHECK(field_of([](simulate_params& p) { p.transient = 200; }) == "transient");
  CHECK(field_of([](simulate_params& p) { p.net.model.sigma_w = -2; }) == "sigma_w");
  CHECK_THROWS_AS(amari::parse_stepper("rk45"), amari::InvalidArgument);
  CHECK_THROWS_AS(amari::parse_precision("half"), amari::InvalidArgument);
}

TEST_CASE("memory: a run that does not fit is refused before anything is allocated", "[simulate]") {
  simulate_params p;
  p.net.n = 1000000;  // W alone: 8 TB
  REQUIRE_NOTHROW(p.validate());
  CHECK(amari::memory_needed(p) > 8e12);
  try {
    amari::require_memory(p);
    FAIL("no exception");
  } catch (const amari::InvalidArgument& e) {
    // W: N^2 x 8 bytes = 8000 GB; the integrator's states 24 N (C + 8) x 8 = 1.728 GB; the
    // checkpoint's copies of four states 12 N C x 8 = 0.096 GB; the C(tau) ring 4 x 201 lags x 1000
    // neurons x 8 = 6.4 MB; the program 64 MiB: 8001.898 GB.
    CHECK_THAT(e.what(), Catch::Contains("needs 8001.9 GB") && Catch::Contains("available"));
  }
  p.net.n = 16000;  // 2 GB: fits this machine
  CHECK(amari::memory_needed(p) < 2.2e9);
}

// With W = 0 each neuron is dh/dt = -h + b: h(t) = b + (h0 - b) g(t). The fixed steps reproduce
// their own amplification factor exactly (rk4: 1 - x + x^2/2 - x^3/6 + x^4/24 per step of
// x = dt; euler: 1 - dt); dopri5 follows e^{-t} to its tolerance; the map gives h(t) = b.
TEST_CASE("uncoupled neurons follow their closed forms with every stepper", "[simulate]") {
  simulate_params p;
  p.net.n = 24;
  p.net.model.sigma_w = 0;
  p.net.model.sigma_b = 0.5;
  p.net.model.b0 = 0.1;
  p.replicas = 2;
  p.draws = 2;
  p.t_end = 2;
  p.dt_out = 0.5;
  p.dt = 0.05;
  p.record_neurons = p.net.n;
  for (auto st : {stepper_kind::rk4, stepper_kind::euler, stepper_kind::dopri5, stepper_kind::map}) {
    INFO("stepper " << amari::to_string(st));
    p.stepper = st;
    if (st == stepper_kind::map) p.t_end = 4, p.dt_out = 1;
    const auto out = run_sim(p);
    REQUIRE(out.samples.size() == std::size_t(p.samples()));
    for (std::int64_t d = 0; d < p.draws; ++d) {
      const auto net = amari::draw_network<double>(p.net, d, 1);
      for (std::int64_t r = 0; r < p.replicas; ++r) {
        const Eigen::VectorXd h0 = amari::draw_initial(p.net, d, r, 0.0);
        for (const auto& s : out.samples) {
          double g;
          const double steps = std::round(s.t / p.dt), x = p.dt;
          if (st == stepper_kind::rk4)
            g = std::pow(1 - x + x * x / 2 - x * x * x / 6 + x * x * x * x / 24, steps);
          else if (st == stepper_kind::euler)
            g = std::pow(1 - x, steps);
          else if (st == stepper_kind::map)
            g = s.t == 0 ? 1 : 0;
          else
            g = std::exp(-s.t);
          for (std::int64_t i = 0; i < p.net.n; ++i) {
            const double expect = net.b[i] + (h0[i] - net.b[i]) * g;
            // Fixed steps: rounding only (1e-13). dopri5: a global error of a few times the
            // local tolerance rtol |h| + atol.
            const double tol = st == stepper_kind::dopri5 ? 10 * (p.rtol * std::abs(expect) + p.atol) : 1e-13;
            CHECK_THAT(trace(s, d, r, i), close_to(expect, 0, tol));
          }
        }
      }
    }
  }
}

// scipy.integrate.solve_ivp(method="RK45") on the same scalar problems (N = 1, W = w0, b = b0,
// h(0) = m0), run with scipy 1.10.1: its number of right-hand-side evaluations and final value.
// The same error norm, step factors and initial step give the same steps: the counts must agree
// exactly and the values to rounding.
TEST_CASE("dopri5 takes exactly the steps of scipy's RK45", "[simulate]") {
  struct case_t {
    double w0, b0, m0, t_end, rtol, atol;
    std::int64_t nfev;
    double final;
  };
  const case_t cases[] = {
      {0.0, 1.0, 0.0, 50, 1e-6, 1e-8, 254, 0.9999998837346409},
      {1.5, 0.2, 0.5, 50, 1e-6, 1e-8, 212, 1.577258020281405},
      {1.5, 0.2, 0.5, 50, 1e-9, 1e-12, 548, 1.5772591630919004},
      {-2.0, 0.3, 1.0, 20, 1e-4, 1e-6, 194, 0.1002280874802911},
  };
  for (const auto& c : cases) {
    simulate_params p;
    p.net.n = 1;
    p.net.model.sigma_w = 0, p.net.model.w0 = c.w0;
    p.net.model.sigma_b = 0, p.net.model.b0 = c.b0;
    p.net.m0 = c.m0, p.net.q0 = 0;
    p.t_end = c.t_end, p.rtol = c.rtol, p.atol = c.atol;
    p.record_neurons = 1;
    const auto out = run_sim(p);
    CHECK(out.result.rhs_evals == c.nfev);
    CHECK_THAT(out.samples.back().traces[0], close_to(c.final, 1e-13));
  }
}

// Against a reference run at a tenth of the step (rk4, euler), or at a 1e5 times tighter
// tolerance (dopri5): halving the step divides the error by 2^4 (rk4) or 2 (euler); dopri5's
// global error is proportional to the tolerance (steps ~ tol^(1/5), error ~ step^5).
TEST_CASE("the steppers converge at their order", "[simulate]") {
  simulate_params p = small_tanh();
  p.stepper = stepper_kind::rk4;
  p.dt = 0.01;
  const auto ref_rk4 = run_sim(p);
  p.dt = 0.1;
  const double e1 = final_error(run_sim(p), ref_rk4);
  p.dt = 0.2;
  const double e2 = final_error(run_sim(p), ref_rk4);
  INFO("rk4 errors " << e2 << " " << e1);
  CHECK_THAT(std::log2(e2 / e1), close_to(4.0, 0, 0.3));

  p.stepper = stepper_kind::euler;
  p.dt = 0.001;
  const auto ref_euler = run_sim(p);
  p.dt = 0.01;
  const double f1 = final_error(run_sim(p), ref_euler);
  p.dt = 0.02;
  const double f2 = final_error(run_sim(p), ref_euler);
  INFO("euler errors " << f2 << " " << f1);
  CHECK_THAT(std::log2(f2 / f1), close_to(1.0, 0, 0.1));
  // Euler's reference is itself O(dt) = 1/10 of the error at 0.01: the two references agree to
  // that.
  CHECK(final_error(ref_euler, ref_rk4) < 0.2 * f1);

  p.stepper = stepper_kind::dopri5;
  p.rtol = 1e-11, p.atol = 1e-13;
  const auto ref = run_sim(p);
  CHECK(final_error(ref, ref_rk4) < 1e-8);  // rk4 at dt = 0.01: error ~ 1e-9
  p.rtol = 1e-5, p.atol = 1e-7;
  const double g5 = final_error(run_sim(p), ref);
  p.rtol = 1e-6, p.atol = 1e-8;
  const double g6 = final_error(run_sim(p), ref);
  INFO("dopri5 errors " << g5 << " " << g6);
  CHECK(g5 / g6 > 3);
  CHECK(g5 / g6 < 30);
  CHECK(g6 < 1e-5);  // |h| ~ 1: within ten times the tolerance
}

// Linear network, w0 = b = 0, h(0) ~ N(0, q0): h(t) = e^{-t} e^{W t} h(0).
//  (a) For one draw of W, averaging over h(0): E[q2(t)] = q0 e^{-2t} ||e^{Wt}||_F^2 / N exactly
//      (Eigen's matrix exponential); the replicas sample h(0).
//  (b) Averaging over W as well: for N -> infinity (1/N) E tr(e^{W't} e^{Wt}) = I_0(2 sigma t)
//      (the moments (1/N) E tr(W'^k W^l) -> delta_kl sigma^2k of the circular law). At finite N
//      the real Ginibre ensemble adds (sigma^2 t^2 + 3/4 sigma^4 t^4)/N + O(t^6/N, 1/N^2)
//      (Wick: E tr W^2/N = sigma^2/N, E tr W'W^3/N = 2 sigma^4/N + ..., E tr W^4/N = sigma^4/N
//      + ...); we include it and test at sigma t <= 1.2, where the neglected terms are below
//      0.15% (checked against 20000 exact draws at N = 10-40), a tenth of the standard error.
TEST_CASE("linear network: the second moment equals the exact solution", "[simulate][heavy]") {
  simulate_params p;
  p.net.n = 200;
  p.net.model.phi = amari::Activation::parse("linear");
  p.net.model.sigma_w = 0.8;
  p.net.model.sigma_b = 0;
  p.net.q0 = 1.0;
  p.replicas = 8;
  p.draws = 12;
  p.stepper = stepper_kind::rk4;
  p.dt = 0.02;  // global error ~ 1e-8 relative: far below the statistical resolution
  p.t_end = 3;
  p.dt_out = 0.5;
  p.record_neurons = 0;
  const auto out = run_sim(p);
  const double n = static_cast<double>(p.net.n), s = p.net.model.sigma_w;

  // (a) per draw, pooled over draws at each time: sum_d mean_d against sum_d exact_d, with the
  // standard error sqrt(sum_d se_d^2) (each se_d over the 8 replicas of draw d: 12 x 7 = 84 degrees
  // of freedom). Six times t > 0 are compared: k = bonferroni_k(6, 84).
  const double k_a = bonferroni_k(6, 84);
  std::vector<Eigen::MatrixXd> W(p.draws);
  for (std::int64_t d = 0; d < p.draws; ++d) {
    const auto net = amari::draw_network<double>(p.net, d, 1);
    W[d].resize(p.net.n, p.net.n);
    for (std::int64_t i = 0; i < p.net.n; ++i)
      for (std::int64_t j = 0; j < p.net.n; ++j) W[d](i, j) = net.W(i, j);
  }
  for (const auto& smp : out.samples) {
    if (smp.t == 0) continue;
    double sum = 0, sum_exact = 0, var = 0;
    for (std::int64_t d = 0; d < p.draws; ++d) {
      const Eigen::MatrixXd M = (W[d] * smp.t).exp();
      const double exact = p.net.q0 * std::exp(-2 * smp.t) * M.squaredNorm() / n;
      const auto ms = amari::mean_and_sem(std::span<const double>(smp.q2.data() + d * p.replicas, p.replicas));
      sum += ms.mean;
      sum_exact += exact;
      var += ms.sem * ms.sem;
    }
    INFO("t = " << smp.t << ": z = " << (sum - sum_exact) / std::sqrt(var));
    CHECK_THAT(sum, within_se(sum_exact, std::sqrt(var), k_a));
  }

  // (b) the ensemble mean over draws and replicas against the large-N form with its 1/N term: three
  // times (sigma t = 0.4, 0.8, 1.2), the error over 12 draws (11 degrees of freedom):
  // k = bonferroni_k(3, 11); the terms the form leaves out (< 0.15%, see above) are the allowance.
  const double k_b = bonferroni_k(3, 11);
  for (const auto& smp : out.samples) {
    if (smp.t == 0 || s * smp.t > 1.2 + 1e-9) continue;
    const double t = smp.t;
    const double expect = p.net.q0 * std::exp(-2 * t) *
                          (boost::math::cyl_bessel_i(0, 2 * s * t) +
                           (s * s * t * t + 0.75 * std::pow(s * t, 4)) / n);
    const auto ens = amari::ensemble_mean(smp.q2, p.draws, p.replicas);
    INFO("t = " << t << ": " << ens.mean << " +- " << ens.sem << " vs " << expect);
    CHECK_THAT(ens.mean, within_se(expect, ens.sem, k_b, 0.0015 * expect));
  }
}

TEST_CASE("runs are bit-identical across runs and thread counts", "[simulate][heavy]") {
  simulate_params p = small_tanh(600);  // large enough for the kernel to use both threads
  p.replicas = 3;
  p.draws = 2;
  p.t_end = 3;
  p.record_neurons = 5;
  p.lyapunov = true;
  p.lyapunov_k = 2;
  p.transient = 1;
  auto check = [](simulate_params q) {
    q.threads = 2;
    const auto a = run_sim(q);
    const auto b = run_sim(q);
    q.threads = 1;
    const auto c = run_sim(q);
    CHECK(amari::test::identical(a, b));
    CHECK(amari::test::identical(a, c));
    CHECK(std::isfinite(a.result.lyapunov[0]));
  };
  for (auto st : {stepper_kind::dopri5, stepper_kind::rk4, stepper_kind::map}) {
    for (auto prec : {amari::precision_kind::float64, amari::precision_kind::float32}) {
      INFO(amari::to_string(st) << " " << amari::to_string(prec));
      p.stepper = st;
      p.precision = prec;
      check(p);
    }
  }
  // Many replicas: the stage arithmetic, the error norm and the activations are split between
  // threads too (from 2^15 state entries on).
  simulate_params big = small_tanh(2100);
  big.replicas = 8;  // with a tangent vector each: 16 columns, 33600 entries
  big.t_end = 1;
  big.dt_out = 0.5;
  big.record_neurons = 4;
  big.lyapunov = true;
  big.transient = 0;
  big.lyapunov_interval = 0.5;
  check(big);
}

TEST_CASE("replicas and tangent vectors do not change a trajectory", "[simulate]") {
  // With a fixed step and two or more replicas, replica 0 is the same bit for bit whether more
  // replicas or tangent vectors ride along: every column of the kernel is computed on its own.
  simulate_params p = small_tanh(150);
  p.stepper = stepper_kind::rk4;
  p.dt = 0.05;
  p.record_neurons = 10;
  p.replicas = 2;
  const auto two = run_sim(p);
  p.lyapunov = true;
  p.lyapunov_k = 3;
  const auto with_tangents = run_sim(p);
  p.lyapunov = false;
  p.replicas = 5;
  const auto five = run_sim(p);
  for (std::size_t k = 0; k < two.samples.size(); ++k) {
    for (std::int64_t i = 0; i < 10; ++i) {
      CHECK(trace(two.samples[k], 0, 0, i) == trace(with_tangents.samples[k], 0, 0, i));
      CHECK(trace(two.samples[k], 0, 1, i) == trace(five.samples[k], 0, 1, i));
    }
  }
}

TEST_CASE("a diverging network stops with a clear error and keeps what it sampled", "[simulate]") {
  for (auto st : {stepper_kind::rk4, stepper_kind::dopri5}) {
    INFO(amari::to_string(st));
    simulate_params p;
    p.net.n = 100;
    p.net.model.phi = amari::Activation::parse("relu");
    p.net.model.sigma_w = 10;  // sigma_w^2 > 2: h grows like e^{6 t}
    p.net.model.sigma_b = 0.1;
    p.stepper = st;
    p.t_end = 1000;
    p.dt_out = 1;
    p.dt = 0.05;
    amari::test::recorder rec;
    CHECK_THROWS_AS(amari::simulate(p, rec), amari::NumericalError);
    CHECK(rec.abort_status == "failed");
    CHECK_THAT(rec.abort_message, Catch::Contains("non-finite"));
    REQUIRE(rec.samples.size() > 10);
    CHECK(rec.samples.size() < 1001);
    for (const auto& s : rec.samples) CHECK(std::isfinite(s.q[0]));
  }
}

TEST_CASE("autocorrelation: FFT and direct sums agree, and batch means", "[simulate][stats]") {
  const std::int64_t T = 300, M = 7, L = 250;  // M odd: one series without a partner
  std::vector<double> x(T * M);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t i = 0; i < M; ++i) x[t * M + i] = std::sin(0.1 * t * (i + 1)) + 0.01 * ((t * 7 + i * 3) % 11);
  const auto a = amari::autocorrelation_fft(x.data(), T, M, L);
  const auto b = amari::autocorrelation_direct(x.data(), T, M, L);
  for (std::int64_t l = 0; l < L; ++l) CHECK_THAT(a[l], close_to(b[l], 1e-12, 1e-14));
  // Lag 0 is the mean square.
  double ms = 0;
  for (double v : x) ms += v * v;
  CHECK_THAT(b[0], close_to(ms / double(T * M), 1e-14));

  // Batch means of an i.i.d. uniform series: the mean is 0.5 with the exact standard error
  // 1 / sqrt(12 n); the batch-means error estimates that error from 20 batches, so it scatters by
  // a fraction 1 / sqrt(2 x 19) of itself (chi distribution with 19 degrees of freedom, nearly
  // normal). Two comparisons with known standard errors: k = bonferroni_k(2).
  std::vector<double> y(20000);
  std::uint64_t st = 12345;
  for (auto& v : y) {  // uniform(0, 1) by a 64-bit LCG (Knuth MMIX): sd = 1 / sqrt(12)
    st = st * 6364136223846793005ULL + 1442695040888963407ULL;
    v = static_cast<double>(st >> 11) * 0x1p-53;
  }
  const auto bm = amari::batch_means(y);
  const double se = 1 / std::sqrt(12.0 * 20000), k = bonferroni_k(2);
  CHECK_THAT(bm.mean, within_se(0.5, se, k));
  CHECK_THAT(bm.sem, within_se(se, se / std::sqrt(2.0 * 19), k));
}
