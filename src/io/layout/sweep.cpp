// The /sweep layout (io/layout/sweep.hpp).
#include "amari/io/layout/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <numeric>

#include "amari/core/error.hpp"
#include "amari/core/stats.hpp"

namespace amari::layout::sweep {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr const char* seed_axis = "seed";
// Per-point arrays that are coordinates of the others (the same at every point): written once as
// a scale and used as the dimension of the arrays of their length.
constexpr std::array<const char*, 5> coordinate_keys = {"layer", "t", "tau", "lag", "width"};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string point_path(std::int64_t k) { return std::string(points_group) + "/" + std::to_string(k); }

// One result of one point into its group: numbers, texts and arrays of numbers; records are
// flattened into <key>_<field>, arrays of records counted (<key>_count).
void write_value(store::group& g, const std::string& key, const io::value& v, const std::string& command) {
  const store::dataset_meta meta{.description = "result `" + key + "` of amari " + command};
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) g.write_scalar(key, nan, meta);
        else if constexpr (std::is_same_v<T, bool>) g.write_scalar(key, std::int64_t{x ? 1 : 0}, meta);
        else if constexpr (std::is_same_v<T, std::int64_t> || std::is_same_v<T, double>) g.write_scalar(key, x, meta);
        else if constexpr (std::is_same_v<T, std::string>) g.write(key, std::vector<std::string>{x}, meta);
        else if constexpr (std::is_same_v<T, std::vector<double>> || std::is_same_v<T, std::vector<std::int64_t>>) {
          if (!x.empty()) g.write(key, std::span(x), meta);
        } else if constexpr (std::is_same_v<T, io::value::array>) {
          // Numbers (1-D), arrays of numbers of one length (2-D), or records (their count).
          bool records = !x.empty(), numbers = true, rows = !x.empty();
          std::size_t width = 0;
          std::vector<double> flat;
          for (const auto& e : x) {
            records = records && std::holds_alternative<io::record>(e.v);
            const auto* d = std::get_if<double>(&e.v);
            const auto* i = std::get_if<std::int64_t>(&e.v);
            numbers = numbers && (d || i || e.is_null());
            const auto* r = std::get_if<std::vector<double>>(&e.v);
            if (r && (width == 0 || r->size() == width)) width = r->size();
            else rows = false;
          }
          if (records) {
            g.write_scalar(key + "_count", static_cast<std::int64_t>(x.size()), meta);
          } else if (numbers) {
            for (const auto& e : x)
              flat.push_back(e.is_null() ? nan
                             : std::holds_alternative<double>(e.v) ? std::get<double>(e.v)
                                                                     : static_cast<double>(std::get<std::int64_t>(e.v)));
            if (!flat.empty()) g.write(key, std::span<const double>(flat), meta);
          } else if (rows && width > 0) {
            for (const auto& e : x) {
              const auto& r = std::get<std::vector<double>>(e.v);
              flat.insert(flat.end(), r.begin(), r.end());
            }
            g.write(key, std::span<const double>(flat), meta, {x.size(), width});
          }
        } else if constexpr (std::is_same_v<T, io::record>) {
          for (std::size_t i = 0; i < x.size(); ++i) write_value(g, key + "_" + x.keys[i], x.values[i], command);
        }
        // vector<string>: not a grid result.
      },
      v.v);
}

struct point_data {
  std::vector<double> numbers;
  std::vector<std::uint64_t> shape;  // empty: scalar
  std::optional<std::string> text;
  bool present = false;
};

point_data read_point_value(store::file& f, std::int64_t k, const std::string& key) {
  point_data d;
  const std::string path = point_path(k) + "/" + key;
  if (!f.has(path)) return d;
  d.present = true;
  const auto info = f.info(path);
  auto g = f.group_at(point_path(k));
  if (info.type == "string") {
    d.text = g.read_strings(key).at(0);
    return d;
  }
  d.shape = info.shape;
  d.numbers = g.read_doubles(key);
  return d;
}

