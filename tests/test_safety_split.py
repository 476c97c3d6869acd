"""Safety planning split into a casework part (any open START case, solo caseworkers included)
and a mentor part (only cases with a mentor, fixed at first assignment), decision 0030; and early
disengagement ends START's effects on the day the family disengages."""

from __future__ import annotations

import math

import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.outcomes.resources import start_open
from start_sim.sim.case import Service
from start_sim.sim.replication import simulate
from tests.test_outcomes import assert_covers_zero, assert_positive

REPS = 6


def scenario(mentors: int | None) -> ss.Scenario:
    county = {"name": "A", "referrals_per_year": 80, "dyads": 12}
    if mentors is not None:
        county["mentors"] = mentors
    return ss.Scenario(name="split", horizon_years=3, runout_years=2, counties=[county],
                       placement={"rate_using": 0.8, "rate_in_treatment": 0.4})


def kpis(sc: ss.Scenario, changes: dict) -> dict:
    return run(sc.with_changes(changes), replications=REPS, seed=5).kpis


@pytest.mark.parametrize("mentors", [None, 0])
def test_casework_part_lowers_start_placement_with_or_without_mentors(mentors):
    sc = scenario(mentors)
    flat, low = kpis(sc, {"start.safety_planning_casework_multiplier": 1.0}), kpis(
        sc, {"start.safety_planning_casework_multiplier": 0.5})
    assert_positive(flat["placement_rate_12m_start"], low["placement_rate_12m_start"],
                    f"START placement, casework multiplier 1 - 0.5 (mentors {mentors})")
    assert (flat["placement_rate_12m_usual"] == low["placement_rate_12m_usual"]).all()


def test_mentor_part_lowers_start_placement_only_with_a_mentor():
    with_mentors = scenario(None)
    flat, low = kpis(with_mentors, {"start.safety_planning_mentor_multiplier": 1.0}), kpis(
        with_mentors, {"start.safety_planning_mentor_multiplier": 0.5})
    assert_positive(flat["placement_rate_12m_start"], low["placement_rate_12m_start"],
                    "START placement, mentor multiplier 1 - 0.5 with mentors")
    assert (flat["placement_rate_12m_usual"] == low["placement_rate_12m_usual"]).all()
    solo = scenario(0)
    a, b = kpis(solo, {"start.safety_planning_mentor_multiplier": 1.0}), kpis(
        solo, {"start.safety_planning_mentor_multiplier": 0.5})
    assert (a["placement_rate_12m_start"] == b["placement_rate_12m_start"]).all(), (
        "the mentor part moved placement in a county without mentors")
    assert_covers_zero(a["placement_rate_12m_start"], b["placement_rate_12m_start"], "solo mode")


def test_early_disengagement_ends_start_effects_at_disengagement():
    """A disengaged START case closes on its disengagement day (never extended), and every START
    effect (safety planning, kin preference, surveillance, the mentor's relapse effect) is tied to
    the open interval, which ends there."""
    sc = scenario(None).with_changes({"program.disengagement_probability": 0.5})
    n = 0
    for runs in simulate(sc, seed=2, replication=0):
        for case in runs.start:
            if case.service != Service.START or not case.disengaged or math.isnan(case.closure_day):
                continue
            n += 1
            opened = start_open(sc, case)
            assert opened == (case.assigned_day, case.closure_day)
            assert case.extensions == 0
            assert case.closure_day - case.assigned_day <= sc.program.disengagement_days.ppf(
                case.family.u_disengage_day) + 1e-9
            assert not case.recovery.case_open, "the mentor relapse effect is still on after disengaging"
    assert n > 20, f"only {n} disengaged families"
