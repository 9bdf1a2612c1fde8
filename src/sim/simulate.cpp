// The simulation of include/amari/sim/simulate.hpp: one integrator per draw (draw_run<S>), all draws
// meeting at the sample times, observables, Lyapunov exponents, stationary statistics.
#include "amari/sim/simulate.hpp"
#include "amari/sim/user_network.hpp"

#include <Eigen/Dense>
// Odeint first, then its Eigen adaptors (they specialise odeint's templates).
#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/euler.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <fmt/format.h>
#include <limits>
#include <memory>
#include <tuple>

#include "amari/core/error.hpp"

// Odeint copies states with boost::range::copy when they look like ranges; Eigen 3.4 gives
// matrices a begin() that only vectors may call. Plain assignment is what a matrix needs.
namespace boost::numeric::odeint {
template <class S, int R, int C, int O, int MR, int MC>
struct copy_impl_sfinae<Eigen::Matrix<S, R, C, O, MR, MC>, Eigen::Matrix<S, R, C, O, MR, MC>> {
  static void copy(const Eigen::Matrix<S, R, C, O, MR, MC>& from, Eigen::Matrix<S, R, C, O, MR, MC>& to) {
    to = from;
  }
};
}  // namespace boost::numeric::odeint

namespace amari {

namespace odeint = boost::numeric::odeint;

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------
// Odeint's vector_space_algebra (whole-state Eigen expressions), but for large states (many
// replicas or tangent vectors) the rows are split between threads. Every operation is
// elementwise, so the result does not depend on the split.
struct row_parallel_algebra {
  int threads = 1;
  static constexpr std::int64_t min_size = 1 << 15;  // elements; below, one thread

  template <class Op, class S1, class... S>
  void apply(Op& op, S1& s1, S&... s) const {
    const std::int64_t n = s1.rows();
    if (threads <= 1 || n * s1.cols() < min_size) {
      op(s1, s...);
      return;
    }
    const std::int64_t blocks = 8 * threads;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t r0 = n * b / blocks, len = n * (b + 1) / blocks - r0;
      auto part = std::make_tuple(s1.middleRows(r0, len), s.middleRows(r0, len)...);
      std::apply(op, part);
    }
  }
  template <class S1, class Op>
  void for_each1(S1& s1, Op op) const { apply(op, s1); }
  template <class S1, class S2, class Op>
  void for_each2(S1& s1, S2& s2, Op op) const { apply(op, s1, s2); }
  template <class S1, class S2, class S3, class Op>
  void for_each3(S1& s1, S2& s2, S3& s3, Op op) const { apply(op, s1, s2, s3); }
  template <class S1, class S2, class S3, class S4, class Op>
  void for_each4(S1& s1, S2& s2, S3& s3, S4& s4, Op op) const { apply(op, s1, s2, s3, s4); }
  template <class S1, class S2, class S3, class S4, class S5, class Op>
  void for_each5(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, Op op) const { apply(op, s1, s2, s3, s4, s5); }
  template <class S1, class S2, class S3, class S4, class S5, class S6, class Op>
  void for_each6(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, Op op) const { apply(op, s1, s2, s3, s4, s5, s6); }
  template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class Op>
  void for_each7(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, Op op) const {
    apply(op, s1, s2, s3, s4, s5, s6, s7);
  }
  template <class S1, class S2, class S3, class S4, class S5, class S6, class S7, class S8, class Op>
  void for_each8(S1& s1, S2& s2, S3& s3, S4& s4, S5& s5, S6& s6, S7& s7, S8& s8, Op op) const {
    apply(op, s1, s2, s3, s4, s5, s6, s7, s8);
  }
  template <class S>
  typename S::Scalar norm_inf(const S& s) const {
    return s.template lpNorm<Eigen::Infinity>();
  }
};

// ---------------------------------------------------------------------------------------------
// Step control as in Hairer, Norsett & Wanner (II.4) and scipy's RK45, plugged into odeint's
// controlled_runge_kutta.

// What the error norm needs besides odeint's arguments: the proposed new state (odeint passes
// only the old one). All columns are controlled, the tangent vectors too: at a stable fixed point
// the state alone would let the steps grow until the tangent dynamics is integrated unstably.
template <class M>
struct step_context {
  const M* x_new = nullptr;
  double atol = 0, rtol = 0;
  std::int64_t n_state = 1;
  double t = 0;  // for messages
  int threads = 1;
};

// err = max over columns (trajectories, tangent vectors) of
// sqrt(mean_i (e_i / (atol + rtol max(|x_i|, |x_new_i|)))^2).
template <class M>
double hairer_norm(const M& x_old, const M& x_new, const M& e, const step_context<M>& ctx) {
  const std::int64_t n = x_old.rows(), cols = ctx.n_state;
  std::vector<double> sums(static_cast<std::size_t>(cols));
  // Columns in parallel for large states; each column's sum in a fixed order.
#pragma omp parallel for schedule(dynamic, 1) num_threads(ctx.threads) if (ctx.threads > 1 && n * cols >= (1 << 15))
  for (std::int64_t c = 0; c < cols; ++c) {
    double s = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double scale = ctx.atol + ctx.rtol * std::max(std::abs(static_cast<double>(x_old(i, c))),
                                                          std::abs(static_cast<double>(x_new(i, c))));
      const double r = static_cast<double>(e(i, c)) / scale;
      s += r * r;
    }
    sums[c] = s;
  }
  double worst = 0;
  for (double s : sums) worst = std::max(worst, s / static_cast<double>(n));
  return std::sqrt(worst);
}

template <class M>
class hairer_error_checker {
 public:
  using value_type = typename M::Scalar;
  using algebra_type = row_parallel_algebra;
  using operations_type = odeint::default_operations;

  explicit hairer_error_checker(const step_context<M>* ctx = nullptr) : ctx_(ctx) {}

