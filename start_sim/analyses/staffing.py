"""The staffing search: the smallest number of dyads per county that meets a service target.

A planner names one or more service targets (all must hold), e.g. ``assigned_within_days=14@0.9``
and ``diverted_share<=0.05`` (:mod:`start_sim.analyses.service_targets`).

**Method.** Each county is sized alone, with a constant headcount from its launch
(:mod:`start_sim.analyses.candidate_runs`); the counties of a region with shared dyads are left to
:mod:`start_sim.analyses.region_sizing`, which sizes the region as a whole.

1. *Analytic estimate* (:mod:`start_sim.analyses.staffing_estimate`): Little's law and Erlang
   C (or Erlang B under ``waitlist_policy = "divert"``) give the smallest ``n`` whose formulas
   meet every target; the chance that a closure check extends a case comes from a pilot
   replication with ample capacity.
2. *Simulation on common random numbers*: starting at the analytic minimum the search steps
   down while the smaller count still meets the targets, or up until one does: the answer is
   the smallest ``n`` whose *mean* service level over the replications meets every target,
   while ``n - 1`` does not.

**Two answers** (:mod:`start_sim.analyses.steady_state`): *at maturity*, the service levels of the
families referred after a warm-up (the default answer: a START case lasts over a year, so the
first years' waits are shorter than the waits the county settles at), and the *first year
after launch*, measured from the scenario's starting state. ``steady_state=False`` measures
from launch to the horizon instead (the search before issue 12).

Mentors keep the county's ratio to caseworkers. A county with pre-existing open cases cannot
have fewer slots than those cases: that floor is reported.

The uncertainty of the answer: the service level at the chosen ``n`` with its 95% t-interval
over replications, and the share of replications in which every target is met
(``p_meets``): a planner who wants, say, 80% confidence rather than a mean asks for
``confidence = 0.8`` (``size --confidence 0.8``), and the search then needs both.

Staff leave: where the scenario sets no turnover or hiring lag, ``start-sim size`` sizes with
:data:`SIZING_WORKFORCE` (turnover 0.3 a year [Casey-turnover], a gamma hiring lag), not the
schema's no-turnover defaults, which overstate how often the answer meets the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from start_sim.analyses.candidate_runs import Evaluator
from start_sim.analyses.service_targets import TARGET_SYNTAX, ServiceTarget, parse_target
from start_sim.analyses.staffing_estimate import (
    MAX_DYADS,
    analytic_dyads,
    arrival_rate,
    mean_days_in_start,
    mentors_for,
    post_availability,
    slots_for,
)
from start_sim.analyses.steady_state import AS_GIVEN, Window, window_for
from start_sim.core.dotted import show
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.experiments.executor import Executor
from start_sim.inputs.regions import shared_dyad_counties
from start_sim.inputs.schema import County, Scenario
from start_sim.outcomes.costs import staff_cost_per_day

SIZING_WORKFORCE = {
    "caseworker_turnover_per_year": 0.3,  # the U.S. average of 0.2-0.4 [Casey-turnover]
    "mentor_turnover_per_year": 0.2,  # not published [gap 8: assumption], as the bundled rollout scenarios
    "hiring_lag_days": {"dist": "gamma", "mean": 60, "sd": 20},  # [assumption], as the bundled rollout scenarios
}
"""Staffing dynamics the search assumes where the scenario gives none: the schema's defaults (no
turnover, a fixed lag) would size for staff who never leave."""


def fill_sizing_defaults(data: dict[str, Any]) -> list[str]:
    """Give the scenario data (as read, before validation) :data:`SIZING_WORKFORCE` where neither
    the scenario's ``[workforce]`` nor a county's own ``workforce`` table sets a key; returns
    what was filled, in words."""
    notes = []
    tables = [("workforce", data.setdefault("workforce", {}))]
    tables += [(f"{c.get('name')}'s workforce", c["workforce"]) for c in data.get("counties", [])
               if isinstance(c, dict) and isinstance(c.get("workforce"), dict)]
    for where, table in tables:
        if not isinstance(table, dict):
            continue
        for key, value in SIZING_WORKFORCE.items():
            if key not in table:
                table[key] = value
                notes.append(f"{where}.{key} = {show(value)}")
    return notes


def meets(e: Any, confidence: float | None) -> bool:
    """A candidate's verdict: the mean service level meets every target and, when a
    ``confidence`` is asked for, so does that share of replications (``p_meets``)."""
    return bool(e.meets) and (confidence is None or e.p_meets >= confidence - 1e-12)


PILOT_REPLICATIONS = 2
"""Replications of the ample-capacity pilot that measures how often a closure check extends a case."""

Progress = Callable[[str], None]


@dataclass
class CountySizing:
    """The answer for one county."""

    county: str
    launch_day: float
    dyads_in_scenario: int
    dyads: int  # the smallest count meeting every target (or the last tried if none did)
    caseworkers: int
    mentors: int
    analytic_dyads: int
    analytic_utilisation: float
    floor: int  # fewest dyads that hold the county's pre-existing open cases
    reached: bool
    targets: tuple[ServiceTarget, ...]
    levels: list[tuple[float, float, float]]  # per target: mean, ci_low, ci_high at ``dyads``
    below: list[float] | None  # per target: mean at dyads - 1 (None if dyads is the floor)
    p_meets: float
    utilisation: float
    annual_cost: float
    hiring_lead_days: float
    open_posts_day: float
    arrival_per_year: float
    mean_days_in_start: float
    extend_probability: float
    mentors_in_scenario: int = 0
    running: bool = False  # the county already runs START (pre-existing cases on day 0)
    tried: dict[int, bool] = field(default_factory=dict)
    window: Window = AS_GIVEN  # where the service levels were measured

    def note(self) -> str:
        """The hiring schedule implied, in one sentence."""
        lead = self.hiring_lead_days
        if self.running:
            diff = self.dyads - self.dyads_in_scenario
            if diff > 0:
                more_m = max(0, self.mentors - self.mentors_in_scenario)
                return (f"{self.county}: runs START with {self.dyads_in_scenario} dyads; open {diff} caseworker and "
                        f"{more_m} mentor posts now: they take families after {lead:.0f} days (hiring lag + training)")
            if diff < 0:
                return (f"{self.county}: {self.dyads_in_scenario} dyads in post; {self.dyads} meet the target "
                        f"({-diff} posts could be left unfilled as staff leave)")
            return f"{self.county}: the {self.dyads} dyads in post are the minimum"
        when = self.open_posts_day
        day = f"day {when:.0f}" if when >= 0 else f"{-when:.0f} days before day 0"
        return (f"{self.county}: open {self.caseworkers} caseworker and {self.mentors} mentor posts by {day} "
                f"({lead:.0f} days of hiring lag + training before the launch on day {self.launch_day:.0f})")


@dataclass
class Sizing:
    """The staffing search's answer for every county of a scenario."""

    scenario: Scenario
    targets: tuple[ServiceTarget, ...]
    replications: int
    seed: int
    counties: list[CountySizing]
    skipped: list[str] = field(default_factory=list)  # counties not sized, or what was left out of them
    confidence: float | None = None  # the share of replications asked to meet the targets (None: the mean)
    first_year: list[CountySizing] = field(default_factory=list)  # the same search in the first year after launch
    regions: list[Any] = field(default_factory=list)  # region_sizing.RegionSizing, one per region with shared dyads

    def table(self) -> pd.DataFrame:
        """One row per county: the answer, its service levels with 95% CI, cost and hiring dates."""
        rows = []
        for c in self.counties:
            row: dict[str, Any] = {
                "county": c.county, "dyads_needed": c.dyads, "caseworkers": c.caseworkers, "mentors": c.mentors,
                "target_met": c.reached, "dyads_in_scenario": c.dyads_in_scenario,
                "analytic_dyads": c.analytic_dyads, "analytic_utilisation": c.analytic_utilisation,
                "utilisation": c.utilisation,
            }
            for t, (m, lo, hi), b in zip(c.targets, c.levels, c.below or [math.nan] * len(c.targets), strict=True):
                row[t.column] = m
                row[f"{t.column}_ci_low"] = lo
                row[f"{t.column}_ci_high"] = hi
                row[f"{t.column}_one_fewer"] = b
            row.update({
                "p_meets_target": c.p_meets, "annual_staff_cost": c.annual_cost, "launch_day": c.launch_day,
                "hiring_lead_days": c.hiring_lead_days, "open_posts_day": c.open_posts_day,
                "eligible_per_year": c.arrival_per_year, "mean_days_in_start": c.mean_days_in_start,
                "extend_probability": c.extend_probability, "floor_dyads": c.floor,
                "measured": c.window.label, "warmup_days": c.window.warmup_days,
            })
            rows.append(row)
        first = {c.county: c for c in self.first_year}
        for row in rows:
            f = first.get(row["county"])
            if f is not None:
                row["dyads_first_year"] = f.dyads
                row["target_met_first_year"] = f.reached
                for t, (m, _, _) in zip(f.targets, f.levels, strict=True):
                    row[f"{t.column}_first_year"] = m
        for r in self.regions:
            rows += r.rows()
        df = pd.DataFrame(rows)
        if self.regions:  # a region's county rows have no count of their own: keep the counts whole numbers
            for col in ("dyads_needed", "caseworkers", "mentors", "dyads_in_scenario", "analytic_dyads",
                        "dyads_first_year"):
                if col in df:
                    df[col] = df[col].astype("Int64")
        return df


