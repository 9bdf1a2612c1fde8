// Statistics that stream (docs/simulate.md, "Memory and checkpoints"; "Error bars"): the checkpoint
// has the same datasets and shapes however long the run, is rewritten in place, and the memory
// estimate does not grow with the run; the standard errors are labelled and finite for one draw;
// files of format version 1 (tests/data) are still read, inspected, continued from and resumed.
#include <sys/wait.h>

#include <atomic>
#include <boost/math/distributions/fisher_f.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>
#include <string>

#include "amari/core/error.hpp"
#include "amari/io/inspect.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/simulate.hpp"
#include "simulate_support.hpp"
#include "store_test_util.hpp"
#include "tolerance.hpp"

namespace st = amari::store;
using amari::simulate_params;
using amari::stepper_kind;
using amari::test::bonferroni_k;
using amari::test::temp_dir;
using amari::test::within_se;

namespace {

simulate_params small(bool lyapunov, double t_end) {
  simulate_params p;
  p.net.n = 30;
  p.net.model.sigma_w = 1.8;
  p.replicas = 2;
  p.draws = 2;
  p.t_end = t_end;
  p.dt_out = 0.5;
  p.record_neurons = 2;
  p.lyapunov = lyapunov;
  p.lyapunov_k = 2;
  p.acf_lag = 5;  // fixed: the automatic lag range depends on the window below t_end = 53
  p.flush_interval = 1e-9;  // a checkpoint after every sample
  p.threads = 1;
  return p;
}

void run_to_file(const std::string& path, const simulate_params& p) {
  auto f = st::file::create(path, {.force = true, .product = "simulate"});
  amari::simulation_writer w(f, p);
  amari::simulate(p, w);
}

// name -> "type [shape]" of every dataset of both checkpoint slots.
std::map<std::string, std::string> checkpoint_layout(const std::string& path) {
  auto f = st::file::open_read(path);
  std::map<std::string, std::string> out;
  for (const char* slot : {"/checkpoint/slot_a", "/checkpoint/slot_b"}) {
    auto g = f.group_at(slot);
    for (const auto& name : g.children()) {
      const auto info = f.info(std::string(slot) + "/" + name);
      std::string shape;
      for (auto d : info.shape) shape += std::to_string(d) + " ";
      out[std::string(slot) + "/" + name] = info.type + " [" + shape + "]";
    }
  }
  return out;
}

// Equal bit for bit (tol = 0), or to tol relative to max(1, |a|).
bool same_values(const std::vector<double>& a, const std::vector<double>& b, double tol = 0) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])) ||
          std::abs(a[i] - b[i]) <= tol * std::max(1.0, std::abs(a[i]))))
      return false;
  return true;
}

// Every numeric dataset of the simulation's groups equal in both files (as same_values).
void same_results(const std::string& a, const std::string& b, double tol = 0) {
  auto fa = st::file::open_read(a), fb = st::file::open_read(b);
  for (const char* group : {"/trajectory", "/replicas", "/ensemble", "/lyapunov", "/stationary"}) {
    if (!fa.has(group)) continue;
    REQUIRE(fb.has(group));
    auto ga = fa.group_at(group), gb = fb.group_at(group);
    for (const auto& name : ga.children()) {
      const auto info = fa.info(std::string(group) + "/" + name);
      if (info.is_group || info.type == "string") continue;
      INFO(group << "/" << name);
      REQUIRE(gb.has(name));
      CHECK(same_values(ga.read_doubles(name), gb.read_doubles(name), tol));
    }
  }
}

std::string data_file(const std::string& name) { return std::string(AMARI_SOURCE_DIR) + "/tests/data/" + name; }

// Resumes the file at `path` (from whatever checkpoint it has); with stop_at > 0 it is interrupted
// again once that many samples are done.
void resume(const std::string& path, double stop_at = 0) {
  auto f = st::file::open_append(path);
  simulate_params p = amari::read_simulate_params(f);
  p.threads = 1;
  const amari::checkpoint ck = amari::read_checkpoint(f, p);
  f.rewind_to_checkpoint();
  amari::simulation_writer w(f, p, true);
  amari::simulate_inputs in;
  in.resume = &ck;
  std::atomic<int> stop{0};
  amari::run_control control;
  control.stop = &stop;
  control.progress = [&](double done, double) {
    if (stop_at > 0 && done >= stop_at) stop = SIGINT;
  };
  if (stop_at > 0)
    CHECK_THROWS_AS(amari::simulate(p, w, control, in), amari::Interrupted);
  else
    amari::simulate(p, w, control, in);
}

}  // namespace

