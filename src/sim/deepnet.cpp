#include "amari/sim/deepnet.hpp"

#include "amari/core/stats.hpp"

#include <omp.h>

#include <Eigen/Core>
#include <Eigen/QR>
#include <algorithm>
#include <atomic>
#include <boost/random/mersenne_twister.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>
#include <exception>
#include <fmt/format.h>
#include <limits>
#include <mutex>
#include <random>

#include "amari/core/error.hpp"
#include "amari/core/gauss.hpp"
#include "amari/theory/maps.hpp"

namespace amari {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// Boost.Random rather than <random>: its engines and its normal distribution (the ziggurat of
// Marsaglia & Tsang 2000, ~3x faster than libstdc++'s polar method here) are fully specified by
// the Boost source, so a seed gives the same networks with any standard library.
using engine = boost::random::mt19937_64;

engine engine_for(std::int64_t seed_, std::int64_t net) {
  const auto seed = static_cast<std::uint64_t>(seed_);
  const auto n = static_cast<std::uint64_t>(net);
  std::seed_seq seq{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                    static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n >> 32),
                    0x6465'6570u /* "deep" */};
  return engine(seq);
}

struct net_record {
  std::vector<double> q1, q2, c, lambda, m4;  // layers + 1 each
};

double cosine(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const double d = std::sqrt(a.squaredNorm() * b.squaredNorm());
  return d > 0 ? a.dot(b) / d : nan;
}

// One network: the inputs, then L layers, each with fresh weights generated row by row (a row of
// W^l is used for the three products as soon as it is drawn: no N x N matrix is stored, and the
// products are row-times-matrix (GEMV) products, which Eigen never splits over threads, so the
// arithmetic is the same whatever the thread count).
void run_one(const deepnet_params& p, std::int64_t net, net_record& out) {
  // (p.n is the width; run_deepnet sets it for each width of a sweep)
  const Eigen::Index N = static_cast<Eigen::Index>(p.n);
  const std::int64_t L = p.layers;
  engine eng = engine_for(p.seed, net);
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  auto fill = [&](auto&& v) {
    for (Eigen::Index i = 0; i < v.size(); ++i) v[i] = normal(eng);
  };

  // Inputs with exactly the requested empirical second moment and correlation.
  Eigen::VectorXd e1(N), e2(N), v(N);
  fill(e1);
  fill(e2);
  fill(v);
  v.normalize();
  const double s0 = std::sqrt(std::max(0.0, (1 - p.c0) * (1 + p.c0)));
  Eigen::VectorXd h1, h2;
  if (p.inputs == input_kind::gaussian) {
    // i.i.d. components: (h1_i, h2_i) ~ N(0, q0 [[1, c0], [c0, 1]])
    h1 = std::sqrt(p.q0) * e1;
    h2 = std::sqrt(p.q0) * (p.c0 * e1 + s0 * e2);
  } else {
    e1.normalize();
    e2 -= e2.dot(e1) * e1;
    e2.normalize();
    const double scale = std::sqrt(double(N) * p.q0);
    h1 = scale * e1;
    h2 = scale * (p.c0 * e1 + s0 * e2);
  }

  out.q1.assign(L + 1, nan);
  out.q2.assign(L + 1, nan);
  out.c.assign(L + 1, nan);
  out.lambda.assign(L + 1, nan);
  out.m4.assign(L + 1, nan);
  auto record = [&](std::int64_t l) {
    out.q1[l] = h1.squaredNorm() / double(N);
    out.m4[l] = h1.array().square().square().sum() / double(N);
    out.q2[l] = h2.squaredNorm() / double(N);
    out.c[l] = cosine(h1, h2);
  };
  record(0);

  const double w_scale = p.model.sigma_w / std::sqrt(double(N));
  Eigen::MatrixXd X(N, 3), Y(N, 3), Z;
  Eigen::RowVectorXd row(N);
  Eigen::VectorXd b(N);
  // Tied: W (row-major, each row drawn as the untied net draws the rows of W^1) and b once.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W;
  if (p.tied) {
    W.resize(N, N);
    for (Eigen::Index i = 0; i < N; ++i) {
      fill(row);
      W.row(i) = row;
    }
    fill(b);
  }
  for (std::int64_t l = 1; l <= L; ++l) {
    p.model.phi.visit([&](const auto& a) {
      X.col(0).array() = a.phi(h1.array());
      X.col(1).array() = a.phi(h2.array());
      X.col(2).array() = a.dphi(h1.array()) * v.array();
    });
    if (p.tied) {
      for (Eigen::Index i = 0; i < N; ++i) Y.row(i).noalias() = W.row(i) * X;
    } else if (p.sampling == deepnet_sampling::conditional) {
      // W X = (W Q) R with X = Q R: W Q has i.i.d. N(0, 1) entries (deepnet.hpp). Householder QR
      // (backward stable, and exact for a rank-deficient X, e.g. h_1 = h_2 at c = 1).
      const Eigen::Index k = std::min<Eigen::Index>(N, 3);
      const Eigen::HouseholderQR<Eigen::MatrixXd> qr(X);
      const Eigen::MatrixXd R = qr.matrixQR().topRows(k).triangularView<Eigen::Upper>();
      Z.resize(N, k);
      fill(Z.reshaped());
      Y.noalias() = Z * R;
      fill(b);
    } else {
      for (Eigen::Index i = 0; i < N; ++i) {
        fill(row);
        Y.row(i).noalias() = row * X;
      }
      fill(b);
    }
    h1 = w_scale * Y.col(0) + p.model.sigma_b * b;
    h2 = w_scale * Y.col(1) + p.model.sigma_b * b;
    Eigen::VectorXd t = w_scale * Y.col(2);
    const double norm2 = t.squaredNorm();  // |v^{l-1}| = 1
    out.lambda[l] = 0.5 * std::log(norm2);
    if (norm2 > 0) v = t / std::sqrt(norm2);
    record(l);
  }
}

}  // namespace

