"""Costs: START staff, treatment episodes and out-of-home care, discounted to day 0.

Perspective: the child-welfare agency pays staff and care; treatment is reported
separately (its payer is usually Medicaid or the state). Discounting is continuous at
``discount_rate_per_year`` from the start of the run (see ``core.discount``).
"""

from __future__ import annotations

from start_sim.core import discount as pv
from start_sim.core.timebase import DAYS_PER_MONTH, DAYS_PER_YEAR
from start_sim.inputs.schema import Costs
from start_sim.outcomes.children import Episode
from start_sim.sim.staff import CASEWORKER, Post


def rate_per_day(c: Costs) -> float:
    """The continuous daily discount rate of the scenario's annual rate."""
    return pv.rate_per_day(c.discount_rate_per_year)


def discount(c: Costs, day: float) -> float:
    """Present-value factor of a cost paid on ``day``."""
    return pv.factor(rate_per_day(c), day)


def flow(c: Costs, per_day: float, start: float, end: float) -> float:
    """Present value of ``per_day`` paid continuously over [start, end]."""
    return pv.flow(rate_per_day(c), start, end, per_day)


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


def staff_cost_per_day(c: Costs, caseworker_fte: float, mentor_fte: float) -> float:
    """The one staff-cost loading: caseworkers' and mentors' salary + fringe for the given
    FTEs, with the supervision share and overhead on top, per day (nominal)."""
    salaries = caseworker_fte * c.caseworker_per_fte_year + mentor_fte * c.mentor_per_fte_year
    return salaries * ((1 + c.supervision_share) * (1 + c.overhead_share) / DAYS_PER_YEAR)


def post_cost_per_day(c: Costs, post: Post) -> float:
    """One post's loaded pay per day while on the payroll."""
    if post.role == CASEWORKER:
        return staff_cost_per_day(c, post.fte, 0.0)
    return staff_cost_per_day(c, 0.0, post.fte)


def staff_cost(c: Costs, posts: list[Post], horizon_days: float) -> float:
    """Present value of the START staff who were on the payroll before the horizon: pay from
    hire (training included) to leaving or the horizon, with supervision and overhead, plus
    training per hire."""
    total = 0.0
    for p in posts:
        if p.hired >= horizon_days:
            continue
        total += flow(c, post_cost_per_day(c, p), max(p.hired, 0.0), min(p.left, horizon_days))
        total += c.training_per_hire * discount(c, p.hired)
    return total
