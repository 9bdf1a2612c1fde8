// amari inspect: the per-product summaries (docs/FORMAT.md, "amari inspect"), each number held
// against a second route to it -- the producing command's own --json report, or the dataset read
// back through the store -- on files written by the commands themselves.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

#include "amari/io/inspect.hpp"
#include "amari/io/store.hpp"
#include "cli_run.hpp"
#include "store_test_util.hpp"
#include "tolerance.hpp"

namespace st = amari::store;
using amari::test::close_to;
using amari::test::run_shell;
using amari::test::temp_dir;
using nlohmann::json;

namespace {

// Runs the CLI; returns stdout+stderr, requiring exit code 0.
std::string cli(const std::string& args) {
  const auto r = run_shell(std::string(AMARI_CLI_PATH) + " " + args);
  INFO(args << "\n" << r.out);
  REQUIRE(WIFEXITED(r.status));
  REQUIRE(WEXITSTATUS(r.status) == 0);
  return r.out;
}

json inspect_json(const std::string& path) { return json::parse(cli("inspect --json " + path)); }

double last(const std::string& path, const std::string& group, const std::string& name) {
  auto f = st::file::open_read(path);
  return f.group_at(group).read_doubles(name).back();
}

}  // namespace

TEST_CASE("inspect: simulate -- m, q +- SE beside the ODE, Lyapunov +- SE beside the DMFT", "[inspect][cli]") {
  temp_dir dir;
  const std::string sim = dir / "sim.h5";
  const auto run = json::parse(cli("simulate --n 150 --sigma-w 2 --draws 2 --replicas 2 --t-end 12 --dt-out 0.2 "
                                   "--lyapunov --acf-lag 3 --json -o " + sim));
  const auto dm = json::parse(cli("dmft --sigma-w 2 --tau-max 3 --dt-out 0.2 --json"));
  const auto j = inspect_json(sim);
  const auto& s = j["summary"];
  // the ensemble means and errors of the last sample: what /ensemble holds, and what simulate reported
  CHECK(s["/trajectory"]["q(t_end)"]["value"].get<double>() == last(sim, "/ensemble", "q_mean"));
  CHECK(s["/trajectory"]["q(t_end)"]["sem"].get<double>() == last(sim, "/ensemble", "q_sem"));
  CHECK(s["/trajectory"]["q(t_end)"]["value"].get<double>() == run["q_final"].get<double>());
  CHECK(s["/trajectory"]["m(t_end)"]["sem"].get<double>() == last(sim, "/ensemble", "m_sem"));
  CHECK(s["/trajectory"]["q(t_end) mean-field"]["value"].get<double>() == last(sim, "/meanfield", "q"));
  // the exponents and their errors as simulate reported them
  CHECK(s["/lyapunov"]["lambda_1"]["value"].get<double>() == run["lyapunov"].get<double>());
  CHECK(s["/lyapunov"]["lambda_1"]["sem"].get<double>() == run["lyapunov_sem"].get<double>());
  CHECK(s["/lyapunov"]["lambda_1"]["units"] == "1/leak time constant");
  // the DMFT numbers as amari dmft computes them at these parameters
  CHECK(s["/lyapunov"]["lambda_max DMFT"]["value"].get<double>() == dm["lyapunov"].get<double>());
  CHECK(s["/stationary"]["Delta_0 DMFT"]["value"].get<double>() == dm["delta_0"].get<double>());
  {
    auto f = st::file::open_read(sim);
    auto g = f.group_at("/stationary");
    CHECK(s["/stationary"]["stationary q2"]["value"].get<double>() == g.read_doubles("q2").at(0));
    CHECK(s["/stationary"]["stationary q2"]["sem"].get<double>() == g.read_doubles("q2_sem").at(0));
    CHECK(s["/stationary"]["C(0)"]["value"].get<double>() == g.read_doubles("C").at(0));
  }
  const std::string text = cli("inspect " + sim);
  CHECK_THAT(text, Catch::Contains("lambda_1 = "));
  CHECK_THAT(text, Catch::Contains(" +- "));
  CHECK_THAT(text, Catch::Contains("Delta_0 DMFT = "));
}

