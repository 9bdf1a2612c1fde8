// amari simulate --weights/--bias and amari network (docs/simulate.md, "Your own network"): the
// CLI gives the numbers of an independent RK4 for arrays of a file amari did not write; amari
// network plus --weights reproduces the drawn run bit for bit; every refusal exits 2 with one line
// and no file; --resume re-reads a W from its file (checksum checked) or from the run's own file.
#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "amari/core/error.hpp"
#include "amari/io/arrays.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/user_network.hpp"
#include "cli_run.hpp"
#include "tolerance.hpp"
#include "user_network_support.hpp"

using amari::test::run_amari;
using amari::test::bonferroni_k;
using amari::test::scratch_dir;
using amari::test::within_se;

namespace {

const std::string fixtures = std::string(AMARI_SOURCE_DIR) + "/tests/data/user_network/";

std::vector<double> dataset(const std::string& path, const std::string& group, const std::string& name) {
  auto f = amari::store::file::open_read(path);
  return f.group_at(group).read_doubles(name);
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

}  // namespace

TEST_CASE("amari simulate --weights --bias --h0 from an HDF5 file of h5py gives an independent RK4's q(t)",
          "[user_network][cli]") {
  scratch_dir dir;
  const std::string h5 = fixtures + "user_network.h5";
  const auto W = amari::read_array("weights", h5 + ":/W"), b = amari::read_array("bias", h5 + ":/b"),
             h0 = amari::read_array("h0", h5 + ":/h0");
  const Eigen::MatrixXd Wm = Eigen::Map<const Eigen::Matrix<double, 40, 40, Eigen::RowMajor>>(W.values.data());
  const std::vector<double> ref = amari::test::reference_q(Wm, Eigen::Map<const Eigen::VectorXd>(b.values.data(), 40),
                                                           Eigen::Map<const Eigen::VectorXd>(h0.values.data(), 40),
                                                           0.01, 500, 10);
  const std::string run = "simulate --stepper rk4 --dt 0.01 --t-end 5 --dt-out 0.1 --acf-lag 0 --json --quiet ";
  const auto r = run_amari(run + "--weights " + h5 + ":/W --bias " + h5 + ":/b --h0 " + h5 + ":/h0 -o a.h5", dir.path);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(nlohmann::json::parse(r.out)["n"] == 40);  // N from W
  CHECK(max_diff(dataset(dir / "a.h5", "/trajectory", "q"), ref) < 1e-10);
  CHECK(ref.back() > 0.05);
  {
    // Provenance: the file and dataset with the checksum of tests/data/user_network/README.md; a W
    // from a file is not copied into the output.
    auto f = amari::store::file::open_read(dir / "a.h5");
    auto g = f.group_at("/network");
    CHECK(g.attr_string("weights_source") == h5 + ":/W");
    CHECK(g.attr_string("weights_checksum") == "fnv1a64:df317e30dc67260a");
    CHECK(g.attr_string("bias_checksum") == "fnv1a64:66d1c3c3a3fe6e60");
    CHECK_FALSE(g.has("W"));
    CHECK_THAT(f.group_at("/meanfield").attr_string("model_source"), Catch::Contains("empirical moments"));
  }
  // The same arrays from .npy files: the same run, bit for bit.
  const auto rn = run_amari(run + "--weights " + fixtures + "W.npy --bias " + fixtures + "b.npy --h0 " + h5 +
                                ":/h0 -o b.h5",
                            dir.path);
  REQUIRE(rn.status == 0);
  CHECK(dataset(dir / "a.h5", "/trajectory", "q") == dataset(dir / "b.h5", "/trajectory", "q"));
  // A float32 W (Fortran order) against the RK4 of its float64 conversion.
  const auto W32 = amari::read_array("weights", fixtures + "W32_fortran.npy");
  const Eigen::MatrixXd W32m = Eigen::Map<const Eigen::Matrix<double, 40, 40, Eigen::RowMajor>>(W32.values.data());
  const std::vector<double> ref32 = amari::test::reference_q(
      W32m, Eigen::Map<const Eigen::VectorXd>(b.values.data(), 40), Eigen::Map<const Eigen::VectorXd>(h0.values.data(), 40),
      0.01, 500, 10);
  const auto r32 = run_amari(run + "--weights " + fixtures + "W32_fortran.npy --bias " + h5 + ":/b --h0 " + h5 +
                                 ":/h0 -o c.h5",
                             dir.path);
  REQUIRE(r32.status == 0);
  CHECK(max_diff(dataset(dir / "c.h5", "/trajectory", "q"), ref32) < 1e-10);
}

TEST_CASE("amari network, given back with --weights and --bias, reproduces the drawn run bit for bit",
          "[user_network][cli]") {
  scratch_dir dir;
  const std::string model = " --seed 3 --sigma-w 1.8 --sigma-b 0.2";
  const auto net = run_amari("network --n 50" + model + " -o net.h5 --json", dir.path);
  INFO(net.err);
  REQUIRE(net.status == 0);
  const auto j = nlohmann::json::parse(net.out);
  CHECK(j["n"] == 50);
  CHECK(j["draw"] == 0);
  {
    // The moments it prints: as computed here from the datasets, and those of the distribution
    // (W_ij ~ N(0, 1.8^2 / 50), b_i ~ N(0, 0.2^2)) within Bonferroni standard errors (4 at once):
    // se of a mean of m normals of variance v: sqrt(v / m); of a variance: v sqrt(2 / m).
    auto f = amari::store::file::open_read(dir / "net.h5");
    const auto W = f.group_at("/network").read_doubles("W"), b = f.group_at("/network").read_doubles("b");
    REQUIRE(W.size() == 2500);
    REQUIRE(b.size() == 50);
    auto mean_var = [](const std::vector<double>& x) {
      double m = 0, v = 0;
      for (double y : x) m += y;
      m /= static_cast<double>(x.size());
      for (double y : x) v += (y - m) * (y - m);
      return std::pair{m, v / static_cast<double>(x.size())};
    };
    const auto [wm, wv] = mean_var(W);
    const auto [bm, bv] = mean_var(b);
    CHECK(j["w_mean"].get<double>() == Approx(wm).epsilon(1e-12).margin(1e-15));
    CHECK(j["w_var"].get<double>() == Approx(wv).epsilon(1e-12));
    CHECK(j["b_mean"].get<double>() == Approx(bm).epsilon(1e-12).margin(1e-15));
    CHECK(j["b_var"].get<double>() == Approx(bv).epsilon(1e-12));
    const double k = bonferroni_k(4), vw = 1.8 * 1.8 / 50, vb = 0.2 * 0.2;
    CHECK_THAT(wm, within_se(0.0, std::sqrt(vw / 2500), k));
    CHECK_THAT(wv, within_se(vw, vw * std::sqrt(2.0 / 2500), k));
    CHECK_THAT(bm, within_se(0.0, std::sqrt(vb / 50), k));
    CHECK_THAT(bv, within_se(vb, vb * std::sqrt(2.0 / 50), k));
    const auto ins = run_amari("inspect net.h5", dir.path);
    CHECK_THAT(ins.out, Catch::Contains("weights_checksum = " + j["weights_checksum"].get<std::string>()) &&
                            Catch::Contains("N = 50"));
    auto printed = [&](const std::string& key) {
      const auto at = ins.out.find(key + " = ");
      REQUIRE(at != std::string::npos);
      return std::stod(ins.out.substr(at + key.size() + 3));
    };
    CHECK(printed("mean of W") == Approx(wm).epsilon(1e-5));  // 6 significant digits
    CHECK(printed("variance of W") == Approx(wv).epsilon(1e-5));
  }
  const std::string run = " --t-end 8 --replicas 2 --lyapunov --quiet";
  REQUIRE(run_amari("simulate --n 50" + model + run + " -o drawn.h5", dir.path).status == 0);
  const auto given = run_amari("simulate --seed 3 --weights net.h5:/network/W --bias net.h5:/network/b" + run +
                                   " -o given.h5",
                               dir.path);
  INFO(given.err);
  REQUIRE(given.status == 0);
  for (const auto& [group, name] : std::vector<std::pair<std::string, std::string>>{
           {"/trajectory", "q"}, {"/trajectory", "h"}, {"/trajectory", "h_final"}, {"/replicas", "c_ab"},
           {"/lyapunov", "exponents"}, {"/stationary", "q2"}}) {
    INFO(group << "/" << name);
    CHECK(dataset(dir / "drawn.h5", group, name) == dataset(dir / "given.h5", group, name));
  }
  // The W of the file is the seed's draw: its checksum is the one the JSON printed.
  auto f = amari::store::file::open_read(dir / "given.h5");
  CHECK(f.group_at("/network").attr_string("weights_checksum") == j["weights_checksum"].get<std::string>());
}

TEST_CASE("amari simulate refuses a user's network that does not fit: exit 2, one line, no file",
          "[user_network][cli]") {
  scratch_dir dir;
  const std::string h5 = fixtures + "user_network.h5";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--weights " + h5 + ":/bad/W_rect", "weights = " + h5 + ":/bad/W_rect: has shape [40, 39]: it must be square"},
      {"--weights " + h5 + ":/bad/W_nan", "W[3, 7] = nan"},
      {"--weights " + h5 + ":/W --n 41", "n = 41: disagrees with the weights"},
      {"--weights " + h5 + ":/W --sigma-w 1.5", "sigma_w = 1.5: describes a drawn W"},
      {"--weights " + fixtures + "W_int.npy", "has dtype '<i8'"},
      {"--weights " + fixtures + "W_bigendian.npy", "has dtype '>f8'"},
      {"--weights " + h5 + ":/bad/W_int", "has type int64"},
      {"--weights " + h5 + ":/W --draws 2", "draws = 2: must be 1 with weights"},
      {"--weights " + h5 + ":/W --bias " + h5 + ":/bad/b_short", "has length 39: it must have length N = 40"},
      {"--bias " + h5 + ":/b --b0 0.5", "b0 = 0.5: describes a drawn b"},
  };
  const auto before = dir.listing();
  for (const auto& [args, words] : cases) {
    INFO(args);
    const auto r = run_amari("simulate " + args + " -o out.h5", dir.path);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::Contains(words));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(dir.listing() == before);
  }
}

