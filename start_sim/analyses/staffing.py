"""The staffing search: the smallest number of dyads per county that meets a service target.

A planner names one or more service targets (all must hold):

* ``assigned_within_days=14@0.9``: at least 90% of the eligible families referred after the
  county's launch (within the horizon) are assigned to a dyad within 14 days of referral;
  families diverted to usual services, or still waiting, count as not assigned.
* ``diverted_share<=0.05``: at most 5% of those families are served by usual services
  because no slot opened in time (reneged after ``max_wait_days``, or diverted at once under
  ``waitlist_policy = "divert"``).

A share may be written as ``0.9`` or ``90%``.

**Method.** Counties do not share staff or families in the model, so each county is sized
alone, in a scenario holding just that county with ``n`` dyads from its launch day and no
later hiring steps (the answer is a constant headcount; turnover, hiring lag and training
of the scenario's workforce still apply to leavers' replacements).

1. *Analytic estimate.* The arrival rate is ``lambda = referrals_per_year x eligible_share /
   365.25`` per day, averaged over the measured window if referrals grow. The mean time in
   START is ``T = (1 - p_d) (E[S] + E[X] sum_{k=1..K} q^k) + p_d E[min(S, D)]`` with ``S``
   the planned service days, ``D`` the disengagement day, ``p_d`` the disengagement
   probability, ``E[X]`` the mean extension, ``K`` the extensions allowed and ``q`` the
   chance that a closure check finds the parent not in recovery. ``q`` depends on the
   recovery model; it is taken from one pilot replication with ample capacity (the same
   families), and the checks are treated as independent (approximation). Little's law gives
   the mean caseload ``a = lambda T`` (the offered load in slots). The caseload slots are
   ``c = mentors x dyad cap + solo caseworkers x solo cap``, scaled by the share of time a
   post is filled when leavers are replaced (``1 / (1 + turnover x (lag + training))``).
   The queue is treated as M/M/c (exponential case lengths: an approximation, the real
   ones are lognormal): Erlang C gives ``P(wait <= t) = 1 - C(c, a) exp(-(c mu - lambda)
   min(t, max_wait))`` and the diverted share ``C(c, a) exp(-(c mu - lambda) max_wait)``;
   with ``waitlist_policy = "divert"`` Erlang B gives the diverted share ``B(c, a)`` and the
   share assigned at once ``1 - B(c, a)``. The analytic minimum is the smallest ``n`` whose
   formulas meet every target.
2. *Simulation on common random numbers.* Every candidate ``n`` runs the same replications
   with the same seed, so it serves the same families with the same draws. Starting at the
   analytic minimum the search steps down while the smaller count still meets the targets,
   or up until one does: the answer is the smallest ``n`` whose *mean* service level over
   the replications meets every target, while ``n - 1`` does not. Only the START arm's
   event run is simulated (:class:`start_sim.sim.model.CountyModel`); the outcomes are not
   needed for capacity targets, and the run-out is cut to at most one year.

**Mentors.** If a county's ``mentors`` is below its ``dyads`` (a mentor shortage), each
candidate keeps the same *ratio* of mentors to caseworkers, rounded down (conservative:
e.g. half the posts filled stays half filled as the county grows). A county with
pre-existing open cases cannot have fewer slots than those cases: that floor is reported.

The uncertainty of the answer: the service level at the chosen ``n`` with its 95% t-interval
over replications, and the share of replications in which every target is met
(``p_meets``): a planner who wants, say, 80% confidence rather than a mean can add dyads
until ``p_meets`` reaches it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from start_sim.core.errors import ScenarioError
from start_sim.inputs.caseload import dyad_cap
from start_sim.inputs.distributions import Distribution
from start_sim.inputs.files import validate
from start_sim.inputs.schema import County, Program, Scenario
from start_sim.outcomes.costs import DAYS_PER_YEAR
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import county_families, gc_paused

TARGET_SYNTAX = (
    "assigned_within_days=DAYS@SHARE (e.g. assigned_within_days=14@0.9: at least 90% of families assigned within "
    "14 days) or diverted_share<=SHARE (e.g. diverted_share<=0.05); a share may be written 0.9 or 90%"
)
MAX_DYADS = 2000
PILOT_REPLICATIONS = 2


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """One service target: a service level and the bound it must respect."""

    metric: str  # "assigned_within_days" or "diverted_share"
    level: float  # the share to reach (assigned) or not exceed (diverted)
    days: float = math.nan  # assigned_within_days only

    @property
    def text(self) -> str:
        if self.metric == "assigned_within_days":
            return f"assigned_within_days={self.days:g}@{self.level:g}"
        return f"diverted_share<={self.level:g}"

    @property
    def label(self) -> str:
        if self.metric == "assigned_within_days":
            return f"assigned within {self.days:g} d (>= {self.level:.0%})"
        return f"diverted (<= {self.level:.0%})"

    @property
    def column(self) -> str:
        if self.metric == "assigned_within_days":
            return f"assigned_within_{self.days:g}d"
        return "diverted_share"

    def meets(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.metric == "assigned_within_days":
            return value >= self.level - 1e-12
        return value <= self.level + 1e-12


def _share(text: str, whole: str) -> float:
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise ValueError(f"--target {whole!r}: {t!r} is not a share; the syntax is {TARGET_SYNTAX}") from None
    if not 0 <= value <= 1 or math.isnan(value):
        raise ValueError(f"--target {whole!r}: the share {t!r} must lie between 0 and 1 (or 0% and 100%)")
    return value


def parse_target(text: str | Target) -> Target:
    """A :class:`Target` from its text; ``ValueError`` naming the value and the syntax if malformed."""
    if isinstance(text, Target):
        return text
    if not isinstance(text, str):
        raise ValueError(f"target {text!r} is not text; the syntax is {TARGET_SYNTAX}")
    s = text.strip().replace(" ", "")
    m = re.fullmatch(r"assigned_within_days=([^@]+)@(.+)", s)
    if m:
        try:
            days = float(m.group(1))
        except ValueError:
            raise ValueError(f"--target {text!r}: {m.group(1)!r} is not a number of days; the syntax is "
                             f"{TARGET_SYNTAX}") from None
        if not days >= 0 or math.isinf(days):
            raise ValueError(f"--target {text!r}: the days ({m.group(1)}) must be 0 or more")
        return Target("assigned_within_days", _share(m.group(2), text), days)
    m = re.fullmatch(r"diverted_share<=(.+)", s)
    if m:
        return Target("diverted_share", _share(m.group(1), text))
    raise ValueError(f"--target {text!r} is not a service target; the syntax is {TARGET_SYNTAX}")


# --------------------------------------------------------------------------- analytic


def erlang_b(c: int, a: float) -> float:
    """Erlang B: blocking probability of M/M/c/c with offered load ``a`` = lambda / mu."""
    if a <= 0:
        return 0.0
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: P(wait > 0) in M/M/c with offered load ``a`` (1 when ``a >= c``)."""
    if a <= 0:
        return 0.0
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_within(c: int, lam: float, mu: float, t: float) -> float:
    """P(wait <= t) in M/M/c: ``1 - C(c, a) exp(-(c mu - lambda) t)`` (0 when unstable)."""
    a = lam / mu
    if lam <= 0:
        return 1.0
    if a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c * mu - lam) * t)