  template <class State, class Deriv, class Err, class Time>
  value_type error(algebra_type&, const State& x_old, const Deriv&, Err& x_err, Time) const {
    const double err = hairer_norm(x_old, *ctx_->x_new, x_err, *ctx_);
    if (!std::isfinite(err))
      throw NumericalError(fmt::format("the state became non-finite at t = {:.6g}", ctx_->t));
    return static_cast<value_type>(err);
  }

 private:
  const step_context<M>* ctx_;
};

// Step factor 0.9 err^(-1/5), clipped to [0.2, 10]; no growth on the step after a rejection.
template <class S>
class hairer_step_adjuster {
 public:
  using time_type = S;
  using value_type = S;

  S decrease_step(S dt, S err, int /*error_order*/) {
    rejected_ = true;
    return dt * static_cast<S>(std::max(0.2, 0.9 * std::pow(static_cast<double>(err), -0.2)));
  }
  S increase_step(S dt, S err, int /*stepper_order*/) {
    double f = err == 0 ? 10.0 : std::min(10.0, 0.9 * std::pow(static_cast<double>(err), -0.2));
    if (rejected_) f = std::min(1.0, f);
    rejected_ = false;
    return dt * static_cast<S>(f);
  }
  bool check_step_size_limit(S) const { return true; }
  S get_max_dt() const { return 0; }

 private:
  bool rejected_ = false;
};

// ---------------------------------------------------------------------------------------------

// A sample ready to be emitted: its time, h (N x R) and running Lyapunov estimates (R k).
struct sample_view {
  double t;
  const Eigen::MatrixXd* h;
  const std::vector<double>* lyap;
};

// A sample held explicitly: those of a format-version-1 checkpoint.
struct held_sample {
  double t;
  Eigen::MatrixXd h;
  std::vector<double> lyap;
};

// One draw: its network, its integrator, its Lyapunov bookkeeping.
template <class S>
class draw_run {
 public:
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  using dopri = odeint::runge_kutta_dopri5<M, S, M, S, row_parallel_algebra>;
  using controlled = odeint::controlled_runge_kutta<dopri, hairer_error_checker<M>, hairer_step_adjuster<S>>;

  draw_run(const simulate_params& p, std::int64_t d, int threads, const Eigen::MatrixXd* h0,
           const draw_checkpoint* resume, std::int64_t resume_next_sample, const user_network* user,
           const row_share* share)
      : p_(p), d_(d), n_(p.net.n), r_(p.replicas), k_(p.lyapunov ? p.lyapunov_k : 0),
        c_(p.columns()), threads_(threads), share_(share),
        net_(make_network<S>(p.net, d, threads, user, p.weight_storage(), p.accumulation,
                             share ? share->rows : row_range{})),
        panel_(n_, c_),
        ctrl_(hairer_error_checker<M>(&ctx_), hairer_step_adjuster<S>(), dopri(row_parallel_algebra{threads})),
        rk4_(row_parallel_algebra{threads}),
        euler_(row_parallel_algebra{threads}) {
    ctx_.atol = p.atol;
    ctx_.rtol = p.rtol;
    ctx_.n_state = c_;
    ctx_.threads = threads_;
    n_samples_ = p.samples();
    leak_ = p.stepper != stepper_kind::map;
    if (p.stepper == stepper_kind::rk4 || p.stepper == stepper_kind::euler) {
      steps_per_sample_ = std::llround(p.dt_out / p.dt);
      steps_per_renorm_ = p.lyapunov ? std::llround(p.lyapunov_interval / p.dt) : 0;
    } else if (p.stepper == stepper_kind::map) {
      steps_per_sample_ = std::llround(p.dt_out);
      steps_per_renorm_ = p.lyapunov ? std::llround(p.lyapunov_interval) : 0;
    }
    transient_ = p.transient_time();
    lyap_ = rate_accumulator(r_ * k_, transient_, p.t_end);
    pending_lyap_.assign(static_cast<std::size_t>(r_ * k_), nan);
    if (resume) {
      restore(*resume, resume_next_sample);
    } else {
      init_state(h0);
      next_sample_ = 1;  // sample 0 is the initial state
      lyap_last_ = 0;
      lyap_next_ = p.lyapunov_interval;
      if (p.stepper == stepper_kind::dopri5) {
        rhs(x_, dxdt_);
        dt_next_ = initial_step();
        x_new_ = x_, dxdt_new_ = dxdt_;  // the "step start" of the checkpoint before any step
      }
    }
  }

  // Samples passed but not emitted: those of the last step (indices emit_ .. next_sample_ - 1),
  // or those held from a version-1 checkpoint.
  bool has_pending() const { return !held_.empty() || emit_ < next_sample_; }
  bool holds_samples() const { return !held_.empty(); }
  // The next sample to emit. With dopri5 it is interpolated now, from the last step's dense output
  // (the step's start is kept in x_new_, dxdt_new_ after the swap).
  sample_view front() {
    if (!held_.empty()) return {held_.front().t, &held_.front().h, &held_.front().lyap};
    const double ts = sample_time(emit_);
    if (p_.stepper != stepper_kind::dopri5 || ts == t_) {
      h_out_ = x_.leftCols(r_).template cast<double>();
    } else {
      ctrl_.stepper().calc_state(static_cast<S>(ts - t_old_), x_tmp_, x_new_, dxdt_new_, S(0), x_, dxdt_,
                                 static_cast<S>(dt_step_));
      h_out_ = x_tmp_.leftCols(r_).template cast<double>();
    }
    return {ts, &h_out_, &pending_lyap_};
  }
  void pop() {
    if (!held_.empty())
      held_.pop_front();
    else
      ++emit_;
  }
  bool done() const { return next_sample_ >= n_samples_; }
  std::int64_t steps() const { return steps_; }
  std::int64_t rhs_evals() const { return rhs_; }
  double time() const { return t_; }
  const rate_accumulator& lyapunov() const { return lyap_; }

  // Takes one step (one accepted step for dopri5), passing the samples it reaches.
  void advance() {
    switch (p_.stepper) {
      case stepper_kind::dopri5: adaptive_step(); break;
      case stepper_kind::map: map_step(); break;
      default: fixed_step(); break;
    }
  }

