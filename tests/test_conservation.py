"""Conservation of families and caseload caps, checked at every event and at the end.

``CountyModel(..., audit=fn)`` calls ``fn(model, what)`` after every state change; the
auditor here checks, at that instant, that no dyad is over its cap or below zero, that
the waitlist holds exactly the families flagged as waiting (once each), that every dyad's
caseload equals the number of open START cases assigned to it, and that every family
already referred is in exactly one state. Hypothesis draws small random scenarios.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import start_sim as ss
from start_sim.inputs.caseload import dyad_cap
from start_sim.metrics.kpis import summarise
from start_sim.sim.case import Case, State
from start_sim.sim.family import in_cohort
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import simulate

FINAL_STATES = (State.WAITING, State.IN_START, State.CLOSED_START, State.USUAL)
REFERRED_PARTS = ("families_started", "families_diverted", "families_waiting_at_end", "families_before_launch")
EPS = 1e-9


class Auditor:
    """Checks the live model after every state change; counts what it saw."""

    def __init__(self) -> None:
        self.calls = Counter()
        self.last_now: dict[int, float] = {}
        self.saw_full_dyad = False
        self.max_waitlist = 0

    def __call__(self, model: CountyModel, what: str) -> None:
        self.calls[what] += 1
        now = model.env.now
        key = id(model)
        prev = self.last_now.get(key, 0.0)
        assert now >= prev, f"audit '{what}': time went back from {prev} to {now}"
        self.last_now[key] = now
        pool = model.pool
        where = f"day {now:.3f}, after '{what}' ({'START' if model.with_start else 'usual'} arm)"

        # caps and counts
        for i, (n, cap) in enumerate(zip(pool.load, pool.cap, strict=True)):
            assert n >= 0, f"{where}: dyad {i} caseload is negative ({n})"
            assert n <= cap, f"{where}: dyad {i} caseload {n} exceeds its cap {cap} by {n - cap}"
            self.saw_full_dyad |= n == cap
        open_by_dyad = Counter(c.caseworker for c in model.cases if c.state == State.IN_START and c.caseworker >= 0)
        unassigned = {id(c) for c in model.cases if c.state == State.IN_START and c.caseworker == -1}
        assert unassigned == {id(c) for c in model.unassigned} and len(model.unassigned) == len(unassigned), (
            f"{where}: {len(model.unassigned)} families wait for reassignment but {len(unassigned)} open cases have no caseworker"
        )
        for i, n in enumerate(pool.load):
            assert open_by_dyad.get(i, 0) == n, (
                f"{where}: dyad {i} load is {n} but {open_by_dyad.get(i, 0)} open START cases name it "
                f"(difference {n - open_by_dyad.get(i, 0)})"
            )
        assert set(open_by_dyad) <= set(range(len(pool.load))), f"{where}: open cases name dyads {set(open_by_dyad)}"

        # waitlist == families flagged waiting, each once
        flagged = [c for c in model.cases if c.waiting]
        ids = [id(c) for c in model.waitlist]
        assert len(ids) == len(set(ids)), f"{where}: {len(ids) - len(set(ids))} families are on the waitlist twice"
        assert len(model.waitlist) == len(flagged), (
            f"{where}: waitlist length {len(model.waitlist)} but {len(flagged)} cases have waiting=True "
            f"(difference {len(model.waitlist) - len(flagged)})"
        )
        assert set(ids) == {id(c) for c in flagged}, f"{where}: the waitlist and the waiting flags name different families"
        self.max_waitlist = max(self.max_waitlist, len(ids))
        if not model.with_start:
            assert not ids and sum(pool.load) == 0, f"{where}: the usual-services arm has START cases or a waitlist"

        # every referred family in exactly one state
        for c in model.cases:
            flags = (c.waiting, c.state == State.IN_START, c.state == State.CLOSED_START, c.state == State.USUAL)
            n = sum(flags)
            ref = c.family.referral_day
            fam = f"{where}: family {c.family.index} ({c.family.tag}, referred day {ref:.3f})"
            if ref < now:
                assert n == 1, f"{fam} is in {n} states (waiting, open START, closed START, usual) = {flags}"
            elif ref > now:
                assert n == 0 and c.state == State.WAITING, f"{fam} is not referred yet but has state {c.state!r} {flags}"
            else:
                assert n <= 1, f"{fam} is in {n} states {flags}"
            assert c.state in FINAL_STATES, f"{fam}: unknown state {c.state!r}"
            if c.waiting:
                assert c.state == State.WAITING and model.with_start, f"{fam} is waiting with state {c.state!r}"
            if c.state in (State.IN_START, State.CLOSED_START):
                assert c.service == "start" and -1 <= c.caseworker < len(pool.load), f"{fam}: START case names no caseworker"
                assert c.caseworker >= 0 or c.reassignments or id(c) in unassigned or c.state == State.CLOSED_START, (
                    f"{fam}: START case without a caseworker that is not waiting for reassignment")
                assert ref - EPS <= c.assigned_day <= now + EPS, (
                    f"{fam}: assigned on day {c.assigned_day} (referred {ref}, now {now})"
                )
            if c.state == State.CLOSED_START:
                assert c.assigned_day - EPS <= c.closure_day <= now + EPS, (
                    f"{fam}: closed on day {c.closure_day}, assigned {c.assigned_day}: negative time in START"
                )
            if c.state == State.USUAL:
                assert c.service == "usual", f"{fam}: state usual but service {c.service!r}"


def check_final(sc: ss.Scenario, runs) -> None:
    """End of run: one final state each, counts add up, durations non-negative, waits within the limit."""
    prog = sc.program
    for run in runs:
        county = sc.counties[run.county]
        n = len(run.families)
        for arm, cases in (("START", run.start), ("usual", run.usual)):
            assert len(cases) == n, f"{arm} arm of county {run.county}: {len(cases)} cases for {n} families"
            assert [c.family for c in cases] == run.families, f"{arm} arm: cases are not the county's families"
            counts = Counter(c.state for c in cases)
            assert set(counts) <= set(FINAL_STATES), f"{arm} arm: unknown final states {set(counts) - set(FINAL_STATES)}"
            assert sum(counts.values()) == n, f"{arm} arm: state counts {dict(counts)} add up to {sum(counts.values())}, not {n}"
            assert all(v >= 0 for v in counts.values()), f"{arm} arm: negative count in {dict(counts)}"
            for c in cases:
                f = c.family
                fam = f"{arm} arm, family {f.index} ({f.tag})"
                if c.service == "start":
                    w = c.assigned_day - f.referral_day
                    assert w >= -EPS, f"{fam}: negative wait {w}"
                    if prog.max_wait_days is not None and not f.pre_existing:
                        assert w <= prog.max_wait_days + 1e-6, (
                            f"{fam}: waited {w:.4f} days, {w - prog.max_wait_days:.4f} beyond max_wait_days"
                        )
                    if prog.waitlist_policy == "divert" and not f.pre_existing:
                        assert w == 0, f"{fam}: waited {w} days under the divert policy"
                    if c.state == State.CLOSED_START:
                        assert c.closure_day >= c.assigned_day, f"{fam}: closed {c.closure_day} < assigned {c.assigned_day}"
                if c.route == "reneged":
                    assert prog.waitlist_policy == "waitlist" and prog.max_wait_days is not None, f"{fam} reneged"
                    w = c.diverted_day - f.referral_day
                    assert abs(w - prog.max_wait_days) <= 1e-6, (
                        f"{fam}: reneged after {w:.6f} days, not max_wait_days {prog.max_wait_days} "
                        f"(difference {w - prog.max_wait_days:+.3g})"
                    )
                if c.route == "before_launch":
                    assert f.referral_day < county.launch_day, f"{fam}: 'before_launch' on day {f.referral_day}"
                if c.state == State.WAITING:
                    assert arm == "START" and c.waiting, f"{fam}: ended waiting in the {arm} arm"
                    if prog.max_wait_days is not None:
                        assert f.referral_day + prog.max_wait_days >= sc.end_days - 1e-6, (
                            f"{fam}: still waiting at the end although it was referred on day {f.referral_day} "
                            f"and max_wait_days is {prog.max_wait_days}"
                        )
            if arm == "usual":
                assert counts == Counter({State.USUAL: n}), f"usual arm: final states {dict(counts)}, expected all usual"


def check_kpis(sc: ss.Scenario, runs, replication: int = 0) -> None:
    """Run-level totals from the KPIs equal family-level totals; monthly counts within [0, slots]."""
    out = summarise(sc, runs, replication)
    k = out.kpis
    rows = out.families
    referred = [c for run in runs for c in run.start if in_cohort(c.family, sc)]
    for key in ("families_referred", *REFERRED_PARTS):
        assert k[key] >= 0, f"{key} is negative ({k[key]})"
    assert k["families_referred"] == len(referred) == len(rows), (
        f"families_referred {k['families_referred']} vs {len(referred)} cases vs {len(rows)} family rows"
    )
    for where, kk in [("overall", k), *((f"county {ck['county']}", ck) for ck in out.county_kpis)]:
        parts = {key: kk[key] for key in REFERRED_PARTS}
        assert sum(parts.values()) == kk["families_referred"], (
            f"{where}: started + diverted + waiting + before launch = {sum(parts.values())} ({parts}) but "
            f"families_referred = {kk['families_referred']} (difference {sum(parts.values()) - kk['families_referred']})"
        )
    by_route = Counter(c.route for c in referred)
    assert by_route["no_program"] == 0, "a START-arm family referred where START is not on offer"
    assert k["families_before_launch"] == by_route["before_launch"], "families_before_launch vs routes"
    assert k["families_waiting_at_end"] == sum(c.state == State.WAITING for c in referred), "families_waiting_at_end"
    assert k["families_started"] == sum(r["service"] == "start" for r in rows), "families_started vs family rows"
    assert k["families_diverted"] == sum(r["route"] in ("diverted", "reneged") for r in rows), "families_diverted vs rows"
    for key in ("mean_waitlist", "mean_caseload"):
        assert k[key] >= 0, f"{key} is negative ({k[key]})"
    util = k["dyad_utilization"]
    assert math.isnan(util) or -EPS <= util <= 1 + EPS, f"dyad_utilization {util} outside [0, 1]"
    for row in out.timeseries:
        on_staff, slots = row["caseload"] - row["unassigned"], row["slots"]
        assert 0 <= row["unassigned"] <= row["caseload"], f"month {row['month']}: unassigned {row['unassigned']}"
        assert 0 <= on_staff <= slots, f"month {row['month']}: caseload on caseworkers {on_staff} outside [0, {slots}]"
        assert row["waitlist"] >= 0, f"month {row['month']}: waitlist {row['waitlist']} < 0"


def audited(sc: ss.Scenario, seed: int, rep: int = 0) -> tuple[list, Auditor]:
    auditor = Auditor()
    runs = simulate(sc, seed, rep, audit=auditor)
    return runs, auditor


# -- a fixed busy scenario that drives every binding point ---------------------------------
def busy(**program: object) -> ss.Scenario:
    return ss.Scenario(
        name="busy",
        horizon_years=2,
        runout_years=1,
        counties=[
            {"name": "A", "referrals_per_year": 70, "dyads": 2, "mentors": 1, "initial_caseload": 5,
             "initial_waitlist": 4},
            {"name": "B", "referrals_per_year": 20, "dyads": 0, "initial_waitlist": 2},
        ],
        program={"caseload_cap": 3, "solo_caseload_cap": 2, "max_wait_days": 25.0,
                 "service_days": {"dist": "lognormal", "mean": 90, "sd": 40}, **program},
    )


@pytest.mark.parametrize(
    "changes",
    [{}, {"waitlist_policy": "divert"}, {"max_wait_days": None}, {"max_wait_days": 0.0}],
    ids=["reneging", "divert", "unbounded", "zero-wait"],
)
def test_invariants_at_every_event_in_a_busy_county(changes):
    sc = busy(**changes)
    runs, auditor = audited(sc, seed=11)
    check_final(sc, runs)
    check_kpis(sc, runs)
    # the test must have reached the binding points it is about
    assert auditor.calls["arrive"] > 0 and auditor.calls["closure"] > 0, f"audit calls: {dict(auditor.calls)}"
    assert auditor.saw_full_dyad, "no dyad ever reached its cap: the cap check was never at its limit"
    if changes.get("waitlist_policy") != "divert" and changes.get("max_wait_days") != 0.0:
        assert auditor.max_waitlist > 0, "the waitlist was never used"
    if not changes:
        assert auditor.calls["renege"] > 0, "nobody reneged, so reneging was not audited"
    if changes.get("waitlist_policy") == "divert":
        assert any(c.route == "diverted" for run in runs for c in run.start), "nobody was diverted"


def test_audit_sees_both_arms_and_every_family():
    sc = busy()
    runs, auditor = audited(sc, seed=5)
    n_models = len(auditor.last_now)
    assert n_models == 2 * len(sc.counties), f"audit saw {n_models} models, expected 2 arms x {len(sc.counties)} counties"
    n_fams = sum(len(r.families) for r in runs)
    assert auditor.calls["arrive"] == 2 * n_fams, (
        f"'arrive' audited {auditor.calls['arrive']} times for {n_fams} families in 2 arms "
        f"(difference {auditor.calls['arrive'] - 2 * n_fams})"
    )


# -- property test over random small scenarios -----------------------------------------
@st.composite
def scenarios(draw) -> ss.Scenario:
    dyads = draw(st.sampled_from([2, 1, 3, 4, 0]))
    mentors = draw(st.one_of(st.none(), st.integers(0, dyads)))
    cap = draw(st.sampled_from([3, 1, 2, 4, 5]))
    solo = draw(st.integers(1, cap))
    m = dyads if mentors is None else mentors
    mentor_fte = draw(st.sampled_from([1.0, 0.5]))
    slots = m * dyad_cap(cap, solo, mentor_fte) + (dyads - m) * solo
    service = draw(st.sampled_from([
        {"dist": "lognormal", "mean": 120.0, "sd": 60.0},
        {"dist": "exponential", "mean": 40.0},
        {"dist": "fixed", "value": 60.0},
        {"dist": "uniform", "low": 5.0, "high": 200.0},
    ]))
    # a county that already runs START (initial caseload or waitlist) launched by day 0; a later
    # launch with pre-existing cases is rejected (test_preexisting_cases_before_a_later_launch)
    launch = draw(st.sampled_from([0.0, 0.0, 100.0, 500.0]))
    county = {
        "name": "P",
        "referrals_per_year": draw(st.sampled_from([80.0, 45.0, 120.0, 20.0, 0.0])),
        "referral_growth_per_year": draw(st.sampled_from([0.0, 0.3, -0.3])),
        "eligible_share": draw(st.sampled_from([1.0, 0.6, 0.2])),
        "dyads": dyads,
        "mentors": mentors,
        "launch_day": launch,
        "initial_caseload": draw(st.integers(0, slots)) if launch == 0 else 0,
        "initial_waitlist": draw(st.integers(0, 5)) if launch == 0 else 0,
    }
    program = {
        "caseload_cap": cap,
        "solo_caseload_cap": solo,
        "waitlist_policy": draw(st.sampled_from(["waitlist", "waitlist", "divert"])),
        "max_wait_days": draw(st.sampled_from([30.0, None, 0.0, 7.0, 90.0])),
        "service_days": service,
        "disengagement_probability": draw(st.sampled_from([0.3, 0.0, 0.3, 1.0])),
        "max_extensions": draw(st.integers(0, 3)),
        "extension_days": draw(st.sampled_from([{"dist": "fixed", "value": 30.0}, {"dist": "fixed", "value": 0.0},
                                                 {"dist": "exponential", "mean": 20.0}])),
    }
    county["hiring"] = draw(st.sampled_from([[], [{"day": 60.0, "caseworkers": 1, "mentors": 1}],
                                             [{"day": 0.0, "mentors": 2}, {"day": 200.0, "caseworkers": 2}]]))
    workforce = {
        "caseworker_turnover_per_year": draw(st.sampled_from([0.0, 0.5, 3.0])),
        "mentor_turnover_per_year": draw(st.sampled_from([0.0, 0.5, 3.0])),
        "replace_leavers": draw(st.booleans()),
        "hiring_lag_days": {"dist": "exponential", "mean": draw(st.sampled_from([5.0, 60.0]))},
        "training_days": {"dist": "fixed", "value": draw(st.sampled_from([0.0, 30.0]))},
        "mentor_fte": mentor_fte,
    }
    # a county must launch within the horizon (the validator refuses a scenario where none does)
    horizon_years = 1.5 if launch >= 0.5 * 365.25 else draw(st.sampled_from([1.5, 0.5]))
    return ss.Scenario(name="prop", horizon_years=horizon_years, runout_years=0.5,
                       counties=[county], program=program, workforce=workforce)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sc=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_in_random_scenarios(sc, seed):
    runs, auditor = audited(sc, seed)
    check_final(sc, runs)
    check_kpis(sc, runs)
    event(f"a dyad reached its cap: {auditor.saw_full_dyad}")
    event(f"waitlist used: {auditor.max_waitlist > 0}")


def test_final_states_add_up_per_arm_in_a_run():
    """The same through the public ``run``: family rows and KPIs agree, replication by replication."""
    sc = busy()
    res = ss.run(sc, replications=3, seed=2)
    fams = res.families
    for rep, k in res.kpis.set_index("replication").iterrows():
        rows = fams[fams["replication"] == rep]
        states = Counter(rows["state"])
        assert sum(states.values()) == k["families_referred"], (
            f"rep {rep}: family rows by state {dict(states)} add up to {sum(states.values())}, "
            f"families_referred is {k['families_referred']}"
        )
        started = int((rows["service"] == "start").sum())
        assert started == k["families_started"], f"rep {rep}: {started} START rows vs families_started {k['families_started']}"
        assert states[State.IN_START] + states[State.CLOSED_START] == started, f"rep {rep}: START states {dict(states)} vs {started}"
        assert (rows.loc[rows["service"] == "start", "wait_days"] >= 0).all(), f"rep {rep}: negative wait_days"
        assert np.isnan(rows.loc[rows["service"] != "start", "wait_days"]).all(), (
            f"rep {rep}: a family not served by START has a wait_days value"
        )


def test_case_records_match_state():
    """Every Case's fields agree with its final state (a check on the record, not only the counts)."""
    sc = busy()
    for run in simulate(sc, 3, 0):
        for c in run.start + run.usual:
            c: Case
            if c.state == State.USUAL:
                assert c.caseworker == -1 and math.isnan(c.assigned_day), f"family {c.family.index}: usual case with a dyad"
                assert c.route in ("no_program", "before_launch", "diverted", "reneged"), f"route {c.route!r}"
            if c.state == State.IN_START:
                assert math.isnan(c.closure_day), f"family {c.family.index}: open START case with a closure day"
            if c.state == State.CLOSED_START:
                assert not math.isnan(c.closure_day), f"family {c.family.index}: closed START case without closure day"


def test_preexisting_cases_before_a_later_launch():
    """A county with an initial caseload already runs START, so a later launch_day contradicts it.

    Either the scenario is rejected, or the run stays consistent: no START case open
    before launch_day and utilisation within [0, 1]. (It once ran: pre-existing cases were
    served before launch while slot-days counted only from launch, so utilisation was 1.8.)
    """
    try:
        sc = ss.Scenario(
            name="late-launch",
            horizon_years=2,
            runout_years=0.5,
            counties=[{"name": "L", "referrals_per_year": 10, "dyads": 1, "launch_day": 400.0,
                       "initial_caseload": 2, "initial_waitlist": 1}],
            program={"caseload_cap": 3},
        )
    except ValueError:
        return  # rejected at validation: consistent
    runs = simulate(sc, 1, 0)
    early = [c for c in runs[0].start if c.service == "start" and c.assigned_day < sc.counties[0].launch_day]
    util = summarise(sc, runs, 0).kpis["dyad_utilization"]
    assert not early and util <= 1 + EPS, (
        f"{len(early)} START cases open before launch_day {sc.counties[0].launch_day}; "
        f"dyad_utilization {util:.3f} exceeds 1 by {util - 1:+.3f}"
    )
