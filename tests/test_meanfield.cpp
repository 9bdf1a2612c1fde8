// Amari's order-parameter ODEs against the shared reference (independent quadrature + DOP853 at
// 1e-12), closed forms (no coupling; the linear activation), the depth map's q*, an independent
// reduction of the fixed-point problem to one dimension (bistable cases), long integrations from
// several starts, and a finite-difference Jacobian.
#include <boost/math/tools/roots.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <complex>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "amari/theory/meanfield.hpp"
#include "amari/io/store.hpp"
#include "reference.hpp"
#include "cli_run.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::model_params;
using amari::meanfield_settings;
using amari::test::close_to;

namespace {

model_params params(const char* phi, double w0, double b0, double sw, double sb) {
  return {.phi = Activation::parse(phi), .sigma_w = sw, .sigma_b = sb, .w0 = w0, .b0 = b0};
}

// The binary in the test's working directory (relative -o paths land there), with stdout and
// stderr apart (tests/cli_run.hpp).
amari::test::cli_result run_cli(const std::string& args) {
  return amari::test::run_amari(args, std::filesystem::current_path());
}

// All fixed points by a second, independent route for bounded activations: for each m the
// q-equation has one root q(m) in [0, sigma_w^2 + sigma_b^2] (checked: a sign change), and the
// fixed points are the sign changes of F(m) = -m + w0 E[phi(sqrt(q(m)) z + m)] + b0 on a fine
// grid of m over [b0 - |w0|, b0 + |w0|], refined by TOMS 748.
std::vector<std::array<double, 2>> fixed_points_1d(const model_params& p) {
  using boost::math::tools::eps_tolerance;
  using boost::math::tools::toms748_solve;
  const double sw2 = p.sigma_w * p.sigma_w, sb2 = p.sigma_b * p.sigma_b;
  auto q_of = [&](double m) {
    auto h = [&](double q) { return sw2 * amari::E_phi2(p.phi, q, m) + sb2 - q; };
    const double h0 = h(0);
    if (h0 <= 0) return 0.0;
    boost::uintmax_t it = 200;
    const auto r = toms748_solve(h, 0.0, sw2 + sb2, h0, h(sw2 + sb2), eps_tolerance<double>(52), it);
    return 0.5 * (r.first + r.second);
  };
  auto F = [&](double m) { return -m + p.w0 * amari::E_phi(p.phi, q_of(m), m) + p.b0; };
  std::vector<std::array<double, 2>> out;
  const int n = 3001;
  const double lo = p.b0 - std::abs(p.w0) - 1e-6, hi = p.b0 + std::abs(p.w0) + 1e-6;
  double m_prev = lo, f_prev = F(lo);
  for (int i = 1; i < n; ++i) {
    const double m = lo + (hi - lo) * i / (n - 1), f = F(m);
    if ((f > 0) != (f_prev > 0)) {
      boost::uintmax_t it = 200;
      const auto r = toms748_solve(F, m_prev, m, f_prev, f, eps_tolerance<double>(52), it);
      const double mm = 0.5 * (r.first + r.second);
      out.push_back({mm, q_of(mm)});
    }
    m_prev = m;
    f_prev = f;
  }
  return out;
}

}  // namespace

