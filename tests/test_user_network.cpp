// The user's own network (sim/user_network.hpp, io/arrays.hpp, io/layout/network.hpp): a given W,
// b and h(0) integrate as an independent RK4 does; a float32 W as its float64 conversion; amari's
// own draw given back reproduces the drawn run bit for bit; each refusal names its field; the
// checksum is FNV-1a 64 as Python computes it; the readers of HDF5 and .npy agree with numpy.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "amari/core/error.hpp"
#include "amari/io/arrays.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/predictions.hpp"
#include "amari/sim/user_network.hpp"
#include "simulate_support.hpp"
#include "user_network_support.hpp"

using amari::simulate_params;
using amari::stepper_kind;
using amari::user_network;

namespace {

const std::string fixtures = std::string(AMARI_SOURCE_DIR) + "/tests/data/user_network/";

struct given_arrays {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W;  // C order
  Eigen::VectorXd b;
  Eigen::MatrixXd h0;  // N x 1
};

given_arrays make_arrays(std::int64_t n, double sigma_w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  given_arrays a{decltype(given_arrays::W)(n, n), Eigen::VectorXd(n), Eigen::MatrixXd(n, 1)};
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) a.W(i, j) = sigma_w / std::sqrt(static_cast<double>(n)) * z(rng);
  for (std::int64_t i = 0; i < n; ++i) a.b[i] = 0.2 * z(rng);
  for (std::int64_t i = 0; i < n; ++i) a.h0(i, 0) = z(rng);
  return a;
}

simulate_params rk4_params(std::int64_t n) {
  simulate_params p;
  p.net.n = n;
  p.stepper = stepper_kind::rk4;
  p.dt = 0.01;
  p.t_end = 5;
  p.dt_out = 0.1;
  p.record_neurons = 4;
  p.acf_lag = 0;
  p.threads = 2;
  return p;
}

std::vector<double> q_of(const amari::test::run_output& r) {
  std::vector<double> q;
  for (const auto& s : r.samples) q.push_back(s.q.at(0));
  return q;
}

// Largest |a_k - b_k|.
double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

}  // namespace

TEST_CASE("a user's W, b and h0 integrate as an independent RK4 does (sigma 1.5, q to 1e-10)", "[user_network]") {
  const std::int64_t n = 200;
  const given_arrays a = make_arrays(n, 1.5, 7);
  const std::vector<double> ref = amari::test::reference_q(a.W, a.b, a.h0.col(0), 0.01, 500, 10);
  REQUIRE(ref.size() == 51);
  const simulate_params p = rk4_params(n);

  SECTION("C order, float64") {
    user_network u;
    u.weights = amari::c_order_view(a.W.data(), n, n);
    u.bias = a.b.data(), u.bias_size = n;
    amari::simulate_inputs in{.h0 = &a.h0, .network = &u};
    const auto r = amari::test::run_sim(p, in);
    CHECK(max_diff(q_of(r), ref) < 1e-10);
    CHECK(ref.back() > 0.05);  // the dynamics moved: q is not trivially 0
  }
  SECTION("Fortran order gives the same run bit for bit") {
    const Eigen::MatrixXd Wf = a.W;  // column-major copy
    user_network uc, uf;
    uc.weights = amari::c_order_view(a.W.data(), n, n);
    uf.weights = {.data = Wf.data(), .single = false, .rows = n, .cols = n, .row_stride = 1, .col_stride = n};
    uc.bias = uf.bias = a.b.data(), uc.bias_size = uf.bias_size = n;
    const auto rc = amari::test::run_sim(p, {.h0 = &a.h0, .network = &uc});
    const auto rf = amari::test::run_sim(p, {.h0 = &a.h0, .network = &uf});
    CHECK(amari::test::identical(rc, rf));
    CHECK(amari::fnv1a64_checksum(uc.weights) == amari::fnv1a64_checksum(uf.weights));
    // A negative stride (numpy's W[::-1] of the row-flipped matrix): the same W, the same run.
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> flipped = a.W.colwise().reverse();
    user_network ur = uc;
    ur.weights = {.data = flipped.data() + (n - 1) * n, .single = false, .rows = n, .cols = n, .row_stride = -n,
                  .col_stride = 1};
    CHECK(amari::test::identical(rc, amari::test::run_sim(p, {.h0 = &a.h0, .network = &ur})));
  }
  SECTION("a float32 W against RK4 of the same W converted to float64") {
    const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W32 = a.W.cast<float>();
    const Eigen::MatrixXd W64 = W32.cast<double>();
    const std::vector<double> ref32 = amari::test::reference_q(W64, a.b, a.h0.col(0), 0.01, 500, 10);
    user_network u;
    u.weights = {.data = W32.data(), .single = true, .rows = n, .cols = n, .row_stride = n, .col_stride = 1};
    u.bias = a.b.data(), u.bias_size = n;
    const auto r = amari::test::run_sim(p, {.h0 = &a.h0, .network = &u});
    CHECK(max_diff(q_of(r), ref32) < 1e-10);
    // The float32 rounding of W is visible against the float64 W (so the check above can fail).
    CHECK(max_diff(q_of(r), ref) > 1e-9);
  }
}

