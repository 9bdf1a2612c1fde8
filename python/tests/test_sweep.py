"""amari.sweep: the CLI's `amari sweep` from Python. The dict equals `amari sweep --json` on the same
grid bit for bit (numpy arrays over [axes..., own axes] against the JSON's nested lists); the seed
reduction is numpy's mean and standard error of the per-seed values; an interrupted sweep resumes
to the uninterrupted one; bad input raises ValueError with the CLI's message before anything is
written."""
import glob
import json
import os

import h5py
import numpy as np
import pytest

import amari
from conftest import cli


def cli_sweep(*args):
    """`amari sweep --json -o cli.h5 ARGS` (in the current directory), parsed."""
    return json.loads(cli("sweep", "--json", "--quiet", "--force", "-o", "cli.h5", *args)[1])


def as_array(nested, like):
    """The JSON's nested lists as an array of `like`'s dtype (null -> NaN, or None for texts)."""
    if like.dtype.kind == "O":
        return np.array(nested, dtype=object)
    return np.array([np.nan if x is None else x for x in np.array(nested, dtype=object).ravel()],
                    dtype=np.float64).reshape(np.shape(np.array(nested, dtype=object)))


def same_sweep(py, ref):
    """Key for key; every result bit for bit (NaN where the JSON has null)."""
    assert sorted(k for k in py if k != "output") == sorted(ref)
    assert py["command"] == ref["command"]
    assert py["dims"] == ref["dims"]
    assert (py["points"], py["done"]) == (ref["points"], ref["done"])
    assert sorted(py["axes"]) == sorted(ref["axes"])
    for a, values in ref["axes"].items():
        assert py["axes"][a].tolist() == values, a
    compared = 0
    for key, nested in ref.items():
        if key in ("command", "dims", "points", "done", "axes"):
            continue
        got = py[key]
        assert isinstance(got, np.ndarray), key
        want = as_array(nested, got)
        assert got.shape == want.shape, key
        if got.dtype.kind == "O":
            assert got.tolist() == want.tolist(), key
        else:
            g = got.astype(np.float64)
            assert np.array_equal(np.isnan(g), np.isnan(want)), key
            assert np.array_equal(g[~np.isnan(g)], want[~np.isnan(want)]), key  # bit for bit
        compared += got.size
    return compared


GRIDS = {
    # 4 x 2 x 2 maps points: numbers, None (xi_c at the edge) and a text result (phase).
    "maps": (dict(sigma_w="1:2.5:4", sigma_b=[0.0, 0.3], phi=("tanh", "erf")),
             ["--sigma-w", "1:2.5:4", "--sigma-b", "0.0,0.3", "--phi", "tanh,erf"]),
    # Per-layer arrays over a 2 x 2 grid: [sigma_w, q0, layer].
    "finite": (dict(sigma_w=np.array([2.0, 2.5]), q0=[0.5, 1], layers=4),
               ["--sigma-w", "2.0,2.5", "--q0", "0.5,1", "--layers", "4"]),
    # A seed axis (with its mean and standard error) of short simulations with Lyapunov exponents.
    "simulate": (dict(n=80, t_end=6, sigma_w=[1.5, 2.25], seed=range(1, 4), lyapunov=True),
                 ["--n", "80", "--t-end", "6", "--sigma-w", "1.5,2.25", "--seed", "1:3:3", "--lyapunov"]),
}


@pytest.mark.parametrize("command", sorted(GRIDS))
def test_sweep_equals_cli_json(command, tmp):
    os.chdir(tmp)
    os.environ["TMPDIR"] = str(tmp / "scratch")
    os.mkdir(tmp / "scratch")
    kw, args = GRIDS[command]
    ref = cli_sweep(command, *args)
    got = amari.sweep(command, quiet=True, **kw)
    assert "output" not in got
    assert same_sweep(got, ref) > 0
    # No output=: nothing left behind, neither here nor in the temporary directory.
    assert sorted(os.listdir(tmp)) == ["cli.h5", "scratch"]
    assert os.listdir(tmp / "scratch") == []
    # output=: the file the CLI writes, complete, with the same results.
    got = amari.sweep(command, output="py.h5", quiet=True, **kw)
    assert got["output"] == "py.h5"
    same_sweep(got, ref)
    info = amari.inspect("py.h5")
    assert info["attributes"]["product"] == "sweep" and info["attributes"]["status"] == "complete"
    assert info["attributes"]["command_line"].startswith("python: amari.sweep('%s'" % command)


