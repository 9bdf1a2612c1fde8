// amari sweep: run a command over the Cartesian grid of its options given as lists or ranges.
//
//   amari sweep -o s.h5 simulate --n 300 --sigma-w 1:2.5:10 --seed 1,2 --lyapunov
//
// The sweep's own options (-o, --json, --quiet, --force, --resume) come before the command; after
// it, any option of the command may be a list `a,b,c` or, when numeric, a range `start:stop:count`
// (options that take lists already -- meanfield --times -- keep their meaning). Every grid point
// is validated before anything runs; each completed point is in the file at once, so a killed
// sweep loses only the point in flight and `--resume FILE` runs the rest.
#include <cmath>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <fmt/format.h>

#include "amari/core/error.hpp"
#include "amari/io/layout/sweep.hpp"
#include "amari/io/runner.hpp"
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

// The sweep's own options: given after the command, they are refused with where they belong.
constexpr std::array<std::string_view, 6> sweep_options = {"output", "json", "quiet", "force", "resume", "config"};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto at = s.find(',', start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return out;
}

// The values of one option as given: a list of items, each a value or (numeric) a range.
std::vector<param_value> option_values(const param_spec& spec, const std::string& text) {
  std::vector<param_value> out;
  for (const auto& item : split_list(text)) {
    const bool numeric = spec.kind == param_kind::real || spec.kind == param_kind::integer;
    if (numeric && item.find(':') != std::string::npos) {
      const grid_axis a = grid_axis::parse(item, spec.name);
      a.validate(spec.name);
      for (double v : a.values()) {
        if (spec.kind == param_kind::real) {
          out.emplace_back(v);
        } else {
          if (std::abs(v - std::round(v)) > 1e-9 * std::max(1.0, std::abs(v)))
            throw InvalidArgument(fmt::format("{} = '{}': the range gives {}, not an integer; accepted: integer "
                                              "ranges such as 1:10:10",
                                              spec.name, item, v));
          out.emplace_back(static_cast<std::int64_t>(std::llround(v)));
        }
      }
    } else {
      out.push_back(parse_value(spec, item));
    }
  }
  return out;
}

// The plan of `command` with its options `args` (tokens as on the command line).
lay::plan make_plan(const std::string& command, const std::vector<std::string>& args) {
  const auto runner = io::make_runner(command);
  const auto specs = runner->params();
  std::vector<std::string> names;
  for (const auto* s : specs) names.emplace_back(s->name);
  lay::plan p;
  p.command = command;
  p.arguments = args;
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string tok = args[i];
    // A one-letter form (-o): the option it stands for.
    if (tok.size() == 2 && tok[0] == '-')
      for (const auto& s : vocabulary())
        if (s.short_name == tok[1]) tok = "--" + std::string(s.name);
    if (tok.size() < 3 || tok.compare(0, 2, "--") != 0)
      throw InvalidArgument(fmt::format("sweep: '{}': expected an option of amari {} (--name value)", tok, command));
    std::string name = tok.substr(2), text;
    bool has_text = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      text = name.substr(eq + 1);
      name.resize(eq);
      has_text = true;
    }
    for (char& ch : name)
      if (ch == '-') ch = '_';
    if (std::find(sweep_options.begin(), sweep_options.end(), name) != sweep_options.end())
      throw InvalidArgument(fmt::format("sweep: {} belongs to the sweep: give it before the command ({})",
                                        args[i], command));
    const auto it = std::find_if(specs.begin(), specs.end(), [&](const param_spec* s) { return s->name == name; });
    if (it == specs.end()) {
      const std::string hint = did_you_mean(name, names);
      throw InvalidArgument(fmt::format("{}: unknown parameter of `amari {}`{}; accepted in a sweep: its parameters "
                                        "(`amari {} --help`)",
                                        name, command, hint.empty() ? "" : "; " + hint, command));
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end())
      throw InvalidArgument(fmt::format("sweep: --{} is given twice; accepted: once, with a list a,b,c", name));
    seen.push_back(name);
    const param_spec& spec = **it;
    if (!has_text) {
      if (spec.kind == param_kind::flag) {
        // A flag on its own is on; followed by a list of true/false it is an axis.
        if (i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0) {
          text = args[++i];
        } else {
          text = "true";
        }
      } else {
        if (i + 1 >= args.size())
          throw InvalidArgument(fmt::format("{}: needs a value after {}", name, spec.option()));
        text = args[++i];
      }
    }
    // Options that take lists or ranges themselves are one value, not an axis.
    std::vector<param_value> values;
    if (spec.kind == param_kind::reals || spec.kind == param_kind::axis) values.push_back(parse_value(spec, text));
    else values = option_values(spec, text);
    if (values.size() == 1) p.fixed.emplace_back(name, values.front());
    else p.axes.push_back(lay::axis{.name = name, .spec = &spec, .values = std::move(values)});
  }
  return p;
}

