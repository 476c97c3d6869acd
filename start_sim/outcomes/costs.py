"""Unit pricing: START staff, usual-services casework, out-of-home care, subsidies after exit
and treatment episodes, discounted to day 0.

Perspective: the child-welfare agency pays staff, casework, care and subsidies; treatment is
reported separately (its payer is usually Medicaid or the state). Both arms are priced by the
same functions from the same resource spells (``outcomes.resources``); see decision 0019.
Discounting is continuous at ``discount_rate_per_year`` from the start of the run
(see ``core.discount``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from start_sim.core import discount as pv
from start_sim.core.timebase import DAYS_PER_MONTH, DAYS_PER_YEAR
from start_sim.inputs.schema import PLACEMENT_TYPES, Costs, Treatment
from start_sim.outcomes.children import ADOPTION, GUARDIANSHIP
from start_sim.outcomes.resources import CareSpell
from start_sim.sim.case import Case
from start_sim.sim.staff import CASEWORKER, Post
from start_sim.sim.treatment import ongoing_moud


def rate_per_day(c: Costs) -> float:
    """The continuous daily discount rate of the scenario's annual rate."""
    return pv.rate_per_day(c.discount_rate_per_year)


def discount(c: Costs, day: float) -> float:
    """Present-value factor of a cost paid on ``day``."""
    return pv.factor(rate_per_day(c), day)


def flow(c: Costs, per_day: float, start: float, end: float) -> float:
    """Present value of ``per_day`` paid continuously over [start, end]."""
    return pv.flow(rate_per_day(c), start, end, per_day)


def maintenance_per_child_day(c: Costs, kind: str) -> float:
    """The per diem of a placement type."""
    return getattr(c.placement_per_child_day, kind)


def care_casework_per_child_day(c: Costs, worked: bool) -> float:
    """In-care casework and administration per child-day; on days the family's own worker (the
    START dyad or a usual caseworker, already paid) has its case open, only
    ``in_care_casework_share_while_case_open`` of it is charged, in both arms alike."""
    share = c.in_care_casework_share_while_case_open if worked else 1.0
    return share * c.casework_per_child_month_in_care / DAYS_PER_MONTH


def care_cost_per_child_day(c: Costs, kind: str, worked: bool = False) -> float:
    return maintenance_per_child_day(c, kind) + care_casework_per_child_day(c, worked)


@dataclass(frozen=True, slots=True)
class Prices:
    """One ``Costs`` table's daily discount rate and unit prices, computed once (``prices``) where
    many families are priced alike: the same values the functions below compute per call."""

    delta: float
    care: dict[tuple[str, bool], float]  # care_cost_per_child_day by (placement type, worked)
    maintenance: dict[str, float]  # maintenance_per_child_day by placement type
    care_casework: dict[bool, float]  # care_casework_per_child_day by worked
    usual_casework: float  # usual_casework_per_family_day
    subsidy: dict[str, float]  # subsidy_per_child_day by exit


def prices(c: Costs) -> Prices:
    """The ``Prices`` of ``c``."""
    return Prices(
        rate_per_day(c),
        {(kind, worked): care_cost_per_child_day(c, kind, worked) for kind in PLACEMENT_TYPES for worked in (False, True)},
        {kind: maintenance_per_child_day(c, kind) for kind in PLACEMENT_TYPES},
        {worked: care_casework_per_child_day(c, worked) for worked in (False, True)},
        usual_casework_per_family_day(c),
        {kind: subsidy_per_child_day(c, kind) for kind in (ADOPTION, GUARDIANSHIP)},
    )


def placement_cost(c: Costs, spells: list[CareSpell], children: int, pr: Prices | None = None) -> float:
    """Present value of care (maintenance and in-care casework) of ``children`` over ``spells``
    (``pr``: ``prices(c)`` if already known)."""
    if not spells:
        return 0
    if pr is None:
        pr = prices(c)
    delta, care, flow_ = pr.delta, pr.care, pv.flow
    return children * sum([flow_(delta, s.start, s.end, care[s.kind, s.worked]) for s in spells])


def usual_casework_per_family_day(c: Costs) -> float:
    """A usual ongoing caseworker's loaded pay per day shared by a full usual caseload."""
    return loaded_per_day(c, c.usual_caseworker_per_fte_year) / c.usual_ongoing_caseload


def usual_casework_cost(c: Costs, spans: list[tuple[float, float]], pr: Prices | None = None) -> float:
    """Present value of usual-services casework over a family's days on a usual caseload."""
    if not spans:
        return 0
    if pr is None:
        pr = prices(c)
    delta, per_day, flow_ = pr.delta, pr.usual_casework, pv.flow
    return sum([flow_(delta, a, b, per_day) for a, b in spans])