  // (Not while samples of a version-1 checkpoint are held: the run emits them first.)
  draw_checkpoint save() const {
    draw_checkpoint c;
    c.t = t_;
    c.dt_next = dt_next_;
    c.steps = steps_;
    c.rhs_evals = rhs_;
    c.state.assign(x_.data(), x_.data() + x_.size());
    c.next_sample = next_sample_;
    c.t_old = t_old_;
    c.dt_step = dt_step_;
    if (p_.stepper == stepper_kind::dopri5) {
      c.deriv.assign(dxdt_.data(), dxdt_.data() + dxdt_.size());
      c.state_old.assign(x_new_.data(), x_new_.data() + x_new_.size());
      c.deriv_old.assign(dxdt_new_.data(), dxdt_new_.data() + dxdt_new_.size());
    }
    c.pending_lyap = pending_lyap_;
    c.lyap_next = lyap_next_;
    c.lyap_last = lyap_last_;
    c.lyap = lyap_.state();
    return c;
  }

 private:
  // ---- right-hand side: the kernel over [phi(H), phi'(H) * V]
  void rhs(const M& x, M& out) {
    ++rhs_;
    if (out.rows() != n_ || out.cols() != c_) out.resize(n_, c_);
    // The activations of each replica and its tangent vectors (replicas in parallel for large
    // states: elementwise, so the split does not change the result).
    const bool par = threads_ > 1 && r_ > 1 && n_ * c_ >= (1 << 15);
    p_.net.model.phi.visit([&](const auto& f) {
      using A = Eigen::Array<S, Eigen::Dynamic, 1>;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads_) if (par)
      for (std::int64_t r = 0; r < r_; ++r) {
        Eigen::Map<A>(panel_.column(r), n_) = f.phi(x.col(r).array());
        panel_.commit(r);
        if (k_ == 0) continue;
        const A dphi = f.dphi(x.col(r).array());
        for (std::int64_t a = 0; a < k_; ++a) {
          const std::int64_t c = r_ + r * k_ + a;
          Eigen::Map<A>(panel_.column(c), n_) = dphi * x.col(c).array();
          panel_.commit(c);
        }
      }
    });
    net_.W.multiply(panel_, out.data(), x.data(), net_.b.data(), r_, leak_, threads_);
    if (share_) {
      if constexpr (std::is_same_v<S, double>) share_->exchange(out.data(), n_, c_);
      else share_->exchange_float(out.data(), n_, c_);
    }
  }

  struct system {
    draw_run* self;
    void operator()(const M& x, M& dxdt, S /*t*/) const { self->rhs(x, dxdt); }
  };

  void init_state(const Eigen::MatrixXd* h0) {
    x_.resize(n_, c_);
    for (std::int64_t r = 0; r < r_; ++r) {
      Eigen::VectorXd h;
      if (h0) {
        h = h0->cols() == 1 ? Eigen::VectorXd(h0->col(0)) : Eigen::VectorXd(h0->col(r));
        if (h0->cols() == 1 && r > 0 && p_.replica_eps > 0) {
          Eigen::VectorXd z(n_);
          standard_normals(stream_key(p_.net.seed, d_, stream_kind::perturbation, r), z.data(), n_);
          h += p_.replica_eps * z;
        }
      } else {
        h = draw_initial(p_.net, d_, r, p_.replica_eps);
      }
      x_.col(r) = h.cast<S>();
      if (k_ > 0) {  // random orthonormal tangent vectors
        Eigen::MatrixXd v(n_, k_);
        standard_normals(stream_key(p_.net.seed, d_, stream_kind::tangent, r), v.data(), n_ * k_);
        Eigen::HouseholderQR<Eigen::MatrixXd> qr(v);
        const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(n_, k_);
        x_.middleCols(r_ + r * k_, k_) = q.cast<S>();
      }
    }
  }

  void restore(const draw_checkpoint& c, std::int64_t next_emitted) {
    t_ = c.t;
    dt_next_ = c.dt_next;
    steps_ = c.steps;
    rhs_ = c.rhs_evals;
    auto matrix = [&](const std::vector<double>& v, std::int64_t cols) -> M {
      if (static_cast<std::int64_t>(v.size()) != n_ * cols)
        throw InvalidArgument("the checkpoint does not match the parameters (state sizes)");
      return Eigen::Map<const Eigen::MatrixXd>(v.data(), n_, cols).cast<S>();
    };
    x_ = matrix(c.state, c_);
    const bool adaptive = p_.stepper == stepper_kind::dopri5;
    if (adaptive) dxdt_ = matrix(c.deriv, c_);
    lyap_next_ = c.lyap_next;
    lyap_last_ = c.lyap_last;
    emit_ = next_emitted;
    if (!c.v1) {
      lyap_.restore(c.lyap);
      next_sample_ = c.next_sample;
      t_old_ = c.t_old;
      dt_step_ = c.dt_step;
      if (static_cast<std::int64_t>(c.pending_lyap.size()) != r_ * k_)
        throw InvalidArgument("the checkpoint does not match the parameters (lyapunov_k)");
      pending_lyap_ = c.pending_lyap;
      if (adaptive) {
        x_new_ = matrix(c.state_old, c_);
        dxdt_new_ = matrix(c.deriv_old, c_);
        // Samples of the last step still to come: take that step again from its start, so that the
        // stepper holds its stages for the dense output (the same arithmetic: the same bits). Its
        // right-hand sides were counted when it was first taken.
        if (emit_ < next_sample_ && dt_step_ > 0) {
          const system sys{this};
          M out, dout, err;
          ctrl_.stepper().do_step(sys, x_new_, dxdt_new_, S(0), out, dout, static_cast<S>(dt_step_), err);
          rhs_ = c.rhs_evals;
        }
      }
    } else {
      restore_v1(c, next_emitted);
    }
    if (p_.stepper != stepper_kind::dopri5) fixed_steps_ = std::llround(t_ / p_.step());
  }

  // A checkpoint of format version 1: the samples interpolated but not emitted are held as they
  // are, and the Lyapunov intervals replayed into the accumulator (they are contiguous and end at
  // lyap_last; each is added with its stored length, in order, so the sums are those of a run
  // that never stopped).
  void restore_v1(const draw_checkpoint& c, std::int64_t next_emitted) {
    const std::int64_t rk = r_ * k_, np = static_cast<std::int64_t>(c.v1_pending_t.size());
    const std::int64_t intervals = static_cast<std::int64_t>(c.v1_lyap_dt.size());
    if (static_cast<std::int64_t>(c.v1_pending_h.size()) != np * n_ * r_ ||
        static_cast<std::int64_t>(c.v1_pending_lyap.size()) != np * rk ||
        static_cast<std::int64_t>(c.v1_lyap_log.size()) != intervals * rk)
      throw InvalidArgument("the checkpoint does not match the parameters (pending samples, Lyapunov intervals)");
    for (std::int64_t i = 0; i < np; ++i)
      held_.push_back({c.v1_pending_t[i], Eigen::Map<const Eigen::MatrixXd>(c.v1_pending_h.data() + i * n_ * r_, n_, r_),
                       std::vector<double>(c.v1_pending_lyap.begin() + i * rk, c.v1_pending_lyap.begin() + (i + 1) * rk)});
    next_sample_ = next_emitted + np;
    emit_ = next_sample_;
    double start = c.lyap_last;
    for (double dt : c.v1_lyap_dt) start -= dt;
    for (std::int64_t i = 0; i < intervals; ++i) {
      const double dt = c.v1_lyap_dt[i];
      lyap_.add(std::span<const double>(c.v1_lyap_log.data() + i * rk, static_cast<std::size_t>(rk)), dt,
                start + 0.5 * dt);
      start += dt;
    }
    if (p_.stepper == stepper_kind::dopri5) x_new_ = x_, dxdt_new_ = dxdt_;
  }

  double sample_time(std::int64_t k) const {
    return k == n_samples_ - 1 ? p_.t_end : static_cast<double>(k) * p_.dt_out;
  }

  // The running Lyapunov estimates that the samples passed by this step carry.
  void note_pending_lyapunov() {
    for (std::int64_t j = 0; j < r_ * k_; ++j) pending_lyap_[j] = lyap_.rate(j);
  }

  // Hairer's starting step (Hairer, Norsett & Wanner II.4; scipy's select_initial_step), with
  // the error norm above. dxdt_ holds f(x_).
  double initial_step() {
    const double atol = p_.atol, rtol = p_.rtol;
    auto norm = [&](const auto& v) {  // max over columns of the RMS of v / scale
      double worst = 0;
      for (std::int64_t c = 0; c < c_; ++c) {
        double s = 0;
        for (std::int64_t i = 0; i < n_; ++i) {
          const double scale = atol + rtol * std::abs(static_cast<double>(x_(i, c)));
          const double r = static_cast<double>(v(i, c)) / scale;
          s += r * r;
        }
        worst = std::max(worst, s / static_cast<double>(n_));
      }
      return std::sqrt(worst);
    };
    const double d0 = norm(x_), d1 = norm(dxdt_);
    const double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
    M x1 = x_ + static_cast<S>(h0) * dxdt_, f1;
    rhs(x1, f1);
    const double d2 = norm(f1 - dxdt_) / h0;
    const double h1 = (d1 <= 1e-15 && d2 <= 1e-15) ? std::max(1e-6, h0 * 1e-3)
                                                   : std::pow(0.01 / std::max(d1, d2), 1.0 / 5);
    return std::min(100 * h0, h1);
  }

  void adaptive_step() {
    const system sys{this};
    S dt = static_cast<S>(dt_next_);
    bool clip = false;
    if (t_ + static_cast<double>(dt) >= p_.t_end) {
      dt = static_cast<S>(p_.t_end - t_);
      clip = true;
    }
    ctx_.x_new = &x_new_;
    ctx_.t = t_;
    S used = 0;
    for (;;) {
      if (!(static_cast<double>(dt) > 1e-12 * std::max(1.0, std::abs(t_))))
        throw NumericalError(fmt::format(
            "the step size fell below {:.3g} at t = {:.6g}: the dynamics is too stiff or diverges",
            1e-12 * std::max(1.0, std::abs(t_)), t_));
      S tt = 0;
      const S tried = dt;
      if (ctrl_.try_step(sys, x_, dxdt_, tt, x_new_, dxdt_new_, dt) == odeint::success) {
        used = tried;
        break;
      }
      clip = false;
    }
    const double t_new = clip ? p_.t_end : t_ + static_cast<double>(used);
    // Samples in (t, t_new]: interpolated when emitted (front()), from the dense output of this
    // step; its start stays in x_new_, dxdt_new_ after the swap.
    emit_ = next_sample_;
    while (next_sample_ < n_samples_ && sample_time(next_sample_) <= t_new) ++next_sample_;
    if (emit_ < next_sample_) note_pending_lyapunov();
    x_.swap(x_new_);
    dxdt_.swap(dxdt_new_);
    t_old_ = t_;
    dt_step_ = static_cast<double>(used);
    t_ = t_new;
    dt_next_ = static_cast<double>(dt);
    ++steps_;
    // Renormalise when due, and at the end (so that the last, shorter interval counts too).
    if (k_ > 0 && (t_ >= lyap_next_ - 1e-9 * p_.lyapunov_interval || (clip && t_ > lyap_last_))) renormalise(true);
  }

  void fixed_step() {
    const system sys{this};
    const S dt = static_cast<S>(p_.dt);
    if (p_.stepper == stepper_kind::rk4)
      rk4_.do_step(sys, x_, S(0), dt);
    else
      euler_.do_step(sys, x_, S(0), dt);
    after_fixed_step();
  }

  void map_step() {
    rhs(x_, x_new_);
    x_.swap(x_new_);
    after_fixed_step();
  }

  void after_fixed_step() {
    ++steps_;
    ++fixed_steps_;
    t_ = static_cast<double>(fixed_steps_) * p_.step();
    if (fixed_steps_ % steps_per_sample_ == 0) {
      const std::int64_t k = fixed_steps_ / steps_per_sample_;
      if (k < n_samples_) {
        emit_ = k;
        next_sample_ = k + 1;
        note_pending_lyapunov();
      }
    }
    const bool last = fixed_steps_ == (n_samples_ - 1) * steps_per_sample_;
    if (k_ > 0 && (fixed_steps_ % steps_per_renorm_ == 0 || last)) renormalise(false);
    if (!x_.allFinite() && next_sample_ < n_samples_)
      throw NumericalError(fmt::format("the state became non-finite at t = {:.6g}", t_));
  }

  // Re-orthonormalise the tangent vectors of every replica (QR); accumulate log |R_jj| when the
  // interval lies after the transient. With dopri5 the carried derivative of the tangent columns
  // is transformed alike (the tangent equation is linear: V -> V R^{-1} maps dV -> dV R^{-1}).
  void renormalise(bool with_deriv) {
    const bool count = lyap_last_ >= transient_ - 1e-9 * std::max(1.0, transient_);
    const double span = t_ - lyap_last_;
    std::vector<double> logs(static_cast<std::size_t>(r_ * k_));
    for (std::int64_t r = 0; r < r_; ++r) {
      const Eigen::MatrixXd v = x_.middleCols(r_ + r * k_, k_).template cast<double>();
      Eigen::HouseholderQR<Eigen::MatrixXd> qr(v);
      Eigen::MatrixXd R = qr.matrixQR().topRows(k_).template triangularView<Eigen::Upper>();
      Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(n_, k_);
      for (std::int64_t a = 0; a < k_; ++a) {
        if (R(a, a) < 0) q.col(a) *= -1.0, R.row(a) *= -1.0;
        logs[r * k_ + a] = std::log(R(a, a));
      }
      x_.middleCols(r_ + r * k_, k_) = q.template cast<S>();
      if (with_deriv) {
        Eigen::MatrixXd dv = dxdt_.middleCols(r_ + r * k_, k_).template cast<double>();
        R.template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(dv);
        dxdt_.middleCols(r_ + r * k_, k_) = dv.template cast<S>();
      }
    }
    for (double l : logs)
      if (!std::isfinite(l))
        throw NumericalError(fmt::format("the tangent vectors became degenerate at t = {:.6g}", t_));
    if (count && span > 0) lyap_.add(logs, span, 0.5 * (lyap_last_ + t_));
    lyap_last_ = t_;
    lyap_next_ = t_ + p_.lyapunov_interval;
  }

  const simulate_params& p_;
  std::int64_t d_, n_, r_, k_, c_;
  int threads_;
  const row_share* share_;
  network<S> net_;
  panel<S> panel_;
  bool leak_ = true;
  std::int64_t n_samples_ = 0, next_sample_ = 0;
  std::int64_t steps_per_sample_ = 1, steps_per_renorm_ = 0, fixed_steps_ = 0;
  double t_ = 0, dt_next_ = 0, transient_ = 0;
  std::int64_t steps_ = 0, rhs_ = 0;
  M x_, dxdt_, x_new_, dxdt_new_, x_tmp_;
  step_context<M> ctx_;
  controlled ctrl_;
  odeint::runge_kutta4<M, S, M, S, row_parallel_algebra> rk4_;
  odeint::euler<M, S, M, S, row_parallel_algebra> euler_;
  std::int64_t emit_ = 0;                 // the next sample to emit
  double t_old_ = 0, dt_step_ = 0;        // dopri5: start and length of the last step
  std::vector<double> pending_lyap_;      // [R k] the estimates the pending samples carry
  Eigen::MatrixXd h_out_;                 // N x R: the sample front() returns
  std::deque<held_sample> held_;          // samples of a version-1 checkpoint
  double lyap_next_ = 0, lyap_last_ = 0;
  rate_accumulator lyap_;
};