def annual_staff_cost(scenario: Scenario, county: County, dyads: int) -> float:
    """Caseworkers and mentors (at the mentor FTE) a year, with supervision and overhead
    (:func:`start_sim.outcomes.costs.staff_cost_per_day`, the one staff-cost loading)."""
    m = mentors_for(county, dyads)
    m = dyads if m is None else m
    fte = scenario.workforce_of(county).mentor_fte
    return staff_cost_per_day(scenario.costs, dyads, m * fte) * DAYS_PER_YEAR


def _floor(scenario: Scenario, county: County) -> int:
    n = 1
    while slots_for(scenario, county, n) < county.initial_caseload and n < MAX_DYADS:
        n += 1
    return n


def search(ev: Evaluator, n0: int, floor: int, ample: int, confidence: float | None) -> int:
    """From the analytic ``n0``, step down while the smaller count still meets the targets, or up
    until one does: the smallest count meeting them (or where the upward search gives up)."""
    n = n0
    if meets(ev(n), confidence):
        while n - 1 >= floor and meets(ev(n - 1), confidence):
            n -= 1
    else:
        limit = max(ample * 4, n0 + 50)  # where the upward search gives up (a search setting [assumption])
        while not meets(ev(n), confidence) and n < limit:
            n += 1
    return n