def subsidy_per_child_day(c: Costs, kind: str) -> float:
    """Adoption assistance or guardianship subsidy per child-day."""
    return c.adoption_subsidy_per_child_day if kind == ADOPTION else c.guardianship_subsidy_per_child_day


def subsidy_cost(c: Costs, spells: list[tuple[str, float, float]], children: int, pr: Prices | None = None) -> float:
    """Present value of subsidies after exit of ``children`` over ``spells``."""
    if not spells:
        return 0
    if pr is None:
        pr = prices(c)
    delta, subsidy = pr.delta, pr.subsidy
    return children * sum([pv.flow(delta, a, b, subsidy[kind]) for kind, a, b in spells])


def treatment_price(c: Costs, modality: str) -> float:
    """The price of one treatment episode of a modality."""
    return getattr(c.treatment_per_episode, modality)


def treatment_cost(c: Costs, modality: str, start_day: float) -> float:
    return treatment_price(c, modality) * discount(c, start_day)


PER_EPISODE = math.nan
"""The ``days`` of a treatment bill priced per episode (``costs.treatment_per_episode``)."""


def treatment_bills(tr: Treatment, case: Case) -> list[tuple[float, float]]:
    """A parent's treatment bills as (day, days billed): one per episode at its start (days
    ``PER_EPISODE``), or for ongoing MOUD (decision 0053) one a month on medication, each for its days
    (``costs.moud_per_day``). Both arms are billed by this one function."""
    if not ongoing_moud(tr, case.modality):
        return [(day, PER_EPISODE) for day in case.episode_starts]
    spells = [(case.tx_start_day, case.tx_exit_day)] + [(s, e) for _, s, e in case.repeats]
    bills = []
    for start, exit_ in spells:
        day = start
        while day < exit_:  # a NaN spell (never started) gives no bill
            bills.append((day, min(DAYS_PER_MONTH, exit_ - day)))
            day += DAYS_PER_MONTH
    return bills


def bill_price(c: Costs, modality: str, days: float) -> float:
    """The undiscounted price of one bill of ``treatment_bills``."""
    return treatment_price(c, modality) if math.isnan(days) else c.moud_per_day * days


def treatment_bills_cost(c: Costs, tr: Treatment, case: Case, pr: Prices | None = None) -> float:
    """Present value of a parent's treatment bills."""
    bills = treatment_bills(tr, case)
    if not bills:
        return 0
    delta = rate_per_day(c) if pr is None else pr.delta
    return sum([bill_price(c, case.modality, days) * pv.factor(delta, day) for day, days in bills])


def loaded_per_day(c: Costs, salaries_per_year: float) -> float:
    """The one staff-cost loading: salary + fringe a year with the supervision share and
    overhead on top, per day (nominal). START and usual-services staff are loaded alike."""
    return salaries_per_year * ((1 + c.supervision_share) * (1 + c.overhead_share) / DAYS_PER_YEAR)


def staff_cost_per_day(c: Costs, caseworker_fte: float, mentor_fte: float) -> float:
    """START caseworkers' and mentors' loaded pay per day for the given FTEs."""
    return loaded_per_day(c, caseworker_fte * c.caseworker_per_fte_year + mentor_fte * c.mentor_per_fte_year)


def post_cost_per_day(c: Costs, post: Post) -> float:
    """One post's loaded pay per day while on the payroll."""
    if post.role == CASEWORKER:
        return staff_cost_per_day(c, post.fte, 0.0)
    return staff_cost_per_day(c, 0.0, post.fte)


def staff_cost(c: Costs, posts: list[Post], horizon_days: float) -> float:
    """Present value of the START staff who were on the payroll before the horizon: pay from
    hire (training included) to leaving or the horizon, with supervision and overhead, plus
    training per hire."""
    return staff_cost_by(c, posts, [horizon_days])[0]


def staff_cost_by(c: Costs, posts: list[Post], horizons: list[float]) -> list[float]:
    """``staff_cost`` to each of ``horizons`` (the cumulative cost series), each post priced once."""
    delta = rate_per_day(c)
    terms = [(p.hired, max(p.hired, 0.0), p.left, post_cost_per_day(c, p), c.training_per_hire * pv.factor(delta, p.hired))
             for p in posts]
    out = []
    for h in horizons:
        total = 0.0
        for hired, start, left, per_day, training in terms:
            if hired >= h:
                continue
            total += pv.flow(delta, start, min(left, h), per_day)
            total += training
        out.append(total)
    return out
