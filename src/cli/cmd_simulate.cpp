// amari simulate: simulate a finite random rate network dh/dt = -h + W phi(h) + b.
// The CLI translates options into amari::simulate_params, the library simulates, the writer
// (simulate_output.hpp) streams into the HDF5 file; here only the reporting.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
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
#include "mpi.hpp"
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
    o.add("ranks_per_group", ranks_per_group_);
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
    // W's rows are read once the memory check has counted them (and, under mpirun, once the ranks
    // know which rows they hold): first its shape alone.
    if (!weights_.empty() || !bias_.empty()) {
      user = read_user_network(weights_, bias_, row_range{0, 0});
      u = user.view();
      const auto names = inv.options.given_names();
      apply_user_network(p_, u, std::set<std::string>(names.begin(), names.end()));
      in.network = &u;
    }
    p_.validate();
    distribute();
    // A plain run holds the user's W whole when it fits as float64 beside the run (read once);
    // otherwise, and under mpirun, its rows are streamed into the storage.
    hold_weights_ = !dist_ && !weights_.empty() &&
                    memory_needed(p_) + static_cast<std::uint64_t>(p_.net.n) * static_cast<std::uint64_t>(p_.net.n) * 8 <=
                        memory_usable();
    // (each node checks its own memory; a node that is short says so through rank 0)
    if (dist_) agree_all([&] { check_memory(!weights_.empty()); });
    else check_memory(!weights_.empty());
    if (!weights_.empty()) {
      // Held (a plain run where it fits): read whole, once. Streamed: each rank reads its rows (an
      // HDF5 hyperslab, or the rows' bytes of a .npy) a block at a time as its network is built,
      // rounding them into the storage (loaded_network::streamed): memory holds the storage and a
      // block. Rank 0, which writes W's checksum and solves the theories at W's moments, first
      // reads the file twice in blocks for them (the same numbers as from W held whole), which
      // also finds a non-finite entry before any file is written.
      const auto load = [&] {
        if (hold_weights_) {
          user.weights = read_array("weights", weights_, held_rows());
        } else {
          user.streamed = held_rows();
          if (root()) user.summary = weights_summary_of(weights_);
        }
        u = user.view();
        validate_user_network(p_, u);
      };
      if (dist_) agree_all(load);
      else load();
    }
    Eigen::MatrixXd h0;
    if (!h0_.empty()) {
      if (const auto colon = h0_.rfind(':'); colon != std::string::npos && colon > 0)
        require_readable("h0", h0_.substr(0, colon));
      h0 = read_initial_state(h0_, p_.net.n, p_.replicas);
      in.h0 = &h0;
    }
    // Rank 0 writes the file (every rank learns whether it could).
    std::optional<store::file> f;
    agree([&] {
      require_writable(output_, force_);
      f.emplace(store::file::create(output_, {.force = force_,
                                              .command_line = inv.command_line,
                                              .config_toml = inv.options.resolved_toml(),
                                              .seed = static_cast<std::uint64_t>(p_.net.seed),
                                              .product = "simulate",
                                              .flush_interval = p_.flush_interval}));
      if (in.network) layout::network::write_provenance(*f, u);
    });
    simulate_result r;
    if (f) {
      simulation_writer writer(*f, p_, false, !h0_.empty(), [this, &in](double m0, double q0) {
        return predict_simulation(p_, m0, q0, in.network);
      });
      r = execute(writer, in);
      f->close();
    } else {
      simulation_observer_none none;
      r = execute(none, in);
    }
    if (u.has_weights()) weights_ = u.weights_source;
    if (u.has_bias()) bias_ = u.bias_source;
    if (root()) report(r);
    return 0;
  }

 private:
  // The other ranks of a distributed run observe nothing: rank 0 writes.
  struct simulation_observer_none final : simulation_observer {
    void on_sample(const sample&) override {}
  };

  // The ranks of an MPI job (docs/parallel.md, "One simulation on several ranks") in groups of
  // consecutive ranks. The groups share the draws: group j integrates the draws d with d % groups
  // == j, and after every sample every rank receives every draw's observables (draw_share). The
  // ranks of a group share each of its networks by rows: rank r of P' holds the rows N r / P' ..
  // N (r + 1) / P' - 1 of W, draws them alone, and after every product gathers the others' rows of
  // the result (row_share). Which rank holds a draw or a row changes none of its bits: the run is
  // the plain run's, on any number of ranks and in any grouping.
  struct distribution {
    const mpi::world* w = nullptr;
    std::unique_ptr<mpi::group> g;
    row_share share;
    draw_share draws;
    std::atomic<int> stop{0};  // the stop request, agreed by every rank at every sample
  };

  bool root() const { return !dist_ || dist_->w->rank() == 0; }

  // The group size: ranks_per_group when given (a divisor of the ranks, leaving a draw for every
  // group), otherwise the smallest such divisor with which every rank of a node fits in memory
  // (the largest, when none does: its memory check then says what is missing). A plain run is a
  // group of one whatever ranks_per_group says (a config written under mpirun replays plainly).
  std::int64_t group_size(std::int64_t ranks, int node_ranks) const {
    const std::int64_t n = p_.net.n, D = p_.draws, g = ranks_per_group_;
    if (g < 0)
      throw InvalidArgument("ranks_per_group", std::to_string(g), "must be 0 (chosen) or a divisor of the MPI ranks");
    if (ranks == 1) return 1;
    if (g != 0) {
      if (ranks % g != 0)
        throw InvalidArgument("ranks_per_group", std::to_string(g),
                              fmt::format("must divide the number of MPI ranks ({}); 0 chooses", ranks));
      if (ranks / g > D)
        throw InvalidArgument("ranks_per_group", std::to_string(g),
                              fmt::format("makes {} groups of ranks for draws = {}: every group needs a draw; "
                                          "accepted: a divisor of {} of at least {}",
                                          ranks / g, D, ranks, (ranks + D - 1) / D));
      if (n < g)
        throw InvalidArgument("n", std::to_string(n),
                              fmt::format("must be at least ranks_per_group ({}) to spread W over them", g));
      return g;
    }
    // The sizes that are possible whatever the memory (the same on every rank), then the smallest
    // that fits (which depends on this node's memory: distribute() agrees on it).
    std::vector<int> valid;
    for (std::int64_t s = 1; s <= ranks; ++s)
      if (ranks % s == 0 && ranks / s <= D && n >= s) valid.push_back(static_cast<int>(s));
    if (valid.empty())
      throw InvalidArgument("n", std::to_string(n),
                            fmt::format("must be at least the number of MPI ranks ({}) to spread W over them", ranks));
    return mpi::smallest_fitting(valid, node_ranks, [&](int s) {
      simulate_params mine = p_;
      mine.draws = draws_per_group(D, ranks / s);
      return memory_needed(mine, largest_row_block(n, s));
    });
  }

  void distribute() {
    const mpi::world* w = mpi::current();  // (an MPI job of several ranks, or none)
    const bool job = w && w->active() && w->size() > 1;
    const std::int64_t ranks = job ? w->size() : 1;
    std::int64_t size = group_size(ranks, job ? w->node_size() : 1);
    if (!job) return;
    // The nodes' memories may differ, and so the size each rank chose: the largest is the smallest
    // that fits on every node (a larger group holds fewer rows and draws per rank).
    size = w->max(static_cast<int>(size));
    dist_ = std::make_unique<distribution>();
    distribution* d = dist_.get();
    d->w = w;
    d->g = w->split(static_cast<int>(size));
    if (size > 1) {
      const mpi::group* g = d->g.get();
      d->share.rows = row_block(p_.net.n, g->rank(), g->size());
      d->share.exchange = [g](double* y, std::int64_t n, std::int64_t cols) { g->allgather_rows(y, n, cols); };
      d->share.exchange_float = [g](float* y, std::int64_t n, std::int64_t cols) { g->allgather_rows(y, n, cols); };
    }
    if (d->g->count() > 1) {
      const std::int64_t groups = d->g->count();
      d->draws.group = d->g->index();
      d->draws.groups = groups;
      // The first rank of each group sends the rows of its group's draws (padded to the largest
      // group's number; the group's other ranks hold the same rows and send nothing).
      d->draws.gather = [d, groups, size](double* values, std::int64_t D, std::int64_t per) {
        const std::int64_t most = draws_per_group(D, groups);
        std::vector<double> mine(static_cast<std::size_t>(most * per)), all(mine.size() * std::size_t(groups));
        for (std::int64_t i = 0, dd = d->draws.group; dd < D; ++i, dd += groups)
          std::copy_n(values + dd * per, per, mine.begin() + i * per);
        d->w->allgather_groups(mine.data(), most, per, static_cast<int>(size), all.data());
        for (std::int64_t j = 0; j < groups; ++j)
          for (std::int64_t i = 0, dd = j; dd < D; ++i, dd += groups)
            std::copy_n(all.begin() + (j * most + i) * per, per, values + dd * per);
      };
      d->draws.max = [d](int v) { return d->w->max(v); };
    }
  }

  // The memory check of this rank's share, counting the ranks of its node (and, with the user's
  // W, its rows as read).
  void check_memory(bool user_weights) const {
    // (the user's W held whole, or streamed a block of rows at a time: loaded_network::streamed,
    // whose reading holds the block about twice, and a float32 file's raw block)
    const std::int64_t user_rows =
        !user_weights ? 0 : hold_weights_ ? held_rows().count : std::min(held_rows().count, 3 * weights_block_rows(p_.net.n));
    if (!dist_) return require_memory(p_, -1, 1, user_rows);
    simulate_params mine = p_;
    std::uint64_t others = 0;  // the other groups' checkpoints, gathered at every flush
    if (dist_->g->count() > 1) {
      mine.draws = draws_per_group(p_.draws, dist_->g->count());
      others = static_cast<std::uint64_t>(p_.draws - mine.draws) * checkpoint_bytes(p_);
    }
    require_memory(mine, dist_->g->size() > 1 ? dist_->share.rows.count : -1, dist_->w->node_size(), user_rows,
                   others);
  }

  // The rows of W this rank holds (all of them in a group of one).
  row_range held_rows() const {
    return dist_ && dist_->g->size() > 1 ? dist_->share.rows : row_range{0, p_.net.n};
  }

  // `step` on every rank of a distributed run, failing on all if it failed on any (mpi::agree_all).
  void agree_all(const std::function<void()>& step) const { mpi::agree_all(*dist_->w, step); }

  // Runs `setup` on rank 0 (all of it in a plain run); in a distributed run every rank then throws
  // what it threw (mpi::agree_root).
  void agree(const std::function<void()>& setup) {
    if (!dist_) return setup();
    mpi::agree_root(*dist_->w, setup);
  }

  simulate_result execute(simulation_observer& obs, simulate_inputs in) {
    progress_bar bar("simulate", quiet_ || json_ || !root());
    run_control control;
    control.stop = &stop_flag();
    control.progress = bar.callback();
    if (!dist_) return simulate(p_, obs, control, in);
    // Every rank stops at the same sample: the library asks for a stop after reporting progress at
    // every sample, so the ranks agree on it there.
    if (dist_->g->size() > 1) in.share = &dist_->share;
    if (dist_->g->count() > 1) in.draws = &dist_->draws;
    control.stop = &dist_->stop;
    control.progress = [this, report = bar.callback()](double done, double total) {
      dist_->stop = dist_->w->max(stop_flag().load());
      if (report) report(done, total);
    };
    try {
      return simulate(p_, obs, control, in);
    } catch (const Interrupted&) {
      throw;  // every rank, at the same sample
    } catch (const NumericalError&) {
      throw;  // every rank meets it at the same sample (the failure travels with the sample)
    } catch (const std::exception& e) {
      // What only this rank met (a write of rank 0's file, memory): end the job, not just this rank.
      std::fprintf(stderr, "amari: rank %d: %s\n", dist_->w->rank(), e.what());
      dist_->w->abort(dynamic_cast<const InvalidArgument*>(&e) ? 2 : 1);
    }
  }

  int resume(const invocation& inv) {
    // Only what does not change the result applies: the runtime settings and the reporting.
    std::string allowed;
    for (const auto& e : simulate_params::table().entries())
      if (e.spec->role == param_role::runtime) allowed += e.spec->option() + ", ";
    allowed += vocabulary("ranks_per_group").option() + ", " + vocabulary("json").option() + ", " +
               vocabulary("quiet").option();
    for (const auto& name : inv.options.given_names()) {
      const param_spec& s = vocabulary(name);
      if (s.role == param_role::runtime || name == "json" || name == "quiet" || name == "resume" ||
          name == "ranks_per_group")
        continue;
      throw InvalidArgument(fmt::format(
          "--resume continues a run with the parameters stored in its file: {} cannot be changed (only {} apply)",
          s.option(), allowed));
    }
    const std::int64_t threads = p_.threads;
    const double flush = p_.flush_interval;
    require_readable("resume", resume_);
    // Every rank reads the run's parameters, its W and b if the user gave them (checksums checked)
    // and the checkpoint; then rank 0 alone opens the file to continue it.
    loaded_network user;
    checkpoint ck;
    bool user_weights = false;
    {
      auto probe = store::file::open_read(resume_);
      const std::string status = probe.status();
      if (status == "complete")
        throw InvalidArgument("resume", resume_, "is a complete run: there is nothing to resume");
      p_ = read_simulate_params(probe);
      p_.threads = threads;
      p_.flush_interval = flush;
      p_.validate();
      ck = read_checkpoint(probe, p_);
      user_weights = layout::network::has_user_weights(probe);
    }
    distribute();
    if (dist_) agree_all([&] { check_memory(user_weights); });
    else check_memory(user_weights);
    // (under mpirun each rank reads its rows of the user's W, and rank 0 checks the checksum)
    const auto read_network = [&] {
      auto probe = store::file::open_read(resume_);
      user = layout::network::read_provenance(probe, dist_ ? held_rows() : row_range{}, root());
    };
    if (dist_) agree_all(read_network);
    else read_network();
    std::optional<store::file> f;
    if (dist_) {
      std::string sync;
      dist_->w->broadcast(sync, 0);  // every rank has closed the file
    }
    agree([&] {
      f.emplace(store::file::open_append(resume_, {.flush_interval = flush}));
      f->rewind_to_checkpoint();
    });
    simulate_inputs in;
    in.resume = &ck;
    const user_network u = user.view();
    if (u.has_weights() || u.has_bias()) in.network = &u;
    weights_ = u.has_weights() ? u.weights_source : "", bias_ = u.has_bias() ? u.bias_source : "";
    output_ = resume_;
    simulate_result r;
    if (f) {
      simulation_writer writer(*f, p_, true);
      r = execute(writer, in);
      f->close();
    } else {
      simulation_observer_none none;
      r = execute(none, in);
    }
    if (root()) report(r);
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
  std::int64_t ranks_per_group_ = 0;
  std::unique_ptr<distribution> dist_;  // null in a plain run
  bool hold_weights_ = false;           // the user's W read whole (else streamed)
};

}  // namespace

std::unique_ptr<command> make_simulate_command() { return std::make_unique<simulate_command>(); }

}  // namespace amari::cli
