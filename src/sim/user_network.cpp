// The user's own network (include/amari/sim/user_network.hpp).
#include "amari/sim/user_network.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <exception>
#include <fmt/format.h>
#include <vector>

#include "amari/core/error.hpp"

namespace amari {

weights_view c_order_view(const double* data, std::int64_t rows, std::int64_t cols) {
  return weights_view{.data = data, .single = false, .rows = rows, .cols = cols, .row_stride = cols, .col_stride = 1};
}

namespace {

std::string source_of(const std::string& s) { return s.empty() ? std::string("memory") : s; }

[[noreturn]] void refuse_non_finite(const std::string& src, std::int64_t i, std::int64_t j, double v) {
  throw InvalidArgument("weights", src,
                        fmt::format("has a non-finite entry W[{}, {}] = {}: every entry must be finite", i, j,
                                    format_number(v)));
}

void refuse_given(const std::set<std::string>& given, const char* field, const char* what, const user_network& u,
                  const simulate_params& p, bool weights) {
  if (!given.count(field)) return;
  const double v = std::string_view(field) == "sigma_w" ? p.net.model.sigma_w
                   : std::string_view(field) == "w0"    ? p.net.model.w0
                   : std::string_view(field) == "sigma_b" ? p.net.model.sigma_b
                                                          : p.net.model.b0;
  throw InvalidArgument(field, format_number(v),
                        fmt::format("describes a drawn {}; it cannot be given together with {} ({}): leave it out",
                                    what, weights ? "weights" : "bias",
                                    source_of(weights ? u.weights_source : u.bias_source)));
}

}  // namespace

void apply_user_network(simulate_params& p, const user_network& u, const std::set<std::string>& given) {
  if (u.has_weights()) {
    refuse_given(given, "sigma_w", "W", u, p, true);
    refuse_given(given, "w0", "W", u, p, true);
  }
  if (u.has_bias()) {
    refuse_given(given, "sigma_b", "b", u, p, false);
    refuse_given(given, "b0", "b", u, p, false);
  }
  if (!given.count("n")) {
    if (u.has_weights())
      p.net.n = u.weights.rows;
    else if (u.has_bias())
      p.net.n = u.bias_size;
  }
  validate_user_network(p, u);
}

void validate_user_network(const simulate_params& p, const user_network& u) {
  const std::int64_t n = p.net.n;
  if (u.has_weights()) {
    const weights_view& w = u.weights;
    const std::string src = source_of(u.weights_source);
    if (w.rows < 1 || w.cols < 1)
      throw InvalidArgument("weights", src,
                            fmt::format("is a {} x {} array: it must be an N x N matrix with N >= 1", w.rows, w.cols));
    if (w.rows != w.cols)
      throw InvalidArgument("weights", src,
                            fmt::format("has shape [{}, {}]: it must be square, N x N (W_ij couples neuron j to i)",
                                        w.rows, w.cols));
    if (w.rows != n)
      throw InvalidArgument("n", std::to_string(n),
                            fmt::format("disagrees with the weights ({}), which are {} x {}: give n = {} or leave n out",
                                        src, w.rows, w.cols, w.rows));
    if (p.draws != 1)
      throw InvalidArgument("draws", std::to_string(p.draws),
                            fmt::format("must be 1 with weights ({}): there is one given W", src));
    if (u.summary && u.summary->non_finite >= 0)
      refuse_non_finite(src, u.summary->non_finite / n, u.summary->non_finite % n, u.summary->non_finite_value);
    if (!w.streamed())
      for (std::int64_t i = w.held_first(); i < w.held_end(); ++i)
        for (std::int64_t j = 0; j < n; ++j)
          if (!std::isfinite(w(i, j))) refuse_non_finite(src, i, j, w(i, j));
  }
  if (u.has_bias()) {
    const std::string src = source_of(u.bias_source);
    if (u.bias_size != n)
      throw InvalidArgument("bias", src,
                            fmt::format("has length {}: it must have length N = {}", u.bias_size, n));
    for (std::int64_t i = 0; i < n; ++i)
      if (!std::isfinite(u.bias[i]))
        throw InvalidArgument("bias", src,
                              fmt::format("has a non-finite entry b[{}] = {}: every entry must be finite", i,
                                          format_number(u.bias[i])));
  }
}

namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL, fnv_prime = 0x100000001b3ULL;

// One float64 into the hash, its bytes in little-endian order whatever the machine's order.
inline std::uint64_t fnv_add(std::uint64_t h, double x) {
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  for (int k = 0; k < 8; ++k) {
    h ^= (bits >> (8 * k)) & 0xffu;
    h *= fnv_prime;
  }
  return h;
}

}  // namespace

