#!/usr/bin/python3
"""Reads amari files with h5py, as a Python user would, without amari's code (tests/test_store.cpp).

  check_h5py.py crash FILE MIN_ROWS   the file of tests/store_helper `writer`, killed: it opens, and
                                      holds at least MIN_ROWS correct samples of every series
  check_h5py.py layout FILE           the file of the round-trip test: documented root attributes,
                                      datasets, attributes and dimension scales (docs/FORMAT.md)

Prints OK and exits 0, or prints what is wrong and exits 1. Exits 77 when h5py is missing.
"""
import math
import sys

try:
    import h5py
    import numpy as np
except ImportError as e:  # the caller skips the test, saying so
    print(f"SKIP: {e}")
    sys.exit(77)

errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


def dim_names(d):
    return [list(dim.keys())[0] if len(dim.keys()) else None for dim in d.dims]


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def check_root(f):
    for key in ("format_version", "amari_version", "git_describe", "created", "command_line", "config",
                "product", "status"):
        check(key in f.attrs, f"root attribute {key} missing")
    check(int(f.attrs["format_version"]) >= 1, "format_version < 1")
    check(isinstance(f.attrs["status"], str), "status is not a str (variable-length UTF-8 expected)")


def check_described(f):
    """Every dataset outside /checkpoint has a description; its axes have scales where given."""
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset) and not name.startswith("checkpoint"):
            check("description" in obj.attrs, f"/{name}: no description")
    f.visititems(visit)


def crash(path, min_rows):
    """Every series holds at least min_rows rows, all correct. (Rows after the last completed flush
    may differ between series, or read as 0, when the kill hit a flush: docs/FORMAT.md.)"""
    with h5py.File(path, "r") as f:  # a plain open: no h5clear, no SWMR
        check_root(f)
        g = f["trajectory"]
        t, m, tr = g["t"][:], g["m"][:], g["traces"][:]
        for name, d in (("t", t), ("m", m), ("traces", tr)):
            check(len(d) >= min_rows, f"{name}: {len(d)} rows < {min_rows} flushed")
        k = np.arange(min_rows)
        check(np.array_equal(t[:min_rows], 0.1 * k), "t != 0.1 k")
        # numpy's sin and the C library's may differ in the last bit
        check(np.allclose(m[:min_rows], np.sin(0.1 * k), rtol=0, atol=1e-15), "m != sin(t)")
        expect = k[:, None] + np.arange(8)[None, :] / 1000.0
        check(tr.shape[1:] == (8,) and np.array_equal(tr[:min_rows], expect), "traces != k + i/1000")
        check(dim_names(g["traces"]) == ["t", "neuron"], f"traces dims {dim_names(g['traces'])}")
        check(dim_names(g["m"]) == ["t"], f"m dims {dim_names(g['m'])}")


def layout(path):
    with h5py.File(path, "r") as f:
        check_root(f)
        check_described(f)
        check(f.attrs["product"] == "simulate", "product")
        check(int(f.attrs["seed"]) == 18446744073709551557, f"seed {f.attrs['seed']}")
        check(f.attrs["status"] == "complete", "status")
        q = f["deepnet/q"]
        check(q.shape == (3, 4), f"q shape {q.shape}")
        check(dim_names(q) == ["sigma_w", "layer"], f"q dims {dim_names(q)}")
        check(q.attrs["description"] == "length q^l" and q.attrs["units"] == "1", "q attributes")
        check(np.array_equal(q[:], np.arange(12).reshape(3, 4) + 0.25), "q values")
        sw = f["deepnet/sigma_w"]
        check(text(sw.attrs["CLASS"]) == "DIMENSION_SCALE", "sigma_w is not a dimension scale")
        check(np.array_equal(sw[:], [0.5, 1.0, 1.5]), "sigma_w values")
        check(list(f["deepnet/labels"].asstr()[:]) == ["ordered", "chaotic", "é-unicode"], "labels")
        h = f["trajectory/h"]
        check(h.maxshape[0] is None, "series is not extendible")
        check(h.compression == "gzip" and h.shuffle, "series is not compressed with shuffle + deflate")
        check(dim_names(h) == ["t", "neuron"], f"h dims {dim_names(h)}")
        t = f["trajectory/t"][:]
        check(len(t) == h.shape[0] and t[-1] == 0.1 * (len(t) - 1), "t values")
        check(f["trajectory/t"].attrs["units"] == "leak time constants", "t units")
        # xarray (when installed) sees named dimensions.
        try:
            import xarray as xr
        except ImportError:
            xr = None
        if xr is not None:
            # (h5netcdf wants phony_dims for a dataset without coordinates, here `labels`.)
            for engine, kw in (("h5netcdf", {"phony_dims": "sort"}), ("netcdf4", {})):
                try:
                    ds = xr.open_dataset(path, group="deepnet", engine=engine, backend_kwargs=kw)
                except (ValueError, ImportError) as e:
                    if "unrecognized engine" in str(e) or isinstance(e, ImportError):
                        continue  # that backend is not installed
                    raise
                check(ds["q"].dims == ("sigma_w", "layer"), f"xarray ({engine}) dims {ds['q'].dims}")
                ds.close()
                print(f"xarray ({engine}) reads named dimensions")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    mode, path = sys.argv[1], sys.argv[2]
    try:
        if mode == "crash":
            crash(path, int(sys.argv[3]))
        elif mode == "layout":
            layout(path)
        else:
            print(f"unknown mode {mode}")
            return 2
    except Exception as e:  # an unreadable file is the failure we look for
        errors.append(f"{type(e).__name__}: {e}")
    if errors:
        print("\n".join(errors))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