std::unique_ptr<io::runner> point_runner(const lay::plan& p, std::int64_t k) {
  auto r = io::make_runner(p.command);
  for (const auto& [name, v] : p.fixed) r->set(name, v);
  const auto c = p.coordinates(k);
  for (std::size_t i = 0; i < p.axes.size(); ++i) r->set(p.axes[i].name, p.axes[i].values[std::size_t(c[i])]);
  return r;
}

// Every point's parameters are checked before anything runs, the memory of each too; with several
// ranks on a node, the largest point times their number must fit at once.
void validate_all(const lay::plan& p, int ranks_on_node) {
  const std::int64_t points = p.points();
  std::uint64_t largest = 0;
  std::int64_t at = 0;
  for (std::int64_t k = 0; k < points; ++k) {
    try {
      auto r = point_runner(p, k);
      r->validate();
      if (r->memory_needed() > largest) {
        largest = r->memory_needed();
        at = k;
      }
    } catch (const InvalidArgument& e) {
      if (p.axes.empty()) throw;
      throw InvalidArgument(fmt::format("{} (at the grid point {})", e.what(), p.describe(k)));
    }
  }
  const double need = double(largest) * ranks_on_node, have = 0.9 * double(memory_available());
  if (ranks_on_node > 1 && need > have)
    throw InvalidArgument(fmt::format(
        "mpi: {} ranks on this node, each running a point as large as {}, need {:.1f} GB of memory; {:.1f} GB "
        "available; accepted: fewer ranks per node, or smaller points",
        ranks_on_node, p.describe(at), need / 1e9, have / 1e9));
}

// Messages from the ranks to rank 0.
enum tag : int { point_done = 1, rank_done = 2, rank_failed = 3, rank_interrupted = 4 };