TEST_CASE("the checkpoint has the same datasets and shapes for any run length", "[simulate][stream]") {
  temp_dir dir;
  for (bool lyapunov : {false, true})
    for (auto st_kind : {stepper_kind::dopri5, stepper_kind::rk4}) {
      INFO("lyapunov " << lyapunov << ", " << amari::to_string(st_kind));
      simulate_params short_run = small(lyapunov, 12), long_run = small(lyapunov, 120);
      short_run.stepper = long_run.stepper = st_kind;
      const std::string a = dir / "short.h5", b = dir / "long.h5";
      run_to_file(a, short_run);
      run_to_file(b, long_run);
      const auto la = checkpoint_layout(a), lb = checkpoint_layout(b);
      CHECK(la.size() > 20);
      for (const auto& [name, layout] : la) {
        INFO(name);
        REQUIRE(lb.count(name));
        CHECK(layout == lb.at(name));
      }
      CHECK(la.size() == lb.size());
    }
}

TEST_CASE("a checkpoint is rewritten in place: the file does not grow at flushes", "[simulate][stream]") {
  // The checkpoints of every flush of a run, written one after another into one file with no new
  // series rows: after the first two (one per slot) every commit rewrites the same datasets in
  // place, whether the checkpoint comes from the start of the run or from far into its stationary
  // window, and the slot named by the attribute `current` is a fixed-length string written in
  // place too. What the file gains per flush is exactly the 8 bytes by which the store moves the
  // end of allocated space past what the flush referenced (src/io/store/internal.hpp, setting 4),
  // against over 10 kB here that a growing checkpoint would add at every flush.
  temp_dir dir;
  for (bool lyapunov : {false, true}) {
    INFO("lyapunov " << lyapunov);
    const simulate_params p = small(lyapunov, 300);
    amari::test::recorder rec;
    rec.keep_checkpoints = true;
    amari::simulate(p, rec);
    REQUIRE(rec.flushes.size() > 500);
    const std::string path = dir / "flushes.h5";
    auto f = st::file::create(path, {.force = true, .product = "simulate"});
    amari::simulation_writer w(f, p);
    w.on_flush(rec.flushes[0]);
    w.on_flush(rec.flushes[1]);
    std::uintmax_t size = std::filesystem::file_size(path);
    const std::size_t last = rec.flushes.size() - 2;  // the final one also writes h_final
    for (std::size_t k : {std::size_t(2), std::size_t(3), last / 4, last / 2, last - 1, last}) {
      w.on_flush(rec.flushes[k]);
      const auto now = std::filesystem::file_size(path);
      INFO("flush " << k << " of " << rec.flushes.size() << ": the file grew by " << now - size << " bytes");
      CHECK(now - size == 8);
      size = now;
    }
  }
}

TEST_CASE("the memory a run needs does not grow with its length", "[simulate][stream]") {
  simulate_params p;
  p.net.n = 2000;
  p.lyapunov = true;
  p.t_end = 1000;
  const auto a = amari::memory_needed(p);
  p.t_end = 1e6;
  CHECK(amari::memory_needed(p) == a);
  // Everything but the program itself (64 MiB) is per draw: W, the states, the C(tau) ring.
  p.draws = 3;
  const std::uint64_t program = 64u << 20;
  CHECK(amari::memory_needed(p) - program == 3 * (a - program));
}