namespace {

// A run of the library into `path`, with the user's network u, interrupted after about half its
// samples (a checkpoint after every sample), or complete.
void library_run(const std::string& path, const amari::simulate_params& p, const amari::user_network& u,
                 bool interrupt) {
  auto f = amari::store::file::create(path, {.force = true, .product = "simulate"});
  amari::layout::network::write_provenance(f, u);
  amari::simulation_writer w(f, p);
  std::atomic<int> stop{0};
  amari::run_control control;
  control.stop = &stop;
  control.progress = [&](double done, double total) {
    if (interrupt && done >= total / 2) stop = SIGINT;
  };
  if (interrupt)
    CHECK_THROWS_AS(amari::simulate(p, w, control, {.network = &u}), amari::Interrupted);
  else
    amari::simulate(p, w, control, {.network = &u});
}

amari::simulate_params resumable() {
  amari::simulate_params p;
  p.net.n = 40;
  p.t_end = 20;
  p.dt_out = 0.5;
  p.lyapunov = true;
  p.flush_interval = 1e-9;
  p.threads = 2;
  return p;
}

}  // namespace

TEST_CASE("resuming a run with the user's W: from the run's file (memory) or its own file (checksum)",
          "[user_network][cli][resume]") {
  scratch_dir dir;
  const amari::simulate_params p = resumable();
  SECTION("a W from memory is stored in the file, which alone resumes the run") {
    std::vector<double> W(1600);
    for (int k = 0; k < 1600; ++k) W[k] = 0.3 * std::sin(1.7 * k);  // any W
    amari::user_network u;
    u.weights = amari::c_order_view(W.data(), 40, 40);
    library_run(dir / "full.h5", p, u, false);
    library_run(dir / "cut.h5", p, u, true);
    {
      auto f = amari::store::file::open_read(dir / "cut.h5");
      CHECK(f.status() == "interrupted");
      auto g = f.group_at("/network");
      CHECK(g.attr_string("weights_source") == "memory");
      CHECK(g.attr_string("bias_source") == "drawn");
      CHECK(g.read_doubles("W") == W);
    }
    const auto r = run_amari("simulate --resume cut.h5 --quiet", dir.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(dataset(dir / "full.h5", "/trajectory", "q") == dataset(dir / "cut.h5", "/trajectory", "q"));
    CHECK(dataset(dir / "full.h5", "/lyapunov", "exponents") == dataset(dir / "cut.h5", "/lyapunov", "exponents"));
  }
  SECTION("a W from a file is re-read, and refused when its checksum changed") {
    std::filesystem::copy_file(fixtures + "W.npy", dir / "w.npy");
    const amari::loaded_network net = amari::read_user_network(dir / "w.npy", "");
    const amari::user_network u = net.view();
    library_run(dir / "full.h5", p, u, false);
    library_run(dir / "cut.h5", p, u, true);
    // Another W of the same shape in its place: refused, the file stays resumable.
    std::filesystem::copy_file(fixtures + "W32_fortran.npy", dir / "w.npy", std::filesystem::copy_options::overwrite_existing);
    const auto bad = run_amari("simulate --resume cut.h5 --quiet", dir.path);
    CHECK(bad.status == 2);
    CHECK_THAT(bad.err, Catch::Contains("weights = " + dir / "w.npy" + ": has checksum fnv1a64:7d21a9ec53817cb7, but "
                                        "the run in cut.h5 was made with fnv1a64:df317e30dc67260a"));
    CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
    CHECK(amari::store::file::open_read(dir / "cut.h5").status() == "interrupted");
    // The original back: the run resumes to the uninterrupted one.
    std::filesystem::copy_file(fixtures + "W.npy", dir / "w.npy", std::filesystem::copy_options::overwrite_existing);
    const auto r = run_amari("simulate --resume cut.h5 --quiet", dir.path);
    INFO(r.err);
    REQUIRE(r.status == 0);
    CHECK(dataset(dir / "full.h5", "/trajectory", "q") == dataset(dir / "cut.h5", "/trajectory", "q"));
    CHECK(dataset(dir / "full.h5", "/trajectory", "h_final") == dataset(dir / "cut.h5", "/trajectory", "h_final"));
  }
}
