"""Families and the draws they carry.

Everything random about a family (attributes, and the uniforms behind its durations and
hazards) is fixed when it is referred and kept on the record, so the same family meets
the same luck in the START run, the usual-services run and any other scenario.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from start_sim.inputs.schema import SUBSTANCES, Scenario
from start_sim.inputs.sites import removal_share
from start_sim.sim.streams import NEW, CountyDraws, UniformSeq, stream

# width of each per-family block of uniforms; sequences continue on the family's own stream
SEQUENCE_WIDTH = {"recovery": 24, "children": 32, "reports": 12, "extension": 4, "kin": 12, "report_removal": 8,
                  "treatment": 4, "moud_retention": 2}


@dataclass(slots=True)
class Family:
    """One eligible family and its draws."""

    county: int
    index: int
    pre_existing: bool
    referral_day: float
    children: int
    youngest_age: float
    substance: str
    two_parent: bool
    high_severity: bool
    removed_at_investigation: bool
    kin_at_investigation: bool  # left home for kin at investigation, outside foster care (decision 0031)
    u_modality: float
    u_service: float
    u_usual_service: float
    u_disengage: float
    u_disengage_day: float
    u_assessment: float
    u_uptake: float
    u_episode: float
    u_elapsed: float  # pre-existing open cases: share of the planned duration already served
    u_decline: float  # START arm: the family declines START at referral (program.decline_probability)
    u_never_engage: float  # START arm: an assigned family never engages (program.never_engage_probability)
    site_effect: float  # the county's random placement-hazard multiplier this replication (1: none)
    open_at_start: bool  # a pre-existing case already open in START on day 0
    seqs: dict[str, UniformSeq]

    @property
    def tag(self) -> str:
        return "pre-existing" if self.pre_existing else "new"

    def fresh_seqs(self) -> dict[str, UniformSeq]:
        """Readers of this family's sequences from their first draw: each arm gets its own."""
        return {k: s.fresh() for k, s in self.seqs.items()}


def in_cohort(family: Family, scenario: Scenario) -> bool:
    """The cohort every outcome and cost KPI is about: families referred within the horizon
    (pre-existing cases, open or waiting on day 0, are staffed but not counted)."""
    return not family.pre_existing and family.referral_day < scenario.horizon_days


def site_effect(scenario: Scenario, draws: CountyDraws) -> float:
    """The county's random placement-hazard multiplier in this replication, exp(effect_sd * z), from
    its own stream (the same for both cohorts and both arms); exactly 1 without a site effect."""
    sd = scenario.sites.effect_sd
    if sd == 0.0:
        return 1.0
    z = float(stream(draws.seed, draws.replication, draws.county, "site_effect", NEW).standard_normal())
    return float(np.exp(sd * z))


def draw_families(
    scenario: Scenario, county_index: int, days: np.ndarray, draws: CountyDraws, pre_existing: bool, open_count: int = 0
) -> list[Family]:
    """Families for the given referral days; ineligible referrals are left out.

    Eligibility, like every attribute, is one column of a named stream, so a family's
    eligibility and attributes do not depend on any other family or scenario setting.
    """
    fam = scenario.families
    n = len(days)
    if n == 0:
        return []

    def col(name: str) -> np.ndarray:
        return draws.block(name, 1)[:, 0]

    share = 1.0 if pre_existing else scenario.counties[county_index].eligible_share
    eligible = col("eligible") < share
    children = fam.children.ppf_array(col("children_count")).astype(int).clip(min=1).tolist()
    youngest = fam.youngest_age_years.ppf_array(col("youngest_age")).tolist()
    cum = np.cumsum([getattr(fam.substance_shares, s) for s in SUBSTANCES])
    substance_idx = np.minimum(np.searchsorted(cum, col("substance"), side="right"), len(SUBSTANCES) - 1)
    substance = [SUBSTANCES[k] for k in substance_idx.tolist()]
    two_parent = (col("two_parent") < fam.two_parent_share).tolist()
    severe = (col("severity") < fam.high_severity_share).tolist()
    pl = scenario.placement
    county = scenario.counties[county_index]
    u_removal = col("removal")
    share = removal_share(pl.removal_at_investigation_share, county)
    removed = (u_removal < share).tolist()
    # kin arrangements at investigation: the next kin_arrangement_ratio x the removal share of the same draw
    kin = ((u_removal >= share) & (u_removal < share * (1.0 + pl.kin_arrangement_ratio))).tolist()
    u = {k: col(k).tolist() for k in ("modality", "service", "usual_service", "disengage", "disengage_day",
                                      "assessment", "uptake", "episode", "elapsed", "decline", "never_engage")}
    effect = site_effect(scenario, draws)
    rows = {k: draws.block(k, w).tolist() for k, w in SEQUENCE_WIDTH.items()}
    day = days.tolist()
    return [
        Family(
            county=county_index,
            index=i,
            pre_existing=pre_existing,
            referral_day=day[i],
            children=children[i],
            youngest_age=youngest[i],
            substance=substance[i],
            two_parent=two_parent[i],
            high_severity=severe[i],
            removed_at_investigation=removed[i] and not pre_existing,
            kin_at_investigation=kin[i] and not pre_existing,
            u_modality=u["modality"][i],
            u_service=u["service"][i],
            u_usual_service=u["usual_service"][i],
            u_disengage=u["disengage"][i],
            u_disengage_day=u["disengage_day"][i],
            u_assessment=u["assessment"][i],
            u_uptake=u["uptake"][i],
            u_episode=u["episode"][i],
            u_elapsed=u["elapsed"][i],
            u_decline=u["decline"][i],
            u_never_engage=u["never_engage"][i],
            site_effect=effect,
            open_at_start=pre_existing and i < open_count,
            seqs={k: UniformSeq(r[i], draws, k, i) for k, r in rows.items()},
        )
        for i in np.flatnonzero(eligible).tolist()
    ]
