// amari inspect (include/amari/io/inspect.hpp): the tree, attributes and product summaries of an
// amari file, read through the store only.
#include "amari/io/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "amari/core/error.hpp"

#include "amari/io/layout/deepnet.hpp"
#include "amari/io/layout/network.hpp"
#include "amari/io/layout/finite.hpp"
#include "amari/io/layout/dmft.hpp"
#include "amari/io/layout/maps.hpp"
#include "amari/io/layout/meanfield.hpp"
#include "amari/io/layout/phase.hpp"
#include "amari/io/layout/sweep.hpp"

namespace amari::inspect {

using io::short_number;

namespace {

using store::attribute;
using store::object_info;

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

std::string base(const std::string& path) { return path.substr(path.find_last_of('/') + 1); }

const attribute* find(const std::vector<attribute>& attrs, const std::string& name) {
  for (const auto& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

std::string attr_text(const std::vector<attribute>& attrs, const std::string& name) {
  const attribute* a = find(attrs, name);
  return a && a->type == attribute::kind::text && !a->text.empty() ? a->text[0] : std::string();
}

void walk(store::file& f, const std::string& path, std::vector<object_info>& out) {
  store::group g = f.group_at(path);
  for (const auto& name : g.children()) {
    const std::string p = join(path, name);
    out.push_back(f.info(p));
    // A sweep's per-point groups (one per grid point) are summarised by /sweep, not listed.
    if (out.back().is_group && p != layout::sweep::points_group) walk(f, p, out);
  }
}

// --- summaries --------------------------------------------------------------------------------

summary_entry number_entry(std::string key, double v, const object_info& from) {
  summary_entry e;
  e.key = std::move(key);
  e.number = v;
  e.units = attr_text(from.attributes, "units");
  e.description = attr_text(from.attributes, "description");
  return e;
}

bool numeric(const object_info& o) { return o.type.starts_with("float") || o.type.starts_with("int") || o.type.starts_with("uint"); }

// Counts of the distinct values of a label dataset ("phase": ordered / chaotic / ...).
summary_entry count_entry(store::group& g, const object_info& o) {
  std::map<std::string, std::size_t> counts;
  // Integer labels with a `flag_meanings` attribute ("ordered critical chaotic divergent") are
  // counted by name, every meaning listed (also those with no point), in the order of the values.
  std::vector<std::string> meanings;
  {
    std::istringstream in(attr_text(o.attributes, "flag_meanings"));
    for (std::string w; in >> w;) meanings.push_back(w);
  }
  std::vector<std::pair<std::string, std::size_t>> ordered;
  if (o.type == "string") {
    for (const auto& s : g.read_strings(base(o.path))) ++counts[s];
  } else if (!meanings.empty()) {
    std::vector<std::size_t> n(meanings.size(), 0);
    std::size_t other = 0;
    for (auto v : g.read_ints(base(o.path)))
      if (v >= 0 && static_cast<std::size_t>(v) < n.size()) ++n[static_cast<std::size_t>(v)];
      else ++other;
    for (std::size_t i = 0; i < n.size(); ++i) ordered.emplace_back(meanings[i], n[i]);
    if (other) ordered.emplace_back("other", other);
  } else {
    for (auto v : g.read_ints(base(o.path))) ++counts[std::to_string(v)];
  }
  if (ordered.empty()) ordered.assign(counts.begin(), counts.end());
  summary_entry e;
  e.key = base(o.path) + " counts";
  for (const auto& [value, n] : ordered) e.text += fmt::format("{}{}: {}", e.text.empty() ? "" : ", ", value, n);
  e.description = attr_text(o.attributes, "description");
  return e;
}

// --- per-product summaries (docs/FORMAT.md, the layout of each product) ------------------------

double nan_value() { return std::numeric_limits<double>::quiet_NaN(); }

// The last row of a series or the element `row` of a 1-D dataset (NaN when absent or short).
double element(store::group& g, const std::string& name, std::uint64_t row) {
  if (!g.has(name)) return nan_value();
  const auto shape = g.shape(name);
  if (shape.empty() || row >= shape[0]) return nan_value();
  const auto v = g.read_rows(name, row, 1);
  if (v.empty()) return nan_value();
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::uint64_t rows(store::group& g, const std::string& name) {
  if (!g.has(name)) return 0;
  const auto shape = g.shape(name);
  return shape.empty() ? 0 : shape[0];
}

double attr_or_nan(store::group& g, const std::string& name) {
  return g.has_attr(name) ? g.attr_double(name) : nan_value();
}

// simulate, /trajectory: m and q at the last sample (ensemble mean +- SE when there are several
// runs), and the mean-field ODE at the same time.
void simulate_trajectory(store::file& f, std::vector<summary_entry>& out) {
  auto g = f.group_at("/trajectory");
  const std::uint64_t n = rows(g, "t");
  if (n == 0) return;
  const double t = element(g, "t", n - 1);
  const bool ens = f.has("/ensemble");
  for (const char* x : {"m", "q"}) {
    const std::string units = std::string(x) == "m" ? "h" : "h^2";
    const std::string what = std::string(x) == "m" ? "population mean of h" : "population variance of h";
    if (ens) {
      auto e = f.group_at("/ensemble");
      const std::uint64_t k = std::min(rows(e, std::string(x) + "_mean"), rows(e, std::string(x) + "_sem"));
      if (k == 0) continue;
      std::string over = e.has_attr("sem_over") ? e.attr_string("sem_over") : "runs";
      if (over == "replicas") over = "replicas (one draw of W)";  // format version 1's label
      out.push_back(io::entry_value(fmt::format("{}(t_end)", x), element(e, std::string(x) + "_mean", k - 1), units,
                          what + ", ensemble mean", element(e, std::string(x) + "_sem", k - 1),
                          fmt::format("(+- SE over {}) at t = {}", over, short_number(element(e, "t", k - 1)))));
    } else {
      const std::uint64_t k = rows(g, x);
      if (k == 0) continue;
      out.push_back(io::entry_value(fmt::format("{}(t_end)", x), element(g, x, k - 1), units, what, std::nullopt,
                          fmt::format("at t = {} (one run: no error bar)", short_number(element(g, "t", k - 1)))));
    }
  }
  // the precisions (a file written before weight_precision existed stored W in the state's)
  if (g.has_attr("precision")) {
    const std::string state = g.attr_string("precision");
    const std::string w = g.has_attr("weight_precision") ? g.attr_string("weight_precision") : state;
    const std::string acc = g.has_attr("accumulation") ? g.attr_string("accumulation") : "state";
    out.push_back(io::entry_words("precision", fmt::format("state {}, W stored in {}, W phi(h) accumulated {}", state,
                                                           w == "state" ? state : w,
                                                           acc == "blocked" ? "in float blocks added in double"
                                                                            : "in " + state)));
  }
  if (f.has("/meanfield")) {
    auto mf = f.group_at("/meanfield");
    // the ODE's times are the sample times: its row n - 1 is the time of the last sample
    for (const char* x : {"m", "q"})
      out.push_back(io::entry_value(fmt::format("{}(t_end) mean-field", x), element(mf, x, n - 1),
                          std::string(x) == "m" ? "h" : "h^2", "Amari's order-parameter ODE at the same time (/meanfield)",
                          std::nullopt, fmt::format("at t = {}", short_number(t))));
  } else if (g.has_attr("meanfield_skipped")) {
    out.push_back(io::entry_words("mean-field", "none: " + g.attr_string("meanfield_skipped")));
  }
}

// What the standard errors of a group of time averages (/stationary, /lyapunov) are over: its
// attribute `sem_over` (format version 2), or what format version 1 used: draws, else the replicas
// of the one draw, else batches in time of the one run.
std::string time_sem_over(store::file& f, store::group& g) {
  if (g.has_attr("sem_over")) return g.attr_string("sem_over");
  auto t = f.group_at("/trajectory");
  const std::int64_t draws = t.has_attr("draws") ? t.attr_int("draws") : 1;
  const std::int64_t replicas = t.has_attr("replicas") ? t.attr_int("replicas") : 1;
  if (draws > 1) return "draws";
  return replicas > 1 ? "replicas (one draw of W)" : "time batches (one run)";
}

void simulate_lyapunov(store::file& f, std::vector<summary_entry>& out) {
  auto g = f.group_at("/lyapunov");
  const std::string units = g.has("estimate") && g.has_attr_of("estimate", "units") ? g.attr_string_of("estimate", "units") : "";
  if (g.has("exponents")) {
    const auto ex = g.read_doubles("exponents");
    const auto se = g.has("sem") ? g.read_doubles("sem") : std::vector<double>(ex.size(), nan_value());
    const std::string over = fmt::format("(+- SE over {})", time_sem_over(f, g));
    for (std::size_t j = 0; j < ex.size(); ++j)
      out.push_back(io::entry_value(fmt::format("lambda_{}", j + 1), ex[j], units,
                          j == 0 ? "the maximal Lyapunov exponent (ensemble mean)" : "Lyapunov exponent", se.at(j),
                          over));
  } else if (const std::uint64_t n = rows(g, "estimate"); n > 0) {
    // A running (or killed) run: the running estimate of lambda_1 at the last sample, mean over runs.
    const auto row = g.read_rows("estimate", n - 1, 1);
    const auto k = static_cast<std::size_t>(g.shape("exponent").at(0));
    double sum = 0;
    std::size_t cnt = 0;
    for (std::size_t i = 0; i < row.size(); i += k)
      if (std::isfinite(row[i])) sum += row[i], ++cnt;
    out.push_back(io::entry_value("lambda_1 running", cnt ? sum / double(cnt) : nan_value(), units,
                        "running estimate at the last sample (the run has not finished)"));
  }
  if (f.has("/dmft")) {
    auto d = f.group_at("/dmft");
    if (d.has_attr("lyapunov"))
      out.push_back(io::entry_value("lambda_max DMFT", d.attr_double("lyapunov"), units,
                          d.attr_int("chaotic") ? "the DMFT's maximal Lyapunov exponent (/dmft)"
                                                : "-1 + sqrt(chi_1) of the static state (the DMFT has no chaotic solution)"));
  }
}

void simulate_stationary(store::file& f, std::vector<summary_entry>& out) {
  auto g = f.group_at("/stationary");
  const std::string window = g.has_attr("transient") ? fmt::format("time average over t >= {}", short_number(g.attr_double("transient"))) : "";
  const std::string over = fmt::format("(+- SE over {})", time_sem_over(f, g));
  for (const auto& [x, units] : {std::pair<const char*, const char*>{"m", "h"}, {"q", "h^2"}, {"q2", "h^2"}}) {
    if (!g.has(x)) continue;
    const double sem = g.has(std::string(x) + "_sem") ? g.read_doubles(std::string(x) + "_sem").at(0) : nan_value();
    out.push_back(io::entry_value(fmt::format("stationary {}", x), g.read_doubles(x).at(0), units, window, sem, over));
  }
  if (g.has("C")) {
    const double sem = g.has("C_sem") ? g.read_doubles("C_sem").at(0) : nan_value();
    out.push_back(io::entry_value("C(0)", g.read_doubles("C").at(0), "h^2",
                        "the autocorrelation at lag 0 (mean of h^2 over the C(tau) neurons)", sem,
                        std::isfinite(sem) ? over : ""));
  }
  if (f.has("/dmft")) {
    auto d = f.group_at("/dmft");
    out.push_back(io::entry_value("Delta_0 DMFT", attr_or_nan(d, "delta_0"), "h^2",
                        d.attr_int("chaotic") ? "the DMFT's variance of h (compare stationary q2 and C(0))"
                                              : "the DMFT's static answer q* (no chaotic solution)"));
  }
  if (f.has("/meanfield")) {
    auto mf = f.group_at("/meanfield");
    const auto k = mf.has_attr("final_fixed_point") ? mf.attr_int("final_fixed_point") : -1;
    if (k >= 0) {
      auto fp = f.group_at("/meanfield/fixed_points");
      out.push_back(io::entry_value("q* mean-field", fp.read_doubles("q").at(static_cast<std::size_t>(k)), "h^2",
                          "the fixed point of Amari's ODE that the trajectory reaches",
                          std::nullopt, fp.read_ints("network_stable").at(static_cast<std::size_t>(k)) ? "" : "(unstable in the network: chi_1 > 1)"));
    }
  }
}

std::vector<summary_entry> product_entries(store::file& f, const std::string& gpath) {
  std::vector<summary_entry> out;
  const std::string product = attr_text(f.info("/").attributes, "product");
  if (gpath == "/trajectory" && product == "simulate") simulate_trajectory(f, out);
  else if (gpath == "/lyapunov") simulate_lyapunov(f, out);
  else if (gpath == "/stationary") simulate_stationary(f, out);
  // The products written at once summarise themselves from their readers (io/layout/*.hpp). A
  // group that only shares a product's name (or a damaged one) gets the generic summary alone.
  using summariser = std::vector<summary_entry> (*)(store::file&);
  const std::pair<const char*, summariser> products[] = {
      {layout::meanfield::group, layout::meanfield::summary}, {layout::dmft::group, layout::dmft::summary},
      {layout::maps::group, layout::maps::summary},           {layout::phase::group, layout::phase::summary},
      {layout::deepnet::group, layout::deepnet::summary},     {layout::finite::group, layout::finite::summary},
      {layout::network::group, layout::network::summary},     {layout::sweep::group, layout::sweep::summary}};
  for (const auto& [group, summarise] : products) {
    if (gpath != group) continue;
    try {
      out = summarise(f);
    } catch (const Error&) {
      out.clear();
    }
  }
  return out;
}

std::optional<product_summary> summarise_group(store::file& f, const std::string& gpath,
                                               const std::vector<object_info>& all) {
  product_summary s;
  s.group = gpath;
  s.entries = product_entries(f, gpath);
  std::vector<const object_info*> children;
  for (const auto& o : all)
    if (!o.is_group && o.path.substr(0, o.path.find_last_of('/')) == (gpath == "/" ? "" : gpath)) children.push_back(&o);
  if (children.empty() && s.entries.empty()) return std::nullopt;
  store::group g = f.group_at(gpath);

  // Time series: the number of samples and the final value of every series along each growing scale.
  for (const auto* sc : children) {
    if (!(sc->is_scale && sc->extendible && sc->shape.size() == 1)) continue;
    const std::string axis = base(sc->path);
    const std::uint64_t rows = sc->shape[0];
    summary_entry n;
    n.key = "samples";
    n.number = static_cast<double>(rows);
    n.text = fmt::format("along {}", axis);
    s.entries.push_back(n);
    if (rows == 0) continue;
    s.entries.push_back(number_entry(axis + " final", g.read_rows(axis, rows - 1, 1).at(0), *sc));
    for (const auto* o : children) {
      if (o == sc || o->dims.empty() || o->dims[0] != axis || !numeric(*o) || o->shape.empty()) continue;
      const std::uint64_t r = o->shape[0];
      if (r == 0) continue;
      auto last = g.read_rows(base(o->path), r - 1, 1);
      if (last.size() == 1) {
        auto e = number_entry("final " + base(o->path), last[0], *o);
        if (r != rows) e.text = fmt::format("at row {} of {} (a run killed while flushing)", r, rows);
        s.entries.push_back(std::move(e));
      } else if (!last.empty()) {
        const double mean = std::accumulate(last.begin(), last.end(), 0.0) / static_cast<double>(last.size());
        std::vector<std::string> rest(o->dims.begin() + 1, o->dims.end());
        auto e = number_entry(fmt::format("final {} (mean over {})", base(o->path), fmt::join(rest, ", ")), mean, *o);
        s.entries.push_back(std::move(e));
      }
    }
  }
  // Scalar results (a Lyapunov exponent, a fixed point, a count).
  for (const auto* o : children) {
    if (!numeric(*o) || o->extendible) continue;
    const bool scalar = o->shape.empty() || (o->shape.size() == 1 && o->shape[0] == 1 && !o->is_scale);
    if (!scalar) continue;
    s.entries.push_back(number_entry(base(o->path), g.read_doubles(base(o->path)).at(0), *o));
  }
  // Labels of grid points: counts of each value (ordered / chaotic / ...).
  for (const auto* o : children) {
    const std::string name = base(o->path);
    const bool label = name.find("phase") != std::string::npos || name.find("label") != std::string::npos ||
                       name.find("regime") != std::string::npos;
    if (!label || o->is_scale || o->shape.empty()) continue;
    if (o->type == "string" || o->type.starts_with("int") || o->type.starts_with("uint")) s.entries.push_back(count_entry(g, *o));
  }
  if (s.entries.empty()) return std::nullopt;
  return s;
}

std::optional<product_summary> summarise_checkpoint(store::file& f) {
  if (!f.has("/checkpoint")) return std::nullopt;
  auto cp = f.checkpoint();
  if (!cp.exists()) return std::nullopt;
  product_summary s;
  s.group = "/checkpoint";
  summary_entry e;
  e.key = "flush index";
  e.number = static_cast<double>(cp.flush_index());
  e.description = "the checkpoint a resume continues from (amari simulate --resume)";
  s.entries.push_back(e);
  return s;
}

// --- text -------------------------------------------------------------------------------------

std::string value_text(const attribute& a, std::size_t max_len = 60) {
  std::vector<std::string> parts;
  switch (a.type) {
    case attribute::kind::text:
      for (const auto& t : a.text) parts.push_back(t);
      break;
    case attribute::kind::real:
      for (double v : a.reals) parts.push_back(short_number(v));
      break;
    case attribute::kind::integer:
      for (auto v : a.integers) parts.push_back(std::to_string(v));
      break;
    case attribute::kind::unsigned_integer:
      for (auto v : a.unsigneds) parts.push_back(std::to_string(v));
      break;
    case attribute::kind::other: parts.push_back("?");
  }
  std::string s = parts.size() == 1 && a.shape.empty() ? parts[0] : fmt::format("[{}]", fmt::join(parts, ", "));
  if (auto nl = s.find('\n'); nl != std::string::npos) s = s.substr(0, nl) + " ...";
  if (s.size() > max_len) s = s.substr(0, max_len - 3) + "...";
  return s;
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  if (shape.empty()) return "scalar";
  return fmt::format("({})", fmt::join(shape, ", "));
}

// --- JSON -------------------------------------------------------------------------------------

nlohmann::json number_json(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json attr_json(const attribute& a) {
  auto one = [&](auto const& vec, auto conv) {
    if (a.shape.empty() && vec.size() == 1) return conv(vec[0]);
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& v : vec) arr.push_back(conv(v));
    return arr;
  };
  switch (a.type) {
    case attribute::kind::text: return one(a.text, [](const std::string& s) { return nlohmann::json(s); });
    case attribute::kind::real: return one(a.reals, [](double v) { return number_json(v); });
    case attribute::kind::integer: return one(a.integers, [](std::int64_t v) { return nlohmann::json(v); });
    case attribute::kind::unsigned_integer:
      return one(a.unsigneds, [](std::uint64_t v) { return nlohmann::json(v); });
    case attribute::kind::other: return nullptr;
  }
  return nullptr;
}

}  // namespace

report inspect_file(const std::string& path) {
  auto f = store::file::open_read(path);
  report r;
  r.path = path;
  r.root = f.info("/").attributes;
  walk(f, "/", r.objects);
  // Summaries: every group except the checkpoint's, then the checkpoint.
  std::vector<std::string> groups{"/"};
  for (const auto& o : r.objects)
    if (o.is_group && !o.path.starts_with("/checkpoint")) groups.push_back(o.path);
  for (const auto& g : groups)
    if (auto s = summarise_group(f, g, r.objects)) r.products.push_back(std::move(*s));
  if (auto s = summarise_checkpoint(f)) r.products.push_back(std::move(*s));
  return r;
}

std::string to_text(const report& r) {
  std::string out;
  auto root = [&](const char* name) { return attr_text(r.root, name); };
  const attribute* fv = find(r.root, "format_version");
  const attribute* seed = find(r.root, "seed");
  out += fmt::format("{}\n", r.path);
  out += fmt::format("  amari {} ({}), format {}, product {}, status {}\n", root("amari_version"), root("git_describe"),
                     fv ? value_text(*fv) : "?", root("product"), root("status"));
  if (root("status") == "running")
    out += "  (status running: being written, or the run was killed -- its samples up to the last flush are kept)\n";
  out += fmt::format("  created {}{}\n", root("created"), seed ? ", seed " + value_text(*seed) : "");
  if (const attribute* res = find(r.root, "resumed")) out += fmt::format("  resumed {} time(s)\n", value_text(*res));
  if (!root("command_line").empty()) out += fmt::format("  command: {}\n", root("command_line"));
  if (!root("config").empty()) {
    out += "  config:\n";
    std::istringstream in(root("config"));
    for (std::string line; std::getline(in, line);) out += "    " + line + "\n";
  }
  out += "\ntree:\n";
  static const char* known_root[] = {"format_version", "amari_version", "git_describe", "created", "command_line",
                                     "config", "seed", "product", "status", "resumed", "resume_command_line"};
  for (const auto& a : r.root)
    if (std::find(std::begin(known_root), std::end(known_root), a.name) == std::end(known_root))
      out += fmt::format("  @{} = {}\n", a.name, value_text(a));
  // Of the two checkpoint slots, only the current one is listed.
  std::string other_slot;
  for (const auto& o : r.objects)
    if (o.path == "/checkpoint") {
      const std::string cur = attr_text(o.attributes, "current");
      other_slot = cur == "slot_a" ? "/checkpoint/slot_b" : cur == "slot_b" ? "/checkpoint/slot_a" : "";
    }
  for (const auto& o : r.objects) {
    if (!other_slot.empty() && o.path.starts_with(other_slot)) continue;
    const auto depth = static_cast<std::size_t>(std::count(o.path.begin(), o.path.end(), '/'));
    const std::string indent(2 * depth, ' ');
    if (o.is_group) {
      out += fmt::format("{}{}/\n", indent, base(o.path));
    } else {
      std::string dims;
      if (std::any_of(o.dims.begin(), o.dims.end(), [](const std::string& d) { return !d.empty(); }))
        dims = fmt::format(" [{}]", fmt::join(o.dims, ", "));
      std::string kind;
      if (o.is_scale) kind += ", coordinate";
      if (o.extendible) kind += ", series";
      const std::string units = attr_text(o.attributes, "units");
      out += fmt::format("{}{}: {} {}{}{} -- {}{}\n", indent, base(o.path), o.type, shape_text(o.shape), dims, kind,
                         attr_text(o.attributes, "description"), units.empty() ? "" : " [" + units + "]");
    }
    for (const auto& a : o.attributes) {
      if (!o.is_group && (a.name == "description" || a.name == "units")) continue;
      out += fmt::format("{}  @{} = {}\n", indent, a.name, value_text(a));
    }
  }
  if (!r.products.empty()) out += "\nsummary:\n";
  for (const auto& p : r.products) {
    out += fmt::format("  {}\n", p.group);
    for (const auto& e : p.entries) {
      std::string v = e.number ? short_number(*e.number) : std::string();
      if (e.number && e.sem && std::isfinite(*e.sem)) v += " +- " + fmt::format("{:.2g}", *e.sem);
      if (!e.units.empty()) v += " [" + e.units + "]";
      if (!e.text.empty()) v += (v.empty() ? "" : " ") + e.text;
      out += fmt::format("    {} = {}\n", e.key, v);
    }
  }
  return out;
}

std::string to_json(const report& r) {
  nlohmann::json j;
  j["file"] = r.path;
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& a : r.root) attrs[a.name] = attr_json(a);
  j["attributes"] = attrs;
  nlohmann::json objects = nlohmann::json::array();
  for (const auto& o : r.objects) {
    nlohmann::json x;
    x["path"] = o.path;
    x["kind"] = o.is_group ? "group" : "dataset";
    if (!o.is_group) {
      x["type"] = o.type;
      x["shape"] = o.shape;
      x["dims"] = o.dims;
      x["coordinate"] = o.is_scale;
      x["series"] = o.extendible;
    }
    nlohmann::json a = nlohmann::json::object();
    for (const auto& at : o.attributes) a[at.name] = attr_json(at);
    x["attributes"] = a;
    objects.push_back(x);
  }
  j["objects"] = objects;
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& p : r.products) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& e : p.entries) {
      nlohmann::json v;
      if (e.number) v["value"] = number_json(*e.number);
      if (e.sem) v["sem"] = number_json(*e.sem);
      if (!e.text.empty()) v["text"] = e.text;
      if (!e.units.empty()) v["units"] = e.units;
      if (!e.description.empty()) v["description"] = e.description;
      entries[e.key] = v;
    }
    summary[p.group] = entries;
  }
  j["summary"] = summary;
  return j.dump(2);
}

}  // namespace amari::inspect
