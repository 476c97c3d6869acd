"""Bounds from the domain, the pre-run feasibility check, no silent changes, and readable
messages for every input file (scenario, targets, posterior).

Bad scenario files live in ``tests/data/bad/`` (``bound_*``, ``cannot_end_*``,
``infeasible_memory``, ``duplicate_county_names*``, ``children_*``, ``dist_overflow``,
``dist_spread``): ``tests/test_scenario.py`` checks their messages and
``tests/test_cli.py`` their exit status 2 through ``start-sim run``.
"""

from __future__ import annotations

import datetime
import math
import os
import tracemalloc
import warnings
from pathlib import Path

import pytest

import start_sim as ss
from start_sim import cli
from start_sim.core.dotted import show
from start_sim.core.errors import ScenarioWarning
from start_sim.inputs.caseload import caseload_slots
from start_sim.inputs.feasibility import MAX_EVENTS, check_feasible, estimate
from start_sim.inputs.files import validate
from start_sim.inputs.posterior import load_posterior
from start_sim.inputs.targets import load_targets
from start_sim.sim.replication import county_families

from .conftest import ROOT

BAD = ROOT / "tests" / "data" / "bad"
COUNTY = '[[counties]]\nname = "A"\nreferrals_per_year = 24\ndyads = 2\n'
BUNDLED = sorted([*(ROOT / "scenarios").glob("*.toml"), *(ROOT / "tests" / "golden").glob("*.toml")])


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- bounds and feasibility


def test_oversized_scenario_is_refused_before_any_allocation():
    """350 million families: refused by the estimate, with a few MB allocated at most."""
    tracemalloc.start()
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(BAD / "infeasible_memory.toml")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak / 2**20:.0f} MB allocated before refusing"
    assert "GiB of memory" in str(info.value) and "referrals_per_year" in str(info.value)


def test_events_of_staff_turnover_and_hiring_are_counted():
    """Each value within its bound, but 2,000 posts a month turning over 5 times a year cannot end."""
    hiring = [{"day": 30 * k, "caseworkers": 2000, "mentors": 2000} for k in range(100)]
    data = dict(name="churn", horizon_years=10, counties=[{"name": "A", "referrals_per_year": 24, "dyads": 2,
                                                          "hiring": hiring}])
    calm = validate(data)
    assert estimate(calm)[1] < MAX_EVENTS
    with pytest.raises(ss.ScenarioError, match=r"events .*most in counties.0 \(county 'A'\).*staff turnover"):
        validate({**data, "workforce": {"caseworker_turnover_per_year": 5, "mentor_turnover_per_year": 5,
                                       "hiring_lag_days": {"dist": "fixed", "value": 0},
                                       "training_days": {"dist": "fixed", "value": 0}}})


def test_estimate_of_families_matches_a_simulated_replication(kentucky):
    families, events, bytes_ = estimate(kentucky)
    drawn = sum(len(county_families(kentucky, k, 1, 0)) / c.eligible_share for k, c in enumerate(kentucky.counties))
    assert families == pytest.approx(drawn, rel=0.1)
    assert events > 2 * families and bytes_ > 1000 * families


