// amari simulate: simulate a finite random rate network dh/dt = -h + W phi(h) + b.
// The CLI translates options into amari::simulate_params, the library simulates, the writer
// (simulate_output.hpp) streams into the HDF5 file; here only the reporting.
#include <cmath>
#include <cstdio>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "amari/core/error.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

class simulate_command final : public command {
 public:
  std::string name() const override { return "simulate"; }
  std::string summary() const override {
    return "simulate a finite random rate network dh/dt = -h + W phi(h) + b";
  }

  void declare(OptionSet& o) override {
    auto& n = p_.net;
    o.add("n", n.n, "number of neurons N", "neurons");
    o.add("phi", phi_, "activation: " + std::string(Activation::accepted_forms()));
    o.add("sigma-w", n.sigma_w, "standard deviation of W_ij, times sqrt(N)");
    o.add("sigma-b", n.sigma_b, "standard deviation of the bias b_i", "units of h");
    o.add("w0", n.w0, "mean of W_ij, times N");
    o.add("b0", n.b0, "mean of the bias b_i", "units of h");
    o.add("m0", n.m0, "mean of h_i(0)", "units of h");
    o.add("q0", n.q0, "variance of h_i(0)", "units of h^2");
    o.add("seed", n.seed, "seed of every random number (W, b, h(0), tangent vectors)");
    o.add("replicas", p_.replicas, "initial conditions sharing W and b");
    o.add("draws", p_.draws, "independent draws of (W, b), run side by side");
    o.add("t-end", p_.t_end, "duration (iterations for the map)", "leak time constants");
    o.add("dt", p_.dt, "step of rk4 and euler", "leak time constants");
    o.add("dt-out", p_.dt_out, "sampling interval (the map: 1 unless given)", "leak time constants");
    o.add("stepper", stepper_, "rk4 | dopri5 (adaptive) | euler | map (h <- W phi(h) + b)");
    o.add("rtol", p_.rtol, "dopri5: relative tolerance");
    o.add("atol", p_.atol, "dopri5: absolute tolerance", "units of h");
    o.add("precision", precision_, "double | float (state and W)");
    o.add("record-neurons", p_.record_neurons, "record the traces h_i(t) of neurons 0 .. K-1", "neurons");
    o.add_flag("lyapunov", p_.lyapunov, "compute Lyapunov exponents (tangent dynamics, QR renormalisation)");
    o.add("lyapunov-k", p_.lyapunov_k, "number of Lyapunov exponents (the top of the spectrum)");
    o.add("lyapunov-interval", p_.lyapunov_interval, "time between renormalisations", "leak time constants");
    o.add("transient", p_.transient, "start of the stationary window (negative: t_end / 4)", "leak time constants");
    o.add("acf-lag", p_.acf_lag, "largest lag of C(tau) (negative: min(20, window / 2); 0: none)", "leak time constants");
    o.add("acf-neurons", p_.acf_neurons, "neurons used for C(tau) (the first ones)", "neurons");
    o.add("replica-eps", p_.replica_eps, "> 0: replicas start at replica 0's h(0) plus eps N(0, 1)", "units of h");
    o.add("h0", h0_, "initial state from FILE:DATASET of shape [N] or [replicas, N]; none: drawn from N(m0, q0)");
    o.add("threads", p_.threads, "threads (0: all cores); results do not depend on it");
    o.add("flush-interval", p_.flush_interval, "wall time between flushes and checkpoints", "s");
    o.add("o,output", output_, "output HDF5 file (/trajectory ..., docs/FORMAT.md); refused if it exists, unless --force");
    o.add_flag("force", force_, "overwrite the output file if it exists");
    o.add("resume", resume_, "continue the interrupted run in this file (its own parameters)");
    o.add_flag("json", json_, "print the summary as JSON");
    o.add_flag("quiet", quiet_, "no progress bar, no summary text");
  }

  int run(const invocation& inv) override {
    if (!resume_.empty()) return resume(inv);
    p_.net.phi = Activation::parse(phi_, "phi");
    p_.stepper = parse_stepper(stepper_);
    p_.precision = parse_precision(precision_);
    // The map samples whole iterations: unless told otherwise, every one.
    if (p_.stepper == stepper_kind::map && !inv.options.given("dt-out")) p_.dt_out = 1;
    p_.validate();
    require_memory(p_);
    simulate_inputs in;
    Eigen::MatrixXd h0;
    if (!h0_.empty()) {
      if (const auto colon = h0_.rfind(':'); colon != std::string::npos && colon > 0)
        require_readable("h0", h0_.substr(0, colon));
      h0 = read_initial_state(h0_, p_.net.n, p_.replicas);
      in.h0 = &h0;
    }
    require_writable(output_, force_);
    auto f = store::file::create(output_, {.force = force_,
                                           .command_line = inv.command_line,
                                           .config_toml = inv.options.resolved_toml(),
                                           .seed = static_cast<std::uint64_t>(p_.net.seed),
                                           .product = "simulate",
                                           .flush_interval = p_.flush_interval});
    simulation_writer writer(f, p_, false, !h0_.empty());
    const auto r = execute(writer, in);
    f.close();
    report(r);
    return 0;
  }

