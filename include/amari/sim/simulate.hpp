#pragma once
// Simulation of finite random rate networks (network.hpp) in time:
//
//   dh/dt = -h + W phi(h) + b              (steppers rk4, euler, dopri5)
//   h(t + 1) = W phi(h(t)) + b             (stepper map: a deep network with tied weights)
//
// R replicas (initial conditions sharing W and b) are one N x R state, so a right-hand side is one
// pass over W (kernels.hpp); D draws of (W, b) run side by side, each with its own integrator, and
// meet at every sample time t_k = k dt_out.
//
// Integrators (Boost.Odeint on Eigen states): fixed-step runge_kutta4 and euler; adaptive
// runge_kutta_dopri5 (Dormand & Prince 1980) inside odeint's controlled_runge_kutta with the
// error norm and step control of Hairer, Norsett & Wanner (Solving ODEs I, 2nd ed., II.4) as in
// scipy's RK45 -- err = max over columns (replicas, tangent vectors) of sqrt(mean_i (e_i /
// (atol + rtol max(|h_i|, |h_i_new|)))^2), step factor 0.9 err^(-1/5) clipped to [0.2, 10], no growth right after a
// rejection, Hairer's initial step -- and its fourth-order dense output at the sample times.
//
// Observables at every sample, per draw d and replica a (h = h^a(t)):
//   m = mean_i h_i,  q = mean_i (h_i - m)^2,  q2 = mean_i h_i^2,  phi_mean = mean_i phi(h_i),
//   q_ab = mean_i h^a_i h^b_i,  c_ab = q_ab / sqrt(q_aa q_bb),  the traces h_i, i < K.
// Ensemble means over draws (replica averages within a draw) with standard errors.
//
// Lyapunov exponents (Benettin, Galgani, Giorgilli & Strelcyn 1980): k tangent vectors per
// replica follow dv/dt = -v + W (phi'(h) * v) (map: v' = W (phi'(h) * v)) in the same kernel pass
// as h; every `lyapunov_interval` they are re-orthonormalised by a QR decomposition and
// log |R_jj| accumulates (after the transient) in running sums and 20 batches of equal time
// (rate_accumulator, core/stats.hpp). Running estimate lambda_j = sum log|R_jj| / time.
//
// Stationary statistics over t >= transient, streamed (nothing of the window is kept): time
// averages of q, q2, m, phi_mean (batch_means_accumulator), and the autocorrelation
// C(tau) = < mean_i h_i(t) h_i(t + tau) >_t (autocorrelation_accumulator: a ring buffer of the last
// L samples of the C(tau) neurons). Standard errors follow core/stats.hpp: over draws when D > 1,
// from 20 batches in time when D = 1 (labelled: simulate_result::sem_over).
#include <Eigen/Core>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "amari/core/control.hpp"
#include "amari/core/stats.hpp"
#include "amari/sim/network.hpp"

