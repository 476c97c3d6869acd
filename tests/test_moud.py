"""MOUD as ongoing medication (treatment.moud_mode = "ongoing", decision 0053): off by default and then
bit for bit today's model; on, the panel place is held until discontinuation, so long retention fills the
panel (never past its places) and waits rise; time on medication follows the retention distribution;
the parent keeps the in-treatment recovery state until discontinuation; both arms are billed per day."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import start_sim as ss
from start_sim.analyses.bca import bca, ledger
from start_sim.core.errors import ScenarioWarning
from start_sim.core.timebase import DAYS_PER_MONTH
from start_sim.inputs.plausibility import plausibility_problems, warn_implausible
from start_sim.metrics.kpis import summarise
from start_sim.outcomes import costs
from start_sim.outcomes.family_outcomes import family_outcome
from start_sim.sim.family import in_cohort
from start_sim.sim.recovery import EARLY, TREATMENT, USING
from start_sim.sim.region import RegionArm, build_region
from start_sim.sim.replication import county_families, simulate

LONG = {"dist": "lognormal", "mean": 900, "sd": 600}


def region(treatment: dict | None = None, moud_places: int = 8, horizon: float = 3, background: float = 2) -> ss.Scenario:
    """Two counties of opioid-heavy families sharing one provider with background MOUD clients."""
    return ss.Scenario(
        name="moud", horizon_years=horizon, runout_years=1, treatment={"moud_share_opioids": 0.6, **(treatment or {})},
        families={"substance_shares": {"opioids": 0.7, "methamphetamine": 0.1, "alcohol": 0.1, "other": 0.1}},
        counties=[{"name": "A", "referrals_per_year": 40, "dyads": 3}, {"name": "B", "referrals_per_year": 20, "dyads": 2}],
        regions=[{"name": "R", "counties": ["A", "B"], "providers": [{
            "name": "P", "places": {"outpatient": 14, "intensive_outpatient": 4, "residential": 3, "moud": moud_places},
            "referral_days": {"B": 3},
            "background_clients_per_year": {"outpatient": 40, "intensive_outpatient": 15, "residential": 15,
                                            "moud": background}}]}])


def county(treatment: dict | None = None, costs_: dict | None = None, n: float = 300) -> ss.Scenario:
    """One county, every parent on MOUD, places enough that nobody waits."""
    return ss.Scenario(
        name="one", horizon_years=4, runout_years=1,
        treatment={"moud_share_opioids": 1.0, "default_slots": {"outpatient": 1, "intensive_outpatient": 1,
                                                                  "residential": 1, "moud": 4000},
                   **(treatment or {})},
        costs=costs_ or {},
        families={"substance_shares": {"opioids": 1.0, "methamphetamine": 0.0, "alcohol": 0.0, "other": 0.0}},
        counties=[{"name": "A", "referrals_per_year": n, "dyads": 20}])


def kpis(sc: ss.Scenario, reps: int = 2) -> list[dict]:
    return [summarise(sc, simulate(sc, 5, r), r).kpis for r in range(reps)]


def moud_spells(cases) -> list:
    """MOUD parents who took a place: (case, start, exit)."""
    return [(c, c.tx_start_day, c.tx_exit_day) for c in cases
            if c.modality == "moud" and not math.isnan(c.tx_start_day) and c.tx_exit_day > c.tx_start_day]


def test_off_is_todays_model_and_on_changes_it():
    """Writing moud_mode = "episode" (or leaving it out) gives the same results to the last bit, in a county
    and in a region; "ongoing" moves them (so the comparison can fail)."""
    for make in (region, county):
        base = kpis(make())
        assert kpis(make({"moud_mode": "episode"})) == base
        with pytest.warns(ScenarioWarning, match="is set but"):
            unused = make({"moud_mode": "episode", "moud_retention_days": LONG})
        assert kpis(unused) == base  # unused when off
        assert kpis(make({"moud_mode": "ongoing"})) != base


def test_long_retention_fills_the_panel_never_past_its_places_and_waits_rise():
    """Per-event audit of the shared MOUD panel in both arms: places in use <= places, a queue only when full,
    and the places in use equal the parents and background clients on medication now."""
    sc = region({"moud_mode": "ongoing", "moud_retention_days": LONG, "max_episodes": 2})
    plan = sc.region_plans()[0]
    fams = {k: county_families(sc, k, 4, 0) for k in plan.counties}
    seen = {"full": 0, "queued": 0, "events": 0}
    arm: RegionArm | None = None

    def audit(model, what: str) -> None:
        if arm is None:
            return
        now, seen["events"] = arm.env.now, seen["events"] + 1
        places = arm.providers[0].treatment.places["moud"]
        assert 0 <= places.in_use <= places.capacity, (what, places.in_use)
        if places.queue:
            assert places.in_use == places.capacity, (what, "a queue beside a free place")
            seen["queued"] += 1
        cases = [c for mod in arm.models.values() for c in mod.cases if c.modality == "moud"]
        spans = [(c.tx_start_day, c.tx_exit_day) for c in cases] + [(s, e) for c in cases for _, s, e in c.repeats]
        spans += [(b.start, b.exit) for b in arm.providers[0].clients if b.modality == "moud"]
        holding, leaving = sum(s <= now < e for s, e in spans), sum(e == now for s, e in spans)
        assert holding <= places.in_use <= holding + leaving, (what, holding, places.in_use)
        seen["full"] += places.in_use == places.capacity

    for with_start in (True, False):
        arm = None
        arm = build_region(sc, plan, fams, with_start, 4, 0, audit)
        arm.env.run(until=sc.end_days)
    assert seen["events"] > 500 and seen["full"] > 50 and seen["queued"] > 0

    def row(s: ss.Scenario) -> dict:
        rows = [summarise(s, simulate(s, 11, i), i).region_kpis[0] for i in range(3)]
        return {k: float(np.mean([r[k] for r in rows])) for k in ("treatment_wait_days_moud_usual",
                                                                  "treatment_utilisation_moud_usual")}
    episode, ongoing = row(region()), row(region({"moud_mode": "ongoing", "moud_retention_days": LONG}))
    assert ongoing["treatment_wait_days_moud_usual"] > episode["treatment_wait_days_moud_usual"] + 30
    assert ongoing["treatment_utilisation_moud_usual"] > episode["treatment_utilisation_moud_usual"]


def test_background_moud_that_would_overfill_the_panel_with_retention_is_refused():
    """32 background MOUD clients a year fill 84% of 25 places with 240-day episodes, 128% with a year's
    mean retention: their queue would grow without bound, so the scenario is refused."""
    provider = {"name": "P", "places": {"outpatient": 30, "intensive_outpatient": 10, "residential": 8, "moud": 25},
                "background_clients_per_year": {"outpatient": 0, "intensive_outpatient": 0, "residential": 0,
                                                "moud": 32}}
    make = {"name": "x", "counties": [{"name": "A", "referrals_per_year": 5, "dyads": 1}],
            "regions": [{"name": "R", "counties": ["A"], "providers": [provider]}]}
    ss.Scenario(**make)
    with pytest.raises(ValueError, match=r"moud = 32 fills 128% of its 25 moud places"):
        ss.Scenario(**make, treatment={"moud_mode": "ongoing"})


def test_retention_set_but_unused_or_implausible_warns():
    with pytest.warns(ScenarioWarning, match="moud_retention_days is set but"):
        warn_implausible(county({"moud_retention_days": LONG}))
    with pytest.warns(ScenarioWarning, match="mean of 3650 days"):
        warn_implausible(county({"moud_mode": "ongoing", "moud_retention_days": {"dist": "fixed", "value": 3650}}))
    assert not plausibility_problems(county({"moud_mode": "ongoing", "moud_retention_days": LONG}))


def test_time_on_medication_follows_the_retention_distribution():
    """No queue, no dropout hazard: every parent's time on MOUD is a retention draw, so its mean over ~1,700
    parents is the distribution's mean (365 days) within three standard errors; background clients too."""
    sc = county({"moud_mode": "ongoing"}, n=600)
    ret = sc.treatment.moud_retention_days
    days = np.array([e - s for run in simulate(sc, 3, 0) for c, s, e in moud_spells(run.usual)])
    assert len(days) > 1500
    se = np.std(days, ddof=1) / math.sqrt(len(days))
    assert abs(days.mean() - ret.mean) < 3 * se, (days.mean(), ret.mean, se)
    sigma = math.sqrt(math.log1p((ret.sd / ret.mean) ** 2))  # the lognormal's own survival at 24 weeks
    retained_24w = 0.5 * math.erfc((math.log(168) - math.log(ret.mean) + sigma**2 / 2) / (sigma * math.sqrt(2)))
    assert np.mean(days > 168) == pytest.approx(retained_24w, abs=0.04)
    assert 0.5 < retained_24w < 0.6  # the sourced figure: about half retained at 24 weeks
    big = region({"moud_mode": "ongoing"}, moud_places=400, horizon=20, background=100)
    arm = build_region(big, big.region_plans()[0], {0: [], 1: []}, False, 3, 0)
    arm.env.run(until=big.end_days)
    bg = np.array([b.episode for b in arm.providers[0].clients if b.modality == "moud"])
    assert len(bg) > 1500 and abs(bg.mean() - ret.mean) < 3 * np.std(bg, ddof=1) / math.sqrt(len(bg))
    # the episode mode's MOUD spells are shorter: the dropout hazard ends many before their episode
    short = np.array([e - s for run in simulate(county(), 3, 0) for c, s, e in moud_spells(run.usual)])
    assert short.mean() < 0.8 * sc.treatment.episode_days["moud"].mean


