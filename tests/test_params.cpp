// The parameter vocabulary (include/amari/core/params.hpp): every command's table binds vocabulary
// entries to fields, the defaults are the command's (and written down once), values convert with
// one kind of message, and the file attributes read back what was written.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "amari/core/params.hpp"
#include "amari/io/params.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/compare.hpp"
#include "amari/sim/deepnet.hpp"
#include "amari/sim/user_network.hpp"
#include "amari/theory/finite.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/theory/dmft.hpp"
#include "amari/theory/maps.hpp"
#include "amari/theory/meanfield.hpp"
#include "cli_run.hpp"

using amari::param_role;
using amari::param_value;
using amari::split_text;

namespace {

// Every entry of a table is a vocabulary entry of the same kind, appears once, and its value in
// P{} round-trips through its text form.
template <class P>
void check_table(const amari::param_table<P>& t) {
  INFO("command " << t.command());
  std::set<std::string> seen;
  const P p{};
  for (const auto& e : t.entries()) {
    const std::string name(e.spec->name);
    INFO("parameter " << name);
    CHECK(seen.insert(name).second);
    CHECK(e.spec->role != param_role::front_end);
    // The text of the default parses back to the same value (an empty list has no text: none).
    if (amari::format_value(e.get(p)).empty()) continue;
    P q{};
    e.set(q, amari::parse_value(*e.spec, amari::format_value(e.get(p))));
    CHECK(amari::format_value(e.get(q)) == amari::format_value(e.get(p)));
  }
}

double real(const param_value& v) { return std::get<double>(v); }

}  // namespace

TEST_CASE("params: every command's table is made of vocabulary entries, once each", "[params]") {
  check_table(amari::maps_params::table());
  check_table(amari::edge_params::table());
  check_table(amari::phase_params::table());
  check_table(amari::meanfield_params::table());
  check_table(amari::dmft_params::table());
  check_table(amari::deepnet_params::table());
  check_table(amari::finite_params::table());
  check_table(amari::compare_params::table());
  check_table(amari::simulate_params::table());
  // Names are snake_case and the options their dashed form.
  for (const auto& s : amari::vocabulary()) {
    const std::string name(s.name);
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos);
    std::string dashed = name;
    std::replace(dashed.begin(), dashed.end(), '_', '-');
    CHECK(s.option() == "--" + dashed);
    CHECK(!s.help.empty());
  }
}

TEST_CASE("params: each command keeps its own defaults of the shared model parameters", "[params]") {
  // The choice of docs/ARCHITECTURE.md: depth picture 2.5 / 0.3, time picture 2 / 0, Amari's ODE 1 / 0.
  auto sw_sb = [](const auto& t, const auto& p) {
    return std::pair<double, double>{real(t.get(p, "sigma_w")), real(t.get(p, "sigma_b"))};
  };
  using pair = std::pair<double, double>;
  CHECK(sw_sb(amari::maps_params::table(), amari::maps_params{}) == pair{2.5, 0.3});
  CHECK(sw_sb(amari::deepnet_params::table(), amari::deepnet_params{}) == pair{2.5, 0.3});
  CHECK(sw_sb(amari::finite_params::table(), amari::finite_params{}) == pair{2.5, 0.3});
  CHECK(sw_sb(amari::simulate_params::table(), amari::simulate_params{}) == pair{2.0, 0.0});
  CHECK(sw_sb(amari::dmft_params::table(), amari::dmft_params{}) == pair{2.0, 0.0});
  CHECK(sw_sb(amari::compare_params::table(), amari::compare_params{}) == pair{2.0, 0.0});
  CHECK(sw_sb(amari::network_draw_params::table(), amari::network_draw_params{}) == pair{2.0, 0.0});
  CHECK(sw_sb(amari::meanfield_params::table(), amari::meanfield_params{}) == pair{1.0, 0.0});
  CHECK(amari::edge_params{}.sigma_b.values() == std::vector<double>{0.3});
  // The CLI shows the same defaults (it reads them from the tables).
  for (const auto& [cmd, sw] : {std::pair<const char*, const char*>{"maps", "2.5"}, {"deepnet", "2.5"}, {"finite", "2.5"},
                                 {"simulate", "2"}, {"dmft", "2"}, {"compare", "2"}, {"network", "2"},
                                 {"meanfield", "1"}}) {
    const auto r = amari::test::run_amari(std::string(cmd) + " --help", std::filesystem::current_path());
    INFO(cmd);
    CHECK_THAT(r.out, Catch::Contains(std::string("--sigma-w X")) && Catch::Contains(std::string("[default: ") + sw + "]"));
  }
}