TEST_CASE("meanfield: trajectories and fixed points match the shared reference", "[meanfield]") {
  const auto ref = amari::test::load_reference("amari_ode_sample.json");
  const std::string phi = ref["phi"];
  for (const auto& c : ref["cases"]) {
    const auto p = params(phi.c_str(), c["w0"], c["b0"], c["sigma_w"], c["sigma_b"]);
    meanfield_settings s;
    s.m0 = c["m0"];
    s.q0 = c["q0"];
    s.times = c["t"].get<std::vector<double>>();
    INFO("w0 = " << p.w0 << ", b0 = " << p.b0 << ", sigma_w = " << p.sigma_w << ", sigma_b = " << p.sigma_b);
    const auto r = amari::solve_meanfield(p, s);
    REQUIRE(r.t == s.times);
    for (std::size_t i = 0; i < r.t.size(); ++i) {
      INFO("t = " << r.t[i]);
      // Acceptance: 1e-8 relative at every sample. The reference is DOP853 at 1e-12 printed to 12
      // digits; our default tolerances aim at 1e-9 and reach ~1e-11, so 1e-9 (+ 1e-12 absolute for
      // m = 0) holds with margin and would catch a tolerance that is too loose.
      CHECK_THAT(r.m[i], close_to(c["m"][i], 1e-9, 1e-12));
      CHECK_THAT(r.q[i], close_to(c["q"][i], 1e-9, 1e-12));
    }
    REQUIRE(r.final_fixed_point);
    const auto& fp = r.fixed_points[*r.final_fixed_point];
    const auto& rf = c["fixed_point"];
    // Acceptance: 1e-9 (Newton with 1e-12 quadrature reaches ~1e-13).
    CHECK_THAT(fp.m, close_to(rf["m"], 1e-9, 1e-12));
    CHECK_THAT(fp.q, close_to(rf["q"], 1e-9, 1e-12));
    for (int k = 0; k < 2; ++k) {
      CHECK_THAT(fp.eigenvalues[k].real(), close_to(rf["eigenvalues_real"][k], 1e-9, 1e-12));
      CHECK_THAT(fp.eigenvalues[k].imag(), close_to(rf["eigenvalues_imag"][k], 1e-9, 1e-12));
    }
    CHECK(fp.stable == rf["stable"].get<bool>());
  }
}

TEST_CASE("meanfield: closed-form trajectories", "[meanfield]") {
  SECTION("no coupling (sigma_w = w0 = 0), any activation: relaxation at rates 1 and 2") {
    for (const char* phi : {"tanh", "relu", "hardtanh"}) {
      const auto p = params(phi, 0, 0.3, 0, 0.7);
      meanfield_settings s;
      s.m0 = -1.2;
      s.q0 = 2.5;
      s.t_end = 6;
      s.dt_out = 0.5;
      const auto r = amari::solve_meanfield(p, s);
      REQUIRE(r.t.size() == 13);
      for (std::size_t i = 0; i < r.t.size(); ++i) {
        const double t = r.t[i];
        CHECK_THAT(r.m[i], close_to(0.3 + (-1.2 - 0.3) * std::exp(-t), 1e-10, 1e-13));
        CHECK_THAT(r.q[i], close_to(0.49 + (2.5 - 0.49) * std::exp(-2 * t), 1e-10, 1e-13));
      }
      REQUIRE(r.fixed_points.size() == 1);
      CHECK_THAT(r.fixed_points[0].m, close_to(0.3, 1e-12));
      CHECK_THAT(r.fixed_points[0].q, close_to(0.49, 1e-12));
      CHECK(r.final_fixed_point == 0u);
    }
  }
  SECTION("linear activation, w0 = b0 = 0: q = q_inf + (q0 - q_inf + m0^2) e^{-2(1 - sigma_w^2) t} - m0^2 e^{-2t}") {
    // m = m0 e^{-t}; dq/dt = -2 (1 - sigma_w^2) q + 2 sigma_w^2 m^2 + 2 sigma_b^2.
    const double sw = 0.8, sb = 0.5, m0 = 0.9, q0 = 0.2, a = 1 - sw * sw, q_inf = sb * sb / a;
    const auto p = params("linear", 0, 0, sw, sb);
    meanfield_settings s;
    s.m0 = m0;
    s.q0 = q0;
    s.times = {0.1, 1, 3, 10, 30};
    const auto r = amari::solve_meanfield(p, s);
    for (std::size_t i = 0; i < r.t.size(); ++i) {
      const double t = r.t[i];
      CHECK_THAT(r.m[i], close_to(m0 * std::exp(-t), 1e-10, 1e-14));
      CHECK_THAT(r.q[i], close_to(q_inf + (q0 - q_inf + m0 * m0) * std::exp(-2 * a * t) - m0 * m0 * std::exp(-2 * t), 1e-10));
    }
    REQUIRE(r.fixed_points.size() == 1);
    CHECK_THAT(r.fixed_points[0].q, close_to(q_inf, 1e-12));
    // Jacobian [[-1, 0], [0, -2a]] at m = 0.
    CHECK_THAT(r.fixed_points[0].eigenvalues[0].real(), close_to(-1.0, 1e-12));
    CHECK_THAT(r.fixed_points[0].eigenvalues[1].real(), close_to(-2 * a, 1e-12));
  }
}

