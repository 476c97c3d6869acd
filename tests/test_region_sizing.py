"""Sizing a region's shared dyads: pooling limit against one county, travel never helps, every
county's level reported, and the ``start-sim size`` command for a region."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

import start_sim as ss
from start_sim.analyses.region_sizing import region_slots, size_region
from start_sim.analyses.staffing import size_county
from start_sim.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
SEED = 5
TARGET = ["assigned_within_days=14@0.9"]


def two_counties(travel_share: float = 0.0, rate: float = 15.0) -> ss.Scenario:
    """Two identical counties sharing dyads (each on its own treatment places)."""
    counties = [{"name": n, "referrals_per_year": rate, "dyads": 0} for n in ("A", "B")]
    return ss.Scenario(name="two counties", horizon_years=3, runout_years=1, program={"caseload_cap": 10},
                       counties=counties, regions=[{"name": "R", "counties": ["A", "B"],
                                                    "shared_dyads": {"dyads": 1, "travel_share": travel_share}}])


def one_county(rate: float) -> ss.Scenario:
    return ss.Scenario(name="one county", horizon_years=3, runout_years=1, program={"caseload_cap": 10},
                       counties=[{"name": "AB", "referrals_per_year": rate, "dyads": 1}])


def test_two_counties_without_travel_need_what_one_county_with_their_referrals_needs():
    region = size_region(two_counties(), 0, TARGET, replications=3, seed=SEED, basis="as_given")
    alone = size_county(one_county(30.0), 0, TARGET, replications=3, seed=SEED, basis="as_given")
    assert region.analytic_dyads == alone.analytic_dyads  # the same Erlang C: same rate, same slots
    assert abs(region.dyads - alone.dyads) <= 1
    assert region.reached and region.arrival_per_year == 30.0


def test_travel_never_needs_fewer_dyads():
    base, far = two_counties(0.0), two_counties(0.3)
    assert region_slots(far, far.regions[0], 3) < region_slots(base, base.regions[0], 3)  # caps 10 -> 7
    near = size_region(base, 0, TARGET, replications=3, seed=SEED, basis="as_given")
    away = size_region(far, 0, TARGET, replications=3, seed=SEED, basis="as_given")
    assert away.dyads >= near.dyads
    assert away.caps[0] == 7


def test_every_county_of_the_region_has_its_level():
    sizing = size_region(two_counties(rate=12.0), 0, TARGET, replications=2, seed=SEED, basis="as_given")
    assert [c.county for c in sizing.counties] == ["A", "B"]
    for c in sizing.counties:
        assert len(c.levels) == 1 and 0.0 <= c.levels[0][0] <= 1.0
        assert c.arrival_per_year == 12.0
    rows = pd.DataFrame(sizing.rows())
    assert list(rows["row"]) == ["region", "county of region", "county of region"]
    assert rows.loc[0, "dyads_needed"] == sizing.dyads
    assert sizing.shortfalls() == [] or not all(c.meets for c in sizing.counties)
    # a county below the target while the region meets it is named in words
    low = dataclasses.replace(sizing.counties[1], levels=[(0.5, 0.4, 0.6)], meets=False)
    said = dataclasses.replace(sizing, reached=True, counties=[sizing.counties[0], low]).shortfalls()
    assert len(said) == 1 and said[0].startswith("B misses the target while the region meets it")
    # one dyad fewer is worse for the region as a whole (common random numbers)
    if sizing.below is not None:
        assert sizing.below[0] <= sizing.levels[0][0]


def test_cli_prints_the_regions_answer(tmp_path, capsys):
    out = tmp_path / "o"
    status = cli_main(["size", str(ROOT / "scenarios" / "rural_region.toml"), "--target", TARGET[0],
                       "--replications", "2", "--warmup-years", "2", "--no-first-year", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0
    assert "Region Lake Cumberland" in text and "shared dyads" in text
    for county in ("Adair", "Casey", "Clinton", "Russell"):
        assert county in text
    table = pd.read_csv(out / "staffing.csv")
    region = table[table["row"] == "region"]
    assert len(region) == 1 and int(region["dyads_needed"].iloc[0]) >= 1
    assert set(table.loc[table["row"] == "county of region", "county"]) == {"Adair", "Casey", "Clinton", "Russell"}
    assert "Region Lake Cumberland: shared dyads" in (out / "report.html").read_text()
