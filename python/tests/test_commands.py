"""Every command: the dict equals the CLI's --json key for key and bit for bit (wall times aside),
output= writes the file the CLI writes (amari inspect reads it), and nothing is written without it."""
import json
import os

import numpy as np
import pytest

import amari
from conftest import cli, cli_json, options, same

# Small runs of each command (keywords = the CLI's options).
RUNS = {
    "meanfield": dict(sigma_w=1.5, sigma_b=0.2, w0=0.5, t_end=20),
    "dmft": dict(sigma_w=1.8, sigma_b=0.1),
    "deepnet": dict(n=60, layers=5, nets=3, seed=4),
    "compare": dict(n=60, layers=4, nets=2, replicas=2, draws=2, t_end=6, iterations=8, seed=3),
    "maps": dict(phi="erf", sigma_w=1.7),
}
TIMES = ("seconds", "setup_seconds")


@pytest.mark.parametrize("command", sorted(RUNS))
def test_result_equals_cli_json_and_file(command, tmp):
    os.chdir(tmp)
    kw = RUNS[command]
    want = cli_json(command, *options(**kw))
    got = getattr(amari, command)(quiet=True, **kw)
    same(got, want, command, skip=TIMES)
    assert os.listdir(tmp) == []  # no output=: no file
    got = getattr(amari, command)(quiet=True, output="py.h5", **kw)
    assert got.pop("output") == "py.h5"
    same(got, want, command, skip=TIMES)
    cli(command, *options(**kw), "-o", "cli.h5", "--quiet")
    code, text, err = cli("inspect", "py.h5")
    assert code == 0 and ("/" + command) in text
    py, ref = amari.inspect("py.h5"), amari.inspect("cli.h5")
    assert py["attributes"]["product"] == ref["attributes"]["product"] == command
    assert py["attributes"]["status"] == "complete"
    assert py["attributes"]["command_line"].startswith("python: amari.%s(" % command)
    # The same objects with the same shapes (the file the CLI writes).
    shapes = lambda r: [(o["path"], o.get("shape")) for o in r["objects"]]
    assert shapes(py) == shapes(ref)
    assert json.loads(cli("inspect", "py.h5", "--json")[1])["summary"] == ref["summary"]


def test_phase_file_is_the_cli_file(tmp):
    os.chdir(tmp)
    d = amari.phase(sigma_w="0.5:3:5", sigma_b="0:1:3", output="py.h5", quiet=True)
    cli("phase", "--sigma-w", "0.5:3:5", "--sigma-b", "0:1:3", "-o", "cli.h5", "--quiet")
    assert amari.inspect("py.h5")["summary"] == amari.inspect("cli.h5")["summary"]
    import h5py
    with h5py.File("cli.h5") as f:
        for k in ("q_star", "chi_1", "phase", "edge_sigma_w"):
            np.testing.assert_array_equal(f["/phase/" + k][()], d[k])


def test_parameters_are_the_tables():
    names = [e["name"] for e in amari.parameters("deepnet")]
    assert names[:3] == ["phi", "sigma_w", "sigma_b"]
    import inspect
    sig = inspect.signature(amari.deepnet)
    assert list(sig.parameters)[: len(names)] == names
    assert sig.parameters["sigma_w"].default == 2.5
    assert inspect.signature(amari.simulate).parameters["sigma_w"].default == 2.0
    assert inspect.signature(amari.meanfield).parameters["sigma_w"].default == 1.0