 private:
  simulate_result execute(simulation_writer& writer, const simulate_inputs& in) {
    progress_bar bar("simulate", quiet_ || json_);
    run_control control;
    control.stop = &stop_flag();
    control.progress = bar.callback();
    return simulate(p_, writer, control, in);
  }

  int resume(const invocation& inv) {
    for (const char* opt : {"n", "phi", "sigma-w", "sigma-b", "w0", "b0", "m0", "q0", "seed", "replicas",
                            "draws", "t-end", "dt", "dt-out", "stepper", "rtol", "atol", "precision",
                            "record-neurons", "lyapunov", "lyapunov-k", "lyapunov-interval", "transient",
                            "acf-lag", "acf-neurons", "replica-eps", "h0", "output", "force"})
      if (inv.options.given(opt))
        throw InvalidArgument(fmt::format(
            "--resume continues a run with the parameters stored in its file: --{} cannot be changed "
            "(only --threads, --flush-interval, --json, --quiet apply)", opt));
    const std::int64_t threads = p_.threads;
    const double flush = p_.flush_interval;
    require_readable("resume", resume_);
    {
      auto probe = store::file::open_read(resume_);
      const std::string status = probe.status();
      if (status == "complete")
        throw InvalidArgument("resume", resume_, "is a complete run: there is nothing to resume");
    }
    auto f = store::file::open_append(resume_, {.flush_interval = flush});
    p_ = read_simulate_params(f);
    p_.threads = threads;
    p_.flush_interval = flush;
    p_.validate();
    require_memory(p_);
    const checkpoint ck = read_checkpoint(f, p_);
    f.rewind_to_checkpoint();
    simulation_writer writer(f, p_, true);
    simulate_inputs in;
    in.resume = &ck;
    output_ = resume_;
    const auto r = execute(writer, in);
    f.close();
    report(r);
    return 0;
  }

  void report(const simulate_result& r) const {
    if (json_) {
      nlohmann::json j = {{"n", p_.net.n},           {"t_end", p_.t_end},
                          {"steps", r.steps},        {"rhs_evals", r.rhs_evals},
                          {"q_final", number(r.q_final.mean)}, {"seconds", r.seconds}};
      if (p_.lyapunov) {
        j["lyapunov"] = number(r.lyapunov.empty() ? NAN : r.lyapunov[0]);
        j["lyapunov_sem"] = number(r.lyapunov_sem.empty() ? NAN : r.lyapunov_sem[0]);
        nlohmann::json spec = nlohmann::json::array();
        for (double x : r.lyapunov) spec.push_back(number(x));
        j["lyapunov_spectrum"] = spec;
      }
      j["output"] = output_;
      std::printf("%s\n", j.dump().c_str());
      return;
    }
    if (quiet_) return;
    std::printf("amari simulate: N = %lld, %s, %lld draw(s) x %lld replica(s), t = 0 .. %g (%s, %s)\n",
                static_cast<long long>(p_.net.n), p_.net.phi.spec().c_str(), static_cast<long long>(p_.draws),
                static_cast<long long>(p_.replicas), p_.t_end, std::string(to_string(p_.stepper)).c_str(),
                std::string(to_string(p_.precision)).c_str());
    std::printf("  %lld steps, %lld right-hand sides, %.2f s\n", static_cast<long long>(r.steps),
                static_cast<long long>(r.rhs_evals), r.seconds);
    std::printf("  q(t_end) = %.6g", r.q_final.mean);
    if (std::isfinite(r.q_final.sem)) std::printf(" +- %.2g", r.q_final.sem);
    std::printf("; stationary <h^2> = %.6g", r.stationary_q2.mean);
    if (std::isfinite(r.stationary_q2.sem)) std::printf(" +- %.2g", r.stationary_q2.sem);
    std::printf(" (t >= %g)\n", p_.transient_time());
    for (std::size_t a = 0; a < r.lyapunov.size(); ++a)
      std::printf("  Lyapunov exponent %zu: %.5g +- %.2g\n", a + 1, r.lyapunov[a], r.lyapunov_sem[a]);
    std::printf("  written to %s\n", output_.c_str());
  }

  simulate_params p_;
  std::string phi_ = "tanh", stepper_ = "dopri5", precision_ = "double";
  std::string h0_, output_ = "simulate.h5", resume_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_simulate_command() { return std::make_unique<simulate_command>(); }

}  // namespace amari::cli
