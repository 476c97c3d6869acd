"""Golden master: two small scenarios' output files, pinned byte for byte.

A refactoring must leave them identical. A change that moves results on purpose regenerates
them (``python -m tests.golden.regenerate``) in a commit of its own that says why."""

from __future__ import annotations

import pytest

from tests.golden.regenerate import FILES, HERE, SCENARIOS, produce


@pytest.mark.parametrize("name", SCENARIOS)
def test_outputs_are_bit_identical_to_the_pinned_files(name, tmp_path):
    out = produce(name, tmp_path / name)
    for f in FILES:
        pinned = (HERE / name / f).read_bytes()
        assert (out / f).read_bytes() == pinned, f"{name}/{f} differs from the golden master"


def test_golden_scenarios_exercise_what_they_pin():
    """The pinned runs contain turnover, hiring steps and diverted families (else they pin little)."""
    import pandas as pd

    wf = pd.read_csv(HERE / "workforce" / "kpis.csv")
    dv = pd.read_csv(HERE / "divert" / "kpis.csv")
    assert (wf["vacancy_days"] > 0).all()
    assert (dv["families_diverted"] > 0).all()
