#!/usr/bin/python3
"""Baseline: R trajectories of ONE network batched into one scipy solve_ivp on the N x R state, so
each right-hand side is one BLAS GEMM  W @ tanh(H)  (the R columns share each pass over W) -- what a
numpy user writes for an ensemble of initial conditions (as ../shared/bench/scipy_batched_baseline.py).

Network: that of ../shared/bench/scipy_baseline.py, drawn identically from numpy's
default_rng(seed): W_ij ~ N(0, g^2/N), g = 1.5, b ~ N(0, 0.3^2), then h(0) ~ N(0, 1), so column 0
of H(0) is the scipy baseline's h(0) and its q(t) can be compared with a reference run of that
script; columns 1..R-1 are drawn after it. T = 50, t_eval every 0.1, RK45.

usage: numpy_batched_baseline.py N R [--rtol 1e-6] [--atol 1e-8] [--T 50] [--seed 1234] [--traj FILE]
Prints one JSON line: 'seconds' is the solve alone, 'setup_seconds' drawing W; --traj writes
t, m, q of column 0 (the CSV of scipy_baseline.py).
"""
import argparse
import json
import time

import numpy as np
from scipy.integrate import solve_ivp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("N", type=int)
    ap.add_argument("R", type=int)
    ap.add_argument("--rtol", type=float, default=1e-6)
    ap.add_argument("--atol", type=float, default=1e-8)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--T", type=float, default=50.0)
    ap.add_argument("--traj", default=None, help="write t,m,q rows of column 0 to this CSV file")
    a = ap.parse_args()
    N, R, g = a.N, a.R, 1.5

    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    W = rng.standard_normal((N, N)) * (g / np.sqrt(N))
    b = (0.3 * rng.standard_normal(N))[:, None]
    H0 = np.empty((N, R))
    H0[:, 0] = rng.standard_normal(N)
    if R > 1:
        H0[:, 1:] = rng.standard_normal((N, R - 1))
    setup = time.perf_counter() - t0

    def rhs(t, y):
        H = y.reshape(N, R)
        return (-H + W @ np.tanh(H) + b).ravel()

    t_eval = np.linspace(0.0, a.T, int(round(a.T / 0.1)) + 1)
    t0 = time.perf_counter()
    sol = solve_ivp(rhs, (0.0, a.T), H0.ravel(), method="RK45", t_eval=t_eval, rtol=a.rtol, atol=a.atol)
    secs = time.perf_counter() - t0
    Y = sol.y.reshape(N, R, -1)
    m, q = Y.mean(axis=0), Y.var(axis=0)
    if a.traj:
        np.savetxt(a.traj, np.column_stack([sol.t, m[0], q[0]]), delimiter=",", fmt="%.17g")
    print(json.dumps({
        "impl": "numpy_solve_ivp_RK45_batched", "N": N, "R": R, "seconds": round(secs, 6),
        "setup_seconds": round(setup, 4), "rhs_evals": int(sol.nfev), "final_q": float(q[0, -1]),
        "seconds_per_trajectory": secs / R, "success": bool(sol.success), "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