void read_weight_rows(const weights_view& w, std::int64_t first, std::int64_t count, double* out) {
  if (first < w.held_first() || first + count > w.held_end())
    throw std::logic_error("amari: read_weight_rows: rows not held by the view");
  if (w.streamed()) return w.fetch(first, count, out);
  for (std::int64_t i = first; i < first + count; ++i)
    for (std::int64_t j = 0; j < w.cols; ++j) out[(i - first) * w.cols + j] = w(i, j);
}

namespace {
// Every row of a whole view to fn(values, count), in blocks, in row order.
void for_each_block(const weights_view& w, const std::function<void(const double*, std::int64_t)>& fn) {
  const std::int64_t block = weights_block_rows(w.cols);
  std::vector<double> buf;
  for (std::int64_t first = 0; first < w.rows; first += block) {
    const std::int64_t count = std::min(block, w.rows - first);
    buf.resize(static_cast<std::size_t>(count * w.cols));
    read_weight_rows(w, first, count, buf.data());
    fn(buf.data(), count * w.cols);
  }
}
}  // namespace

std::uint64_t fnv1a64_checksum(const weights_view& w) {
  if (!w.whole()) throw std::logic_error("amari: the checksum of W needs every row (weights_summary)");
  std::uint64_t h = fnv_offset;
  for_each_block(w, [&](const double* v, std::int64_t count) {
    for (std::int64_t k = 0; k < count; ++k) h = fnv_add(h, v[k]);
  });
  return h;
}

void weights_summarizer::first(const double* values, std::int64_t count) {
  for (std::int64_t k = 0; k < count; ++k) {
    checksum_ = fnv_add(checksum_, values[k]);
    sum_ += values[k];
    if (non_finite_ < 0 && !std::isfinite(values[k])) non_finite_ = seen_ + k, non_finite_value_ = values[k];
  }
  seen_ += count;
}
void weights_summarizer::second(const double* values, std::int64_t count) {
  const double mean = sum_ / static_cast<double>(entries_);
  for (std::int64_t k = 0; k < count; ++k) ss_ += (values[k] - mean) * (values[k] - mean);
}
weights_summary weights_summarizer::result() const {
  return {checksum_, sum_ / static_cast<double>(entries_), ss_, non_finite_, non_finite_value_};
}

weights_summary summarize_weights(const weights_view& w) {
  if (!w.whole()) throw std::logic_error("amari: summarize_weights needs every row of W");
  weights_summarizer s(w.rows * w.cols);
  for_each_block(w, [&](const double* v, std::int64_t count) { s.first(v, count); });
  for_each_block(w, [&](const double* v, std::int64_t count) { s.second(v, count); });
  return s.result();
}

std::uint64_t fnv1a64_checksum(const double* data, std::int64_t n) {
  std::uint64_t h = fnv_offset;
  for (std::int64_t i = 0; i < n; ++i) h = fnv_add(h, data[i]);
  return h;
}

std::string checksum_text(std::uint64_t c) { return fmt::format("fnv1a64:{:016x}", c); }