TEST_CASE("params: values convert by kind, with the field and what is accepted in the message", "[params]") {
  const auto& t = amari::deepnet_params::table();
  amari::deepnet_params p;
  t.set(p, "n", std::int64_t{64});
  t.set(p, "sigma_w", std::int64_t{3});  // an integer is a number
  t.set(p, "layers", 12.0);              // a whole real is an integer
  t.set(p, "phi", std::string("erf"));
  t.set(p, "c0", std::string("0.25"));   // text converts as the command line does
  CHECK(p.n == 64);
  CHECK(p.model.sigma_w == 3.0);
  CHECK(p.layers == 12);
  CHECK(p.model.phi.spec() == "erf");
  CHECK(p.c0 == 0.25);
  auto message = [&](const char* name, const param_value& v) {
    try {
      t.set(p, name, v);
    } catch (const amari::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  CHECK(message("n", 1.5) == "n = 1.5: must be an integer");
  CHECK(message("n", std::string("abc")) == "n = 'abc': must be an integer");
  CHECK(message("sigma_w", std::string("2x")) == "sigma_w = '2x': must be a number");
  CHECK(message("sigma_w", true) == "sigma_w = true: must be a number");
  CHECK_THAT(message("phi", std::string("tahn")), Catch::StartsWith("phi = 'tahn'"));
  CHECK(message("sigmaw", 1.0) == "sigmaw: unknown parameter of `amari deepnet`; did you mean 'sigma_w'?");
  CHECK_THAT(message("w0", 1.0), Catch::StartsWith("w0: unknown parameter of `amari deepnet`"));  // depth: none
  // Lists and axes.
  CHECK(std::get<std::vector<double>>(amari::parse_value(amari::vocabulary("times"), "0,1.5,2")) ==
        std::vector<double>{0, 1.5, 2});
  amari::phase_params pp;
  amari::phase_params::table().set(pp, "sigma_b", 0.2);
  CHECK(pp.sigma_b.values() == std::vector<double>{0.2});
  amari::phase_params::table().set(pp, "sigma_w", std::string("1:2:3"));
  CHECK(pp.sigma_w.values() == std::vector<double>{1, 1.5, 2});
}

TEST_CASE("params: a list's text splits into its items, empty ones kept for the caller to refuse", "[params]") {
  using V = std::vector<std::string>;
  CHECK(split_text("tanh,erf") == V{"tanh", "erf"});
  CHECK(split_text("1:2:3") == V{"1:2:3"});
  CHECK(split_text("a,,b,") == V{"a", "", "b", ""});
  CHECK(split_text("") == V{""});
  CHECK(split_text("x\ny", '\n') == V{"x", "y"});
}

TEST_CASE("params: model parameters go to the file as attributes and come back unchanged", "[params][store]") {
  const std::string path = "test_params_attrs.h5";
  amari::simulate_params p;
  p.net.n = 77;
  p.net.model.phi = amari::Activation::parse("tanh:g=1.5");
  p.net.model.sigma_w = 1.25;
  p.net.model.w0 = -0.5;
  p.stepper = amari::stepper_kind::rk4;
  p.precision = amari::precision_kind::float32;
  p.lyapunov = true;
  p.lyapunov_k = 3;
  p.threads = 2;  // runtime: not recorded
  {
    auto f = amari::store::file::create(path, {.force = true, .product = "test"});
    auto g = f.group_at("/params");
    amari::io::write_params(g, amari::simulate_params::table(), p);
    CHECK(!g.has_attr("threads"));
    CHECK(!g.has_attr("flush_interval"));
    CHECK(g.attr_int("lyapunov") == 1);
    CHECK(g.attr_string("stepper") == "rk4");
    f.finish("complete");
  }
  auto f = amari::store::file::open_read(path);
  const auto back = amari::io::read_params(f.group_at("/params"), amari::simulate_params::table());
  for (const auto& e : amari::simulate_params::table().entries()) {
    if (e.spec->role != param_role::model) continue;
    INFO(e.spec->name);
    CHECK(amari::format_value(e.get(back)) == amari::format_value(e.get(p)));
  }
  CHECK(back.threads == amari::simulate_params{}.threads);
  std::filesystem::remove(path);
}
