"""The ``[funding]`` table: who pays for START and who keeps the savings.

Federal matching (Title IV-E prevention, foster-care maintenance and administration, Medicaid),
the state's own allocations, and grants and settlement money by year. The county is the residual
payer: it pays what no other payer covers. Costs escalate by ``costs.cost_escalation_per_year``.
Every default names its source in ``calibration/sources.md`` by a short key in brackets, or says
*assumption*.
"""

from __future__ import annotations

from pydantic import Field

from start_sim.inputs.tables import Probability, Strict

MAX_PER_YEAR = 1e9
MONEY_REASON = "at most 1,000,000,000 a year: more than any state spends on one child-welfare programme"
PAID_HOURS_PER_FTE_YEAR = 2080.0
"""Paid hours of a full-time post in a year (40 hours x 52 weeks) [assumption], the base of peer-support billing."""


class Grant(Strict):
    """Money from one payer in one programme year, spent on START's cost before the county pays."""

    year: int = Field(ge=1, le=100, description="programme year the money is spent in (1 = the run's first year)")
    payer: str = Field(min_length=1, description="who gives it, as named in the fiscal note (e.g. 'opioid settlement')")
    amount: float = Field(ge=0, le=MAX_PER_YEAR, description=f"USD, nominal in that year; {MONEY_REASON}")


class Funding(Strict):
    """Shares of each cost and saving by payer: federal, state, county and named grants."""

    fmap: Probability = Field(
        0.72, description="federal medical assistance percentage of the state: Kentucky FY2026, rounded [KY-FMAP]"
    )
    ive_eligible_share: Probability = Field(
        0.358,
        description="share of children in care who are Title IV-E eligible (penetration): the national 2023 rate "
        "[IVE-penetration]; Kentucky's own rate not found [assumption]",
    )
    prevention_federal_share: Probability = Field(
        0.5, description="federal share of Title IV-E prevention services for candidates [FFPSA-50]"
    )
    prevention_months: float = Field(
        12.0, gt=0, le=120,
        description="a candidate's prevention services are claimable this long from the family's START start [FFPSA-12m]",
    )
    candidate_share: Probability = Field(
        1.0, description="share of START families that are documented candidates under the state's prevention plan "
        "(START is rated Supported [PSC-START]; 0 = no claim) [assumption]",
    )
    admin_federal_share: Probability = Field(
        0.5, description="federal share of IV-E administration (casework of eligible children in care) [ASPE-IVE-admin]"
    )
    state_per_agency_per_year: float = Field(
        0.0, ge=0, le=MAX_PER_YEAR,
        description=f"state allocation per county agency running START, per year (Ohio $60,000 [OH GRF]; Kentucky 0 "
        f"[assumption]); {MONEY_REASON}",
    )
    state_per_dyad_per_year: float = Field(
        0.0, ge=0, le=MAX_PER_YEAR,
        description=f"state allocation per dyad, per year (Ohio $90,000 [OH GRF]; Kentucky 0 [assumption]); "
        f"{MONEY_REASON}",
    )
    state_share_of_nonfederal: Probability = Field(
        0.0, description="share of the non-federal cost of care, casework and subsidies paid by the state; the county "
        "agency pays the rest [assumption]",
    )
    peer_support_billable_share: Probability = Field(
        0.0, description="share of mentors' paid hours billed to Medicaid as peer support (covered in 33 states "
        "[Casey-peer-support]; 0 = not billed) [assumption]",
    )
    peer_support_rate_per_hour: float = Field(
        60.0, ge=0, le=1000, description="Medicaid rate per billed hour of peer support, USD [assumption]"
    )
    treatment_medicaid_share: Probability = Field(
        0.8, description="share of treatment cost paid by Medicaid (federal at FMAP); the state pays the rest "
        "[assumption]",
    )
    grants: list[Grant] = Field(
        default_factory=list, max_length=1000,
        description="grant and settlement money by year, spent on START's cost before the county pays "
        "(Kentucky opioid settlement [KY-opioid-settlement])",
    )