def _mean_min(s: Distribution, d: Distribution, n: int = 400) -> float:
    """E[min(S, D)] of independent S and D, on a midpoint grid of quantiles."""
    u = (np.arange(n) + 0.5) / n
    return float(np.minimum.outer(s.ppf_array(u), d.ppf_array(u)).mean())


def mean_days_in_start(program: Program, extend_probability: float) -> float:
    """Mean days a family spends in START (the approximation in the module docstring)."""
    q = min(max(extend_probability, 0.0), 1.0)
    p_d = program.disengagement_probability
    extensions = sum(q**k for k in range(1, program.max_extensions + 1))
    kept = program.service_days.mean + program.extension_days.mean * extensions
    early = _mean_min(program.service_days, program.disengagement_days) if p_d > 0 else 0.0
    return (1 - p_d) * kept + p_d * early


def arrival_rate(county: County, horizon_days: float) -> float:
    """Eligible referrals per day, averaged over [launch, horizon) when the rate grows."""
    rate = county.referrals_per_year * county.eligible_share / DAYS_PER_YEAR
    g = math.log1p(county.referral_growth_per_year) / DAYS_PER_YEAR
    lo, hi = county.launch_day, max(horizon_days, county.launch_day)
    if hi <= lo:
        return rate * math.exp(g * lo)
    if g == 0:
        return rate
    return rate * (math.exp(g * hi) - math.exp(g * lo)) / (g * (hi - lo))