std::uint64_t product(const std::vector<std::uint64_t>& s) {
  return std::accumulate(s.begin(), s.end(), std::uint64_t{1}, std::multiplies<>());
}

}  // namespace

std::int64_t plan::points() const {
  std::int64_t n = 1;
  for (const auto& a : axes) n *= static_cast<std::int64_t>(a.values.size());
  return n;
}

std::vector<std::int64_t> plan::coordinates(std::int64_t k) const {
  std::vector<std::int64_t> c(axes.size());
  for (std::size_t i = axes.size(); i-- > 0;) {
    const auto n = static_cast<std::int64_t>(axes[i].values.size());
    c[i] = k % n;
    k /= n;
  }
  return c;
}

std::string plan::describe(std::int64_t k) const {
  const auto c = coordinates(k);
  std::string out;
  for (std::size_t i = 0; i < axes.size(); ++i)
    out += (i ? ", " : "") + axes[i].name + " = " + format_value(axes[i].values[static_cast<std::size_t>(c[i])]);
  return out;
}

void write_plan(store::file& f, const plan& p) {
  auto g = f.group_at(group);
  g.attr("command", p.command);
  std::vector<std::string> names;
  for (const auto& a : p.axes) names.push_back(a.name);
  g.attr("axes", join(names, ","));
  g.attr("points", p.points());
  if (p.keep) g.attr("keep", std::int64_t{1});
  if (!p.arguments.empty())
    g.write("arguments", p.arguments,
            {.description = "the options of amari " + p.command + " as given to the sweep (lists and ranges are axes)"});
  for (const auto& a : p.axes) {
    const std::string what = "axis of the sweep: the values of " + std::string(a.spec->option()) +
                             (a.spec->unit.empty() ? "" : " [" + std::string(a.spec->unit) + "]");
    const store::dataset_meta meta{.description = what, .units = std::string(a.spec->unit)};
    if (a.spec->kind == param_kind::real) {
      std::vector<double> v;
      for (const auto& x : a.values) v.push_back(std::get<double>(x));
      g.write_scale(a.name, std::span<const double>(v), meta);
    } else if (a.spec->kind == param_kind::integer) {
      std::vector<std::int64_t> v;
      for (const auto& x : a.values) v.push_back(std::get<std::int64_t>(x));
      g.write_scale(a.name, std::span<const std::int64_t>(v), meta);
    } else {
      std::vector<std::int64_t> v(a.values.size());
      std::iota(v.begin(), v.end(), 0);
      std::vector<std::string> labels;
      for (const auto& x : a.values) labels.push_back(format_value(x));
      g.write_scale(a.name, std::span<const std::int64_t>(v),
                    {.description = what + " (indices into the attribute labels)"});
      g.attr_of(a.name, "labels", join(labels, ","));
    }
  }
}

std::vector<bool> points_done(store::file& f, std::int64_t points) {
  std::vector<bool> done(static_cast<std::size_t>(points), false);
  if (!f.has(points_group)) return done;
  for (const auto& name : f.group_at(points_group).children()) {
    std::int64_t k = -1;
    try {
      k = std::stoll(name);
    } catch (const std::exception&) {
      continue;
    }
    if (k >= 0 && k < points) done[static_cast<std::size_t>(k)] = true;
  }
  return done;
}

void write_point(store::file& f, std::int64_t k, const io::record& results) {
  const std::string command = f.group_at(group).attr_string("command");
  auto g = f.group_at(point_path(k));
  for (std::size_t i = 0; i < results.size(); ++i) write_value(g, results.keys[i], results.values[i], command);
}

