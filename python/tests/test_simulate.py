"""amari.simulate: the CLI's run bit for bit, in memory and in its file; h0 as an array or
FILE:DATASET; the samples in memory equal the file's series."""
import os

import numpy as np
import pytest

import amari
from conftest import cli, cli_json, options, same

RUN = dict(n=120, t_end=6, dt_out=0.5, replicas=2, stepper="rk4", dt=0.05, seed=7, lyapunov=True,
           record_neurons=3)
TIMES = ("seconds", "setup_seconds")


def test_simulate_equals_cli(tmp):
    os.chdir(tmp)
    want = cli_json("simulate", *options(**RUN), "-o", "cli.h5", "--quiet")
    got = amari.simulate(quiet=True, **RUN)
    assert os.listdir(tmp) == ["cli.h5"]
    same({k: v for k, v in got.items() if k in want}, {k: v for k, v in want.items() if k != "output"},
         "simulate", skip=TIMES)
    import h5py
    with h5py.File("cli.h5") as f:
        for k in ("t", "m", "q", "q2", "phi_mean", "h", "h_final"):
            np.testing.assert_array_equal(got[k], f["/trajectory/" + k][()], err_msg=k)
        np.testing.assert_array_equal(got["c_ab"], f["/replicas/c_ab"][()])
        np.testing.assert_array_equal(got["lyapunov_estimate"], f["/lyapunov/estimate"][()])
    assert got["q"].shape == (13, 2)


def test_simulate_output_is_readable_and_equal(tmp):
    os.chdir(tmp)
    got = amari.simulate(quiet=True, output="py.h5", **RUN)
    code, text, _ = cli("inspect", "py.h5")
    assert code == 0
    info = amari.inspect("py.h5")
    assert info["attributes"]["status"] == "complete"
    import h5py
    with h5py.File("py.h5") as f:
        np.testing.assert_array_equal(got["q"], f["/trajectory/q"][()])
        assert "/meanfield" in f and "/stationary" in f


def test_h0_array_and_file_agree_with_cli(tmp):
    os.chdir(tmp)
    first = amari.simulate(n=80, t_end=2, stepper="rk4", seed=2, output="a.h5", quiet=True)
    spec = "a.h5:/trajectory/h_final"
    kw = dict(n=80, t_end=3, dt_out=0.5, stepper="rk4", seed=5)
    from_file = amari.simulate(h0=spec, quiet=True, **kw)
    from_array = amari.simulate(h0=first["h_final"], quiet=True, **kw)
    from_f32 = amari.simulate(h0=first["h_final"].astype(np.float32), quiet=True, **kw)
    np.testing.assert_array_equal(from_file["q"], from_array["q"])
    assert from_array["q"][0] == np.var(first["h_final"])  # q(0) of the given state
    assert from_f32["q"][0] == np.var(first["h_final"].astype(np.float32).astype(np.float64))
    want = cli_json("simulate", *options(**kw), "--h0", spec, "-o", "b.h5", "--quiet")
    assert want["q_final"] == from_file["q_final"]
    # (replicas, N): one row per replica; a Fortran-ordered view is read through its strides.
    two = np.asfortranarray(np.stack([first["h_final"], -first["h_final"]]))
    r = amari.simulate(h0=two, replicas=2, quiet=True, **kw)
    # (numpy sums in another order than amari: equal to rounding)
    np.testing.assert_allclose(r["m"][0], [np.mean(two[0]), np.mean(two[1])], rtol=1e-12, atol=1e-15)


def test_progress_callback_and_quiet():
    calls = []
    amari.simulate(n=50, t_end=2, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]
    calls.clear()
    amari.simulate(n=50, t_end=2, quiet=True, progress=lambda d, t: calls.append((d, t)))
    assert calls == []


def test_progress_callback_exception_stops_the_run():
    def boom(d, t):
        raise RuntimeError("stop here")
    with pytest.raises(RuntimeError, match="stop here"):
        amari.simulate(n=50, t_end=1e6, progress=boom)
