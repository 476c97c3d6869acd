"""Regions: a region of one is the county alone, bit for bit; a region with nothing shared is its
counties apart; shared dyads serve every county of the region at the travel-reduced cap; bad
regions are refused with a message naming the field."""

from __future__ import annotations

import math

import pandas as pd
import pytest

import start_sim as ss
from start_sim.core.errors import ScenarioError
from start_sim.inputs.messages import validate_as
from start_sim.metrics.kpis import summarise
from start_sim.sim.case import Service, State
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import simulate

FIELDS = ("state", "service", "route", "caseworker", "assigned_day", "closure_day", "assessment_day", "modality",
          "tx_request_day", "tx_start_day", "tx_exit_day", "extensions", "reassignments")
PLACES = {"outpatient": 6, "intensive_outpatient": 2, "residential": 1, "moud": 3}


def two_counties(**extra) -> ss.Scenario:
    """Two busy counties with few treatment places (so that the places bind) and staff turnover."""
    return ss.Scenario(
        name="two", horizon_years=3, runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2, "initial_caseload": 10},
                  {"name": "B", "referrals_per_year": 20, "dyads": 1, "launch_day": 200}],
        workforce={"caseworker_turnover_per_year": 0.4}, treatment={"default_slots": PLACES}, **extra)


def cases_of(runs) -> list[tuple]:
    out = []
    for run in runs:
        for arm in (run.start, run.usual):
            out += [tuple(repr(getattr(c, f)) for f in FIELDS) for c in arm]
    return out


def rows_without_region(out) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "region"} for row in out.county_kpis]


@pytest.mark.parametrize("replication", [0, 1])
def test_a_region_of_one_with_its_own_places_as_a_provider_is_the_county_alone(replication):
    """Each county alone vs each in a region of one whose provider holds the same places, with no
    background clients and no delay: the same cases, KPIs and family rows to the last bit."""
    alone = two_counties()
    regions = [{"name": n, "counties": [n], "providers": [{"name": f"P{n}", "places": PLACES}]} for n in ("A", "B")]
    grouped = two_counties(regions=regions)
    a, g = simulate(alone, 5, replication), simulate(grouped, 5, replication)
    assert cases_of(a) == cases_of(g)
    sa, sg = summarise(alone, a, replication), summarise(grouped, g, replication)
    for left, right in ((sa.families, sg.families), (rows_without_region(sa), rows_without_region(sg)),
                        ([sa.kpis], [sg.kpis])):
        assert pd.DataFrame(left).equals(pd.DataFrame(right))  # NaN equal to NaN, every other value exactly


def test_a_region_sharing_nothing_is_its_counties_apart():
    """One environment for both counties, but nothing shared: every county's cases are unchanged."""
    alone = two_counties()
    grouped = two_counties(regions=[{"name": "AB", "counties": ["A", "B"]}])
    assert cases_of(simulate(alone, 3, 0)) == cases_of(simulate(grouped, 3, 0))


def shared_dyad_region(travel_share: float) -> ss.Scenario:
    return ss.Scenario(
        name="shared", horizon_years=3, runout_years=1, program={"caseload_cap": 12, "solo_caseload_cap": 8},
        counties=[{"name": "North", "referrals_per_year": 12, "dyads": 0},
                  {"name": "South", "referrals_per_year": 12, "dyads": 0, "launch_day": 100}],
        regions=[{"name": "Both", "counties": ["North", "South"],
                  "shared_dyads": {"dyads": 1, "travel_share": travel_share}}])


def test_a_shared_dyad_serves_both_counties_at_the_cap_reduced_for_travel():
    """One dyad, caps 12 x (1 - 0.25) = 9 (solo 8 -> 6 while the mentor is not in post): at every event the one caseload is at most 9, counts families
    of both counties, reaches 9; South's families meet START only after its own launch."""
    sc = shared_dyad_region(0.25)
    seen = {"full": False, "counties": set()}

    def audit(model: CountyModel, what: str) -> None:
        if not model.with_start:
            return
        assert model.pool.cap in ([], [9], [6]), model.pool.cap  # paired 12 x 0.75, or solo 8 x 0.75
        load = sum(model.pool.load)
        assert load <= sum(model.pool.cap)
        open_ = [c for caseload in model.caseload for c in caseload]  # the one caseload of the region
        assert all(c.state == State.IN_START and c.caseworker == 0 for c in open_), what
        assert len(open_) == load, (what, len(open_), load)
        seen["full"] |= load == 9
        seen["counties"] |= {c.family.county for c in open_}

    runs = simulate(sc, 2, 0, audit=audit)
    assert seen["full"] and seen["counties"] == {0, 1}
    north, south = runs
    assert all(c.assigned_day >= 100 for c in south.start if c.service == Service.START)
    assert sum(c.service == Service.START for c in north.start) > 0 < sum(c.service == Service.START for c in south.start)
    assert [p.role for p in north.posts] == ["caseworker", "mentor"] and south.posts == []  # posts stand on the host