TEST_CASE("meanfield: with w0 = b0 = 0 the fixed point is the depth map's q*", "[meanfield]") {
  // The definition q* = sigma_w^2 E[phi(sqrt(q*) z)^2] + sigma_b^2 (every activation), and the
  // shared maps reference values.
  for (const char* phi : {"tanh", "erf", "relu", "hardtanh", "linear", "tanh:g=1.5"})
    for (auto [sw, sb] : {std::pair{0.8, 0.2}, {1.3, 0.3}, {2.0, 0.05}, {1.1, 0.0}}) {
      const auto p = params(phi, 0, 0, sw, sb);
      if (!p.phi.bounded() && sw * sw * amari::E_phi2(p.phi, 1.0) >= 1) continue;  // q* = infinity
      INFO(phi << " sigma_w = " << sw << ", sigma_b = " << sb);
      const auto fps = amari::find_fixed_points(p);
      // sigma_b = 0 and phi(0) = 0: q = 0 is a fixed point too, unstable once sigma_w phi'(0) > 1,
      // when the positive q* exists.
      const bool zero_too = sb == 0 && p.phi.phi(0) == 0 && p.phi.bounded() && sw * p.phi.dphi0() > 1;
      REQUIRE(fps.size() == (zero_too ? 2u : 1u));
      const auto& fp = fps.back();  // sorted by (m, q): the largest q
      const double q = fp.q;
      CHECK(fp.m == 0.0);
      CHECK_THAT(q, close_to(sw * sw * amari::E_phi2(p.phi, q) + sb * sb, 1e-12, 1e-14));
      CHECK_THAT(fp.chi_1, close_to(sw * sw * amari::E_dphi2(p.phi, q), 1e-12));
      if (zero_too) {
        CHECK(q > 1e-3);
        CHECK(fps[0].q == 0.0);
        CHECK(!fps[0].stable);
        // Jacobian at (0, 0): diag(-1, 2 (sigma_w^2 phi'(0)^2 - 1)).
        CHECK_THAT(fps[0].eigenvalues[1].real(), close_to(2 * (sw * sw * p.phi.dphi0() * p.phi.dphi0() - 1), 1e-12));
        CHECK(fp.stable);
      }
    }
  const auto ref = amari::test::load_reference("maps_sample.json");
  for (const auto& e : ref["entries"]) {
    const auto p = params(e["phi"].get<std::string>().c_str(), 0, 0, e["sigma_w"], e["sigma_b"]);
    INFO(e["phi"] << " sigma_w = " << e["sigma_w"] << ", sigma_b = " << e["sigma_b"]);
    meanfield_settings s;
    s.t_end = 5;
    s.dt_out = 5;
    const auto r = amari::solve_meanfield(p, s);
    REQUIRE(r.final_fixed_point);
    const auto& fp = r.fixed_points[*r.final_fixed_point];
    // 12 reference digits.
    CHECK_THAT(fp.q, close_to(e["q_star"], 1e-10, 1e-13));
    CHECK_THAT(fp.chi_1, close_to(e["chi_1"], 1e-10));
    CHECK(fp.network_stable == (e["chi_1"].get<double>() < 1));
  }
  SECTION("tanh, sigma_w = 2.5, sigma_b = 0.3: the ODE's stable q* is unstable in the network") {
    const auto fps = amari::find_fixed_points(params("tanh", 0, 0, 2.5, 0.3));
    REQUIRE(fps.size() == 1);
    CHECK_THAT(fps[0].q, close_to(4.07912387528, 1e-10));
    CHECK(fps[0].stable);
    CHECK(!fps[0].network_stable);
  }
}

