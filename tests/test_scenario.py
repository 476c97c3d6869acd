"""Scenario loading: readable errors for bad input, ``extends``, overrides, round trips.

The bad-input cases are files in ``tests/data/bad/``; each states the text its error must
contain in ``# expect:`` lines at the top, so a case reads as an example of the message.
``tests/test_cli.py`` runs the same files through ``start-sim run``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

import start_sim as ss
from start_sim.inputs.distributions import Fixed, Lognormal

from .conftest import ROOT

DATA = Path(__file__).resolve().parent / "data"
BAD = sorted((DATA / "bad").glob("*.toml"))
BUNDLED = sorted((ROOT / "scenarios").glob("*.toml"))


def expected_fragments(path: Path) -> list[str]:
    """The ``# expect: ...`` lines at the top of a bad-input fixture."""
    found = re.findall(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert found, f"{path.name} has no '# expect:' line"
    return found


def load_error(path: Path) -> ss.ScenarioError:
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(path)
    return info.value


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


COUNTY = '[[counties]]\nname = "A"\nreferrals_per_year = 24\ndyads = 2\n'


# --------------------------------------------------------------------------- bad input


def test_every_required_bad_case_has_a_fixture():
    required = {
        "unknown_key", "wrong_type", "negative_rate", "caseload_cap_zero", "probability_above_one",
        "missing_extends", "malformed", "unknown_dist", "dist_wrong_type", "county_errors", "extends_bad_parent",
        "extends_loop",
    }
    missing = required - {p.stem for p in BAD}
    assert not missing, f"bad-input fixtures missing from tests/data/bad: {sorted(missing)}"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_raises_one_clear_paragraph(path):
    """File, field path, value and what is allowed, all in one paragraph."""
    err = load_error(path)
    text = str(err)
    for fragment in expected_fragments(path):
        assert fragment in text, f"{path.name}: expected {fragment!r} in the message, got:\n{text}"
    assert "\n" not in text, f"{path.name}: the message should be one paragraph, got:\n{text}"
    assert err.file and text.startswith(f"{err.file}: "), f"{path.name}: message should start with the file: {text}"
    assert Path(err.file).name in {path.name} | {p.name for p in (DATA / "parts").glob("*.toml")}, (
        f"{path.name}: error names {err.file}, which is neither the file nor one it extends"
    )
    assert "Traceback" not in text and "pydantic" not in text, f"{path.name}: internals leak into: {text}"


def test_nonexistent_file(tmp_path):
    path = tmp_path / "no_such_scenario.toml"
    err = load_error(path)
    assert str(err).startswith(f"{path}: file not found"), str(err)


def test_nonexistent_file_suggests_a_near_name(tmp_path):
    write(tmp_path, "kentucky.toml", 'name = "k"\n' + COUNTY)
    err = load_error(tmp_path / "kentuky.toml")
    assert "did you mean" in str(err) and "kentucky.toml" in str(err), str(err)


def test_folder_instead_of_file(tmp_path):
    err = load_error(tmp_path)
    assert "this is a folder" in str(err), str(err)


def test_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "Bogot\xe1"\n'.encode("latin-1"))
    err = load_error(path)
    assert "not UTF-8" in str(err), str(err)


def test_scenario_error_is_a_value_error_with_problems():
    err = load_error(DATA / "bad" / "county_errors.toml")
    assert isinstance(err, ValueError)
    assert len(err.problems) == 2, f"expected 2 problems, got {err.problems}"
    assert err.problems[0] in str(err) and err.problems[1] in str(err)


def test_self_extends_is_a_loop(tmp_path):
    path = write(tmp_path, "me.toml", 'extends = "me.toml"\nname = "me"\n' + COUNTY)
    err = load_error(path)
    assert "makes a loop (me.toml -> me.toml)" in str(err), str(err)


# --------------------------------------------------------------------------- extends


def test_extends_merges_tables_and_counties_by_name(tmp_path):
    write(
        tmp_path,
        "base.toml",
        'name = "base"\nhorizon_years = 4\n[program]\ncaseload_cap = 12\nmax_wait_days = 20\n'
        'service_days = {dist = "lognormal", mean = 400, sd = 100}\n'
        "[recovery.substance_recovery_multiplier]\nopioids = 0.5\nmethamphetamine = 0.6\nalcohol = 0.7\nother = 0.8\n"
        '[[counties]]\nname = "A"\nreferrals_per_year = 10\ndyads = 1\n'
        '[[counties]]\nname = "B"\nreferrals_per_year = 20\ndyads = 2\n',
    )
    child = write(
        tmp_path,
        "child.toml",
        'extends = "base.toml"\nname = "child"\n[program]\ncaseload_cap = 15\nservice_days = {mean = 500}\n'
        "[recovery.substance_recovery_multiplier]\nalcohol = 1.5\n"
        '[[counties]]\nname = "C"\nreferrals_per_year = 30\ndyads = 3\n',
    )
    s = ss.load_scenario(child)
    assert s.name == "child" and s.horizon_years == 4
    assert s.program.caseload_cap == 15, "child's value should win"
    assert s.program.max_wait_days == 20, "a key the child leaves out keeps the base's value"
    assert s.program.service_days == Lognormal(dist="lognormal", mean=500, sd=100), (
        f"a distribution table without 'dist' changes only the keys it gives: {s.program.service_days}"
    )
    m = s.recovery.substance_recovery_multiplier
    assert (m.opioids, m.methamphetamine, m.alcohol, m.other) == (0.5, 0.6, 1.5, 0.8), f"nested tables merge: {m}"
    assert [c.name for c in s.counties] == ["A", "B", "C"], "a county of a new name is added to the base's"


def test_extends_replaces_a_distribution_given_with_dist(tmp_path):
    write(tmp_path, "base.toml", 'name = "b"\n[program]\nservice_days = {dist = "lognormal", mean = 400, sd = 100}\n' + COUNTY)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[program]\nservice_days = {dist = "fixed", value = 90}\n')
    assert ss.load_scenario(child).program.service_days == Fixed(dist="fixed", value=90)


def test_chain_of_extends_across_folders(tmp_path):
    write(tmp_path, "root.toml", 'name = "root"\ndescription = "from root"\nhorizon_years = 3\n' + COUNTY)
    write(tmp_path, "mid/mid.toml", 'extends = "../root.toml"\nname = "mid"\nhorizon_years = 6\n[program]\ncaseload_cap = 10\n')
    leaf = write(tmp_path, "mid/leaf/leaf.toml", 'extends = "../mid.toml"\nname = "leaf"\n[program]\nmax_wait_days = 7\n')
    s = ss.load_scenario(leaf)
    got = (s.name, s.description, s.horizon_years, s.program.caseload_cap, s.program.max_wait_days)
    assert got == ("leaf", "from root", 6, 10, 7), f"values from each level of the chain: {got}"


def test_error_two_levels_up_names_the_file_that_set_it(tmp_path):
    write(tmp_path, "root.toml", 'name = "root"\n[placement]\nrate_using = -0.4\n' + COUNTY)
    write(tmp_path, "mid.toml", 'extends = "root.toml"\nname = "mid"\n')
    leaf = write(tmp_path, "leaf.toml", 'extends = "mid.toml"\nname = "leaf"\n')
    text = str(load_error(leaf))
    assert text.startswith(f"{leaf}: "), text
    assert f"placement.rate_using (set in {tmp_path / 'root.toml'}, reached by 'extends') = -0.4" in text, text


# --------------------------------------------------------------------------- with_changes


def test_with_changes_returns_a_new_validated_scenario(small):
    before = small.to_dict()
    variant = small.with_changes({"counties.0.dyads": 6, "program.caseload_cap": 10})
    assert variant is not small and isinstance(variant, ss.Scenario)
    assert (variant.counties[0].dyads, variant.program.caseload_cap) == (6, 10)
    assert small.to_dict() == before, "with_changes must leave the original unchanged"
    assert variant.with_changes({"counties.0.dyads": 2, "program.caseload_cap": 13}) == small


def test_scenarios_are_frozen(small):
    with pytest.raises(ValidationError):
        small.name = "other"
    with pytest.raises(ValidationError):
        small.counties[0].dyads = 9
    with pytest.raises(ValidationError):
        small.program.service_days.mean_ = 3


def test_with_changes_merges_a_table_value(small):
    variant = small.with_changes({"program": {"caseload_cap": 5}})
    assert variant.program.caseload_cap == 5
    assert variant.program.max_wait_days == small.program.max_wait_days, "other keys of the table are kept"


def test_with_changes_replaces_a_distribution(small):
    variant = small.with_changes({"program.service_days": {"dist": "fixed", "value": 100}})
    assert variant.program.service_days == Fixed(dist="fixed", value=100)


@pytest.mark.parametrize(
    ("changes", "fragments"),
    [
        ({"counties.0.dyads": -1}, ["override: invalid scenario", "counties.0.dyads (county 'A') = -1", "0 or more"]),
        ({"program.caseload_cap": 0}, ["program.caseload_cap = 0", "must be 1 or more"]),
        ({"treatment.uptake_usual": 2}, ["treatment.uptake_usual = 2", "from 0 to 1"]),
        ({"program.caseload_capp": 3}, ["program.caseload_capp is not a known key", "did you mean 'caseload_cap'?"]),
        ({"progam.caseload_cap": 3}, ["progam is not a known key", "did you mean 'program'?"]),
        ({"counties.4.dyads": 3}, ["counties.4", "the list has 1 item"]),
        ({"counties.x.dyads": 3}, ["counties.x", "numbered from 0"]),
        ({"program.caseload_cap.x": 3}, ["program.caseload_cap.x", "is a value (13), not a table"]),
        ({"program.service_days": {"dist": "weibull"}}, ['program.service_days.dist = "weibull" is not a known']),
        ({"counties.0.treatment_slots.residential": 3}, ["counties.0.treatment_slots is not set"]),
    ],
    ids=lambda v: str(v)[:40],
)
def test_invalid_override_names_the_path(small, changes, fragments):
    with pytest.raises(ss.ScenarioError) as info:
        small.with_changes(changes)
    text = str(info.value)
    for fragment in fragments:
        assert fragment in text, f"expected {fragment!r} in: {text}"
    assert text.startswith("override: ") and "\n" not in text, text


def test_with_changes_needs_a_dict(small):
    with pytest.raises(ss.ScenarioError, match="changes must be a dict"):
        small.with_changes([("counties.0.dyads", 3)])


# --------------------------------------------------------------------------- round trips and bundled files


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenario_loads_and_round_trips(path):
    s = ss.load_scenario(path)
    assert s.counties, f"{path.name} has no counties"
    again = ss.Scenario.model_validate(s.to_dict())
    assert again == s, f"{path.name}: Scenario.model_validate(s.to_dict()) differs from s"
    assert again.to_dict() == s.to_dict()


def test_variant_round_trips(kentucky):
    v = kentucky.with_changes({"counties.1.dyads": 9, "families.children": {"dist": "empirical", "values": [3, 1, 2]}})
    assert ss.Scenario.model_validate(v.to_dict()) == v
    assert v.families.children.values == [1, 2, 3], "discrete empirical values are kept sorted"


def test_validate_in_file_is_strict_but_overrides_take_python_numbers(small):
    import numpy as np

    v = small.with_changes({"counties.0.dyads": np.int64(4), "counties.0.referrals_per_year": np.float64(12.5)})
    assert (v.counties[0].dyads, v.counties[0].referrals_per_year) == (4, 12.5)


def test_toml_writer_quotes_keys_that_are_not_bare():
    """County names with spaces are table keys (a provider's referral_days): written in quotes,
    they read back."""
    import tomllib

    from start_sim.core.dotted import toml_inline

    text = "referral_days = " + toml_inline({"County 02": 3.0, "Boyd": 1.0})
    assert tomllib.loads(text) == {"referral_days": {"County 02": 3.0, "Boyd": 1.0}}