// ---------------------------------------------------------------------------------------------

// A draw's checkpoint as one row of doubles and back (draw_share::gather copies rows): the
// scalars, then each vector after its length. The rows of a run's draws have the same length.
std::vector<double> pack(const draw_checkpoint& c) {
  std::vector<double> out{c.t, c.dt_next, static_cast<double>(c.steps), static_cast<double>(c.rhs_evals),
                          static_cast<double>(c.next_sample), c.t_old, c.dt_step, c.lyap_next, c.lyap_last};
  for (const auto* v : {&c.state, &c.deriv, &c.state_old, &c.deriv_old, &c.pending_lyap, &c.lyap}) {
    out.push_back(static_cast<double>(v->size()));
    out.insert(out.end(), v->begin(), v->end());
  }
  return out;
}
draw_checkpoint unpack(const double* row) {
  draw_checkpoint c;
  c.t = row[0], c.dt_next = row[1];
  c.steps = static_cast<std::int64_t>(row[2]), c.rhs_evals = static_cast<std::int64_t>(row[3]);
  c.next_sample = static_cast<std::int64_t>(row[4]);
  c.t_old = row[5], c.dt_step = row[6], c.lyap_next = row[7], c.lyap_last = row[8];
  const double* at = row + 9;
  for (auto* v : {&c.state, &c.deriv, &c.state_old, &c.deriv_old, &c.pending_lyap, &c.lyap}) {
    const auto len = static_cast<std::size_t>(*at++);
    v->assign(at, at + len);
    at += len;
  }
  return c;
}

