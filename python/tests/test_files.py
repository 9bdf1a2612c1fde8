"""amari.open and File.to_xarray: every dataset as h5py (an independent HDF5 reader) reads it, bit
for bit, with the dimension names the file's scales give; to_xarray's variables and coordinates
equal what the commands return in memory; bad paths and non-amari files are refused."""
import os

import h5py
import numpy as np
import pytest
import xarray as xr

import amari


def h5py_dims(d):
    """The names of the scales attached to each axis of an h5py dataset (None where none is)."""
    out = []
    for dim in d.dims:
        out.append(os.path.basename(dim[0].name) if len(dim) else None)
    return out


@pytest.fixture
def simulate_file(tmp):
    path = os.path.join(tmp, "s.h5")
    amari.simulate(n=120, t_end=6, lyapunov=True, replicas=2, seed=5, quiet=True, output=path)
    return path


def test_every_dataset_as_h5py_reads_it(simulate_file):
    f = amari.open(simulate_file)
    assert f.product == "simulate" and f.attrs["status"] == "complete"
    assert f.attrs["format_version"] == amari.inspect(simulate_file)["attributes"]["format_version"]
    paths = f.datasets()
    with h5py.File(simulate_file, "r", locking=False) as h:  # (the File above has it open too)
        want = []
        h.visititems(lambda name, o: want.append("/" + name) if isinstance(o, h5py.Dataset) else None)
        want = [p for p in want if not p.startswith("/checkpoint")]
        assert sorted(paths) == sorted(want)
        for p in paths:
            d = h[p]
            got = f[p]
            if d.dtype.kind in "OSU":
                ref = d.asstr()[()]
                ref = ref.tolist() if isinstance(ref, np.ndarray) else ref
                assert got == ref, p
                continue
            assert got.shape == d.shape, p
            assert np.array_equal(got, d[()], equal_nan=True), p
            assert (got.dtype.kind == "f") == (d.dtype.kind == "f"), p
            assert f.info(p)["dims"] == h5py_dims(d) or f.info(p)["scale"], p
    f.close()


def test_to_xarray_simulate(simulate_file):
    with amari.open(simulate_file) as f:
        ds = f.to_xarray()  # /trajectory
        assert ds["q"].dims == ("t", "replica")  # two replicas
        assert ds["h"].dims == ("t", "replica", "neuron")
        assert np.array_equal(ds["q"].values, f["/trajectory/q"])
        assert np.array_equal(ds["t"].values, f["/trajectory/t"])
        assert ds["q"].attrs["description"] == f.info("/trajectory/q")["attrs"]["description"]
        assert ds.attrs["file_product"] == "simulate"
        lyap = f.to_xarray("lyapunov")
        assert lyap["exponents"].dims == ("exponent",)
        assert lyap["estimate"].dims == ("t", "replica", "exponent")
        assert np.array_equal(lyap["exponent"].values, [1])  # the largest exponent is j = 1
        st = f.to_xarray("/stationary")
        assert st["C"].dims == ("tau",) and st["q"].dims == ()


def test_to_xarray_phase_equals_the_in_memory_result(tmp):
    path = os.path.join(tmp, "p.h5")
    kw = dict(sigma_w="0.5:3:6", sigma_b="0:0.5:3")
    mem = amari.phase(quiet=True, **kw)
    amari.phase(quiet=True, output=path, **kw)
    ds = amari.open(path).to_xarray()
    assert ds["chi_1"].dims == ("sigma_b", "sigma_w")
    assert np.array_equal(ds["sigma_w"].values, mem["sigma_w"])
    assert np.array_equal(ds["sigma_b"].values, mem["sigma_b"])
    for k in ("q_star", "chi_1", "xi_c"):
        assert np.array_equal(ds[k].values, mem[k], equal_nan=True), k
    # Selection by the named axes works as xarray users expect.
    assert ds["chi_1"].sel(sigma_w=mem["sigma_w"][2], sigma_b=mem["sigma_b"][1]).item() == mem["chi_1"][1, 2]


def test_refusals(tmp, simulate_file):
    with pytest.raises(OSError, match="no-such.h5"):
        amari.open(os.path.join(tmp, "no-such.h5"))
    other = os.path.join(tmp, "other.h5")
    with h5py.File(other, "w") as h:
        h["x"] = np.arange(3.0)
    with pytest.raises(ValueError):
        amari.open(other)
    f = amari.open(simulate_file)
    with pytest.raises(KeyError, match="/trajectory/nope"):
        f["/trajectory/nope"]
    with pytest.raises(ValueError, match="group = nope"):
        f.to_xarray("nope")
    assert "/checkpoint" not in f.groups()
    assert isinstance(f.to_xarray("meanfield"), xr.Dataset)
