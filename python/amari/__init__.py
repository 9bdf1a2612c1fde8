"""amari: statistical dynamics of random neural networks, in Python.

One function per command of the `amari` tool -- simulate, meanfield, dmft, maps, edge, phase,
deepnet, compare, inspect. Their keyword arguments are the command's TOML keys (the same names,
defaults, units and checks: they come from the library's parameter tables), and they return a dict
whose keys are the JSON keys of `amari <command> --json` (numpy arrays for lists; None where the
JSON has null). `output="run.h5"` also writes the file the CLI writes. See docs/python.md.

    >>> import amari
    >>> amari.maps(sigma_w=2.5, sigma_b=0.3)["chi_1"]
"""
import os as _os

# OpenMP threads that wait for work spin by default, taking the cores from the working threads of
# a second process (measured in src/cli/main.cpp). libgomp reads its policy once, when it is
# loaded -- with the extension below, unless another module loaded it first -- so the choice is
# made here, before the import, and only when the user made none.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

import inspect as _inspect  # noqa: E402

import numpy as _np  # noqa: E402

from . import _amari  # noqa: E402
from ._files import File, open  # noqa: E402,A004

__all__ = ["simulate", "meanfield", "dmft", "maps", "edge", "phase", "deepnet", "compare", "finite", "network", "sweep",
           "inspect", "open", "File",
           "parameters", "NumericalError", "__version__"]

__version__ = _amari.version()
NumericalError = _amari.NumericalError

# The front-end keywords of each command besides its table (vocabulary entries of role
# front_end), as the CLI declares them; `quiet` and `progress` belong to Python.
_FRONT = {
    "simulate": ("h0", "weights", "bias", "output", "force", "resume"),
    "meanfield": ("output", "force"),
    "dmft": ("output", "force"),
    "maps": ("all_fixed_points", "output", "force"),
    "edge": (),
    "phase": ("output", "force"),
    "deepnet": ("output", "force"),
    "compare": ("output", "force"),
    "finite": ("output", "force"),
    "network": (),
}
_FRONT_DEFAULTS = {"h0": None, "weights": None, "bias": None, "output": None, "force": False, "resume": None, "all_fixed_points": False}


def parameters(command):
    """The keywords of `command`: a list of dicts (name, kind, unit, help, role, default), in the
    order of the command's parameter table (the CLI's `--help` order)."""
    return _amari.parameters(command)


def _shown(v):
    if isinstance(v, _np.ndarray):
        return "<array %s %s>" % (v.dtype, v.shape)
    return repr(v)


def _call_text(name, kwargs):
    return "python: amari.%s(%s)" % (name, ", ".join("%s=%s" % (k, _shown(v)) for k, v in kwargs.items()))


class _Progress:
    """The progress callback of one call: the user's callable, or a tqdm bar when tqdm is installed
    (shown after 2 s, like the CLI's bar), or nothing with quiet=True or progress=False."""

    def __init__(self, label, quiet, progress):
        self.bar = None
        self.callback = None
        if quiet or progress is False:
            return
        if callable(progress):
            self.callback = progress
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self.bar = tqdm(desc="amari " + label, total=1.0, delay=2.0, leave=False)

        def update(done, total):
            self.bar.total = total
            self.bar.n = done
            self.bar.refresh()

        self.callback = update

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _strip(kwargs):
    """The keywords with their Python defaults left out (None for output, h0, resume)."""
    return {k: v for k, v in kwargs.items() if not (k in _FRONT_DEFAULTS and v is None)}


def _run(label, fn, kwargs, quiet, progress, *args):
    p = _Progress(label, quiet, progress)
    try:
        return fn(_strip(kwargs), *args, p.callback)
    finally:
        p.close()


def _signature(command, extra=()):
    params = []
    for e in _amari.parameters(command):
        params.append(_inspect.Parameter(e["name"], _inspect.Parameter.KEYWORD_ONLY, default=e["default"]))
    for name in _FRONT[command]:
        params.append(_inspect.Parameter(name, _inspect.Parameter.KEYWORD_ONLY, default=_FRONT_DEFAULTS[name]))
    for name, default in (("quiet", False), ("progress", None)) + tuple(extra):
        params.append(_inspect.Parameter(name, _inspect.Parameter.KEYWORD_ONLY, default=default))
    return _inspect.Signature(params)