TEST_CASE("meanfield: all fixed points, bistable cases included", "[meanfield]") {
  struct c {
    double w0, b0, sw, sb;
    std::size_t count;
  };
  // Symmetric and tilted double wells, one just past the pitchfork (w0_c = 1.01305 for
  // sigma_w = 0.5, sigma_b = 0.1), large w0 with sigma_w > 1, and monostable controls.
  for (const auto& k : {c{3, 0, 0.5, 0.1, 3}, c{2, 0.1, 1, 0.2, 3}, c{1.0135, 0, 0.5, 0.1, 3},
                        c{5, -0.5, 1.5, 0.3, 3}, c{8, 1, 2.5, 0.5, 3}, c{1.0, 0, 0.5, 0.1, 1},
                        c{2, 1.5, 1, 0.2, 1}, c{-3, 0.2, 1, 0.3, 1}, c{-8, 0.5, 2, 0, 1}}) {
    const auto p = params("tanh", k.w0, k.b0, k.sw, k.sb);
    INFO("w0 = " << k.w0 << ", b0 = " << k.b0 << ", sigma_w = " << k.sw << ", sigma_b = " << k.sb);
    const auto fps = amari::find_fixed_points(p);
    const auto ref = fixed_points_1d(p);
    REQUIRE(ref.size() == k.count);
    REQUIRE(fps.size() == ref.size());
    for (std::size_t i = 0; i < fps.size(); ++i) {
      // Near the pitchfork the Jacobian is nearly singular (eigenvalue ~7e-4): 1e-13 residuals
      // move the root by ~1e-10; elsewhere both routes agree to ~1e-14.
      CHECK_THAT(fps[i].m, close_to(ref[i][0], 1e-9, 1e-9));
      CHECK_THAT(fps[i].q, close_to(ref[i][1], 1e-9, 1e-12));
    }
    // Stability alternates along m (stable, saddle, stable) for a double well.
    if (k.count == 3) {
      CHECK(fps[0].stable);
      CHECK(!fps[1].stable);
      CHECK(fps[1].eigenvalues[0].real() < 0);
      CHECK(fps[1].eigenvalues[1].real() > 0);
      CHECK(fps[2].stable);
    }

    SECTION("the analytic Jacobian against central differences of the right-hand side") {
      const amari::amari_ode f(p);
      for (const auto& fp : fps) {
        const auto J = amari::meanfield_jacobian(p, fp.m, fp.q);
        const double h = 1e-5;
        for (int col = 0; col < 2; ++col) {
          amari::meanfield_state xp{fp.m, fp.q}, xm{fp.m, fp.q}, fp_{}, fm{};
          xp[col] += h;
          xm[col] -= h;
          f(xp, fp_, 0);
          f(xm, fm, 0);
          for (int row = 0; row < 2; ++row) {
            // Truncation h^2 ~ 1e-10, rounding 1e-13 / h = 1e-8.
            CHECK_THAT(J[row * 2 + col], close_to((fp_[row] - fm[row]) / (2 * h), 1e-6, 1e-7));
          }
        }
      }
    }
    SECTION("long integrations from several starts end on a listed stable fixed point") {
      std::vector<bool> reached(fps.size(), false);
      for (double m0 : {-2.0, -0.7, -0.05, 0.05, 0.7, 2.0})
        for (double q0 : {0.01, 1.0, 5.0}) {
          meanfield_settings s;
          s.m0 = k.b0 + m0 * std::max(1.0, std::abs(k.w0));
          s.q0 = q0;
          s.t_end = 400;
          s.dt_out = 400;
          const auto r = amari::solve_meanfield(p, s);
          const double m = r.m.back(), q = r.q.back();
          bool on_one = false;
          for (std::size_t i = 0; i < fps.size(); ++i)
            if (fps[i].stable && std::abs(m - fps[i].m) < 1e-7 * (1 + std::abs(m)) && std::abs(q - fps[i].q) < 1e-7 * (1 + q)) {
              on_one = true;
              reached[i] = true;
              REQUIRE(r.final_fixed_point);
              CHECK(*r.final_fixed_point == i);
            }
          INFO("from (" << s.m0 << ", " << q0 << ") to (" << m << ", " << q << ")");
          CHECK(on_one);
        }
      for (std::size_t i = 0; i < fps.size(); ++i)
        if (fps[i].stable) CHECK(reached[i]);
    }
  }
}

