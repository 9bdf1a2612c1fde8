#!/usr/bin/python3
"""Baseline: the random rate network in PyTorch on the CPU (Debian's python3-torch), the way a
deep-learning theorist writes it: a fixed-step classical RK4 loop on a tensor, in float32 or
float64, with torch's threads set to the machine's cores.

Network: that of ../shared/bench/scipy_baseline.py, drawn identically from numpy's
default_rng(seed) and handed to torch (torch.from_numpy, then .to(dtype)), so q(t) can be compared
with a tight reference run of the same network: dh/dt = -h + W tanh(h) + b, W_ij ~ N(0, g^2/N),
g = 1.5, b ~ N(0, 0.3^2), h(0) ~ N(0, 1), samples every 0.1 up to T. The step dt must divide the
sample interval 0.1; the scheme is fourth order, its error is measured by tools/bench, not assumed.

usage: torch_rk4_baseline.py N [--dtype float32|float64] [--dt 0.1] [--T 50] [--seed 1234]
                             [--threads K] [--traj FILE]
Prints one JSON line: 'seconds' is the loop alone, 'setup_seconds' drawing W and moving it to torch.
"""
import argparse
import json
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("N", type=int)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--T", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--traj", default=None, help="write t,m,q rows to this CSV file")
    a = ap.parse_args()
    sub = int(round(0.1 / a.dt))
    if sub < 1 or abs(sub * a.dt - 0.1) > 1e-12:
        raise SystemExit("torch_rk4_baseline.py: --dt %g must divide the sample interval 0.1" % a.dt)

    import torch
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    N, g = a.N, 1.5

    t0 = time.perf_counter()
    rng = np.random.default_rng(a.seed)
    W = torch.from_numpy(rng.standard_normal((N, N)) * (g / np.sqrt(N))).to(dtype)
    b = torch.from_numpy(0.3 * rng.standard_normal(N)).to(dtype)
    h = torch.from_numpy(rng.standard_normal(N)).to(dtype)
    setup = time.perf_counter() - t0

    def f(h):
        return -h + W @ torch.tanh(h) + b

    samples = int(round(a.T / 0.1))
    dt = a.dt
    ts, ms, qs = [0.0], [h.mean().item()], [h.var(unbiased=False).item()]
    t0 = time.perf_counter()
    with torch.no_grad():
        for k in range(samples):
            for _ in range(sub):
                k1 = f(h)
                k2 = f(h + 0.5 * dt * k1)
                k3 = f(h + 0.5 * dt * k2)
                k4 = f(h + dt * k3)
                h = h + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
            ts.append((k + 1) * 0.1)
            ms.append(h.mean().item())
            qs.append(h.var(unbiased=False).item())
    secs = time.perf_counter() - t0
    if a.traj:
        np.savetxt(a.traj, np.column_stack([ts, ms, qs]), delimiter=",", fmt="%.17g")
    print(json.dumps({
        "impl": "torch_rk4_" + a.dtype, "N": N, "seconds": round(secs, 6), "setup_seconds": round(setup, 4),
        "rhs_evals": 4 * sub * samples, "steps": sub * samples, "dt": dt, "final_q": qs[-1],
        "threads": torch.get_num_threads(), "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
