// Drawing random networks: the statistics of W, b and h(0), and the reproducibility contract
// (the same seed gives the same numbers whatever the thread count, the replica count or the
// precision).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "amari/core/error.hpp"
#include "amari/sim/network.hpp"
#include "tolerance.hpp"

using amari::network_params;
using amari::test::bonferroni_k;
using amari::test::close_to;
using amari::test::within_se;

TEST_CASE("network parameters are validated, naming the field", "[network]") {
  network_params p;
  REQUIRE_NOTHROW(p.validate());
  auto bad = [](auto change, const std::string& field) {
    network_params q;
    change(q);
    try {
      q.validate();
      FAIL("no exception for " << field);
    } catch (const amari::InvalidArgument& e) {
      CHECK(e.field() == field);
    }
  };
  bad([](network_params& q) { q.n = 0; }, "n");
  bad([](network_params& q) { q.model.sigma_w = -1; }, "sigma_w");
  bad([](network_params& q) { q.model.sigma_b = NAN; }, "sigma_b");
  bad([](network_params& q) { q.model.w0 = INFINITY; }, "w0");
  bad([](network_params& q) { q.q0 = -0.1; }, "q0");
  bad([](network_params& q) { q.seed = -3; }, "seed");
}

TEST_CASE("W, b and h(0) have the prescribed means and variances", "[network]") {
  network_params p;
  p.n = 800;
  p.model.w0 = 1.7;
  p.model.sigma_w = 1.3;
  p.model.b0 = -0.4;
  p.model.sigma_b = 0.6;
  p.m0 = 0.25;
  p.q0 = 2.0;
  const auto net = amari::draw_network<double>(p, 0, 2);
  const double n = static_cast<double>(p.n), count = n * n;
  double s = 0, ss = 0;
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) s += net.W(i, j);
  const double mean = s / count;
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) ss += (net.W(i, j) - mean) * (net.W(i, j) - mean);
  const double var = ss / (count - 1);
  // Six comparisons of sample means and variances of independent Gaussian numbers with the
  // prescribed values. Their standard errors are known exactly (sd / sqrt(count) for a mean,
  // variance sqrt(2 / count) for a variance; count = n^2 = 640000 or n = 800, where the chi-square
  // is normal to a skewness of 0.1 or less), so k = bonferroni_k(6) = 4.3: a false failure for at
  // most 1 seed in 1000 (tests/tolerance.hpp). No bias: both estimators are unbiased (the variance
  // with count - 1).
  const double k = bonferroni_k(6);
  const double sd = p.model.sigma_w / std::sqrt(n);
  CHECK_THAT(mean, within_se(p.model.w0 / n, sd / n, k));
  CHECK_THAT(var, within_se(sd * sd, sd * sd * std::sqrt(2.0) / n, k));
  // The padding of the rows is zero.
  for (std::int64_t j = p.n; j < net.W.stride(); ++j) CHECK(net.W(5, j) == 0.0);

  // b and h(0): n = 800 numbers each.
  CHECK_THAT(net.b.mean(), within_se(p.model.b0, p.model.sigma_b / std::sqrt(n), k));
  CHECK_THAT((net.b.array() - net.b.mean()).square().sum() / (n - 1),
             within_se(p.model.sigma_b * p.model.sigma_b, p.model.sigma_b * p.model.sigma_b * std::sqrt(2 / n), k));
  const Eigen::VectorXd h = amari::draw_initial(p, 0, 3, 0.0);
  CHECK_THAT(h.mean(), within_se(p.m0, std::sqrt(p.q0 / n), k));
  CHECK_THAT((h.array() - h.mean()).square().sum() / (n - 1), within_se(p.q0, p.q0 * std::sqrt(2 / n), k));
}

TEST_CASE("row blocks deal the rows of W over the parts contiguously, floor or ceil of n / parts each",
          "[network]") {
  for (std::int64_t n : {1, 2, 7, 100, 1001, 100000})
    for (std::int64_t parts = 1; parts <= std::min<std::int64_t>(n, 13); ++parts) {
      std::int64_t next = 0, most = 0;
      for (std::int64_t p = 0; p < parts; ++p) {
        const amari::row_range b = amari::row_block(n, p, parts);
        REQUIRE(b.first == next);
        REQUIRE((b.count == n / parts || b.count == (n + parts - 1) / parts));
        next += b.count;
        most = std::max(most, b.count);
      }
      REQUIRE(next == n);
      REQUIRE(amari::largest_row_block(n, parts) == most);
    }
  // By hand: n = 10 over 3 parts is rows 0-2, 3-5 and 6-9 (the remainder goes to the last).
  static_assert(amari::row_block(10, 0, 3).first == 0 && amari::row_block(10, 0, 3).count == 3);
  static_assert(amari::row_block(10, 1, 3).first == 3 && amari::row_block(10, 1, 3).count == 3);
  static_assert(amari::row_block(10, 2, 3).first == 6 && amari::row_block(10, 2, 3).count == 4);
}

TEST_CASE("draws are reproducible and independent of threads, replicas and precision", "[network]") {
  network_params p;
  p.n = 333;  // not a multiple of the row padding
  p.seed = 42;
  p.model.sigma_b = 0.5;
  const auto a = amari::draw_network<double>(p, 1, 1);
  const auto b = amari::draw_network<double>(p, 1, 2);
  const auto f = amari::draw_network<float>(p, 1, 2);
  bool same = true, rounded = true;
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) {
      same = same && a.W(i, j) == b.W(i, j);
      rounded = rounded && f.W(i, j) == static_cast<float>(a.W(i, j));
    }
  CHECK(same);
  CHECK(rounded);
  CHECK(a.b == b.b);

  // Another draw, another seed: different numbers.
  const auto other_draw = amari::draw_network<double>(p, 2, 2);
  network_params p2 = p;
  p2.seed = 43;
  const auto other_seed = amari::draw_network<double>(p2, 1, 2);
  CHECK(other_draw.W(0, 0) != a.W(0, 0));
  CHECK(other_seed.W(0, 0) != a.W(0, 0));
  CHECK(other_seed.b[0] != a.b[0]);

  // Row i of W is its own stream: the first entries of a row do not depend on N.
  network_params big = p;
  big.n = 500;
  const auto c = amari::draw_network<double>(big, 1, 2);
  const double scale = std::sqrt(500.0 / 333.0);
  CHECK_THAT(c.W(7, 3) * scale, close_to(a.W(7, 3), 1e-14));

  // Replica r's initial state is its own stream: adding replicas changes nothing before.
  CHECK(amari::draw_initial(p, 0, 1, 0.0) == amari::draw_initial(p, 0, 1, 0.0));
  CHECK(amari::draw_initial(p, 0, 1, 0.0) != amari::draw_initial(p, 0, 2, 0.0));
  // A perturbed replica sits at distance ~ eps sqrt(N) from replica 0.
  const Eigen::VectorXd d = amari::draw_initial(p, 0, 1, 1e-6) - amari::draw_initial(p, 0, 0, 1e-6);
  CHECK_THAT(d.norm() / std::sqrt(double(p.n)), close_to(1e-6, 0.25));
}