TEST_CASE("error bars: labelled, and from batches in time for one draw", "[simulate][stream]") {
  temp_dir dir;
  // One draw, one replica, chaotic (sigma_w = 2): every lag of C(tau) has a finite, positive error
  // from the 20 batches of the window (before: NaN), and so have the stationary averages and the
  // exponent; the file says what the errors are over.
  simulate_params p;
  p.net.n = 200;
  p.net.model.sigma_w = 2;
  p.t_end = 200;
  p.dt_out = 0.2;
  p.transient = 40;
  p.acf_lag = 4;
  p.lyapunov = true;
  p.record_neurons = 0;
  p.threads = 1;
  const std::string one = dir / "one.h5";
  {
    auto f = st::file::create(one, {.force = true, .product = "simulate"});
    amari::simulation_writer w(f, p);
    const auto r = amari::simulate(p, w);
    CHECK(r.sem_over == "time batches (one draw of W)");
    CHECK(r.q_final_sem_over == "none (one run)");
    CHECK(r.batches == 20);
    // The window t = 40, 40.2, .., 200: 801 samples of 0.2, in 20 batches.
    CHECK_THAT(r.batch_length, amari::test::close_to(801 * 0.2 / 20, 1e-14));
    REQUIRE(r.acf_sem.size() == 21);
    for (double s : r.acf_sem) CHECK((std::isfinite(s) && s > 0));
    CHECK((std::isfinite(r.stationary_q2.sem) && r.stationary_q2.sem > 0));
    CHECK((std::isfinite(r.lyapunov_sem[0]) && r.lyapunov_sem[0] > 0));
  }
  {
    auto f = st::file::open_read(one);
    for (const char* g : {"/stationary", "/lyapunov"}) {
      CHECK(f.group_at(g).attr_string("sem_over") == "time batches (one draw of W)");
      CHECK(f.group_at(g).attr_int("batches") == 20);
    }
    CHECK_FALSE(f.has("/ensemble"));
    const auto report = amari::inspect::inspect_file(one);
    bool labelled = false;
    for (const auto& prod : report.products)
      for (const auto& e : prod.entries)
        if (e.key == "stationary q2") labelled = e.text == "(+- SE over time batches (one draw of W))";
    CHECK(labelled);
  }
  // One draw, two replicas: the per-sample ensemble errors are over replicas (labelled), the time
  // averages' over batches in time; several draws: both over draws.
  for (std::int64_t draws : {1, 2}) {
    simulate_params q = p;
    q.net.n = 40;
    q.t_end = 20;
    q.transient = 5;
    q.replicas = 2;
    q.draws = draws;
    const std::string path = dir / "ens.h5";
    run_to_file(path, q);
    auto f = st::file::open_read(path);
    CHECK(f.group_at("/ensemble").attr_string("sem_over") == (draws > 1 ? "draws" : "replicas (one draw of W)"));
    CHECK(f.group_at("/stationary").attr_string("sem_over") == (draws > 1 ? "draws" : "time batches (one draw of W)"));
    CHECK(f.group_at("/stationary").has_attr("batches") == (draws == 1));
    CHECK(f.group_at("/stationary").shape("C_each_sem") == f.group_at("/stationary").shape("C_each"));
  }
}

// The batch-means error of C(tau) for one network says how far the time average of one
// trajectory falls from that network's stationary C. Replicas of one chaotic network decorrelate
// (docs/simulate.md, chaos), so their C_each are independent estimates of the same C, each with
// its batch error C_each_sem: the spread over R replicas must match those errors. The statistic
// X = sum_r (C_r - mean C)^2 / mean(sem_r^2) is chi^2 with R - 1 degrees of freedom when the errors
// are right; with the denominator itself estimated (R (B - 1) = 16 x 19 degrees of freedom),
// X / (R - 1) follows Fisher's F(R - 1, R (B - 1)). We accept its central 1 - 1e-3 range at each of
// three lags (Bonferroni: 3 comparisons), which fails errors off by a factor of ~2.5 either way (a
// NaN or zero error fails at once). The batches are 20 time units long, against a decay time of C
// of ~2: long enough for the batch means to be nearly independent.
TEST_CASE("error bars: the time-batch error of C(tau) matches the spread over replicas of one network",
          "[simulate][stream]") {
  simulate_params p;
  p.net.n = 300;
  p.net.model.sigma_w = 2;
  p.replicas = 16;
  p.t_end = 440;
  p.dt_out = 0.25;
  p.transient = 40;  // the replicas have decorrelated by then (their initial states are independent)
  p.acf_lag = 3;
  p.precision = amari::precision_kind::float32;
  p.rtol = 1e-5;
  p.atol = 1e-7;
  p.record_neurons = 0;
  const auto out = amari::test::run_sim(p);
  const auto& r = out.result;
  const std::int64_t L = static_cast<std::int64_t>(r.acf_tau.size()), R = p.replicas;
  const boost::math::fisher_f_distribution<double> F(double(R - 1), double(R * 19));
  const double lo = double(R - 1) * boost::math::quantile(F, 1e-3 / 6),
               hi = double(R - 1) * boost::math::quantile(F, 1 - 1e-3 / 6);
  for (std::int64_t l : {std::int64_t(0), std::int64_t(4), L - 1}) {
    double mean = 0, sem2 = 0, spread = 0;
    for (std::int64_t a = 0; a < R; ++a) mean += r.acf_each[a * L + l] / double(R);
    for (std::int64_t a = 0; a < R; ++a) {
      spread += std::pow(r.acf_each[a * L + l] - mean, 2);
      sem2 += std::pow(r.acf_each_sem[a * L + l], 2) / double(R);
    }
    INFO("tau = " << r.acf_tau[l] << ": spread over replicas " << std::sqrt(spread / (R - 1)) << ", batch error "
                  << std::sqrt(sem2) << ", X = " << spread / sem2);
    CHECK(spread / sem2 > lo);
    CHECK(spread / sem2 < hi);
  }
}

