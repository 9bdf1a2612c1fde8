// amari simulate: simulate a finite random rate network dh/dt = -h + W phi(h) + b.
// The CLI translates options into amari::simulate_params, the library simulates, the writer
// (simulate_output.hpp) streams into the HDF5 file; here only the reporting.
#include <cmath>
#include <cstdio>
#include <set>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "amari/core/error.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/io/arrays.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/io/layout/simulate.hpp"
#include "amari/io/store.hpp"
#include "amari/sim/predictions.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

class simulate_command final : public command {
 public:
  std::string name() const override { return "simulate"; }
  std::string summary() const override {
    return "simulate a finite random rate network dh/dt = -h + W phi(h) + b";
  }

  void declare(OptionSet& o) override {
    o.add_params(simulate_params::table(), p_);
    o.add("h0", h0_);
    o.add("weights", weights_);
    o.add("bias", bias_);
    o.add("output", output_, "output HDF5 file (/trajectory ..., docs/FORMAT.md); refused if it exists, unless --force");
    o.add("force", force_);
    o.add("resume", resume_);
    o.add("json", json_, "print the summary as JSON");
    o.add("quiet", quiet_, "no progress bar, no summary text");
  }

  int run(const invocation& inv) override {
    if (!resume_.empty()) return resume(inv);
    // The map samples whole iterations: unless told otherwise, every one.
    if (p_.stepper == stepper_kind::map && !inv.options.given("dt_out")) p_.dt_out = 1;
    simulate_inputs in;
    // The user's own W and b (docs/simulate.md, "Your own network"): N from W unless --n is given.
    loaded_network user;
    user_network u;
    if (!weights_.empty() || !bias_.empty()) {
      user = read_user_network(weights_, bias_);
      u = user.view();
      const auto names = inv.options.given_names();
      apply_user_network(p_, u, std::set<std::string>(names.begin(), names.end()));
      in.network = &u;
    }
    p_.validate();
    require_memory(p_);
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
    if (in.network) layout::network::write_provenance(f, u);
    simulation_writer writer(f, p_, false, !h0_.empty(), [this, &in](double m0, double q0) {
      return predict_simulation(p_, m0, q0, in.network);
    });
    const auto r = execute(writer, in);
    f.close();
    if (u.has_weights()) weights_ = u.weights_source;
    if (u.has_bias()) bias_ = u.bias_source;
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
    // Only what does not change the result applies: the runtime settings and the reporting.
    std::string allowed;
    for (const auto& e : simulate_params::table().entries())
      if (e.spec->role == param_role::runtime) allowed += e.spec->option() + ", ";
    allowed += vocabulary("json").option() + ", " + vocabulary("quiet").option();
    for (const auto& name : inv.options.given_names()) {
      const param_spec& s = vocabulary(name);
      if (s.role == param_role::runtime || name == "json" || name == "quiet" || name == "resume") continue;
      throw InvalidArgument(fmt::format(
          "--resume continues a run with the parameters stored in its file: {} cannot be changed (only {} apply)",
          s.option(), allowed));
    }
    const std::int64_t threads = p_.threads;
    const double flush = p_.flush_interval;
    require_readable("resume", resume_);
    loaded_network user;  // the user's W and b of the run, if it had them (checksums checked)
    {
      auto probe = store::file::open_read(resume_);
      const std::string status = probe.status();
      if (status == "complete")
        throw InvalidArgument("resume", resume_, "is a complete run: there is nothing to resume");
      user = layout::network::read_provenance(probe);
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
    const user_network u = user.view();
    if (u.has_weights() || u.has_bias()) in.network = &u;
    weights_ = u.has_weights() ? u.weights_source : "", bias_ = u.has_bias() ? u.bias_source : "";
    output_ = resume_;
    const auto r = execute(writer, in);
    f.close();
    report(r);
    return 0;
  }

  void report(const simulate_result& r) const {
    if (json_) {
      io::record j = layout::simulate::to_record(p_, r);
      // The user's W and b (then sigma_w, w0 or sigma_b, b0 above describe nothing of this run).
      if (!weights_.empty()) j.add("weights", weights_);
      if (!bias_.empty()) j.add("bias", bias_);
      j.add("output", output_);
      print_json(j);
      return;
    }
    if (quiet_) return;
    // (the storage of W only when it is not the state's precision)
    const bool narrow = to_string(p_.weight_storage()) != to_string(p_.precision);
    const std::string weights = narrow ? fmt::format(", W in {}{}", to_string(p_.weight_storage()),
                                                     p_.accumulation == accumulation_kind::blocked ? ", blocked sums" : "")
                                       : "";
    std::printf("amari simulate: N = %lld, %s, %lld draw(s) x %lld replica(s), t = 0 .. %g (%s, %s%s)\n",
                static_cast<long long>(p_.net.n), p_.net.model.phi.spec().c_str(), static_cast<long long>(p_.draws),
                static_cast<long long>(p_.replicas), p_.t_end, std::string(to_string(p_.stepper)).c_str(),
                std::string(to_string(p_.precision)).c_str(), weights.c_str());
    if (!weights_.empty() || !bias_.empty())
      std::printf("  W %s, b %s\n", weights_.empty() ? "drawn" : ("from " + weights_).c_str(),
                  bias_.empty() ? "drawn" : ("from " + bias_).c_str());
    std::printf("  %lld steps, %lld right-hand sides, %.2f s\n", static_cast<long long>(r.steps),
                static_cast<long long>(r.rhs_evals), r.seconds);
    std::printf("  q(t_end) = %.6g", r.q_final.mean);
    if (std::isfinite(r.q_final.sem)) std::printf(" +- %.2g", r.q_final.sem);
    std::printf("; stationary <h^2> = %.6g", r.stationary_q2.mean);
    if (std::isfinite(r.stationary_q2.sem)) std::printf(" +- %.2g", r.stationary_q2.sem);
    std::printf(" (t >= %g)\n", p_.transient_time());
    for (std::size_t a = 0; a < r.lyapunov.size(); ++a)
      std::printf("  Lyapunov exponent %zu: %.5g +- %.2g\n", a + 1, r.lyapunov[a], r.lyapunov_sem[a]);
    // What each standard error is over (docs/simulate.md, "Error bars").
    std::printf("  standard errors: q(t_end) over %s; time averages over %s", r.q_final_sem_over.c_str(),
                r.sem_over.c_str());
    if (r.batches > 0) std::printf(" (%lld batches of %g)", static_cast<long long>(r.batches), r.batch_length);
    std::printf("\n  written to %s\n", output_.c_str());
  }

  simulate_params p_;
  std::string h0_, weights_, bias_, output_ = "simulate.h5", resume_;
  bool force_ = false, json_ = false, quiet_ = false;
};

}  // namespace

std::unique_ptr<command> make_simulate_command() { return std::make_unique<simulate_command>(); }

}  // namespace amari::cli
