"""data/amari.ipynb runs end to end (nbclient, the python3 kernel of this interpreter): any error
in any cell fails the test, so the notebook cannot rot."""
import os
import pathlib
import sys

import pytest

SOURCE = pathlib.Path(os.environ.get("AMARI_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))


def test_notebook_runs(tmp):
    import nbclient
    import nbformat
    nb = nbformat.read(SOURCE / "data" / "amari.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "points per phase" in text and "DMFT Delta_0" in text and "maps: q*" in text
