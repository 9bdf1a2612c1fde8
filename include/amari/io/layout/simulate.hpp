#pragma once
// Writing a simulation (simulate.hpp) into an amari HDF5 file through the store, and reading it
// back to resume. The layout is docs/FORMAT.md, "/trajectory, /replicas, /ensemble, /lyapunov":
//
//   /trajectory  t [T]; m, q, q2, phi_mean [T, D, R]; h [T, D, R, K] (recorded neurons);
//                h_final [D, R, N] at the end; the parameters as attributes
//   /replicas    (R > 1) t; q_ab, c_ab [T, D, R, R]
//   /ensemble    (D R > 1) t; <x>_mean, <x>_sem [T] for x in m, q, q2, phi_mean
//   /lyapunov    (--lyapunov) t; estimate [T, D, R, k]; exponents, sem [k]; each, each_sem [D, R, k]
//   /stationary  time averages over t >= transient; C(tau): tau [L], C, C_sem [L], C_each [D, R, L]
//   /meanfield   Amari's order-parameter ODEs at the run's parameters, at the sample times
//   /dmft        (w0 = b0 = 0) the DMFT's Delta(tau) on the lags of C(tau)
//                (both computed by the caller, sim/predictions.hpp, in the layouts of
//                io/layout/meanfield.hpp and io/layout/dmft.hpp)
//
// where axes of length 1 other than time are left out (one replica of one draw: m has shape [T]).
// The checkpoint (store::checkpoint) holds what --resume needs.
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>

#include "amari/sim/predictions.hpp"
#include "amari/sim/simulate.hpp"
#include "amari/io/record.hpp"
#include "amari/io/store.hpp"

namespace amari {

// An observer that streams the run into `f` (which must outlive it). `resuming`: the groups
// exist (from the interrupted run); their series are reopened and continued. A new run writes
// the theories that `predict(m0, q0)` returns (e.g. predict_simulation of sim/predictions.hpp)
// with its first sample; `h0_given`: the initial state was not drawn from (m0, q0) (--h0), so
// the theories start from the measured m(0), q(0).
class simulation_writer final : public simulation_observer {
 public:
  using predictor = std::function<simulation_predictions(double m0, double q0)>;
  simulation_writer(store::file& f, const simulate_params& p, bool resuming = false, bool h0_given = false,
                    predictor predict = nullptr);
  ~simulation_writer() override;

  void on_sample(const sample& s) override;
  void on_flush(const checkpoint& c) override;
  void on_abort(const std::string& status, const std::string& message) override;
  void on_finish(const simulate_result& r) override;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// The parameters a simulation file was written with (the attributes of /trajectory); the
// runtime settings (threads, flush interval) keep their defaults. IoError if `f` holds no
// simulation.
simulate_params read_simulate_params(store::file& f);

// The last committed checkpoint of a simulation file (IoError when there is none).
checkpoint read_checkpoint(store::file& f, const simulate_params& p);

// Initial states from "FILE:DATASET" (any HDF5 file) or "FILE.npy" (io/arrays.hpp): shape [N] (every replica) or [R, N] (one row
// per replica). Returned as an N x 1 or N x R matrix. InvalidArgument (field `h0`) when the
// dataset is missing or has another shape.
Eigen::MatrixXd read_initial_state(const std::string& spec, std::int64_t n, std::int64_t replicas);

}  // namespace amari

namespace amari::layout::simulate {

// The results as `amari simulate --json` prints them: the parameters, steps, rhs_evals, q_final,
// q_final_sem, q_final_sem_over, stationary_q2, stationary_q2_sem, sem_over, batches,
// batch_length, seconds and, with Lyapunov exponents, lyapunov, lyapunov_sem, lyapunov_spectrum.
io::record to_record(const simulate_params& p, const simulate_result& r);

}  // namespace amari::layout::simulate
