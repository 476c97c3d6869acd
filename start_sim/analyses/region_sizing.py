"""Sizing a region's shared dyads: the fewest dyads serving all its counties, with each county's service level.

A region with ``[regions.shared_dyads]`` has one caseload for every county in it (decision 0020),
so its counties cannot be sized one at a time: four counties with a handful of referrals each
would each get a dyad of their own at a fraction of its use. The search is the county search
(:mod:`start_sim.analyses.staffing`) on the region as a whole (decision 0050):

1. *Analytic start*: Erlang C (or B) on the region's combined arrival rate and the slots of ``n``
   shared dyads at the travel-reduced caps (:meth:`start_sim.inputs.regions.SharedDyads.caps`),
   mentors at the region's ratio, scaled by the share of time a post is filled.
2. *Simulation on common random numbers*: each candidate runs the region together (one SimPy
   environment, its providers with their background clients, :func:`start_sim.sim.region.run_region`),
   START arm only, in a scenario holding just the region with ``n`` shared dyads; the same families
   for every ``n``. The answer is the smallest ``n`` whose mean service level *over all the region's
   families* meets every target.

At that answer every county's own service level is reported: a far county (say with a longer
referral path) or a small one may miss the target while the region meets it, and the planner is
told so in words. At maturity (after a warm-up from the region's first launch) by default, the
first year after launch beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from start_sim.analyses.candidate_runs import (
    Evaluation,
    Evaluator,
    RepLevels,
    busy_days,
    level,
    measured_cases,
    shift_referrals,
    slot_days,
)
from start_sim.analyses.queueing import analytic_level
from start_sim.analyses.service_targets import ServiceTarget, parse_target
from start_sim.analyses.staffing import PILOT_REPLICATIONS, Progress, Sizing, meets, search, size_staffing
from start_sim.analyses.staffing_estimate import MAX_DYADS, arrival_rate, mean_days_in_start, post_availability
from start_sim.analyses.steady_state import AS_GIVEN, Window, window_for
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.experiments.executor import Executor
from start_sim.inputs.caseload import caseload_slots
from start_sim.inputs.files import validate
from start_sim.inputs.regions import Region, SharedDyads
from start_sim.inputs.schema import Scenario
from start_sim.outcomes.costs import staff_cost_per_day
from start_sim.sim.region import run_region
from start_sim.sim.replication import county_families, gc_paused


def shared_mentors(shared: SharedDyads, dyads: int) -> int | None:
    """Mentors for ``dyads`` shared caseworkers at the region's ratio, rounded down (None: one each)."""
    if shared.mentors is None or shared.mentors >= shared.dyads:
        return None
    return math.floor(dyads * shared.mentors / shared.dyads + 1e-9)


def _members(scenario: Scenario, region: Region) -> list[int]:
    names = {n.strip().casefold() for n in region.counties}
    return [k for k, c in enumerate(scenario.counties) if c.name.strip().casefold() in names]


def region_slots(scenario: Scenario, region: Region, dyads: int) -> int:
    """Caseload slots of ``dyads`` shared caseworkers at the travel-reduced caps."""
    assert region.shared_dyads is not None
    cap, solo = region.shared_dyads.caps(scenario.program)
    program = scenario.program.model_copy(update={"caseload_cap": cap, "solo_caseload_cap": solo})
    host = scenario.counties[_members(scenario, region)[0]]
    return caseload_slots(program, scenario.workforce_of(host), dyads, shared_mentors(region.shared_dyads, dyads))


def region_scenario(scenario: Scenario, region_index: int, dyads: int, runout_years: float | None = None,
                    window: Window = AS_GIVEN) -> Scenario:
    """A scenario holding region ``region_index`` alone (its counties, providers and ``dyads`` shared
    caseworkers, mentors at its ratio); its horizon ends with the measurement ``window`` from the
    region's first launch, and growing referral rates are shifted back by the warm-up."""
    data = scenario.to_dict()
    region = scenario.regions[region_index]
    assert region.shared_dyads is not None
    ks = _members(scenario, region)
    counties = []
    for k in ks:
        c = dict(data["counties"][k])
        if window.measure_days is not None:
            shift_referrals(c, scenario.counties[k], window)
        counties.append(c)
    if window.measure_days is not None:
        launch = min(scenario.counties[k].launch_day for k in ks)
        data["horizon_years"] = window.bounds(launch, scenario.horizon_days)[1] / DAYS_PER_YEAR
    r = dict(data["regions"][region_index])
    r["shared_dyads"] = {**r["shared_dyads"], "dyads": dyads, "mentors": shared_mentors(region.shared_dyads, dyads)}
    data["counties"], data["regions"] = counties, [r]
    data["name"] = f"{scenario.name}: region {region.name} with {dyads} shared dyads"
    if runout_years is not None:
        data["runout_years"] = runout_years
    return validate(data, file=f"staffing search (region {region.name}, {dyads} shared dyads)")


