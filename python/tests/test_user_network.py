"""The user's own network from Python: weights=, bias=, h0= as numpy arrays (or FILE:DATASET), and
amari.network; checked against an independent numpy RK4 of the same arrays and against the drawn
run; the refusals are ValueErrors with the CLI's one-line messages."""
import numpy as np
import pytest

import amari
from conftest import cli_json


def rk4_q(W, b, h0, dt, t_end, dt_out):
    """q(t) = mean_i (h_i - m)^2 of dh/dt = -h + W tanh(h) + b, classical RK4 at step dt."""
    f = lambda h: -h + W @ np.tanh(h) + b  # noqa: E731
    h = h0.astype(np.float64).copy()
    steps, every = int(round(t_end / dt)), int(round(dt_out / dt))
    out = [h.var()]
    for k in range(1, steps + 1):
        k1 = f(h)
        k2 = f(h + 0.5 * dt * k1)
        k3 = f(h + 0.5 * dt * k2)
        k4 = f(h + dt * k3)
        h = h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        if k % every == 0:
            out.append(h.var())
    return np.array(out)


def arrays(n=120, sigma=1.5, seed=3):
    rng = np.random.default_rng(seed)
    return rng.normal(0, sigma / np.sqrt(n), (n, n)), rng.normal(0, 0.2, n), rng.normal(0, 1, n)


RUN = dict(stepper="rk4", dt=0.01, t_end=5, dt_out=0.1, quiet=True)


def test_user_arrays_integrate_as_numpy_rk4():
    W, b, h0 = arrays()
    r = amari.simulate(weights=W, bias=b, h0=h0, **RUN)
    assert r["t"].shape == (51,)
    np.testing.assert_allclose(r["q"], rk4_q(W, b, h0, 0.01, 5, 0.1), rtol=0, atol=1e-10)
    # Fortran order and a float32 W: the same network (float32 against RK4 of its float64 values).
    rf = amari.simulate(weights=np.asfortranarray(W), bias=b, h0=h0, **RUN)
    np.testing.assert_array_equal(rf["q"], r["q"])
    W32 = W.astype(np.float32)
    r32 = amari.simulate(weights=W32, bias=b, h0=h0, **RUN)
    np.testing.assert_allclose(r32["q"], rk4_q(W32.astype(np.float64), b, h0, 0.01, 5, 0.1), rtol=0, atol=1e-10)
    assert np.max(np.abs(r32["q"] - r["q"])) > 1e-9  # the rounding to float32 is seen: the check can fail


def test_network_given_back_reproduces_the_drawn_run():
    kw = dict(n=150, sigma_w=1.7, sigma_b=0.3, seed=9)
    W, b = amari.network(**kw)
    assert W.shape == (150, 150) and b.shape == (150,)
    run = dict(t_end=10, dt_out=0.5, lyapunov=True, replicas=2, quiet=True)
    drawn = amari.simulate(**kw, **run)
    given = amari.simulate(weights=W, bias=b, seed=9, **run)
    for key in ("q", "h", "c_ab", "h_final", "lyapunov_estimate"):
        np.testing.assert_array_equal(given[key], drawn[key])
    # In half storage too: the user's W is rounded where a drawn W is.
    half = dict(run, weight_precision="half")
    np.testing.assert_array_equal(amari.simulate(weights=W, bias=b, seed=9, **half)["q"],
                                  amari.simulate(**kw, **half)["q"])


def test_weights_from_a_file(tmp):
    h5py = pytest.importorskip("h5py")
    W, b, h0 = arrays(n=40)
    path = str(tmp / "net.h5")
    with h5py.File(path, "w") as f:
        f["W"], f["b"] = W, b
    r = amari.simulate(weights=path + ":/W", bias=path + ":/b", h0=h0, **RUN)
    np.testing.assert_array_equal(r["q"], amari.simulate(weights=W, bias=b, h0=h0, **RUN)["q"])


@pytest.mark.parametrize("kwargs, words", [
    (lambda W, b: dict(weights=W[:, :-1]), "weights"),
    (lambda W, b: dict(weights=np.where(np.eye(len(W)) > 0, np.nan, W)), "weights"),
    (lambda W, b: dict(weights=W, n=len(W) + 1), "n"),
    (lambda W, b: dict(weights=W, sigma_w=2.0), "sigma_w"),
    (lambda W, b: dict(weights=W, bias=b[:-1]), "bias"),
    (lambda W, b: dict(weights=W.astype(np.int64)), "weights"),
])
def test_refusals_are_value_errors(tmp, kwargs, words):
    W, b, _ = arrays(n=20)
    out = tmp / "never.h5"
    with pytest.raises(ValueError) as e:
        amari.simulate(output=str(out), quiet=True, t_end=1, **kwargs(W, b))
    assert words in str(e.value) and "\n" not in str(e.value)
    assert not out.exists()


def test_finite_is_the_cli_finite():
    r = amari.finite(sigma_w=2, sigma_b=0.2, layers=4)
    j = cli_json("finite", "--sigma-w", "2", "--sigma-b", "0.2", "--layers", "4")
    for key in ("layer", "K", "var_q", "kurtosis", "mean_shift", "V", "G1"):
        np.testing.assert_array_equal(np.asarray(r[key], dtype=float), np.asarray(j[key], dtype=float))
    # the correlation depth at finite width: scalars, the same as the CLI's
    for key in ("c_star", "chi_c", "xi_c", "c_star_shift", "chi_c_shift", "xi_c_shift"):
        assert r[key] == j[key]
    assert r["xi_c_shift"] == pytest.approx(r["xi_c"] ** 2 * r["chi_c_shift"] / r["chi_c"], rel=1e-14)


def test_deepnet_tied_keyword():
    # tied=... is the vocabulary's `tied` (deepnet --tied): layer 1 is the untied net's, later layers differ
    t = amari.deepnet(tied=True, n=16, layers=3, nets=3, seed=4)
    u = amari.deepnet(n=16, layers=3, nets=3, seed=4)
    assert t["tied"] is True and u["tied"] is False
    np.testing.assert_allclose(t["q1_mean"][1], u["q1_mean"][1], rtol=1e-13)
    assert abs(t["q1_mean"][3] - u["q1_mean"][3]) > 1e-6
