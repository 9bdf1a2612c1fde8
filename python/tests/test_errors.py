"""Bad input raises ValueError with the CLI's one-line message; files that cannot be used raise
OSError; nothing is written."""
import os

import numpy as np
import pytest

import amari
from conftest import cli, options


def cli_message(*args):
    code, out, err = cli(*args, check=False)
    assert code == 2, (args, code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amari: "), err
    return lines[0][len("amari: "):]


# (command, keywords): each bad value raises the CLI's message for the same option.
BAD_VALUES = [
    ("maps", dict(sigma_w=-1)),
    ("maps", dict(phi="tanhh")),
    ("maps", dict(sigma_w="abc")),
    ("maps", dict(sigma_b=float("nan"))),
    ("meanfield", dict(t_end=-5)),
    ("dmft", dict(tau_max=-1)),
    ("meanfield", dict(times=[1, 2], t_end=3)),
    ("deepnet", dict(layers=0)),
    ("simulate", dict(stepper="rk5")),
    ("simulate", dict(n=1)),
    ("simulate", dict(dt_out=0.07, stepper="rk4", dt=0.05)),
    ("compare", dict(nets=1)),
    ("phase", dict(sigma_w="1:0:3")),
    ("edge", dict(sigma_b="0:1")),
]


@pytest.mark.parametrize("command,kw", BAD_VALUES)
def test_bad_value_is_the_cli_message(command, kw, tmp):
    os.chdir(tmp)
    extra = ["-o", "x.h5"] if command == "phase" else []
    want = cli_message(command, *options(**kw), *extra)
    with pytest.raises(ValueError) as e:
        getattr(amari, command)(quiet=True, **kw)
    assert str(e.value) == want
    assert os.listdir(tmp) == []


def test_unknown_keyword_with_did_you_mean():
    with pytest.raises(ValueError) as e:
        amari.maps(sigma_x=2.0)
    assert str(e.value) == "sigma_x: unknown parameter of `amari maps`; did you mean 'sigma_w'?"
    with pytest.raises(ValueError) as e:
        amari.simulate(outptu="x.h5")
    assert str(e.value) == "outptu: unknown parameter of `amari simulate`; did you mean 'output'?"
    with pytest.raises(ValueError) as e:
        amari.dmft(completely_wrong=1)
    assert str(e.value) == "completely_wrong: unknown parameter of `amari dmft`"


@pytest.mark.parametrize("command, keyword, option", [
    ("maps", "sigma_x", "--sigma-x"), ("simulate", "outptu", "--outptu"), ("dmft", "completely_wrong", "--completely-wrong"),
    ("deepnet", "layer", "--layer=3")])
def test_unknown_option_is_the_unknown_keyword_message(command, keyword, option, tmp):
    # The command line's unknown option and Python's unknown keyword: one message.
    os.chdir(tmp)
    with pytest.raises(ValueError) as e:
        getattr(amari, command)(**{keyword: 1})
    code, _, err = cli(command, option, *(["1"] if "=" not in option else []), check=False)
    assert code == 2
    assert err == "amari: %s (see `amari %s --help`)\n" % (e.value, command)
    assert os.listdir(tmp) == []


def test_unknown_keyword_hint_is_the_cli_config_hint(tmp):
    # The CLI says the same in a config file: the same closest name.
    cfg = tmp / "c.toml"
    cfg.write_text("sigma_x = 2.0\n")
    msg = cli_message("maps", "--config", cfg)
    assert msg.endswith("did you mean 'sigma_w'?"), msg


def test_wrong_kind_of_value():
    with pytest.raises(ValueError) as e:
        amari.simulate(n=[1, 2])
    assert str(e.value) == "n = 1,2: must be an integer"
    with pytest.raises(ValueError):
        amari.maps(phi=3)


def test_output_exists_is_oserror_unless_force(tmp):
    path = tmp / "m.h5"
    amari.maps(output=str(path))
    with pytest.raises(OSError) as e:
        amari.maps(output=str(path))
    assert str(e.value).startswith("output = %s: " % path)
    assert amari.maps(output=str(path), force=True)["output"] == str(path)


def test_output_directory_missing_is_oserror(tmp):
    with pytest.raises(OSError):
        amari.dmft(output=str(tmp / "no" / "such.h5"))


def test_h0_shape_nan_and_missing_file(tmp):
    os.chdir(tmp)
    with pytest.raises(ValueError) as e:
        amari.simulate(n=10, t_end=1, h0=np.zeros(11), quiet=True)
    assert str(e.value) == "h0 = an array of shape (11,): must have shape [10] or [1, 10] (n = 10, replicas = 1)"
    h = np.zeros(10)
    h[3] = np.nan
    with pytest.raises(ValueError) as e:
        amari.simulate(n=10, t_end=1, h0=h, quiet=True)
    assert "must be finite" in str(e.value)
    with pytest.raises(ValueError):
        amari.simulate(n=10, t_end=1, h0=np.zeros(10, dtype=complex), quiet=True)
    with pytest.raises(OSError):
        amari.simulate(n=10, t_end=1, h0="missing.h5:/trajectory/h_final", quiet=True)
    assert os.listdir(tmp) == []


def test_inspect_errors(tmp):
    with pytest.raises(OSError):
        amari.inspect(tmp / "missing.h5")
    (tmp / "not.h5").write_text("hello")
    with pytest.raises(ValueError):
        amari.inspect(tmp / "not.h5")


def test_numpy_scalars_are_numbers():
    a = amari.maps(sigma_w=2.0, sigma_b=0.3)
    assert amari.maps(sigma_w=np.float32(2.0), sigma_b=np.array(0.3))["chi_1"] == a["chi_1"]
    assert amari.deepnet(n=np.int64(30), layers=2, nets=2, quiet=True)["n"] == 30
    with pytest.raises(ValueError) as e:
        amari.deepnet(n=np.float64(30.5), quiet=True)
    assert str(e.value) == "n = 30.5: must be an integer"
