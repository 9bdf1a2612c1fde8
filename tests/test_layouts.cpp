// Each product's io layout module (include/amari/io/layout/*.hpp): what its writer puts into a
// file, its reader gives back, bit for bit, with the parameters read from the attributes.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "amari/io/layout/compare.hpp"
#include "amari/io/layout/deepnet.hpp"
#include "amari/io/layout/finite.hpp"
#include "amari/io/layout/dmft.hpp"
#include "amari/io/layout/maps.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "amari/io/layout/phase.hpp"

namespace {

namespace fs = std::filesystem;

// Equal element by element, NaN equal to NaN (undefined values are NaN in files).
bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

bool same(const std::optional<double>& a, const std::optional<double>& b) {
  return a.has_value() == b.has_value() && (!a || *a == *b);
}

// A fresh file of one product, written by `write`, then opened for reading.
template <class W>
amari::store::file round_trip(const std::string& name, W write) {
  const std::string path = "test_layouts_" + name + ".h5";
  {
    auto f = amari::store::file::create(path, {.force = true, .product = name});
    write(f);
    f.finish("complete");
  }
  return amari::store::file::open_read(path);
}

}  // namespace

TEST_CASE("layouts: /maps reads back what was written", "[layout]") {
  for (const char* phi : {"tanh", "relu"}) {
    amari::maps_params p;
    p.model.phi = amari::Activation::parse(phi);
    p.model.sigma_w = std::string(phi) == "relu" ? 1.2 : 1.7;
    const auto r = amari::solve_maps(p.model);
    const auto fps = amari::find_length_fixed_points(p.model);
    auto f = round_trip("maps", [&](auto& file) { amari::layout::maps::write(file, p, r, fps); });
    const auto back = amari::layout::maps::read(f);
    INFO(phi);
    CHECK(back.params.model.phi == p.model.phi);
    CHECK(back.params.model.sigma_w == p.model.sigma_w);
    CHECK(back.params.model.sigma_b == p.model.sigma_b);
    CHECK(same(back.result.q_star, r.q_star));
    CHECK(back.result.chi_1 == r.chi_1);
    CHECK(same(back.result.c_star, r.c_star));
    CHECK(same(back.result.chi_c, r.chi_c));
    CHECK(same(back.result.xi_c, r.xi_c));
    CHECK(same(back.result.xi_q, r.xi_q));
    CHECK(back.result.layers_to_1pct == r.layers_to_1pct);
    CHECK(back.result.phase == r.phase);
    CHECK(back.result.c_star_method == r.c_star_method);
    REQUIRE(back.fixed_points.points.size() == fps.points.size());
    for (std::size_t i = 0; i < fps.points.size(); ++i) {
      CHECK(back.fixed_points.points[i].q == fps.points[i].q);
      CHECK(back.fixed_points.points[i].kind == fps.points[i].kind);
    }
  }
}

TEST_CASE("layouts: /phase reads back what was written", "[layout]") {
  amari::phase_params p;
  p.sigma_w = amari::grid_axis::parse("0.5:3:5", "sigma_w");
  p.sigma_b = amari::grid_axis::parse("0:0.6:3", "sigma_b");
  const auto d = amari::compute_phase_diagram(p);
  auto f = round_trip("phase", [&](auto& file) { amari::layout::phase::write(file, p, d); });
  const auto back = amari::layout::phase::read(f);
  CHECK(back.params.sigma_w.spec() == p.sigma_w.spec());
  CHECK(back.params.sigma_b.spec() == p.sigma_b.spec());
  CHECK(back.diagram.sigma_w == d.sigma_w);
  CHECK(same(back.diagram.q_star, d.q_star));
  CHECK(same(back.diagram.chi_1, d.chi_1));
  CHECK(same(back.diagram.xi_c, d.xi_c));
  CHECK(back.diagram.phase == d.phase);
  CHECK(back.diagram.layers_to_1pct == d.layers_to_1pct);
  REQUIRE(back.diagram.edge.size() == d.edge.size());
  for (std::size_t i = 0; i < d.edge.size(); ++i) CHECK(back.diagram.edge[i].sigma_w == d.edge[i].sigma_w);
}

TEST_CASE("layouts: /deepnet reads back what was written", "[layout]") {
  amari::deepnet_params p;
  p.n = 50;
  p.layers = 4;
  p.nets = 3;
  p.seed = 7;
  const auto r = amari::run_deepnet(p);
  auto f = round_trip("deepnet", [&](auto& file) { amari::layout::deepnet::write(file, p, r); });
  const auto back = amari::layout::deepnet::read(f);
  CHECK(back.params.n == 50);
  CHECK(back.params.layers == 4);
  CHECK(back.params.seed == 7);
  for (const auto& a : amari::layout::deepnet::per_layer()) {
    INFO(a.name);
    CHECK(same(back.result.*a.member, r.*a.member));
  }
  for (const auto& a : amari::layout::deepnet::per_net()) {
    INFO(a.name);
    CHECK(same(back.result.*a.member, r.*a.member));
  }
  CHECK(same(back.result.fixed.q_star, r.fixed.q_star));
  CHECK(back.result.fixed.phase == r.fixed.phase);
  CHECK(back.result.curves.V == r.curves.V);
  CHECK(same(back.result.curves.C, r.curves.C));
}