TEST_CASE("format version 1: an interrupted run resumes to the file of an uninterrupted one", "[simulate][stream][resume]") {
  temp_dir dir;
  for (const char* fixture : {"v1_interrupted_dopri5.h5", "v1_interrupted_rk4.h5"}) {
    INFO(fixture);
    const std::string old_file = dir / "old.h5", fresh = dir / "fresh.h5";
    std::filesystem::copy_file(data_file(fixture), old_file, std::filesystem::copy_options::overwrite_existing);
    simulate_params p;
    std::int64_t next = 0;
    {
      auto f = st::file::open_read(old_file);
      CHECK(f.root().attr_int("format_version") == 1);
      CHECK(f.status() == "interrupted");
      p = amari::read_simulate_params(f);
      next = amari::read_checkpoint(f, p).next_sample;
    }
    // Interrupted once more right after the resume (the samples the version-1 checkpoint held are
    // emitted first, then a checkpoint of version 2 is written into the old slots), then resumed to
    // the end.
    resume(old_file, double(next + 1));
    {
      auto f = st::file::open_read(old_file);
      CHECK(f.status() == "interrupted");
      CHECK(f.root().attr_int("format_version") == st::format_version);
      CHECK(f.checkpoint().read_int("format_version") == 2);
    }
    resume(old_file);
    p.threads = 1;
    run_to_file(fresh, p);
    auto f = st::file::open_read(old_file);
    CHECK(f.status() == "complete");
    // The fixture's samples before the interruption were computed by the Release build that wrote
    // it. A build with the same arithmetic reproduces them bit for bit, and then the resumed file
    // must equal the uninterrupted one bit for bit. Another build (the sanitizer build at -O1
    // vectorises some sums differently) differs in the last bits from the first step on; its
    // resumed file must then equal the uninterrupted one to 1e-9 (N = 40 over t <= 30: rounding
    // differences grow by e^(lambda t), a few times at most).
    const auto original = st::file::open_read(data_file(fixture)).group_at("/trajectory").read_doubles("q");
    auto first = st::file::open_read(fresh).group_at("/trajectory").read_doubles("q");
    first.resize(original.size());
    const bool same_build = same_values(first, original);
    INFO((same_build ? "this build reproduces the fixture's samples: bit for bit"
                     : "this build computes the fixture's samples to rounding: to 1e-9"));
    if (!same_build) CHECK(same_values(first, original, 1e-9));
    same_results(old_file, fresh, same_build ? 0 : 1e-9);
  }
}

TEST_CASE("format version 1: inspect, --h0 and the CLI read a complete file", "[simulate][stream][cli]") {
  const std::string path = data_file("v1_complete.h5");
  const auto report = amari::inspect::inspect_file(path);
  std::map<std::string, amari::inspect::summary_entry> entries;
  for (const auto& prod : report.products)
    for (const auto& e : prod.entries) entries[prod.group + " " + e.key] = e;
  REQUIRE(entries.count("/lyapunov lambda_1"));
  CHECK(entries["/lyapunov lambda_1"].text == "(+- SE over time batches (one run))");
  CHECK(entries.count("/stationary stationary q2"));
  // C_sem of a version-1 file with one run is NaN: no label then.
  CHECK(entries["/stationary C(0)"].text.empty());
  auto f = st::file::open_read(path);
  const auto h0 = amari::read_initial_state(path + ":/trajectory/h_final", 30, 1);
  const auto hf = f.group_at("/trajectory").read_doubles("h_final");
  REQUIRE(h0.rows() == 30);
  for (std::int64_t i = 0; i < 30; ++i) CHECK(h0(i, 0) == hf[i]);
  const auto r = amari::test::run_shell(std::string(AMARI_CLI_PATH) + " inspect " + path);
  CHECK(WEXITSTATUS(r.status) == 0);
  CHECK_THAT(r.out, Catch::Contains(", format 1, product simulate"));
}