TEST_CASE("amari's own draw, given back as the user's network, reproduces the drawn run bit for bit",
          "[user_network]") {
  for (const auto precision : {amari::precision_kind::float64, amari::precision_kind::float32}) {
    simulate_params p;
    p.net.n = 90;
    p.net.model.sigma_w = 1.7;
    p.net.model.sigma_b = 0.3;
    p.net.seed = 11;
    p.replicas = 2;
    p.t_end = 10;
    p.dt_out = 0.5;
    p.lyapunov = true;
    p.precision = precision;
    p.threads = 2;
    INFO(std::string(amari::to_string(precision)));
    const auto drawn = amari::test::run_sim(p);
    const amari::dense_network net = amari::draw_dense_network(p.net, 0);
    REQUIRE(net.W.rows() == 90);
    user_network u;
    u.weights = {.data = net.W.data(), .single = false, .rows = 90, .cols = 90, .row_stride = 1, .col_stride = 90};
    u.bias = net.b.data(), u.bias_size = 90;
    const auto given = amari::test::run_sim(p, {.network = &u});
    CHECK(amari::test::identical(drawn, given));
    // The seed still drives h(0) and the tangent vectors: another seed with the same W differs.
    simulate_params p2 = p;
    p2.net.seed = 12;
    const auto other = amari::test::run_sim(p2, {.network = &u});
    CHECK_FALSE(amari::test::identical(drawn, other));
  }
}

TEST_CASE("a user's W stored in float or half is rounded as a drawn W is: the drawn run, bit for bit",
          "[user_network][weights]") {
  using amari::weight_precision_kind;
  for (const auto wp : {weight_precision_kind::float32, weight_precision_kind::float16}) {
    for (const auto acc : {amari::accumulation_kind::state, amari::accumulation_kind::blocked}) {
      simulate_params p;
      p.net.n = 80;
      p.net.model.sigma_w = 1.6;
      p.net.seed = 4;
      p.t_end = 8;
      p.dt_out = 0.5;
      p.lyapunov = true;
      p.threads = 2;
      p.weight_precision = wp;
      p.accumulation = acc;
      INFO("weight_precision " << amari::param_text(wp) << ", accumulation " << amari::param_text(acc));
      const auto drawn = amari::test::run_sim(p);
      const amari::dense_network net = amari::draw_dense_network(p.net, 0);
      user_network u;
      u.weights = {.data = net.W.data(), .single = false, .rows = 80, .cols = 80, .row_stride = 1, .col_stride = 80};
      CHECK(amari::test::identical(drawn, amari::test::run_sim(p, {.network = &u})));
      // And the storage matters: the same W in double storage gives another run.
      simulate_params pd = p;
      pd.weight_precision = weight_precision_kind::float64;
      pd.accumulation = amari::accumulation_kind::state;
      CHECK_FALSE(amari::test::identical(drawn, amari::test::run_sim(pd, {.network = &u})));
    }
  }
}

