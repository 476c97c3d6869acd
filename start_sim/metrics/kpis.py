"""Every KPI in one dictionary (key, label, unit, definition), and their computation.

Tables, plots and the CLI read labels and units from ``METRICS``. Outcome KPIs come in
two arms: ``_start`` (families served by START, in the START run) and ``_usual`` (the
same families in the usual-services run), so each replication gives paired outcomes.
Cost KPIs cover every eligible family referred within the horizon, in both runs.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from start_sim.inputs.schema import Scenario
from start_sim.outcomes import costs
from start_sim.outcomes.budget import budget_rows
from start_sim.outcomes.family_outcomes import Outcome, family_outcome
from start_sim.sim.model import WAITING, Case
from start_sim.sim.replication import CountyRun, gc_paused
from start_sim.sim.staff import CASEWORKER, MENTOR, Post


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    definition: str
    arms: bool = False  # True: reported as key_start and key_usual


METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("families_referred", "Eligible families referred", "families", "eligible referrals within the horizon"),
    Metric("families_started", "Families started in START", "families", "referred families assigned to a dyad"),
    Metric("families_diverted", "Families diverted", "families",
           "referred families served by usual services because no slot opened in time (or at once, policy divert)"),
    Metric("mean_days_to_assignment", "Mean wait for a dyad", "days", "referral to assignment, families started"),
    Metric("p90_days_to_assignment", "90th percentile wait", "days", "referral to assignment, families started"),
    Metric("share_assigned_within_14d", "Assigned within 14 days", "share",
           "share of families referred where START runs (after launch) assigned to a dyad within 14 days"),
    Metric("mean_waitlist", "Mean waitlist", "families", "time-average number waiting over the horizon"),
    Metric("mean_caseload", "Mean START caseload", "families", "time-average open START cases over the horizon"),
    Metric("dyad_utilization", "Dyad utilisation", "share",
           "time-average caseload on a caseworker / caseload slots over the horizon"),
    Metric("caseworker_fte", "START caseworkers in post", "FTE", "time-average over the horizon, training included"),
    Metric("mentor_fte", "Mentors in post", "FTE", "time-average over the horizon, training included"),
    Metric("vacancy_days", "Vacant post-days", "days", "days posts stood open before a hire, within the horizon"),
    Metric("families_reassigned", "Families reassigned", "families",
           "moves of open START cases to another caseworker (a leaver's, or over a lowered cap), whole run"),
    Metric("mean_days_to_treatment", "Days to treatment", "days", "referral to treatment entry, parents entering", True),
    Metric("sobriety_rate_at_closure", "Sobriety at closure", "share", "parents in recovery when the case closes", True),
    Metric("sobriety_rate_12m", "Sobriety at 12 months", "share",
           "parents in recovery 12 months after referral (the same moment in both arms)", True),
    Metric("placement_rate_12m", "Placed within 12 months", "share of children",
           "children placed out of home within 12 months of referral (removal at investigation included)", True),
    Metric("placement_rate_during_service", "Placed during the case", "share of children",
           "children placed between referral and case closure (removal at investigation included)", True),
    Metric("placement_days", "Days in care per child", "days",
           "child-days in out-of-home care from referral to the end of the follow-up window, per child", True),
    Metric("home_at_closure_rate", "Home at closure", "share of children",
           "children with or reunified with a parent when the case closes", True),
    Metric("reunification_rate_if_placed", "Reunified if placed", "share of children",
           "placed children reunified within the follow-up window", True),
    Metric("recurrence_rate_12m", "Re-report within 12 months", "share of families",
           "maltreatment re-report within 12 months of referral (START monitoring raises reporting)", True),
    Metric("recurrence_after_closure_12m", "Re-report 12 months after closure", "share of families",
           "maltreatment re-report within the follow-up after closure", True),
    Metric("reentry_rate_12m", "Re-entry within 12 months", "share of children",
           "reunified children who re-enter care within 12 months of reunification", True),
    Metric("placement_after_closure_12m", "Placed within 12 months of closure", "share of children",
           "children at home at closure who enter care within the follow-up after closure", True),
    Metric("program_cost", "START program cost", "USD (PV)", "START staff and training, launch to horizon"),
    Metric("placement_cost", "Out-of-home care cost", "USD (PV)",
           "care of all referred families' children over the follow-up window", True),
    Metric("treatment_cost", "Treatment cost", "USD (PV)", "treatment episodes of referred parents (payer: Medicaid/state)", True),
    Metric("savings_vs_usual", "Placement cost avoided", "USD (PV)", "placement_cost_usual - placement_cost_start"),
    Metric("net_savings", "Net savings", "USD (PV)", "savings_vs_usual - program_cost"),
    Metric("savings_per_dollar", "Savings per $1", "USD per USD", "savings_vs_usual / program_cost"),
    Metric("cost_per_placement_avoided", "Cost per placement avoided", "USD",
           "program_cost / (children placed within 12 months: usual - START); nan if none avoided"),
]}


def kpi_columns() -> list[str]:
    cols = []
    for m in METRICS.values():
        cols += [f"{m.key}_start", f"{m.key}_usual"] if m.arms else [m.key]
    return cols


def _overlap(a: np.ndarray, b: np.ndarray, lo: float, hi: float) -> float:
    return float(np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None).sum())


def _rate(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _arm_kpis(outs: list[Outcome]) -> dict[str, float]:
    kids = np.array([o.children for o in outs], dtype=float)
    def cw(values: list[float]) -> float:  # child-weighted mean over observed values
        v = np.array(values, dtype=float)
        ok = ~np.isnan(v)
        return _rate(float((v[ok] * kids[ok]).sum()), float(kids[ok].sum()))
    placed = np.array([o.placed_window for o in outs])
    reunified = [float(o.reunified) if o.placed_window else math.nan for o in outs]
    tx = np.array([o.days_to_treatment for o in outs], dtype=float)
    sober = np.array([o.sober_at_closure for o in outs], dtype=float)
    after = np.array([o.report_after_closure_12m for o in outs], dtype=float)
    return {
        "mean_days_to_treatment": float(np.nanmean(tx)) if np.any(~np.isnan(tx)) else math.nan,
        "sobriety_rate_at_closure": float(np.nanmean(sober)) if np.any(~np.isnan(sober)) else math.nan,
        "placement_rate_12m": cw([float(o.placed_12m) for o in outs]),
        "placement_days": cw([o.placement_days for o in outs]),
        "home_at_closure_rate": cw([o.home_at_closure for o in outs]),
        "reunification_rate_if_placed": cw(reunified) if placed.any() else math.nan,
        "recurrence_rate_12m": float(np.mean([o.report_12m for o in outs])) if outs else math.nan,
        "recurrence_after_closure_12m": float(np.nanmean(after)) if np.any(~np.isnan(after)) else math.nan,
        "reentry_rate_12m": cw([o.reentered_12m for o in outs]),
        "sobriety_rate_12m": _nanmean([o.sober_12m for o in outs]),
        "placement_rate_during_service": cw([o.placed_during_service for o in outs]),
        "placement_after_closure_12m": cw([o.placed_after_closure_12m for o in outs]),
    }


def _nanmean(values: list[float]) -> float:
    v = np.array(values, dtype=float)
    return float(np.nanmean(v)) if np.any(~np.isnan(v)) else math.nan


@dataclass
class ReplicationOutput:
    """Tidy results of one replication."""

    kpis: dict[str, float]
    timeseries: list[dict]
    families: list[dict]
    county_kpis: list[dict] = field(default_factory=list)  # the KPIs of each county alone
    budget: list[dict] = field(default_factory=list)  # nominal costs by programme year (see ``budget``)


def wait_interval(case: Case) -> tuple[float, float]:
    """[referral, end of waiting) for the START waitlist; zero length if the family never waited."""
    ref = case.family.referral_day
    if case.service == "start":
        return ref, case.assigned_day
    if case.route in ("reneged", "diverted"):
        return ref, case.diverted_day
    return (ref, math.inf) if case.state == WAITING else (ref, ref)


def case_interval(case: Case) -> tuple[float, float]:
    """[assignment, closure) of a START case; empty for usual services."""
    if case.service != "start":
        return 0.0, 0.0
    return case.assigned_day, case.closure_day if not math.isnan(case.closure_day) else math.inf


def summarise(sc: Scenario, runs: list[CountyRun], replication: int) -> ReplicationOutput:
    """KPIs, monthly time series and family rows for one replication."""
    with gc_paused():
        return _summarise(sc, runs, replication)


def _summarise(sc: Scenario, runs: list[CountyRun], replication: int) -> ReplicationOutput:
    parts: list[tuple[CountyRun, dict[str, list[Outcome]]]] = []
    families: list[dict] = []
    timeseries: list[dict] = []
    for run in runs:
        county = sc.counties[run.county]
        outs = {arm: [family_outcome(sc, c) for c in cases] for arm, cases in (("start", run.start), ("usual", run.usual))}
        parts.append((run, outs))
        for cs, cu, os_, ou in zip(run.start, run.usual, outs["start"], outs["usual"], strict=True):
            if not cs.family.pre_existing and cs.family.referral_day < sc.horizon_days:
                families.append(_family_row(county.name, run.county, cs, cu, os_, ou))
        timeseries += monthly(sc, run, outs, replication)
    by_county = [{"replication": replication, "county": sc.counties[run.county].name, **_kpis(sc, [(run, outs)])}
                 for run, outs in parts]
    return ReplicationOutput({"replication": replication, **_kpis(sc, parts)}, timeseries, families, by_county,
                             budget_rows(sc, parts, replication))


def _kpis(sc: Scenario, parts: list[tuple[CountyRun, dict[str, list[Outcome]]]]) -> dict[str, float]:
    """The KPIs of the given counties together (one county alone, or the whole scenario)."""
    H = sc.horizon_days
    served: dict[str, list[Outcome]] = {"start": [], "usual": []}
    cohort: dict[str, list[Outcome]] = {"start": [], "usual": []}
    referred: list[Case] = []
    wait_area = case_area = unassigned_area = slot_days = program_cost = 0.0
    staff_totals = {CASEWORKER: 0.0, MENTOR: 0.0, "vacant": 0.0}
    reassigned = 0
    for run, outs in parts:
        program_cost += costs.staff_cost(sc.costs, run.posts, H)
        slot_days += _step_integral(run.slot_log, H)
        for key, value in _staff_days(run.posts, H).items():
            staff_totals[key] += value
        reassigned += run.families_reassigned
        for cs, os_, ou in zip(run.start, outs["start"], outs["usual"], strict=True):
            w0, w1 = wait_interval(cs)
            wait_area += max(0.0, min(w1, H) - min(w0, H))
            c0, c1 = case_interval(cs)
            case_area += max(0.0, min(c1, H) - min(c0, H))
            for u0, u1 in cs.unassigned:
                unassigned_area += max(0.0, min(u1, H) - min(u0, H))
            f = cs.family
            if f.pre_existing or f.referral_day >= H:
                continue
            referred.append(cs)
            cohort["start"].append(os_)
            cohort["usual"].append(ou)
            if cs.service == "start":
                served["start"].append(os_)
                served["usual"].append(ou)
    started = [c for c in referred if c.service == "start"]
    waits = np.array([c.wait_days for c in started])
    k: dict[str, float] = {
        "families_referred": len(referred),
        "families_started": len(started),
        "families_diverted": sum(c.route in ("reneged", "diverted") for c in referred),
        "mean_days_to_assignment": float(waits.mean()) if len(waits) else math.nan,
        "p90_days_to_assignment": float(np.percentile(waits, 90)) if len(waits) else math.nan,
        "share_assigned_within_14d": _rate(float((waits <= 14).sum()),
                                           sum(c.route not in ("no_program", "before_launch") for c in referred)),
        "mean_waitlist": wait_area / H,
        "mean_caseload": case_area / H,
        "dyad_utilization": _rate(case_area - unassigned_area, slot_days),
        "caseworker_fte": staff_totals[CASEWORKER] / H,
        "mentor_fte": staff_totals[MENTOR] / H,
        "vacancy_days": staff_totals["vacant"],
        "families_reassigned": reassigned,
    }
    for arm in ("start", "usual"):
        for key, value in _arm_kpis(served[arm]).items():
            k[f"{key}_{arm}"] = value
        k[f"placement_cost_{arm}"] = sum(o.placement_cost for o in cohort[arm])
        k[f"treatment_cost_{arm}"] = sum(o.treatment_cost for o in cohort[arm])
    k["program_cost"] = program_cost
    k["savings_vs_usual"] = k["placement_cost_usual"] - k["placement_cost_start"]
    k["net_savings"] = k["savings_vs_usual"] - program_cost
    k["savings_per_dollar"] = _rate(k["savings_vs_usual"], program_cost)
    avoided = sum(o.children * o.placed_12m for o in cohort["usual"]) - sum(
        o.children * o.placed_12m for o in cohort["start"])
    k["cost_per_placement_avoided"] = program_cost / avoided if avoided > 0 else math.nan
    return k


def _step_integral(log: list[tuple[float, int]], until: float) -> float:
    """Integral over [0, until] of a step function given as (day, value from that day)."""
    total = 0.0
    for (day, value), (nxt, _) in zip(log, [*log[1:], (math.inf, 0)], strict=True):
        total += value * max(0.0, min(nxt, until) - min(day, until))
    return total


def _staff_days(posts: list[Post], until: float) -> dict[str, float]:
    """FTE-days in post by role, and vacant post-days, within [0, until]."""
    out = {CASEWORKER: 0.0, MENTOR: 0.0, "vacant": 0.0}
    for p in posts:
        out[p.role] += p.fte * max(0.0, min(p.left, until) - min(p.hired, until))
        out["vacant"] += max(0.0, min(p.hired, until) - min(p.opened, until))
    return out


_FAMILY_KEYS = ("county", "family", "tag", "referral_day", "children", "youngest_age", "substance", "two_parent",
                "high_severity", "removed_at_investigation", "state", "service", "route", "dyad", "mentor",
                "assigned_day", "diverted_day", "wait_days")


@cache
def _arm_keys(arm: str, kinds: tuple[str, ...]) -> tuple[str, ...]:
    """Column names of one arm's part of a family row, ``kinds`` being the placement types."""
    return (
        f"closure_day_{arm}", f"extensions_{arm}", f"modality_{arm}", f"tx_start_day_{arm}", f"tx_exit_day_{arm}",
        f"sober_at_closure_{arm}", f"sober_12m_{arm}", f"placed_12m_{arm}", f"placements_{arm}", f"placement_days_{arm}",
        f"home_days_{arm}", f"other_permanency_days_{arm}", *(f"{kind}_days_{arm}" for kind in kinds),
        f"first_exit_{arm}", f"report_12m_{arm}", f"placement_cost_{arm}", f"treatment_cost_{arm}",
    )