def test_replications_kept_raise_the_memory_estimate(kentucky):
    assert estimate(kentucky, 50)[2] > estimate(kentucky, 1)[2]
    check_feasible(kentucky, 1)
    with pytest.raises(ss.ScenarioError, match="x 10000000 replications kept"):
        check_feasible(kentucky, 10_000_000)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_bundled_scenarios_load_without_errors_or_warnings(path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss.load_scenario(path)


def test_every_bound_has_its_reason_in_the_message():
    with pytest.raises(ss.ScenarioError, match=r"must be 50 or less \(START caps a dyad at 12-15"):
        validate({"name": "x", "counties": [{"name": "A", "referrals_per_year": 1, "dyads": 1}],
                  "program": {"caseload_cap": 500}})


@pytest.mark.parametrize("path", ["start.mentor_recovery_multiplier", "start.safety_planning_casework_multiplier",
                                  "recovery.moud_recovery_multiplier",
                                  "placement.reunification_multiplier_after_hearing"])
def test_effect_multipliers_are_bounded_with_their_reason(kentucky, path):
    """A multiplier of a million would make a family's path a step a day: refused, with why."""
    with pytest.raises(ss.ScenarioError, match=r"must be 20 or less \(an effect that multiplies"):
        kentucky.with_changes({path: 1e6})


# --------------------------------------------------------------------------- no silent changes


def test_one_county_launching_after_the_horizon_is_a_warning_naming_it():
    with pytest.warns(ScenarioWarning, match=r"counties.1.launch_day \(county 'B'\) = 800 is on or after"):
        ss.Scenario(name="x", horizon_years=2, counties=[{"name": "A", "referrals_per_year": 10, "dyads": 1},
                                                         {"name": "B", "referrals_per_year": 10, "dyads": 1,
                                                          "launch_day": 800}])


def test_every_county_launching_after_the_horizon_is_a_warning_too():
    """The run is well defined (START's arm equals usual services); the planner is told why."""
    with pytest.warns(ScenarioWarning, match=r"counties.0.launch_day \(county 'A'\) = 2000 is on or after"):
        ss.Scenario(name="x", horizon_years=2, counties=[{"name": "A", "referrals_per_year": 10, "dyads": 1,
                                                         "launch_day": 2000}])


def test_zero_runout_is_a_warning_naming_the_field():
    with pytest.warns(ScenarioWarning, match="runout_years = 0"):
        ss.Scenario(name="x", runout_years=0, counties=[{"name": "A", "referrals_per_year": 10, "dyads": 1}])


def test_whole_children_counts_are_accepted():
    for children in ({"dist": "fixed", "value": 2}, {"dist": "empirical", "values": [3, 1, 2]}):
        ss.Scenario(name="x", families={"children": children},
                    counties=[{"name": "A", "referrals_per_year": 10, "dyads": 1}])


# --------------------------------------------------------------------------- caseload slots


def test_caseload_slots_is_the_one_count():
    sc = ss.Scenario(name="x", counties=[{"name": "A", "referrals_per_year": 10, "dyads": 3, "mentors": 1}])
    c = sc.counties[0]
    p = sc.program
    wf = sc.workforce_of(c)
    assert sc.slots_of(c) == caseload_slots(p, wf, 3, 1) == p.caseload_cap + 2 * p.solo_caseload_cap
    assert caseload_slots(p, wf, 4, None) == caseload_slots(p, wf, 4, 9) == 4 * p.caseload_cap
    half = wf.model_copy(update={"mentor_fte": 0.5})
    assert caseload_slots(p, half, 1, 1) == p.solo_caseload_cap + (p.caseload_cap - p.solo_caseload_cap) // 2
    assert sc.treatment_places(c) == sc.treatment.default_slots


# --------------------------------------------------------------------------- clear messages


def test_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path / "bom.toml", '\ufeffname = "with a BOM"\n'.encode() + COUNTY.encode())
    assert ss.load_scenario(path).name == "with a BOM"


