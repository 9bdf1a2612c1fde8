"""amari.open: an amari HDF5 file, read-only, with named dimensions (docs/python.md, "Files").

The file's layout is docs/FORMAT.md: every product is a group; every dataset names its axes by
dimension scales (coordinates) in the same group or an ancestor. `File.to_xarray(group)` turns one
group into an xarray.Dataset with those names, for users who have xarray.
"""
import os as _os

from . import _amari

# The group that holds the product's main results, where it is not named after the product.
_MAIN_GROUP = {"simulate": "/trajectory"}


class File:
    """An amari HDF5 file opened for reading: ``amari.open(path)``.

    ``attrs`` are the root attributes (amari_version, product, status, config, ...);
    ``f["/trajectory/q"]`` reads a dataset as a numpy array (a text dataset as a list of str, a
    scalar as a numpy 0-d array); ``groups()`` and ``datasets(group)`` list what is there (the
    resume state, /checkpoint, is left out); ``info(path)`` gives an object's type, shape, dims and
    attributes; ``to_xarray(group)`` gives a group as an xarray.Dataset. Data are read when asked
    for. OSError when the file cannot be read, ValueError when it is not an amari file (or is of a
    newer format version).
    """

    def __init__(self, path):
        self._reader = _amari._FileReader(_os.fspath(path))
        self.path = self._reader.path
        self.attrs = self._reader.root_attributes()
        self._objects = {o["path"]: o for o in self._reader.objects()}

    # -- listing ---------------------------------------------------------------------------------
    @property
    def product(self):
        """The command that wrote the file ("simulate", "maps", "sweep", ...)."""
        return self.attrs.get("product")

    def groups(self):
        """The paths of every group, depth first ("/trajectory", "/meanfield", ...)."""
        return [p for p, o in self._objects.items() if o["group"]]

    def datasets(self, group=None):
        """The paths of the datasets directly in `group` (default: every dataset of the file)."""
        if group is None:
            return [p for p, o in self._objects.items() if not o["group"]]
        g = self._group_path(group)
        return [p for p, o in self._objects.items() if not o["group"] and _parent(p) == g]

    def info(self, path):
        """The object at `path`: a dict of path, group, type, shape, dims, scale and attrs."""
        return dict(self._objects[self._path(path)])

    def __contains__(self, path):
        return path in self._objects

    def __iter__(self):
        return iter(self.datasets())

    def __getitem__(self, path):
        return self._reader.read(self._path(path))

    def __repr__(self):
        return "<amari.File %r: %s, %s>" % (self.path, self.product, self.attrs.get("status"))

    # -- xarray ----------------------------------------------------------------------------------
    def main_group(self):
        """The group of the product's main results: /trajectory for simulate, /<product> otherwise."""
        g = _MAIN_GROUP.get(self.product, "/" + str(self.product))
        if g not in self._objects:
            raise ValueError("group = (default): %s has no group %s; accepted: one of %s"
                             % (self.path, g, ", ".join(self.groups())))
        return g

    def to_xarray(self, group=None):
        """The datasets directly in `group` (default: main_group()) as an xarray.Dataset.

        Coordinates are the dimension scales the datasets name (from the group or an ancestor);
        a dimension without a scale is named "<dataset>_dim<k>". Data variables are the other
        datasets; a text dataset becomes an array of str. Attributes: the group's, and each
        dataset's (description, units, ...); the file's root attributes, prefixed ``file_``
        (file_product, file_status, ...). Needs xarray (ImportError naming it otherwise).
        """
        try:
            import xarray as xr
        except ImportError as e:  # pragma: no cover - the message is the point
            raise ImportError("amari.File.to_xarray needs xarray (Debian: apt install python3-xarray)") from e
        import numpy as np

        g = self.main_group() if group is None else self._group_path(group)
        coords, data = {}, {}

        def dims_of(path, o):
            return tuple(d if d is not None else "%s_dim%d" % (_name(path), k) for k, d in enumerate(o["dims"]))

        def add_coord(name, at):
            # The scale `name` of the group at `at` or its nearest ancestor that has one.
            here = at
            while True:
                p = (here.rstrip("/") + "/" + name) if here != "/" else "/" + name
                o = self._objects.get(p)
                if o is not None and o["scale"]:
                    coords[name] = (name, np.asarray(self._reader.read(p)), _attrs(o))
                    return
                if here == "/":
                    return
                here = _parent(here)

        for p in self.datasets(g):
            o = self._objects[p]
            if o["scale"]:
                add_coord(_name(p), g)
                continue
            value = self._reader.read(p)
            if isinstance(value, (list, str)):
                value = np.asarray(value, dtype=str)
            data[_name(p)] = (dims_of(p, o), value, _attrs(o))
        for _, (dims, _, _) in list(data.items()):
            for d in dims:
                if d not in coords:
                    add_coord(d, g)
        attrs = _attrs(self._objects[g]) if g != "/" else {}
        for k, v in self.attrs.items():
            attrs["file_" + k] = v
        return xr.Dataset(data_vars=data, coords=coords, attrs=attrs)

    # -- lifetime --------------------------------------------------------------------------------
    def close(self):
        self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # -- paths -----------------------------------------------------------------------------------
    def _path(self, path):
        path = _os.fspath(path)
        if not path.startswith("/"):
            path = "/" + path
        if path not in self._objects:
            raise KeyError("%s: not in %s; accepted: one of %s" % (path, self.path, ", ".join(self.datasets())))
        return path

    def _group_path(self, group):
        g = group if group.startswith("/") else "/" + group
        g = g.rstrip("/") or "/"
        if g != "/" and not (g in self._objects and self._objects[g]["group"]):
            raise ValueError("group = %s: not a group of %s; accepted: one of %s"
                             % (group, self.path, ", ".join(self.groups())))
        return g


def _parent(path):
    return path.rsplit("/", 1)[0] or "/"


def _name(path):
    return path.rsplit("/", 1)[1]


def _attrs(o):
    # Attributes xarray can hold (None is left out: netCDF has no null).
    return {k: v for k, v in o["attrs"].items() if v is not None}


def open(path):  # noqa: A001 - amari.open, as the issue and docs/python.md name it
    """Opens an amari HDF5 file for reading: an amari.File (see its help)."""
    return File(path)
