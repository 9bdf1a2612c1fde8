// amari compare: every row of the table, theory against simulation, in the ordered and in the
// chaotic phase with tanh; the tied map's mean-field iteration against the depth map; the JSON
// contract of the CLI, the HDF5 round trip, and refused input.
//
// Tolerances (tests/tolerance.hpp). A row passes when |simulation - theory| <= k sem + a, with
//   k: each phase test compares m rows at once (9 ordered, 8 chaotic), and a row's standard error
//      comes from D = 6 draws (the time pictures and the tied net: (simulation - theory) / sem is
//      Student-t with D - 1 = 5 degrees of freedom) or from 8 nets (the untied deep net: 7). So
//      k = bonferroni_k(m, D - 1) ~ 11 or bonferroni_k(m, nets - 1) ~ 7.8: a correct code fails
//      a phase test for at most 1 seed in 1000. The seeds are fixed, so the tests are
//      deterministic; the margin makes a correct change of the random streams very unlikely to
//      break them. (With so few draws t_5's tails are heavy: the k that buys this is large. More
//      draws would tighten it, at the cost of run time.)
//   a: the deterministic finite-size and finite-time bias of each measurement, stated per row with
//      its reason (docs/compare.md derives them): O(1/N) for averages of quadratic quantities,
//      O(sqrt(log N / N)) for the edge of the spectrum in the ordered phase, the finite time
//      windows for the Lyapunov exponents.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "amari/sim/compare.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/theory/finite.hpp"
#include "amari/theory/maps.hpp"
#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "amari/io/store.hpp"
#include "cli_run.hpp"
#include "tolerance.hpp"

using amari::Activation;
using amari::compare_params;
using amari::compare_result;
using amari::test::bonferroni_k;
using amari::test::close_to;
using amari::test::within_se;

