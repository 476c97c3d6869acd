"""The bundled scenarios load and run, and the results have the promised shape."""

from __future__ import annotations

import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.metrics.registry import kpi_columns

from .conftest import ROOT


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")), ids=lambda p: p.name)
def test_bundled_scenarios_validate(path):
    assert ss.load_scenario(path).counties


def test_run_has_every_kpi_column(small):
    res = run(small, replications=2, seed=3)
    missing = set(kpi_columns()) - set(res.kpis.columns)
    assert not missing, f"KPI columns missing from kpis: {sorted(missing)}"
    assert list(res.kpis["replication"]) == [0, 1]
    assert {"mean", "ci_low", "ci_high"} <= set(res.summary().columns)
    assert {"caseload", "waitlist", "county", "month"} <= set(res.timeseries.columns)
    assert len(res.families) == res.kpis["families_referred"].sum()