@dataclass
class RegionRep(RepLevels):
    """One replication of a region: the region's levels (all its families) and each county's."""

    county_levels: tuple[tuple[float, ...], ...] = ()


def _region_levels(sc: Scenario, seed: int, replication: int, targets: tuple[ServiceTarget, ...],
                   window: Window = AS_GIVEN) -> RegionRep:
    """One replication of the one-region scenario ``sc``: START arm only, the region run together."""
    plan = sc.region_plans()[0]
    L, H = window.bounds(min(c.launch_day for c in sc.counties), sc.horizon_days)
    with gc_paused():
        fams = {k: county_families(sc, k, seed, replication) for k in plan.counties}
        arm = run_region(sc, plan, fams, True, seed, replication)
    per = [measured_cases(arm.models[k].cases, L, H) for k in plan.counties]
    pooled = [c for m in per for c in m]
    cases = [c for k in plan.counties for c in arm.models[k].cases]
    busy, ext, checks = busy_days(cases, L, H, sc.program.max_extensions)
    slots = slot_days(arm.models[plan.counties[0]].slot_log, L, H)  # the shared slot log, held by the host
    return RegionRep(replication, tuple(level(pooled, t, H) for t in targets),
                     busy / slots if slots > 0 else math.nan, ext, checks,
                     tuple(tuple(level(m, t, H) for t in targets) for m in per))


class RegionEvaluator(Evaluator):
    """Runs candidate shared-dyad counts of one region on the same seed and replications."""

    key = "size-region"
    measure = staticmethod(_region_levels)

    def scenario_for(self, dyads: int) -> Scenario:
        """The one-region scenario with ``dyads`` shared caseworkers."""
        return region_scenario(self.scenario, self.k, dyads, self.runout, self.window)


@dataclass
class CountyLevel:
    """One county's service levels at the region's answer."""

    county: str
    arrival_per_year: float
    levels: list[tuple[float, float, float]]  # per target: mean, ci_low, ci_high
    meets: bool  # the county's mean level meets every target


