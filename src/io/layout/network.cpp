// The /network group (include/amari/io/layout/network.hpp).
#include "amari/io/layout/network.hpp"

#include <fmt/format.h>

#include "amari/core/error.hpp"
#include "amari/io/params.hpp"

namespace amari::layout::network {

namespace {

// Row-major float64 values of W.
std::vector<double> row_major(const Eigen::MatrixXd& W) {
  std::vector<double> v(static_cast<std::size_t>(W.size()));
  for (Eigen::Index i = 0; i < W.rows(); ++i)
    for (Eigen::Index j = 0; j < W.cols(); ++j) v[static_cast<std::size_t>(i * W.cols() + j)] = W(i, j);
  return v;
}

constexpr const char* w_description = "the coupling matrix: W[i, j] is the weight from neuron j to neuron i";
constexpr const char* b_description = "the bias vector b";

struct moments {
  double mean = 0, var = 0;
};
moments moments_of(const double* x, std::size_t n) {
  moments m;
  for (std::size_t k = 0; k < n; ++k) m.mean += x[k];
  m.mean /= static_cast<double>(n);
  for (std::size_t k = 0; k < n; ++k) m.var += (x[k] - m.mean) * (x[k] - m.mean);
  m.var /= static_cast<double>(n);
  return m;
}

}  // namespace

void write(store::file& f, const network_draw_params& p, const dense_network& net) {
  auto g = f.group_at(group);
  io::write_params(g, network_draw_params::table(), p);
  const auto n = static_cast<std::uint64_t>(p.net.n);
  const std::vector<double> w = row_major(net.W);
  g.attr("weights_checksum", checksum_text(fnv1a64_checksum(w.data(), static_cast<std::int64_t>(w.size()))));
  g.attr("bias_checksum", checksum_text(fnv1a64_checksum(net.b.data(), net.b.size())));
  g.write("W", w, {.description = w_description}, {n, n});
  g.write("b", std::vector<double>(net.b.data(), net.b.data() + net.b.size()), {.description = b_description}, {n});
}

io::record to_record(const network_draw_params& p, const dense_network& net) {
  io::record r = io::params_record(network_draw_params::table(), p);
  const std::vector<double> w = row_major(net.W);
  r.add("weights_checksum", checksum_text(fnv1a64_checksum(w.data(), static_cast<std::int64_t>(w.size()))));
  r.add("bias_checksum", checksum_text(fnv1a64_checksum(net.b.data(), net.b.size())));
  const moments mw = moments_of(w.data(), w.size()), mb = moments_of(net.b.data(), static_cast<std::size_t>(net.b.size()));
  r.add("w_mean", mw.mean);
  r.add("w_var", mw.var);
  r.add("b_mean", mb.mean);
  r.add("b_var", mb.var);
  return r;
}

std::vector<io::summary_entry> summary(store::file& f) {
  std::vector<io::summary_entry> out;
  auto g = f.group_at(group);
  for (const char* key : {"weights_source", "bias_source", "weights_checksum", "bias_checksum"})
    if (g.has_attr(key)) out.push_back(io::entry_words(key, g.attr_string(key)));
  if (g.has("W")) {
    const auto n = g.shape("W").front();
    out.push_back(io::entry_value("N", static_cast<double>(n)));
    if (n <= 4000) {  // (reads W: up to 128 MB)
      const auto w = g.read_doubles("W");
      const moments m = moments_of(w.data(), w.size());
      out.push_back(io::entry_value("mean of W", m.mean));
      out.push_back(io::entry_value("variance of W", m.var));
    }
  }
  return out;
}

void write_provenance(store::file& f, const user_network& u) {
  if (!u.has_weights() && !u.has_bias()) return;
  auto g = f.group_at(group);
  g.attr("description", "where this run's W and b came from (docs/FORMAT.md, \"/network\")");
  if (u.has_weights()) {
    const std::string src = u.weights_source.empty() ? "memory" : u.weights_source;
    g.attr("weights_source", src);
    g.attr("weights_checksum", checksum_text(u.summary ? u.summary->checksum : fnv1a64_checksum(u.weights)));
    if (src == "memory") {
      if (!u.weights.whole()) throw std::logic_error("amari: write_provenance: W from memory must be held whole");
      const auto n = static_cast<std::uint64_t>(u.weights.rows);
      std::vector<double> w(static_cast<std::size_t>(n * n));
      for (std::int64_t i = 0; i < u.weights.rows; ++i)
        for (std::int64_t j = 0; j < u.weights.cols; ++j) w[static_cast<std::size_t>(i) * n + j] = u.weights(i, j);
      g.write("W", w, {.description = w_description}, {n, n});
    }
  } else {
    g.attr("weights_source", "drawn");
  }
  if (u.has_bias()) {
    const std::string src = u.bias_source.empty() ? "memory" : u.bias_source;
    g.attr("bias_source", src);
    g.attr("bias_checksum", checksum_text(fnv1a64_checksum(u.bias, u.bias_size)));
    if (src == "memory")
      g.write("b", std::vector<double>(u.bias, u.bias + u.bias_size), {.description = b_description},
              {static_cast<std::uint64_t>(u.bias_size)});
  } else {
    g.attr("bias_source", "drawn");
  }
}

bool has_user_weights(store::file& f) {
  if (!f.has(group)) return false;
  auto g = f.group_at(group);
  return g.has_attr("weights_source") && g.attr_string("weights_source") != "drawn";
}

loaded_network read_provenance(store::file& f, row_range rows, bool verify) {
  loaded_network out;
  if (!f.has(group)) return out;
  auto g = f.group_at(group);
  if (!g.has_attr("weights_source")) return out;  // the file of amari network, not a simulation's
  auto load = [&](const char* field, const char* source_attr, const char* checksum_attr, const char* dataset,
                  array_data& a) {
    const std::string src = g.attr_string(source_attr);
    if (src == "drawn") return;
    const bool part = std::string(field) == "weights" && rows.count >= 0;
    if (src == "memory") {
      if (part) {
        a.values = g.read_rows(dataset, static_cast<std::uint64_t>(rows.first), static_cast<std::uint64_t>(rows.count));
        a.first_row = rows.first;
      } else {
        a.values = g.read_doubles(dataset);
      }
      for (auto d : g.shape(dataset)) a.shape.push_back(static_cast<std::int64_t>(d));
      a.dtype = "float64";
      return;  // spec stays empty: "memory"
    }
    // W's rows are streamed from its file as the network is built (only the shape is read here);
    // b is read whole.
    const bool weights = std::string(field) == "weights";
    a = read_array(field, src, weights ? row_range{0, 0} : row_range{});
    if (weights) out.streamed = part ? rows : row_range{0, a.shape.empty() ? 0 : a.shape[0]};
    if (weights && !verify) return;
    const std::string recorded = g.attr_string(checksum_attr);
    const std::string now = checksum_text(
        weights ? weights_summary_of(src, false).checksum
                : fnv1a64_checksum(a.values.data(), static_cast<std::int64_t>(a.values.size())));
    if (now != recorded)
      throw InvalidArgument(field, src,
                            fmt::format("has checksum {}, but the run in {} was made with {}: the array changed since, "
                                        "so the run cannot be resumed with it",
                                        now, f.path(), recorded));
  };
  load("weights", "weights_source", "weights_checksum", "W", out.weights);
  load("bias", "bias_source", "bias_checksum", "b", out.bias);
  return out;
}

}  // namespace amari::layout::network
