#pragma once
// An RK4 for the tests of the user's own network, independent of amari's integrators and kernels.
#include <Eigen/Core>
#include <vector>

namespace amari::test {

// A plain RK4 of dh/dt = -h + W tanh(h) + b with Eigen, independent of amari's integrators and
// kernels; q(t) = mean_i (h_i - mean h)^2 at every `every`-th step.
inline std::vector<double> reference_q(const Eigen::MatrixXd& W, const Eigen::VectorXd& b, Eigen::VectorXd h, double dt,
                                int steps, int every) {
  auto f = [&](const Eigen::VectorXd& x) -> Eigen::VectorXd {
    return -x + W * x.array().tanh().matrix() + b;
  };
  auto q_of = [](const Eigen::VectorXd& x) { return (x.array() - x.mean()).square().mean(); };
  std::vector<double> q{q_of(h)};
  for (int s = 1; s <= steps; ++s) {
    const Eigen::VectorXd k1 = f(h), k2 = f(h + 0.5 * dt * k1), k3 = f(h + 0.5 * dt * k2), k4 = f(h + dt * k3);
    h += dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    if (s % every == 0) q.push_back(q_of(h));
  }
  return q;
}

}  // namespace amari::test