namespace {

std::string child(const std::string& g, const std::string& name) { return g == "/" ? "/" + name : g + "/" + name; }

bool is_integer_type(const std::string& type) { return type.rfind("int", 0) == 0 || type.rfind("uint", 0) == 0; }

// The attributes of an object (`object` empty: the group itself) but those in `skip`.
void copy_attributes(const std::vector<store::attribute>& attributes, store::group& g, const std::string& object,
                     std::initializer_list<const char*> skip) {
  for (const auto& a : attributes) {
    if (std::any_of(skip.begin(), skip.end(), [&](const char* s) { return a.name == s; })) continue;
    using K = store::attribute::kind;
    const bool scalar = a.shape.empty();
    if (a.type == K::text && !a.text.empty()) {
      const std::string v = scalar || a.text.size() == 1 ? a.text.front() : join(a.text, "\n");
      object.empty() ? g.attr(a.name, v) : g.attr_of(object, a.name, v);
    } else if (a.type == K::real && !a.reals.empty()) {
      if (scalar) object.empty() ? g.attr(a.name, a.reals.front()) : g.attr_of(object, a.name, a.reals.front());
      else object.empty() ? g.attr(a.name, std::span<const double>(a.reals)) : g.attr_of(object, a.name, std::span<const double>(a.reals));
    } else if ((a.type == K::integer && !a.integers.empty()) || (a.type == K::unsigned_integer && !a.unsigneds.empty())) {
      std::vector<std::int64_t> v(a.integers.begin(), a.integers.end());
      for (auto u : a.unsigneds) v.push_back(static_cast<std::int64_t>(u));
      if (scalar) {
        object.empty() ? g.attr(a.name, v.front()) : g.attr_of(object, a.name, v.front());
      } else {
        const std::vector<double> d(v.begin(), v.end());
        object.empty() ? g.attr(a.name, std::span<const double>(d)) : g.attr_of(object, a.name, std::span<const double>(d));
      }
    }
  }
}

std::string attribute_text(const std::vector<store::attribute>& attributes, const char* name) {
  for (const auto& a : attributes)
    if (a.name == name && !a.text.empty()) return a.text.front();
  return "";
}

void copy_group(store::file& src, const std::string& from, store::file& dst, const std::string& to) {
  auto sg = src.group_at(from);
  auto dg = dst.group_at(to);
  copy_attributes(src.info(from).attributes, dg, "", {});
  const auto names = sg.children();
  // Scales first, so that the datasets over them can attach them.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& name : names) {
      const std::string path = child(from, name);
      const store::object_info info = src.info(path);
      if (info.is_group) {
        if (pass == 1 && !(from == "/" && name == "checkpoint")) copy_group(src, path, dst, to + "/" + name);
        continue;
      }
      if (info.is_scale != (pass == 0)) continue;
      store::dataset_meta meta{.description = attribute_text(info.attributes, "description"),
                               .units = attribute_text(info.attributes, "units")};
      if (meta.description.empty()) meta.description = "dataset " + name + " of the point's product";
      // The scales of its axes, where they are scales of the same group (else left unattached).
      bool any = false;
      for (const auto& d : info.dims) {
        const bool here = !d.empty() && sg.has(d) && src.info(child(from, d)).is_scale;
        meta.dims.push_back(here ? d : "");
        any = any || here;
      }
      if (!any || info.is_scale) meta.dims.clear();
      std::uint64_t size = 1;
      for (auto x : info.shape) size *= x;
      if (info.type == "string") {
        dg.write(name, sg.read_strings(name), meta);
      } else if (is_integer_type(info.type)) {
        const auto v = sg.read_ints(name);
        if (info.is_scale) dg.write_scale(name, std::span<const std::int64_t>(v), meta);
        else if (info.shape.empty()) dg.write_scalar(name, v.at(0), meta);
        else if (size > 0) dg.write(name, std::span<const std::int64_t>(v), meta, info.shape);
        else continue;
      } else {
        const auto v = sg.read_doubles(name);
        if (info.is_scale) dg.write_scale(name, std::span<const double>(v), meta);
        else if (info.shape.empty()) dg.write_scalar(name, v.at(0), meta);
        else if (size > 0) dg.write(name, std::span<const double>(v), meta, info.shape);
        else continue;
      }
      copy_attributes(info.attributes, dg, name, {"description", "units"});
    }
  }
}

}  // namespace

void write_product(store::file& f, std::int64_t k, const std::string& source) {
  auto src = store::file::open_read(source);
  copy_group(src, "/", f, point_path(k) + "/product");
}

