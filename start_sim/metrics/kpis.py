"""A replication's KPIs (defined in ``metrics.registry``), for each county and for the whole
scenario, with its monthly series, family rows and budget view (``summarise``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from start_sim.inputs.schema import Scenario
from start_sim.metrics.regions import provider_kpis, region_rows
from start_sim.metrics.series import case_interval, family_row, monthly
from start_sim.outcomes import costs
from start_sim.outcomes.budget import budget_rows
from start_sim.outcomes.dispositions import DISPOSITIONS
from start_sim.outcomes.family_outcomes import Outcome, family_outcome, outcome_rates
from start_sim.outcomes.resources import wait_interval
from start_sim.sim.case import DIVERTED_ROUTES, UNOFFERED_ROUTES, Case, Route, Service, State, engaged
from start_sim.sim.family import in_cohort
from start_sim.sim.replication import CountyRun, gc_paused
from start_sim.sim.staff import CASEWORKER, MENTOR, Post


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
    return {
        "mean_days_to_treatment": _nanmean([o.days_to_treatment for o in outs]),
        "sobriety_rate_at_closure": _nanmean([o.sober_at_closure for o in outs]),
        "placement_rate_12m": cw([float(o.placed_12m) for o in outs]),
        "placement_days": cw([o.placement_days for o in outs]),
        "home_at_closure_rate": cw([o.home_at_closure for o in outs]),
        "reunification_rate_if_placed": cw(reunified) if placed.any() else math.nan,
        "recurrence_rate_12m": float(np.mean([o.report_12m for o in outs])) if outs else math.nan,
        "recurrence_after_closure_12m": _nanmean([o.report_after_closure_12m for o in outs]),
        "reentry_rate_12m": cw([o.reentered_12m for o in outs]),
        "sobriety_rate_12m": _nanmean([o.sober_12m for o in outs]),
        "placement_rate_during_service": cw([o.placed_during_service for o in outs]),
        "placement_after_closure_12m": cw([o.placed_after_closure_12m for o in outs]),
        **_dispositions(outs, kids),
    }


DISPOSITION_KPIS = {
    "parents": ("closure_with_parents_rate", "with_parents_12m_after_closure_rate"),
    "relatives": ("closure_with_relatives_rate", "with_relatives_12m_after_closure_rate"),
    "nonrelative": ("closure_in_nonrelative_care_rate", "in_nonrelative_care_12m_after_closure_rate"),
    "tpr_or_adopted": ("closure_tpr_or_adopted_rate", "tpr_or_adopted_12m_after_closure_rate"),
}
"""KPI keys of each closure disposition (``outcomes.dispositions``): at closure, and 12 months after."""


def _dispositions(outs: list[Outcome], kids: np.ndarray) -> dict[str, float]:
    """Child-weighted shares of the four dispositions, at closure and 12 months after, over the
    children whose day was observed: each child is in exactly one, so each set adds up to 1."""
    out: dict[str, float] = {}
    for i, attr in enumerate(("disposition_at_closure", "disposition_12m_after_closure")):
        got = np.array([getattr(o, attr) for o in outs], dtype=object)
        observed = float(kids[got != ""].sum()) if len(outs) else 0.0
        for d in DISPOSITIONS:
            out[DISPOSITION_KPIS[d][i]] = _rate(float(kids[got == d].sum()) if len(outs) else 0.0, observed)
    return out


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
    region_kpis: list[dict] = field(default_factory=list)  # the KPIs of each region's counties together


def summarise(sc: Scenario, runs: list[CountyRun], replication: int) -> ReplicationOutput:
    """KPIs, monthly time series and family rows for one replication."""
    with gc_paused():
        return _summarise(sc, runs, replication)


def _summarise(sc: Scenario, runs: list[CountyRun], replication: int) -> ReplicationOutput:
    parts: list[tuple[CountyRun, dict[str, list[Outcome]]]] = []
    families: list[dict] = []
    timeseries: list[dict] = []
    rates = outcome_rates(sc)
    for run in runs:
        county = sc.counties[run.county]
        outs = {arm: [family_outcome(sc, c, rates) for c in cases]
                for arm, cases in (("start", run.start), ("usual", run.usual))}
        parts.append((run, outs))
        for cs, cu, os_, ou in zip(run.start, run.usual, outs["start"], outs["usual"], strict=True):
            if in_cohort(cs.family, sc):
                families.append(family_row(county.name, run.county, cs, cu, os_, ou))
        timeseries += monthly(sc, run, outs, replication)
    facts: dict[int, _RunFacts] = {}  # each run's, read by its county, its region and the whole scenario
    kpis_of = partial(_kpis, facts=facts)
    by_county = [{"replication": replication, "county": sc.counties[run.county].name, "region": run.region,
                  **kpis_of(sc, [(run, outs)]), **provider_kpis(sc, [run])} for run, outs in parts]
    return ReplicationOutput({"replication": replication, **kpis_of(sc, parts)}, timeseries, families, by_county,
                             budget_rows(sc, parts, replication), region_rows(sc, parts, replication, kpis_of))


@dataclass(slots=True)
class _RunFacts:
    """What ``_kpis`` reads of one county run, the same whichever counties it is summed with:
    per-run totals, and per-case terms kept in case order (so every sum adds them in the same order)."""

    program_cost: float
    slot_days: float
    staff_days: dict[str, float]
    waits: list[float]  # each case's waitlist days within the horizon
    cases: list[float]  # each case's dyad-slot days within the horizon
    unassigned: list[float]  # each unassigned interval's days within the horizon
    referred: list[Case]
    cohort: dict[str, list[Outcome]]
    served: dict[str, list[Outcome]]
    offered: dict[str, list[Outcome]]


def _run_facts(sc: Scenario, run: CountyRun, outs: dict[str, list[Outcome]]) -> _RunFacts:
    H = sc.horizon_days
    f = _RunFacts(costs.staff_cost(sc.costs, run.posts, H), _step_integral(run.slot_log, H), _staff_days(run.posts, H),
                  [], [], [], [], {"start": [], "usual": []}, {"start": [], "usual": []}, {"start": [], "usual": []})
    for cs, os_, ou in zip(run.start, outs["start"], outs["usual"], strict=True):
        w0, w1 = wait_interval(cs)
        f.waits.append(max(0.0, min(w1, H) - min(w0, H)))
        c0, c1 = case_interval(cs)
        f.cases.append(max(0.0, min(c1, H) - min(c0, H)))
        for u0, u1 in cs.unassigned:
            f.unassigned.append(max(0.0, min(u1, H) - min(u0, H)))
        if not in_cohort(cs.family, sc):
            continue
        f.referred.append(cs)
        f.cohort["start"].append(os_)
        f.cohort["usual"].append(ou)
        if engaged(cs):
            f.served["start"].append(os_)
            f.served["usual"].append(ou)
        if cs.route not in UNOFFERED_ROUTES:
            f.offered["start"].append(os_)
            f.offered["usual"].append(ou)
    return f


def _kpis(sc: Scenario, parts: list[tuple[CountyRun, dict[str, list[Outcome]]]],
          facts: dict[int, _RunFacts] | None = None) -> dict[str, float]:
    """The KPIs of the given counties together (one county alone, or the whole scenario);
    ``facts``: each run's ``_RunFacts`` by ``id(run)``, filled as runs are met."""
    H = sc.horizon_days
    served: dict[str, list[Outcome]] = {"start": [], "usual": []}
    cohort: dict[str, list[Outcome]] = {"start": [], "usual": []}
    offered: dict[str, list[Outcome]] = {"start": [], "usual": []}  # intention to treat
    referred: list[Case] = []
    wait_area = case_area = unassigned_area = slot_days = program_cost = 0.0
    staff_totals = {CASEWORKER: 0.0, MENTOR: 0.0, "vacant": 0.0}
    reassigned = 0
    known = {} if facts is None else facts
    for run, outs in parts:
        f = known.get(id(run))
        if f is None:
            f = known[id(run)] = _run_facts(sc, run, outs)
        program_cost += f.program_cost
        slot_days += f.slot_days
        for key, value in f.staff_days.items():
            staff_totals[key] += value
        reassigned += run.families_reassigned
        for v in f.waits:
            wait_area += v
        for v in f.cases:
            case_area += v
        for v in f.unassigned:
            unassigned_area += v
        referred += f.referred
        for arm in ("start", "usual"):
            cohort[arm] += f.cohort[arm]
            served[arm] += f.served[arm]
            offered[arm] += f.offered[arm]
    started = [c for c in referred if c.service == Service.START or c.route == Route.NEVER_ENGAGED]
    waits = np.array([c.wait_days for c in started])
    k: dict[str, float] = {
        "families_referred": len(referred),
        "families_started": len(started),
        "families_diverted": sum(c.route in DIVERTED_ROUTES for c in referred),
        "families_waiting_at_end": sum(c.state == State.WAITING for c in referred),
        "families_before_launch": sum(c.route == Route.BEFORE_LAUNCH for c in referred),
        "mean_days_to_assignment": float(waits.mean()) if len(waits) else math.nan,
        "p90_days_to_assignment": float(np.percentile(waits, 90)) if len(waits) else math.nan,
        "share_assigned_within_14d": _rate(float((waits <= 14).sum()),
                                           sum(c.route not in (*UNOFFERED_ROUTES, Route.DECLINED) for c in referred)),
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
        for key in ("placement_cost", "treatment_cost", "subsidy_cost", "usual_casework_cost"):
            k[f"{key}_{arm}"] = sum([getattr(o, key) for o in cohort[arm]])
    k.update(cost_kpis(k, program_cost))
    avoided = sum(o.children * o.placed_12m for o in cohort["usual"]) - sum(
        o.children * o.placed_12m for o in cohort["start"])
    k["cost_per_placement_avoided"] = k["net_program_cost"] / avoided if avoided > 0 else math.nan
    k["families_declined"] = sum(c.route == Route.DECLINED for c in referred)
    k["families_never_engaged"] = sum(c.route == Route.NEVER_ENGAGED for c in referred)
    k["itt_families"] = len(offered["start"])
    k.update(itt_kpis(offered))
    return k


def itt_kpis(offered: dict[str, list[Outcome]]) -> dict[str, float]:
    """Intention to treat: every referred family to whom START was offered (served, declined,
    never engaged, disengaged, diverted or still waiting), in each arm, and the difference."""
    k: dict[str, float] = {}
    for arm, outs in offered.items():
        kids = float(sum(o.children for o in outs))
        k[f"itt_placement_rate_12m_{arm}"] = _rate(sum(o.children * o.placed_12m for o in outs), kids)
        k[f"itt_placement_days_{arm}"] = _rate(sum(o.children * o.placement_days for o in outs), kids)
        k[f"itt_placement_cost_{arm}"] = sum(o.placement_cost for o in outs)
    k["itt_placement_difference_12m"] = k["itt_placement_rate_12m_start"] - k["itt_placement_rate_12m_usual"]
    return k


def cost_kpis(k: dict[str, float], program_cost: float) -> dict[str, float]:
    """Gross and net programme cost, savings and the two ratios from the arms' cost KPIs."""
    credit = k["usual_casework_cost_usual"] - k["usual_casework_cost_start"]
    net_cost = program_cost - credit
    avoided = (k["placement_cost_usual"] + k["subsidy_cost_usual"]) - (k["placement_cost_start"] + k["subsidy_cost_start"])
    return {
        "program_cost": program_cost,
        "usual_casework_credit": credit,
        "net_program_cost": net_cost,
        "savings_vs_usual": avoided,
        "net_savings": avoided - net_cost,
        "savings_per_dollar": avoided / net_cost if net_cost > 0 else math.nan,
        "savings_per_dollar_gross": _rate(avoided, program_cost),
    }


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
