"""Costs: START staff, treatment episodes and out-of-home care, discounted to day 0.

Perspective: the child-welfare agency pays staff and care; treatment is reported
separately (its payer is usually Medicaid or the state). Discounting is continuous at
``discount_rate_per_year`` from the start of the run.
"""

from __future__ import annotations

import math

from start_sim.inputs.schema import Costs, County
from start_sim.outcomes.children import Episode
from start_sim.sim.staff import CASEWORKER, Post

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def _delta(c: Costs) -> float:
    return math.log1p(c.discount_rate_per_year) / DAYS_PER_YEAR


def discount(c: Costs, day: float) -> float:
    """Present-value factor of a cost paid on ``day``."""
    return math.exp(-_delta(c) * day)


def flow(c: Costs, per_day: float, start: float, end: float) -> float:
    """Present value of ``per_day`` paid continuously over [start, end]."""
    if end <= start:
        return 0.0
    d = _delta(c)
    if d == 0:
        return per_day * (end - start)
    return per_day * (math.exp(-d * start) - math.exp(-d * end)) / d


def care_cost_per_child_day(c: Costs, kind: str) -> float:
    return getattr(c.placement_per_child_day, kind) + c.casework_per_child_month_in_care / DAYS_PER_MONTH


def placement_cost(c: Costs, episodes: list[Episode], children: int, start: float, end: float) -> float:
    """Present value of care for ``children`` over the part of their spells inside [start, end]."""
    total = 0.0
    for ep in episodes:
        total += flow(c, care_cost_per_child_day(c, ep.kind), max(ep.start, start), min(ep.end, end))
    return total * children


def treatment_cost(c: Costs, modality: str, start_day: float) -> float:
    return getattr(c.treatment_per_episode, modality) * discount(c, start_day)


def dyad_cost_per_day(c: Costs, with_mentor: bool) -> float:
    """One caseworker (and mentor) with supervision share and overhead, per day."""
    staff = c.caseworker_per_fte_year + (c.mentor_per_fte_year if with_mentor else 0.0)
    return staff * (1 + c.supervision_share) * (1 + c.overhead_share) / DAYS_PER_YEAR


def staff_cost(c: Costs, posts: list[Post], horizon_days: float) -> float:
    """Present value of the START staff who were on the payroll before the horizon: pay from
    hire (training included) to leaving or the horizon, with supervision and overhead, plus
    training per hire."""
    loading = (1 + c.supervision_share) * (1 + c.overhead_share) / DAYS_PER_YEAR
    total = 0.0
    for p in posts:
        if p.hired >= horizon_days:
            continue
        salary = c.caseworker_per_fte_year if p.role == CASEWORKER else c.mentor_per_fte_year
        total += flow(c, salary * p.fte * loading, max(p.hired, 0.0), min(p.left, horizon_days))
        total += c.training_per_hire * discount(c, p.hired)
    return total


def program_cost(c: Costs, county: County, horizon_days: float) -> float:
    """Closed form of :func:`staff_cost` for constant staffing (no turnover, no later hires):
    a county's START staff from its launch to the horizon, with training."""
    if county.dyads == 0 or county.launch_day >= horizon_days:
        return 0.0
    mentors = county.dyads if county.mentors is None else min(county.mentors, county.dyads)
    per_day = mentors * dyad_cost_per_day(c, True) + (county.dyads - mentors) * dyad_cost_per_day(c, False)
    training = (county.dyads + mentors) * c.training_per_hire * discount(c, county.launch_day)
    return flow(c, per_day, county.launch_day, horizon_days) + training
