#!/usr/bin/python3
"""Baseline: the same random rate network in Brian2 (Debian's python3-brian), its fastest idiom
for a dense rate network that we found.

Network (as ../shared/bench/scipy_baseline.py, drawn identically from numpy's default_rng(seed), so
both integrate the very same W, b, h(0)): dh/dt = -h + W tanh(h) + b, W_ij ~ N(0, g^2/N), g = 1.5,
b ~ N(0, 0.3^2), h(0) ~ N(0, 1), samples every 0.1 up to T.

Idiom: a NeuronGroup with `dh/dt = (-h + I + b)/tau`, integrated exactly for constant input, and a
network_operation that sets I = W @ tanh(h) once per step with numpy (OpenBLAS when it is the BLAS
in use). Dense all-to-all Synapses with a summed variable would hold N^2 synapse objects (16e6 at
N = 4000) and run far slower. The coupling is frozen within a step, so the scheme is first order
in dt: its accuracy is reported against a tight reference run, not assumed.

usage: brian2_baseline.py N [--dt 0.01] [--T 50] [--seed 1234] [--traj FILE]
Prints one JSON line; 'seconds' is the run alone.
"""
import argparse
import json
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("N", type=int)
    ap.add_argument("--dt", type=float, default=0.01)
    ap.add_argument("--T", type=float, default=50.0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--traj", default=None, help="write t,m,q rows to this CSV file")
    a = ap.parse_args()

    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    b2.BrianLogger.suppress_name("resolution_conflict")

    N, g = a.N, 1.5
    rng = np.random.default_rng(a.seed)
    W = rng.standard_normal((N, N)) * (g / np.sqrt(N))
    bias = 0.3 * rng.standard_normal(N)
    h0 = rng.standard_normal(N)

    b2.defaultclock.dt = a.dt * b2.ms  # one time unit of the model = 1 ms of Brian time
    G = b2.NeuronGroup(N, "dh/dt = (-h + I + bias)/(1*ms) : 1\nI : 1\nbias : 1", method="exact")
    G.h = h0
    G.bias = bias
    steps = [0]

    @b2.network_operation(when="before_groups")
    def couple():
        steps[0] += 1
        G.I_ = W @ np.tanh(G.h_)

    every = max(1, int(round(0.1 / a.dt)))
    mon = b2.StateMonitor(G, "h", record=True, dt=every * a.dt * b2.ms)
    net = b2.Network(G, couple, mon)
    t0 = time.perf_counter()
    net.run(a.T * b2.ms)
    secs = time.perf_counter() - t0
    h = mon.h  # (N, samples)
    t = mon.t / b2.ms
    m = h.mean(axis=0)
    q = h.var(axis=0)
    if a.traj:
        np.savetxt(a.traj, np.column_stack([t, m, q]), delimiter=",", fmt="%.17g")
    print(json.dumps({"impl": "brian2_network_operation", "N": N, "dt": a.dt, "seconds": round(secs, 6),
                      "rhs_evals": steps[0], "final_q": float(q[-1]), "n_records": int(len(t)),
                      "seconds_per_rhs": secs / max(steps[0], 1), "brian2": b2.__version__}))


if __name__ == "__main__":
    main()