TEST_CASE("inspect: meanfield -- the fixed point reached", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "mf.h5";
  const auto mf = json::parse(cli("meanfield --sigma-w 0.9 --sigma-b 0.3 --w0 1.5 --b0 0.1 --t-end 30 --json -o " + path));
  const auto s = inspect_json(path)["summary"]["/meanfield"];
  const auto k = mf["final_fixed_point"].get<std::size_t>();
  CHECK(s["fixed point m"]["value"].get<double>() == mf["fixed_points"][k]["m"].get<double>());
  CHECK(s["fixed point q"]["value"].get<double>() == mf["fixed_points"][k]["q"].get<double>());
  CHECK(s["fixed point chi_1"]["value"].get<double>() == mf["fixed_points"][k]["chi_1"].get<double>());
  CHECK(s["fixed points"]["value"].get<double>() == double(mf["fixed_points"].size()));
  const std::string prefix = fmt::format("#{}: stable", k);  // (not "#" + ...: GCC 12's false -Wrestrict)
  CHECK_THAT(s["final fixed point"]["text"].get<std::string>(), Catch::StartsWith(prefix));
  CHECK(s["q(t_end)"]["value"].get<double>() == mf["q"].back().get<double>());
}

TEST_CASE("inspect: dmft -- Delta_0, Delta_inf, decay time, lambda_max", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "dm.h5";
  const auto dm = json::parse(cli("dmft --sigma-w 1.8 --sigma-b 0.2 --tau-max 10 --json -o " + path));
  const auto s = inspect_json(path)["summary"]["/dmft"];
  CHECK(s["solution"]["text"] == "chaotic");
  for (const char* k : {"delta_0", "delta_inf", "chi_1"}) CHECK(s[k]["value"].get<double>() == dm[k].get<double>());
  CHECK(s["decay time"]["value"].get<double>() == dm["decay_time"].get<double>());
  CHECK(s["lambda_max"]["value"].get<double>() == dm["lyapunov"].get<double>());
  CHECK(s["q*"]["value"].get<double>() == dm["q_static"].get<double>());
  // below the transition: the static answer
  const std::string quiet = dir / "static.h5";
  cli("dmft --sigma-w 0.8 --quiet -o " + quiet);
  const auto q = inspect_json(quiet)["summary"]["/dmft"];
  CHECK_THAT(q["solution"]["text"].get<std::string>(), Catch::StartsWith("static"));
  CHECK(q.find("decay time") == q.end());
}

TEST_CASE("inspect: maps -- the phase, q*, chi_1", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "maps.h5";
  const auto mp = json::parse(cli("maps --phi tanh --sigma-w 2.5 --sigma-b 0.3 --json -o " + path));
  const auto s = inspect_json(path)["summary"]["/maps"];
  CHECK(s["phase"]["text"] == mp["phase"]);
  CHECK(s["phase"]["text"] == "chaotic");
  CHECK(s["q_star"]["value"].get<double>() == mp["q_star"].get<double>());
  CHECK(s["chi_1"]["value"].get<double>() == mp["chi_1"].get<double>());
}