TEST_CASE("meanfield: a stable spiral (complex eigenvalues)", "[meanfield]") {
  // relu with strong inhibition (w0 = -8): the fixed point is a focus; its eigenvalues are a
  // conjugate pair, listed with the negative imaginary part first, and they are those of the
  // finite-difference Jacobian.
  const auto p = params("relu", -8, 0.5, 2, 0);
  const auto fps = amari::find_fixed_points(p);
  REQUIRE(fps.size() == 1);
  const auto& ev = fps[0].eigenvalues;
  CHECK(ev[0].imag() < -0.1);
  CHECK(ev[1] == std::conj(ev[0]));
  CHECK(fps[0].stable);
  const amari::amari_ode f(p);
  const double h = 1e-6;
  std::array<double, 4> J{};
  for (int col = 0; col < 2; ++col) {
    amari::meanfield_state xp{fps[0].m, fps[0].q}, xm = xp, fp_{}, fm{};
    xp[col] += h;
    xm[col] -= h;
    f(xp, fp_, 0);
    f(xm, fm, 0);
    for (int row = 0; row < 2; ++row) J[row * 2 + col] = (fp_[row] - fm[row]) / (2 * h);
  }
  const double tr = J[0] + J[3], det = J[0] * J[3] - J[1] * J[2];
  CHECK_THAT(ev[0].real(), close_to(tr / 2, 1e-6));
  CHECK_THAT(-ev[0].imag(), close_to(std::sqrt(det - tr * tr / 4), 1e-6));
  // The trajectory spirals in: m - m* changes sign on the way.
  meanfield_settings s;
  s.m0 = 1.5;
  s.q0 = 0.2;
  s.t_end = 15;
  s.dt_out = 0.05;
  const auto r = amari::solve_meanfield(p, s);
  int sign_changes = 0;
  for (std::size_t i = 1; i < r.m.size(); ++i)
    sign_changes += (r.m[i] - fps[0].m > 0) != (r.m[i - 1] - fps[0].m > 0);
  CHECK(sign_changes >= 2);
  CHECK(r.final_fixed_point == 0u);
}

TEST_CASE("meanfield: output times and invalid input", "[meanfield]") {
  meanfield_settings s;
  s.t_end = 1;
  s.dt_out = 0.3;
  CHECK(s.output_times() == std::vector<double>{0, 0.3, 0.6, 0.8999999999999999, 1});
  s.times = {0.5, 2};
  const auto r = amari::solve_meanfield(params("tanh", 0, 0, 1, 0), s);
  CHECK(r.t == s.times);
  using amari::InvalidArgument;
  auto bad = [](auto mutate) {
    meanfield_settings t;
    mutate(t);
    return t;
  };
  const auto p = params("tanh", 0, 0, 1, 0);
  CHECK_THROWS_AS(amari::solve_meanfield(p, bad([](auto& t) { t.times = {1, 0.5}; })), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(p, bad([](auto& t) { t.times = {-1}; })), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(p, bad([](auto& t) { t.q0 = -0.1; })), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(p, bad([](auto& t) { t.rtol = 0; })), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(p, bad([](auto& t) { t.dt_out = 0; })), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(params("tanh", 0, 0, -1, 0), {}), InvalidArgument);
  CHECK_THROWS_AS(amari::solve_meanfield(params("tanh", INFINITY, 0, 1, 0), {}), InvalidArgument);
  // relu with sigma_w^2 / 2 > 1: q grows without bound.
  CHECK_THROWS_AS(amari::solve_meanfield(params("relu", 0, 0, 2, 0.1), bad([](auto& t) { t.t_end = t.dt_out = 2000; })),
                  amari::NumericalError);
}

