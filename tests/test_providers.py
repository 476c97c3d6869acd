"""Shared treatment providers: places conserved at every event, background demand alone is the
M/M/c queue of queueing theory, and places, priority and background demand move waits the way
they must on common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

import start_sim as ss
from start_sim.analyses.queueing import erlang_c
from start_sim.inputs.schema import MODALITIES
from start_sim.metrics.kpis import summarise
from start_sim.sim.recovery import USING
from start_sim.sim.region import RegionArm, build_region, run_region
from start_sim.sim.replication import county_families, simulate

NONE = dict.fromkeys(MODALITIES, 0)


def loaded_region(places: dict | None = None, background: dict | None = None, start_priority: bool = True,
                  horizon: float = 3, max_episodes: int = 1) -> ss.Scenario:
    """Three counties sharing one small provider with clients from outside child welfare."""
    return ss.Scenario(
        name="loaded", horizon_years=horizon, runout_years=1, treatment={"max_episodes": max_episodes},
        counties=[{"name": "A", "referrals_per_year": 40, "dyads": 3},
                  {"name": "B", "referrals_per_year": 25, "dyads": 2},
                  {"name": "C", "referrals_per_year": 15, "dyads": 1}],
        regions=[{"name": "R", "counties": ["A", "B", "C"], "providers": [{
            "name": "P", "places": places or {"outpatient": 14, "intensive_outpatient": 4, "residential": 3, "moud": 8},
            "referral_days": {"B": 3, "C": 5}, "start_priority": start_priority,
            "background_clients_per_year": background or {"outpatient": 45, "intensive_outpatient": 18,
                                                          "residential": 18, "moud": 8}}]}])


@pytest.mark.parametrize("max_episodes", [1, 3])
def test_shared_places_are_never_over_capacity_and_never_idle_while_someone_queues(max_episodes):
    """At every event of either arm, in every modality: places in use <= places; a queue only when all
    are in use; the places in use equal the clients holding one (CPS parents of all three counties and
    background clients; one who leaves at this very instant may or may not have left yet)."""
    sc = loaded_region(max_episodes=max_episodes)
    plan = sc.region_plans()[0]
    fams = {k: county_families(sc, k, 4, 0) for k in plan.counties}
    seen = {"full": 0, "queued": 0, "events": 0}
    arm: RegionArm | None = None

    def audit(model, what: str) -> None:
        if arm is None:
            return
        now = arm.env.now
        seen["events"] += 1
        for m in MODALITIES:
            places = arm.providers[0].treatment.places[m]
            assert 0 <= places.in_use <= places.capacity, (what, m, places.in_use)
            if places.queue:
                assert places.in_use == places.capacity, (what, m, "a queue beside a free place")
                seen["queued"] += 1
            spans = [(c.tx_start_day, c.tx_exit_day) for mod in arm.models.values() for c in mod.cases
                     if c.modality == m] + [(b.start, b.exit) for b in arm.providers[0].clients if b.modality == m]
            spans += [(start, exit_) for mod in arm.models.values() for c in mod.cases if c.modality == m
                      for _, start, exit_ in c.repeats]
            holding = sum(s <= now < e for s, e in spans)
            leaving = sum(e == now for s, e in spans)
            assert holding <= places.in_use <= holding + leaving, (what, m, holding, places.in_use)
            seen["full"] += places.in_use == places.capacity

    for with_start in (True, False):
        arm = None
        arm = build_region(sc, plan, fams, with_start, 4, 0, audit)
        arm.env.run(until=sc.end_days)
    assert seen["events"] > 1000 and seen["full"] > 0 and seen["queued"] > 0


def test_background_demand_alone_is_the_mm_c_queue():
    """Exponential episodes, Poisson arrivals, c = 4 places at load 0.75, no CPS families: the mean wait
    in the queue is Erlang C's C(c, a) / (c mu - lambda) = 15.3 days, and the places' utilisation is 0.75.
    Tolerance: three standard errors of the mean over ten independent 40-year replications (each
    replication's mean is one independent estimate; waits within a run are autocorrelated), the first two
    years dropped so that the empty start does not bias the mean down."""
    c, mean_episode, load = 4, 30.0, 0.75
    lam = load * c / mean_episode
    exp = {"dist": "exponential", "mean": mean_episode}
    sc = ss.Scenario(
        name="mmc", horizon_years=40, runout_years=1, counties=[{"name": "A", "referrals_per_year": 0, "dyads": 1}],
        regions=[{"name": "R", "counties": ["A"], "providers": [{
            "name": "P", "places": {**NONE, "outpatient": c},
            "background_clients_per_year": {**NONE, "outpatient": lam * 365.25},
            "background_episode_days": dict.fromkeys(MODALITIES, exp)}]}])
    expected = erlang_c(c, lam * mean_episode) / (c / mean_episode - lam)
    means, utilisation = [], []
    for r in range(10):
        arm = run_region(sc, sc.region_plans()[0], {0: []}, False, 3, r)
        clients = [b for b in arm.providers[0].clients if 730 <= b.arrival < sc.horizon_days]
        assert all(not math.isnan(b.start) for b in clients)
        means.append(np.mean([b.start - b.arrival for b in clients]))
        use = arm.place_use(0, sc.horizon_days)
        utilisation.append(use.busy_days["outpatient"] / (c * sc.horizon_days))
    se = np.std(means, ddof=1) / math.sqrt(len(means))
    assert abs(np.mean(means) - expected) < 3 * se, (np.mean(means), expected, se)
    assert se < 0.1 * expected  # the test can tell a wrong queue from the right one
    assert np.mean(utilisation) == pytest.approx(load, abs=0.02)


def region_row(sc: ss.Scenario, reps: int = 3) -> dict[str, float]:
    rows = [summarise(sc, simulate(sc, 11, i), i).region_kpis[0] for i in range(reps)]
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k not in ("county", "region")}


def test_added_places_lower_waits_and_days_to_treatment_on_common_random_numbers():
    base = region_row(loaded_region())
    more = region_row(loaded_region(places={"outpatient": 20, "intensive_outpatient": 6, "residential": 5, "moud": 12}))
    for m in ("outpatient", "intensive_outpatient", "residential"):
        assert more[f"treatment_wait_days_{m}_usual"] < base[f"treatment_wait_days_{m}_usual"]
    assert more["mean_days_to_treatment_usual"] < base["mean_days_to_treatment_usual"]
    assert more["treatment_utilisation_outpatient_usual"] < base["treatment_utilisation_outpatient_usual"]


def test_more_background_clients_raise_waits():
    base = region_row(loaded_region())
    busier = region_row(loaded_region(background={"outpatient": 52, "intensive_outpatient": 21, "residential": 21,
                                                   "moud": 9}))
    for arm in ("start", "usual"):
        assert busier[f"treatment_wait_days_outpatient_{arm}"] > base[f"treatment_wait_days_outpatient_{arm}"]
        assert busier[f"treatment_utilisation_outpatient_{arm}"] > base[f"treatment_utilisation_outpatient_{arm}"]
    # (days to treatment of parents who enter need not rise: more of those who would wait longest give up)


def test_a_start_priority_agreement_shortens_start_parents_days_to_treatment():
    """Without the agreement START parents queue with everyone else; with it they go first."""
    agreed, not_agreed = region_row(loaded_region()), region_row(loaded_region(start_priority=False))
    assert agreed["mean_days_to_treatment_start"] < not_agreed["mean_days_to_treatment_start"]
    # the usual-services run has no START parents: the agreement changes nothing at its places
    for m in MODALITIES:
        assert agreed[f"treatment_wait_days_{m}_usual"] == not_agreed[f"treatment_wait_days_{m}_usual"]


def test_background_clients_are_the_same_in_both_arms():
    sc = loaded_region()
    plan = sc.region_plans()[0]
    fams = {k: county_families(sc, k, 4, 0) for k in plan.counties}
    start, usual = (run_region(sc, plan, fams, arm, 4, 0) for arm in (True, False))
    a, b = start.providers[0].clients, usual.providers[0].clients
    assert [(x.modality, x.arrival, x.episode) for x in a] == [(x.modality, x.arrival, x.episode) for x in b]
    assert len(a) > 100


def test_repeat_episodes_come_after_an_episode_while_the_case_is_open_up_to_the_limit():
    """treatment.max_episodes = 3: at most two later episodes per case; each asked for 30 days
    (repeat_request_days) after the previous one ended, while the case is open, by a parent still using."""
    sc = loaded_region(max_episodes=3)
    runs = simulate(sc, 11, 0)
    repeated = 0
    for run in runs:
        for case in run.start + run.usual:
            assert len(case.repeats) <= 2
            ends = [case.tx_exit_day] + [exit_ for _, _, exit_ in case.repeats]
            for k, (request, start, _) in enumerate(case.repeats):
                assert request == pytest.approx(ends[k] + 30)
                assert not request >= case.closure_day  # open then (or still open at the end: nan)
                assert math.isnan(start) or start >= request
                assert case.recovery.state_at(math.nextafter(request, -math.inf)) == USING  # just before it
            repeated += bool(case.repeats)
    assert repeated > 20
    once = simulate(loaded_region(max_episodes=1), 11, 0)
    assert not any(c.repeats for run in once for c in run.start + run.usual)


def test_repeat_episodes_cost_more_treatment_and_use_more_places_on_common_random_numbers():
    one, three = region_row(loaded_region(max_episodes=1)), region_row(loaded_region(max_episodes=3))
    for arm in ("start", "usual"):
        assert three[f"treatment_cost_{arm}"] > one[f"treatment_cost_{arm}"]
        assert three[f"treatment_utilisation_outpatient_{arm}"] > one[f"treatment_utilisation_outpatient_{arm}"]