TEST_CASE("a user's W that half cannot hold is refused with the reason", "[user_network][weights]") {
  simulate_params p;
  p.net.n = 20;
  p.t_end = 1;
  p.weight_precision = amari::weight_precision_kind::float16;
  Eigen::MatrixXd W = Eigen::MatrixXd::Constant(20, 20, 0.01);
  user_network u;
  u.weights = {.data = W.data(), .single = false, .rows = 20, .cols = 20, .row_stride = 1, .col_stride = 20};
  W(3, 7) = 7e4;  // beyond half's largest finite value, 65504
  CHECK_THROWS_WITH(amari::test::run_sim(p, {.network = &u}), Catch::Contains("65504") || Catch::Contains("half"));
  W(3, 7) = 0.01;
  CHECK_NOTHROW(amari::test::run_sim(p, {.network = &u}));
  W.setConstant(1e-6);  // every entry subnormal in half
  CHECK_THROWS_WITH(amari::test::run_sim(p, {.network = &u}),
                    Catch::Contains("weight_precision = half") && Catch::Contains("400 of the 400 entries") &&
                        Catch::Contains("subnormal"));
  p.weight_precision = amari::weight_precision_kind::float32;  // float holds them
  CHECK_NOTHROW(amari::test::run_sim(p, {.network = &u}));
}

TEST_CASE("draw d of amari network is draw d of a run with draws > d", "[user_network]") {
  amari::network_params np;
  np.n = 30;
  np.seed = 5;
  np.model.sigma_b = 0.4;
  const amari::network<double> d1 = amari::draw_network<double>(np, 1, 1);
  const amari::dense_network dense = amari::draw_dense_network(np, 1);
  bool same = true;
  for (int i = 0; i < 30; ++i) {
    same = same && dense.b[i] == d1.b[i];
    for (int j = 0; j < 30; ++j) same = same && dense.W(i, j) == d1.W(i, j);
  }
  CHECK(same);
  CHECK(amari::draw_bias(np, 1) == dense.b);
}

TEST_CASE("the user's network is refused, naming the field, when it does not fit", "[user_network]") {
  const std::int64_t n = 6;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W =
      Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>::Constant(n, n, 0.1);
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  auto refused = [](simulate_params p, const user_network& u, std::set<std::string> given, const std::string& field,
                    const std::string& words) {
    try {
      amari::apply_user_network(p, u, given);
    } catch (const amari::InvalidArgument& e) {
      INFO(e.what());
      CHECK(e.field() == field);
      CHECK_THAT(std::string(e.what()), Catch::Contains(words));
      CHECK(std::string(e.what()).find('\n') == std::string::npos);
      return;
    }
    FAIL("not refused: " << field);
  };
  user_network u;
  u.weights = amari::c_order_view(W.data(), n, n);
  u.weights_source = "w.h5:/W";
  simulate_params p;

  SECTION("n is taken from W when not given") {
    simulate_params q = p;
    amari::apply_user_network(q, u, {});
    CHECK(q.net.n == n);
  }
  SECTION("wrong shape") {
    user_network r = u;
    r.weights = amari::c_order_view(W.data(), n, n - 1);
    refused(p, r, {}, "weights", "must be square");
  }
  SECTION("a NaN in W") {
    W(2, 4) = std::nan("");
    refused(p, u, {}, "weights", "W[2, 4] = nan");
  }
  SECTION("a NaN in a streamed W: refused from its summary, and by make_network as it reads the rows") {
    W(2, 4) = std::nan("");
    user_network s = u;
    const amari::weights_view held = u.weights;
    s.weights.data = nullptr;
    s.weights.fetch = [held](std::int64_t first, std::int64_t count, double* out) {
      amari::read_weight_rows(held, first, count, out);
    };
    REQUIRE(s.weights.streamed());
    amari::apply_user_network(p, s, {});  // no summary: the rows are not read here
    s.summary = amari::summarize_weights(s.weights);
    CHECK(s.summary->non_finite == 2 * n + 4);
    refused(p, s, {}, "weights", "W[2, 4] = nan");
    s.summary.reset();
    amari::network_params np;
    np.n = n;
    CHECK_THROWS_WITH(amari::make_network<double>(np, 0, 1, &s), Catch::Contains("W[2, 4] = nan"));
  }
  SECTION("n disagreeing with W") {
    p.net.n = 7;
    refused(p, u, {"n"}, "n", "disagrees with the weights (w.h5:/W), which are 6 x 6");
  }
  SECTION("sigma_w or w0 given with weights") {
    p.net.model.sigma_w = 1.5;
    refused(p, u, {"sigma_w"}, "sigma_w", "describes a drawn W");
    refused(p, u, {"w0"}, "w0", "describes a drawn W");
  }
  SECTION("draws > 1 with weights") {
    p.draws = 2;
    refused(p, u, {}, "draws", "must be 1 with weights");
  }
  SECTION("a bias of the wrong length, non-finite, or with sigma_b") {
    user_network r;
    r.bias = b.data(), r.bias_size = n - 1;
    p.net.n = n;
    refused(p, r, {"n"}, "bias", "has length 5: it must have length N = 6");
    r.bias_size = n;
    b[0] = INFINITY;
    refused(p, r, {"n"}, "bias", "b[0] = inf");
    refused(p, r, {"sigma_b"}, "sigma_b", "describes a drawn b");
  }
  SECTION("simulate itself refuses a network that does not fit") {
    p.net.n = 7;
    amari::test::recorder rec;
    CHECK_THROWS_AS(amari::simulate(p, rec, {}, {.network = &u}), amari::InvalidArgument);
  }
}

