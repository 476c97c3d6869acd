"""Who is served (decision 0035): declining START at referral, never engaging after assignment,
early disengagement, and the intention-to-treat KPIs over every family offered START."""

from __future__ import annotations

import math

import numpy as np
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.inputs.family_tables import StartEffects
from start_sim.metrics.kpis import summarise
from start_sim.outcomes.family_outcomes import family_outcome
from start_sim.outcomes.resources import start_open
from start_sim.sim.case import Route, Service, State, engaged
from start_sim.sim.family import in_cohort
from start_sim.sim.replication import simulate
from tests.test_conservation import Auditor

PLENTY = {"outpatient": 500, "intensive_outpatient": 500, "residential": 500, "moud": 500}
# every START effect multiplier switched off: a family with no START effect must not notice
EFFECTS_OFF = {f"start.{k}": 1.0 for k in StartEffects.model_fields if k.endswith("_multiplier")}


def scenario(**program) -> ss.Scenario:
    """One busy county; treatment places never run out, so the arms share no queue."""
    return ss.Scenario(
        name="served", horizon_years=2, runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 60, "dyads": 3}],
        program=program, treatment={"default_slots": PLENTY},
    )


def _same_outcome(a, b) -> bool:
    return (a.episodes == b.episodes and a.placed_12m == b.placed_12m and a.report_12m == b.report_12m
            and a.care_days == b.care_days)


def test_a_family_that_declines_gets_usual_services_and_no_start_effect():
    sc = scenario(decline_probability=0.3)
    off = sc.with_changes(EFFECTS_OFF)
    declined = 0
    for rep in range(3):
        for r in simulate(sc, 5, rep):
            for cs, cu in zip(r.start, r.usual, strict=True):
                if cs.route != Route.DECLINED:
                    continue
                declined += 1
                assert cs.service == Service.USUAL and cs.open_day == cs.family.referral_day
                assert math.isnan(cs.assigned_day) and start_open(sc, cs) is None
                assert not cs.mentor
                # exactly the usual-services arm's family: same case, same outcome, whatever START does
                assert cs.planned_close_day == cu.planned_close_day and cs.takes_up == cu.takes_up
                assert _same_outcome(family_outcome(sc, cs), family_outcome(sc, cu))
                assert _same_outcome(family_outcome(sc, cs), family_outcome(off, cs))
    assert declined > 20, f"only {declined} families declined"


def test_a_family_that_never_engages_holds_a_slot_for_the_outreach_then_closes_to_usual_services():
    sc = scenario(never_engage_probability=0.3, outreach_days={"dist": "fixed", "value": 45})
    off = sc.with_changes(EFFECTS_OFF)
    audit = Auditor()  # caps, caseloads and states checked at every event
    never = 0
    for rep in range(3):
        for r in simulate(sc, 5, rep, audit=audit):
            for cs in r.start:
                if cs.route != Route.NEVER_ENGAGED:
                    continue
                never += 1
                if cs.outreach_end_day >= sc.end_days:  # still in outreach when the run ends
                    assert cs.state == State.IN_START and start_open(sc, cs) is None
                    continue
                assert cs.outreach_end_day == pytest.approx(cs.assigned_day + 45)
                assert cs.state == State.USUAL and cs.service == Service.USUAL
                assert cs.open_day == cs.outreach_end_day and not cs.mentor and not engaged(cs)
                assert start_open(sc, cs) is None
                assert _same_outcome(family_outcome(sc, cs), family_outcome(off, cs))
    assert never > 20, f"only {never} families never engaged"
    assert audit.calls["outreach_end"] > 0 and audit.saw_full_dyad


def test_early_disengagement_ends_start_effects_on_the_disengagement_day():
    sc = scenario()
    seen = 0
    for r in simulate(sc, 3, 0):
        for cs in r.start:
            if not (cs.disengaged and cs.state == State.CLOSED_START):
                continue
            seen += 1
            lo, hi = start_open(sc, cs)
            assert lo == cs.assigned_day and hi == cs.closure_day == cs.planned_close_day
            assert hi - lo <= sc.program.disengagement_days.high + 1e-9 and cs.extensions == 0
            assert cs.recovery.state_at(hi) is not None
    assert seen > 3


def test_itt_counts_are_the_served_plus_declined_plus_never_engaged_plus_not_placed_in_a_slot():
    sc = scenario(decline_probability=0.2, never_engage_probability=0.15)
    for rep in range(2):
        k = summarise(sc, simulate(sc, 9, rep), rep).kpis
        served = k["families_started"] - k["families_never_engaged"]
        assert k["families_declined"] > 0 and k["families_never_engaged"] > 0
        assert k["itt_families"] == (served + k["families_declined"] + k["families_never_engaged"]
                                     + k["families_diverted"] + k["families_waiting_at_end"])
        assert k["families_referred"] == (k["families_started"] + k["families_diverted"] + k["families_waiting_at_end"]
                                          + k["families_before_launch"] + k["families_declined"])


def test_itt_placement_is_the_child_weighted_mixture_of_served_and_not_served_families():
    sc = scenario(decline_probability=0.25, never_engage_probability=0.1)
    runs = simulate(sc, 4, 0)
    k = summarise(sc, runs, 0).kpis
    groups: dict[str, list[float]] = {}
    for r in runs:
        for cs in r.start:
            if not in_cohort(cs.family, sc):
                continue
            g = "served" if engaged(cs) else str(cs.route or "waiting")
            o = family_outcome(sc, cs)
            groups.setdefault(g, []).append((cs.family.children, o.children * o.placed_12m))
    kids = {g: sum(c for c, _ in v) for g, v in groups.items()}
    placed = {g: sum(p for _, p in v) for g, v in groups.items()}
    assert {"served", "declined", "never_engaged"} <= set(groups)
    mixture = sum(kids[g] / sum(kids.values()) * placed[g] / kids[g] for g in groups)
    assert k["itt_placement_rate_12m_start"] == pytest.approx(mixture, rel=1e-12)
    served_rate = placed["served"] / kids["served"]
    assert k["placement_rate_12m_start"] == pytest.approx(served_rate, rel=1e-12)


def test_declines_dilute_the_itt_difference_towards_zero_on_common_random_numbers():
    """The served contrast keeps START's effect; the ITT contrast shrinks as more families decline."""
    base = scenario()
    many = scenario(decline_probability=0.5)
    a = run(base, replications=4, seed=11, workers=1).kpis
    b = run(many, replications=4, seed=11, workers=1).kpis
    d0 = a["itt_placement_difference_12m"].to_numpy()
    d1 = b["itt_placement_difference_12m"].to_numpy()
    assert np.all(d0 < 0), "START lowers placement among those offered it"
    assert np.mean(d1 - d0) > 0 and np.mean(np.abs(d1)) < np.mean(np.abs(d0))
    assert (b["families_declined"] > 0.35 * b["itt_families"]).all()


def test_families_who_decline_do_not_count_as_waiting_too_long_for_a_dyad():
    sc = ss.Scenario(name="roomy", horizon_years=1, runout_years=1,
                     counties=[{"name": "A", "referrals_per_year": 30, "dyads": 10}], program={"decline_probability": 0.5})
    k = summarise(sc, simulate(sc, 2, 0), 0).kpis
    assert k["families_declined"] > 5 and k["families_diverted"] == 0
    assert k["share_assigned_within_14d"] == 1.0