Eigen::VectorXd draw_bias(const network_params& p, std::int64_t draw) {
  Eigen::VectorXd z(p.n);
  standard_normals(stream_key(p.seed, draw, stream_kind::bias, 0), z.data(), p.n);
  return (p.model.b0 + p.model.sigma_b * z.array()).matrix();
}

template <class S>
network<S> make_network(const network_params& p, std::int64_t draw, int threads, const user_network* u,
                        storage_kind storage, accumulation_kind acc, row_range rows) {
  if (!u || !u->has_weights()) {
    network<S> net = draw_network<S>(p, draw, threads, storage, acc, rows);
    if (u && u->has_bias())
      for (std::int64_t i = 0; i < p.n; ++i) net.b[i] = static_cast<S>(u->bias[i]);
    return net;
  }
  const std::int64_t n = p.n, first = rows.first, last = rows.count < 0 ? n : first + rows.count;
  const weights_view& w = u->weights;
  if (first < w.held_first() || last > w.held_end())
    throw std::logic_error("amari: make_network: the rows of W wanted are not all held by the user's view");
  network<S> net{weights<S>(n, storage, acc, first, last - first), Eigen::Matrix<S, Eigen::Dynamic, 1>(n)};
  // The one copy: from the user's array, in its strides and type, a row at a time into the storage
  // (weights::set_row rounds it there, as it rounds a drawn row).
  std::int64_t subnormal = 0;
  std::exception_ptr failure;
  if (w.streamed()) {
    // A block of rows at a time from the file (the reading is serial; the rounding into the
    // storage is spread over the threads), each row checked for non-finite entries on the way.
    const std::string src = source_of(u->weights_source);
    const std::int64_t block = weights_block_rows(n);
    std::vector<double> buf;
    for (std::int64_t b0 = first; b0 < last; b0 += block) {
      const std::int64_t count = std::min(block, last - b0);
      buf.resize(static_cast<std::size_t>(count * n));
      w.fetch(b0, count, buf.data());
      for (std::int64_t k = 0; k < count * n; ++k)
        if (!std::isfinite(buf[std::size_t(k)])) refuse_non_finite(src, b0 + k / n, k % n, buf[std::size_t(k)]);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 16) reduction(+ : subnormal)
      for (std::int64_t i = b0; i < b0 + count; ++i) {
        try {
          subnormal += net.W.set_row(i, buf.data() + (i - b0) * n);
        } catch (...) {
#pragma omp critical(amari_user_weights)
          if (!failure) failure = std::current_exception();
        }
      }
      if (failure) std::rethrow_exception(failure);
    }
  } else {
#pragma omp parallel num_threads(threads) reduction(+ : subnormal)
  {
    std::vector<double> row(static_cast<std::size_t>(n));
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t i = first; i < last; ++i) {
      if (w.single) {
        const float* src = static_cast<const float*>(w.data) + (i - w.first_row) * w.row_stride;
        for (std::int64_t j = 0; j < n; ++j) row[std::size_t(j)] = src[j * w.col_stride];
      } else {
        const double* src = static_cast<const double*>(w.data) + (i - w.first_row) * w.row_stride;
        for (std::int64_t j = 0; j < n; ++j) row[std::size_t(j)] = src[j * w.col_stride];
      }
      try {
        subnormal += net.W.set_row(i, row.data());
      } catch (...) {
#pragma omp critical(amari_user_weights)
        if (!failure) failure = std::current_exception();
      }
    }
  }
  }
  if (failure) std::rethrow_exception(failure);
  // Half keeps a subnormal weight with fewer significant bits; a W that is mostly such weights
  // would not be the network the user gave.
  if (2 * subnormal > (last - first) * n)
    throw InvalidArgument(fmt::format(
        "weight_precision = half: {} of the {} entries of W are subnormal in half (|w| < 6.1e-05) and would keep "
        "only a few significant bits; accepted: --weight-precision float or double, or W with fewer tiny entries",
        subnormal, (last - first) * n));
  if (u->has_bias()) {
    for (std::int64_t i = 0; i < n; ++i) net.b[i] = static_cast<S>(u->bias[i]);
  } else {
    const Eigen::VectorXd b = draw_bias(p, draw);
    for (std::int64_t i = 0; i < n; ++i) net.b[i] = static_cast<S>(b[i]);
  }
  return net;
}