def size_county(scenario: Scenario, county_index: int, targets: Sequence[str | ServiceTarget], replications: int = 20,
                seed: int = 1, executor: Executor | None = None,
                progress: Progress | None = None, confidence: float | None = None,
                basis: str = "maturity", warmup_years: float | None = None) -> CountySizing:
    """The staffing search for one county (see the module docstring), measured ``basis``:
    ``"maturity"`` (after a warm-up of ``warmup_years``, default the rule of
    :func:`~start_sim.analyses.steady_state.maturity`), ``"first_year"`` or ``"as_given"``."""
    if basis not in ("maturity", "first_year", "as_given"):
        raise ValueError(f"basis = {basis!r}: allowed 'maturity', 'first_year', 'as_given'")
    tg = tuple(parse_target(t) for t in targets)
    county = scenario.counties[county_index]
    ev = Evaluator(scenario, county_index, tg, replications, seed, executor)
    floor = _floor(scenario, county)
    lam = arrival_rate(county, scenario.horizon_days)
    # pilot: ample capacity (3 times the Little's-law caseload, a search setting [assumption]), to measure how
    # often closure checks extend a case; with no closure check in the pilot, half (an even guess [assumption])
    ample = max(floor, county.dyads, math.ceil(3 * lam * mean_days_in_start(scenario.program, 1.0)
                                              / max(1, slots_for(scenario, county, 1))) + 1)
    pilot = ev(ample, replications=min(PILOT_REPLICATIONS, replications))
    mean_days = mean_days_in_start(scenario.program, pilot.extension_share)
    n0, rho0 = analytic_dyads(scenario, county, tg, mean_days, floor)
    c0 = slots_for(scenario, county, n0) * post_availability(scenario, county)  # the queue at the analytic answer
    window = window_for(basis, mean_days, county.launch_day, scenario.horizon_days, c0, lam * mean_days, warmup_years)
    if window is not AS_GIVEN:
        ev = Evaluator(scenario, county_index, tg, replications, seed, executor, window=window)
    if progress:
        progress(f"{county.name} ({window.label}): analytic estimate {n0} dyads")
    n = search(ev, n0, floor, ample, confidence)
    if progress:
        progress(f"{county.name} ({window.label}): {n} dyads")
    best = ev(n)
    below = [ev(n - 1).mean(i) for i in range(len(tg))] if n - 1 >= floor else None
    wf = scenario.workforce_of(county)
    lead = wf.hiring_lag_days.mean + wf.training_days.mean
    m = mentors_for(county, n)
    return CountySizing(
        county=county.name, launch_day=county.launch_day, dyads_in_scenario=county.dyads, dyads=n, caseworkers=n,
        mentors=n if m is None else m, analytic_dyads=n0, analytic_utilisation=rho0, floor=floor,
        reached=meets(best, confidence), targets=tg, levels=[(best.mean(i), *best.ci(i)) for i in range(len(tg))], below=below,
        p_meets=best.p_meets, utilisation=best.utilisation, annual_cost=annual_staff_cost(scenario, county, n),
        hiring_lead_days=lead, open_posts_day=county.launch_day - lead, arrival_per_year=lam * DAYS_PER_YEAR,
        mean_days_in_start=mean_days, extend_probability=pilot.extension_share,
        mentors_in_scenario=county.mentor_count, running=bool(county.initial_caseload or county.initial_waitlist) and county.dyads > 0,
        tried={k: meets(e, confidence) for k, e in sorted(ev.cache.items())}, window=window,
    )


