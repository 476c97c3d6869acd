"""Scenario tables of what happens to families: their attributes, treatment, recovery,
START's effects, placement, follow-up and unit costs.

Every default names its source in ``calibration/sources.md`` by a short key in brackets, or
says *assumption*.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from start_sim.core.dotted import show
from start_sim.inputs import bounds as B
from start_sim.inputs.distributions import Distribution, Empirical, Exponential, Fixed, Lognormal, Uniform
from start_sim.inputs.tables import (
    MODALITIES,
    ByModality,
    ByPlacement,
    BySubstance,
    Multiplier,
    Probability,
    RatePerYear,
    Strict,
)


class Families(Strict):
    """Attributes drawn for each family at referral."""

    children: Distribution = Field(
        Empirical(dist="empirical", values=[1, 2, 3, 4], weights=[0.40, 0.32, 0.18, 0.10]),
        description="children per family; mean 1.98, near KY's 1,643 children / 806 families = 2.04 [ZTT-2016]",
    )
    youngest_age_years: Distribution = Field(
        Uniform(dist="uniform", low=0, high=6), description="age of the youngest child, years (<6 by eligibility [PSC-eligibility]; uniform shape: assumption)"
    )
    substance_shares: BySubstance = Field(
        BySubstance(opioids=0.45, methamphetamine=0.25, alcohol=0.20, other=0.10),
        description="primary substance of the index parent [assumption]",
    )
    two_parent_share: Probability = Field(0.35, description="two-parent households [assumption]")
    high_severity_share: Probability = Field(
        0.25, description="parents whose severity calls for residential or intensive care [assumption]"
    )

    @model_validator(mode="after")
    def _shares_sum(self) -> Families:
        total = sum(self.substance_shares.model_dump().values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"substance_shares must add up to 1 (they add up to {total:g})")
        return self

    @model_validator(mode="after")
    def _whole_children(self) -> Families:
        """Children are counted: whole numbers of 1 or more, never truncated or raised in silence."""
        c = self.children
        values = [c.value] if isinstance(c, Fixed) else c.values if isinstance(c, Empirical) and not c.interpolate else []
        if not values or any(v < 1 or not float(v).is_integer() for v in values):
            raise ValueError(
                f"children = {show(c.model_dump(by_alias=True, exclude_defaults=True) | {'dist': c.dist})} is not "
                "allowed: children per family are whole numbers of 1 or more (a family is referred for its "
                'children); give {dist = "empirical", values = [1, 2, 3, 4], weights = [0.4, 0.32, 0.18, 0.1]} '
                'or {dist = "fixed", value = 2}'
            )
        return self


class Treatment(Strict):
    """Assessment and treatment access, modality choice and episode length."""

    default_slots: ByModality = Field(
        ByModality(outpatient=40, intensive_outpatient=15, residential=6, moud=20),
        description="places per county for child-welfare parents [assumption]",
    )
    assessment_days_start: Distribution = Field(
        Exponential(dist="exponential", mean=2.0),
        description="START: assignment to holistic assessment, days; target 48 h [APF-2022]",
    )
    assessment_days_usual: Distribution = Field(
        Empirical(dist="empirical", values=[0, 7, 60, 150], weights=[0.50, 0.16, 0.34], interpolate=True),
        description="usual services: case opening to SUD screening, days; 50% within 7, 34% over 2 months, measured from the "
        "custody hearing in Illinois [IL-RC-2015]; applied from case opening and capped at 150 days (assumption)",
    )
    uptake_usual: Probability = Field(
        0.55,
        description="usual services: share of parents who enter treatment; 50% of DCBS clients needing it receive any "
        "[RPG-II-Daviess]; 0.55 hand-tuned toward T6 (assumption)",
    )
    max_wait_days: float | None = Field(
        120.0,
        ge=0,
        description="a parent queueing longer for a treatment place stops waiting (spontaneous recovery applies from "
        "then); \"none\" (in quotes) = no limit, waits for ever [assumption; ~30% wait over a month, AHRQ-NTIES]",
    )
    uptake_start: Probability = Field(0.85, description="START without a mentor: share entering treatment [assumption]")
    moud_share_opioids: Probability = Field(
        0.30, description="opioid-using parents whose modality is MOUD [assumption; KY 2007-15 saw 9.2%, MAT-KY]"
    )
    episode_days: dict[str, Distribution] = Field(
        {
            "outpatient": Lognormal(dist="lognormal", mean=90, sd=45),
            "intensive_outpatient": Lognormal(dist="lognormal", mean=60, sd=25),
            "residential": Lognormal(dist="lognormal", mean=45, sd=20),
            "moud": Lognormal(dist="lognormal", mean=240, sd=120),
        },
        description="treatment episode length by modality, days [assumption]",
    )
    max_episodes: int = Field(
        1, ge=1, le=5, description="treatment episodes per case at most: a parent still using when an episode ends "
        "(dropout, or no recovery by its end) asks again while the case is open; 1 = one episode [assumption; "
        "decision 0022]",
    )
    repeat_request_days: Distribution = Field(
        Fixed(dist="fixed", value=30), description="days from the end of an episode to the next request [assumption]"
    )
    moud_mode: Literal["episode", "ongoing"] = Field(
        "episode", description="MOUD as a fixed-length episode (episode_days.moud, ended early by the dropout hazard) "
        "or as ongoing medication held until discontinuation (moud_retention_days); decision 0053 [assumption: "
        "\"episode\" keeps the model the Kentucky scenarios were calibrated with]",
    )
    moud_retention_days: Distribution = Field(
        Lognormal(dist="lognormal", mean=365, sd=550),
        description="moud_mode = \"ongoing\": days on medication until discontinuation (the prescriber or OTP panel "
        "place is held as long); median about 200 days, 54% retained at 24 weeks, 29% at a year [MOUD-RET-HSER-2014, "
        "MOUD-RET-STEIN-2005: about half retained at 24 weeks; shape and tail: assumption]",
    )

    @model_validator(mode="after")
    def _modalities(self) -> Treatment:
        if set(self.episode_days) != set(MODALITIES):
            raise ValueError(f"episode_days needs exactly the modalities {', '.join(MODALITIES)}")
        return self


PathRate = Annotated[float, Field(ge=0.0, le=B.MAX_PATH_RATE_PER_YEAR)]
"""A recovery hazard per year: every change of state is a step of each family's simulated path."""


