#!/usr/bin/python3
"""Independent high-precision references for amari's Gaussian expectations beyond the shared set.

Adaptive quadrature in mpmath at 30 significant digits (tanh-sinh on subintervals split where the
integrand changes), for tanh and erf at q up to 50 and means m in {0, 0.7, -2.5}, and nested
two-point integrals for tanh at large variance and |c| near 1. Writes tests/reference/gauss_highq.json.
Run: /usr/bin/python3 tools/reference/gauss_highq.py  (needs python3-mpmath; takes a few minutes).
"""
import json
import os

import mpmath as mp

mp.mp.dps = 30
SQ2PI = mp.sqrt(2 * mp.pi)


def E1(f, q, m=0):
    s = mp.sqrt(q)
    g = lambda z: f(s * z + m) * mp.exp(-z * z / 2) / SQ2PI
    z0 = -m / s
    pts = {-12, -3, -1, 0, 1, 3, 12} | {z0 + d / s for d in (-3, -1, -0.3, -0.1, 0, 0.1, 0.3, 1, 3)}
    return mp.quad(g, sorted(p for p in pts if -12 <= p <= 12))


def E2(f, g, q11, q22, c):
    s1, s2 = mp.sqrt(q11), mp.sqrt(q22)
    sc = mp.sqrt((1 - c) * (1 + c))

    def inner(z1):
        mu, sig = s2 * c * z1, s2 * sc
        z0 = -mu / sig
        pts = {-12, 0, 12} | {z0 + d / sig for d in (-3, -1, -0.3, 0, 0.3, 1, 3)}
        h = lambda z2: g(mu + sig * z2) * mp.exp(-z2 * z2 / 2) / SQ2PI
        return mp.quad(h, sorted(p for p in pts if -12 <= p <= 12))

    scale = max(s1, s2 * abs(c))
    pts = sorted({-12, 12} | {d / scale for d in (-3, -1, -0.3, 0, 0.3, 1, 3)})
    return mp.quad(lambda z1: f(s1 * z1) * inner(z1) * mp.exp(-z1 * z1 / 2) / SQ2PI, pts)


sech2 = lambda x: 1 / mp.cosh(x) ** 2
one_point = []
for act in ("tanh", "erf"):
    phi = mp.tanh if act == "tanh" else mp.erf
    dphi = sech2 if act == "tanh" else (lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x))
    Phi = (lambda x: mp.log(mp.cosh(x))) if act == "tanh" else (lambda x: x * mp.erf(x) + (mp.exp(-x * x) - 1) / mp.sqrt(mp.pi))
    for q in (0.01, 0.5, 2.0, 7.0, 20.0, 50.0):
        for m in (0.0, 0.7, -2.5):
            one_point.append(dict(phi=act, q=q, m=m,
                                  E_phi=float(E1(phi, q, m)),
                                  E_phi2=float(E1(lambda x: phi(x) ** 2, q, m)),
                                  E_dphi2=float(E1(lambda x: dphi(x) ** 2, q, m)),
                                  E_phi_dphi_sq=float(E1(lambda x: (phi(x) * dphi(x)) ** 2, q, m)),
                                  E_Phi2=float(E1(lambda x: Phi(x) ** 2, q, m))))

mp.mp.dps = 20
two_point = []
for (q11, q22, c) in ((20.0, 20.0, 0.3), (20.0, 5.0, 0.999999), (12.0, 12.0, -0.5), (50.0, 50.0, 0.9),
                      (4.0, 4.0, 0.999), (20.0, 20.0, -0.999999)):
    two_point.append(dict(phi="tanh", q11=q11, q22=q22, c=c,
                          E_phi_phi=float(E2(mp.tanh, mp.tanh, q11, q22, c)),
                          E_dphi_dphi=float(E2(sech2, sech2, q11, q22, c))))

out = dict(method="mpmath adaptive tanh-sinh quadrature split at the integrand's transitions; 30 digits one-point, 20 digits two-point",
           one_point=one_point, two_point=two_point)
dest = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "reference", "gauss_highq.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", os.path.normpath(dest))
