// amari sweep: run a command over the Cartesian grid of its options given as lists or ranges.
//
//   amari sweep -o s.h5 simulate --n 300 --sigma-w 1:2.5:10 --seed 1,2 --lyapunov
//
// The sweep's own options (-o, --json, --quiet, --force, --resume, --keep) come before the command; after
// it, any option of the command may be a list `a,b,c` or, when numeric, a range `start:stop:count`
// (options that take lists already -- meanfield --times -- keep their meaning). Every grid point
// is validated before anything runs; each completed point is in the file at once, so a killed
// sweep loses only the point in flight and `--resume FILE` runs the rest.
#include <cmath>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <fmt/format.h>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <utility>
#include <thread>

#include "amari/core/error.hpp"
#include "amari/io/layout/sweep.hpp"
#include "amari/io/runner.hpp"
#include "amari/io/sweep.hpp"
#include "amari/io/store.hpp"
#include "checks.hpp"
#include "command.hpp"
#include "json.hpp"
#include "progress.hpp"
#include "mpi.hpp"
#include "signals.hpp"

namespace amari::cli {

namespace {

namespace lay = layout::sweep;
using io::sweep::make_plan;
using io::sweep::validate_all;

// Messages from the ranks to rank 0.
enum tag : int { point_done = 1, rank_done = 2, rank_failed = 3, rank_interrupted = 4 };

// A point's result: k, the record's length, the record's bytes, and with --keep the bytes of the
// point's product file (which rank 0 copies into its file).
std::string point_message(std::int64_t k, const io::record& r, const std::string& product = "") {
  const std::string record = io::encode(r);
  const std::uint64_t length = record.size();
  std::string bytes(sizeof k + sizeof length, '\0');
  std::memcpy(bytes.data(), &k, sizeof k);
  std::memcpy(bytes.data() + sizeof k, &length, sizeof length);
  return bytes + record + product;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class sweep_command final : public command {
 public:
  std::string name() const override { return "sweep"; }
  std::string summary() const override {
    return "run simulate, meanfield, dmft, maps, deepnet or finite over a grid: options as lists a,b,c or ranges start:stop:count";
  }
  void declare(OptionSet& opts) override {
    opts.add("output", output_, "the sweep's HDF5 file (/sweep, docs/FORMAT.md); default sweep.h5");
    opts.add("force", force_);
    opts.add("resume", resume_, "run the points not yet complete of the sweep in this file (its own options)");
    opts.add("json", json_, "print the axes and every result over the grid as one JSON object");
    opts.add("quiet", quiet_);
    opts.add("keep", keep_);
    opts.add("ranks_per_group", ranks_per_group_,
             "under mpirun: the ranks that run each simulate point together, sharing its rows of W (1: a rank "
             "per point; 0: the fewest with which the largest point fits in memory)");
    opts.pass_through();
    options_ = &opts;
  }

  int run(const invocation& inv) override {
    const std::vector<std::string> rest = options_->remaining();
    const mpi::world* w = mpi::current();
    const bool distributed = w && w->active() && w->size() > 1;
    const bool root = !distributed || w->rank() == 0;

    // Every rank builds and checks the plan (the same on all: the same arguments or file).
    lay::plan plan;
    if (!resume_.empty()) {
      if (!rest.empty())
        throw InvalidArgument(fmt::format("resume = {}: takes the command and its options from the file; give "
                                          "nothing after --resume FILE (found '{}')",
                                          resume_, rest.front()));
      if (keep_)
        throw InvalidArgument(fmt::format("keep = true: a resumed sweep keeps the points' products as its file "
                                          "says (the --keep of the sweep that wrote {}); give --resume FILE alone",
                                          resume_));
      require_readable("resume", resume_);
      plan = io::sweep::resume_plan(resume_);
    } else {
      if (rest.empty()) {
        std::string list;
        for (auto c : io::runner_commands()) list += (list.empty() ? "" : ", ") + std::string(c);
        throw InvalidArgument("command = (none): amari sweep needs a command after its own options; accepted: " + list);
      }
      plan = make_plan(rest.front(), {rest.begin() + 1, rest.end()});
      plan.keep = keep_;
    }
    // The rank groups (simulate points shared by rows of W), then every point checked with its
    // share; each node checks its own memory (a node that is short says so through rank 0).
    if (ranks_per_group_ < 0)
      throw InvalidArgument("ranks_per_group", std::to_string(ranks_per_group_),
                            "must be 0 (chosen) or a divisor of the MPI ranks");
    std::unique_ptr<mpi::group> group;
    io::row_split split;
    if (distributed) {
      int size = 1;
      mpi::agree_all(*w, [&] { size = group_size(plan, *w); });
      // The nodes' memories may differ, and so the size each rank chose: the largest fits on all.
      size = w->max(size);
      group = w->split(size);
      if (size > 1) {
        const mpi::group* g = group.get();
        split.ranks = size;
        split.rank = g->rank();
        split.exchange = [g](double* y, std::int64_t n, std::int64_t cols) { g->allgather_rows(y, n, cols); };
        split.exchange_float = [g](float* y, std::int64_t n, std::int64_t cols) { g->allgather_rows(y, n, cols); };
      }
      mpi::agree_all(*w, [&] { validate_all(plan, w->node_size(), split); });
    } else {
      validate_all(plan, 1);
    }

    // Rank 0 owns the file; the others learn from it which points are left (or why there is none).
    std::optional<store::file> file;
    const std::int64_t points = plan.points();
    std::vector<bool> done;
    const auto open = [&] {
      if (!resume_.empty()) {
        file.emplace(store::file::open_append(resume_));
      } else {
        const std::string out = output_.empty() ? "sweep.h5" : output_;
        require_writable(out, force_);
        file.emplace(create_output(inv, "sweep", out, force_));
        lay::write_plan(*file, plan);
        file->flush();
      }
      done = lay::points_done(*file, points);
    };
    if (distributed) {
      mpi::agree_root(*w, open);
      std::string bytes = root ? std::string(done.begin(), done.end()) : std::string();
      w->broadcast(bytes, 0);
      done.assign(bytes.begin(), bytes.end());
    } else {
      open();
    }

    // The points left, dealt round-robin over the groups (of one rank each, unless split).
    std::vector<std::int64_t> mine;
    std::int64_t left = 0;
    for (std::int64_t k = 0; k < points; ++k) {
      if (done[std::size_t(k)]) continue;
      if (!distributed || left % group->count() == group->index()) mine.push_back(k);
      ++left;
    }
    const shared_points shared{group.get(), split};
    // The command line the points' products record (--keep): the sweep's, as its file says (after
    // --resume too), which rank 0 tells the others.
    std::string command_line = root ? file->root().attr_string("command_line") : "";
    if (distributed) w->broadcast(command_line, 0);
    if (!root) return work(*w, plan, mine, command_line, shared);
    return lead(inv, *file, plan, done, mine, distributed ? w : nullptr, shared);
  }

 private:
  // The ranks per group: ranks_per_group when given (a divisor of the ranks; above 1 for simulate
  // only), else for simulate the smallest divisor with which the largest point's share fits in
  // this node's memory for every rank on it (the largest divisor when none does: the memory check
  // then says what is missing), and 1 for the other commands.
  int group_size(const lay::plan& plan, const mpi::world& w) const {
    const std::int64_t ranks = w.size(), g = ranks_per_group_;
    const bool simulate = plan.command == "simulate";
    if (g != 0) {
      if (ranks % g != 0)
        throw InvalidArgument("ranks_per_group", std::to_string(g),
                              fmt::format("must divide the number of MPI ranks ({}); 0 chooses", ranks));
      if (g > 1 && !simulate)
        throw InvalidArgument("ranks_per_group", std::to_string(g),
                              fmt::format("shares the rows of W of simulate's points only; {} points run on one "
                                          "rank each: accepted 0 or 1",
                                          plan.command));
      return static_cast<int>(g);
    }
    if (!simulate) return 1;
    std::vector<int> divisors;
    for (int s = 1; s <= ranks; ++s)
      if (ranks % s == 0) divisors.push_back(s);
    return mpi::smallest_fitting(divisors, w.node_size(), [&plan](int s) {
      io::row_split probe;
      probe.ranks = s;
      return io::sweep::largest_point_memory(plan, probe);
    });
  }

  // A group of ranks that run each of their points together, sharing its rows (split.ranks > 1),
  // or null / a group of one: every rank runs whole points.
  struct shared_points {
    const mpi::group* group = nullptr;
    io::row_split split;
    bool active() const { return split.ranks > 1; }
  };

  // The points `mine` of a group whose ranks share each point's rows: every rank of the group runs
  // every point, the ranks agreeing before each point whether to go on (`halt` on any of them
  // stops them all) and at every sample whether to stop (a signal to any of them). The group's
  // first rank gets each result in `deliver` (with --keep, with the path of its product). `poll`
  // runs at the safe points (rank 0 reads the other ranks' results there). A failure of the
  // point's computation (NumericalError) is met by every rank of the group at the same sample and
  // thrown as an Error naming the grid point; an interruption is thrown as Interrupted. Anything
  // else, met by one rank alone, ends the job: the others would wait for it forever.
  void run_shared(const mpi::world& w, const shared_points& sh, const lay::plan& plan,
                  const std::vector<std::int64_t>& mine, const std::string& command_line,
                  const std::function<bool()>& halt, const std::function<void()>& poll,
                  const std::function<void(std::int64_t, const io::record&, const std::string&)>& deliver) {
    const mpi::group& g = *sh.group;
    std::atomic<int> stop{0};
    run_control control{&stop, nullptr};
    control.progress = [&](double, double) {
      if (poll) poll();
      stop = g.max(stop_flag().load());
    };
    for (std::int64_t k : mine) {
      if (g.max(halt() ? 1 : 0) != 0) throw Interrupted(stop_flag().load() ? stop_flag().load() : SIGINT, "interrupted");
      try {
        if (plan.keep && g.rank() == 0) {
          const io::sweep::scratch_file product("amari-point");
          const io::record r = io::sweep::run_point(plan, k, control, product.path(), command_line, sh.split);
          deliver(k, r, product.path());
        } else {
          const io::record r = io::sweep::run_point(plan, k, control, "", "", sh.split);
          if (g.rank() == 0) deliver(k, r, "");
        }
      } catch (const Interrupted&) {
        throw;
      } catch (const NumericalError& e) {
        throw Error(fmt::format("{} (at the grid point {})", e.what(), plan.describe(k)));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "amari: rank %d: %s (at the grid point %s)\n", w.rank(), e.what(), plan.describe(k).c_str());
        w.abort(dynamic_cast<const InvalidArgument*>(&e) ? 2 : 1);
      }
    }
  }
  // A rank other than 0: runs its points and sends each result to rank 0; always ends with a
  // message saying how it ended, so that rank 0 never waits for a rank that has stopped.
  int work(const mpi::world& w, const lay::plan& plan, const std::vector<std::int64_t>& mine,
           const std::string& command_line, const shared_points& shared) {
    if (shared.active()) {
      try {
        run_shared(
            w, shared, plan, mine, command_line, [] { return stop_flag().load() != 0; }, nullptr,
            [&](std::int64_t k, const io::record& r, const std::string& product) {
              w.send(0, point_done, point_message(k, r, product.empty() ? "" : file_bytes(product)));
            });
      } catch (const Interrupted& e) {
        w.send(0, rank_interrupted, "");
        throw;
      } catch (const Error& e) {
        w.send(0, rank_failed, fmt::format("{} (on rank {})", e.what(), w.rank()));
        throw;
      }
      w.send(0, rank_done, "");
      return 0;
    }
    run_control control{&stop_flag(), nullptr};
    for (std::int64_t k : mine) {
      if (stop_flag().load()) break;
      try {
        if (plan.keep) {
          const io::sweep::scratch_file product("amari-point");
          const io::record r = io::sweep::run_point(plan, k, control, product.path(), command_line);
          w.send(0, point_done, point_message(k, r, file_bytes(product.path())));
        } else {
          w.send(0, point_done, point_message(k, io::sweep::run_point(plan, k, control)));
        }
      } catch (const Interrupted&) {
        break;
      } catch (const std::exception& e) {
        w.send(0, rank_failed, fmt::format("{} (at the grid point {}, on rank {})", e.what(), plan.describe(k), w.rank()));
        throw Error(e.what());
      }
    }
    if (const int sig = stop_flag().load()) {
      w.send(0, rank_interrupted, "");
      throw Interrupted(sig, "interrupted");
    }
    w.send(0, rank_done, "");
    return 0;
  }

  // Rank 0 (or the only process): runs its points, writes every result (its own and those the
  // other ranks send) as it arrives, and the grid at the end.
  int lead(const invocation&, store::file& f, const lay::plan& plan, const std::vector<bool>& done,
           const std::vector<std::int64_t>& mine, const mpi::world* w, const shared_points& shared) {
    const std::int64_t points = plan.points();
    progress_bar bar("sweep", quiet_ || json_);
    run_control control{&stop_flag(), nullptr};
    io::sweep::run sweep(f, plan, done, bar.callback());
    int ranks_running = w ? w->size() - 1 : 0;
    const auto handle = [&](const mpi::message& m) {
      if (m.tag == point_done) {
        std::int64_t k = 0;
        std::uint64_t length = 0;
        std::memcpy(&k, m.bytes.data(), sizeof k);
        std::memcpy(&length, m.bytes.data() + sizeof k, sizeof length);
        const std::string_view bytes(m.bytes);
        const io::record r = io::decode(bytes.substr(sizeof k + sizeof length, length));
        if (plan.keep) {
          const io::sweep::scratch_file product("amari-point");
          {
            std::ofstream out(product.path(), std::ios::binary | std::ios::trunc);
            const auto file = bytes.substr(sizeof k + sizeof length + length);
            out.write(file.data(), static_cast<std::streamsize>(file.size()));
          }
          sweep.write_point(k, r, product.path());
        } else {
          sweep.write_point(k, r);
        }
      } else {
        --ranks_running;
        if (m.tag == rank_failed) sweep.fail(m.bytes);
        if (m.tag == rank_interrupted) sweep.interrupted();
      }
    };
    const auto receive = [&] {
      while (auto m = w->try_receive()) handle(*m);
    };
    // The results are also looked for while rank 0 runs a point (at its safe points, at most every
    // 2 ms): a result larger than the transport's eager limit is sent by rendezvous, and its sender
    // would otherwise wait, polling a core, until rank 0 finished its point (measured: 2 s of the
    // 9 s of a 16-point sweep on 2 ranks).
    // (only on this thread: a command may report progress from its OpenMP threads, and MPI runs
    // at its single-thread level; a result that cannot be written fails the sweep, not the point
    // rank 0 is running)
    auto last = std::chrono::steady_clock::now();
    const std::thread::id main_thread = std::this_thread::get_id();
    const auto poll = [&] {
      const auto now = std::chrono::steady_clock::now();
      if (std::this_thread::get_id() != main_thread || now - last < std::chrono::milliseconds(2)) return;
      last = now;
      try {
        receive();
      } catch (const std::exception& e) {
        sweep.fail(fmt::format("{} (writing a result another rank sent)", e.what()));
      }
    };
    if (shared.active()) {
      try {
        run_shared(
            *w, shared, plan, mine, f.root().attr_string("command_line"),
            [&] { return stop_flag().load() != 0 || sweep.stopped(); },
            poll,
            [&](std::int64_t k, const io::record& r, const std::string& product) { sweep.write_point(k, r, product); });
      } catch (const Interrupted&) {
        sweep.interrupted();
      } catch (const Error& e) {
        sweep.fail(e.what());
      }
    } else {
      if (w) control.progress = [&](double, double) { poll(); };
      sweep.run_points(mine, control, [&] {
        if (w) receive();
      });
    }
    // The other ranks' last points: looked for every 2 ms rather than in a blocking receive, which
    // OpenMPI serves by polling a core (measured: 2 s more CPU in a 16-point sweep on 2 ranks).
    while (ranks_running > 0) {
      if (auto m = w->try_receive()) handle(*m);
      else std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    sweep.finish(control);  // the grid; or Error / Interrupted with the completed points kept
    if (json_) {
      print_json(lay::to_record(f));
      return 0;
    }
    if (quiet_) return 0;
    std::printf("amari sweep: %s over %lld points", plan.command.c_str(), (long long)points);
    for (const auto& a : plan.axes) std::printf(", %s (%zu values)", a.name.c_str(), a.values.size());
    if (w) std::printf(" on %d ranks", w->size());
    if (shared.active())
      std::printf(" (%d group%s of %d sharing each point's rows)", shared.group->count(),
                  shared.group->count() == 1 ? "" : "s", shared.split.ranks);
    std::printf("\n  results over the grid in %s (/sweep; `amari inspect %s`, or --json)\n", f.path().c_str(),
                f.path().c_str());
    return 0;
  }

  std::string output_, resume_;
  bool force_ = false, json_ = false, quiet_ = false, keep_ = false;
  std::int64_t ranks_per_group_ = 0;
  OptionSet* options_ = nullptr;
};

}  // namespace

std::unique_ptr<command> make_sweep_command() { return std::make_unique<sweep_command>(); }

}  // namespace amari::cli