def _family_row(county: str, county_index: int, cs: Case, cu: Case, os_: Outcome, ou: Outcome) -> dict:
    f = cs.family
    row = dict(zip(_FAMILY_KEYS, (
        county, f"{county_index}-{f.index}", f.tag, f.referral_day, f.children, f.youngest_age, f.substance,
        f.two_parent, f.high_severity, f.removed_at_investigation, cs.state, cs.service, cs.route, cs.dyad,
        cs.mentor, cs.assigned_day, cs.diverted_day, cs.wait_days,
    ), strict=True))
    for arm, c, o in (("start", cs, os_), ("usual", cu, ou)):
        row.update(zip(_arm_keys(arm, tuple(o.care_days)), (
            c.closure_day, c.extensions, c.modality if c.takes_up else "", c.tx_start_day, c.tx_exit_day,
            o.sober_at_closure, o.sober_12m, o.placed_12m, len(o.episodes), o.placement_days, o.home_days, o.other_days,
            *o.care_days.values(),
            o.episodes[0].exit if o.episodes else "", o.report_12m, o.placement_cost, o.treatment_cost,
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
    days = np.arange(int(sc.end_days // (365.25 / 12)) + 1) * (365.25 / 12)
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
    """Present value spent by each day: START staff (``program_cost_cum``, to the horizon) and care
    of the horizon's referred families' children within their follow-up window
    (``placement_cost_cum_start``, ``_usual``). On the last day they equal the KPIs
    ``program_cost`` and ``placement_cost_*`` (summed over counties)."""
    H = sc.horizon_days
    out = {"program_cost_cum": [costs.staff_cost(sc.costs, run.posts, min(d, H)) for d in days.tolist()]}
    delta = -math.log(costs.discount(sc.costs, 1.0))
    window = sc.runout_years * 365.25
    for arm, arm_outs in outs.items():
        cases = run.start if arm == "start" else run.usual
        spells = [
            (max(ep.start, c.family.referral_day), min(ep.end, c.family.referral_day + window),
             costs.care_cost_per_child_day(sc.costs, ep.kind) * o.children)
            for c, o in zip(cases, arm_outs, strict=True)
            if not c.family.pre_existing and c.family.referral_day < H
            for ep in o.episodes
        ]
        s, e, rate = np.array(spells, dtype=float).reshape(-1, 3).T
        end = np.minimum(e[:, None], days[None, :])
        paid = end > s[:, None]
        if delta == 0:
            pv = end - s[:, None]
        else:
            pv = (np.exp(-delta * s)[:, None] - np.exp(-delta * end)) / delta
        out[f"placement_cost_cum_{arm}"] = (np.where(paid, pv, 0.0) * rate[:, None]).sum(axis=0).tolist()
    return out
