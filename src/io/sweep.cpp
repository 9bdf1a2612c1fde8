// io/sweep.hpp: the plan of a sweep from its options, the checks of every point, the serial run.
#include "amari/io/sweep.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fmt/format.h>

#include "amari/core/error.hpp"

namespace amari::io::sweep {

namespace lay = layout::sweep;

namespace {

constexpr std::array<std::string_view, 7> sweep_options = {"output", "json", "quiet", "force",
                                                           "resume", "keep", "config"};

}  // namespace

std::span<const std::string_view> own_options() { return sweep_options; }

std::vector<param_value> option_values(const param_spec& spec, const std::string& text) {
  std::vector<param_value> out;
  for (const auto& item : split_text(text)) {
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

plan make_plan(const std::string& command, const std::vector<std::string>& args) {
  const auto runner = make_runner(command);
  const auto specs = runner->params();
  std::vector<std::string> names;
  for (const auto* s : specs) names.emplace_back(s->name);
  plan p;
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

plan resume_plan(const std::string& path) {
  auto f = store::file::open_read(path);
  const lay::stored_plan stored = lay::read_plan(f);
  if (f.status() == "complete")
    throw InvalidArgument(fmt::format("resume = {}: the sweep is complete; nothing to resume", path));
  plan p = make_plan(stored.command, stored.arguments);
  p.keep = stored.keep;
  return p;
}

scratch_file::scratch_file(const std::string& stem) {
  std::string pattern = (std::filesystem::temp_directory_path() / (stem + "-XXXXXX")).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0)
    throw IoError(fmt::format("cannot create a temporary file in {}", std::filesystem::temp_directory_path().string()));
  ::close(fd);
  path_ = pattern;
}

scratch_file::~scratch_file() {
  std::error_code ec;
  std::filesystem::remove(path_, ec);
}

record run_point(const plan& p, std::int64_t k, const run_control& control, const std::string& product,
                 const std::string& sweep_command_line, const row_split& split) {
  auto r = point_runner(p, k);
  r->split_rows(split);
  r->validate();
  if (product.empty()) return r->run(control);
  std::optional<std::uint64_t> seed;
  for (const auto* s : r->params())
    if (s->name == "seed") seed = static_cast<std::uint64_t>(std::get<std::int64_t>(r->get("seed")));
  auto f = store::file::create(
      product, {.force = true,
                .command_line = fmt::format("{} (its grid point {}: {})", sweep_command_line, k, p.describe(k)),
                .config_toml = r->config_toml(),
                .seed = seed,
                .product = p.command});
  record out = r->run(control, f);
  f.close();
  return out;
}

std::unique_ptr<runner> point_runner(const plan& p, std::int64_t k) {
  auto r = make_runner(p.command);
  for (const auto& [name, v] : p.fixed) r->set(name, v);
  const auto c = p.coordinates(k);
  for (std::size_t i = 0; i < p.axes.size(); ++i) r->set(p.axes[i].name, p.axes[i].values[std::size_t(c[i])]);
  return r;
}

std::uint64_t largest_point_memory(const plan& p, const row_split& split) {
  std::uint64_t largest = 0;
  for (std::int64_t k = 0; k < p.points(); ++k) {
    auto r = point_runner(p, k);
    r->split_rows(split);
    // (validate sets the defaults the estimate depends on, e.g. the map stepper's dt_out; whether
    // the point fits is what the caller asks, so a refusal here is not an answer)
    try {
      r->validate();
    } catch (const InvalidArgument&) {
    }
    largest = std::max(largest, r->memory_needed());
  }
  return largest;
}

void validate_all(const plan& p, int ranks_on_node, const row_split& split) {
  const std::int64_t points = p.points();
  std::uint64_t largest = 0;
  std::int64_t at = 0;
  for (std::int64_t k = 0; k < points; ++k) {
    try {
      auto r = point_runner(p, k);
      r->split_rows(split);
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
  const double need = double(largest) * ranks_on_node, have = double(memory_available());
  if (ranks_on_node > 1 && need > double(memory_usable()))
    throw InvalidArgument(fmt::format(
        "mpi: {} ranks on this node, each running {} point as large as {}, need {:.1f} GB of memory; {:.1f} GB "
        "available; accepted: fewer ranks per node, {}or smaller points",
        ranks_on_node, split.ranks > 1 ? fmt::format("its 1/{} of a", split.ranks) : std::string("a"), p.describe(at),
        need / 1e9, have / 1e9, split.ranks > 1 ? "a larger ranks_per_group, " : ""));
}

// ---- the serial run -------------------------------------------------------------------------------

run::run(store::file& f, const plan& p, std::vector<bool> done, std::function<void(double, double)> progress)
    : f_(f), p_(p), done_(std::move(done)), progress_(std::move(progress)), points_(p.points()) {
  done_.resize(static_cast<std::size_t>(points_), false);
  complete_ = std::count(done_.begin(), done_.end(), true);
  if (progress_) progress_(double(complete_), double(points_));
}

std::vector<std::int64_t> run::left() const {
  std::vector<std::int64_t> out;
  for (std::int64_t k = 0; k < points_; ++k)
    if (!done_[std::size_t(k)]) out.push_back(k);
  return out;
}

void run::write_point(std::int64_t k, const record& r, const std::string& product) {
  lay::write_point(f_, k, r);
  if (!product.empty()) lay::write_product(f_, k, product);
  f_.flush();  // a killed sweep loses only the points in flight
  if (!done_[std::size_t(k)]) ++complete_;
  done_[std::size_t(k)] = true;
  if (progress_) progress_(double(complete_), double(points_));
}

void run::run_points(std::span<const std::int64_t> todo, const run_control& control,
                     const std::function<void()>& between) {
  for (std::int64_t k : todo) {
    if (stopped() || (control.stop && control.stop->load())) break;
    try {
      if (p_.keep) {
        const scratch_file product("amari-point");
        const record r = run_point(p_, k, control, product.path(), f_.root().attr_string("command_line"));
        write_point(k, r, product.path());
      } else {
        write_point(k, run_point(p_, k, control));
      }
    } catch (const Interrupted&) {
      interrupted_ = true;
      break;
    } catch (const Error& e) {
      fail(fmt::format("{} (at the grid point {})", e.what(), p_.describe(k)));
      break;
    }
    if (between) between();
  }
}

void run::fail(const std::string& message) {
  if (failure_.empty()) failure_ = message;
}

void run::finish(const run_control& control) {
  if (!failure_.empty()) {
    f_.finish("failed");
    throw Error(fmt::format("{}; the points completed are in {}", failure_, f_.path()));
  }
  const int sig = control.stop ? control.stop->load() : 0;
  if (sig || interrupted_) {
    f_.finish("interrupted");
    throw Interrupted(sig ? sig : SIGINT,
                      fmt::format("interrupted after {} of {} points; `amari sweep --resume {}` runs the rest",
                                  complete_, points_, f_.path()));
  }
  lay::write_grid(f_, p_);
  f_.finish("complete");
}

}  // namespace amari::io::sweep
