"""amari.maps, edge and phase: the CLI's --json key for key and bit for bit; the vectorised forms
equal the scalar calls point by point."""
import math

import numpy as np
import pytest

import amari
from conftest import ACTIVATIONS, cli_json, options, same

# Points of each phase: ordered, near the edge, chaotic, and sigma_b = 0 (relu/linear: collapse or
# divergence).
POINTS = [(0.8, 0.1), (1.5, 0.05), (2.5, 0.3), (1.2, 0.0), (4.0, 1.0)]


@pytest.mark.parametrize("phi", ACTIVATIONS)
def test_maps_equals_cli_json(phi):
    for sw, sb in POINTS:
        want = cli_json("maps", *options(phi=phi, sigma_w=sw, sigma_b=sb, all_fixed_points=True))
        got = amari.maps(phi=phi, sigma_w=sw, sigma_b=sb, all_fixed_points=True)
        same(got, want, "maps(%s, %s, %s)" % (phi, sw, sb))


def test_maps_defaults_are_the_cli_defaults():
    same(amari.maps(), cli_json("maps"))


@pytest.mark.parametrize("phi", ACTIVATIONS)
def test_vectorised_maps_equal_scalar_calls(phi):
    sw = np.linspace(0.5, 4.0, 9).reshape(3, 3)
    sb = np.array([0.0, 0.3, 1.0])  # broadcast along the last axis
    grid = amari.maps(phi=phi, sigma_w=sw, sigma_b=sb, quiet=True)
    assert grid["phi"] == amari.maps(phi=phi)["phi"]
    for i in range(3):
        for j in range(3):
            one = amari.maps(phi=phi, sigma_w=float(sw[i, j]), sigma_b=float(sb[j]))
            for k, v in one.items():
                if k == "phi":
                    continue
                a = grid[k][i, j]
                if v is None:
                    assert (a == -1) if grid[k].dtype.kind == "i" else math.isnan(a), (k, a)
                elif isinstance(v, str):
                    assert a == v, (k, a, v)
                else:
                    assert a == v, (k, i, j, a, v)  # bit for bit
            assert grid["sigma_w"].shape == (3, 3)


def test_vectorised_maps_scalar_sigma_b():
    sw = [1.0, 2.0, 3.0]
    g = amari.maps(sigma_w=sw, sigma_b=0.3)
    assert g["chi_1"].shape == (3,)
    assert list(g["sigma_b"]) == [0.3, 0.3, 0.3]
    assert [amari.maps(sigma_w=x, sigma_b=0.3)["chi_1"] for x in sw] == list(g["chi_1"])


def test_vectorised_maps_names_the_bad_point():
    with pytest.raises(ValueError) as e:
        amari.maps(sigma_w=np.array([1.0, -2.0]))
    with pytest.raises(ValueError) as e1:
        amari.maps(sigma_w=-2.0)
    assert str(e.value) == str(e1.value)


def test_phase_grids_equal_vectorised_maps_and_edge():
    d = amari.phase(sigma_w="0.5:3:6", sigma_b="0:1:4", quiet=True)
    assert d["q_star"].shape == (4, 6)
    g = amari.maps(sigma_w=d["sigma_w"][None, :], sigma_b=d["sigma_b"][:, None])
    for k in ("chi_1", "q_star"):
        np.testing.assert_array_equal(d[k], g[k])
    names = d["flag_meanings"]
    assert [[names[x] for x in row] for row in d["phase"]] == g["phase"].tolist()
    e = amari.edge(sigma_b=d["sigma_b"])
    np.testing.assert_array_equal(e["sigma_w"], d["edge_sigma_w"])


def test_edge_equals_cli_json():
    want = cli_json("edge", "--sigma-b", "0:1:5")
    got = amari.edge(sigma_b="0:1:5")
    assert [w["sigma_w"] for w in want] == list(got["sigma_w"])
    assert [w["sigma_b"] for w in want] == list(got["sigma_b"])
    one = cli_json("edge", "--phi", "erf", "--sigma-b", "0.3")
    got1 = amari.edge(phi="erf", sigma_b=0.3)
    assert (got1["phi"], got1["sigma_b"], got1["sigma_w"]) == (one["phi"], one["sigma_b"], one["sigma_w"])
    arr = amari.edge(sigma_b=np.array([[0.0, 0.25], [0.5, 1.0]]))
    assert arr["sigma_w"].shape == (2, 2)
    assert arr["sigma_w"][1, 1] == got["sigma_w"][4]