@dataclass
class RegionSizing:
    """The answer for one region's shared dyads, with each county's service level there."""

    region: str
    targets: tuple[ServiceTarget, ...]
    dyads_in_scenario: int
    dyads: int
    mentors: int
    travel_share: float
    caps: tuple[int, int]
    analytic_dyads: int
    analytic_utilisation: float
    reached: bool
    levels: list[tuple[float, float, float]]  # the region's (all its families), per target
    below: list[float] | None
    p_meets: float
    utilisation: float
    annual_cost: float
    arrival_per_year: float
    mean_days_in_start: float
    extend_probability: float
    counties: list[CountyLevel]
    window: Window = AS_GIVEN
    tried: dict[int, bool] = field(default_factory=dict)
    first_year: RegionSizing | None = None  # the same search in the first year after launch
    hiring_lead_days: float = 0.0
    launch_day: float = 0.0

    def note(self) -> str:
        """The hiring schedule implied, in one sentence."""
        when = self.launch_day - self.hiring_lead_days
        day = f"day {when:.0f}" if when >= 0 else f"{-when:.0f} days before day 0"
        return (f"region {self.region}: open {self.dyads} shared caseworker and {self.mentors} mentor posts by {day} "
                f"({self.hiring_lead_days:.0f} days of hiring lag + training before the first launch on day "
                f"{self.launch_day:.0f})")

    def shortfalls(self) -> list[str]:
        """In words, each county missing a target the region meets."""
        out = []
        for c in self.counties:
            missed = [f"{t.column} {m:.1%} (target {t.text})" for t, (m, _, _) in zip(self.targets, c.levels, strict=True)
                      if not t.meets(m)]
            if missed and self.reached:
                out.append(f"{c.county} misses the target while the region meets it: " + ", ".join(missed)
                           + f"; its families wait longer than the region's on the same {self.dyads} shared dyads")
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Rows for ``staffing.csv``: the region's answer, then each county's levels at it."""
        def levels(lv: list[tuple[float, float, float]]) -> dict[str, float]:
            row = {}
            for t, (m, lo, hi) in zip(self.targets, lv, strict=True):
                row.update({t.column: m, f"{t.column}_ci_low": lo, f"{t.column}_ci_high": hi})
            return row

        first = self.first_year
        head: dict[str, Any] = {
            "county": f"{self.region} (region)", "region": self.region, "row": "region",
            "dyads_needed": self.dyads, "caseworkers": self.dyads, "mentors": self.mentors, "target_met": self.reached,
            "dyads_in_scenario": self.dyads_in_scenario, "analytic_dyads": self.analytic_dyads,
            "analytic_utilisation": self.analytic_utilisation, "utilisation": self.utilisation, **levels(self.levels),
            "p_meets_target": self.p_meets, "annual_staff_cost": self.annual_cost,
            "eligible_per_year": self.arrival_per_year, "mean_days_in_start": self.mean_days_in_start,
            "extend_probability": self.extend_probability, "travel_share": self.travel_share,
            "caseload_cap": self.caps[0], "measured": self.window.label, "warmup_days": self.window.warmup_days,
        }
        if first is not None:
            head.update({"dyads_first_year": first.dyads, "target_met_first_year": first.reached,
                         **{f"{t.column}_first_year": m for t, (m, _, _) in zip(self.targets, first.levels, strict=True)}})
        rows = [head]
        for i, c in enumerate(self.counties):
            row: dict[str, Any] = {"county": c.county, "region": self.region, "row": "county of region",
                                   "target_met": c.meets, **levels(c.levels), "eligible_per_year": c.arrival_per_year,
                                   "measured": self.window.label}
            if first is not None:
                row.update({f"{t.column}_first_year": m
                            for t, (m, _, _) in zip(self.targets, first.counties[i].levels, strict=True)})
            rows.append(row)
        return rows


def _analytic(scenario: Scenario, region: Region, targets: Sequence[ServiceTarget], lam: float,
              mean_days: float) -> tuple[int, float]:
    """Smallest shared dyads whose Erlang levels meet every target, and the utilisation ``a / c`` there."""
    avail = post_availability(scenario, scenario.counties[_members(scenario, region)[0]])
    for n in range(1, MAX_DYADS + 1):
        c = region_slots(scenario, region, n) * avail
        if all(t.meets(analytic_level(t, c, lam, mean_days, scenario.program)) for t in targets):
            return n, min(1.0, lam * mean_days / max(math.floor(c), 1))
    return MAX_DYADS, 1.0


def size_region(scenario: Scenario, region_index: int, targets: Sequence[str | ServiceTarget], replications: int = 20,
                seed: int = 1, executor: Executor | None = None, progress: Progress | None = None,
                confidence: float | None = None, basis: str = "maturity",
                warmup_years: float | None = None) -> RegionSizing:
    """The staffing search for one region's shared dyads (module docstring), measured ``basis``
    (``"maturity"``, ``"first_year"`` or ``"as_given"``, as :func:`~start_sim.analyses.staffing.size_county`)."""
    if basis not in ("maturity", "first_year", "as_given"):
        raise ValueError(f"basis = {basis!r}: allowed 'maturity', 'first_year', 'as_given'")
    tg = tuple(parse_target(t) for t in targets)
    region = scenario.regions[region_index]
    shared = region.shared_dyads
    assert shared is not None
    ks = _members(scenario, region)
    lams = [arrival_rate(scenario.counties[k], scenario.horizon_days) for k in ks]
    lam = sum(lams)
    ev = RegionEvaluator(scenario, region_index, tg, replications, seed, executor)
    # pilot at ample capacity (3 times the Little's-law caseload [assumption], as the county search)
    ample = math.ceil(3 * lam * mean_days_in_start(scenario.program, 1.0) / max(1, region_slots(scenario, region, 1))) + 1
    pilot = ev(ample, replications=min(PILOT_REPLICATIONS, replications))
    mean_days = mean_days_in_start(scenario.program, pilot.extension_share)
    n0, rho0 = _analytic(scenario, region, tg, lam, mean_days)
    launch = min(scenario.counties[k].launch_day for k in ks)
    c0 = region_slots(scenario, region, n0) * post_availability(scenario, scenario.counties[ks[0]])
    window = window_for(basis, mean_days, launch, scenario.horizon_days, c0, lam * mean_days, warmup_years)
    if window is not AS_GIVEN:
        ev = RegionEvaluator(scenario, region_index, tg, replications, seed, executor, window=window)
    if progress:
        progress(f"region {region.name} ({window.label}): analytic estimate {n0} shared dyads")
    n = search(ev, n0, 1, ample, confidence)
    best = ev(n)
    below = [ev(n - 1).mean(i) for i in range(len(tg))] if n > 1 else None
    m = shared_mentors(shared, n)
    m = n if m is None else m
    wf = scenario.workforce_of(scenario.counties[ks[0]])
    fte = wf.mentor_fte
    return RegionSizing(
        region=region.name, targets=tg, dyads_in_scenario=shared.dyads, dyads=n, mentors=m,
        travel_share=shared.travel_share, caps=shared.caps(scenario.program), analytic_dyads=n0,
        analytic_utilisation=rho0, reached=meets(best, confidence), levels=[(best.mean(i), *best.ci(i)) for i in range(len(tg))],
        below=below, p_meets=best.p_meets, utilisation=best.utilisation,
        annual_cost=staff_cost_per_day(scenario.costs, n, m * fte) * DAYS_PER_YEAR, arrival_per_year=lam * DAYS_PER_YEAR,
        mean_days_in_start=mean_days, extend_probability=pilot.extension_share, counties=_county_levels(scenario, ks, lams, best),
        window=window, tried={k: meets(e, confidence) for k, e in sorted(ev.cache.items())},
        hiring_lead_days=wf.hiring_lag_days.mean + wf.training_days.mean, launch_day=launch,
    )


def _county_levels(scenario: Scenario, ks: list[int], lams: list[float], best: Evaluation) -> list[CountyLevel]:
    out = []
    for j, (k, lam) in enumerate(zip(ks, lams, strict=True)):
        one = Evaluation(best.dyads, best.targets, [RepLevels(r.replication, r.county_levels[j], r.utilisation, 0, 0)
                                                    for r in best.reps])  # type: ignore[attr-defined]
        lv = [(one.mean(i), *one.ci(i)) for i in range(len(best.targets))]
        out.append(CountyLevel(scenario.counties[k].name, lam * DAYS_PER_YEAR, lv, one.meets))
    return out


def size_regions(scenario: Scenario, targets: Sequence[str | ServiceTarget], replications: int = 20, seed: int = 1,
                 workers: int = 1, scheduler: str | None = None, progress: Progress | None = None,
                 confidence: float | None = None, steady_state: bool = True, first_year: bool = True,
                 warmup_years: float | None = None) -> list[RegionSizing]:
    """Every region with shared dyads, sized as a whole (its first-year answer in ``first_year``)."""
    out = []
    with Executor(workers, scheduler) as ex:
        use = ex if ex.uses_dask(replications) else None
        for r, region in enumerate(scenario.regions):
            if region.shared_dyads is None:
                continue
            res = size_region(scenario, r, targets, replications, seed, use, progress, confidence,
                              "maturity" if steady_state else "as_given", warmup_years)
            if first_year:
                res.first_year = size_region(scenario, r, targets, replications, seed, use, progress, confidence,
                                             "first_year")
            out.append(res)
    return out


def size_scenario(scenario: Scenario, targets: Sequence[str | ServiceTarget], **options: Any) -> Sizing:
    """The staffing search for a whole scenario: counties alone (:func:`~start_sim.analyses.staffing.size_staffing`)
    and regions with shared dyads as a whole (``Sizing.regions``); ``options`` as ``size_staffing``'s."""
    sizing = size_staffing(scenario, targets, **options)
    sizing.regions = size_regions(scenario, sizing.targets, **options)
    return sizing