def mentors_for(county: County, dyads: int) -> int | None:
    """Mentors for ``dyads`` caseworkers: the county's ratio, rounded down (None: one each)."""
    if county.mentors is None or county.dyads == 0 or county.mentors >= county.dyads:
        return None
    return math.floor(dyads * county.mentors / county.dyads + 1e-9)


def slots_for(scenario: Scenario, county: County, dyads: int) -> int:
    """Caseload slots of ``dyads`` caseworkers with the county's mentor ratio."""
    m = mentors_for(county, dyads)
    m = dyads if m is None else m
    p = scenario.program
    paired = dyad_cap(p.caseload_cap, p.solo_caseload_cap, scenario.workforce_of(county).mentor_fte)
    return m * paired + (dyads - m) * dyad_cap(p.caseload_cap, p.solo_caseload_cap, None)


def post_availability(scenario: Scenario, county: County) -> float:
    """Share of time a caseworker post is filled and trained, when leavers are replaced."""
    wf = scenario.workforce_of(county)
    r = wf.caseworker_turnover_per_year / DAYS_PER_YEAR
    if r <= 0:
        return 1.0
    if not wf.replace_leavers:
        return 0.5  # staff drain without replacement: a rough guess, the simulation decides
    return 1.0 / (1.0 + r * (wf.hiring_lag_days.mean + wf.training_days.mean))


def analytic_level(target: Target, slots: float, lam: float, mean_days: float, program: Program) -> float:
    """The service level the queueing formulas give for ``slots`` caseload slots."""
    c = max(0, math.floor(slots + 1e-9))
    if lam <= 0:
        return 1.0 if target.metric == "assigned_within_days" else 0.0
    if c == 0:
        return 0.0 if target.metric == "assigned_within_days" else 1.0
    mu = 1.0 / mean_days
    a = lam / mu
    if program.waitlist_policy == "divert":
        b = erlang_b(c, a)
        return 1.0 - b if target.metric == "assigned_within_days" else b
    limit = math.inf if program.max_wait_days is None else program.max_wait_days
    if target.metric == "assigned_within_days":
        return mmc_within(c, lam, mu, min(target.days, limit))
    if math.isinf(limit):
        return 0.0 if a < c else 1.0 - c / a
    return 1.0 - mmc_within(c, lam, mu, limit) if a < c else 1.0 - c / a


def analytic_dyads(scenario: Scenario, county: County, targets: Sequence[Target], mean_days: float,
                   floor: int = 1) -> tuple[int, float]:
    """Smallest dyads (>= ``floor``) whose analytic levels meet every target, and the
    analytic utilisation ``a / c`` there."""
    lam = arrival_rate(county, scenario.horizon_days)
    avail = post_availability(scenario, county)
    a = lam * mean_days
    for n in range(max(1, floor), MAX_DYADS + 1):
        c = slots_for(scenario, county, n) * avail
        if all(t.meets(analytic_level(t, c, lam, mean_days, scenario.program)) for t in targets):
            return n, min(1.0, a / max(math.floor(c), 1))
    return MAX_DYADS, 1.0