TEST_CASE("the checksum is FNV-1a 64 over little-endian float64, as Python computes it", "[user_network]") {
  // Values from a 6-line Python FNV-1a over numpy's '<f8' bytes (tests/data/user_network/README.md).
  const double two[] = {1.0, -2.5};
  CHECK(amari::checksum_text(amari::fnv1a64_checksum(two, 2)) == "fnv1a64:2f20b4ea1c69d79c");
  CHECK(amari::checksum_text(amari::fnv1a64_checksum(two, 0)) == "fnv1a64:cbf29ce484222325");  // the offset basis
  const auto W = amari::read_array("weights", fixtures + "user_network.h5:/W");
  CHECK(amari::checksum_text(amari::fnv1a64_checksum(W.values.data(), 1600)) == "fnv1a64:df317e30dc67260a");
  const auto W32 = amari::read_array("weights", fixtures + "user_network.h5:/W32");
  const amari::weights_view v32 = amari::c_order_view(W32.values.data(), 40, 40);
  CHECK(amari::checksum_text(amari::fnv1a64_checksum(v32)) == "fnv1a64:7d21a9ec53817cb7");
}

TEST_CASE("rows of W read alone (HDF5 hyperslab, .npy in either order) equal those of W read whole", "[user_network]") {
  for (const std::string& spec : {fixtures + "user_network.h5:/W", fixtures + "W.npy", fixtures + "W32_fortran.npy"}) {
    INFO(spec);
    const auto whole = amari::read_array("weights", spec);
    const auto head = amari::read_array("weights", spec, {0, 0});
    CHECK(head.shape == whole.shape);
    CHECK(head.values.empty());
    const auto part = amari::read_array("weights", spec, {13, 9});
    CHECK(part.shape == whole.shape);
    CHECK(part.first_row == 13);
    CHECK(part.values == std::vector<double>(whole.values.begin() + 13 * 40, whole.values.begin() + 22 * 40));
    // The view of those rows reads W(i, j) at the whole matrix's indices.
    amari::loaded_network net{part, {}, std::nullopt};
    const user_network u = net.view();
    CHECK(u.weights.held_first() == 13);
    CHECK(u.weights.held_end() == 22);
    CHECK(u.weights(17, 5) == whole.values[17 * 40 + 5]);
    // Blocks of whole rows in order give the array back, and the checksum and moments of W held whole.
    std::vector<double> again;
    amari::for_each_row_block("weights", spec, 7 * 40, [&](const amari::array_data& a) {
      CHECK(a.values.size() <= 7 * 40);
      again.insert(again.end(), a.values.begin(), a.values.end());
    });
    CHECK(again == whole.values);
    amari::loaded_network all{whole, {}, std::nullopt};
    const amari::weights_summary direct = amari::summarize_weights(all.view().weights);
    const amari::weights_summary streamed = amari::weights_summary_of(spec);
    CHECK(streamed.checksum == direct.checksum);
    CHECK(streamed.checksum == amari::fnv1a64_checksum(all.view().weights));
    CHECK(streamed.mean == direct.mean);  // the same additions in the same order: the same bits
    CHECK(streamed.ss == direct.ss);
    // Streamed (loaded_network::streamed: the rows read from the file a block at a time as the
    // network is built, never held): the same rows, the same summary, the same network in every
    // storage, exactly.
    amari::loaded_network lazy{head, {}, std::nullopt, amari::row_range{13, 9}};
    const user_network lu = lazy.view();
    CHECK(lu.weights.streamed());
    CHECK(lu.weights.held_first() == 13);
    CHECK(lu.weights.held_end() == 22);
    std::vector<double> rows(2 * 40);
    amari::read_weight_rows(lu.weights, 15, 2, rows.data());
    CHECK(rows == std::vector<double>(whole.values.begin() + 15 * 40, whole.values.begin() + 17 * 40));
    amari::loaded_network lazy_all{head, {}, std::nullopt, amari::row_range{0, 40}};
    const amari::weights_summary s_lazy = amari::summarize_weights(lazy_all.view().weights);
    CHECK(s_lazy.checksum == direct.checksum);
    CHECK(s_lazy.mean == direct.mean);
    CHECK(s_lazy.ss == direct.ss);
    CHECK(s_lazy.non_finite == -1);
    amari::network_params np;
    np.n = 40;
    for (auto storage : {amari::storage_kind::float64, amari::storage_kind::float32, amari::storage_kind::float16}) {
      const auto held = amari::make_network<double>(np, 0, 2, &u, storage, amari::accumulation_kind::state, {13, 9});
      const auto read = amari::make_network<double>(np, 0, 2, &lu, storage, amari::accumulation_kind::state, {13, 9});
      for (std::int64_t i = 13; i < 22; ++i)
        for (std::int64_t j = 0; j < 40; ++j) CHECK(read.W(i, j) == held.W(i, j));
      CHECK(read.b == held.b);
    }
    try {
      (void)amari::read_array("weights", spec, {35, 6});
      FAIL("rows beyond the array were read");
    } catch (const amari::InvalidArgument& e) {
      CHECK(std::string(e.what()).find("has 40 rows: rows [35, 41) do not exist") != std::string::npos);
    }
  }
}