def size_staffing(scenario: Scenario, targets: str | ServiceTarget | Iterable[str | ServiceTarget], replications: int = 20,
                  seed: int = 1, workers: int = 1, scheduler: str | None = None,
                  progress: Progress | None = None, confidence: float | None = None,
                  steady_state: bool = True, first_year: bool = True, warmup_years: float | None = None) -> Sizing:
    """Per county, the smallest number of dyads meeting every target (all must hold), with
    the service level's 95% CI and the share of replications meeting the targets.

    ``targets``: e.g. ``"assigned_within_days=14@0.9"`` or ``["assigned_within_days=14@0.9",
    "diverted_share<=0.05"]``. Every candidate uses the same ``seed`` and replications
    (common random numbers). ``workers`` > 1 runs replications on a local Dask cluster.
    ``confidence`` (e.g. 0.8): also require that share of replications to meet every target.
    ``steady_state`` (default): the answer at maturity, after a warm-up of ``warmup_years``
    (default: :func:`~start_sim.analyses.steady_state.maturity`'s rule); False: measured from
    launch to the horizon. ``first_year``: also the answer for the first year after launch
    (``Sizing.first_year``).
    A malformed target raises ``ValueError``; a county's scenario that does not validate,
    :class:`~start_sim.core.errors.ScenarioError`."""
    if isinstance(targets, (str, ServiceTarget)):
        targets = [targets]
    tg = tuple(parse_target(t) for t in targets)
    if not tg:
        raise ValueError(f"give at least one target; the syntax is {TARGET_SYNTAX}")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    out, first, skipped = [], [], []
    basis = "maturity" if steady_state else "as_given"
    shared = shared_dyad_counties(scenario.regions)  # sized by start_sim.analyses.region_sizing
    with Executor(workers, scheduler) as ex:
        use = ex if ex.uses_dask(replications) else None
        for k, county in enumerate(scenario.counties):
            if county.name.strip().casefold() in shared:
                skipped.append(f"{county.name}: served by its region's shared dyads, sized with the region")
                continue
            if county.launch_day >= scenario.horizon_days or county.referrals_per_year * county.eligible_share <= 0:
                skipped.append(f"{county.name}: no eligible referrals after its launch within the horizon")
                continue
            if county.hiring:
                skipped.append(f"{county.name}: its hiring steps were left out; the count is a constant headcount "
                               "from launch")
            out.append(size_county(scenario, k, tg, replications, seed, use, progress, confidence, basis,
                                   warmup_years))
            if first_year:
                first.append(size_county(scenario, k, tg, replications, seed, use, progress, confidence,
                                         "first_year"))
    return Sizing(scenario, tg, replications, seed, out, skipped, confidence, first)
