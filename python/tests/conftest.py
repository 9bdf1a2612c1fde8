"""Shared helpers of the Python module's tests (run by CTest with PYTHONPATH set to the build's
python/ directory and AMARI_CLI to the build's `amari`; see tests/CMakeLists.txt)."""
import json
import math
import os
import subprocess

import numpy as np
import pytest

import amari

CLI = os.environ.get("AMARI_CLI", "amari")
ACTIVATIONS = ["tanh", "tanh:g=2", "erf", "relu", "linear", "hardtanh"]


def cli(*args, check=True):
    """Runs the CLI; returns (exit code, stdout, stderr)."""
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError("amari %s: exit %d: %s" % (" ".join(map(str, args)), p.returncode, p.stderr))
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    return json.loads(cli(*args, "--json")[1])


def options(**kw):
    """Keywords as command-line options (the vocabulary's rule: '_' -> '-')."""
    out = []
    for k, v in kw.items():
        if v is True:
            out.append("--" + k.replace("_", "-"))
        elif isinstance(v, (list, tuple)):
            out += ["--" + k.replace("_", "-"), ",".join(map(str, v))]
        else:
            out += ["--" + k.replace("_", "-"), str(v)]
    return out


def same(a, b, path="", skip=()):
    """Key for key and bit for bit: a Python result against the CLI's JSON (None for null, NaN in
    float arrays where the JSON has null, -1 in integer arrays)."""
    if isinstance(b, dict):
        assert isinstance(a, dict), path
        # (The CLI's JSON objects list their keys sorted.)
        ka = sorted(k for k in a if k not in skip)
        kb = sorted(k for k in b if k not in skip)
        assert ka == kb, "%s: keys %s != %s" % (path, ka, kb)
        for k in kb:
            same(a[k], b[k], path + "/" + k, skip)
    elif isinstance(b, list) and isinstance(a, np.ndarray):
        assert a.shape == (len(b),), path
        for i, (x, y) in enumerate(zip(a.tolist(), b)):
            if y is None:
                assert (math.isnan(x) if a.dtype.kind == "f" else x == -1), "%s[%d]: %r for null" % (path, i, x)
            else:
                assert x == y, "%s[%d]: %r != %r" % (path, i, x, y)
    elif isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, "%s[%d]" % (path, i), skip)
    else:
        assert type(a) is type(b) or (isinstance(b, float) and isinstance(a, float)), \
            "%s: %r (%s) != %r (%s)" % (path, a, type(a), b, type(b))
        assert a == b, "%s: %r != %r" % (path, a, b)


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