TEST_CASE("arrays from HDF5 files of any writer and from .npy files", "[user_network]") {
  const auto W = amari::read_array("weights", fixtures + "user_network.h5:/W");
  CHECK(W.dtype == "float64");
  CHECK(W.shape == std::vector<std::int64_t>{40, 40});
  const auto npy = amari::read_array("weights", fixtures + "W.npy");
  CHECK(npy.dtype == "float64");
  CHECK(npy.shape == W.shape);
  CHECK(npy.values == W.values);
  // float32 in Fortran order (numpy.asfortranarray): the same entries as the HDF5 float32 dataset.
  const auto f32 = amari::read_array("weights", fixtures + "W32_fortran.npy");
  const auto h32 = amari::read_array("weights", fixtures + "user_network.h5:/W32");
  CHECK(f32.dtype == "float32");
  CHECK(h32.dtype == "float32");
  CHECK(f32.values == h32.values);
  CHECK(f32.values != W.values);  // rounded to float32
  CHECK(f32.values[1] == static_cast<double>(static_cast<float>(W.values[1])));  // W[0, 1], C order
  CHECK(amari::read_array("bias", fixtures + "b.npy").values ==
        amari::read_array("bias", fixtures + "user_network.h5:/b").values);

  auto refused = [](const std::string& field, const std::string& spec, const std::string& words) {
    try {
      (void)amari::read_user_network(field == "weights" ? spec : "", field == "bias" ? spec : "");
    } catch (const amari::InvalidArgument& e) {
      INFO(e.what());
      CHECK(e.field() == field);
      CHECK_THAT(std::string(e.what()), Catch::Contains(words));
      return;
    }
    FAIL("not refused: " << spec);
  };
  refused("weights", fixtures + "W_bigendian.npy", "has dtype '>f8'");
  refused("weights", fixtures + "W_int.npy", "has dtype '<i8'");
  refused("weights", fixtures + "user_network.h5:/bad/W_int", "has type int64");
  refused("weights", fixtures + "user_network.h5:/bad/W_3d", "has shape [1, 40, 40]");
  refused("weights", fixtures + "user_network.h5:/nothing", "has no dataset /nothing");
  refused("weights", fixtures + "user_network.h5:/bad", "is a group");
  refused("weights", fixtures + "user_network.h5", "must be FILE:DATASET");
  refused("weights", fixtures + "missing.h5:/W", "cannot be read");
  refused("bias", fixtures + "user_network.h5:/W", "must be a vector of length N");
}