std::string_view to_string(deepnet_sampling s) { return s == deepnet_sampling::weights ? "weights" : "conditional"; }

void parse_param(std::string_view text, std::string_view field, deepnet_sampling& out) {
  if (text == "weights")
    out = deepnet_sampling::weights;
  else if (text == "conditional")
    out = deepnet_sampling::conditional;
  else
    throw InvalidArgument(field, text, "must be weights or conditional");
}

std::string param_text(deepnet_sampling s) { return std::string(to_string(s)); }

const param_table<deepnet_params>& deepnet_params::table() {
  using P = deepnet_params;
  static const auto t = param_table<P>("deepnet")
                            .add("phi", [](P& p) -> auto& { return p.model.phi; })
                            .add("sigma_w", [](P& p) -> auto& { return p.model.sigma_w; })
                            .add("sigma_b", [](P& p) -> auto& { return p.model.sigma_b; })
                            .add("n", [](P& p) -> auto& { return p.n; })
                            .add("layers", [](P& p) -> auto& { return p.layers; })
                            .add("nets", [](P& p) -> auto& { return p.nets; })
                            .add("q0", [](P& p) -> auto& { return p.q0; })
                            .add("c0", [](P& p) -> auto& { return p.c0; })
                            .add("inputs", [](P& p) -> auto& { return p.inputs; })
                            .add("widths", [](P& p) -> auto& { return p.widths; })
                            .add("tied", [](P& p) -> auto& { return p.tied; })
                            .add("sampling", [](P& p) -> auto& { return p.sampling; })
                            .add("seed", [](P& p) -> auto& { return p.seed; })
                            .add("threads", [](P& p) -> auto& { return p.threads; });
  return t;
}