def test_more_travel_means_fewer_families_served_on_common_random_numbers():
    """Travel lowers the cap (12 -> 9 -> 6): fewer families start, more are diverted; same families throughout."""
    started = []
    for share in (0.0, 0.25, 0.5):
        sc = shared_dyad_region(share)
        out = summarise(sc, simulate(sc, 2, 0), 0)
        started.append(out.kpis["families_started"])
    assert started[0] > started[1] > started[2]


def test_region_rows_add_up_their_counties():
    sc = shared_dyad_region(0.25)
    out = summarise(sc, simulate(sc, 2, 0), 0)
    rows = {r["county"]: r for r in out.county_kpis}
    assert len(out.region_kpis) == 1 and set(rows) == {"North", "South"}  # county rows add up to the scenario
    region = out.region_kpis[0]
    assert region["region"] == "Both" and rows["North"]["region"] == "Both"
    assert region["families_referred"] == rows["North"]["families_referred"] + rows["South"]["families_referred"]
    assert math.isclose(region["net_savings"], rows["North"]["net_savings"] + rows["South"]["net_savings"])
    assert region["families_referred"] == out.kpis["families_referred"]


BASE = {"name": "x", "counties": [{"name": "A", "referrals_per_year": 5, "dyads": 1},
                                   {"name": "B", "referrals_per_year": 5, "dyads": 0}]}


@pytest.mark.parametrize("regions, message", [
    ([{"name": "R", "counties": ["A", "Zed"]}], 'regions.0.counties.1 = "Zed" is not a county'),
    ([{"name": "R", "counties": ["A"]}, {"name": "S", "counties": ["a", "B"]}], "is already in regions.0"),
    ([{"name": "R", "counties": ["A", "B"], "shared_dyads": {"dyads": 1}}], '"A" has dyads'),
    ([{"name": "R", "counties": ["A", "B"], "providers": [
        {"name": "P", "places": PLACES}, {"name": "Q", "places": PLACES, "counties": ["B"]}]}], "one provider per county"),
    ([{"name": "R", "counties": ["A"], "providers": [{"name": "P", "places": PLACES, "referral_days": {"B": 2}}]}],
     'referral_days: "B" is not a county of region'),
    ([{"name": "R", "counties": ["A"], "providers": [{"name": "P", "places": PLACES, "background_clients_per_year":
        {"outpatient": 30, "intensive_outpatient": 0, "residential": 0, "moud": 0}}]}],
     "fills 123% of its 6 outpatient places"),
    ([{"name": "R", "counties": ["A"], "extra": 1}], "extra"),
    ([{"name": "R", "counties": ["A"], "providers": [{"name": "P", "places": {**PLACES, "outpatient": 10**8},
        "background_clients_per_year": {"outpatient": 10**7, "intensive_outpatient": 0, "residential": 0, "moud": 0}}]}],
     "more than the 50,000,000 a replication can finish"),
])
@pytest.mark.filterwarnings("ignore::start_sim.inputs.plausibility.NoDyadsWarning")
def test_bad_regions_are_refused_naming_the_field(regions, message):
    with pytest.raises(ScenarioError, match="invalid scenario") as err:
        validate_as(ss.Scenario, {**BASE, "regions": regions}, file="s.toml")
    assert message in str(err.value)


def test_run_prints_each_county_and_the_region(tmp_path, capsys):
    from start_sim.cli import main
    from tests.conftest import ROOT

    short = tmp_path / "rural.toml"
    short.write_text(f'extends = "{(ROOT / "scenarios" / "rural_region.toml").as_posix()}"\n'
                     "horizon_years = 1\nrunout_years = 1\n")
    assert main(["run", str(short), "--replications", "1", "--workers", "1", "--out", str(tmp_path / "out")]) == 0
    table = capsys.readouterr().out.split("by county and region")[1]
    for name in ("Adair", "Casey", "Clinton", "Russell", "Lake Cumberland (region)"):
        assert name in table
    rows = pd.read_csv(tmp_path / "out" / "county_kpis.csv")
    assert set(rows["region"]) == {"Lake Cumberland"} and len(rows) == 4
    regions = pd.read_csv(tmp_path / "out" / "region_kpis.csv")
    assert list(regions["region"]) == ["Lake Cumberland"]
    for table in (rows, regions):
        assert table["treatment_utilisation_outpatient_usual"].between(0.5, 1).all()
    from start_sim.experiments.results import Results

    assert Results.read(tmp_path / "out").region_kpis.equals(regions)
