"""Simulating one candidate dyad count of one county, on common random numbers.

Every candidate ``n`` runs the same replications with the same seed, so it serves the same
families with the same draws. Only the START arm's event run is simulated
(:class:`start_sim.sim.model.CountyModel`); the outcomes are not needed for capacity targets,
and the run-out is cut to at most one year. Counties do not share staff or families in the
model, so each county is simulated alone, in a scenario holding just that county with ``n``
dyads from its launch day and no later hiring steps (turnover, hiring lag and training of the
scenario's workforce still apply to leavers' replacements). Capacity is measured over a
:class:`~start_sim.analyses.steady_state.Window`: at maturity after a warm-up, in the first year
after launch, or (``AS_GIVEN``) from launch to the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from start_sim.analyses.service_targets import ServiceTarget
from start_sim.analyses.staffing_estimate import mentors_for
from start_sim.analyses.steady_state import AS_GIVEN, Window
from start_sim.core.stats import mean_ci
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.experiments.executor import Executor
from start_sim.inputs.files import validate
from start_sim.inputs.referral_forecast import shifted
from start_sim.inputs.schema import County, Scenario
from start_sim.sim.case import Case, dyad_span
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import county_families, gc_paused


def shift_referrals(c: dict, county: County, window: Window) -> None:
    """Shift a growing referral rate (or a forecast) of the county data ``c`` back by the window's warm-up."""
    if county.referral_forecast is not None:
        c["referral_forecast"] = shifted(county.referral_forecast, window.warmup_days)
    elif county.referral_growth_per_year != 0:
        years = window.warmup_days / DAYS_PER_YEAR
        c["referrals_per_year"] = county.referrals_per_year * (1 + county.referral_growth_per_year) ** (-years)


def county_scenario(scenario: Scenario, county_index: int, dyads: int, runout_years: float | None = None,
                    window: Window = AS_GIVEN) -> Scenario:
    """A scenario holding county ``county_index`` alone, with ``dyads`` caseworkers from its
    launch (mentors at the county's ratio) and no later hiring steps; its horizon ends with the
    measurement ``window``, and a growing referral rate is shifted back by the window's warm-up."""
    data = scenario.to_dict()
    c = dict(data["counties"][county_index])
    county = scenario.counties[county_index]
    if window.measure_days is not None:
        data["horizon_years"] = window.bounds(county.launch_day, scenario.horizon_days)[1] / DAYS_PER_YEAR
        shift_referrals(c, county, window)
    c["dyads"] = dyads
    c["mentors"] = mentors_for(county, dyads)
    c["hiring"] = []
    data["counties"] = [c]
    data["regions"] = []  # sized alone, on its own places (sizing a region's shared dyads: not yet)
    data["name"] = f"{scenario.name}: {county.name} with {dyads} dyads"
    if runout_years is not None:
        data["runout_years"] = runout_years
    return validate(data, file=f"staffing search ({county.name}, {dyads} dyads)")


@dataclass
class RepLevels:
    """Service levels and utilisation of one replication of one candidate."""

    replication: int
    levels: tuple[float, ...]
    utilisation: float
    extensions: int
    checks: int


def _levels(sc: Scenario, seed: int, replication: int, targets: tuple[ServiceTarget, ...],
            window: Window = AS_GIVEN) -> RepLevels:
    """One replication of the one-county scenario ``sc``: the START arm's event run only,
    measured over ``window`` (families referred in it; utilisation over it)."""
    county = sc.counties[0]
    L, H = window.bounds(county.launch_day, sc.horizon_days)
    with gc_paused():
        fams = county_families(sc, 0, seed, replication)
        model = CountyModel(sc, 0, fams, with_start=True, seed=seed, replication=replication)
        cases = model.run()
    measured = measured_cases(cases, L, H)
    busy, ext, checks = busy_days(cases, L, H, sc.program.max_extensions)
    slots = slot_days(model.slot_log, L, H)
    return RepLevels(replication, tuple(level(measured, t, H) for t in targets),
                     busy / slots if slots > 0 else math.nan, ext, checks)


def measured_cases(cases: list[Case], lo: float, hi: float) -> list[Case]:
    """The families referred in [lo, hi) that asked for a slot (not pre-existing, not declined)."""
    return [c for c in cases if not c.family.pre_existing and lo <= c.family.referral_day < hi
            and c.route != "declined"]


def level(measured: list[Case], t: ServiceTarget, horizon: float) -> float:
    """Target ``t``'s service level over the ``measured`` families."""
    n = len(measured)
    if t.metric == "assigned_within_days":
        ok = sum(dyad_span(c, horizon) is not None and c.assigned_day - c.family.referral_day <= t.days + 1e-9
                 for c in measured)
        return ok / n if n else 1.0
    out = sum(c.route in ("reneged", "diverted") for c in measured)
    return out / n if n else 0.0


