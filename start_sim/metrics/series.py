"""What a replication reports besides its KPIs: the monthly series of each county (caseload,
waitlist, staff, children in care, cumulative costs) and one row per referred family."""

from __future__ import annotations

import bisect
import math
from functools import cache

import numpy as np

from start_sim.core import discount
from start_sim.core.timebase import DAYS_PER_MONTH
from start_sim.inputs.schema import Scenario
from start_sim.outcomes import costs
from start_sim.outcomes.family_outcomes import Outcome
from start_sim.outcomes.resources import wait_interval
from start_sim.sim.case import Case, dyad_span
from start_sim.sim.family import in_cohort
from start_sim.sim.replication import CountyRun
from start_sim.sim.staff import CASEWORKER, MENTOR


def case_interval(case: Case) -> tuple[float, float]:
    """[assignment, release) of a dyad slot (a START case, or an outreach to a family that never
    engaged); empty for usual services."""
    return dyad_span(case, math.inf) or (0.0, 0.0)


_FAMILY_KEYS = ("county", "family", "tag", "referral_day", "children", "youngest_age", "substance", "two_parent",
                "high_severity", "removed_at_investigation", "state", "service", "route", "dyad", "mentor",
                "assigned_day", "diverted_day", "wait_days")


@cache
def _arm_keys(arm: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Column names of one arm's part of a family row, ``kinds`` being the placement types."""
    return (
        f"closure_day_{arm}", f"extensions_{arm}", f"modality_{arm}", f"tx_start_day_{arm}", f"tx_exit_day_{arm}",
        f"sober_at_closure_{arm}", f"sober_12m_{arm}", f"placed_12m_{arm}", f"placements_{arm}", f"placement_days_{arm}",
        f"home_days_{arm}", f"other_permanency_days_{arm}", f"kin_arrangement_days_{arm}",
        *(f"{kind}_days_{arm}" for kind in kinds),
        f"first_exit_{arm}", f"report_12m_{arm}", f"placement_cost_{arm}", f"treatment_cost_{arm}",
        f"subsidy_cost_{arm}", f"usual_casework_cost_{arm}",
    )


def family_row(county: str, county_index: int, cs: Case, cu: Case, os_: Outcome, ou: Outcome) -> dict:
    """One referred family's row of ``families.csv``: its attributes, then each arm's case and outcome."""
    f = cs.family
    row = dict(zip(_FAMILY_KEYS, (
        county, f"{county_index}-{f.index}", f.tag, f.referral_day, f.children, f.youngest_age, f.substance,
        f.two_parent, f.high_severity, f.removed_at_investigation, cs.state, cs.service, cs.route, cs.caseworker,
        cs.mentor, cs.assigned_day, cs.diverted_day, cs.wait_days,
    ), strict=True))
    for arm, c, o in (("start", cs, os_), ("usual", cu, ou)):
        row.update(zip(_arm_keys(arm, tuple(o.care_days)), (
            c.closure_day, c.extensions, c.modality if c.takes_up else "", c.tx_start_day, c.tx_exit_day,
            o.sober_at_closure, o.sober_12m, o.placed_12m, len(o.episodes), o.placement_days, o.home_days, o.other_days,
            o.kin_days, *o.care_days.values(),
            o.episodes[0].exit if o.episodes else "", o.report_12m, o.placement_cost, o.treatment_cost,
            o.subsidy_cost, o.usual_casework_cost,
        ), strict=True))
    return row


def _active(intervals: np.ndarray, days: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Total weight (default: number) of the intervals [start, end) that contain each day.

    Counted as intervals started by the day minus intervals ended by it, by binary search
    in the sorted ends; empty, reversed or NaN intervals contain no day and are dropped.
    Weights are whole numbers (children), so the running sums are exact.
    """
    keep = intervals[:, 0] < intervals[:, 1]
    start, end = intervals[keep, 0], intervals[keep, 1]
    if weights is None:
        return np.searchsorted(np.sort(start), days, side="right") - np.searchsorted(np.sort(end), days, side="right")
    w = weights[keep]
    by_start, by_end = np.argsort(start), np.argsort(end)
    started = np.concatenate(([0.0], np.cumsum(w[by_start])))[np.searchsorted(start[by_start], days, side="right")]
    ended = np.concatenate(([0.0], np.cumsum(w[by_end])))[np.searchsorted(end[by_end], days, side="right")]
    return started - ended


def monthly(sc: Scenario, run: CountyRun, outs: dict[str, list[Outcome]], replication: int) -> list[dict]:
    """One county's state at the start of each month: caseload, waitlist, children in care."""
    county = sc.counties[run.county]
    days = np.arange(int(sc.end_days // DAYS_PER_MONTH) + 1) * DAYS_PER_MONTH
    waitlist = _active(np.array([wait_interval(c) for c in run.start]).reshape(-1, 2), days).tolist()
    caseload = _active(np.array([case_interval(c) for c in run.start]).reshape(-1, 2), days).tolist()
    unassigned = _active(np.array([u for c in run.start for u in c.unassigned]).reshape(-1, 2), days).tolist()
    log = run.slot_log
    slots = [log[bisect.bisect_right(log, (d, math.inf)) - 1][1] for d in days.tolist()]
    by_role = {role: np.array([(p.hired, p.left, p.fte) for p in run.posts if p.role == role]).reshape(-1, 3)
               for role in (CASEWORKER, MENTOR)}
    caseworkers = _active(by_role[CASEWORKER][:, :2], days).tolist()
    mentor_fte = _active(by_role[MENTOR][:, :2], days, by_role[MENTOR][:, 2]).tolist()
    vacancies = _active(np.array([(p.opened, p.hired) for p in run.posts]).reshape(-1, 2), days).tolist()
    cumulative = cumulative_costs(sc, run, outs, days)
    care: dict[str, list[float]] = {}
    for arm, arm_outs in outs.items():
        spells = np.array([(ep.start, ep.end, o.children) for o in arm_outs for ep in o.episodes]).reshape(-1, 3)
        care[arm] = _active(spells[:, :2], days, spells[:, 2]).tolist()
    return [
        {
            "replication": replication, "county": county.name, "month": i, "day": d,
            "caseload": caseload[i],
            "waitlist": waitlist[i],
            "unassigned": unassigned[i],
            "slots": slots[i],
            "caseworkers": caseworkers[i],
            "mentor_fte": mentor_fte[i],
            "vacancies": vacancies[i],
            "children_in_care_start": care["start"][i],
            "children_in_care_usual": care["usual"][i],
            **{key: values[i] for key, values in cumulative.items()},
        }
        for i, d in enumerate(days.tolist())
    ]


def cumulative_costs(sc: Scenario, run: CountyRun, outs: dict[str, list[Outcome]], days: np.ndarray) -> dict[str, list[float]]:
    """Present value spent by each day: START staff (``program_cost_cum``, to the horizon) and, for
    the horizon's referred families within their follow-up window, care (``placement_cost_cum_*``),
    subsidies after exit (``subsidy_cost_cum_*``) and usual-services casework
    (``usual_casework_cost_cum_*``). On the last day they equal the KPIs ``program_cost``,
    ``placement_cost_*``, ``subsidy_cost_*`` and ``usual_casework_cost_*`` (summed over counties)."""
    c = sc.costs
    H = sc.horizon_days
    out = {"program_cost_cum": costs.staff_cost_by(c, run.posts, [min(d, H) for d in days.tolist()])}
    pr = costs.prices(c)
    for arm, arm_outs in outs.items():
        cases = run.start if arm == "start" else run.usual
        cohort = [o for case, o in zip(cases, arm_outs, strict=True) if in_cohort(case.family, sc)]
        items = {
            "placement_cost_cum": [(s.start, s.end, pr.care[s.kind, s.worked] * o.children)
                                   for o in cohort for s in o.care],
            "subsidy_cost_cum": [(a, b, pr.subsidy[kind] * o.children) for o in cohort for kind, a, b in o.subsidies],
            "usual_casework_cost_cum": [(a, b, pr.usual_casework) for o in cohort for a, b in o.casework],
        }
        for key, spells in items.items():
            s, e, rate = np.array(spells, dtype=float).reshape(-1, 3).T
            pv = discount.flow(pr.delta, s[:, None], np.minimum(e[:, None], days[None, :]))
            out[f"{key}_{arm}"] = (pv * rate[:, None]).sum(axis=0).tolist()
    return out