def test_a_retained_parent_stays_in_treatment_until_discontinuation():
    """While on medication the parent is never 'using' (a relapse goes back to treatment), recovery in
    treatment happens, medication outlasts the child-welfare case for some, and the spell is exactly the
    family's own retention draw (from its own stream)."""
    sc = county({"moud_mode": "ongoing"}, n=150)
    ret = sc.treatment.moud_retention_days
    recovered = outlasting = 0
    for run in simulate(sc, 8, 0):
        for case in run.start + run.usual:
            for c, s, e in moud_spells([case]):
                first = c.family.fresh_seqs()["moud_retention"].next()
                assert e - s == pytest.approx(ret.ppf(first), rel=1e-12)
                times, states = c.recovery.path(e)
                on = [st for t, st in zip(times, states, strict=True) if s <= t < e]
                assert on and on[0] == TREATMENT and USING not in on
                recovered += EARLY in on
                outlasting += c.closure_day < e
    assert recovered > 20 and outlasting > 20


def test_medication_is_billed_per_day_on_it_in_both_arms():
    """Undiscounted, a family's treatment cost is moud_per_day x its days on medication, in each arm; the
    budget and the benefit-cost ledger bill through the same function (monthly bills)."""
    sc = county({"moud_mode": "ongoing", "max_episodes": 2}, {"discount_rate_per_year": 0.0, "moud_per_day": 25.0}, n=80)
    billed, extra = 0, 0.0
    for run in simulate(sc, 2, 0):
        extra += sum(family_outcome(sc, a).treatment_cost - family_outcome(sc, b).treatment_cost
                     for a, b in zip(run.start, run.usual, strict=True) if in_cohort(a.family, sc))
        for cases in (run.start, run.usual):
            for c in cases:
                spells = [(c.tx_start_day, c.tx_exit_day)] + [(s, e) for _, s, e in c.repeats]
                days = sum(e - s for s, e in spells if not math.isnan(s))
                assert family_outcome(sc, c).treatment_cost == pytest.approx(25.0 * days, rel=1e-9, abs=1e-9)
                bills = costs.treatment_bills(sc.treatment, c)
                assert all(0 < d <= DAYS_PER_MONTH for _, d in bills)
                billed += bool(bills)
    assert billed > 100 and extra > 0
    assert bca(ledger(sc, 2, 0), sc.costs)["pv_extra_treatment_cost"] == pytest.approx(extra, rel=1e-9)
    episode = county({}, {"discount_rate_per_year": 0.0})
    c = next(c for run in simulate(episode, 2, 0) for c in run.usual if not math.isnan(c.tx_start_day))
    assert family_outcome(episode, c).treatment_cost == episode.costs.treatment_per_episode.moud


def test_a_scenario_read_back_from_its_own_values_does_not_warn_of_an_unused_retention():
    """The PSA and discovery re-validate a scenario from its values, the default retention
    included: that is not a retention a planner set."""
    import warnings

    from start_sim.inputs.files import validate

    sc = ss.load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "kentucky_calibrated.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        validate(sc.to_dict(), file="re-read")