void write_grid(store::file& f, const plan& p) {
  auto g = f.group_at(group);
  const std::int64_t points = p.points();
  std::vector<std::uint64_t> grid_shape;
  std::vector<std::string> grid_dims;
  for (const auto& a : p.axes) {
    grid_shape.push_back(a.values.size());
    grid_dims.push_back(a.name);
  }
  // The keys, in the order they first appear.
  std::vector<std::string> keys;
  for (std::int64_t k = 0; k < points; ++k) {
    if (!f.has(point_path(k))) continue;
    for (const auto& key : f.group_at(point_path(k)).children())
      if (std::find(keys.begin(), keys.end(), key) == keys.end() && !f.info(point_path(k) + "/" + key).is_group)
        keys.push_back(key);
  }
  std::map<std::string, std::vector<point_data>> data;
  for (const auto& key : keys)
    for (std::int64_t k = 0; k < points; ++k) data[key].push_back(read_point_value(f, k, key));

  // Coordinates: 1-D arrays equal at every point.
  std::map<std::uint64_t, std::string> coordinate_of_length;
  std::vector<std::string> coordinates;
  for (const char* c : coordinate_keys) {
    auto it = data.find(c);
    if (it == data.end()) continue;
    const auto& first = it->second.front();
    const bool same = std::all_of(it->second.begin(), it->second.end(), [&](const point_data& d) {
      return d.present && !d.text && d.shape.size() == 1 && d.numbers == first.numbers;
    });
    if (!same || first.shape.size() != 1 || coordinate_of_length.count(first.shape[0])) continue;
    g.write_scale(c, std::span<const double>(first.numbers),
                  {.description = "coordinate of the per-point results of its length (`" + std::string(c) +
                                  "` of amari " + p.command + ")"});
    coordinate_of_length[first.shape[0]] = c;
    coordinates.push_back(c);
  }

  const bool has_seed = std::any_of(p.axes.begin(), p.axes.end(), [](const axis& a) { return a.name == seed_axis; });
  for (const auto& key : keys) {
    if (std::find(coordinates.begin(), coordinates.end(), key) != coordinates.end()) continue;
    const auto& pts = data[key];
    const std::string description = "result `" + key + "` of amari " + p.command + " over the grid";
    if (std::any_of(pts.begin(), pts.end(), [](const point_data& d) { return d.text.has_value(); })) {
      std::vector<std::string> labels;
      std::vector<std::int64_t> codes;
      for (const auto& d : pts) {
        if (!d.text) {
          codes.push_back(-1);
          continue;
        }
        auto at = std::find(labels.begin(), labels.end(), *d.text);
        if (at == labels.end()) at = labels.insert(labels.end(), *d.text);
        codes.push_back(at - labels.begin());
      }
      g.write(key, std::span<const std::int64_t>(codes),
              {.description = description + " (indices into the attribute labels; -1: none)", .dims = grid_dims},
              grid_shape);
      g.attr_of(key, "labels", join(labels, "\n"));
      continue;
    }
    // Numbers: the longest shape (arrays of one rank), shorter ones padded with NaN.
    std::vector<std::uint64_t> own;
    bool rank_differs = false, padded = false;
    for (const auto& d : pts) {
      if (!d.present) continue;
      if (own.empty() && d.shape.size() > 0 && !rank_differs) own.assign(d.shape.size(), 0);
      if (d.shape.size() != own.size()) rank_differs = true;
      else
        for (std::size_t i = 0; i < own.size(); ++i) own[i] = std::max(own[i], d.shape[i]);
    }
    if (rank_differs) continue;  // not a grid result
    for (const auto& d : pts)
      if (d.present && d.shape != own) padded = true;
    const std::uint64_t row = product(own);
    std::vector<double> values(static_cast<std::size_t>(points) * row, nan);
    for (std::int64_t k = 0; k < points; ++k) {
      const auto& d = pts[static_cast<std::size_t>(k)];
      if (!d.present) continue;
      // Row-major copy into the padded block (1-D or 2-D).
      const std::uint64_t cols = own.size() == 2 ? own[1] : row;
      const std::uint64_t dcols = d.shape.size() == 2 ? d.shape[1] : d.numbers.size();
      for (std::size_t i = 0; i < d.numbers.size(); ++i) {
        const std::uint64_t r = dcols ? i / dcols : 0, c = dcols ? i % dcols : 0;
        values[static_cast<std::size_t>(k) * row + r * cols + c] = d.numbers[i];
      }
    }
    std::vector<std::uint64_t> shape = grid_shape;
    std::vector<std::string> dims = grid_dims;
    for (std::size_t i = 0; i < own.size(); ++i) {
      shape.push_back(own[i]);
      auto c = coordinate_of_length.find(own[i]);
      if (own.size() == 1 && c != coordinate_of_length.end() && !padded) {
        dims.push_back(c->second);
      } else {
        const std::string dim = key + (own.size() == 1 ? "_index" : i == 0 ? "_row" : "_column");
        std::vector<std::int64_t> idx(own[i]);
        std::iota(idx.begin(), idx.end(), 0);
        g.write_scale(dim, std::span<const std::int64_t>(idx), {.description = "index of the result `" + key + "`"});
        dims.push_back(dim);
      }
    }
    g.write(key, std::span<const double>(values), {.description = description, .dims = dims}, shape);
    if (padded) g.attr_of(key, "padded", std::string("arrays shorter than the longest are padded with NaN"));

    // Mean and standard error over the seed axis (the per-seed values stay above); not of errors.
    if (!has_seed || key.ends_with("_sem")) continue;
    std::size_t s = 0;
    while (p.axes[s].name != seed_axis) ++s;
    std::uint64_t outer = 1, inner = row;
    for (std::size_t i = 0; i < s; ++i) outer *= grid_shape[i];
    for (std::size_t i = s + 1; i < grid_shape.size(); ++i) inner *= grid_shape[i];
    const std::uint64_t seeds = grid_shape[s];
    std::vector<double> mean(outer * inner), sem(outer * inner), x(seeds);
    for (std::uint64_t o = 0; o < outer; ++o)
      for (std::uint64_t i = 0; i < inner; ++i) {
        for (std::uint64_t j = 0; j < seeds; ++j) x[j] = values[(o * seeds + j) * inner + i];
        const mean_sem m = mean_and_sem(x);
        mean[o * inner + i] = m.mean;
        sem[o * inner + i] = m.sem;
      }
    std::vector<std::uint64_t> rshape = shape;
    std::vector<std::string> rdims = dims;
    rshape.erase(rshape.begin() + static_cast<std::ptrdiff_t>(s));
    rdims.erase(rdims.begin() + static_cast<std::ptrdiff_t>(s));
    g.write(key + "_mean_over_seed", std::span<const double>(mean),
            {.description = "mean over the seeds of `" + key + "`", .dims = rdims}, rshape);
    g.write(key + "_sem_over_seed", std::span<const double>(sem),
            {.description = "standard error over the seeds of the mean of `" + key + "` (sample sd / sqrt(seeds))",
             .dims = rdims},
            rshape);
  }
  g.attr("done", points);
}