TEST_CASE("the theories use the empirical moments of a given W and b, and say so", "[user_network]") {
  const auto W = amari::read_array("weights", fixtures + "user_network.h5:/W");
  const auto b = amari::read_array("bias", fixtures + "user_network.h5:/b");
  amari::loaded_network net{W, b, std::nullopt};
  const user_network u = net.view();
  simulate_params p = rk4_params(40);
  const amari::empirical_model m = amari::measure_model(p.net, u);
  // Direct sums over the entries.
  double sw = 0, sww = 0, sb = 0, sbb = 0;
  for (double x : W.values) sw += x, sww += x * x;
  for (double x : b.values) sb += x, sbb += x * x;
  const double mw = sw / 1600, vw = sww / 1600 - mw * mw, mb = sb / 40, vb = sbb / 40 - mb * mb;
  CHECK(m.model.w0 == Approx(40 * mw).epsilon(1e-12));
  CHECK(m.model.sigma_w == Approx(std::sqrt(40 * vw)).epsilon(1e-12));
  CHECK(m.model.b0 == Approx(mb).epsilon(1e-12));
  CHECK(m.model.sigma_b == Approx(std::sqrt(vb)).epsilon(1e-12));
  // Drawn from sigma_w = 1.5, b ~ N(0.1, 0.2^2): the moments are near those (loose: a check that
  // the scaling by N is right, not a statistical test).
  CHECK(m.model.sigma_w == Approx(1.5).epsilon(0.15));
  CHECK(m.model.sigma_b == Approx(0.2).epsilon(0.35));
  const auto th = amari::predict_simulation(p, 0, 1, &u);
  CHECK_THAT(th.model_note, Catch::Contains("empirical moments"));
  REQUIRE(th.meanfield);
  CHECK(th.meanfield_setup.model.sigma_w == m.model.sigma_w);
  CHECK(th.meanfield_setup.model.b0 == m.model.b0);
  // b0 = mean(b) is ~0.1, far more than 3 standard errors (0.2 / sqrt(40) = 0.03) from 0: no DMFT.
  CHECK_FALSE(th.dmft);
  CHECK_THAT(th.dmft_skipped, Catch::Contains("treats w0 = b0 = 0"));
  // W alone: its mean is within 3 standard errors of 0, so the DMFT runs with w0 = 0 and says so.
  user_network w_only;
  w_only.weights = u.weights;
  const auto th2 = amari::predict_simulation(p, 0, 1, &w_only);
  REQUIRE(std::abs(m.model.w0) <= 3 * m.model.sigma_w / std::sqrt(40.0));
  CHECK(th2.dmft);
  CHECK(th2.dmft_setup.model.w0 == 0);
  CHECK(th2.dmft_setup.model.sigma_w == m.model.sigma_w);
  CHECK_THAT(th2.model_note, Catch::Contains("the DMFT takes the measured w0"));
  // Without a user network the note is empty and the model is the run's.
  CHECK(amari::predict_simulation(p, 0, 1).model_note.empty());
}