class Recovery(Strict):
    """The index parent's recovery process: using, in treatment, early and sustained recovery."""

    recovery_rate_in_treatment: PathRate = Field(
        4.8, description=f"in treatment -> early recovery, per year [assumption; hand-tuned toward T6]; {B.PATH_RATE_REASON}"
    )
    dropout_rate_in_treatment: PathRate = Field(3.0, description=f"in treatment -> using (drop out), per year [assumption]; {B.PATH_RATE_REASON}")
    spontaneous_recovery_rate: PathRate = Field(
        0.3, description=f"using -> early recovery without treatment, per year [assumption; hand-tuned toward T6]; {B.PATH_RATE_REASON}"
    )
    relapse_rate_early: PathRate = Field(
        0.8, description=f"early recovery -> using, per year [assumption; hand-tuned toward T6]; {B.PATH_RATE_REASON}"
    )
    relapse_rate_sustained: PathRate = Field(0.25, description=f"sustained recovery -> using, per year [assumption]; {B.PATH_RATE_REASON}")
    days_to_sustained: float = Field(180.0, gt=0, description="days of early recovery before it counts as sustained [assumption]")
    substance_recovery_multiplier: BySubstance = Field(
        BySubstance(opioids=0.9, methamphetamine=0.85, alcohol=1.15, other=1.1),
        description=f"multiplies recovery_rate_in_treatment by substance [assumption]; {B.MULTIPLIER_REASON}",
    )
    moud_recovery_multiplier: Multiplier = Field(1.3, description=f"MOUD vs other modalities for opioids [assumption]; {B.MULTIPLIER_REASON}")

    @model_validator(mode="after")
    def _substance_multipliers(self) -> Recovery:
        for name, value in self.substance_recovery_multiplier.model_dump().items():
            if value > B.MAX_MULTIPLIER:
                raise ValueError(f"substance_recovery_multiplier.{name} = {value:g} must be {B.MAX_MULTIPLIER:g} or "
                                 f"less ({B.MULTIPLIER_REASON.split(': ', 1)[1]})")
        return self


