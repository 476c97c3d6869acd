"""Determinism, executor independence and common random numbers down to single families.

Same scenario and seed give identical frames, whatever runs them (serial or Dask).
Random draws are keyed by name and attached to the family at referral, so a change of
capacity or eligibility leaves every other family's referral day and attributes as they
were, the two arms of a replication see the same families, and a new stream name shifts
no existing stream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.metrics.kpis import summarise
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import county_families, simulate
from start_sim.sim.streams import NEW, PRE_EXISTING, CountyDraws, stream

ATTRIBUTES = ["referral_day", "children", "youngest_age", "substance", "two_parent", "high_severity",
              "removed_at_investigation"]
FAMILY_FIELDS = ATTRIBUTES + ["index", "pre_existing", "u_modality", "u_service", "u_usual_service", "u_disengage",
                              "u_disengage_day", "u_assessment", "u_uptake", "u_episode", "u_elapsed"]


@pytest.fixture
def two_counties() -> ss.Scenario:
    """Two counties, one tight and one with an initial caseload and waitlist: quick but busy."""
    return ss.Scenario(
        name="two",
        horizon_years=2,
        runout_years=1,
        counties=[
            {"name": "A", "referrals_per_year": 40, "dyads": 2},
            {"name": "B", "referrals_per_year": 25, "dyads": 1, "mentors": 0, "initial_caseload": 4,
             "initial_waitlist": 2},
        ],
        program={"caseload_cap": 4, "solo_caseload_cap": 4, "max_wait_days": 30.0},
    )


def assert_results_identical(a: ss.Results, b: ss.Results, what: str) -> None:
    for name in ("kpis", "timeseries", "families"):
        fa, fb = getattr(a, name), getattr(b, name)
        try:
            pd.testing.assert_frame_equal(fa, fb, check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{what}: the {name} frames differ: {exc}") from None


def family_attrs(fams) -> dict[str, tuple]:
    return {f"{f.county}-{f.index}-{f.pre_existing}": tuple(getattr(f, k) for k in FAMILY_FIELDS) for f in fams}


# -- determinism -------------------------------------------------------------------------
def test_same_seed_gives_identical_frames(two_counties):
    a = ss.run(two_counties, replications=3, seed=42)
    b = ss.run(two_counties, replications=3, seed=42)
    assert len(a.families) > 0 and len(a.timeseries) > 0, "empty results prove nothing"
    assert_results_identical(a, b, "two runs with seed 42")


def test_different_seeds_differ(two_counties):
    a = ss.run(two_counties, replications=2, seed=1)
    b = ss.run(two_counties, replications=2, seed=2)
    ra = a.families[a.families["replication"] == 0]["referral_day"].to_numpy()
    rb = b.families[b.families["replication"] == 0]["referral_day"].to_numpy()
    n = min(len(ra), len(rb))
    same = int(np.sum(ra[:n] == rb[:n]))
    assert same == 0, f"seeds 1 and 2 share {same} of their first {n} referral days"
    assert not a.kpis.drop(columns="seed").equals(b.kpis.drop(columns="seed")), "seeds 1 and 2 gave identical KPIs"
    reps = a.families.groupby("replication")["referral_day"].apply(lambda s: tuple(s.round(9)))
    assert reps.iloc[0] != reps.iloc[1], "replications 0 and 1 of one seed have the same referrals"


def test_replication_does_not_depend_on_how_many_are_run(two_counties):
    few = ss.run(two_counties, replications=2, seed=9)
    many = ss.run(two_counties, replications=4, seed=9)
    for name in ("kpis", "timeseries", "families"):
        fa = getattr(few, name)
        fb = getattr(many, name)
        fb = fb[fb["replication"] < 2].reset_index(drop=True)
        pd.testing.assert_frame_equal(fa, fb, check_exact=True, obj=f"{name}: replications 0-1 of 2 vs of 4")


@pytest.mark.slow
def test_dask_two_workers_gives_the_serial_frames(two_counties):
    """Exercise the Dask LocalCluster path itself (two worker processes), frame for frame."""
    serial = ss.run(two_counties, replications=4, seed=17, workers=1)
    dask = ss.run(two_counties, replications=4, seed=17, workers=2)
    assert_results_identical(serial, dask, "workers=1 vs workers=2 (Dask)")


def test_scenario_against_itself_gives_exactly_zero_difference(two_counties):
    """A scenario compared with itself (and with a re-validated copy): zero difference, family by family."""
    copy = two_counties.with_changes({})
    assert copy == two_counties and copy is not two_counties
    cmp = ss.compare({"base": two_counties, "same": copy}, replications=3, seed=5)
    a, b = cmp.results["base"], cmp.results["same"]
    assert_results_identical(a, b, "a scenario and its copy on one seed")
    s = cmp.summary()
    diffs = s[(s["scenario"] == "same") & s["diff_mean"].notna()]
    assert len(diffs) > 0, "compare reported no paired differences"
    nonzero = diffs[(diffs["diff_mean"] != 0) | (diffs["diff_ci_low"].fillna(0) != 0)
                    | (diffs["diff_ci_high"].fillna(0) != 0)]
    assert nonzero.empty, (
        "paired differences of a scenario with itself are not exactly zero: "
        + ", ".join(f"{r.kpi}: {r.diff_mean:+.3g}" for r in nonzero.itertuples())
    )


def test_summarising_the_same_runs_twice_gives_the_same_results(two_counties):
    """Outcomes are a function of the case records: asking twice must not draw new luck.

    (Once failed: family_outcome read the case's children/reports sequences where the
    previous call had left them; fixed in cb0e6c6 with fresh readers.)
    """
    runs = simulate(two_counties, 3, 0)
    first = summarise(two_counties, runs, 0)
    second = summarise(two_counties, runs, 0)
    fa, fb = pd.DataFrame(first.families), pd.DataFrame(second.families)
    diff_cols = [c for c in fa.columns if not fa[c].equals(fb[c])]
    assert not diff_cols, f"family rows differ on a second summary of the same runs in columns {diff_cols}"
    diff_kpis = {k: (v, second.kpis[k]) for k, v in first.kpis.items()
                 if not (v == second.kpis[k] or (v != v and second.kpis[k] != second.kpis[k]))}
    assert not diff_kpis, f"KPIs differ on a second summary of the same runs: {diff_kpis}"


# -- common random numbers, family by family --------------------------------------------
def test_adding_a_dyad_leaves_every_family_and_the_usual_arm_unchanged(two_counties):
    more = two_counties.with_changes({"counties.0.dyads": 3, "counties.1.dyads": 2})
    a = ss.run(two_counties, replications=2, seed=8).families
    b = ss.run(more, replications=2, seed=8).families
    key = ["replication", "family"]
    assert a[key].equals(b[key]), (
        f"the set of families changed with a dyad: {len(a)} vs {len(b)} rows, "
        f"{len(set(map(tuple, a[key].values)) ^ set(map(tuple, b[key].values)))} not in both"
    )
    for col in ATTRIBUTES:
        differ = int((a[col] != b[col]).sum())
        assert differ == 0, f"{col} changed for {differ} of {len(a)} families when a dyad was added"
    # the usual-services arm never sees START capacity: every one of its columns is unchanged
    usual = [c for c in a.columns if c.endswith("_usual")]
    assert usual, "no usual-arm columns in the family records"
    for col in usual:
        differ = int((~((a[col] == b[col]) | (a[col].isna() & b[col].isna()))).sum())
        assert differ == 0, f"usual-arm column {col} changed for {differ} of {len(a)} families when a dyad was added"
    # ... while START capacity did change something for the START arm
    assert not a["wait_days"].fillna(-1).equals(b["wait_days"].fillna(-1)), "a dyad more changed no wait"


def test_eligible_share_only_adds_or_removes_families(two_counties):
    fewer = two_counties.with_changes({"counties.0.eligible_share": 0.5})
    for rep in range(2):
        full = {f.index: f for f in county_families(two_counties, 0, 4, rep)}
        part = {f.index: f for f in county_families(fewer, 0, 4, rep)}
        assert set(part) < set(full), (
            f"rep {rep}: eligible_share 0.5 kept {len(set(part) - set(full))} families that share 1.0 does not have"
        )
        assert 0 < len(part) < len(full), f"rep {rep}: {len(part)} of {len(full)} families eligible at share 0.5"
        for i, f in part.items():
            g = full[i]
            changed = [k for k in FAMILY_FIELDS if getattr(f, k) != getattr(g, k)]
            assert not changed, f"rep {rep}, family {i}: {changed} changed when eligible_share went from 1 to 0.5"


def test_longer_horizon_appends_families(two_counties):
    longer = two_counties.with_changes({"horizon_years": 3})
    for k in range(len(two_counties.counties)):
        short = family_attrs(county_families(two_counties, k, 6, 0))
        long_ = family_attrs(county_families(longer, k, 6, 0))
        missing = set(short) - set(long_)
        assert not missing, f"county {k}: {len(missing)} families of the shorter run are gone in the longer one"
        changed = [key for key in short if short[key] != long_[key]]
        assert not changed, f"county {k}: {len(changed)} families changed when the horizon grew, e.g. {changed[:3]}"
        assert len(long_) > len(short), f"county {k}: a longer horizon added no family"


def test_both_arms_of_a_replication_see_the_same_families(two_counties):
    for run in simulate(two_counties, 12, 1):
        assert len(run.start) == len(run.usual) == len(run.families)
        for cs, cu, f in zip(run.start, run.usual, run.families, strict=True):
            assert cs.family is f and cu.family is f, f"county {run.county}: arms hold different family records"
            for k in FAMILY_FIELDS:
                assert getattr(cs.family, k) == getattr(cu.family, k), f"family {f.index}: {k} differs between arms"
            shared = [k for k in cs.seqs if cs.seqs[k] is cu.seqs[k]]
            assert not shared, f"family {f.index}: the arms share the readers of sequences {shared}"


def test_each_arm_is_the_same_run_alone(two_counties):
    """Running the START arm first does not change the usual arm, and vice versa: no luck leaks."""
    runs = simulate(two_counties, 13, 0)
    fields = ["state", "route", "open_day", "closure_day", "assessment_day", "tx_start_day", "tx_exit_day",
              "extensions", "modality", "takes_up"]
    for k, run in enumerate(runs):
        for with_start, cases in ((False, run.usual), (True, run.start)):
            alone = CountyModel(two_counties, k, county_families(two_counties, k, 13, 0), with_start=with_start).run()
            for a, b in zip(cases, alone, strict=True):
                for fld in fields:
                    x, y = getattr(a, fld), getattr(b, fld)
                    assert x == y or (x != x and y != y), (
                        f"county {k}, {'START' if with_start else 'usual'} arm, family {a.family.index}: {fld} is "
                        f"{x} in simulate() but {y} when the arm runs alone"
                    )


# -- streams -----------------------------------------------------------------------------
def test_a_new_stream_name_shifts_no_existing_stream():
    before = stream(3, 1, 0, "arrivals").random(50)
    stream(3, 1, 0, "a_brand_new_purpose").random(1000)
    after = stream(3, 1, 0, "arrivals").random(50)
    assert np.array_equal(before, after), "drawing from a new stream changed the 'arrivals' stream"
    other = stream(3, 1, 0, "a_brand_new_purpose").random(50)
    assert not np.array_equal(before, other), "two stream names give the same draws"
    for label, gen in (("replication", stream(3, 2, 0, "arrivals")), ("county", stream(3, 1, 1, "arrivals")),
                       ("seed", stream(4, 1, 0, "arrivals")), ("cohort", stream(3, 1, 0, "arrivals", PRE_EXISTING))):
        assert not np.array_equal(before, gen.random(50)), f"a different {label} gives the same 'arrivals' draws"


def test_family_blocks_do_not_depend_on_order_or_count():
    a = CountyDraws(3, 0, 0, NEW, 40)
    b = CountyDraws(3, 0, 0, NEW, 90)
    b.block("some_new_name", 5)  # drawn first in b only
    for name, width in (("children_count", 1), ("recovery", 24)):
        x, y = a.block(name, width), b.block(name, width)
        assert np.array_equal(x, y[:40]), (
            f"block {name!r}: rows of the first 40 families differ when 90 families are drawn "
            f"or another block is drawn first (max diff {np.abs(x - y[:40]).max():.3g})"
        )
