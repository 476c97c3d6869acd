"""The guide's notebooks run from top to bottom, with tiny replication and draw counts.

Each notebook reads ``START_SIM_NB_REPLICATIONS`` (and 04 ``START_SIM_NB_DRAWS``) for its
counts, with realistic defaults when a planner runs it; the test sets them small so that each
notebook runs in well under a minute.
"""

from __future__ import annotations

import nbformat
import pytest

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
FIGURES = {  # notebook -> figures it must show
    "01_quickstart.ipynb": 3,
    "02_size_a_county.ipynb": 1,
    "03_mentor_hiring_plans.ipynb": 1,
    "04_savings_and_uncertainty.ipynb": 3,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FIGURES))
def test_notebook_runs(name, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("START_SIM_NB_REPLICATIONS", "3")
    monkeypatch.setenv("START_SIM_NB_DRAWS", "4")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel shows figures inline
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"cells raised: {[e['ename'] + ': ' + e['evalue'] for e in errors]}"
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert images >= FIGURES[name], f"expected the notebook's {FIGURES[name]} figures, got {images}"


def test_every_notebook_is_tested():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(FIGURES)


def test_notebooks_are_stored_without_outputs():
    """Outputs belong to a run, not to the repository (and would go stale with the model)."""
    for name in FIGURES:
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name