TEST_CASE("amari meanfield: the command's JSON contract and the network note", "[meanfield][cli]") {
  const auto r = run_cli("meanfield --phi tanh --w0 2 --b0 0.1 --sigma-w 1 --sigma-b 0.2 --m0 0.5 --q0 0.5 "
                         "--times 0,0.5,1,2,5,10,20 --json");
  REQUIRE(r.status == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"t", "m", "q", "fixed_points", "final_fixed_point"}) CHECK(j.contains(key));
  CHECK(j["t"].size() == 7);
  CHECK_THAT(j["m"][6].get<double>(), close_to(1.78318243709, 1e-9));
  REQUIRE(j["fixed_points"].size() == 3);
  for (const auto& f : j["fixed_points"]) {
    for (const char* key : {"m", "q", "eigenvalues", "stable"}) CHECK(f.contains(key));
    CHECK(f["eigenvalues"].size() == 2);
    CHECK(f["eigenvalues"][0].size() == 2);
  }
  CHECK(j["final_fixed_point"] == 2);
  CHECK(j["note"].is_null());

  // tanh, sigma_w = 2: the ODE's q* = 2.1215 is a stable fixed point of the ODE (the other one is
  // the unstable q = 0), but chi_1 > 1.
  const auto c = nlohmann::json::parse(run_cli("meanfield --phi tanh --sigma-w 2 --json").out);
  REQUIRE(c["fixed_points"].size() == 2);
  REQUIRE(c["final_fixed_point"] == 1);
  CHECK(c["fixed_points"][0]["q"] == 0.0);
  CHECK(c["fixed_points"][0]["stable"] == false);
  CHECK_THAT(c["fixed_points"][1]["q"].get<double>(), close_to(2.12147356820, 1e-10));
  CHECK(c["fixed_points"][1]["stable"] == true);
  CHECK(c["fixed_points"][1]["network_stable"] == false);
  const std::string note = c["note"];
  CHECK(note.find("unstable in the network") != std::string::npos);
  CHECK(note.find("amari dmft") != std::string::npos);
  const auto text = run_cli("meanfield --phi tanh --sigma-w 2");
  CHECK(text.status == 0);
  CHECK(text.out.find("amari dmft") != std::string::npos);

  CHECK(run_cli("meanfield --q0 -1").status == 2);
  CHECK(run_cli("meanfield --times 1,0.5").status == 2);
  CHECK(run_cli("meanfield --times 1,2 --t-end 5").status == 2);
  const auto bad = run_cli("meanfield --phi tahn");
  CHECK(bad.status == 2);
  CHECK(bad.err.find("phi") != std::string::npos);
}

TEST_CASE("amari meanfield -o: the /meanfield layout of docs/FORMAT.md", "[meanfield][cli]") {
  const std::string path = "meanfield_cli_test.h5";
  std::remove(path.c_str());
  const std::string args = "meanfield --phi tanh --w0 2 --b0 0.1 --sigma-w 1 --sigma-b 0.2 --m0 0.5 --q0 0.5 "
                           "--times 0,0.5,1,2,5,10,20 --quiet -o " + path;
  REQUIRE(run_cli(args).status == 0);
  {
    auto f = amari::store::file::open_read(path);
    CHECK(f.status() == "complete");
    auto g = f.group_at("/meanfield");
    CHECK(g.attr_string("phi") == "tanh");
    CHECK(g.attr_double("w0") == 2.0);
    CHECK(g.attr_int("final_fixed_point") == 2);
    CHECK(g.read_doubles("t") == std::vector<double>{0, 0.5, 1, 2, 5, 10, 20});
    CHECK_THAT(g.read_doubles("m").back(), close_to(1.78318243709, 1e-9));
    CHECK_THAT(g.read_doubles("q").back(), close_to(0.815155289808, 1e-9));
    auto fg = f.group_at("/meanfield/fixed_points");
    CHECK(fg.shape("eigenvalues_real") == std::vector<std::uint64_t>{3, 2});
    CHECK_THAT(fg.read_doubles("eigenvalues_real")[4], close_to(-2.08207518172, 1e-9));
    CHECK(fg.read_ints("stable") == std::vector<std::int64_t>{1, 0, 1});
    CHECK(f.info("/meanfield/q").dims == std::vector<std::string>{"t"});
  }
  // An existing file is refused without --force (and kept), replaced with it.
  const auto again = run_cli(args);
  CHECK(again.status != 0);
  CHECK(again.err.find("--force") != std::string::npos);
  CHECK(run_cli(args + " --force").status == 0);
  // Bad input: exit 2 and no file.
  std::remove(path.c_str());
  CHECK(run_cli("meanfield --rtol 0 -o " + path).status == 2);
  CHECK(!std::ifstream(path).good());
}