namespace {

compare_params base(double sigma_w, double sigma_b) {
  compare_params p;
  p.model.phi = Activation::parse("tanh");
  p.model.sigma_w = sigma_w;
  p.model.sigma_b = sigma_b;
  p.n = 1000;
  p.layers = 25;
  p.nets = 8;
  p.replicas = 2;
  p.draws = 6;
  p.t_end = 40;
  p.iterations = 60;
  p.seed = 3;
  return p;
}

const amari::compare_row& row(const compare_result& r, const std::string& name) {
  for (const auto& x : r.rows)
    if (x.name == name) return x;
  FAIL("no row " << name);
  return r.rows.front();
}

// The k of one phase test's rows (see the top): standard errors over draws or over nets.
struct row_k {
  double draws, nets;
  row_k(int rows, const compare_params& p)
      : draws(bonferroni_k(rows, double(p.draws - 1))), nets(bonferroni_k(rows, double(p.nets - 1))) {}
};

// |simulation - theory| <= k sem + allowance, with a readable failure.
void agrees(const compare_result& r, const std::string& name, double k, double allowance) {
  const auto& x = row(r, name);
  INFO(name << ": theory " << (x.theory ? *x.theory : NAN) << ", simulation " << (x.simulation ? *x.simulation : NAN)
            << ", sem " << (x.sem ? *x.sem : NAN) << "; " << x.note);
  REQUIRE(x.applies());
  REQUIRE(x.sem);
  CHECK_THAT(*x.simulation, within_se(*x.theory, *x.sem, k, allowance));
}

void not_applicable(const compare_result& r, const std::string& name) {
  const auto& x = row(r, name);
  INFO(name << ": " << x.note);
  CHECK(!x.applies());
  CHECK(x.note.rfind("n/a: ", 0) == 0);
}


std::string temp_dir(const std::string& tag) {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("amari_compare_" + tag + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace

TEST_CASE("compare: the tied net's mean-field map is the depth map when w0 = b0 = 0", "[compare]") {
  const auto phi = Activation::parse("tanh");
  const auto t = amari::iterate_tied_map({.phi = phi, .sigma_w = 1.7, .sigma_b = 0.4}, 0, 0.8, 12);
  const auto d = amari::iterate_maps({.phi = phi, .sigma_w = 1.7, .sigma_b = 0.4}, 0.8, 0.3, 12);
  REQUIRE(t.q.size() == d.q.size());
  for (std::size_t k = 0; k < t.q.size(); ++k) {
    CHECK(t.m[k] == 0);  // E[tanh] = 0 at m = 0: m stays exactly 0
    // Same expectation, same closed form path: agreement to rounding.
    CHECK_THAT(t.q[k], close_to(d.q[k], 1e-13, 0));
  }
  // With a mean: the map's fixed point is the fixed point of Amari's ODE (same right-hand side
  // set to zero), checked through the ODE's own residual.
  const auto u = amari::iterate_tied_map({.phi = phi, .sigma_w = 0.6, .sigma_b = 0.3, .w0 = 0.5, .b0 = 0.2}, 0, 1, 400);
  const double m = u.m.back(), q = u.q.back();
  CHECK_THAT(m, close_to(0.5 * amari::E_phi(phi, q, m) + 0.2, 1e-12, 1e-14));
  CHECK_THAT(q, close_to(0.36 * amari::E_phi2(phi, q, m) + 0.09, 1e-12, 1e-14));
}

TEST_CASE("compare: ordered phase (tanh, sigma_w = 0.8, sigma_b = 0.3), every row within its error", "[compare]") {
  const compare_params p = base(0.8, 0.3);
  const compare_result r = amari::run_compare(p);
  const row_k k(9, p);  // 9 rows compared: 7 with errors over draws, 2 (depth_*) over nets
  REQUIRE(r.phase == "ordered");
  REQUIRE(r.depth_phase == "ordered");
  // w0 = b0 = 0: Amari's fixed point is the depth map's (same equation; both solved to ~1e-12).
  REQUIRE(r.q_star);
  CHECK_THAT(*r.q_star, close_to(*r.depth_q_star, 1e-9, 1e-12));
  CHECK_THAT(r.chi_1, close_to(r.depth_chi_1, 1e-9, 0));
  // Population variance about m of a static state: E[mean_i (h_i - m)^2] = q* (1 - 1/N) plus the
  // O(1/N) corrections of the fixed point: allowance 3 q*/N.
  agrees(r, "static_variance", k.draws, 3 * *r.q_star / p.n);
  // m fluctuates around 0 by O(sqrt(q*/N)) per draw; that is its s.e.: no allowance.
  agrees(r, "static_mean", k.draws, 0);
  // The rightmost eigenvalue of -1 + W diag(phi'(h*)) at finite N: the circular law's edge moves
  // by O(sqrt(chi_1 log N / N)) (~0.04 sqrt(chi_1) at N = 1000), and the exponent measured over a
  // window of 30 time units mixes the eigenvalues near the edge (O(1/window)): allowance 0.06.
  agrees(r, "lyapunov_time", k.draws, 0.06);
  // Both replicas reach the one fixed point: 1 - c decays like exp(-2 (1 - sqrt chi_1) t) (the
  // squared distance of the replicas), so the window average from t = transient is 1 up to that.
  agrees(r, "replica_overlap", k.draws, std::exp(-2 * (1 - std::sqrt(r.chi_1)) * p.transient_time()));
  // Deep net: q^L within O(1/N) (Jensen on the chi-square of |W x|^2): 3 q*/N; the per-layer
  // exponent has the bias E ln(chi^2_N / N) / 2 = -1/(2N) + O(1/N^2) and the settling criterion 1e-3.
  agrees(r, "depth_variance", k.nets, 3 * *r.depth_q_star / p.n);
  agrees(r, "depth_lambda", k.nets, 1e-3 + 1.0 / p.n);
  // Tied net: the same fixed point; its exponent per iteration is the log of the spectral radius
  // of W diag(phi'), whose finite-N edge moves by O(sqrt(log N / N)) relative: allowance 0.05.
  agrees(r, "tied_variance", k.draws, 3 * *r.q_star / p.n);
  agrees(r, "tied_correlation", k.draws, 1e-6);
  agrees(r, "tied_lambda", k.draws, 0.05);
  not_applicable(r, "delta_0");
  not_applicable(r, "decay_time");
}

TEST_CASE("compare: chaotic phase (tanh, sigma_w = 2, sigma_b = 0), every row within its error", "[compare]") {
  const compare_params p = base(2.0, 0.0);
  const compare_result r = amari::run_compare(p);
  const row_k k(8, p);  // 8 rows compared: 6 with errors over draws, 2 (depth_*) over nets
  REQUIRE(r.phase == "chaotic");
  REQUIRE(r.depth_phase == "chaotic");
  not_applicable(r, "static_variance");
  not_applicable(r, "static_mean");
  // Delta_0 = <h^2>: finite-N corrections O(1/N) relative (a few 1e-3 at N = 1000): 0.01 Delta_0.
  const auto& d0 = row(r, "delta_0");
  REQUIRE(d0.theory);
  agrees(r, "delta_0", k.draws, 0.01 * *d0.theory);
  // The decay time: O(1/N) finite-size terms, plus the sampling (dt_out = 0.1, linear
  // interpolation of a smooth curve: < 0.01).
  agrees(r, "decay_time", k.draws, 0.05);
  // The replica overlap relaxes over times much longer than the run: not compared.
  not_applicable(r, "replica_overlap");
  // The chaotic Lyapunov exponent converges slowly in N (O(1/N) corrections with a large
  // coefficient, Sompolinsky et al. 1988): allowance 0.03.
  agrees(r, "lyapunov_time", k.draws, 0.03);
  agrees(r, "depth_variance", k.nets, 3 * *r.depth_q_star / p.n);
  agrees(r, "depth_lambda", k.nets, 1e-3 + 1.0 / p.n);
  // Tied net in its chaotic state: q and c are the depth maps' q*, c* (asymmetric couplings: the
  // tied weights' correlations are O(1/N)); its exponent per iteration is (1/2) ln chi_1 at q*.
  agrees(r, "tied_variance", k.draws, 0.01 * *r.depth_q_star);
  agrees(r, "tied_correlation", k.draws, 0.01);
  agrees(r, "tied_lambda", k.draws, 0.02);
}

TEST_CASE("compare: every phase the code can give is in the documented lists", "[compare]") {
  // The header's comment on compare_result::phase / depth_phase and docs/compare.md ("The phase")
  // list the values; the code names a phase only through to_string(time_phase) and
  // to_string(depth_phase), so every enumerator's name must be in both lists.
  auto slurp = [](const std::string& rel) {
    std::ifstream in(std::string(AMARI_SOURCE_DIR) + "/" + rel);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  const std::string header = slurp("include/amari/sim/compare.hpp"), doc = slurp("docs/compare.md");
  auto quote = [](std::string_view v) {  // "v" (appended piecewise: g++ 12 misreads "\"" + s, -Wrestrict)
    std::string q;
    q += '"';
    q.append(v);
    q += '"';
    return q;
  };
  // The comment of one field: from its declaration to the next declaration.
  auto field_comment = [&](const std::string& decl) {
    const auto at = header.find(decl);
    REQUIRE(at != std::string::npos);
    return header.substr(at, header.find(";", header.find("\n", at)) - at);
  };
  const std::string phase_doc = field_comment("std::string phase;"),
                    depth_doc = field_comment("std::string depth_phase;");
  const auto section_at = doc.find("## The phase");
  REQUIRE(section_at != std::string::npos);
  const std::string section = doc.substr(section_at, doc.find("\n## ", section_at + 1) - section_at);
  // All enumerators: the array lists each one once, in order, up to the last.
  REQUIRE(std::size(amari::all_time_phases) == std::size_t(amari::time_phase::unbounded) + 1);
  for (std::size_t k = 0; k < std::size(amari::all_time_phases); ++k) {
    REQUIRE(amari::all_time_phases[k] == amari::time_phase(k));
    const std::string quoted = quote(to_string(amari::all_time_phases[k]));
    INFO("time phase " << quoted);
    CHECK_THAT(phase_doc, Catch::Contains(quoted));
    std::string item = "- ";
    item += quoted;
    item += ':';
    CHECK_THAT(section, Catch::Contains(item));
  }
  for (auto p : {amari::depth_phase::ordered, amari::depth_phase::critical, amari::depth_phase::chaotic,
                 amari::depth_phase::divergent}) {
    const std::string quoted = quote(to_string(p));
    INFO("depth phase " << quoted);
    CHECK_THAT(depth_doc, Catch::Contains(quoted));
    CHECK_THAT(section, Catch::Contains(quoted));
  }
  static_assert(int(amari::depth_phase::divergent) == 3, "a new depth phase: add it to the loop above");
  // And the code gives them: "unstable" (tanh, w0 = 2: m = 0 is kept by symmetry while
  // w0 E[phi'] = 2 E[tanh'] > 1 would carry it away; chi_1 = 0.25 E[tanh'^2] < 1) and "unbounded"
  // (relu above its edge: q grows without bound), as small runs.
  compare_params p;
  p.n = 200;
  p.layers = 6;
  p.nets = 3;
  p.draws = 2;
  p.t_end = 10;
  p.iterations = 10;
  p.seed = 4;
  p.model.phi = Activation::parse("tanh");
  p.model.sigma_w = 0.5;
  p.model.sigma_b = 0;
  p.model.w0 = 2;
  const compare_result u = amari::run_compare(p);
  CHECK(u.phase == "unstable");
  CHECK(u.chi_1 < 1);
  p.model.phi = Activation::parse("relu");
  p.model.sigma_w = 2;
  p.model.sigma_b = 0.3;
  p.model.w0 = 0;
  const compare_result d = amari::run_compare(p);
  CHECK(d.phase == "unbounded");
  CHECK(d.depth_phase == "divergent");
}

TEST_CASE("compare: invalid parameters are refused naming the field", "[compare]") {
  auto refuses = [](auto change, const std::string& message) {
    compare_params p = base(2, 0.3);
    change(p);
    try {
      p.validate();
      FAIL("accepted: " << message);
    } catch (const amari::InvalidArgument& e) {
      CHECK(std::string(e.what()) == message);
    }
  };
  refuses([](compare_params& q) { q.n = 1; }, "n = 1: must be an integer in [2, 1000000]");
  refuses([](compare_params& q) { q.replicas = 1; }, "replicas = 1: must be an integer in [2, 4096]");
  refuses([](compare_params& q) { q.draws = 1; }, "draws = 1: must be an integer in [2, 100000]");
  refuses([](compare_params& q) { q.nets = 1; }, "nets = 1: must be an integer in [2, 1000000]");
  refuses([](compare_params& q) { q.c0 = 1; }, "c0 = 1: must be a number in (-1, 1)");
  refuses([](compare_params& q) { q.model.sigma_w = -1; }, "sigma_w = -1: must be a finite number >= 0");
  refuses([](compare_params& q) { q.t_end = 0; }, "t_end = 0: must be a finite number > 0");
  refuses([](compare_params& q) { q.transient = 60; }, "transient = 60: must be < t_end = 40 (negative: t_end / 4)");
  refuses([](compare_params& q) { q.iterations = 2; }, "iterations = 2: must be an integer in [4, 10000000]");
}

TEST_CASE("amari compare: JSON table, HDF5 round trip, refused input", "[compare][cli]") {
  const std::string dir = temp_dir("cli");
  const std::string path = dir + "/cmp.h5";
  const std::string args = "compare --phi tanh --sigma-w 2 --sigma-b 0.3 --n 200 --layers 6 --nets 3 --draws 2 "
                           "--t-end 10 --iterations 10 --seed 4";
  const auto run = amari::test::run_amari(args + " --json -o " + path, dir);
  INFO(run.err);
  REQUIRE(run.status == 0);
  const auto j = nlohmann::json::parse(run.out);
  CHECK(j["phase"] == "chaotic");
  REQUIRE(j["rows"].is_array());
  std::map<std::string, nlohmann::json> rows;
  for (const auto& x : j["rows"]) {
    for (const char* key : {"name", "theory", "simulation", "difference", "sem", "mean_field", "units", "note"})
      CHECK(x.contains(key));
    rows[x["name"]] = x;
  }
  for (const char* name : {"static_variance", "static_mean", "lyapunov_time", "delta_0", "replica_overlap",
                           "decay_time", "depth_variance", "depth_lambda", "tied_variance", "tied_correlation",
                           "tied_lambda", "finite_mean_q", "finite_var_q", "finite_kurtosis", "finite_mean_c"})
    CHECK(rows.count(name) == 1);
  // The finite-width rows carry the infinite-width value; the others null.
  CHECK(rows["finite_mean_q"]["mean_field"].is_number());
  CHECK(rows["finite_var_q"]["mean_field"].get<double>() == 0);
  CHECK(rows["depth_variance"]["mean_field"].is_null());
  // A row that does not apply has null numbers and says why.
  CHECK(rows["static_variance"]["theory"].is_null());
  CHECK(rows["static_variance"]["simulation"].is_null());
  CHECK(rows["static_variance"]["note"].get<std::string>().rfind("n/a: ", 0) == 0);
  CHECK(rows["decay_time"]["theory"].is_null());  // sigma_b > 0: the plateau is not measurable
  // A row that applies: difference = simulation - theory.
  const auto& d0 = rows["delta_0"];
  REQUIRE(d0["theory"].is_number());
  CHECK(d0["difference"].get<double>() == d0["simulation"].get<double>() - d0["theory"].get<double>());

  // The library gives the same numbers (same seed: bit for bit), and the file holds them.
  compare_params p;
  p.model.phi = Activation::parse("tanh");
  p.model.sigma_w = 2;
  p.model.sigma_b = 0.3;
  p.n = 200;
  p.layers = 6;
  p.nets = 3;
  p.draws = 2;
  p.t_end = 10;
  p.iterations = 10;
  p.seed = 4;
  const compare_result r = amari::run_compare(p);
  CHECK(r.rows.size() == j["rows"].size());
  {
    auto f = amari::store::file::open_read(path);
    CHECK(f.status() == "complete");
    CHECK(f.root().attr_string("product") == "compare");
    auto g = f.group_at("/compare");
    CHECK(g.attr_string("phase") == "chaotic");
    CHECK(g.attr_double("sigma_w") == 2);
    auto depth = f.group_at("/compare/depth");
    CHECK(depth.read_doubles("q_map") == r.q_map);
    CHECK(depth.read_doubles("q_net") == r.q_net);
    CHECK(depth.read_doubles("c_net_sem") == r.c_net_sem);  // (lambda_*[0] is NaN: != itself)
    CHECK(f.info("/compare/depth/q_net").dims == std::vector<std::string>{"layer"});
    auto time = f.group_at("/compare/time");
    CHECK(time.read_doubles("t") == r.t);
    CHECK(time.read_doubles("q_ode") == r.q_ode);
    CHECK(time.read_doubles("q_sim") == r.q_sim);
    CHECK(time.read_doubles("c12_sim") == r.c12_sim);
    CHECK(f.info("/compare/time/c12_sim").dims == std::vector<std::string>{"t"});
    CHECK(time.attr_string_of("q_sim", "units") == "h^2");
    auto tied = f.group_at("/compare/tied");
    CHECK(tied.read_doubles("q_theory") == r.q_tied_theory);
    CHECK(tied.read_doubles("q_sim") == r.q_tied);
    CHECK(f.info("/compare/tied/q_sim").dims == std::vector<std::string>{"iteration"});
    CHECK(f.group_at("/compare/dmft").read_doubles("delta") == r.delta_dmft);
    CHECK(f.group_at("/compare/autocorrelation").read_doubles("C_sim") == r.acf_sim);
    auto t = f.group_at("/compare/table");
    const auto names = t.read_strings("name");
    const auto theory = t.read_doubles("theory"), sim = t.read_doubles("simulation"), sem = t.read_doubles("sem"),
               mean_field = t.read_doubles("mean_field");
    REQUIRE(names.size() == r.rows.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      CHECK(names[i] == r.rows[i].name);
      CHECK(rows[names[i]]["note"] == r.rows[i].note);
      if (r.rows[i].theory) {
        CHECK(theory[i] == *r.rows[i].theory);
        CHECK(sim[i] == *r.rows[i].simulation);
        CHECK(rows[names[i]]["theory"].get<double>() == theory[i]);
        if (r.rows[i].mean_field) CHECK(mean_field[i] == *r.rows[i].mean_field);
        else CHECK(std::isnan(mean_field[i]));
      } else {
        CHECK(std::isnan(theory[i]));
      }
    }
  }
  // The file exists: without --force it is refused, untouched.
  const auto again = amari::test::run_amari(args + " --quiet -o " + path, dir);
  CHECK(again.status != 0);
  CHECK(again.err.find("exists") != std::string::npos);

  // Bad input: exit 2, one line naming field, value and what is accepted, and no file.
  struct bad {
    std::string options, message;
  };
  const std::vector<bad> cases = {
      {"--n 1", "n = 1: must be an integer in [2, 1000000]"},
      {"--replicas 1", "replicas = 1: must be an integer in [2, 4096]"},
      {"--sigma-w -1", "sigma_w = -1: must be a finite number >= 0"},
      {"--c0 1", "c0 = 1: must be a number in (-1, 1)"},
      {"--t-end 0", "t_end = 0: must be a finite number > 0"},
      {"--dt-out 0.3 --t-end 1", "t_end = 1: must be a multiple of dt_out = 0.3"},
      {"--phi tahn", "phi"},
      {"--n 2000000000", "n = 2000000000"},
  };
  for (const auto& c : cases) {
    const std::string out = dir + "/bad.h5";
    const auto b = amari::test::run_amari("compare " + c.options + " -o " + out, dir);
    INFO(c.options << " -> " << b.err);
    CHECK(b.status == 2);
    CHECK(b.err.find(c.message) != std::string::npos);
    CHECK(std::count(b.err.begin(), b.err.end(), '\n') == 1);
    CHECK(!std::filesystem::exists(out));
  }
  std::filesystem::remove_all(dir);
}

// The finite-width rows (finite_mean_q, finite_var_q, finite_kurtosis, finite_mean_c): the theory
// column is amari/theory/finite.hpp at layer L divided by N, mean_field the infinite-width value,
// the simulation the untied deep net's networks at width N.
namespace {

compare_params finite_case(const char* phi, double sigma_w, double sigma_b, std::int64_t n, std::int64_t layers,
                           std::int64_t nets) {
  compare_params p;
  p.model.phi = Activation::parse(phi);
  p.model.sigma_w = sigma_w;
  p.model.sigma_b = sigma_b;
  p.n = n;
  p.layers = layers;
  p.nets = nets;
  p.draws = 2;  // the time pictures are not looked at here: as short as allowed
  p.t_end = 5;
  p.iterations = 4;
  p.seed = 11;
  return p;
}

// The row's theory and mean_field are those of run_finite at the same parameters (bookkeeping).
void finite_bookkeeping(const compare_params& p, const compare_result& r) {
  const amari::finite_params fp{.model = p.model, .q0 = p.q0, .c0 = p.c0, .inputs = amari::input_kind::exact,
                                .layers = p.layers};
  const auto th = amari::run_finite(fp);
  const std::int64_t L = p.layers;
  const double n = double(p.n);
  struct expect {
    const char* name;
    double theory, mean_field;
  };
  for (const expect& e : {expect{"finite_mean_q", th.K[L] + th.G1[L] / n, th.K[L]},
                          expect{"finite_var_q", (2 * th.K[L] * th.K[L] + th.V[L]) / n, 0.0},
                          expect{"finite_kurtosis", 3 * th.V[L] / (th.K[L] * th.K[L]) / n, 0.0},
                          expect{"finite_mean_c", th.c[L] + th.c_shift[L] / n, th.c[L]}}) {
    const auto& x = row(r, e.name);
    INFO(e.name << ": " << x.note);
    REQUIRE(x.applies());
    REQUIRE(x.mean_field);
    CHECK_THAT(*x.theory, close_to(e.theory, 1e-12, 1e-15));
    CHECK(*x.mean_field == e.mean_field);
  }
  // The measured mean q and c are the depth curves' last entries.
  CHECK(*row(r, "finite_mean_q").simulation == r.q_net[L]);
  CHECK(*row(r, "finite_mean_c").simulation == r.c_net[L]);
  // The other rows carry no mean_field.
  CHECK(!row(r, "depth_variance").mean_field);
}

}  // namespace

TEST_CASE("compare: finite-width rows of a relu net without bias against its exact finite-N products",
          "[compare][finite]") {
  // relu, sigma_b = 0, exact inputs, a = sigma_w^2 / 2: E q^L = K^L = a^L q0 exactly (no mean
  // shift at any N), and (docs/finite_width.md, "Exact finite-n checks")
  //   E[(G^1)^2] = Cw^2 q0^2 (N + 5) / (4 (N + 2)),   E[(G^{l+1})^2] = Cw^2 (1 + 5/N) / 4 E[(G^l)^2],
  //   Var q^L = (1 + 2/N) E[(G^L)^2] - K_L^2,   excess kurtosis of h^L_i = 3 E[(G^L)^2] / K_L^2 - 3.
  // At N = 32 the 1/N rows differ from these by O(1/N^2): that difference, computed here, is the
  // allowance of the comparison with the theory; the measurement must also agree with the exact
  // values within its errors. 6 comparisons, errors over 20000 nets: k = bonferroni_k(6, 19999).
  const compare_params p = finite_case("relu", 1.3, 0.0, 32, 4, 20000);
  const compare_result r = amari::run_compare(p);
  finite_bookkeeping(p, r);
  const double n = double(p.n), Cw = p.model.sigma_w * p.model.sigma_w;
  const std::int64_t L = p.layers;
  const double K = std::pow(Cw / 2, double(L)) * p.q0;
  double EG2 = Cw * Cw * p.q0 * p.q0 * (n + 5) / (4 * (n + 2));
  for (std::int64_t l = 2; l <= L; ++l) EG2 *= Cw * Cw * (1 + 5 / n) / 4;
  // The 1/N theory's closed form: V^L = (3 + 5 (L - 1)) K^2, G1 = 0.
  const double VL = (3.0 + 5.0 * double(L - 1)) * K * K;
  CHECK_THAT(*row(r, "finite_var_q").theory, close_to((2 * K * K + VL) / n, 1e-9));
  CHECK_THAT(*row(r, "finite_kurtosis").theory, close_to(3 * VL / (K * K) / n, 1e-9));
  CHECK_THAT(*row(r, "finite_mean_q").theory, close_to(K, 1e-9));
  const double k = bonferroni_k(6, double(p.nets - 1));
  struct exact_row {
    const char* name;
    double exact;
  };
  for (const exact_row& e : {exact_row{"finite_mean_q", K}, exact_row{"finite_var_q", (1 + 2 / n) * EG2 - K * K},
                             exact_row{"finite_kurtosis", 3 * EG2 / (K * K) - 3}}) {
    const auto& x = row(r, e.name);
    INFO(e.name << ": theory " << *x.theory << ", exact " << e.exact << ", simulation " << *x.simulation << " +- "
                << *x.sem);
    REQUIRE(x.sem);
    CHECK_THAT(*x.simulation, within_se(e.exact, *x.sem, k));
    CHECK_THAT(*x.simulation, within_se(*x.theory, *x.sem, k, std::abs(e.exact - *x.theory)));
    // The 1/N correction is resolved: the mean-field value (0 for the spread) is far off.
    if (std::string(e.name) != "finite_mean_q") CHECK(std::abs(*x.simulation - *x.mean_field) > 10 * *x.sem);
  }
}

TEST_CASE("compare: finite-width rows of a chaotic tanh net within their errors", "[compare][finite]") {
  // tanh (2.5, 0.3), N = 256, L = 3, 4000 nets. The rows' theory leaves out the O(1/N^2) terms.
  // Their size relative to the 1/N term grows like L/N: for the relu analogue the exact products
  // give 2.5 L / N for the spread (docs/finite_width.md); allowance 3 (L + 1) / N times the 1/N
  // term (|theory - mean_field|, or the theory itself for the spread and the kurtosis).
  // 4 comparisons, errors over 4000 nets: k = bonferroni_k(4, 3999).
  const compare_params p = finite_case("tanh", 2.5, 0.3, 256, 3, 4000);
  const compare_result r = amari::run_compare(p);
  finite_bookkeeping(p, r);
  const double k = bonferroni_k(4, double(p.nets - 1));
  for (const char* name : {"finite_mean_q", "finite_var_q", "finite_kurtosis", "finite_mean_c"}) {
    const auto& x = row(r, name);
    const double allowance = 3.0 * double(p.layers + 1) / double(p.n) * std::abs(*x.theory - *x.mean_field);
    agrees(r, name, k, allowance);
  }
  // The spread is resolved against its mean-field value 0 by far.
  CHECK(*row(r, "finite_var_q").simulation > 10 * *row(r, "finite_var_q").sem);
}
