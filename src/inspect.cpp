// amari inspect (include/amari/inspect.hpp): the tree, attributes and product summaries of an
// amari file, read through the store only.
#include "amari/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>

#include "amari/error.hpp"

namespace amari::inspect {

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
    if (out.back().is_group) walk(f, p, out);
  }
}

std::string short_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  return fmt::format("{:.6g}", x);
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
  if (o.type == "string") {
    for (const auto& s : g.read_strings(base(o.path))) ++counts[s];
  } else {
    for (auto v : g.read_ints(base(o.path))) ++counts[std::to_string(v)];
  }
  summary_entry e;
  e.key = base(o.path) + " counts";
  for (const auto& [value, n] : counts) e.text += fmt::format("{}{}: {}", e.text.empty() ? "" : ", ", value, n);
  e.description = attr_text(o.attributes, "description");
  return e;
}

std::optional<product_summary> summarise_group(store::file& f, const std::string& gpath,
                                               const std::vector<object_info>& all) {
  product_summary s;
  s.group = gpath;
  std::vector<const object_info*> children;
  for (const auto& o : all)
    if (!o.is_group && o.path.substr(0, o.path.find_last_of('/')) == (gpath == "/" ? "" : gpath)) children.push_back(&o);
  if (children.empty()) return std::nullopt;
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
