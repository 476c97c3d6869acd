"""Benefit-cost perspectives of single payers: the federal government, the state's own funds
and the county, so that a county sees its own net.

They divide the ``state`` perspective of :mod:`start_sim.analyses.bca` (the agency plus the
treatment payer) among the payers by the rules of the fiscal note
(:mod:`start_sim.outcomes.fiscal`): START's present-value cost less Medicaid peer support, the
IV-E prevention claim and the state allocation (and grant money, which belongs to no one of
the three); extra treatment by Medicaid's and the state's shares; care cost avoided by the
IV-E maintenance and administration shares, subsidies avoided at FMAP x the eligible share,
and the casework credit with no federal share, the non-federal rest between state and county.
With no grants, federal + state_funds + county equals the ``state`` perspective.

Present values need two approximations the fiscal note does not make: the claimable share of
START's cost is its steady-state value E[min(D, L)] / E[D] (D the planned START case length,
L the prevention months), and the state allocation and grants are capped over the whole run
rather than year by year.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from start_sim.core import discount
from start_sim.core.timebase import DAYS_PER_MONTH, DAYS_PER_YEAR
from start_sim.outcomes.fiscal import split_care, split_credit, split_start_cost, split_subsidy, split_treatment
from start_sim.sim.staff import MENTOR

if TYPE_CHECKING:
    from start_sim.inputs.schema import Scenario
    from start_sim.sim.staff import Post

PERSPECTIVES = ("federal", "state_funds", "county")
"""Per-payer perspectives; the fiscal note names the state's own funds ``state``."""
_PAYER = {"federal": "federal", "state_funds": "state", "county": "county"}


def claimable_share(sc: Scenario, points: int = 4000) -> float:
    """Steady-state share of START family-days within each family's first prevention months."""
    u = (np.arange(points) + 0.5) / points
    d = sc.program.service_days.ppf_array(u)
    return float(np.minimum(d, sc.funding.prevention_months * DAYS_PER_MONTH).mean() / d.mean()) if d.mean() > 0 else 0.0


def _pv_allocations(sc: Scenario, rate: float, until: float = math.inf) -> float:
    """Present value of the state allocations, paid evenly over each county's START years in the
    horizon (before day ``until``)."""
    f, end = sc.funding, min(sc.horizon_days, until)
    per_day = [(f.state_per_agency_per_year + f.state_per_dyad_per_year * c.dyads) / DAYS_PER_YEAR for c in sc.counties]
    return float(sum(discount.flow(rate, c.launch_day, end, p)
                     for c, p in zip(sc.counties, per_day, strict=True) if c.launch_day < end))


def _pv_grants(sc: Scenario, rate: float, until: float = math.inf) -> float:
    """Present value of grant money, each paid at the middle of its year (of the years begun before ``until``)."""
    return float(sum(g.amount * discount.factor(rate, (g.year - 0.5) * DAYS_PER_YEAR) for g in sc.funding.grants
                     if (g.year - 1) * DAYS_PER_YEAR < until))


def payer_view(perspective: str, sc: Scenario, rate_per_year: float, posts: list[Post], program: float,
               extra_treatment: float, maintenance_avoided: float, casework_avoided: float, casework_credit: float,
               subsidy_avoided: float, until: float = math.inf) -> tuple[float, float]:
    """(benefits, cost) in present value to one payer: its share of care and subsidies avoided,
    and of START's cost and the extra treatment less the usual-services casework START replaces
    (allocations and grants of the days before ``until``, for the cumulative view by year)."""
    f, payer = sc.funding, _PAYER[perspective]
    rate = discount.rate_per_day(rate_per_year)
    mentor_years = sum(discount.flow(rate, max(p.hired, 0.0), min(p.left, sc.horizon_days), p.fte / DAYS_PER_YEAR)
                       for p in posts if p.role == MENTOR and p.hired < sc.horizon_days)
    start = split_start_cost(f, program, float(mentor_years), claimable_share(sc), _pv_allocations(sc, rate, until))
    residual = start[-1][2]
    start[-1] = ("county", "residual", residual - min(residual, _pv_grants(sc, rate, until)))
    care = split_care(f, {"maintenance_start": 0.0, "maintenance_usual": maintenance_avoided,
                          "care_casework_start": 0.0, "care_casework_usual": casework_avoided})
    cost = (sum(a for p, _, a in [*start, *split_treatment(f, extra_treatment)] if p == payer)
            - sum(a for p, _, a in split_credit(f, casework_credit) if p == payer))
    return float(sum(a for p, _, a in [*care, *split_subsidy(f, subsidy_avoided)] if p == payer)), float(cost)