# --------------------------------------------------------------------------- simulation


def county_scenario(scenario: Scenario, county_index: int, dyads: int, runout_years: float | None = None) -> Scenario:
    """A scenario holding county ``county_index`` alone, with ``dyads`` caseworkers from its
    launch (mentors at the county's ratio) and no later hiring steps."""
    data = scenario.to_dict()
    c = dict(data["counties"][county_index])
    county = scenario.counties[county_index]
    c["dyads"] = dyads
    c["mentors"] = mentors_for(county, dyads)
    c["hiring"] = []
    data["counties"] = [c]
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


def _levels(sc: Scenario, seed: int, replication: int, targets: tuple[Target, ...]) -> RepLevels:
    """One replication of the one-county scenario ``sc``: the START arm's event run only."""
    county = sc.counties[0]
    H, L = sc.horizon_days, county.launch_day
    with gc_paused():
        fams = county_families(sc, 0, seed, replication)
        model = CountyModel(sc, 0, fams, with_start=True, seed=seed, replication=replication)
        cases = model.run()
    measured = [c for c in cases if not c.family.pre_existing and L <= c.family.referral_day < H]
    n = len(measured)
    levels = []
    for t in targets:
        if t.metric == "assigned_within_days":
            ok = sum(c.service == "start" and c.assigned_day - c.family.referral_day <= t.days + 1e-9 for c in measured)
            levels.append(ok / n if n else 1.0)
        else:
            out = sum(c.route in ("reneged", "diverted") for c in measured)
            levels.append(out / n if n else 0.0)
    # utilisation over [launch, horizon): case-days on a caseworker / slot-days
    busy = 0.0
    ext = checks = 0
    k = sc.program.max_extensions
    for c in cases:
        if c.service != "start":
            continue
        end = c.closure_day if not math.isnan(c.closure_day) else math.inf
        busy += max(0.0, min(end, H) - max(c.assigned_day, L))
        for u0, u1 in c.unassigned:
            busy -= max(0.0, min(u1, H) - max(u0, L))
        if not c.disengaged and not math.isnan(c.closure_day):
            ext += c.extensions
            checks += c.extensions + (1 if c.extensions < k else 0)
    log = [*model.slot_log, (math.inf, 0)]
    slot_days = sum(v * max(0.0, min(d1, H) - max(d0, L)) for (d0, v), (d1, _) in zip(log, log[1:], strict=False))
    return RepLevels(replication, tuple(levels), busy / slot_days if slot_days > 0 else math.nan, ext, checks)


@dataclass
class Evaluation:
    """All replications of one candidate dyad count."""

    dyads: int
    targets: tuple[Target, ...]
    reps: list[RepLevels]

    def values(self, i: int) -> np.ndarray:
        return np.array([r.levels[i] for r in self.reps], dtype=float)

    def mean(self, i: int) -> float:
        return float(self.values(i).mean())

    def ci(self, i: int) -> tuple[float, float]:
        x = self.values(i)
        m = float(x.mean())
        if len(x) < 2:
            return m, m
        h = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
        return m - h, m + h

    @property
    def meets(self) -> bool:
        return all(t.meets(self.mean(i)) for i, t in enumerate(self.targets))

    @property
    def p_meets(self) -> float:
        return float(np.mean([all(t.meets(r.levels[i]) for i, t in enumerate(self.targets)) for r in self.reps]))

    @property
    def utilisation(self) -> float:
        u = np.array([r.utilisation for r in self.reps], dtype=float)
        return float(np.nanmean(u)) if np.any(~np.isnan(u)) else math.nan


Progress = Callable[[str], None]