def test_dev_null_is_not_a_regular_file(tmp_path, capsys):
    assert cli.main(["run", os.devnull, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"start-sim: {os.devnull}: not a regular file") and err.count("\n") == 1, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_not_a_regular_file_and_is_never_opened(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ss.ScenarioError, match="not a regular file"):
        ss.load_scenario(fifo)


def test_toml_dates_and_times_are_shown_as_written(tmp_path):
    assert show(datetime.date(2024, 6, 1)) == "2024-06-01"
    assert show(datetime.time(7, 30)) == "07:30:00"
    path = write(tmp_path / "date.toml", 'name = "d"\nhorizon_years = 2024-06-01\n' + COUNTY)
    with pytest.raises(ss.ScenarioError, match="horizon_years = 2024-06-01 is not allowed") as info:
        ss.load_scenario(path)
    assert "datetime" not in str(info.value)


# --------------------------------------------------------------------------- targets and posterior files

TARGET = ('[[targets]]\nid = "T1"\nname = "placement"\nkpi = "placed_share"\narm = "start"\nkind = "rate"\n'
          "value = 0.2\nlow = 0.1\nhigh = 0.3\nn = 100\n")
PARAM = '[parameters."placement.rate_using"]\nlow = 0.2\nhigh = 0.8\n'


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "[parameters] is missing or empty"),
        ("[parameters\n", "malformed TOML"),
        (PARAM + TARGET + "[calibration]\nreplicatons = 2\n", "calibration: replicatons is not a known key"),
        (PARAM + TARGET.replace('kind = "rate"\n', ""), "targets.0 (id \"T1\").kind is missing"),
        (PARAM + TARGET.replace("value = 0.2", 'value = "0.2"'), 'targets.0 (id "T1").value = "0.2" is not allowed'),
        (PARAM + TARGET.replace("value = 0.2", "value = nan"), "value = nan is not allowed: must be a finite number"),
        (PARAM.replace("high = 0.8", "high = 0.1") + TARGET, "low must be below high"),
        (PARAM + TARGET.replace('"rate"', '"ratio"'), 'kind = "ratio" is not allowed'),
        (PARAM + TARGET + "extra = 1\n", "targets.0 (id \"T1\"): extra is not a known key"),
        (PARAM + TARGET + "[other]\n", "(top level): other is not a known key"),
    ],
)
def test_bad_targets_file_is_one_message(tmp_path, text, fragment):
    path = write(tmp_path / "targets.toml", text)
    with pytest.raises(ss.ScenarioError) as info:
        load_targets(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and fragment in msg and "\n" not in msg, msg


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the file is empty"),
        ("draw,particle\n0,1\n", "no parameter columns"),
        ("draw,placement.rate_using\n", "no draws"),
        ("placement.rate_using\n0.3\nabc\n", "column placement.rate_using, row 2 = 'abc' is not allowed"),
        ("placement.rate_using\ninf\n", "row 1 = 'inf' is not allowed: every draw must be a finite number"),
        ("placement.rate_using\n0.9\n", "outside the prior box [0.2, 0.8]"),
        ("start.mentor_uptake\n0.5\n", "missing: placement.rate_using; not a parameter: start.mentor_uptake"),
    ],
)
def test_bad_posterior_file_is_one_message(tmp_path, text, fragment):
    targets = load_targets(write(tmp_path / "t.toml", PARAM + TARGET))
    path = write(tmp_path / "posterior.csv", text)
    with pytest.raises(ss.ScenarioError) as info:
        load_posterior(path, targets.parameters)
    msg = str(info.value)
    assert msg.startswith(f"{path}: invalid posterior file: ") and fragment in msg and "\n" not in msg, msg


def test_shipped_posterior_is_inside_the_shipped_priors():
    ts = load_targets(ROOT / "calibration" / "targets.toml")
    draws = load_posterior(ROOT / "calibration" / "kentucky_posterior.csv", ts.parameters)
    assert list(draws.columns) == [p.path for p in ts.parameters] and len(draws) and math.isfinite(draws.sum().sum())


def test_bad_posterior_exits_2_through_the_cli(tmp_path, capsys):
    path = write(tmp_path / "posterior.csv", "")
    status = cli.main(["uncertainty", str(ROOT / "scenarios" / "kentucky.toml"), "--posterior", str(path),
                       "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 2 and f"{path}: invalid posterior file: the file is empty" in err and "Traceback" not in err, err


def test_substance_recovery_multipliers_are_bounded_too(kentucky):
    with pytest.raises(ss.ScenarioError, match=r"substance_recovery_multiplier.alcohol = 1e\+06 must be 20 or less"):
        kentucky.with_changes({"recovery.substance_recovery_multiplier.alcohol": 1e6})