template <class S>
simulate_result run(const simulate_params& p, simulation_observer& obs, const run_control& control,
                    const simulate_inputs& in) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const int threads = resolve_threads(static_cast<int>(p.threads));
  const std::int64_t D = p.draws, R = p.replicas, N = p.net.n, K = p.record_neurons;
  const std::int64_t kl = p.lyapunov ? p.lyapunov_k : 0, n_samples = p.samples();
  const std::int64_t lags = p.acf_lags(), acf_m = p.acf_neurons_used();
  const sample_window window = stationary_window(p);
  const std::int64_t L = std::min(lags, window.count);  // lags of C(tau)

  if (in.h0) {
    if (in.h0->rows() != N || (in.h0->cols() != 1 && in.h0->cols() != R))
      throw InvalidArgument(fmt::format(
          "the initial state has shape [{}, {}]: it must be [{}] (every replica) or [{}, {}] (one "
          "row per replica)", in.h0->cols(), in.h0->rows(), N, R, N));
    if (!in.h0->allFinite()) throw InvalidArgument("the initial state contains non-finite values");
  }
  if (in.network) validate_user_network(p, *in.network);
  if (in.resume && static_cast<std::int64_t>(in.resume->draws.size()) != D)
    throw InvalidArgument("the checkpoint does not match the parameters (draws)");

  // The stationary statistics, streamed: [D][R][m, q, q2, phi_mean] and C(tau) of the first acf_m
  // neurons of every draw and replica.
  batch_means_accumulator stationary(D * R * 4, window.count);
  autocorrelation_accumulator acf;
  if (L > 0) acf = autocorrelation_accumulator(D * R, acf_m, L, window.count);
  std::vector<double> acf_row(static_cast<std::size_t>(L > 0 ? D * R * acf_m : 0));
  std::int64_t k0 = 0;
  if (in.resume) {
    const checkpoint& c = *in.resume;
    k0 = c.next_sample;
    if (c.draws.empty() || !c.draws[0].v1) {
      stationary.restore(c.stationary);
      if (L > 0) acf.restore(c.acf);
    } else {
      // Format version 1 kept the window itself: replay it, sample by sample.
      const std::int64_t w = D * R * 4, a = D * R * acf_m;
      if (c.v1_window.size() % static_cast<std::size_t>(w) != 0 ||
          (L > 0 && c.v1_acf_buffer.size() != c.v1_window.size() / 4 * static_cast<std::size_t>(acf_m)))
        throw InvalidArgument("the checkpoint does not match the parameters (the stationary window)");
      const auto samples = static_cast<std::int64_t>(c.v1_window.size()) / w;
      for (std::int64_t t = 0; t < samples; ++t) {
        stationary.add(std::span<const double>(c.v1_window.data() + t * w, static_cast<std::size_t>(w)));
        if (L > 0) acf.add(std::span<const double>(c.v1_acf_buffer.data() + t * a, static_cast<std::size_t>(a)));
      }
    }
  }

  // This process's draws (all of them unless they are spread over groups: draw_share); `draws`
  // holds null for the others.
  const draw_share* ds = in.draws;
  const auto mine = [ds](std::int64_t d) { return !ds || ds->owns(d); };
  std::vector<std::unique_ptr<draw_run<S>>> draws(static_cast<std::size_t>(D));
  std::vector<draw_run<S>*> local;
  for (std::int64_t d = 0; d < D; ++d) {
    if (!mine(d)) continue;
    draws[d] = std::make_unique<draw_run<S>>(p, d, threads, in.h0, in.resume ? &in.resume->draws[d] : nullptr, k0,
                                             in.network, in.share);
    local.push_back(draws[d].get());
  }
  const double setup_seconds = std::chrono::duration<double>(clock::now() - start).count();
  // Rows [D][per] of every draw's values, this process's filled, gathered from the others'.
  const auto gather_rows = [&](std::vector<double>& rows, std::int64_t per) {
    if (ds) ds->gather(rows.data(), D, per);
  };

  auto make_checkpoint = [&](std::int64_t next) {
    checkpoint c;
    c.next_sample = next;
    if (!ds) {
      for (auto& d : draws) c.draws.push_back(d->save());
    } else {
      std::vector<std::vector<double>> own(static_cast<std::size_t>(D));
      for (std::int64_t d = 0; d < D; ++d)
        if (draws[d]) own[d] = pack(draws[d]->save());
      const auto per = static_cast<std::int64_t>(own[local.empty() ? 0 : std::size_t(ds->group)].size());
      std::vector<double> rows(static_cast<std::size_t>(D * per));
      for (std::int64_t d = 0; d < D; ++d)
        if (draws[d]) std::copy(own[d].begin(), own[d].end(), rows.begin() + d * per);
      gather_rows(rows, per);
      for (std::int64_t d = 0; d < D; ++d) c.draws.push_back(unpack(rows.data() + d * per));
    }
    c.stationary = stationary.state();
    if (L > 0) c.acf = acf.state();
    return c;
  };
  // Samples held from a version-1 checkpoint have no place in a new one: the run emits them (a
  // few samples) before it writes a checkpoint.
  auto holding = [&] {
    return std::any_of(local.begin(), local.end(), [](const auto* d) { return d->holds_samples(); });
  };

  sample s;
  s.draws = D, s.replicas = R, s.neurons = K, s.lyapunov_k = kl;
  auto last_flush = clock::now();
  mean_sem q_final;
  std::vector<double> stationary_row(static_cast<std::size_t>(D * R * 4));
  int stop_signal = 0;

  // A draw's row of the sample: its time, whether its integration failed, then m, q, q2, phi_mean
  // [R], the traces [R][K], q_ab and c_ab [R][R], the running Lyapunov estimates [R][k] and the
  // C(tau) neurons [R][acf_m] (in the stationary window, with C(tau); none otherwise).
  const std::int64_t acf_cols = L > 0 ? acf_m : 0;
  const std::int64_t per = 2 + 4 * R + R * K + 2 * R * R + R * kl + R * acf_cols;
  std::vector<double> rows(static_cast<std::size_t>(D * per));

  for (std::int64_t k = k0; k < n_samples; ++k) {
    // (a draw whose integration fails flags its row; the process's later draws are not advanced)
    std::string failure;
    std::int64_t failed_here = -1;
    for (std::int64_t d = 0; d < D && failure.empty(); ++d) {
      if (!draws[d]) continue;
      try {
        while (!draws[d]->has_pending()) draws[d]->advance();
      } catch (const NumericalError& e) {
        failure = e.what();
        failed_here = d;
      }
    }
    const bool in_window = k >= window.first;
    for (std::int64_t d = 0; d < D; ++d) {
      if (!draws[d]) continue;
      double* row = rows.data() + d * per;
      row[1] = d == failed_here ? 1 : 0;
      if (!failure.empty()) continue;
      const sample_view v = draws[d]->front();
      row[0] = v.t;
      double *m = row + 2, *q = m + R, *q2 = q + R, *phi_mean = q2 + R, *traces = phi_mean + R;
      double *q_ab = traces + R * K, *c_ab = q_ab + R * R, *lyap = c_ab + R * R, *acf_h = lyap + R * kl;
      const Eigen::MatrixXd& h = *v.h;
      for (std::int64_t r = 0; r < R; ++r) {
        const auto col = h.col(r).array();
        m[r] = col.mean();
        q[r] = (col - m[r]).square().mean();
        q2[r] = col.square().mean();
        phi_mean[r] = p.net.model.phi.visit([&](const auto& f) { return double(f.phi(col).mean()); });
        for (std::int64_t i = 0; i < K; ++i) traces[r * K + i] = h(i, r);
      }
      const Eigen::MatrixXd qab = h.transpose().lazyProduct(h) / static_cast<double>(N);
      for (std::int64_t a = 0; a < R; ++a)
        for (std::int64_t b = 0; b < R; ++b) {
          q_ab[a * R + b] = qab(a, b);
          c_ab[a * R + b] = qab(a, b) / std::sqrt(qab(a, a) * qab(b, b));
        }
      std::copy(v.lyap->begin(), v.lyap->end(), lyap);
      if (in_window)
        for (std::int64_t r = 0; r < R; ++r) std::copy_n(h.col(r).data(), acf_cols, acf_h + r * acf_cols);
    }
    gather_rows(rows, per);
    std::int64_t failed = -1;
    for (std::int64_t d = 0; d < D && failed < 0; ++d)
      if (rows[d * per + 1] != 0) failed = d;
    if (failed >= 0) {
      // The samples so far reach the file (on_abort flushes); the last good checkpoint stays.
      const std::string msg = fmt::format(
          "{}: the network diverges{}; the samples up to t = {:.6g} are kept",
          failed == failed_here ? failure
                                : fmt::format("the integration of draw {} (on another process) failed: a non-finite "
                                              "state or a vanishing step",
                                              failed),
          p.net.model.phi.bounded() ? "" : " (an unbounded activation with too strong coupling?)",
          static_cast<double>(k - 1) * p.dt_out);
      obs.on_abort("failed", msg);
      throw NumericalError(msg);
    }
    s.index = k;
    s.t = rows[0];
    s.m.assign(D * R, 0), s.q.assign(D * R, 0), s.q2.assign(D * R, 0), s.phi_mean.assign(D * R, 0);
    s.q_ab.assign(D * R * R, 0), s.c_ab.assign(D * R * R, 0);
    s.traces.assign(D * R * K, 0);
    s.lyapunov.assign(D * R * kl, nan);
    for (std::int64_t d = 0; d < D; ++d) {
      const double* row = rows.data() + d * per;
      const double *m = row + 2, *q = m + R, *q2 = q + R, *phi_mean = q2 + R, *traces = phi_mean + R;
      const double *q_ab = traces + R * K, *c_ab = q_ab + R * R, *lyap = c_ab + R * R, *acf_h = lyap + R * kl;
      std::copy_n(m, R, s.m.begin() + d * R);
      std::copy_n(q, R, s.q.begin() + d * R);
      std::copy_n(q2, R, s.q2.begin() + d * R);
      std::copy_n(phi_mean, R, s.phi_mean.begin() + d * R);
      std::copy_n(traces, R * K, s.traces.begin() + d * R * K);
      std::copy_n(q_ab, R * R, s.q_ab.begin() + d * R * R);
      std::copy_n(c_ab, R * R, s.c_ab.begin() + d * R * R);
      std::copy_n(lyap, R * kl, s.lyapunov.begin() + d * R * kl);
      if (in_window && L > 0) std::copy_n(acf_h, R * acf_m, acf_row.data() + d * R * acf_m);
    }
    bool finite = true;
    for (std::int64_t j = 0; j < D * R; ++j) finite = finite && std::isfinite(s.q[j]) && std::isfinite(s.m[j]);
    if (!finite) {
      const std::string msg = fmt::format(
          "the state became non-finite before t = {:.6g}: the network diverges{}; the samples up to "
          "t = {:.6g} are kept", s.t,
          p.net.model.phi.bounded() ? "" : " (an unbounded activation with too strong coupling?)",
          static_cast<double>(k - 1) * p.dt_out);
      obs.on_abort("failed", msg);
      throw NumericalError(msg);
    }
    for (auto* d : local) d->pop();
    if (in_window) {
      for (std::int64_t j = 0; j < D * R; ++j) {
        stationary_row[j * 4 + 0] = s.m[j];
        stationary_row[j * 4 + 1] = s.q[j];
        stationary_row[j * 4 + 2] = s.q2[j];
        stationary_row[j * 4 + 3] = s.phi_mean[j];
      }
      stationary.add(stationary_row);
      if (L > 0) acf.add(acf_row);
    }
    obs.on_sample(s);
    if (k == n_samples - 1) q_final = ensemble_mean(s.q, D, R);
    control.report(static_cast<double>(k + 1), static_cast<double>(n_samples));
    if (k + 1 < n_samples) {
      if (!stop_signal) stop_signal = control.stop_requested();
      // With the draws spread, every process takes part in a checkpoint: they agree on when.
      const bool due = std::chrono::duration<double>(clock::now() - last_flush).count() >= p.flush_interval;
      const int wants = (holding() ? 2 : 0) | (due ? 1 : 0);
      const int agreed = ds ? ds->max(wants) : wants;
      if (agreed & 2) continue;
      if (stop_signal) {
        obs.on_flush(make_checkpoint(k + 1));
        const std::string msg = fmt::format("interrupted at t = {:.6g}; continue with --resume", s.t);
        obs.on_abort("interrupted", msg);
        throw Interrupted(stop_signal, msg);
      }
      if (agreed & 1) {
        obs.on_flush(make_checkpoint(k + 1));
        last_flush = clock::now();
      }
    }
  }

  // Every draw's step counts and Lyapunov sums (those of the others' draws gathered).
  const std::int64_t width = 2 + static_cast<std::int64_t>(local.front()->lyapunov().state().size());
  std::vector<double> ends(static_cast<std::size_t>(D * width));
  for (std::int64_t d = 0; d < D; ++d) {
    if (!draws[d]) continue;
    ends[d * width] = static_cast<double>(draws[d]->steps());
    ends[d * width + 1] = static_cast<double>(draws[d]->rhs_evals());
    const auto st = draws[d]->lyapunov().state();
    std::copy(st.begin(), st.end(), ends.begin() + d * width + 2);
  }
  gather_rows(ends, width);
  std::vector<rate_accumulator> rates(static_cast<std::size_t>(D));
  for (std::int64_t d = 0; d < D; ++d) {
    if (draws[d]) {
      rates[d] = draws[d]->lyapunov();
    } else {
      rates[d] = rate_accumulator(R * kl, p.transient_time(), p.t_end);
      rates[d].restore(std::span<const double>(ends.data() + d * width + 2, static_cast<std::size_t>(width - 2)));
    }
  }

  simulate_result res;
  for (std::int64_t d = 0; d < D; ++d)
    res.steps += static_cast<std::int64_t>(ends[d * width]), res.rhs_evals += static_cast<std::int64_t>(ends[d * width + 1]);
  res.samples = n_samples;
  res.t_reached = p.t_end;
  res.q_final = q_final;
  res.q_final_sem_over = ensemble_sem_over(D, R);
  res.sem_over = time_average_sem_over(D);
  if (D == 1) {
    res.batches = stationary.batches();
    res.batch_length = static_cast<double>(window.count) * p.dt_out / static_cast<double>(stationary.batches());
  }

  // Lyapunov exponents: per draw and replica with their batch-means errors, and over the ensemble.
  if (kl > 0) {
    for (const auto& acc : rates) {
      for (std::int64_t j = 0; j < R * kl; ++j) {
        const mean_sem e = acc.estimate(j);
        res.lyapunov_each.push_back(e.mean);
        res.lyapunov_each_sem.push_back(e.sem);
      }
    }
    for (std::int64_t a = 0; a < kl; ++a) {
      const mean_sem ms = ensemble_rate(rates, R, kl, a);
      res.lyapunov.push_back(ms.mean);
      res.lyapunov_sem.push_back(ms.sem);
    }
  }

  // Stationary averages over the window.
  res.stationary_samples = stationary.count();
  if (stationary.count() > 0) {
    mean_sem* out[4] = {&res.stationary_m, &res.stationary_q, &res.stationary_q2, &res.stationary_phi_mean};
    for (int o = 0; o < 4; ++o) *out[o] = stationary.ensemble(D, R, o, 4);
  }

  // Autocorrelation.
  if (L > 0 && acf.count() > 0) {
    res.acf_neurons = acf_m;
    for (std::int64_t l = 0; l < L; ++l) res.acf_tau.push_back(static_cast<double>(l) * p.dt_out);
    for (std::int64_t j = 0; j < D * R; ++j)
      for (std::int64_t l = 0; l < L; ++l) {
        const mean_sem e = acf.estimate(j, l);
        res.acf_each.push_back(e.mean);
        res.acf_each_sem.push_back(e.sem);
      }
    for (std::int64_t l = 0; l < L; ++l) {
      const mean_sem ms = acf.ensemble(l, D, R);
      res.acf.push_back(ms.mean);
      res.acf_sem.push_back(ms.sem);
    }
  }

  res.seconds = std::chrono::duration<double>(clock::now() - start).count();
  res.setup_seconds = setup_seconds;
  obs.on_flush(make_checkpoint(n_samples));
  obs.on_finish(res);
  return res;
}

}  // namespace