TEST_CASE("inspect: phase -- points per phase by name, and the range of the edge", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "phase.h5";
  cli("phase --phi tanh --sigma-w 0.5:3:11 --sigma-b 0:0.6:4 --quiet -o " + path);
  const auto s = inspect_json(path)["summary"]["/phase"];
  auto f = st::file::open_read(path);
  auto g = f.group_at("/phase");
  const auto labels = g.read_ints("phase");
  const char* names[] = {"ordered", "critical", "chaotic", "divergent"};
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    const auto n = std::count(labels.begin(), labels.end(), std::int64_t(i));
    CHECK(s[std::string(names[i]) + " points"]["value"].get<double>() == double(n));
    total += s[std::string(names[i]) + " points"]["value"].get<double>();
  }
  CHECK(total == 44);
  CHECK(s["ordered points"]["value"].get<double>() > 0);
  CHECK(s["chaotic points"]["value"].get<double>() > 0);
  CHECK_THAT(s["phase counts"]["text"].get<std::string>(), Catch::StartsWith("ordered: "));
  CHECK(s["grid"]["text"] == "11 x 4 points: sigma_w 0.5 .. 3, sigma_b 0 .. 0.6");
  // tanh at sigma_b = 0: q* = 0 up to the edge, where chi_1 = sigma_w^2 phi'(0)^2 = 1, so the edge is
  // sigma_w = 1 exactly (to the root finder's ~2e-15); it moves to larger sigma_w as sigma_b grows.
  CHECK_THAT(s["edge sigma_w min"]["value"].get<double>(), close_to(1.0, 1e-13));
  const auto edge = g.read_doubles("edge_sigma_w");
  CHECK(s["edge sigma_w max"]["value"].get<double>() == *std::max_element(edge.begin(), edge.end()));
  CHECK(s["edge sigma_w max"]["value"].get<double>() > 1.2);
}

TEST_CASE("inspect: deepnet -- q and c at the last layer, networks +- SE beside the maps", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "deep.h5";
  const auto dn = json::parse(cli("deepnet --sigma-w 2 --sigma-b 0.2 --n 150 --layers 6 --nets 4 --json -o " + path));
  const auto s = inspect_json(path)["summary"]["/deepnet"];
  CHECK(s["final q networks"]["value"].get<double>() == dn["q1_mean"].back().get<double>());
  CHECK(s["final q networks"]["sem"].get<double>() == dn["q1_sem"].back().get<double>());
  CHECK(s["final q map"]["value"].get<double>() == dn["q_map"].back().get<double>());
  CHECK(s["final c networks"]["value"].get<double>() == dn["c_mean"].back().get<double>());
  CHECK(s["final c map"]["value"].get<double>() == dn["c_map"].back().get<double>());
  CHECK(s["final q map"]["text"] == "at layer 6");
  CHECK(s["phase"]["text"] == "chaotic");
}

TEST_CASE("inspect: finite -- the last layer's K, var_q, kurtosis, mean_shift and c_shift", "[inspect][cli]") {
  temp_dir dir;
  const std::string path = dir / "finite.h5";
  const auto fw = json::parse(cli("finite --sigma-w 2 --sigma-b 0.2 --layers 6 --json -o " + path));
  const auto s = inspect_json(path)["summary"]["/finite"];
  for (const char* key : {"K", "var_q", "kurtosis", "mean_shift", "c_shift"}) {
    INFO(key);
    CHECK(s[std::string("final ") + key]["value"].get<double>() == fw[key].back().get<double>());
  }
  CHECK(s["final K"]["text"] == "at layer 6 (exact inputs)");
}