def _doc(command, summary):
    lines = [summary, "", "Keyword arguments (the TOML keys of `amari %s`):" % command]
    for e in _amari.parameters(command):
        unit = " [%s]" % e["unit"] if e["unit"] else ""
        lines.append("  %s = %r: %s%s" % (e["name"], e["default"], e["help"], unit))
    for name in _FRONT[command]:
        e = _amari.vocabulary_entry(name)
        lines.append("  %s: %s" % (name, e["help"]))
    lines.append("  quiet: no progress bar")
    lines.append("  progress: a callable progress(done, total), or False for none")
    lines.append("")
    lines.append("Returns a dict named like the JSON of `amari %s --json` (docs/python.md)." % command)
    return "\n".join(lines)


def _command(command, summary, body):
    def f(**kwargs):
        quiet = kwargs.pop("quiet", False)
        progress = kwargs.pop("progress", None)
        return body(kwargs, quiet, progress)

    f.__name__ = f.__qualname__ = command
    f.__signature__ = _signature(command)
    f.__doc__ = _doc(command, summary)
    return f


def _simulate(kwargs, quiet, progress):
    return _run("simulate", _amari.simulate, kwargs, quiet, progress, _call_text("simulate", kwargs))


def _product(name):
    def body(kwargs, quiet, progress):
        return _run(name, getattr(_amari, name), kwargs, quiet, progress, _call_text(name, kwargs))
    return body


def _is_array(v):
    return not isinstance(v, (str, bytes)) and _np.ndim(v) > 0


def _maps(kwargs, quiet, progress):
    arrays = [k for k in ("sigma_w", "sigma_b") if _is_array(kwargs.get(k))]
    if not arrays:
        return _amari.maps(_strip(kwargs), _call_text("maps", kwargs))
    for k in ("output", "all_fixed_points"):
        if kwargs.get(k):
            raise ValueError("%s: amari.maps over arrays of points returns arrays only (an output file holds "
                             "one point; amari.phase writes a grid)" % k)
    values = _np.broadcast_arrays(*[_np.asarray(kwargs[k], dtype=_np.float64) for k in arrays])
    shape = values[0].shape
    scalars = {k: v for k, v in _strip(kwargs).items() if k not in arrays and k not in ("output", "all_fixed_points")}
    points = {k: _np.ascontiguousarray(v).ravel() for k, v in zip(arrays, values)}
    p = _Progress("maps", quiet, progress)
    try:
        return _amari.maps_points(scalars, points, list(shape), p.callback)
    finally:
        p.close()


def _edge(kwargs, quiet, progress):
    sb = kwargs.get("sigma_b")
    p = _Progress("edge", quiet, progress)
    try:
        if not _is_array(sb):
            return _amari.edge(_strip(kwargs), None, p.callback)
        a = _np.asarray(sb, dtype=_np.float64)
        rest = {k: v for k, v in _strip(kwargs).items() if k != "sigma_b"}
        out = _amari.edge(rest, _np.ascontiguousarray(a).ravel(), p.callback)
        for k in ("sigma_b", "sigma_w", "q_star"):
            out[k] = out[k].reshape(a.shape)
        return out
    finally:
        p.close()


simulate = _command("simulate", "Simulate a finite random rate network dh/dt = -h + W phi(h) + b "
                    "(`amari simulate`): the samples in memory (t, m, q, q2, phi_mean, h, ...), "
                    "the summary of --json, and with output= the CLI's file.", _simulate)
meanfield = _command("meanfield", "Amari's order-parameter equations for (m, q) and their fixed points "
                     "(`amari meanfield`).", _product("meanfield"))
dmft = _command("dmft", "The SCS dynamic mean-field theory: the autocorrelation Delta(tau) "
                "(`amari dmft`).", _product("dmft"))
maps = _command("maps", "Deep-network mean-field maps (`amari maps`): q*, c*, chi_1, depth scales, phase. "
                "sigma_w and sigma_b may be arrays: they broadcast like numpy, and every key comes back "
                "as an array of their shape (computed in C++ over the points, using the cores).", _maps)
edge = _command("edge", "The edge of chaos chi_1 = 1 (`amari edge`): sigma_w at sigma_b, which may be a "
                "number, a range 'start:stop:count' or an array.", _edge)
phase = _command("phase", "The phase diagram over a (sigma_w, sigma_b) grid (`amari phase`): 2-D arrays "
                 "[sigma_b, sigma_w] with the axes sigma_w and sigma_b.", _product("phase"))
deepnet = _command("deepnet", "Finite-width random deep networks beside the maps (`amari deepnet`).",
                   _product("deepnet"))