class StartEffects(Strict):
    """START's mechanisms, each switchable, each with its own size (no single multiplier)."""

    rapid_access: bool = Field(
        True, description="START families get assessment_days_start, uptake_start and treatment priority [APF-2022]"
    )
    mentor_support: bool = Field(True, description="the mentor effects below apply to families of dyads with a mentor")
    mentor_uptake: Probability = Field(0.92, description="share entering treatment with a mentor [assumption]")
    mentor_recovery_multiplier: Multiplier = Field(1.5, description=f"on recovery_rate_in_treatment with a mentor [assumption]; {B.MULTIPLIER_REASON}")
    mentor_dropout_multiplier: Multiplier = Field(0.6, description=f"on dropout_rate_in_treatment with a mentor [assumption]; {B.MULTIPLIER_REASON}")
    mentor_relapse_multiplier: Multiplier = Field(
        0.4, description=f"on relapse rates while the case is open [assumption; hand-tuned toward T6]; {B.MULTIPLIER_REASON}"
    )
    safety_planning_casework_multiplier: Multiplier = Field(
        0.65, description="on the placement hazard while a START case is open, with or without a mentor: intensive "
        f"casework under a low cap [assumption; decision 0030]; {B.MULTIPLIER_REASON}"
    )
    safety_planning_mentor_multiplier: Multiplier = Field(
        1.0, description="on the placement hazard, on top of the casework part, while a START case that has a mentor "
        f"is open (1: the mentor adds nothing) [assumption; decision 0030]; {B.MULTIPLIER_REASON}"
    )
    kin_preference: Probability = Field(
        0.5, description="while a START case is open, share of children who would enter non-relative foster care "
        "who go to kin instead (START seeks permanency with a parent or, if not possible, with a relative "
        "[CEBC-START]; the share is an assumption; decision 0031)",
    )
    report_removal_multiplier: Multiplier = Field(
        1.0, description="on the removal probability of a re-report while a START case is open, beyond the "
        "surveillance rule (only 1 in surveillance_report_multiplier START reports carries the true-risk removal "
        f"probability) [assumption; decision 0032]; {B.MULTIPLIER_REASON}"
    )
    surveillance_report_multiplier: Multiplier = Field(
        2.8,
        description="on the re-report hazard while a START case is open; START re-reports are higher "
        f"[Hall-2021-CYSR; size hand-tuned toward T5]; {B.MULTIPLIER_REASON}",
    )


class Placement(Strict):
    """Children's removal, placement type, reunification and ASFA permanency."""

    removal_at_investigation_share: Probability = Field(
        0.10, description="families whose children are removed at investigation, before START [assumption]"
    )
    rate_using: RatePerYear = Field(0.40, description="placement hazard while the parent uses, per year [assumption]")
    rate_in_treatment: RatePerYear = Field(0.20, description="placement hazard while in treatment, per year [assumption]")
    rate_in_recovery: RatePerYear = Field(0.04, description="placement hazard in recovery, per year [assumption]")
    type_shares: ByPlacement = Field(
        ByPlacement(relative=0.35, foster=0.60, residential=0.05), description="placement type shares [assumption]"
    )
    kin_arrangement_ratio: float = Field(
        0.5, ge=0, le=5, description="kin arrangements (a safety plan or temporary custody with a relative, outside "
        "paid foster care) per entry into foster care, at investigation and later; the rates above stay the hazards "
        "of entering foster care. 100,000-300,000 children a year are diverted to kin [ChildTrends-kin-diversion] "
        "against 268,212 foster-care entries in FY2017 [ChildTrends-AOD-2017]: 0.4-1.1; 0.5 is an assumption at "
        "the low end; 0 switches kin arrangements off (decision 0031)",
    )
    reunification_rate_in_recovery: RatePerYear = Field(
        2.5, description="per year, parent in recovery [assumption; hand-tuned toward T4]"
    )
    reunification_rate_not_in_recovery: RatePerYear = Field(
        0.3, description="per year, parent not in recovery [assumption; hand-tuned toward T4]"
    )
    permanency_hearing_days: float = Field(365.0, gt=0, description="permanency hearing after this many days in care [ASFA]")
    reunification_multiplier_after_hearing: Multiplier = Field(
        0.5, description=f"on reunification after the hearing if the parent is not in recovery [assumption]; {B.MULTIPLIER_REASON}"
    )
    guardianship_rate_after_hearing: RatePerYear = Field(
        0.5, description="relative placements: exit to guardianship after the hearing, per year [assumption]"
    )
    tpr_days_in_care: float = Field(456.0, gt=0, description="TPR petition at 15 months (456 days) in care [ASFA]")
    tpr_window_days: float = Field(669.0, gt=0, description="... of the most recent 22 months (669 days) [ASFA]")
    tpr_exception_relative: Probability = Field(
        0.7, description="share of relative placements exempted from the TPR petition [ASFA exception; share assumption]"
    )
    adoption_days_after_tpr: Distribution = Field(
        Lognormal(dist="lognormal", mean=365, sd=180), description="TPR petition to adoption, days [assumption]"
    )

    @model_validator(mode="after")
    def _check(self) -> Placement:
        total = sum(self.type_shares.model_dump().values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"type_shares must add up to 1 (they add up to {total:g})")
        if self.tpr_window_days < self.tpr_days_in_care:
            raise ValueError("tpr_window_days must be >= tpr_days_in_care")
        return self