stored_plan read_plan(store::file& f) {
  if (!f.has(group)) throw IoError(f.path() + ": no /sweep group (not a file of amari sweep)");
  auto g = f.group_at(group);
  stored_plan s;
  s.command = g.attr_string("command");
  if (g.has("arguments")) s.arguments = g.read_strings("arguments");
  s.keep = g.has_attr("keep") && g.attr_int("keep") != 0;
  return s;
}

namespace {

// Row-major values of `a` from dimension `dim` as nested arrays (the innermost as numbers, or texts
// via the labels).
io::value nest(const stored_array& a, std::size_t dim, std::size_t& at) {
  const auto text = [&](double x) {
    const auto& labels = *a.labels;
    return x >= 0 && x < static_cast<double>(labels.size()) ? io::value(labels[std::size_t(x)]) : io::value();
  };
  if (a.shape.empty()) return a.labels ? text(a.at(at++)) : io::value(a.at(at++));
  io::value::array out;
  if (dim + 1 == a.shape.size() && !a.labels) {
    std::vector<double> row(a.shape[dim]);
    for (auto& x : row) x = a.at(at++);
    return io::value(std::move(row));
  }
  for (std::uint64_t i = 0; i < a.shape[dim]; ++i)
    out.push_back(dim + 1 == a.shape.size() ? text(a.at(at++)) : nest(a, dim + 1, at));
  return io::value(std::move(out));
}

}  // namespace

