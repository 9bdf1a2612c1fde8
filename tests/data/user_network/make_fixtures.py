#!/usr/bin/env python3
"""Writes the user-network fixtures of tests/test_user_network.cpp with h5py and numpy (not amari):
a plain HDF5 file (no amari attributes) and .npy files. Run from this directory:
/usr/bin/python3 make_fixtures.py"""
import h5py
import numpy as np

n = 40
rng = np.random.default_rng(20261206)
W = rng.normal(0.0, 1.5 / np.sqrt(n), size=(n, n))   # sigma_w = 1.5
b = rng.normal(0.1, 0.2, size=n)
h0 = rng.normal(0.0, 1.0, size=n)
W_nan = W.copy()
W_nan[3, 7] = np.nan

with h5py.File("user_network.h5", "w") as f:
    f["W"] = W
    f["W32"] = W.astype(np.float32)
    f["b"] = b
    f["h0"] = h0
    f["bad/W_nan"] = W_nan
    f["bad/W_rect"] = W[:, :39]
    f["bad/W_int"] = np.arange(n * n, dtype=np.int64).reshape(n, n)
    f["bad/W_3d"] = W.reshape(1, n, n)
    f["bad/b_short"] = b[:39]

np.save("W.npy", W)                                      # '<f8', C order
np.save("W32_fortran.npy", np.asfortranarray(W.astype(np.float32)))  # '<f4', Fortran order
np.save("b.npy", b)
np.save("W_bigendian.npy", W.astype(">f8"))              # refused: big-endian
np.save("W_int.npy", np.arange(n * n, dtype=np.int64).reshape(n, n))  # refused: integers