class Evaluator:
    """Runs candidates of one county on the same seed and replications (cached by dyads)."""

    def __init__(self, scenario: Scenario, county_index: int, targets: tuple[Target, ...], replications: int,
                 seed: int, executor: Any = None, runout_years: float | None = None):
        self.scenario, self.k, self.targets = scenario, county_index, targets
        self.replications, self.seed, self.ex = replications, seed, executor
        self.runout = min(scenario.runout_years, 1.0) if runout_years is None else runout_years
        self.cache: dict[int, Evaluation] = {}

    def scenario_for(self, dyads: int) -> Scenario:
        return county_scenario(self.scenario, self.k, dyads, self.runout)

    def __call__(self, dyads: int, replications: int | None = None) -> Evaluation:
        reps = self.replications if replications is None else replications
        if replications is None and dyads in self.cache:
            return self.cache[dyads]
        sc = self.scenario_for(dyads)
        done: dict[int, RepLevels] = {}
        items = [(f"start-sim-size-{self.k}-{dyads}-{self.seed}-{i}", (sc, self.seed, i, self.targets))
                 for i in range(reps)]
        if self.ex is None:
            for _, args in items:
                r = _levels(*args)
                done[r.replication] = r
        else:
            self.ex.stream(_levels, items, lambda _key, r: done.__setitem__(r.replication, r))
        ev = Evaluation(dyads, self.targets, [done[i] for i in range(reps)])
        if replications is None:
            self.cache[dyads] = ev
        return ev


