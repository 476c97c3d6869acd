"""Scenario discovery: design files, the Latin hypercube, PRIM boxes, determinism and resuming."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses.discovery import design_scenario, discover, sample
from start_sim.analyses.prim_boxes import find_boxes
from start_sim.core.errors import ScenarioError
from start_sim.experiments.workfolder import WorkFolder, work_plan
from start_sim.inputs.design import Design, load_design

TINY_DESIGN = """
description = "tiny"
replications = 1
service_target = 0.9

[[levers]]
name = "dyads"
label = "the number of dyads"
paths = ["counties.*.dyads"]
integer = true
unit = "dyads"
low = 1
high = 6

[[levers]]
name = "hiring_delay"
label = "the hiring delay"
paths = ["workforce.hiring_lag_days.value"]
unit = "days"
low = 30
high = 180
"""


@pytest.fixture
def tiny() -> ss.Scenario:
    """No turnover and no hiring steps: no post ever stands vacant, so the hiring delay cannot matter."""
    return ss.Scenario(name="tiny", horizon_years=1.0, runout_years=1.0,
                       counties=[{"name": "A", "referrals_per_year": 40, "dyads": 3, "initial_caseload": 0}])


@pytest.fixture
def design(tmp_path) -> Design:
    (tmp_path / "d.toml").write_text(TINY_DESIGN)
    return load_design(tmp_path / "d.toml")[0]


def test_prim_finds_a_planted_box():
    rng = np.random.default_rng(3)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 400), "b": rng.uniform(0, 1, 400), "c": rng.uniform(0, 1, 400)})
    y = ((x.a > 0.6) & (x.b < 0.4)).to_numpy()
    boxes = find_boxes(x, y)
    assert boxes, "the planted box must be found"
    lim = boxes[0].limits.set_index("input")
    assert set(lim.index) == {"a", "b"}, "the noise input c must not be restricted"
    assert lim.loc["a", "low"] == pytest.approx(0.6, abs=0.05) and lim.loc["b", "high"] == pytest.approx(0.4, abs=0.05)
    assert boxes[0].density > 0.9 and boxes[0].coverage > 0.9
    assert (boxes[0].limits["qp_low"].fillna(0) < 0.05).all() and (boxes[0].limits["qp_high"].fillna(0) < 0.05).all()


def test_prim_finds_no_box_in_noise():
    rng = np.random.default_rng(4)
    x = pd.DataFrame({"a": rng.uniform(0, 1, 300), "b": rng.uniform(0, 1, 300)})
    assert find_boxes(x, rng.uniform(size=300) < 0.25) == []
    assert find_boxes(x, np.zeros(300, bool)) == [] and find_boxes(x, np.ones(300, bool)) == []


def test_design_file_errors_name_the_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY_DESIGN.replace('unit = "days"', 'unit = "days"\nstep = 5'))
    with pytest.raises(ScenarioError, match="step"):
        load_design(bad)
    bad.write_text(TINY_DESIGN.replace("low = 30", "low = 300"))
    with pytest.raises(ScenarioError, match="below high"):
        load_design(bad)


def test_a_design_path_that_is_not_in_the_scenario_is_an_error(tiny, design):
    wrong = design.model_copy(update={"levers": [design.levers[0].model_copy(update={"paths": ["program.cap"]})]})
    with pytest.raises(ScenarioError, match="cap"):
        design_scenario(tiny, wrong, sample(wrong, 2, 1).iloc[0])


def test_factors_scale_and_relative_write_the_scenario(tiny, design):
    from start_sim.inputs.design import Factor, apply

    data = tiny.to_dict()
    apply(data, Factor(name="d", label="d", paths=["counties.*.dyads"], scale=True, integer=True, low=0, high=2), 2.0)
    apply(data, Factor(name="m", label="m", paths=["counties.*.mentors"], relative_to="dyads", integer=True,
                       low=0, high=1), 0.5)
    assert data["counties"][0]["dyads"] == 6 and data["counties"][0]["mentors"] == 3


def test_the_hypercube_is_latin_and_reproducible(design):
    a, b = sample(design, 16, 7), sample(design, 16, 7)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sample(design, 16, 8))
    u = (a["hiring_delay"] - 30) / 150
    assert sorted((u * 16).astype(int)) == list(range(16)), "one design in each of the 16 strata"


def test_discovery_finds_no_box_on_a_lever_that_cannot_matter(tiny, design):
    res = discover(tiny, design, 24, seed=2)
    by_delay = res.outcomes.merge(res.designs, on="design").groupby("dyads")["net_savings"].nunique()
    assert (by_delay == 1).all(), "designs with the same dyads differ only in the hiring delay: identical outcomes"
    assert res.cases["service_target_missed"] > 0
    boxes = res.boxes["service_target_missed"]
    assert boxes, "too few dyads miss the 14-day target: a box on dyads must be found"
    for q in res.boxes.values():
        for box in q:
            assert "hiring_delay" not in set(box.limits["input"])
    assert set(boxes[0].limits["input"]) == {"dyads"}


def test_discovery_is_the_same_on_one_or_two_workers_and_resumes(tiny, design, tmp_path):
    serial = discover(tiny, design, 6, seed=3)
    dask = discover(tiny, design, 6, seed=3, workers=2, executor="dask")
    pd.testing.assert_frame_equal(serial.designs, dask.designs)
    pd.testing.assert_frame_equal(serial.outcomes, dask.outcomes)
    from start_sim.analyses.discovery import design_scenarios

    scenarios = design_scenarios(tiny, design, serial.designs)
    work = WorkFolder.open(tmp_path / "w", work_plan("discover", scenarios, 3), False)
    first = discover(tiny, design, 6, seed=3, work=work)
    again = discover(tiny, design, 6, seed=3, work=WorkFolder.open(tmp_path / "w", work_plan("discover", scenarios, 3),
                                                                     True))
    assert first.info["simulated"] == 6 and again.info["simulated"] == 0 and again.info["resumed"] == 6
    pd.testing.assert_frame_equal(first.outcomes, again.outcomes)
    pd.testing.assert_frame_equal(first.outcomes, serial.outcomes)


def test_discover_command_writes_the_report(tiny, tmp_path):
    from start_sim.cli import main
    from start_sim.inputs.files import load_scenario

    sc = tmp_path / "tiny.toml"
    sc.write_text('name = "tiny"\nhorizon_years = 1\nrunout_years = 1\n'
                  '[[counties]]\nname = "A"\nreferrals_per_year = 40\ndyads = 3\n')
    assert load_scenario(sc).counties[0].dyads == 3
    (tmp_path / "d.toml").write_text(TINY_DESIGN)
    out = tmp_path / "out"
    assert main(["discover", str(sc), "--design", str(tmp_path / "d.toml"), "--designs", "12", "--out", str(out)]) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Scenario discovery" in html and "mainly when the number of dyads is below" in html
    for f in ("designs.csv", "outcomes.csv", "boxes.csv", "trajectories.csv", "drivers.csv", "manifest.json"):
        assert (out / f).exists(), f
    assert main(["discover", str(sc), "--design", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o2")]) == 2


def test_a_design_the_scenario_refuses_names_the_design_and_its_values(tiny, design):
    from start_sim.analyses.discovery import design_scenarios

    full = tiny.with_changes({"counties.0.initial_caseload": 30})  # 30 families need 3 dyads at the cap
    with pytest.raises(ScenarioError, match=r"d\.toml: design \d+ \(dyads = .*does not fit the scenario"):
        design_scenarios(full, design, sample(design, 8, 1), "d.toml")


@pytest.mark.parametrize("end", ["low", "high"])
def test_the_bundled_kentucky_design_loads_and_every_factor_moves_its_paths_at_both_ends(end):
    """The shipped design names paths that exist in the calibrated Kentucky scenario (its places
    are the public providers' since issue 12), and each factor at its end of range changes them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    design, _ = load_design(root / "scenarios" / "designs" / "kentucky_design.toml")
    base = ss.load_scenario(root / "scenarios" / "kentucky_calibrated.toml")
    row = pd.Series({"design": 0, **{f.name: getattr(f, end) for f in design.factors}})
    sc = design_scenario(base, design, row)
    assert sc.to_dict() != base.to_dict()
    if end == "high":
        assert sc.regions[0].providers[0].places.outpatient == pytest.approx(1.5 * base.regions[0].providers[0].places.outpatient)