TEST_CASE("inspect: the wrong file exits 2, a read failure of an amari file 1 (docs/FORMAT.md)", "[inspect][cli]") {
  amari::test::scratch_dir dir;
  auto refused = [&](const std::string& name, const std::string& reason) {
    const auto r = amari::test::run_amari("inspect " + name, dir.path);
    INFO(name << ": exit " << r.status << "\n" << r.err);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(r.err == "amari: " + name + ": " + reason + "\n");  // one line naming the file and why
  };
  // Not HDF5.
  { std::ofstream(dir / "notes.txt") << "hello"; }
  refused("notes.txt", "is not an amari file (not an HDF5 file)");
  // HDF5, but no amari file (written by h5py, a base dependency: tools/setup).
  const auto py = run_shell("/usr/bin/python3 -c \"import h5py; h5py.File('" + (dir / "plain.h5") +
                            "', 'w')['x'] = [1.0, 2.0]\"");
  INFO(py.out);
  REQUIRE(py.status == 0);
  refused("plain.h5", "is an HDF5 file but not an amari file (no root attribute `format_version`)");
  // An amari file of a newer format.
  const std::string newer = dir / "newer.h5";
  {
    st::file_options o;
    o.product = "maps";
    auto f = st::file::create(newer, o);
    f.root().attr("format_version", std::int64_t{99});
    f.finish("complete");
  }
  {
    const auto r = amari::test::run_amari("inspect newer.h5", dir.path);
    CHECK(r.status == 2);
    CHECK_THAT(r.err, Catch::StartsWith("amari: newer.h5: was written") && Catch::EndsWith("use a newer amari\n"));
  }
  // A directory, and a path that does not exist.
  std::filesystem::create_directory(dir / "sub");
  CHECK(amari::test::run_amari("inspect sub", dir.path).status == 2);
  CHECK(amari::test::run_amari("inspect missing.h5", dir.path).status == 2);

  // An amari file that opens, but one of whose chunks is damaged: reading it is an I/O failure
  // (exit 1, one line). The series m has 4000 rows in chunks of about 8 KiB (deflate); h5py finds
  // the file offset of its last chunk, which `inspect` reads for "final m", and overwrites it.
  const std::string damaged = dir / "damaged.h5";
  {
    st::file_options o;
    o.product = "simulate";
    auto f = st::file::create(damaged, o);
    auto tr = f.group_at("/trajectory");
    auto t = tr.make_series_scale("t", {.description = "time", .units = "leak time constants"});
    auto m = tr.make_series("m", {}, {.description = "population mean of h", .dims = {"t"}});
    for (int k = 0; k < 4000; ++k) {
      t.append(0.1 * k);
      m.append(std::sin(0.01 * k));
    }
    f.finish("complete");
  }
  REQUIRE(amari::test::run_amari("inspect damaged.h5", dir.path).status == 0);
  const auto hit = run_shell(
      "/usr/bin/python3 -c \"import h5py\n"
      "with h5py.File('" + damaged + "', 'r') as f:\n"
      "    d = f['/trajectory/m']; n = d.id.get_num_chunks(); c = d.id.get_chunk_info(n - 1)\n"
      "with open('" + damaged + "', 'r+b') as g:\n"
      "    g.seek(c.byte_offset); g.write(b'\\\\xff' * c.size)\n"
      "print(n, c.size)\"");
  INFO(hit.out);
  REQUIRE(hit.status == 0);
  const auto r = amari::test::run_amari("inspect damaged.h5", dir.path);
  INFO(r.err);
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("amari: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("inspect: simulate -- the storage of W and the accumulation, as recorded in the file", "[inspect][cli][weights]") {
  temp_dir dir;
  const std::string half = dir / "half.h5", plain = dir / "plain.h5", single = dir / "single.h5";
  cli("simulate --n 60 --t-end 1 --weight-precision half --accumulation blocked --quiet -o " + half);
  cli("simulate --n 60 --t-end 1 --quiet -o " + plain);
  cli("simulate --n 60 --t-end 1 --precision float --quiet -o " + single);
  auto attrs = [](const std::string& path) {
    auto f = st::file::open_read(path);
    auto g = f.group_at("/trajectory");
    return std::make_pair(g.attr_string("weight_precision"), g.attr_string("accumulation"));
  };
  // the default ("state") is recorded as what it resolved to
  CHECK(attrs(half) == std::make_pair(std::string("half"), std::string("blocked")));
  CHECK(attrs(plain) == std::make_pair(std::string("double"), std::string("state")));
  CHECK(attrs(single) == std::make_pair(std::string("float"), std::string("state")));
  CHECK_THAT(cli("inspect " + half),
             Catch::Contains("state double, W stored in half, W phi(h) accumulated in float blocks added in double"));
  CHECK_THAT(cli("inspect " + single), Catch::Contains("state float, W stored in float, W phi(h) accumulated in float"));
}
