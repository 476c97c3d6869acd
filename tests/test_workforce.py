"""Staff as people: turnover, hiring lag, mentor shortages, part-time mentors, rollouts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.inputs.caseload import dyad_cap
from start_sim.metrics.kpis import summarise
from start_sim.outcomes import costs
from start_sim.sim.replication import simulate

from .conftest import ROOT


def county(**over) -> dict:
    return {"name": "C", "referrals_per_year": 40, "dyads": 3, **over}


def scenario(workforce: dict | None = None, program: dict | None = None, years: float = 3, **county_over) -> ss.Scenario:
    return ss.Scenario(name="wf", horizon_years=years, runout_years=1, counties=[county(**county_over)],
                       workforce=workforce or {}, program={"caseload_cap": 6, "solo_caseload_cap": 4, **(program or {})})


def test_turnover_without_hiring_drains_staff():
    sc = scenario({"caseworker_turnover_per_year": 3.0, "mentor_turnover_per_year": 3.0, "replace_leavers": False},
                  years=4)
    res = ss.run(sc, replications=3, seed=4)
    ts = res.timeseries
    for rep, g in ts.groupby("replication"):
        first, last = g.iloc[0], g.iloc[-1]
        assert first["caseworkers"] == 3, f"rep {rep}: {first['caseworkers']} caseworkers at the start, 3 expected"
        assert last["caseworkers"] == 0 and last["mentor_fte"] == 0, (
            f"rep {rep}: {last['caseworkers']} caseworkers and {last['mentor_fte']} mentor FTE left after 5 years "
            "at 300% turnover with no hiring")
        assert last["slots"] == 0, f"rep {rep}: {last['slots']} slots left with no staff"
    assert (res.kpis["caseworker_fte"] < 3).all(), "average caseworkers in post did not fall below the 3 hired"
    assert (res.kpis["vacancy_days"] == 0).all(), "no post is reopened, so no vacancy days"


def test_replacing_leavers_keeps_headcount_apart_from_vacancies():
    sc = scenario({"caseworker_turnover_per_year": 1.0, "hiring_lag_days": {"dist": "fixed", "value": 30},
                   "training_days": {"dist": "fixed", "value": 0}})
    res = ss.run(sc, replications=2, seed=5)
    k = res.kpis
    assert (k["vacancy_days"] > 0).all(), "leavers were replaced, yet no post was ever vacant"
    # each caseworker post is either filled or vacant: in-post FTE + vacant share = 3 posts
    H = sc.horizon_days
    total = k["caseworker_fte"] + k["vacancy_days"] / H
    assert np.allclose(total, 3.0, atol=1e-9), f"caseworker FTE + vacant posts = {total.tolist()}, 3 expected"
    assert (k["families_reassigned"] > 0).all(), "caseworkers left but no family was reassigned"


def test_hiring_lag_delays_the_first_assignment():
    lag, training = 90.0, 30.0
    sc = scenario({"hiring_lag_days": {"dist": "fixed", "value": lag}, "training_days": {"dist": "fixed", "value": training}},
                  program={"max_wait_days": None}, dyads=0, hiring=[{"day": 0, "caseworkers": 1, "mentors": 1}])
    runs = simulate(sc, 1, 0)
    first = min(c.assigned_day for c in runs[0].start if c.service == "start")
    assert first >= lag + training, f"first family assigned on day {first:.1f}, before hire + training = {lag + training}"
    assert first == pytest.approx(lag + training), "families were waiting, so the first takes the slot the day it opens"


def test_hiring_plan_adds_slots_when_the_hires_start():
    sc = scenario({"hiring_lag_days": {"dist": "fixed", "value": 60}, "training_days": {"dist": "fixed", "value": 30}},
                  dyads=1, hiring=[{"day": 365, "caseworkers": 2, "mentors": 2}])
    ts = ss.run(sc, replications=1, seed=1).timeseries
    before = ts[ts["day"] < 365 + 90]["slots"]
    after = ts[ts["day"] >= 365 + 90]["slots"]
    assert (before == 6).all(), f"slots before the hires start: {sorted(set(before))}, 6 expected (1 dyad x cap 6)"
    assert (after == 18).all(), f"slots after: {sorted(set(after))}, 18 expected (3 dyads x cap 6)"


def _effect(sc: ss.Scenario, reps: int = 6) -> np.ndarray:
    k = ss.run(sc, replications=reps, seed=9).kpis
    return (k["sobriety_rate_at_closure_start"] - k["sobriety_rate_at_closure_usual"]).to_numpy()


def test_mentor_shortage_lowers_the_start_effect_and_a_full_roster_restores_it():
    base = dict(referrals_per_year=20, dyads=4)
    full = _effect(scenario(**base))
    short = _effect(scenario(mentors=0, **base))
    restored = _effect(scenario(mentors=0, hiring=[{"day": 0, "mentors": 4}],
                                workforce={"hiring_lag_days": {"dist": "fixed", "value": 0},
                                           "training_days": {"dist": "fixed", "value": 0}}, **base))
    assert short.mean() < full.mean() - 0.05, (
        f"sobriety effect with no mentors {short.mean():.3f} is not clearly below the full roster's {full.mean():.3f}")
    assert restored == pytest.approx(full), "hiring the missing mentors at once did not restore the full effect"


def test_part_time_mentors_give_a_cap_between_solo_and_full():
    assert dyad_cap(13, 8, 1.0) == 13 and dyad_cap(13, 8, None) == 8
    assert dyad_cap(13, 8, 0.5) == 10, "half a mentor adds half the difference (rounded down)"
    sc = scenario({"mentor_fte": 0.5}, dyads=2)
    assert sc.slots_of(sc.counties[0]) == 2 * 5
    ts = ss.run(sc, replications=1, seed=1).timeseries
    assert (ts["slots"] == 10).all() and (ts["mentor_fte"] == 1.0).all()


def test_staff_cost_follows_the_posts():
    sc = scenario({"caseworker_turnover_per_year": 0.5, "mentor_turnover_per_year": 0.5})
    runs = simulate(sc, 2, 0)
    out = summarise(sc, runs, 0)
    expected = costs.staff_cost(sc.costs, runs[0].posts, sc.horizon_days)
    assert out.kpis["program_cost"] == pytest.approx(expected, rel=1e-12)
    steady = scenario()
    out = summarise(steady, simulate(steady, 2, 0), 0)
    posts = simulate(steady, 2, 0)[0].posts
    assert all(p.hired == p.opened == 0.0 and p.left == math.inf for p in posts), "constant staff: all in post from day 0"
    assert [p.role for p in posts].count("caseworker") == steady.counties[0].dyads
    closed = costs.staff_cost(steady.costs, posts, steady.horizon_days)
    assert out.kpis["program_cost"] == pytest.approx(closed, rel=1e-9), "constant staff: the KPI prices the posts"


def test_a_young_site_is_slower_to_treatment():
    mature = scenario(referrals_per_year=30, dyads=4)
    young = mature.with_changes({"program.maturity_days": 3 * 365.25})
    m = ss.run(mature, replications=3, seed=2).kpis["mean_days_to_treatment_start"]
    y = ss.run(young, replications=3, seed=2).kpis["mean_days_to_treatment_start"]
    gap = (y - m).mean()
    assert 10 < gap < 75, f"a site maturing over 3 years added {gap:.1f} days to treatment; expected 10-75"


def test_county_results_add_up_to_the_scenario_and_budget_to_the_costs():
    sc = ss.load_scenario(ROOT / "scenarios" / "kentucky.toml").with_changes(
        {"horizon_years": 2, "runout_years": 1, "costs.discount_rate_per_year": 0.0})
    out = summarise(sc, simulate(sc, 3, 0), 0)
    by = pd.DataFrame(out.county_kpis)
    assert list(by["county"]) == [c.name for c in sc.counties]
    for key in ("families_referred", "families_started", "families_diverted", "program_cost", "placement_cost_start",
                "placement_cost_usual", "treatment_cost_start", "families_reassigned"):
        assert by[key].sum() == pytest.approx(out.kpis[key], rel=1e-12), f"{key}: counties add to {by[key].sum()}"
    b = pd.DataFrame(out.budget)
    assert b["staff"].sum() + b["training"].sum() == pytest.approx(out.kpis["program_cost"], rel=1e-9)
    for arm in ("start", "usual"):
        assert b[f"placement_{arm}"].sum() == pytest.approx(out.kpis[f"placement_cost_{arm}"], rel=1e-9)
        assert b[f"treatment_{arm}"].sum() == pytest.approx(out.kpis[f"treatment_cost_{arm}"], rel=1e-9)
    assert not math.isnan(out.kpis["net_savings"])


def test_state_rollout_runs_and_counties_add_up_to_the_state():
    sc = ss.load_scenario(ROOT / "scenarios" / "state_rollout.toml")
    assert len(sc.counties) >= 50 and len({c.launch_day for c in sc.counties}) == 3, "57 counties in three phases"
    out = summarise(sc, simulate(sc, 1, 0), 0)
    by = pd.DataFrame(out.county_kpis)
    assert len(by) == len(sc.counties)
    for key in ("families_referred", "families_started", "families_diverted", "program_cost", "placement_cost_start",
                "placement_cost_usual", "savings_vs_usual", "families_reassigned", "vacancy_days", "caseworker_fte"):
        assert by[key].sum() == pytest.approx(out.kpis[key], rel=1e-9), f"{key}: counties add to {by[key].sum()}"
    launched_late = [c.name for c in sc.counties if c.launch_day > 0]
    ts = pd.DataFrame(out.timeseries)
    early = ts[(ts["month"] == 1) & ts["county"].isin(launched_late)]
    assert (early["caseload"] == 0).all() and (early["slots"] == 0).all(), "a county served families before its launch"


def test_share_assigned_counts_only_families_referred_after_launch():
    sc = scenario(referrals_per_year=10, dyads=6, launch_day=365.25)
    k = ss.run(sc, replications=2, seed=3).kpis
    assert (k["share_assigned_within_14d"] == 1.0).all(), (
        f"ample capacity after launch, yet share assigned within 14 days = {k['share_assigned_within_14d'].tolist()}")
