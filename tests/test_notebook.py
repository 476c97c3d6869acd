"""The quick-start notebook runs from top to bottom (few replications)."""

from __future__ import annotations

import os

import pytest

from .conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "01_quickstart.ipynb"


@pytest.mark.slow
def test_quickstart_notebook_runs(monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="install the dev extra: pip install -e '.[dev]'")
    from nbclient import NotebookClient

    monkeypatch.setenv("START_SIM_NB_REPLICATIONS", "3")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel shows figures inline
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"cells raised: {[e['ename'] + ': ' + e['evalue'] for e in errors]}"
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert images >= 3, f"expected the notebook's three figures, got {images}"
    assert os.environ["START_SIM_NB_REPLICATIONS"] == "3"