simulate_result simulate(const simulate_params& p, simulation_observer& obs, const run_control& control,
                         const simulate_inputs& in) {
  p.validate();
  if (in.share) {
    const row_range& r = in.share->rows;
    if (r.first < 0 || r.count < 1 || r.first + r.count > p.net.n ||
        !(p.precision == precision_kind::float32 ? bool(in.share->exchange_float) : bool(in.share->exchange)))
      throw std::logic_error("amari: simulate: a row_share without rows inside W or without its exchange");
  }
  if (in.draws && (in.draws->groups < 1 || in.draws->groups > p.draws || in.draws->group < 0 ||
                   in.draws->group >= in.draws->groups || !in.draws->gather || !in.draws->max))
    throw std::logic_error("amari: simulate: a draw_share without draws for every group or without its gather");
  simulate_params mem = p;
  if (in.draws) mem.draws = draws_per_group(p.draws, in.draws->groups);
  require_memory(mem, in.share ? in.share->rows.count : -1);
  // The threads are ours (the kernel, the row-parallel algebra): Eigen's own parallel GEMM (in
  // the QR of the tangent vectors) would only compete with them.
  struct eigen_threads_guard {
    int saved = Eigen::nbThreads();
    eigen_threads_guard() { Eigen::setNbThreads(1); }
    ~eigen_threads_guard() { Eigen::setNbThreads(saved); }
  } guard;
  if (p.precision == precision_kind::float32) return run<float>(p, obs, control, in);
  return run<double>(p, obs, control, in);
}

}  // namespace amari