TEST_CASE("layouts: /deepnet with a width sweep reads back its width axis", "[layout]") {
  amari::deepnet_params p;
  p.widths = {8, 12};
  p.n = 12;
  p.layers = 3;
  p.nets = 4;
  p.inputs = amari::input_kind::gaussian;
  const auto r = amari::run_deepnet(p);
  REQUIRE(r.sweep.widths == std::vector<std::int64_t>{8, 12});
  REQUIRE(r.sweep.var_q.size() == 2 * 4);
  auto f = round_trip("deepnet_sweep", [&](auto& file) { amari::layout::deepnet::write(file, p, r); });
  const auto back = amari::layout::deepnet::read(f);
  CHECK(back.params.inputs == amari::input_kind::gaussian);
  CHECK(back.params.widths == p.widths);
  CHECK(back.result.sweep.widths == r.sweep.widths);
  CHECK(same(back.result.sweep.var_q, r.sweep.var_q));
  CHECK(same(back.result.sweep.kurtosis_sem, r.sweep.kurtosis_sem));
  CHECK(same(back.result.sweep.theory_c_shift, r.sweep.theory_c_shift));
  const auto rec = amari::layout::deepnet::to_record(p, r);
  CHECK(rec.find("widths") != nullptr);
  CHECK(rec.find("theory_var_q") != nullptr);
}

TEST_CASE("layouts: /finite reads back what was written", "[layout]") {
  amari::finite_params p;
  p.layers = 5;
  p.inputs = amari::input_kind::gaussian;
  const auto r = amari::run_finite(p);
  auto f = round_trip("finite", [&](auto& file) { amari::layout::finite::write(file, p, r); });
  const auto back = amari::layout::finite::read(f);
  CHECK(back.params.layers == 5);
  CHECK(back.params.inputs == amari::input_kind::gaussian);
  for (const auto& a : amari::layout::finite::per_layer()) {
    INFO(a.name);
    CHECK(same(back.result.*a.member, r.*a.member));
  }
  // The correlation depth (attributes; the default parameters are chaotic: all finite).
  REQUIRE(std::isfinite(r.xi_c_shift));
  CHECK(back.result.c_star == r.c_star);
  CHECK(back.result.chi_c == r.chi_c);
  CHECK(back.result.xi_c == r.xi_c);
  CHECK(back.result.c_star_shift == r.c_star_shift);
  CHECK(back.result.chi_c_shift == r.chi_c_shift);
  CHECK(back.result.xi_c_shift == r.xi_c_shift);
}

TEST_CASE("layouts: /meanfield and /dmft read back what was written", "[layout]") {
  amari::meanfield_params mp;
  mp.model.w0 = 0.5;
  mp.settings.t_end = 2;
  const auto mr = amari::solve_meanfield(mp.model, mp.settings);
  const std::string note = amari::meanfield_network_note(mp.model, mr);
  amari::dmft_params dp;
  dp.settings.tau_max = 3;
  const auto dr = amari::solve_dmft(dp.model, dp.settings);
  auto f = round_trip("theories", [&](auto& file) {
    amari::layout::meanfield::write(file, mp, mr, note);
    amari::layout::dmft::write(file, dp, dr);
  });
  const auto m = amari::layout::meanfield::read(f);
  CHECK(m.params.model.w0 == 0.5);
  CHECK(m.params.settings.t_end == 2);
  CHECK(m.result.t == mr.t);
  CHECK(m.result.q == mr.q);
  CHECK(m.result.final_fixed_point == mr.final_fixed_point);
  REQUIRE(m.result.fixed_points.size() == mr.fixed_points.size());
  for (std::size_t i = 0; i < mr.fixed_points.size(); ++i) {
    CHECK(m.result.fixed_points[i].q == mr.fixed_points[i].q);
    CHECK(m.result.fixed_points[i].eigenvalues == mr.fixed_points[i].eigenvalues);
  }
  CHECK(m.note == note);
  const auto d = amari::layout::dmft::read(f);
  CHECK(d.params.settings.tau_max == 3);
  CHECK(d.result.stationary.delta_0 == dr.stationary.delta_0);
  CHECK(d.result.lyapunov == dr.lyapunov);
  CHECK(d.result.trajectory.delta == dr.trajectory.delta);
}

TEST_CASE("layouts: /compare reads back what was written", "[layout]") {
  amari::compare_params p;
  p.n = 60;
  p.layers = 3;
  p.nets = 3;  // >= 3: the finite_* rows apply and carry mean_field
  p.draws = 2;
  p.t_end = 8;
  p.iterations = 8;
  const auto r = amari::run_compare(p);
  auto f = round_trip("compare", [&](auto& file) { amari::layout::compare::write(file, p, r); });
  const auto back = amari::layout::compare::read(f);
  CHECK(back.params.n == 60);
  CHECK(back.params.transient == p.transient_time());
  CHECK(back.result.phase == r.phase);
  CHECK(same(back.result.q_net, r.q_net));
  CHECK(same(back.result.q_sim_sem, r.q_sim_sem));
  CHECK(same(back.result.acf_sim, r.acf_sim));
  CHECK(same(back.result.c12_tied, r.c12_tied));
  REQUIRE(back.result.rows.size() == r.rows.size());
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    CHECK(back.result.rows[i].name == r.rows[i].name);
    CHECK(same(back.result.rows[i].theory, r.rows[i].theory));
    CHECK(same(back.result.rows[i].sem, r.rows[i].sem));
    CHECK(same(back.result.rows[i].mean_field, r.rows[i].mean_field));
    CHECK(back.result.rows[i].note == r.rows[i].note);
  }
}
