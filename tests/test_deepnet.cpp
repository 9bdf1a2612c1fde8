// Finite-width random deep networks against the mean-field maps: exact inputs, closed-form limits,
// reproducibility, and the statistics of q^l, c^l and the perturbation growth lambda^l over
// independent networks against the iterated maps within their standard errors.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "amari/sim/deepnet.hpp"
#include "amari/core/gauss.hpp"
#include "amari/core/error.hpp"
#include "amari/theory/maps.hpp"
#include "amari/io/store.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::deepnet_params;
using amari::deepnet_result;
using amari::test::bonferroni_k;
using amari::test::close_to;
using amari::test::within_se;

namespace {

deepnet_params small(const char* phi, double sw, double sb) {
  deepnet_params p;
  p.model.phi = Activation::parse(phi);
  p.model.sigma_w = sw;
  p.model.sigma_b = sb;
  p.n = 300;
  p.layers = 6;
  p.nets = 4;
  p.q0 = 1.3;
  p.c0 = -0.4;
  p.seed = 7;
  return p;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// The O(1/N) bias of the ensemble means against the maps, estimated to second order (the delta
// method), for the allowance of the tests below. Each network's q^l, c^l, lambda^l is a smooth
// function of averages over the N units of the layers below; to first order in their fluctuations
// it has the map's value, and the second order leaves a bias of order Var ~ 1/N, smaller than the
// standard error over the networks by ~sqrt(nets / N). Per layer, with (q, c) the maps' values at
// l - 1 and s_q^2, s_c^2, s_lambda^2 the variances over the networks (nets x sem^2), as upper
// bounds of the variances of the quantities that drive the next layer:
//   q:      b_q(l) = V'(q) b_q(l-1) + |V''(q)| s_q^2 / 2                      (Jensen through V)
//   c:      b_c(l) = |dC/dc| b_c(l-1) + |dC/dq| b_q(l-1)
//                    + (|C_qq| s_q^2 + 2 |C_qc| s_q s_c + |C_cc| s_c^2) / 2     (Jensen through C)
//                    + |c^l| (1 - (c^l)^2) / N
//           the last term the sampling bias of a cosine of N Gaussian pairs, E r = rho - rho (1 -
//           rho^2) / (2N) + O(1/N^2), taken twice: for h^l, and for (phi(h_1^{l-1}), phi(h_2^{l-1}))
//           whose cosine sets h^l's correlation;
//   lambda: b_lambda(l) = |Lambda'(q)| b_q(l-1) + |Lambda''(q)| s_q^2 / 2 + s_lambda^2,
//           Lambda(q) = ln(sigma_w^2 E[phi'^2](q)) / 2, the last term the Jensen bias of a
//           logarithm, E ln(Y) / 2 = ln(E Y) / 2 - Var(ln(Y) / 2) + ..., with Y = |W D v|^2.
// The derivatives are central differences of the library's maps (whose own accuracy, ~1e-12, is
// far below what matters here). The inputs are exact, so the bias starts at 0 at l = 0.
struct bias_estimate {
  std::vector<double> q, c, lambda;  // layers 0..L
};

bias_estimate second_order_bias(const deepnet_params& p, const deepnet_result& r) {
  const amari::model_params& mp = p.model;
  const std::int64_t L = r.layers;
  const double N = double(p.n), nets = double(r.nets);
  auto var = [&](const std::vector<double>& sem, std::int64_t l) { return nets * sem[l] * sem[l]; };
  auto V1 = [&](double q) { return amari::length_map_slope(mp, q); };
  auto C = [&](double q, double c) { return amari::correlation_map(mp, q, c); };
  auto Lambda = [&](double q) { return 0.5 * std::log(mp.sigma_w * mp.sigma_w * amari::E_dphi2(mp.phi, q)); };
  bias_estimate b;
  b.q.assign(L + 1, 0.0);
  b.c.assign(L + 1, 0.0);
  b.lambda.assign(L + 1, 0.0);
  for (std::int64_t l = 1; l <= L; ++l) {
    const double q = r.q_map[l - 1], c = r.c_map[l - 1];
    const double sq2 = std::max(var(r.q1_sem, l - 1), var(r.q2_sem, l - 1)), sc2 = var(r.c_sem, l - 1);
    const double sq = std::sqrt(sq2), sc = std::sqrt(sc2);
    const double hq = 1e-3 * q;
    const double V2 = (V1(q + hq) - V1(q - hq)) / (2 * hq);
    b.q[l] = V1(q) * b.q[l - 1] + 0.5 * std::abs(V2) * sq2;
    const double hc = 0.25 * std::min(1e-3, 1 - std::abs(c));  // c +- hc stays in [-1, 1]
    const double Cq = (C(q + hq, c) - C(q - hq, c)) / (2 * hq);
    const double Cqq = (C(q + hq, c) - 2 * C(q, c) + C(q - hq, c)) / (hq * hq);
    double Cc = 1, Ccc = 0, Cqc = 0;  // at c = 1 (to 1e-9): C(c) = c to first order, s_c = 0
    if (hc > 1e-9) {
      Cc = (C(q, c + hc) - C(q, c - hc)) / (2 * hc);
      Ccc = (C(q, c + hc) - 2 * C(q, c) + C(q, c - hc)) / (hc * hc);
      Cqc = (C(q + hq, c + hc) - C(q + hq, c - hc) - C(q - hq, c + hc) + C(q - hq, c - hc)) / (4 * hq * hc);
    }
    const double cl = r.c_map[l];
    b.c[l] = std::abs(Cc) * b.c[l - 1] + std::abs(Cq) * b.q[l - 1] +
             0.5 * (std::abs(Cqq) * sq2 + 2 * std::abs(Cqc) * sq * sc + std::abs(Ccc) * sc2) +
             std::abs(cl) * (1 - cl * cl) / N;
    const double L1 = (Lambda(q + hq) - Lambda(q - hq)) / (2 * hq);
    const double L2 = (Lambda(q + hq) - 2 * Lambda(q) + Lambda(q - hq)) / (hq * hq);
    b.lambda[l] = std::abs(L1) * b.q[l - 1] + 0.5 * std::abs(L2) * sq2 + var(r.lambda_sem, l);
  }
  return b;
}

// One comparison of an ensemble mean with its map: which, where, and the numbers.
struct comparison {
  const char* quantity;
  std::int64_t layer;
  double mean, map, sem, allowance;
};

// Every comparison of q1, q2, c, lambda with the maps at layers 1..L of one run.
std::vector<comparison> comparisons(const deepnet_params& p, const deepnet_result& r) {
  const bias_estimate b = second_order_bias(p, r);
  std::vector<comparison> out;
  for (std::int64_t l = 1; l <= r.layers; ++l) {
    out.push_back({"q1", l, r.q1_mean[l], r.q_map[l], r.q1_sem[l], b.q[l]});
    out.push_back({"q2", l, r.q2_mean[l], r.q_map[l], r.q2_sem[l], b.q[l]});
    out.push_back({"c", l, r.c_mean[l], r.c_map[l], r.c_sem[l], b.c[l]});
    out.push_back({"lambda", l, r.lambda_mean[l], r.lambda_map[l], r.lambda_sem[l], b.lambda[l]});
  }
  return out;
}

// The acceptance test's runs (below): tanh, sigma_b = 0.3, N = 1000, 20 networks, 20 layers, from
// (q0, c0) = (1, 0.5).
deepnet_params acceptance_run(double sigma_w, std::int64_t seed) {
  deepnet_params p;
  p.model.phi = Activation::parse("tanh");
  p.model.sigma_w = sigma_w;
  p.model.sigma_b = 0.3;
  p.n = 1000;
  p.layers = 20;
  p.nets = 20;
  p.q0 = 1.0;
  p.c0 = 0.5;
  p.seed = seed;
  return p;
}
constexpr double acceptance_sigma_w[] = {1.3, 2.5, 4.0};

}  // namespace

TEST_CASE("deepnet: exact inputs, reproducible, the same for 1 and 2 threads", "[deepnet]") {
  deepnet_params p = small("tanh", 2.0, 0.2);
  p.threads = 1;
  const deepnet_result a = amari::run_deepnet(p);
  p.threads = 2;
  const deepnet_result b = amari::run_deepnet(p);
  CHECK(same_bits(a.q1, b.q1));
  CHECK(same_bits(a.q2, b.q2));
  CHECK(same_bits(a.c, b.c));
  CHECK(same_bits(a.lambda, b.lambda));
  // The inputs have the requested empirical statistics (Gram-Schmidt: exact to rounding).
  for (std::int64_t k = 0; k < p.nets; ++k) {
    const std::size_t i = k * (p.layers + 1);
    CHECK_THAT(a.q1[i], close_to(1.3, 1e-14));
    CHECK_THAT(a.q2[i], close_to(1.3, 1e-14));
    CHECK_THAT(a.c[i], close_to(-0.4, 1e-14));
    CHECK(std::isnan(a.lambda[i]));
  }
  // Different networks differ; another seed gives other networks.
  CHECK(a.q1[1] != a.q1[(p.layers + 1) + 1]);
  p.seed = 8;
  CHECK(amari::run_deepnet(p).q1[1] != a.q1[1]);
  // Per-layer summaries have L + 1 entries and the maps start at (q0, c0).
  REQUIRE(a.q_map.size() == std::size_t(p.layers + 1));
  CHECK(a.q_map[0] == 1.3);
  CHECK(a.c_map[0] == -0.4);
}

TEST_CASE("deepnet: sigma_w = 0 makes both inputs the bias vector", "[deepnet]") {
  const deepnet_result r = amari::run_deepnet(small("tanh", 0.0, 0.5));
  for (std::int64_t k = 0; k < r.nets; ++k)
    for (std::int64_t l = 1; l <= r.layers; ++l) {
      const std::size_t i = k * (r.layers + 1) + l;
      CHECK(r.q1[i] == r.q2[i]);
      CHECK_THAT(r.c[i], close_to(1.0, 1e-15));
      CHECK(r.lambda[i] == -INFINITY);  // no signal passes
    }
  CHECK(r.c_map[3] == 1.0);
  CHECK_THAT(r.q_map[3], close_to(0.25, 1e-15));
}

TEST_CASE("deepnet: a linear network multiplies q by sigma_w^2 exactly in expectation", "[deepnet]") {
  // phi(h) = h, sigma_b = 0: h^l = W h^{l-1}, so given h^{l-1}, N q^l / (sigma_w^2 q^{l-1}) is
  // chi-square with N degrees of freedom: E[q^l / q^{l-1}] = sigma_w^2, sd sqrt(2 / N) sigma_w^2.
  deepnet_params p = small("linear", 1.5, 0.0);
  p.n = 400;
  p.nets = 40;
  p.layers = 3;
  const deepnet_result r = amari::run_deepnet(p);
  double s = 0;
  int count = 0;
  for (std::int64_t k = 0; k < p.nets; ++k)
    for (std::int64_t l = 1; l <= p.layers; ++l) {
      const std::size_t i = k * (p.layers + 1) + l;
      s += r.q1[i] / r.q1[i - 1];
      ++count;
      // The tangent of a linear network: |v^l|^2 / |v^{l-1}|^2 is the same chi-square ratio.
    }
  // 120 independent ratios (fresh weights every layer): standard error 2.25 sqrt(2 / 400) /
  // sqrt(120) = 0.0145, known exactly, so the mean is normal to a good approximation; one
  // comparison: k = bonferroni_k(1) = 3.29. The ratio's mean is exactly sigma_w^2: no allowance.
  CHECK_THAT(s / count, within_se(2.25, 2.25 * std::sqrt(2.0 / 400) / std::sqrt(120.0), bonferroni_k(1)));
  CHECK_THAT(r.lambda_map[1], close_to(std::log(1.5), 1e-15));
}

TEST_CASE("deepnet: the maps iterated from (q0, c0) reach the fixed point of solve_maps", "[deepnet]") {
  const Activation tanh = Activation::parse("tanh");
  const auto t = amari::iterate_maps({.phi = tanh, .sigma_w = 2.5, .sigma_b = 0.3}, 1.0, 0.5, 200);
  const amari::maps_result r = amari::solve_maps({.phi = tanh, .sigma_w = 2.5, .sigma_b = 0.3});
  // Both converge geometrically (chi_q = 0.23, chi_c = 0.82 per layer): after 200 layers to
  // rounding; the 2-D quadrature of the iteration and the Mehler series of solve_maps agree to
  // ~1e-12.
  CHECK_THAT(t.q[200], close_to(*r.q_star, 1e-12));
  CHECK_THAT(t.c[200], close_to(*r.c_star, 1e-10));
  CHECK_THAT(t.lambda[200], close_to(0.5 * std::log(r.chi_1), 1e-12));
}

TEST_CASE("deepnet: N = 1000, 20 networks follow the maps up to l = 20: q, c and lambda", "[deepnet][heavy]") {
  // The acceptance test: tanh, sigma_b = 0.3, sigma_w in {1.3, 2.5, 4.0} (ordered, chaotic,
  // deep in chaos), N = 1000, 20 networks; both inputs' q^l, their c^l and the growth lambda^l of a
  // perturbation agree with the maps at every layer l = 1..20.
  //   k:         m = 3 sigma_w x 20 layers x 4 quantities = 240 comparisons. Each standard error is
  //              the standard deviation over the 20 independent networks / sqrt(20), so
  //              (mean - map) / sem is Student-t with 19 degrees of freedom: k = bonferroni_k(240,
  //              19) = 6.37, for a family-wise false-failure rate of at most 1e-3 (Bonferroni holds
  //              whatever the correlations; the layers are strongly correlated, so the true rate is
  //              lower).
  //   allowance: the O(1/N) bias, second_order_bias above: at most 0.5 standard errors, but up to 1.7
  //              for c in the ordered phase at late layers, where c^l creeps towards 1 and the
  //              bound adds up the cosines' sampling bias over the layers without its signs.
  // Measured over seeds 1..200 (offline, with a driver outside the suite that runs these
  // comparisons): no seed fails (the 95% upper bound on the failure rate: 1.5%). The largest
  // |mean - map| / (k sem + allowance) was 0.97 (seed 169: q1 at l = 4, sigma_w = 2.5, a t-ratio
  // of -6.2 on a standard error that came out small), its median over the seeds 0.52. Pooled over
  // the 200 x 20 networks, each mean's bias against its map lies within its allowance + 2.3 pooled
  // standard errors (240 comparisons): lambda's leading Jensen term accounts for the -0.001 to
  // -0.004 measured; c's bound is loose in the ordered phase (measured +0.0002 +- 0.0003 at l = 20,
  // bound 0.0044). The seed is fixed (1, the default), so the test is deterministic.
  // What it detects: a systematic error of about k standard errors, 7% of q, 0.04-0.08 in c and in
  // lambda.
  const double k = bonferroni_k(3 * 20 * 4, 19);
  for (double sw : acceptance_sigma_w) {
    const deepnet_params p = acceptance_run(sw, 1);
    const deepnet_result r = amari::run_deepnet(p);
    for (const comparison& x : comparisons(p, r)) {
      INFO("sigma_w = " << sw << ", " << x.quantity << " at l = " << x.layer << ": allowance " << x.allowance);
      CHECK_THAT(x.mean, within_se(x.map, x.sem, k, x.allowance));
    }
  }
}

TEST_CASE("deepnet: 100 networks follow the maps, perturbations grow like (1/2) ln chi", "[deepnet][heavy]") {
  // k: 3 sigma_w x 12 layers x 4 quantities = 144 comparisons of t-ratios with 99 degrees of
  // freedom: k = bonferroni_k(144, 99) = 4.75 (family-wise false-failure rate <= 1e-3). allowance:
  // the O(1/N) bias, second_order_bias above: 100 networks shrink the standard errors, not the
  // bias, so here it reaches 0.3 standard errors for q, 1.0 for lambda (the logarithm's Jensen
  // term) and 1.8 for c in the ordered phase (the unsigned bound, see the acceptance test). A
  // systematic error of ~5 standard errors (~2.5% of q, ~0.03 in c) fails it.
  const double k = bonferroni_k(3 * 12 * 4, 99);
  for (double sw : {1.3, 2.5, 4.0}) {
    deepnet_params p;
    p.model.phi = Activation::parse("tanh");
    p.model.sigma_w = sw;
    p.model.sigma_b = 0.3;
    p.n = 500;
    p.layers = 12;
    p.nets = 100;
    p.q0 = 2.0;
    p.c0 = 0.2;
    p.seed = 20260101;
    const deepnet_result r = amari::run_deepnet(p);
    for (const comparison& x : comparisons(p, r)) {
      INFO("sigma_w = " << sw << ", " << x.quantity << " at l = " << x.layer << ": allowance " << x.allowance);
      CHECK_THAT(x.mean, within_se(x.map, x.sem, k, x.allowance));
    }
  }
}

// sampling = conditional (deepnet.hpp): each layer's pre-activations drawn from their exact
// Gaussian law given the layer below, instead of drawing W^l. Its nets must be the weights' nets in
// distribution: compared here through independent ensembles (seeds 7 and 8, 20000 nets each, width
// 16, where the finite-width effects are large) on the per-layer mean of q^l, c^l and lambda^l and
// the variance of q^l, each a difference of two independent estimates over (se_a^2 + se_b^2)^(1/2);
// 4 quantities x 5 layers, Bonferroni (tolerance.hpp). The variance's standard error is that of a
// sample variance, ((m4 - s^4) / N)^(1/2) with m4 the fourth central moment.
TEST_CASE("deepnet: conditional sampling gives the weights' nets in distribution", "[deepnet]") {
  deepnet_params p = small("tanh", 2.5, 0.3);
  p.n = 16;
  p.layers = 5;
  p.nets = 20000;
  p.seed = 7;
  const deepnet_result w = amari::run_deepnet(p);
  p.sampling = amari::deepnet_sampling::conditional;
  p.seed = 8;
  const deepnet_result c = amari::run_deepnet(p);
  const std::int64_t cols = p.layers + 1;
  const double k = bonferroni_k(4 * int(p.layers), double(p.nets - 1));
  struct est {
    double value, se;
  };
  auto variance = [&](const std::vector<double>& x, std::int64_t l) {
    const double N = double(p.nets);
    double m = 0;
    for (std::int64_t i = 0; i < p.nets; ++i) m += x[i * cols + l];
    m /= N;
    double m2 = 0, m4 = 0;
    for (std::int64_t i = 0; i < p.nets; ++i) {
      const double d = x[i * cols + l] - m;
      m2 += d * d, m4 += d * d * d * d;
    }
    m2 /= N, m4 /= N;
    return est{m2 * N / (N - 1), std::sqrt((m4 - m2 * m2) / N)};
  };
  for (std::int64_t l = 1; l <= p.layers; ++l) {
    const est pairs[][2] = {{{w.q1_mean[l], w.q1_sem[l]}, {c.q1_mean[l], c.q1_sem[l]}},
                            {{w.c_mean[l], w.c_sem[l]}, {c.c_mean[l], c.c_sem[l]}},
                            {{w.lambda_mean[l], w.lambda_sem[l]}, {c.lambda_mean[l], c.lambda_sem[l]}},
                            {variance(w.q1, l), variance(c.q1, l)}};
    const char* names[] = {"mean q", "mean c", "mean lambda", "Var q"};
    for (int i = 0; i < 4; ++i) {
      const auto& [a, b] = pairs[i];
      INFO(names[i] << " at layer " << l << ": weights " << a.value << " +- " << a.se << ", conditional " << b.value
                    << " +- " << b.se);
      CHECK_THAT(b.value - a.value, within_se(0.0, std::hypot(a.se, b.se), k));
    }
  }
}

TEST_CASE("deepnet: conditional sampling is reproducible, thread-independent, exact at c0 = 1", "[deepnet]") {
  deepnet_params p = small("tanh", 2.0, 0.2);
  p.sampling = amari::deepnet_sampling::conditional;
  p.threads = 1;
  const deepnet_result a = amari::run_deepnet(p);
  p.threads = 2;
  const deepnet_result b = amari::run_deepnet(p);
  CHECK(same_bits(a.q1, b.q1));
  CHECK(same_bits(a.c, b.c));
  CHECK(same_bits(a.lambda, b.lambda));
  // Other nets than the weights' (another law of drawing), the same inputs (layer 0).
  p.sampling = amari::deepnet_sampling::weights;
  const deepnet_result w = amari::run_deepnet(p);
  CHECK(a.q1[1] != w.q1[1]);
  CHECK(a.q1[0] == w.q1[0]);
  // Two equal inputs (c0 = 1) make a rank-deficient X: the two stay equal to rounding (the QR
  // leaves R's second diagonal entry at rounding level), as the weights keep them exactly equal.
  p.sampling = amari::deepnet_sampling::conditional;
  p.c0 = 1.0;
  const deepnet_result one = amari::run_deepnet(p);
  for (std::int64_t i = 0; i < p.nets * (p.layers + 1); ++i) {
    CHECK_THAT(one.c[i], close_to(1.0, 1e-14));
    CHECK_THAT(one.q2[i], close_to(one.q1[i], 1e-13));
  }
}

TEST_CASE("deepnet: bad parameters are refused with the field named", "[deepnet]") {
  deepnet_params p = small("tanh", 1.0, 0.1);
  auto refuses = [&](auto change, const char* message) {
    deepnet_params q = p;
    change(q);
    CHECK_THROWS_WITH(amari::run_deepnet(q), message);
  };
  refuses([](deepnet_params& q) { q.n = 1; }, "n = 1: must be an integer in [2, 1000000]");
  refuses([](deepnet_params& q) { q.layers = 0; }, "layers = 0: must be an integer in [1, 100000]");
  refuses([](deepnet_params& q) { q.nets = 0; }, "nets = 0: must be an integer in [1, 1000000]");
  refuses([](deepnet_params& q) { q.q0 = 0; }, "q0 = 0: must be a finite number > 0");
  refuses([](deepnet_params& q) { q.c0 = 1.5; }, "c0 = 1.5: must be a finite number in [-1, 1]");
  refuses([](deepnet_params& q) { q.model.sigma_w = -1; }, "sigma_w = -1: must be a finite number >= 0");
  refuses([](deepnet_params& q) { q.seed = -3; }, "seed = -3: must be an integer >= 0");
  refuses(
      [](deepnet_params& q) {
        q.tied = true;
        q.sampling = amari::deepnet_sampling::conditional;
      },
      "sampling = conditional: draws fresh W at every layer, so tied nets (the same W at every layer) need sampling = "
      "weights");
  amari::deepnet_sampling s{};
  CHECK_THROWS_WITH(amari::parse_param("gram", "sampling", s), "sampling = gram: must be weights or conditional");
  amari::parse_param("conditional", "sampling", s);
  CHECK(s == amari::deepnet_sampling::conditional);
  // Tied nets store W: 8 N^2 bytes per thread (here 80 GB, more than the machines the suite runs on).
  deepnet_params t = p;
  t.tied = true;
  t.n = 100000;
  t.threads = 1;
  CHECK_THROWS_WITH(amari::run_deepnet(t), Catch::StartsWith("n = 100000: tied nets hold W (80.0 GB at this width) in "
                                                             "each of 1 threads"));
}

TEST_CASE("amari deepnet -o writes /deepnet, the library's numbers", "[deepnet][cli]") {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / ("amari_deepnet_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string path = dir + "/deep.h5", out = dir + "/out.json", err = dir + "/err.txt";
  const std::string args = " deepnet --phi tanh --sigma-w 2.5 --sigma-b 0.3 --n 200 --layers 4 --nets 3 --q0 1 --c0 0.5 --seed 5";
  auto run = [&](const std::string& extra) {
    const int raw = std::system((std::string(AMARI_CLI_PATH) + args + extra + " > " + out + " 2> " + err).c_str());
    return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  REQUIRE(run(" --json -o " + path) == 0);
  deepnet_params p;
  p.model.phi = Activation::parse("tanh");
  p.n = 200;
  p.layers = 4;
  p.nets = 3;
  p.seed = 5;
  const deepnet_result r = amari::run_deepnet(p);
  {
    auto f = amari::store::file::open_read(path);
    auto g = f.group_at("/deepnet");
    CHECK(g.shape("q1") == std::vector<std::uint64_t>{3, 5});
    CHECK(f.info("/deepnet/q1").dims == std::vector<std::string>{"net", "layer"});
    CHECK(f.info("/deepnet/c_mean").dims == std::vector<std::string>{"layer"});
    CHECK(g.read_doubles("q1") == r.q1);
    CHECK(g.read_doubles("c") == r.c);
    CHECK(g.read_doubles("q_map") == r.q_map);
    CHECK(g.read_doubles("c_mean") == r.c_mean);
    CHECK(g.attr_int("seed") == 5);
    CHECK(g.attr_string("phase") == "chaotic");
  }
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str());
  CHECK(j["q_map"].get<std::vector<double>>() == r.q_map);
  CHECK(j["lambda_mean"][0].is_null());  // no layer yet
  CHECK(j["sampling"] == "weights");
  // --sampling conditional: the library's nets of that law, recorded in the file and read back.
  REQUIRE(run(" --sampling conditional --force -o " + path) == 0);
  {
    p.sampling = amari::deepnet_sampling::conditional;
    auto f = amari::store::file::open_read(path);
    auto g = f.group_at("/deepnet");
    CHECK(g.read_doubles("q1") == amari::run_deepnet(p).q1);
    CHECK(g.attr_string("sampling") == "conditional");
  }
  fs::remove(path);
  CHECK(run(" --c0 2 -o " + path) == 2);
  CHECK_FALSE(fs::exists(path));
  // Tied nets reuse W, so they cannot be drawn from the conditional law: refused, no file.
  CHECK(run(" --tied --sampling conditional -o " + path) == 2);
  CHECK_FALSE(fs::exists(path));
  fs::remove_all(dir);
}

TEST_CASE("deepnet: the map curves for the cobweb plots against closed forms (relu)", "[deepnet][plot]") {
  // relu: V(q) = sigma_w^2 q / 2 + sigma_b^2 and, for unit-free correlation c at variance q,
  // E[relu(u1) relu(u2)] = q / (2 pi) (sqrt(1 - c^2) + (pi - arccos c) c) (the arc-cosine kernel of
  // order 1, Cho and Saul 2009) -- independent of the quadrature in maps.cpp.
  deepnet_params p = small("relu", 1.2, 0.3);
  const double w2 = 1.44, b2 = 0.09, q_star = b2 / (1 - w2 / 2);
  const auto r = amari::iterate_maps(p.model, p.q0, p.c0, p.layers);
  const auto m = amari::sample_map_curves(p, r.q, q_star, 101);
  REQUIRE(m.q.size() == 101);
  REQUIRE(m.c.size() == 101);
  CHECK(m.q.front() == 0);
  CHECK(m.q.back() == 1.25 * 1.3);  // q0 = 1.3 is the largest q of an ordered map falling to q*
  CHECK(m.c.front() == -1);
  CHECK(m.c.back() == 1);
  CHECK(m.q_c_is_fixed_point);
  CHECK(m.q_c == q_star);
  const double pi = std::acos(-1.0);
  for (std::size_t i = 0; i < m.q.size(); ++i) {
    // the Gaussian expectations are accurate to ~1e-12 relative (gauss.hpp)
    CHECK_THAT(m.V[i], close_to(w2 * m.q[i] / 2 + b2, 1e-11, 1e-14));
    const double c = m.c[i];
    const double e = q_star / (2 * pi) * (std::sqrt(1 - c * c) + (pi - std::acos(c)) * c);
    CHECK_THAT(m.C[i], close_to((w2 * e + b2) / q_star, 1e-10, 1e-13));
  }
}

TEST_CASE("deepnet: the map curves pass through the fixed points, and the divergent case", "[deepnet][plot]") {
  SECTION("tanh, chaotic: C(1) = 1 and the curve crosses the diagonal at c*") {
    deepnet_params p = small("tanh", 2.5, 0.3);
    const auto fixed = amari::solve_maps(p.model);
    const auto r = amari::iterate_maps(p.model, p.q0, p.c0, p.layers);
    const auto m = amari::sample_map_curves(p, r.q, fixed.q_star);
    CHECK(m.q_c == *fixed.q_star);
    // C(1) = V(q*) / q* = 1: the rounding of two Gaussian expectations
    CHECK_THAT(m.C.back(), close_to(1.0, 1e-11));
    // C(c) - c changes sign once on (-1, 1), between the grid points around c* (C is increasing and
    // convex on [0, 1], docs/maps.md). The end point c = 1 is left out: there C(1) - 1 = 0 up to
    // the rounding checked above, of either sign.
    int crossings = 0;
    for (std::size_t i = 1; i + 2 < m.c.size(); ++i)
      if ((m.C[i] - m.c[i]) * (m.C[i + 1] - m.c[i + 1]) < 0) {
        ++crossings;
        CHECK(m.c[i] <= *fixed.c_star);
        CHECK(*fixed.c_star <= m.c[i + 1]);
      }
    CHECK(crossings == 1);
  }
  SECTION("relu, divergent: the correlation map at the last q^l") {
    deepnet_params p = small("relu", 2.0, 0.3);
    const auto fixed = amari::solve_maps(p.model);
    REQUIRE_FALSE(fixed.q_star);
    const auto r = amari::iterate_maps(p.model, p.q0, p.c0, p.layers);
    const auto m = amari::sample_map_curves(p, r.q, fixed.q_star);
    CHECK_FALSE(m.q_c_is_fixed_point);
    CHECK(m.q_c == r.q.back());
    CHECK(m.q.back() == 1.25 * r.q.back());
    for (double x : m.C) CHECK(std::isfinite(x));
  }
}

TEST_CASE("amari deepnet -o writes the map curves V(q) and C(c) with their scales", "[deepnet][cli][plot]") {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / ("amari_deepnet_curves_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  const std::string path = dir + "/deep.h5";
  REQUIRE(std::system((std::string(AMARI_CLI_PATH) +
                       " deepnet --phi tanh --sigma-w 1.5 --sigma-b 0.1 --n 100 --layers 5 --nets 2 --quiet -o " + path)
                          .c_str()) == 0);
  deepnet_params p;
  p.model.phi = Activation::parse("tanh");
  p.model.sigma_w = 1.5;
  p.model.sigma_b = 0.1;
  p.layers = 5;
  const auto fixed = amari::solve_maps(p.model);
  const auto r = amari::iterate_maps(p.model, p.q0, p.c0, p.layers);
  const auto m = amari::sample_map_curves(p, r.q, fixed.q_star);
  {
    auto f = amari::store::file::open_read(path);
    auto g = f.group_at("/deepnet");
    CHECK(g.read_doubles("q_grid") == m.q);
    CHECK(g.read_doubles("V") == m.V);
    CHECK(g.read_doubles("c_grid") == m.c);
    CHECK(g.read_doubles("C") == m.C);
    CHECK(f.info("/deepnet/V").dims == std::vector<std::string>{"q_grid"});
    CHECK(f.info("/deepnet/C").dims == std::vector<std::string>{"c_grid"});
    CHECK(f.info("/deepnet/q_grid").is_scale);
    CHECK(g.attr_double_of("C", "q_c") == *fixed.q_star);
    CHECK(g.attr_int_of("C", "q_c_is_fixed_point") == 1);
    CHECK(g.attr_string_of("V", "units") == "h^2");
  }
  fs::remove_all(dir);
}

// Tied weights (deepnet_params::tied: the same W, b at every layer, the discrete-time recurrent net).
TEST_CASE("deepnet --tied: layer 1 is the untied net's, later layers reuse W and b", "[deepnet][tied]") {
  deepnet_params p = small("tanh", 2.5, 0.3);
  p.n = 64;
  p.layers = 4;
  p.nets = 3;
  p.threads = 1;
  const deepnet_result u = amari::run_deepnet(p);
  p.tied = true;
  const deepnet_result t = amari::run_deepnet(p);
  p.threads = 2;
  const deepnet_result t2 = amari::run_deepnet(p);
  CHECK(t2.q1 == t.q1);  // thread count does not matter
  const std::int64_t cols = p.layers + 1;
  for (std::int64_t k = 0; k < p.nets; ++k) {
    INFO("net " << k);
    // The same inputs and the same random numbers for W^1 and b^1: layer 1 agrees (to rounding:
    // the rows of W are multiplied from a stored matrix rather than from the fresh row).
    CHECK(t.q1[k * cols] == u.q1[k * cols]);
    CHECK_THAT(t.q1[k * cols + 1], close_to(u.q1[k * cols + 1], 1e-13));
    CHECK_THAT(t.c[k * cols + 1], close_to(u.c[k * cols + 1], 1e-13));
    CHECK_THAT(t.lambda[k * cols + 1], close_to(u.lambda[k * cols + 1], 1e-12, 1e-14));
    // Beyond layer 1 the tied net reuses W^1 and b^1 while the untied one draws new ones.
    for (std::int64_t l = 2; l <= p.layers; ++l) CHECK(std::abs(t.q1[k * cols + l] - u.q1[k * cols + l]) > 1e-6);
  }
  // And the tied net is deterministic given (W, b): with linear phi and sigma_b = 0, h^l = W^l h^0,
  // so c^l of two inputs at c0 = 1 (the same input) stays exactly 1 (up to rounding), as untied.
  deepnet_params lin = small("linear", 1.0, 0.0);
  lin.n = 32;
  lin.layers = 3;
  lin.nets = 2;
  lin.c0 = 1;
  lin.tied = true;
  const deepnet_result r = amari::run_deepnet(lin);
  for (double c : r.c) CHECK_THAT(c, close_to(1.0, 1e-12));
}

TEST_CASE("deepnet --tied: the tied net follows the length map at N = 1000 and departs from the untied one at N = 32",
          "[deepnet][tied]") {
  // As N -> infinity the tied (recurrent) net follows the same length map as the untied one
  // (docs/compare.md, tied_variance). At finite N the two differ: tools/finite_study tied measured
  // the late (t in [N, 2N]) difference of the mean q for tanh (2.5, 0.3) at N = 16..128 as
  // N (q_tied - q_untied) between 10 and 16 (+- 3), and the untied net's own bias is G1^l / N
  // (|G1| < 1 here). Allowance: 20 / N + |G1^l| / N. 8 layers compared, errors over 12 nets:
  // k = bonferroni_k(8, 11).
  deepnet_params p = small("tanh", 2.5, 0.3);
  p.n = 1000;
  p.layers = 8;
  p.nets = 12;
  p.tied = true;
  const deepnet_result t = amari::run_deepnet(p);
  const auto th = amari::run_finite(
      amari::finite_params{.model = p.model, .q0 = p.q0, .c0 = p.c0, .inputs = p.inputs, .layers = p.layers});
  const double k = bonferroni_k(8, double(p.nets - 1));
  for (std::int64_t l = 1; l <= p.layers; ++l) {
    INFO("layer " << l);
    CHECK_THAT(t.q1_mean[l], within_se(t.q_map[l], t.q1_sem[l], k, (20 + std::abs(th.G1[l])) / double(p.n)));
  }
  // N = 32, 1000 nets, 64 layers: the late mean q of the tied net exceeds the untied one's (the
  // measured N (q_tied - q_untied) ~ 15 +- 2 there). Asserted: the difference of the means over
  // t in [32, 64] is positive and beyond 4 of its (conservative) standard errors.
  deepnet_params s = small("tanh", 2.5, 0.3);
  s.n = 32;
  s.layers = 64;
  s.nets = 1000;
  const deepnet_result u = amari::run_deepnet(s);
  s.tied = true;
  const deepnet_result v = amari::run_deepnet(s);
  double d = 0, se = 0;
  for (std::int64_t l = 32; l <= 64; ++l) {
    d += (v.q1_mean[l] - u.q1_mean[l]) / 33.0;
    se += std::hypot(v.q1_sem[l], u.q1_sem[l]) / 33.0;  // the layers' errors added: correlated layers
  }
  INFO("q_tied - q_untied over t in [32, 64]: " << d << " +- " << se);
  CHECK(d > 4 * se);
}