namespace amari {

enum class stepper_kind { rk4, dopri5, euler, map };
enum class precision_kind { float64, float32 };
// The storage of W: as the state's precision (the default), or double, float or half (not wider
// than the state; kernels.hpp).
enum class weight_precision_kind { state, float64, float32, float16 };

stepper_kind parse_stepper(std::string_view s);      // "rk4" | "dopri5" | "euler" | "map"
precision_kind parse_precision(std::string_view s);  // "double" | "float"
std::string_view to_string(stepper_kind s);
std::string_view to_string(precision_kind p);
// As parameters of the vocabulary (core/params.hpp).
void parse_param(std::string_view text, std::string_view field, stepper_kind& out);
std::string param_text(stepper_kind s);
void parse_param(std::string_view text, std::string_view field, precision_kind& out);
std::string param_text(precision_kind p);
void parse_param(std::string_view text, std::string_view field, weight_precision_kind& out);  // state|double|float|half
std::string param_text(weight_precision_kind p);
void parse_param(std::string_view text, std::string_view field, accumulation_kind& out);  // state|blocked
std::string param_text(accumulation_kind a);
std::string_view to_string(storage_kind s);  // "double" | "float" | "half"

struct simulate_params {
  network_params net;
  std::int64_t replicas = 1;         // initial conditions sharing W and b
  std::int64_t draws = 1;            // independent draws of (W, b)
  double t_end = 100.0;              // duration (time units of the leak; iterations for the map)
  double dt = 0.05;                  // step of rk4 and euler (the map's step is 1)
  double dt_out = 0.1;               // sampling interval (a multiple of dt for fixed steps)
  stepper_kind stepper = stepper_kind::dopri5;
  double rtol = 1e-6;                // dopri5: relative tolerance
  double atol = 1e-8;                // dopri5: absolute tolerance
  precision_kind precision = precision_kind::float64;
  weight_precision_kind weight_precision = weight_precision_kind::state;  // storage of W
  accumulation_kind accumulation = accumulation_kind::state;  // of W phi(h) (kernels.hpp)
  std::int64_t record_neurons = 8;   // traces of neurons 0 .. K-1
  bool lyapunov = false;             // compute Lyapunov exponents
  std::int64_t lyapunov_k = 1;       // how many (the top k of the spectrum)
  double lyapunov_interval = 1.0;    // time between re-orthonormalisations
  double transient = -1.0;           // start of the stationary window; < 0: t_end / 4
  double acf_lag = -1.0;             // largest lag of C(tau); < 0: min(20, window / 2); 0: none
  std::int64_t acf_neurons = 1000;   // neurons used for C(tau) (the first ones)
  double replica_eps = 0.0;          // > 0: replica a > 0 starts at replica 0's h(0) + eps * N(0, 1)
  std::int64_t threads = 0;          // 0: all cores
  double flush_interval = 10.0;      // seconds of wall time between flushes/checkpoints

  void validate() const;  // throws InvalidArgument naming the field
  // The vocabulary of `amari simulate` (core/params.hpp).
  static const param_table<simulate_params>& table();