compare = _command("compare", "The time and depth pictures side by side (`amari compare`).",
                   _product("compare"))

finite = _command("finite", "The 1/n corrections of deep random networks at finite width (`amari finite`): "
                  "K, var_q, kurtosis, mean_shift, V, G1 and the two-input keys over the layers.",
                  _product("finite"))


def _network(kwargs, quiet, progress):
    return _amari.network(_strip(kwargs))


network = _command("network", "The W (N x N) and b (N) that `amari.simulate` draws for (seed, draw), as "
                   "numpy arrays (`amari network`): simulate(weights=W, bias=b, ...) with them reproduces "
                   "the drawn run bit for bit.", _network)


def _option_text(name, v):
    """An option's value as the CLI's text: a list, tuple, range or 1-D array is an axis `a,b,c`;
    a string passes through (so "1:2:5" is a range); a number or flag is one value. Floats are
    written with repr, which reads back as the same double."""
    def one(x):
        if isinstance(x, str):
            return x
        if isinstance(x, (bool, _np.bool_)):
            return "true" if x else "false"
        if isinstance(x, (int, _np.integer)):
            return str(int(x))
        if isinstance(x, (float, _np.floating)):
            return repr(float(x))
        raise ValueError("%s = %s: must be a number, a text, a flag, or a list of them (an axis)" % (name, _shown(x)))

    if isinstance(v, (list, tuple, range, _np.ndarray)):
        items = list(v.ravel()) if isinstance(v, _np.ndarray) and v.ndim == 1 else v
        if isinstance(v, _np.ndarray) and v.ndim != 1:
            raise ValueError("%s = %s: an axis must be one-dimensional; accepted: a list, tuple, range or 1-D "
                             "array of values" % (name, _shown(v)))
        if len(items) == 0:
            raise ValueError("%s = %s: an axis needs at least one value; accepted: a list, tuple, range or 1-D "
                             "array of values" % (name, _shown(v)))
        return ",".join(one(x) for x in items)
    return one(v)


def sweep(command=None, output=None, force=False, resume=None, keep=False, quiet=False, progress=None, **options):
    """Run a command over the Cartesian grid of its options (`amari sweep`, docs/sweep.md).

    command: simulate, meanfield, dmft, maps, deepnet or finite. **options: its keywords (the TOML
    keys); a list, tuple, range or 1-D numpy array is an axis, a string is the CLI's text (so
    "1:2.5:4" is a range and "tanh,erf" a list), a number is one value. The options are parsed
    exactly as the CLI parses `amari sweep COMMAND --option ...`, so a file's sweep resumes the same
    in either.

    output: the sweep's HDF5 file (/sweep, docs/FORMAT.md); without it the sweep runs in a
    temporary file that is removed before the call returns. force: overwrite output. resume: the
    file of an interrupted sweep: runs the points not yet complete (command may be left out; no
    options). keep: also store each point's full product, what the command alone writes, in the
    file (/sweep/points/<k>/product, docs/FORMAT.md; with output=).
    quiet, progress: as for the other commands (progress counts points, fractions within one).

    Returns a dict named like `amari sweep --json`: command, dims (the axis names in order), axes
    {name: numpy array}, points, done, and every result as a numpy array over [axes..., its own
    axes] (with a seed axis also <result>_mean_over_seed and <result>_sem_over_seed); text results
    are object arrays of str (None where a point has none). With output= or resume=, also output.
    ValueError for bad input, with the CLI's message, before anything runs."""
    args = []
    for name, v in options.items():
        args += ["--" + name.replace("_", "-"), _option_text(name, v)]
    call = dict(options)
    for k, v in (("output", output), ("force", force), ("resume", resume), ("keep", keep)):
        if v:
            call[k] = v
    text = "python: amari.sweep(%s)" % ", ".join(
        ([repr(command)] if command is not None else []) + ["%s=%s" % (k, _shown(v)) for k, v in call.items()])
    p = _Progress("sweep", quiet, progress)
    try:
        return _amari.sweep(command or "", args, _os.fspath(output) if output else "", bool(force),
                            _os.fspath(resume) if resume else "", bool(keep), text, p.callback)
    finally:
        p.close()


def inspect(file):
    """What an amari HDF5 file holds (`amari inspect FILE --json`), as a dict: root attributes,
    objects, and a summary of each product. OSError when the file cannot be read, ValueError when it
    is not an amari file."""
    return _amari.inspect(_os.fspath(file))