contents read(store::file& f) {
  const stored_plan sp = read_plan(f);
  auto g = f.group_at(group);
  contents c;
  c.command = sp.command;
  std::vector<std::string> axes;
  for (auto& a : split_text(g.attr_string("axes")))
    if (!a.empty()) axes.push_back(std::move(a));
  c.points = g.attr_int("points");
  const auto done = points_done(f, c.points);
  c.done = std::count(done.begin(), done.end(), true);
  const auto load = [&](const std::string& name) {
    stored_array s;
    s.name = name;
    const auto info = f.info(std::string(group) + "/" + name);
    s.shape = info.shape;
    s.integer = info.type.rfind("int", 0) == 0 || info.type.rfind("uint", 0) == 0;
    if (s.integer) s.ints = g.read_ints(name);
    else s.reals = g.read_doubles(name);
    // An axis of texts lists its values (','); a result of texts lists the texts its values index ('\n').
    if (g.has_attr_of(name, "labels")) s.labels = split_text(g.attr_string_of(name, "labels"), info.is_scale ? ',' : '\n');
    return s;
  };
  for (const auto& a : axes) c.axes.push_back(load(a));
  for (const auto& name : g.children()) {
    if (name == "points" || name == "arguments") continue;
    if (std::find(axes.begin(), axes.end(), name) != axes.end()) continue;
    if (f.info(std::string(group) + "/" + name).is_group) continue;
    c.results.push_back(load(name));
  }
  return c;
}

io::record to_record(store::file& f) {
  const contents c = read(f);
  io::record out;
  out.add("command", c.command);
  std::vector<std::string> dims;
  io::record ax;
  for (const auto& a : c.axes) {
    dims.push_back(a.name);
    if (a.labels) ax.add(a.name, *a.labels);
    else if (a.integer) ax.add(a.name, a.ints);
    else ax.add(a.name, a.reals);
  }
  out.add("dims", std::move(dims));
  out.add("axes", std::move(ax));
  out.add("points", c.points);
  out.add("done", c.done);
  for (const auto& r : c.results) {
    std::size_t at = 0;
    out.add(r.name, nest(r, 0, at));
  }
  return out;
}

std::vector<io::summary_entry> summary(store::file& f) {
  std::vector<io::summary_entry> out;
  auto g = f.group_at(group);
  out.push_back(io::entry_words("command", "amari " + g.attr_string("command")));
  for (const auto& a : split_text(g.attr_string("axes"))) {
    if (a.empty()) continue;
    std::string text;
    if (g.has_attr_of(a, "labels")) {
      text = g.attr_string_of(a, "labels");
    } else {
      const auto v = g.read_doubles(a);
      text = fmt::format("{} values, {} .. {}", v.size(), io::short_number(v.front()), io::short_number(v.back()));
    }
    out.push_back(io::entry_words("axis " + a, text));
  }
  const std::int64_t points = g.attr_int("points");
  const auto done = points_done(f, points);
  out.push_back(io::entry_words(
      "points", fmt::format("{} of {} complete", std::count(done.begin(), done.end(), true), points)));
  std::vector<std::string> results;
  for (const auto& name : g.children()) {
    const auto info = f.info(std::string(group) + "/" + name);
    if (!info.is_group && !info.is_scale && name != "arguments") results.push_back(name);
  }
  out.push_back(io::entry_words("results", results.empty() ? std::string("none yet (written when the sweep completes)")
                                                           : join(results, ", ")));
  return out;
}

}  // namespace amari::layout::sweep