void deepnet_params::validate() const {
  model.validate();
  model.require_centred("the deep nets");
  if (n < 2 || n > 1'000'000) throw InvalidArgument("n", std::to_string(n), "must be an integer in [2, 1000000]");
  if (layers < 1 || layers > 100'000)
    throw InvalidArgument("layers", std::to_string(layers), "must be an integer in [1, 100000]");
  if (nets < 1 || nets > 1'000'000) throw InvalidArgument("nets", std::to_string(nets), "must be an integer in [1, 1000000]");
  require_positive("q0", q0);
  require_in_range("c0", c0, -1.0, 1.0);
  for (double w : widths)
    if (!(w >= 2 && w <= 1'000'000 && w == std::floor(w)))
      throw InvalidArgument("widths", format_number(w), "each width must be an integer in [2, 1000000]");
  if (!widths.empty() && nets < 3)
    throw InvalidArgument("nets", std::to_string(nets), "must be >= 3 with widths (jackknife standard errors)");
  if (seed < 0) throw InvalidArgument("seed", std::to_string(seed), "must be an integer >= 0");
  if (tied && sampling == deepnet_sampling::conditional)
    throw InvalidArgument("sampling", "conditional",
                          "draws fresh W at every layer, so tied nets (the same W at every layer) need sampling = weights");
  if (threads < 0 || threads > 4096)
    throw InvalidArgument("threads", std::to_string(threads), "must be an integer in [0, 4096] (0: all cores)");
  // Refuse before allocating: the per-network records (q1, q2, c, lambda over nets x (layers + 1))
  // and m4) and, in every thread that runs a network, its vectors (e1, e2, v, h1, h2, b, row, t,
  // X, Y: 14 N doubles; conditional adds Z and the QR of X: 20 N).
  const double width = widths.empty() ? double(n) : *std::max_element(widths.begin(), widths.end());
  const double tied_threads = std::min<double>(double(nets), threads > 0 ? double(threads) : omp_get_max_threads());
  const double per_thread = (sampling == deepnet_sampling::conditional ? 20.0 : 14.0) * 8.0 * width;
  const double need = 5.0 * 8.0 * double(nets) * double(layers + 1) + per_thread * tied_threads;
  const double have = double(memory_available()), usable = double(memory_usable());
  // Tied nets also hold W (N^2 doubles) in every thread that runs a network.
  const double need_w = tied ? 8.0 * width * width * tied_threads : 0.0;
  if (need + need_w > usable && need <= usable)
    throw InvalidArgument(widths.empty() ? "n" : "widths", std::to_string(static_cast<std::int64_t>(width)),
                          fmt::format("tied nets hold W ({:.1f} GB at this width) in each of {} threads, but only {:.1f} "
                                      "GB is available: use a smaller width or fewer threads",
                                      8.0 * width * width / 1e9, tied_threads, have / 1e9));
  if (need > usable)
    throw InvalidArgument("nets", std::to_string(nets),
                          fmt::format("with layers = {} the per-network records need {:.1f} GB of memory, but only "
                                      "{:.1f} GB is available: use fewer nets or layers",
                                      layers, need / 1e9, have / 1e9));
}

depth_trajectory iterate_maps(const model_params& model, double q0, double c0, std::int64_t layers) {
  model.validate();
  model.require_centred("the depth maps");
  const Activation& phi = model.phi;
  const double sigma_w = model.sigma_w, sigma_b = model.sigma_b;
  require_nonnegative("q0", q0);
  require_in_range("c0", c0, -1.0, 1.0);
  if (layers < 0) throw InvalidArgument("layers", std::to_string(layers), "must be an integer >= 0");
  const double w2 = sigma_w * sigma_w, b2 = sigma_b * sigma_b;
  depth_trajectory t;
  t.q.assign(layers + 1, nan);
  t.c.assign(layers + 1, nan);
  t.lambda.assign(layers + 1, nan);
  t.q[0] = q0;
  t.c[0] = c0;
  for (std::int64_t l = 1; l <= layers; ++l) {
    const double q = t.q[l - 1], c = t.c[l - 1];
    t.q[l] = w2 * E_phi2(phi, q) + b2;
    t.lambda[l] = 0.5 * std::log(w2 * E_dphi2(phi, q));
    if (std::isnan(c) || !(t.q[l] > 0)) continue;
    // The rounding of (w2 E[phi phi] + b2) / V at c = 1 can leave [-1, 1] by an ulp.
    t.c[l] = std::clamp((w2 * E_phi_phi(phi, q, q, c) + b2) / t.q[l], -1.0, 1.0);
  }
  return t;
}

namespace {

// The networks of one width p.n, into r's per-network arrays; network k draws from the stream of
// index k + first (first > 0 in a width sweep: every width has its own networks). `done` and
// `total` count the networks of the whole run for the progress report.
void run_nets(const deepnet_params& p, const run_control& ctl, std::int64_t first, std::atomic<std::int64_t>& done,
              std::int64_t total, deepnet_result& r) {
  const std::int64_t nets = p.nets, cols = p.layers + 1;
  r.nets = nets;
  r.layers = p.layers;
  for (auto* x : {&r.q1, &r.q2, &r.c, &r.lambda, &r.m4}) x->assign(nets * cols, nan);

  std::atomic<int> stop{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failure_mutex, report_mutex;
  const int threads = p.threads > 0 ? static_cast<int>(p.threads) : omp_get_max_threads();

#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::int64_t k = 0; k < nets; ++k) {
    if (stop.load() || failed.load()) continue;
    if (int sig = ctl.stop_requested()) {
      stop.store(sig);
      continue;
    }
    try {
      net_record rec;
      run_one(p, k + first, rec);
      std::copy(rec.q1.begin(), rec.q1.end(), r.q1.begin() + k * cols);
      std::copy(rec.q2.begin(), rec.q2.end(), r.q2.begin() + k * cols);
      std::copy(rec.c.begin(), rec.c.end(), r.c.begin() + k * cols);
      std::copy(rec.lambda.begin(), rec.lambda.end(), r.lambda.begin() + k * cols);
      std::copy(rec.m4.begin(), rec.m4.end(), r.m4.begin() + k * cols);
    } catch (...) {
      std::lock_guard lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      failed.store(true);
    }
    const std::int64_t d = ++done;
    if (ctl.progress) {
      std::lock_guard lock(report_mutex);
      ctl.report(double(d), double(total));
    }
  }
  if (failure) std::rethrow_exception(failure);
  if (int sig = stop.load())
    throw Interrupted(sig, fmt::format("deepnet interrupted after {} of {} networks", done.load(), total));
}

// The delete-one jackknife of a statistic of column sums: theta(excluded k) for k = 0..N-1 -> the
// standard error sqrt((N - 1) / N sum_k (theta_k - mean)^2) (Efron & Tibshirani 1993, ch. 11).
template <class F>
double jackknife_se(std::int64_t N, F theta_without) {
  std::vector<double> t(static_cast<std::size_t>(N));
  double mean = 0;
  for (std::int64_t k = 0; k < N; ++k) mean += (t[k] = theta_without(k));
  mean /= double(N);
  double ss = 0;
  for (double x : t) ss += (x - mean) * (x - mean);
  return std::sqrt(double(N - 1) / double(N) * ss);
}

}  // namespace

// One width's row of the sweep, from the networks in r and the theory th.
void measure_width(const deepnet_result& r, double n, const finite_result& th, deepnet_result::width_sweep& s) {
  const std::int64_t N = r.nets, cols = r.layers + 1;
  const double dN = double(N);
  for (std::int64_t l = 0; l < cols; ++l) {
    double S1 = 0, S2 = 0, A = 0, C = 0, C2 = 0;
    for (std::int64_t k = 0; k < N; ++k) {
      const double q = r.q1[k * cols + l], c = r.c[k * cols + l];
      S1 += q, S2 += q * q, A += r.m4[k * cols + l], C += c, C2 += c * c;
    }
    // n Var(q): the unbiased sample variance
    auto var_without = [&](double s1, double s2, double m) { return (s2 - s1 * s1 / m) / (m - 1); };
    s.var_q.push_back(n * var_without(S1, S2, dN));
    s.var_q_sem.push_back(n * jackknife_se(N, [&](std::int64_t k) {
                            const double q = r.q1[k * cols + l];
                            return var_without(S1 - q, S2 - q * q, dN - 1);
                          }));
    // n x excess kurtosis of h_i: mean (h^4) / mean(h^2)^2 - 3 over networks and neurons
    auto kurt = [](double a, double b) { return a / (b * b) - 3; };
    s.kurtosis.push_back(n * kurt(A / dN, S1 / dN));
    s.kurtosis_sem.push_back(n * jackknife_se(N, [&](std::int64_t k) {
                               return kurt((A - r.m4[k * cols + l]) / (dN - 1), (S1 - r.q1[k * cols + l]) / (dN - 1));
                             }));
    const double sd_q = std::sqrt(std::max(0.0, var_without(S1, S2, dN)));
    const double sd_c = std::sqrt(std::max(0.0, var_without(C, C2, dN)));
    s.mean_shift.push_back(n * (S1 / dN - th.K[l]));
    s.mean_shift_sem.push_back(n * sd_q / std::sqrt(dN));
    s.c_shift.push_back(n * (C / dN - th.c[l]));
    s.c_shift_sem.push_back(n * sd_c / std::sqrt(dN));
    s.theory_var_q.push_back(th.var_q[l]);
    s.theory_kurtosis.push_back(th.kurtosis[l]);
    s.theory_mean_shift.push_back(th.mean_shift[l]);
    s.theory_c_shift.push_back(th.c_shift[l]);
  }
}

deepnet_result run_deepnet(const deepnet_params& p, const run_control& ctl) {
  p.validate();
  deepnet_result r;
  std::atomic<std::int64_t> done{0};
  if (p.widths.empty()) {
    run_nets(p, ctl, 0, done, p.nets, r);
  } else {
    const finite_result th =
        run_finite(finite_params{.model = p.model, .q0 = p.q0, .c0 = p.c0, .inputs = p.inputs, .layers = p.layers});
    const auto W = static_cast<std::int64_t>(p.widths.size());
    deepnet_params pw = p;
    for (std::int64_t i = 0; i < W; ++i) {
      pw.n = static_cast<std::int64_t>(p.widths[i]);
      run_nets(pw, ctl, 1 + i * p.nets, done, W * p.nets, r);
      r.sweep.widths.push_back(pw.n);
      measure_width(r, double(pw.n), th, r.sweep);
    }
  }
  const std::int64_t nets = r.nets, cols = r.layers + 1;
  // Over the networks (independent draws): the mean and its standard error at every layer.
  mean_and_sem_columns(r.q1, nets, cols, r.q1_mean, r.q1_sem);
  mean_and_sem_columns(r.q2, nets, cols, r.q2_mean, r.q2_sem);
  mean_and_sem_columns(r.c, nets, cols, r.c_mean, r.c_sem);
  mean_and_sem_columns(r.lambda, nets, cols, r.lambda_mean, r.lambda_sem);
  const depth_trajectory t = iterate_maps(p.model, p.q0, p.c0, p.layers);
  r.q_map = t.q;
  r.c_map = t.c;
  r.lambda_map = t.lambda;
  r.fixed = solve_maps(p.model);
  r.curves = sample_map_curves(p, r.q_map, r.fixed.q_star);
  return r;
}

map_curves sample_map_curves(const deepnet_params& p, const std::vector<double>& q_map,
                             std::optional<double> q_star, std::int64_t points) {
  if (points < 2) throw InvalidArgument("points", std::to_string(points), "must be an integer >= 2");
  const model_params& mp = p.model;
  mp.validate();
  map_curves m;
  double q_max = p.q0, q_last = nan;
  for (double q : q_map)
    if (std::isfinite(q)) {
      q_max = std::max(q_max, q);
      if (q > 0) q_last = q;
    }
  if (q_star && std::isfinite(*q_star)) q_max = std::max(q_max, *q_star);
  q_max *= 1.25;
  if (!(q_max > 0)) q_max = 1;
  const auto n = static_cast<std::size_t>(points);
  m.q.resize(n), m.V.resize(n), m.c.resize(n), m.C.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    // i / (n - 1) of the range, the last point exactly at the end
    m.q[i] = i + 1 == n ? q_max : q_max * double(i) / double(n - 1);
    m.V[i] = length_map(mp, m.q[i]);
    m.c[i] = i + 1 == n ? 1.0 : -1.0 + 2.0 * double(i) / double(n - 1);
  }
  m.q_c_is_fixed_point = q_star && std::isfinite(*q_star) && *q_star > 0;
  m.q_c = m.q_c_is_fixed_point ? *q_star : q_last;
  for (std::size_t i = 0; i < n; ++i) m.C[i] = std::isfinite(m.q_c) ? correlation_map(mp, m.q_c, m.c[i]) : nan;
  return m;
}

}  // namespace amari