def busy_days(cases: list[Case], lo: float, hi: float, max_extensions: int) -> tuple[float, int, int]:
    """Case-days on a caseworker in [lo, hi), and the extensions and closure checks of closed START cases."""
    busy = 0.0
    ext = checks = 0
    for c in cases:
        held = dyad_span(c, math.inf)  # a START case, or the outreach to a family that never engaged
        if held is None:
            continue
        busy += max(0.0, min(held[1], hi) - max(held[0], lo))
        for u0, u1 in c.unassigned:
            busy -= max(0.0, min(u1, hi) - max(u0, lo))
        if c.service == "start" and not c.disengaged and not math.isnan(c.closure_day):
            ext += c.extensions
            checks += c.extensions + (1 if c.extensions < max_extensions else 0)
    return busy, ext, checks


def slot_days(slot_log: list[tuple[float, int]], lo: float, hi: float) -> float:
    """Caseload slot-days in [lo, hi) from a model's slot log."""
    log = [*slot_log, (math.inf, 0)]
    return sum(v * max(0.0, min(d1, hi) - max(d0, lo)) for (d0, v), (d1, _) in zip(log, log[1:], strict=False))


@dataclass
class Evaluation:
    """All replications of one candidate dyad count."""

    dyads: int
    targets: tuple[ServiceTarget, ...]
    reps: list[RepLevels]

    def values(self, i: int) -> np.ndarray:
        """Target ``i``'s service level, one value per replication."""
        return np.array([r.levels[i] for r in self.reps], dtype=float)

    def mean(self, i: int) -> float:
        """Mean over replications of target ``i``'s service level."""
        return float(self.values(i).mean())

    def ci(self, i: int) -> tuple[float, float]:
        """95% t-interval of target ``i``'s mean service level (the mean twice for one replication)."""
        m, lo, hi = mean_ci(self.values(i))
        return (m, m) if math.isnan(lo) else (lo, hi)

    @property
    def meets(self) -> bool:
        """Whether the mean service level meets every target."""
        return all(t.meets(self.mean(i)) for i, t in enumerate(self.targets))

    @property
    def p_meets(self) -> float:
        """Share of replications in which every target is met."""
        return float(np.mean([all(t.meets(r.levels[i]) for i, t in enumerate(self.targets)) for r in self.reps]))

    @property
    def extension_share(self) -> float:
        """Share of closure checks that extended a case (0.5 when no case reached one)."""
        checks = sum(r.checks for r in self.reps)
        return sum(r.extensions for r in self.reps) / checks if checks else 0.5

    @property
    def utilisation(self) -> float:
        """Mean over replications of case-days per slot-day (NaN if no slots)."""
        u = np.array([r.utilisation for r in self.reps], dtype=float)
        return float(np.nanmean(u)) if np.any(~np.isnan(u)) else math.nan


class Evaluator:
    """Runs candidates of one county on the same seed and replications (cached by dyads)."""

    def __init__(self, scenario: Scenario, county_index: int, targets: tuple[ServiceTarget, ...], replications: int,
                 seed: int, executor: Executor | None = None, runout_years: float | None = None,
                 window: Window = AS_GIVEN):
        self.scenario, self.k, self.targets, self.window = scenario, county_index, targets, window
        self.replications, self.seed, self.ex = replications, seed, executor
        self.runout = min(scenario.runout_years, 1.0) if runout_years is None else runout_years
        self.cache: dict[int, Evaluation] = {}

    key = "size"
    """Prefix of the executor's task keys."""

    measure = staticmethod(_levels)
    """One replication of a candidate's scenario (a module-level function, so that Dask can ship it)."""

    def scenario_for(self, dyads: int) -> Scenario:
        """The one-county scenario with ``dyads`` caseworkers."""
        return county_scenario(self.scenario, self.k, dyads, self.runout, self.window)

    def __call__(self, dyads: int, replications: int | None = None) -> Evaluation:
        """Every replication of ``dyads``; a pilot with its own ``replications`` is not cached."""
        reps = self.replications if replications is None else replications
        if replications is None and dyads in self.cache:
            return self.cache[dyads]
        sc = self.scenario_for(dyads)
        done: dict[int, RepLevels] = {}
        items = [(f"start-sim-{self.key}-{self.k}-{dyads}-{self.seed}-{i}-{self.window.label}",
                  (sc, self.seed, i, self.targets, self.window)) for i in range(reps)]
        if self.ex is None:
            for _, args in items:
                r = self.measure(*args)
                done[r.replication] = r
        else:
            self.ex.stream(self.measure, items, lambda _key, r: done.__setitem__(r.replication, r))
        ev = Evaluation(dyads, self.targets, [done[i] for i in range(reps)])
        if replications is None:
            self.cache[dyads] = ev
        return ev
