#!/usr/bin/python3
"""Baseline for `amari phase`: the deep-network phase diagram as a numpy/scipy user would write it.

For each (sigma_w, sigma_b) of a grid and phi = tanh: q* (brentq on V(q) - q, iterating q <- V(q)
from q0 = 1 to bracket), chi_1, c* (brentq on C(c) - c), chi_c, xi_c, chi_q, xi_q and layers_to_1pct,
with Gauss-Hermite quadrature of a chosen order n for the one-point expectations and its n x n
product rule for the two-point ones. The definitions are those of docs/maps.md. The nodes come from
scipy.special.roots_hermitenorm (--rule scipy, the default) or numpy.polynomial.hermite_e.hermegauss
(--rule numpy): numpy's weights overflow to NaN above order ~370, scipy's (asymptotic formulas
above order 150) do not, and tanh at q* ~ 15 needs ~2000 nodes for 1e-10 (docs/BENCHMARKS.md).
Usage:

  phase_numpy.py --order N --sigma-w 0.5:4:256 --sigma-b 0:1:128 [--rule scipy|numpy] [--out FILE.npz]

Prints one JSON line: seconds, grid size, the seconds spent on chaotic (chi_1 > 1) and other
points, and (with --out) writes the arrays, with the seconds of every point, for the accuracy
comparison made by tools/bench.
"""
import argparse
import json
import time

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.optimize import brentq
from scipy.special import roots_hermitenorm


def parse_range(text):
    a, b, n = text.split(":")
    return np.linspace(float(a), float(b), int(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--order", type=int, default=100)
    ap.add_argument("--sigma-w", default="0.5:4:256")
    ap.add_argument("--sigma-b", default="0:1:128")
    ap.add_argument("--rule", choices=("scipy", "numpy"), default="scipy")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    z, w = roots_hermitenorm(a.order) if a.rule == "scipy" else hermegauss(a.order)
    if not np.all(np.isfinite(w)):
        print(json.dumps({"impl": "numpy_gauss_hermite", "order": a.order, "rule": a.rule,
                          "error": "the Gauss-Hermite weights are not finite at this order"}))
        return
    w = w / np.sqrt(2 * np.pi)  # weights of E over z ~ N(0, 1)
    Z1, Z2 = np.meshgrid(z, z, indexing="ij")
    W2 = np.outer(w, w)

    def E_phi2(q):
        return np.dot(w, np.tanh(np.sqrt(q) * z) ** 2)

    def E_dphi2(q):
        return np.dot(w, np.cosh(np.sqrt(q) * z) ** -4)

    def E_chiq(q):  # E[phi'^2 + phi phi'']
        t = np.tanh(np.sqrt(q) * z)
        s2 = 1 - t * t
        return np.dot(w, s2 * s2 - 2 * t * t * s2)

    def two_point(q, c):
        u1 = np.sqrt(q) * Z1
        u2 = np.sqrt(q) * (c * Z1 + np.sqrt(max(0.0, 1 - c * c)) * Z2)
        t1, t2 = np.tanh(u1), np.tanh(u2)
        return np.sum(W2 * t1 * t2), np.sum(W2 * (1 - t1 * t1) * (1 - t2 * t2))

    sw_axis, sb_axis = parse_range(a.sigma_w), parse_range(a.sigma_b)
    shape = (len(sw_axis), len(sb_axis))
    out = {k: np.full(shape, np.nan) for k in ("q_star", "chi_1", "c_star", "chi_c", "xi_c", "chi_q", "xi_q", "layers_to_1pct", "seconds")}

    t0 = time.perf_counter()
    for i, sw in enumerate(sw_axis):
        for j, sb in enumerate(sb_axis):
            tp = time.perf_counter()
            try:
                V = lambda q: sw * sw * E_phi2(q) + sb * sb
                G = lambda q: V(q) - q
                # q*: collapse when sigma_b = 0 and sigma_w <= 1 (phi'(0) = 1), else the positive root.
                if sb == 0 and sw <= 1:
                    qs = 0.0
                else:
                    lo, hi = (1e-12, 1.0) if G(1.0) < 0 else (1.0, sw * sw + sb * sb + 1)
                    qs = brentq(G, lo, hi, xtol=1e-15, rtol=1e-14)
                chi1 = sw * sw * (E_dphi2(qs) if qs > 0 else 1.0)
                chiq = sw * sw * (E_chiq(qs) if qs > 0 else 1.0)
                out["q_star"][i, j], out["chi_1"][i, j], out["chi_q"][i, j] = qs, chi1, chiq
                out["xi_q"][i, j] = -1 / np.log(chiq) if 0 < chiq < 1 else np.nan
                if qs == 0:
                    out["chi_c"][i, j] = chi1
                    out["xi_c"][i, j] = -1 / np.log(chi1) if 0 < chi1 < 1 else np.nan
                    continue
                if chi1 <= 1:
                    cs, chic = 1.0, chi1
                else:
                    Cm = lambda c: (sw * sw * two_point(qs, c)[0] + sb * sb) / qs - c
                    # the stable root below 1: C - c < 0 just below 1 in the chaotic phase, and
                    # C(-1) + 1 = 2 sigma_b^2 / q* >= 0 (0 for sigma_b = 0, where c* = C(0) = 0)
                    hi = 1 - 1e-9
                    while Cm(hi) >= 0 and hi > 0.5:
                        hi = 1 - 10 * (1 - hi)
                    lo = -1.0 if sb > 0 else 0.0
                    cs = 0.0 if (sb == 0 and abs(Cm(0.0)) < 1e-13) else brentq(Cm, lo, hi, xtol=1e-15, rtol=1e-13)
                    chic = sw * sw * two_point(qs, cs)[1]
                out["c_star"][i, j], out["chi_c"][i, j] = cs, chic
                out["xi_c"][i, j] = -1 / np.log(chic) if 0 < chic < 1 else np.nan
                q, l = 10.0, 0
                while l < 100000:
                    q, l = V(q), l + 1
                    if abs(q - qs) / qs < 0.01:
                        break
                out["layers_to_1pct"][i, j] = l
            finally:
                out["seconds"][i, j] = time.perf_counter() - tp
    secs = time.perf_counter() - t0
    if a.out:
        np.savez(a.out, sigma_w=sw_axis, sigma_b=sb_axis, **out)
    chaotic = out["chi_1"] > 1
    print(json.dumps({"impl": "numpy_gauss_hermite", "order": a.order, "rule": a.rule,
                      "points": int(np.prod(shape)), "seconds": round(secs, 4),
                      "chaotic_points": int(chaotic.sum()),
                      "seconds_chaotic": float(out["seconds"][chaotic].sum()),
                      "seconds_other": float(out["seconds"][~chaotic].sum()),
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
