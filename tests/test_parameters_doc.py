"""The parameter reference ``docs/parameters.md`` is generated from the schema and kept current."""

from __future__ import annotations

import difflib

from start_sim.inputs import reference
from start_sim.inputs.schema import Scenario

from .conftest import ROOT

DOC = ROOT / "docs" / "parameters.md"


def test_parameters_doc_is_current():
    rendered = reference.render()
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if committed != rendered:
        diff = "".join(list(difflib.unified_diff(committed.splitlines(True), rendered.splitlines(True),
                                                 "docs/parameters.md (committed)", "from the schema", n=0))[:40])
        raise AssertionError(f"docs/parameters.md is stale (the schema changed); regenerate it with\n\n"
                             f"    .venv/bin/{reference.REGENERATE}\n\nand commit it. First differences:\n{diff}")


def test_every_field_is_in_the_reference():
    text = reference.render()
    for path, model in reference._sections():
        for name, info in model.model_fields.items():
            key = info.alias or name
            assert f"`{path + '.' if path else ''}{key}`" in text or (not path and f"## `{key}" in text), (path, key)


def test_rows_carry_unit_default_range_and_source():
    rows = {r["field"]: r for r in reference.rows_of("program", Scenario.model_fields["program"].annotation)}
    cap = rows["program.caseload_cap"]
    assert (cap["unit"], cap["default"], cap["allowed"]) == ("families per dyad", "13", "a whole number 1 to 50")
    assert cap["source"].startswith("KY-SOP-6.3") and "[" not in cap["description"]
    rows = {r["field"]: r for r in reference.rows_of("", Scenario)}
    assert rows["horizon_years"]["allowed"] == "a number more than 0, at most 50"
    assert rows["name"]["default"] == "required"


def test_labels_are_plain_words():
    assert reference.label("placement.rate_using") == "placement hazard while the parent uses, per year"
    assert reference.label("costs.placement_per_child_day.foster") == "maintenance per child-day (foster)"
    assert reference.label("discount rate") == "discount rate"