def test_shapes_and_the_seed_reduction(tmp):
    os.chdir(tmp)
    kw, _ = GRIDS["simulate"]
    s = amari.sweep("simulate", quiet=True, **kw)
    assert s["dims"] == ["sigma_w", "seed"]
    assert s["axes"]["sigma_w"].tolist() == [1.5, 2.25] and s["axes"]["seed"].tolist() == [1, 2, 3]
    assert s["axes"]["seed"].dtype == np.int64
    lam = s["lyapunov"]
    assert lam.shape == (2, 3)
    # Each per-seed value is that of amari.simulate alone, bit for bit.
    for i, sw in enumerate([1.5, 2.25]):
        for j, seed in enumerate([1, 2, 3]):
            one = amari.simulate(n=80, t_end=6, sigma_w=sw, seed=seed, lyapunov=True, quiet=True)
            assert lam[i, j] == one["lyapunov"]
            assert s["q_final"][i, j] == one["q_final"]
    # The mean and standard error over the seeds: numpy's, to rounding (another summation order).
    mean, sem = s["lyapunov_mean_over_seed"], s["lyapunov_sem_over_seed"]
    assert mean.shape == sem.shape == (2,)
    np.testing.assert_allclose(mean, lam.mean(axis=1), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(sem, lam.std(axis=1, ddof=1) / np.sqrt(3), rtol=1e-12, atol=1e-15)
    assert "lyapunov_sem_mean_over_seed" not in s  # errors are not averaged


def test_option_texts_round_trip(tmp):
    os.chdir(tmp)
    # repr of a float reads back as the same double: 0.1 + 0.2 is not 0.3.
    x = 0.1 + 0.2
    s = amari.sweep("maps", sigma_w=[x, 2.5, np.float64(1.7)], quiet=True)
    assert s["axes"]["sigma_w"].tolist() == [x, 2.5, 1.7]
    assert s["q_star"][0] == amari.maps(sigma_w=x)["q_star"]
    # One value is not an axis; a flag as a list of booleans is.
    s = amari.sweep("maps", sigma_w=2.0, sigma_b=[0.0, 0.5], quiet=True)
    assert s["dims"] == ["sigma_b"] and s["q_star"].shape == (2,)


def test_interrupt_and_resume(tmp):
    os.chdir(tmp)
    # 40 points of about 15 ms each: progress reaches Python at most every 0.1 s, so the sweep
    # must last several such intervals for a report to fall between its first and last point.
    kw = dict(n=150, t_end=40, sigma_w=[1.5, 2.0], seed=list(range(1, 21)), lyapunov=True)
    full = amari.sweep("simulate", output="full.h5", quiet=True, **kw)
    def stop_after_one(done, total):
        if 1 <= done < total:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        amari.sweep("simulate", output="cut.h5", progress=stop_after_one, **kw)
    assert amari.inspect("cut.h5")["attributes"]["status"] == "interrupted"
    with h5py.File("cut.h5", "r") as f:
        cut = len(f["/sweep/points"])
    assert 1 <= cut < 40, cut
    # Options with resume= are refused; the command may be given if it is the file's.
    with pytest.raises(ValueError, match="give no options with resume="):
        amari.sweep(resume="cut.h5", n=100)
    with pytest.raises(ValueError, match="the sweep in cut.h5 runs simulate"):
        amari.sweep("maps", resume="cut.h5")
    resumed = amari.sweep("simulate", resume="cut.h5", quiet=True)
    assert resumed["output"] == "cut.h5" and resumed["done"] == 40
    for key in full:
        if key == "output":
            continue
        if isinstance(full[key], np.ndarray):
            assert np.array_equal(full[key], resumed[key], equal_nan=full[key].dtype.kind == "f"), key
        elif key != "axes":
            assert full[key] == resumed[key], key
    # The CLI resumes a Python sweep too (nothing left: complete), and a complete one is refused.
    code, _, err = cli("sweep", "--resume", "cut.h5", check=False)
    assert code == 2 and "complete" in err
    with pytest.raises(ValueError, match="the sweep is complete"):
        amari.sweep(resume="cut.h5")


BAD = [
    # (keywords, what the message says, the CLI's arguments for the same)
    (dict(sigma_w=[1, -1]), "at the grid point sigma_w = -1", ["maps", "--sigma-w", "1,-1"]),
    (dict(sigma_x=[1, 2]), "unknown parameter of `amari maps`", ["maps", "--sigma-x", "1,2"]),
    (dict(sigma_w="1:0:3"), "sigma_w", ["maps", "--sigma-w", "1:0:3"]),
    (dict(phi=["tanh", "nope"]), "phi", ["maps", "--phi", "tanh,nope"]),
]


@pytest.mark.parametrize("kw,words,args", BAD)
def test_bad_input_is_the_clis_message_and_writes_nothing(tmp, kw, words, args):
    os.chdir(tmp)
    with pytest.raises(ValueError) as e:
        amari.sweep(kw.pop("command", "maps"), output="s.h5", quiet=True, **kw)
    message = str(e.value)
    assert words in message
    code, _, err = cli("sweep", "-o", "c.h5", *args, check=False)
    assert code == 2 and message in err
    assert not os.path.exists("s.h5") and not os.path.exists("c.h5")


def test_bad_python_values(tmp):
    os.chdir(tmp)
    for kw, words in [(dict(sigma_w=[]), "at least one value"),
                      (dict(sigma_w=np.ones((2, 2))), "one-dimensional"),
                      (dict(sigma_w=[1.0, None]), "sigma_w = None")]:
        with pytest.raises(ValueError, match=words):
            amari.sweep("maps", output="s.h5", quiet=True, **kw)
    with pytest.raises(ValueError, match="command = phase"):
        amari.sweep("phase", sigma_w=[1, 2], output="s.h5")
    with pytest.raises(ValueError, match="needs a command"):
        amari.sweep(sigma_w=[1, 2], output="s.h5")
    with pytest.raises(ValueError, match="belongs to the sweep"):
        amari.sweep("maps", json=True, output="s.h5")
    assert not os.path.exists("s.h5")
    with pytest.raises(OSError):
        amari.sweep(resume="missing.h5")
    assert glob.glob("*") == []


def same_files(kept, alone):
    """Every group and dataset of the command's own file (but /checkpoint) is in the kept group with
    the same values, shape, attributes (but the wall-clock `seconds`) and dimension scales; the root
    attributes that are not about when and how it was started too. Returns the number of datasets
    compared."""
    count = 0

    def visit(name, obj):
        nonlocal count
        if name.startswith("checkpoint"):
            return
        assert name in kept, name
        k = kept[name]
        for a, v in obj.attrs.items():
            if a in ("DIMENSION_LIST", "REFERENCE_LIST", "seconds", "setup_seconds"):  # references; wall-clock times
                continue
            assert a in k.attrs, "%s: attribute %s" % (name, a)
            assert np.array_equal(np.asarray(k.attrs[a]).ravel(), np.asarray(v).ravel()), "%s: attribute %s" % (name, a)
        if isinstance(obj, h5py.Dataset):
            assert k.shape == obj.shape, name
            a, b = obj[()], k[()]
            if obj.dtype.kind in "fc":
                assert np.array_equal(a, b, equal_nan=True), name
            else:
                assert np.array_equal(a, b), name
            assert [list(d.keys()) for d in k.dims] == [list(d.keys()) for d in obj.dims], name
            count += 1

    alone.visititems(visit)
    for a in ("product", "seed", "format_version", "status"):
        if a in alone.attrs:
            assert kept.attrs[a] == alone.attrs[a], a
    return count


def test_keep_stores_each_points_product(tmp):
    """--keep: /sweep/points/<k>/product equals the file of the command run alone at that point."""
    os.chdir(tmp)
    cli("sweep", "--keep", "--quiet", "-o", "maps.h5", "maps", "--sigma-w", "1.5,2.5", "--phi", "erf")
    cli("maps", "--sigma-w", "2.5", "--phi", "erf", "-o", "maps_alone.h5", "--quiet")
    sim = ["--n", "60", "--t-end", "8", "--lyapunov", "--replicas", "2"]
    cli("sweep", "--keep", "--quiet", "-o", "sim.h5", "simulate", *sim, "--sigma-w", "2", "--seed", "3,4")
    cli("simulate", *sim, "--sigma-w", "2", "--seed", "4", "-o", "sim_alone.h5", "--quiet")
    # And from Python: the same product (keep=True), the sweep's results unchanged by it.
    py = amari.sweep("maps", sigma_w=[1.5, 2.5], phi="erf", keep=True, output="py.h5", quiet=True)
    plain = amari.sweep("maps", sigma_w=[1.5, 2.5], phi="erf", quiet=True)
    assert np.array_equal(py["q_star"], plain["q_star"])
    with h5py.File("maps.h5", "r") as s, h5py.File("maps_alone.h5", "r") as one, h5py.File("py.h5", "r") as p:
        assert s["/sweep"].attrs["keep"] == 1
        assert same_files(s["/sweep/points/1/product"], one) >= 5
        assert same_files(p["/sweep/points/1/product"], one) >= 5
        assert "sweep" in s["/sweep/points/1/product"].attrs["command_line"]
    with h5py.File("sim.h5", "r") as s, h5py.File("sim_alone.h5", "r") as one:
        assert same_files(s["/sweep/points/1/product"], one) >= 20
        assert "checkpoint" not in s["/sweep/points/1/product"]
        assert "trajectory" in s["/sweep/points/0/product"]
    # --keep with --resume is refused (the file says); an interrupted kept sweep resumes with its products.
    code, _, err = cli("sweep", "--keep", "--resume", "sim.h5", check=False)
    assert code == 2 and "keep" in err

    def stop_after_one(done, total):
        if 1 <= done < total:
            raise KeyboardInterrupt

    # (each kept point writes its product: about 0.2 s, two of the 0.1 s between progress reports)
    kw = dict(n=150, t_end=40, sigma_w=[1.5, 2.0], seed=[1, 2, 3])
    with pytest.raises(KeyboardInterrupt):
        amari.sweep("simulate", output="cut.h5", keep=True, progress=stop_after_one, **kw)
    with h5py.File("cut.h5", "r") as f:
        before = len(f["/sweep/points"])
    assert 1 <= before < 6
    with pytest.raises(ValueError, match="keep"):
        amari.sweep(resume="cut.h5", keep=True)
    amari.sweep(resume="cut.h5", quiet=True)
    amari.sweep("simulate", output="whole.h5", keep=True, quiet=True, **kw)
    with h5py.File("cut.h5", "r") as c, h5py.File("whole.h5", "r") as w:
        assert c["/sweep"].attrs["keep"] == 1
        for k in range(6):
            assert same_files(c["/sweep/points/%d/product" % k], w["/sweep/points/%d/product" % k]) >= 20


@pytest.mark.parametrize("command,fixed,axis", [
    ("dmft", ["--sigma-b", "0.1"], ("--sigma-w", "1.5,2")),
    ("meanfield", ["--w0", "0.5", "--m0", "0.5", "--t-end", "10"], ("--sigma-w", "0.8,1.5")),
    ("finite", ["--layers", "5"], ("--sigma-w", "2,2.5")),
    ("deepnet", ["--n", "50", "--layers", "4", "--nets", "3", "--seed", "2"], ("--sigma-w", "2,2.5")),
])
def test_keep_for_every_command(tmp, command, fixed, axis):
    """The kept product of the other commands equals their own file too (grid point 1)."""
    os.chdir(tmp)
    cli("sweep", "--keep", "--quiet", "-o", "s.h5", command, *fixed, *axis)
    cli(command, *fixed, axis[0], axis[1].split(",")[1], "-o", "alone.h5", "--quiet")
    with h5py.File("s.h5", "r") as s, h5py.File("alone.h5", "r") as one:
        assert same_files(s["/sweep/points/1/product"], one) >= 2
        assert command in s["/sweep/points/1/product"]


def test_meanfield_sweep_is_the_commands_fixed_points(tmp):
    """meanfield over a grid: the final fixed point and the number of fixed points at each point are
    those of `amari meanfield --json` there (its fixed_points and final_fixed_point), and so is m(t),
    q(t). (m0 = 0.5: with m0 = 0 and w0 != 0, m(t) is rounding noise of about 1e-17 whose last bits
    were seen to differ between processes, in the sweep and out of it.)"""
    os.chdir(tmp)
    s = amari.sweep("meanfield", w0=0.5, m0=0.5, t_end=10, sigma_w=[0.8, 1.5, 2.5], quiet=True)
    ref = cli_sweep("meanfield", "--w0", "0.5", "--m0", "0.5", "--t-end", "10", "--sigma-w", "0.8,1.5,2.5")
    assert same_sweep(s, ref) > 0
    for i, sw in enumerate([0.8, 1.5, 2.5]):
        one = json.loads(cli("meanfield", "--w0", "0.5", "--m0", "0.5", "--t-end", "10", "--sigma-w", sw, "--json")[1])
        assert s["fixed_points_count"][i] == len(one["fixed_points"])
        fp = one["fixed_points"][one["final_fixed_point"]] if one["final_fixed_point"] is not None else None
        if fp is None:
            assert np.isnan(s["final_q"][i]) and np.isnan(s["final_m"][i])
        else:
            assert (s["final_m"][i], s["final_q"][i]) == (fp["m"], fp["q"])
        assert np.array_equal(s["q"][i], np.array(one["q"])) and np.array_equal(s["m"][i], np.array(one["m"]))