  // Derived quantities.
  double transient_time() const;
  double acf_lag_time() const;
  std::int64_t samples() const;       // number of sample times, t_k = k dt_out, k = 0 .. samples()-1
  std::int64_t acf_lags() const;      // number of lags (0 when no C(tau))
  std::int64_t acf_neurons_used() const;
  std::int64_t columns() const { return replicas * (1 + (lyapunov ? lyapunov_k : 0)); }
  double step() const { return stepper == stepper_kind::map ? 1.0 : dt; }
  storage_kind weight_storage() const;  // weight_precision resolved (state: as precision)
};

// Memory the run needs (W of every draw, integrator states, buffers), in bytes; compared with
// memory_available() (control.hpp). With `rows` >= 0, of a process that holds that many rows of
// each W (a network spread over several processes: row_share).
std::uint64_t memory_needed(const simulate_params& p, std::int64_t rows = -1);
// Throws InvalidArgument ("n = 30000 with draws = 1 in double needs 7.2 GB ...") when the run does
// not fit in 90% of the available memory; `processes` on this machine each holding `rows` rows,
// and each `user_rows` rows of the user's W as read from its file (float64: 8 N bytes a row)
// while its network is built, and `extra` bytes more (the other processes' checkpoints that a
// draw_share gathers).
void require_memory(const simulate_params& p, std::int64_t rows = -1, int processes = 1, std::int64_t user_rows = 0,
                    std::uint64_t extra = 0);
// The bytes a checkpoint of one draw takes on its way to the file (the part of memory_needed that
// a process holds for every draw at a flush when the draws are spread: draw_share).
std::uint64_t checkpoint_bytes(const simulate_params& p);
// The number of draws a process integrates when the draws are spread over `groups` groups (the
// largest share): what its memory holds.
std::int64_t draws_per_group(std::int64_t draws, std::int64_t groups);

// One sample time, all draws and replicas. Arrays are row-major over [draw][replica](...).
struct sample {
  std::int64_t index = 0;
  double t = 0;
  std::int64_t draws = 1, replicas = 1, neurons = 0, lyapunov_k = 0;
  std::vector<double> m, q, q2, phi_mean;  // [D][R]
  std::vector<double> q_ab, c_ab;          // [D][R][R]
  std::vector<double> traces;              // [D][R][K]
  std::vector<double> lyapunov;            // [D][R][k] running estimates (NaN before any interval)
};

// The stationary window: the samples k = first .. first + count - 1 with t_k >= transient.
struct sample_window {
  std::int64_t first = 0, count = 0;
};
sample_window stationary_window(const simulate_params& p);

// Everything needed to continue a run exactly where it stopped (written at every flush). Its size
// does not depend on how far the run has got: the same shapes at every flush.
struct draw_checkpoint {
  double t = 0;                      // time the integrator reached
  double dt_next = 0;                // dopri5: the next step size
  std::int64_t steps = 0, rhs_evals = 0;
  std::vector<double> state;         // N x C, column-major (h of the replicas, then tangents)
  std::vector<double> deriv;         // dopri5: d state / dt at t (first same as last)
  // The samples the last step passed that are not emitted yet: indices checkpoint::next_sample ..
  // next_sample - 1. With dopri5 they are interpolated from the step, which a resume takes again
  // from its start (state_old, deriv_old at t_old, step dt_step) to recover the stages.
  std::int64_t next_sample = 0;
  double t_old = 0, dt_step = 0;
  std::vector<double> state_old, deriv_old;  // dopri5: N x C at t_old
  std::vector<double> pending_lyap;  // [R k] the running Lyapunov estimates of those samples
  double lyap_next = 0;              // time of the next re-orthonormalisation
  double lyap_last = 0;              // time of the last one
  std::vector<double> lyap;          // rate_accumulator::state() of the exponents [R k]
  // A checkpoint of format version 1 (v1 = true; read_checkpoint) held the pending samples
  // themselves -- their times, states [P][N x R] and Lyapunov estimates [P][R k] -- and every
  // Lyapunov interval: log |R_jj| [interval][R k] and its length, instead of `lyap`.
  bool v1 = false;
  std::vector<double> v1_pending_t, v1_pending_h, v1_pending_lyap, v1_lyap_log, v1_lyap_dt;
};
struct checkpoint {
  std::int64_t next_sample = 0;      // samples emitted so far
  std::vector<draw_checkpoint> draws;
  std::vector<double> stationary;    // batch_means_accumulator::state() of [D][R][m, q, q2, phi_mean]
  std::vector<double> acf;           // autocorrelation_accumulator::state() (empty without C(tau))
  // Format version 1 held the stationary window so far instead: [sample][D][R][4] and the C(tau)
  // samples [sample][D][R][M]; a resume replays them into the accumulators. Empty otherwise.
  std::vector<double> v1_window, v1_acf_buffer;
};

struct simulate_result {
  std::int64_t steps = 0;            // accepted steps, summed over draws
  std::int64_t rhs_evals = 0;        // right-hand sides (each for all replicas), summed over draws
  std::int64_t samples = 0;
  double t_reached = 0;
  mean_sem q_final;                  // q at the last sample (error as ensemble_mean)
  std::string q_final_sem_over;      // what its error is over: ensemble_sem_over(D, R)
  // Lyapunov: overall exponents [k] and their errors; per draw and replica [D][R][k].
  std::vector<double> lyapunov, lyapunov_sem, lyapunov_each, lyapunov_each_sem;
  // Stationary averages over t >= transient.
  mean_sem stationary_m, stationary_q, stationary_q2, stationary_phi_mean;
  std::int64_t stationary_samples = 0;
  // What the errors of the stationary averages, C(tau) and the Lyapunov exponents are over:
  // time_average_sem_over(D), "draws" or "time batches (one draw of W)"; with time batches,
  // how many and how long each is (time units).
  std::string sem_over;
  std::int64_t batches = 0;
  double batch_length = 0;
  // Autocorrelation: lags [L], ensemble mean and error [L], per draw and replica [D][R][L].
  std::vector<double> acf_tau, acf, acf_sem, acf_each, acf_each_sem;  // acf_each_sem: batch means
  std::int64_t acf_neurons = 0;
  double seconds = 0;        // wall time of the whole run
  double setup_seconds = 0;  // of which drawing the networks (and the initial right-hand sides)
};

// Receives the run as it goes. The simulation knows nothing about files: an observer writes.
class simulation_observer {
 public:
  virtual ~simulation_observer() = default;
  virtual void on_sample(const sample& s) = 0;
  // Every flush_interval seconds of wall time, before an interruption, and at the end: persist
  // what was observed, with the checkpoint to continue from.
  virtual void on_flush(const checkpoint&) {}
  // The run stops early: status "interrupted" (a stop request; on_flush has just delivered the
  // checkpoint) or "failed" (a numerical error; the samples so far are complete, the last
  // checkpoint delivered stays the one to resume from).
  virtual void on_abort(const std::string& /*status*/, const std::string& /*message*/) {}
  virtual void on_finish(const simulate_result&) {}
};

struct user_network;  // user_network.hpp

// One network spread over several processes (the ranks of an MPI job, in the CLI: the library
// knows nothing of MPI). Each process holds the rows `rows` of W -- drawn for those rows only --
// and the whole state (N x C, small beside W's N x N). After every product its rows of W P are
// computed, and `exchange` fills in the other processes' rows, so that every process holds the same
// right-hand side and integrates the same state. A row's product does not depend on which rows a
// process holds (kernels.hpp), and everything after the exchange is the single process's
// arithmetic on the same numbers: the run is the same, bit for bit, on any number of processes.
struct row_share {
  row_range rows;
  // y: N x cols, column-major (leading dimension N). On entry the rows `rows` of every column are
  // this process's; on return all rows are filled. Called by every process at the same point.
  std::function<void(double* y, std::int64_t n, std::int64_t cols)> exchange;
  std::function<void(float* y, std::int64_t n, std::int64_t cols)> exchange_float;
};

// The draws spread over groups of processes (the rank groups of an MPI job, in the CLI). A process
// integrates the draws d with d % groups == group -- each its own network, keyed by (seed, d) as
// in a plain run -- and after every sample the values every draw contributes to the ensemble (its
// observables; at a flush, its checkpoint; at the end, its step counts and Lyapunov sums) are
// copied to every process by `gather`. Everything computed from them is the single process's
// arithmetic on the same numbers, in the same order: the run is the plain run's, bit for bit.
// Every group needs at least one draw (groups <= draws).
struct draw_share {
  std::int64_t group = 0, groups = 1;
  bool owns(std::int64_t d) const { return d % groups == group; }
  // values: [draws][per_draw], row-major. On entry the rows of this process's draws are filled; on
  // return every row is (a copy of its owner's). Called by every process at the same point.
  std::function<void(double* values, std::int64_t draws, std::int64_t per_draw)> gather;
  // The largest of every process's value: how the processes agree on when to write a checkpoint
  // (each keeps its own clock). Called by every process at the same point.
  std::function<int(int)> max;
};

struct simulate_inputs {
  const Eigen::MatrixXd* h0 = nullptr;     // N x 1 (every replica) or N x R initial states
  const checkpoint* resume = nullptr;      // continue from this checkpoint
  const user_network* network = nullptr;   // the user's W and/or b (user_network.hpp); null: drawn
  const row_share* share = nullptr;        // null: this process holds all of W
  const draw_share* draws = nullptr;       // null: this process integrates every draw
};

// Runs the simulation. Throws InvalidArgument (bad parameters, too little memory), NumericalError
// (the state became non-finite; the samples before it were delivered), Interrupted (after
// on_flush and on_abort).
simulate_result simulate(const simulate_params& p, simulation_observer& obs,
                         const run_control& control = {}, const simulate_inputs& in = {});

}  // namespace amari