# --------------------------------------------------------------------------- the search


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
    targets: tuple[Target, ...]
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
    targets: tuple[Target, ...]
    replications: int
    seed: int
    counties: list[CountySizing]
    skipped: list[str] = field(default_factory=list)  # counties not sized, or what was left out of them

    def table(self) -> pd.DataFrame:
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
            })
            rows.append(row)
        return pd.DataFrame(rows)

    def write(self, out: str | Path) -> Path:
        """``staffing.csv`` and ``manifest.json`` into ``out``, built aside and moved into place."""
        import json

        from start_sim.core.version import __version__
        from start_sim.outputs.writers import replace_folder

        def fill(tmp: Path) -> None:
            tmp.mkdir(parents=True, exist_ok=True)
            self.table().to_csv(tmp / "staffing.csv", index=False)
            manifest = {
                "command": "size", "targets": [t.text for t in self.targets], "replications": self.replications,
                "seed": self.seed, "version": __version__, "scenario": self.scenario.to_dict(),
                "hiring_schedule": [c.note() for c in self.counties], "skipped": self.skipped,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

        return replace_folder(out, fill)


def annual_staff_cost(scenario: Scenario, county: County, dyads: int) -> float:
    """Caseworkers and mentors (at the mentor FTE) a year, with supervision and overhead;
    equals ``costs.dyad_cost_per_day x 365.25 x dyads`` for full dyads of full-time mentors."""
    c = scenario.costs
    m = mentors_for(county, dyads)
    m = dyads if m is None else m
    fte = scenario.workforce_of(county).mentor_fte
    staff = dyads * c.caseworker_per_fte_year + m * fte * c.mentor_per_fte_year
    return staff * (1 + c.supervision_share) * (1 + c.overhead_share)


def _floor(scenario: Scenario, county: County) -> int:
    n = 1
    while slots_for(scenario, county, n) < county.initial_caseload and n < MAX_DYADS:
        n += 1
    return n


def size_county(scenario: Scenario, county_index: int, targets: Sequence[str | Target], replications: int = 20,
                seed: int = 1, executor: Any = None, progress: Progress | None = None) -> CountySizing:
    """The staffing search for one county (see the module docstring)."""
    tg = tuple(parse_target(t) for t in targets)
    county = scenario.counties[county_index]
    ev = Evaluator(scenario, county_index, tg, replications, seed, executor)
    floor = _floor(scenario, county)
    lam = arrival_rate(county, scenario.horizon_days)
    # pilot: ample capacity, to measure how often closure checks extend a case
    ample = max(floor, county.dyads, math.ceil(3 * lam * mean_days_in_start(scenario.program, 1.0)
                                              / max(1, slots_for(scenario, county, 1))) + 1)
    pilot = ev(ample, replications=min(PILOT_REPLICATIONS, replications))
    checks = sum(r.checks for r in pilot.reps)
    q = sum(r.extensions for r in pilot.reps) / checks if checks else 0.5
    mean_days = mean_days_in_start(scenario.program, q)
    n0, rho0 = analytic_dyads(scenario, county, tg, mean_days, floor)
    if progress:
        progress(f"{county.name}: analytic estimate {n0} dyads")
    n = n0
    if ev(n).meets:
        while n - 1 >= floor and ev(n - 1).meets:
            n -= 1
    else:
        limit = max(ample * 4, n0 + 50)
        while not ev(n).meets and n < limit:
            n += 1
    if progress:
        progress(f"{county.name}: {n} dyads")
    best = ev(n)
    below = [ev(n - 1).mean(i) for i in range(len(tg))] if n - 1 >= floor else None
    wf = scenario.workforce_of(county)
    lead = wf.hiring_lag_days.mean + wf.training_days.mean
    m = mentors_for(county, n)
    return CountySizing(
        county=county.name, launch_day=county.launch_day, dyads_in_scenario=county.dyads, dyads=n, caseworkers=n,
        mentors=n if m is None else m, analytic_dyads=n0, analytic_utilisation=rho0, floor=floor,
        reached=best.meets, targets=tg, levels=[(best.mean(i), *best.ci(i)) for i in range(len(tg))], below=below,
        p_meets=best.p_meets, utilisation=best.utilisation, annual_cost=annual_staff_cost(scenario, county, n),
        hiring_lead_days=lead, open_posts_day=county.launch_day - lead, arrival_per_year=lam * DAYS_PER_YEAR,
        mean_days_in_start=mean_days, extend_probability=q,
        mentors_in_scenario=county.mentor_count, running=bool(county.initial_caseload or county.initial_waitlist) and county.dyads > 0,
        tried={k: e.meets for k, e in sorted(ev.cache.items())},
    )


def size_staffing(scenario: Scenario, targets: str | Target | Iterable[str | Target], replications: int = 20,
                  seed: int = 1, workers: int = 1, scheduler: str | None = None,
                  progress: Progress | None = None) -> Sizing:
    """Per county, the smallest number of dyads meeting every target (all must hold), with
    the service level's 95% CI and the share of replications meeting the targets.

    ``targets``: e.g. ``"assigned_within_days=14@0.9"`` or ``["assigned_within_days=14@0.9",
    "diverted_share<=0.05"]``. Every candidate uses the same ``seed`` and replications
    (common random numbers). ``workers`` > 1 runs replications on a local Dask cluster.
    A malformed target raises ``ValueError``; a county's scenario that does not validate,
    :class:`~start_sim.core.errors.ScenarioError`."""
    if isinstance(targets, (str, Target)):
        targets = [targets]
    tg = tuple(parse_target(t) for t in targets)
    if not tg:
        raise ValueError(f"give at least one target; the syntax is {TARGET_SYNTAX}")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    from start_sim.experiments.executor import Executor

    out, skipped = [], []
    with Executor(workers, scheduler) as ex:
        use = ex if ex.uses_dask(replications) else None
        for k, county in enumerate(scenario.counties):
            if county.launch_day >= scenario.horizon_days or county.referrals_per_year * county.eligible_share <= 0:
                skipped.append(f"{county.name}: no eligible referrals after its launch within the horizon")
                continue
            if county.hiring:
                skipped.append(f"{county.name}: its hiring steps were left out; the count is a constant headcount "
                               "from launch")
            out.append(size_county(scenario, k, tg, replications, seed, use, progress))
    return Sizing(scenario, tg, replications, seed, out, skipped)


__all__ = ["Sizing", "CountySizing", "Target", "TARGET_SYNTAX", "analytic_dyads", "erlang_b", "erlang_c",
           "mean_days_in_start", "parse_target", "size_county", "size_staffing", "ScenarioError"]