template network<double> make_network<double>(const network_params&, std::int64_t, int, const user_network*,
                                              storage_kind, accumulation_kind, row_range);
template network<float> make_network<float>(const network_params&, std::int64_t, int, const user_network*,
                                            storage_kind, accumulation_kind, row_range);

dense_network draw_dense_network(const network_params& p, std::int64_t draw, int threads) {
  const network<double> net = draw_network<double>(p, draw, resolve_threads(threads));
  dense_network out{Eigen::MatrixXd(p.n, p.n), Eigen::VectorXd(net.b)};
  for (std::int64_t i = 0; i < p.n; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) out.W(i, j) = net.W(i, j);
  return out;
}

void network_draw_params::validate() const {
  net.validate();
  if (draw < 0) throw InvalidArgument("draw", std::to_string(draw), "must be an integer >= 0");
  if (threads < 0) throw InvalidArgument("threads", std::to_string(threads), "must be an integer >= 0 (0: all cores)");
}

const param_table<network_draw_params>& network_draw_params::table() {
  using P = network_draw_params;
  static const auto t = param_table<P>("network")
      .add("n", [](P& p) -> auto& { return p.net.n; })
      .add("phi", [](P& p) -> auto& { return p.net.model.phi; })
      .add("sigma_w", [](P& p) -> auto& { return p.net.model.sigma_w; })
      .add("sigma_b", [](P& p) -> auto& { return p.net.model.sigma_b; })
      .add("w0", [](P& p) -> auto& { return p.net.model.w0; })
      .add("b0", [](P& p) -> auto& { return p.net.model.b0; })
      .add("seed", [](P& p) -> auto& { return p.net.seed; })
      .add("draw", [](P& p) -> auto& { return p.draw; })
      .add("threads", [](P& p) -> auto& { return p.threads; });
  return t;
}

empirical_model measure_model(const network_params& p, const user_network& u) {
  empirical_model out{p.model, ""};
  std::vector<std::string> measured;
  const auto n = static_cast<double>(p.n);
  if (u.has_weights()) {
    // Two passes (mean, then the centred sum of squares) for accuracy.
    const weights_summary w = u.summary ? *u.summary : summarize_weights(u.weights);
    out.model.w0 = n * w.mean;
    out.model.sigma_w = std::sqrt(n * w.ss / (n * n));
    measured.push_back(fmt::format("w0 = N mean(W) = {}, sigma_w = sqrt(N var(W)) = {}", format_number(out.model.w0),
                                   format_number(out.model.sigma_w)));
  }
  if (u.has_bias()) {
    double sum = 0;
    for (std::int64_t i = 0; i < u.bias_size; ++i) sum += u.bias[i];
    const double mean = sum / n;
    double ss = 0;
    for (std::int64_t i = 0; i < u.bias_size; ++i) ss += (u.bias[i] - mean) * (u.bias[i] - mean);
    out.model.b0 = mean;
    out.model.sigma_b = std::sqrt(ss / n);
    measured.push_back(fmt::format("b0 = mean(b) = {}, sigma_b = sqrt(var(b)) = {}", format_number(out.model.b0),
                                   format_number(out.model.sigma_b)));
  }
  if (!measured.empty()) {
    out.note = "the theory assumes i.i.d. Gaussian W and b; this run's were given, so it uses their empirical moments: ";
    for (std::size_t k = 0; k < measured.size(); ++k) out.note += (k ? "; " : "") + measured[k];
  }
  return out;
}

}  // namespace amari