std::string point_message(std::int64_t k, const io::record& r) {
  std::string bytes(sizeof k, '\0');
  std::memcpy(bytes.data(), &k, sizeof k);
  return bytes + io::encode(r);
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
      require_readable("resume", resume_);
      auto f = store::file::open_read(resume_);
      const lay::stored_plan stored = lay::read_plan(f);
      if (f.status() == "complete")
        throw InvalidArgument(fmt::format("resume = {}: the sweep is complete; nothing to resume", resume_));
      plan = make_plan(stored.command, stored.arguments);
    } else {
      if (rest.empty()) {
        std::string list;
        for (auto c : io::runner_commands()) list += (list.empty() ? "" : ", ") + std::string(c);
        throw InvalidArgument("command = (none): amari sweep needs a command after its own options; accepted: " + list);
      }
      plan = make_plan(rest.front(), {rest.begin() + 1, rest.end()});
    }
    validate_all(plan, distributed ? w->node_size() : 1);

    // Rank 0 owns the file; the others learn from it which points are left (or why there is none).
    std::optional<store::file> file;
    const std::int64_t points = plan.points();
    std::vector<bool> done;
    std::string setup;  // rank 0's outcome: "" or the kind ('2': bad input, '1': failure) and message
    if (root) {
      try {
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
      } catch (const InvalidArgument& e) {
        setup = std::string("2") + e.what();
      } catch (const std::exception& e) {
        setup = std::string("1") + e.what();
      }
    }
    if (distributed) {
      std::string bytes = setup.empty() ? "0" + std::string(done.begin(), done.end()) : setup;
      w->broadcast(bytes, 0);
      setup = bytes[0] == '0' ? "" : bytes;
      if (setup.empty()) done.assign(bytes.begin() + 1, bytes.end());
    }
    if (!setup.empty()) {
      if (setup[0] == '2') throw InvalidArgument(setup.substr(1));
      throw Error(setup.substr(1));
    }

    // The points left, dealt round-robin over the ranks.
    std::vector<std::int64_t> mine;
    std::int64_t left = 0;
    for (std::int64_t k = 0; k < points; ++k) {
      if (done[std::size_t(k)]) continue;
      if (!distributed || left % w->size() == w->rank()) mine.push_back(k);
      ++left;
    }
    if (!root) return work(*w, plan, mine);
    return lead(inv, *file, plan, mine, points - left, distributed ? w : nullptr);
  }

 private:
  // A rank other than 0: runs its points and sends each result to rank 0; always ends with a
  // message saying how it ended, so that rank 0 never waits for a rank that has stopped.
  int work(const mpi::world& w, const lay::plan& plan, const std::vector<std::int64_t>& mine) {
    run_control control{&stop_flag(), nullptr};
    for (std::int64_t k : mine) {
      if (stop_flag().load()) break;
      try {
        auto runner = point_runner(plan, k);
        runner->validate();
        w.send(0, point_done, point_message(k, runner->run(control)));
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
  int lead(const invocation&, store::file& f, const lay::plan& plan, const std::vector<std::int64_t>& mine,
           std::int64_t complete, const mpi::world* w) {
    const std::int64_t points = plan.points();
    progress_bar bar("sweep", quiet_ || json_);
    run_control control{&stop_flag(), nullptr};
    int ranks_running = w ? w->size() - 1 : 0;
    std::string failure;
    bool interrupted = false;
    const auto keep = [&](std::int64_t k, const io::record& r) {
      lay::write_point(f, k, r);
      f.flush();  // a killed sweep loses only the points in flight
      ++complete;
      bar(double(complete), double(points));
    };
    const auto handle = [&](const mpi::message& m) {
      if (m.tag == point_done) {
        std::int64_t k = 0;
        std::memcpy(&k, m.bytes.data(), sizeof k);
        keep(k, io::decode(std::string_view(m.bytes).substr(sizeof k)));
      } else {
        --ranks_running;
        if (m.tag == rank_failed && failure.empty()) failure = m.bytes;
        if (m.tag == rank_interrupted) interrupted = true;
      }
    };
    bar(double(complete), double(points));
    for (std::int64_t k : mine) {
      if (stop_flag().load() || !failure.empty()) break;
      try {
        auto runner = point_runner(plan, k);
        runner->validate();
        keep(k, runner->run(control));
      } catch (const Interrupted&) {
        interrupted = true;
        break;
      } catch (const Error& e) {
        failure = fmt::format("{} (at the grid point {})", e.what(), plan.describe(k));
        break;
      }
      if (w)
        while (auto m = w->try_receive()) handle(*m);
    }
    while (ranks_running > 0) handle(w->receive());
    if (!failure.empty()) {
      f.finish("failed");
      throw Error(fmt::format("{}; the points completed are in {}", failure, f.path()));
    }
    if (const int sig = stop_flag().load(); sig || interrupted) {
      f.finish("interrupted");
      throw Interrupted(sig ? sig : SIGINT,
                        fmt::format("interrupted after {} of {} points; `amari sweep --resume {}` runs the rest",
                                    complete, points, f.path()));
    }
    lay::write_grid(f, plan);
    f.finish("complete");
    if (json_) {
      print_json(lay::to_record(f));
      return 0;
    }
    if (quiet_) return 0;
    std::printf("amari sweep: %s over %lld points", plan.command.c_str(), (long long)points);
    for (const auto& a : plan.axes) std::printf(", %s (%zu values)", a.name.c_str(), a.values.size());
    if (w) std::printf(" on %d ranks", w->size());
    std::printf("\n  results over the grid in %s (/sweep; `amari inspect %s`, or --json)\n", f.path().c_str(),
                f.path().c_str());
    return 0;
  }

  std::string output_, resume_;
  bool force_ = false, json_ = false, quiet_ = false;
  OptionSet* options_ = nullptr;
};

}  // namespace

std::unique_ptr<command> make_sweep_command() { return std::make_unique<sweep_command>(); }

}  // namespace amari::cli
