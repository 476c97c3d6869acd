"""The analytic first guess of the staffing search: Little's law and the Erlang formulas.

The arrival rate is ``lambda = referrals_per_year x eligible_share / 365.25`` per day,
averaged over the measured window if referrals grow. The mean time in START is ``T = (1 -
p_d) (E[S] + E[X] sum_{k=1..K} q^k) + p_d E[min(S, D)]`` with ``S`` the planned service
days, ``D`` the disengagement day, ``p_d`` the disengagement probability, ``E[X]`` the mean
extension, ``K`` the extensions allowed and ``q`` the chance that a closure check finds the
parent not in recovery. ``q`` depends on the recovery model; the search takes it from one
pilot replication with ample capacity (the same families), and the checks are treated as
independent (approximation). Little's law gives the mean caseload ``a = lambda T`` (the
offered load in slots). The caseload slots are ``c = mentors x dyad cap + solo caseworkers
x solo cap``, scaled by the share of time a post is filled when leavers are replaced (``1 /
(1 + turnover x (lag + training))``). The queue is then M/M/c (:mod:`start_sim.analyses.queueing`);
the analytic minimum is the smallest ``n`` whose formulas meet every target.

**Mentors.** If a county's ``mentors`` is below its ``dyads`` (a mentor shortage), each
candidate keeps the same *ratio* of mentors to caseworkers, rounded down (conservative:
e.g. half the posts filled stays half filled as the county grows).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from start_sim.analyses.queueing import analytic_level
from start_sim.analyses.service_targets import ServiceTarget
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.caseload import caseload_slots
from start_sim.inputs.distributions import Distribution
from start_sim.inputs.schema import County, Program, Scenario

MAX_DYADS = 2000
"""No county is sized beyond this many dyads."""


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
    return caseload_slots(scenario.program, scenario.workforce_of(county), dyads, mentors_for(county, dyads))


def post_availability(scenario: Scenario, county: County) -> float:
    """Share of time a caseworker post is filled and trained, when leavers are replaced."""
    wf = scenario.workforce_of(county)
    r = wf.caseworker_turnover_per_year / DAYS_PER_YEAR
    if r <= 0:
        return 1.0
    if not wf.replace_leavers:
        return 0.5  # staff drain without replacement: a rough guess, the simulation decides
    return 1.0 / (1.0 + r * (wf.hiring_lag_days.mean + wf.training_days.mean))


def analytic_dyads(scenario: Scenario, county: County, targets: Sequence[ServiceTarget], mean_days: float,
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