class FollowUp(Strict):
    """Maltreatment re-reports and the follow-up window after closure."""

    followup_days: float = Field(365.0, gt=0, description="follow-up after closure, days (the 12 months of the outcome definitions [Hall-2021-CYSR])")
    report_rate_using: RatePerYear = Field(
        0.085, description="re-report hazard while the parent uses, per year [assumption; hand-tuned toward T5]"
    )
    report_rate_in_recovery: RatePerYear = Field(0.03, description="re-report hazard in recovery, per year [assumption]")
    removal_after_report_using: Probability = Field(
        0.15, description="a re-report while the children are home and the parent uses or is in treatment opens an "
        "investigation that removes them with this probability [assumption; decision 0032]",
    )
    removal_after_report_in_recovery: Probability = Field(
        0.03, description="... while the parent is in recovery [assumption; decision 0032]",
    )


class Costs(Strict):
    """Unit costs (US dollars) and the discount rate."""

    caseworker_per_fte_year: float = Field(75_000, ge=0, description="salary + fringe [assumption]")
    mentor_per_fte_year: float = Field(55_000, ge=0, description="salary + fringe [assumption; OH GRF $90k/dyad is a floor]")
    supervision_share: float = Field(0.15, ge=0, description="supervisor cost as a share of dyad cost [assumption]")
    overhead_share: float = Field(0.20, ge=0, description="overhead on staff cost [assumption]")
    training_per_hire: float = Field(5_000, ge=0, description="[assumption]")
    placement_per_child_day: ByPlacement = Field(
        ByPlacement(relative=24.10, foster=24.10, residential=183.0),
        description="maintenance per child-day: KY resource-home basic rate $24.10 (under 12) "
        "[KY-SOP-4.5.5], relative and fictive-kin homes at the same rate since 1 Jan 2024 [KY-SOP-12.24], "
        "residential Level IV $183.00 (2016; Level V $236.60) [KY-per-diem]",
    )
    casework_per_child_month_in_care: float = Field(
        2_576.0, ge=0, description="in-care casework and administration per child-month: the national Title IV-E "
        "in-placement administration cost, FY2023 (states $263-$10,041) [ASPE-IVE-admin-2023]",
    )
    in_care_casework_share_while_case_open: Probability = Field(
        0.5, description="share of in-care casework charged, in both runs alike, on days the family's own worker "
        "(the START dyad or a usual-services caseworker, already paid) has its case open: that worker does the "
        "child's case management, while eligibility, licensing, placement and court work remain; 1 charges it in "
        "full (a double count of the case management), 0 leaves none [assumption: half; decision 0019]",
    )
    usual_ongoing_caseload: float = Field(
        17.0, gt=0, le=100, description="families per usual-services ongoing caseworker [CWLA-caseload]"
    )
    usual_caseworker_per_fte_year: float = Field(
        75_000, ge=0, description="usual ongoing caseworker salary + fringe, loaded with supervision_share and "
        "overhead_share like START staff [assumption: as caseworker_per_fte_year]",
    )
    adoption_subsidy_per_child_day: float = Field(
        24.10, ge=0, description="adoption assistance after an adoption, per child-day: at most the foster per "
        "diem [KY-SOP-13.40]; paid at that cap [assumption]",
    )
    guardianship_subsidy_per_child_day: float = Field(
        24.10, ge=0, description="subsidised permanent custody (guardianship assistance) after exit, per child-day "
        "[KY-922-KAR-1:145]; paid at the foster per diem [assumption]",
    )
    subsidy_end_age: float = Field(
        18.0, gt=0, le=21, description="subsidies stop at this age of the family's youngest child (or at the end "
        "of the follow-up window) [KY-922-KAR-1:145; the youngest child's age for all: assumption]",
    )
    cost_escalation_per_year: float = Field(
        0.03, ge=0, le=0.2, description="nominal growth of unit costs a year, for budgets and the fiscal note "
        "(not used in present values, which are real) [assumption]",
    )
    treatment_per_episode: ByModality = Field(
        ByModality(outpatient=3_000, intensive_outpatient=6_000, residential=12_000, moud=7_000),
        description="treatment cost per episode, paid by Medicaid/state [assumption]",
    )
    moud_per_day: float = Field(
        29.0, ge=0, description="treatment.moud_mode = \"ongoing\": MOUD cost per day on medication, paid by "
        "Medicaid/state, in place of treatment_per_episode.moud [assumption: the $7,000 episode over its 240-day mean]",
    )
    discount_rate_per_year: float = Field(0.03, ge=0, le=0.2, description="real discount rate [assumption]")
