"""The scenario schema: every input of the model, validated, with units and sources.

A scenario is an immutable value. Variants are new objects (:meth:`Scenario.with_changes`
or ``extends = "other.toml"`` in a file). Every default names its source in
``calibration/sources.md`` by a short key in brackets, or says *assumption*.
Time inside the model is in days; rates in the files are per year and durations in days
unless the field name says otherwise.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from start_sim.core.dotted import OVERRIDE, set_dotted, show
from start_sim.core.errors import ScenarioError
from start_sim.inputs.caseload import dyad_cap
from start_sim.inputs.distributions import Distribution, Empirical, Exponential, Fixed, Lognormal, Uniform
from start_sim.inputs.messages import validate_as

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
RatePerYear = Annotated[float, Field(ge=0.0)]
Multiplier = Annotated[float, Field(ge=0.0)]
MODALITIES = ("outpatient", "intensive_outpatient", "residential", "moud")
SUBSTANCES = ("opioids", "methamphetamine", "alcohol", "other")
PLACEMENT_TYPES = ("relative", "foster", "residential")


class Strict(BaseModel):
    """Base for all scenario tables: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


class ByModality(Strict):
    """One number per treatment modality."""

    outpatient: float = Field(ge=0)
    intensive_outpatient: float = Field(ge=0)
    residential: float = Field(ge=0)
    moud: float = Field(ge=0, description="medication for opioid use disorder")


class BySubstance(Strict):
    """One number per primary substance."""

    opioids: float = Field(ge=0)
    methamphetamine: float = Field(ge=0)
    alcohol: float = Field(ge=0)
    other: float = Field(ge=0)


class ByPlacement(Strict):
    """One number per placement type."""

    relative: float = Field(ge=0)
    foster: float = Field(ge=0)
    residential: float = Field(ge=0)


class Workforce(Strict):
    """Staff as people: turnover, hiring lag, training, part-time mentors."""

    caseworker_turnover_per_year: RatePerYear = Field(
        0.0,
        description="caseworker leaving rate (exponential tenure); 0 holds staff constant; the U.S. range is "
        "0.2-0.4 a year, about 0.3 on average [Casey-turnover]",
    )
    mentor_turnover_per_year: RatePerYear = Field(
        0.0, description="mentor leaving rate (exponential tenure); not published [gap 8: assumption]"
    )
    replace_leavers: bool = Field(True, description="a leaver's post is advertised at once and refilled (headcount kept)")
    hiring_lag_days: Distribution = Field(
        Fixed(dist="fixed", value=60), description="from an open post to a hire, days [assumption]"
    )
    training_days: Distribution = Field(
        Fixed(dist="fixed", value=30), description="from hire to taking families, days (paid, no caseload) [assumption]"
    )
    mentor_fte: float = Field(
        1.0, gt=0, le=1, description="mentor post size; a part-time mentor's dyad gets a cap between solo and full [assumption]"
    )


class HiringStep(Strict):
    """Posts opened on one day: filled after the hiring lag, taking families after training."""

    day: float = Field(ge=0, description="day the posts are opened")
    caseworkers: int = Field(0, ge=0)
    mentors: int = Field(0, ge=0)


class County(Strict):
    """One site: its referral volume, its START dyads and its treatment places."""

    name: str = Field(min_length=1)
    referrals_per_year: float = Field(ge=0, description="CPS referrals screened for START per year")
    referral_growth_per_year: float = Field(
        0.0, gt=-1.0, description="relative growth of the referral rate per year (0.05 = +5%/yr)"
    )
    eligible_share: Probability = Field(
        1.0, description="share of screened referrals that are START-eligible [gap 5: assumption]"
    )
    dyads: int = Field(ge=0, description="START caseworkers in post from the launch day, each a dyad when paired")
    mentors: int | None = Field(
        None, ge=0, description="mentors in post (at most one per caseworker); none = one per caseworker"
    )
    launch_day: float = Field(0.0, ge=0, description="day the county starts START (before it: usual services)")
    initial_caseload: int = Field(0, ge=0, description="families already open in START on day 0 (tagged pre-existing)")
    initial_waitlist: int = Field(0, ge=0, description="families already waiting on day 0 (tagged pre-existing)")
    hiring: list[HiringStep] = Field(
        [], description="posts opened later (e.g. a second dyad in year 2, or mentors hired late)"
    )
    workforce: Workforce | None = Field(None, description="this county's staffing dynamics; default: the scenario's")
    treatment_slots: ByModality | None = Field(
        None, description="treatment places open to child-welfare parents; default: treatment.default_slots"
    )

    @property
    def mentor_count(self) -> int:
        """Caseworkers who have a mentor (a full dyad)."""
        return self.dyads if self.mentors is None else min(self.mentors, self.dyads)


class Program(Strict):
    """START practice: caseload cap, waitlist rule and case duration."""

    caseload_cap: int = Field(13, ge=1, description="families per dyad [KY-SOP-6.3: 12-15]")
    waitlist_policy: Literal["waitlist", "divert"] = Field(
        "waitlist",
        description="'waitlist': wait up to max_wait_days for a slot; 'divert': usual services at once if no slot",
    )
    max_wait_days: float | None = Field(
        30.0, ge=0, description="longest wait before usual services instead; none = unbounded [assumption]"
    )
    service_days: Distribution = Field(
        Lognormal(dist="lognormal", mean=426, sd=150),
        description="planned START case length, days; mean 14 months [APF-2022]; sd assumption [gap 13]",
    )
    disengagement_probability: Probability = Field(
        0.10, description="share of families who leave START early [gap 13: assumption]"
    )
    disengagement_days: Distribution = Field(
        Uniform(dist="uniform", low=30, high=180), description="days from assignment to early exit [assumption]"
    )
    extension_days: Distribution = Field(
        Fixed(dist="fixed", value=90), description="length of one extension, days [assumption]"
    )
    max_extensions: int = Field(2, ge=0, description="extensions at most, when the parent is not in recovery [assumption]")
    maturity_days: float = Field(
        0.0,
        ge=0,
        description="days from a county's launch to full fidelity; 0 = mature from the start. A site reaches "
        "fidelity after a pre-service year and two years of operation [Huebner-2015]",
    )
    immature_extra_days_to_treatment: float = Field(
        75.0,
        ge=0,
        description="extra days from assignment to treatment request at launch, falling linearly to 0 at maturity; "
        "time to five treatment sessions fell by 75 days as sites matured [Huebner-2015]",
    )
    solo_caseload_cap: int = Field(
        8, ge=1, description="families per caseworker whose mentor post is vacant (at most caseload_cap) [assumption]"
    )


class UsualServices(Strict):
    """The usual-services (treatment-as-usual) CPS case for the same families."""

    service_days: Distribution = Field(
        Lognormal(dist="lognormal", mean=300, sd=120),
        description="usual in-home/ongoing case length, days [assumption]",
    )
    extension_days: Distribution = Field(Fixed(dist="fixed", value=90), description="[assumption]")
    max_extensions: int = Field(1, ge=0, description="[assumption]")


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
        "then); none = waits for ever [assumption; ~30% wait over a month, AHRQ-NTIES]",
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

    @model_validator(mode="after")
    def _modalities(self) -> Treatment:
        if set(self.episode_days) != set(MODALITIES):
            raise ValueError(f"episode_days needs exactly the modalities {', '.join(MODALITIES)}")
        return self


class Recovery(Strict):
    """The index parent's recovery process: using, in treatment, early and sustained recovery."""

    recovery_rate_in_treatment: RatePerYear = Field(
        4.8, description="in treatment -> early recovery, per year [assumption; hand-tuned toward T6]"
    )
    dropout_rate_in_treatment: RatePerYear = Field(3.0, description="in treatment -> using (drop out), per year [assumption]")
    spontaneous_recovery_rate: RatePerYear = Field(
        0.3, description="using -> early recovery without treatment, per year [assumption; hand-tuned toward T6]"
    )
    relapse_rate_early: RatePerYear = Field(
        0.8, description="early recovery -> using, per year [assumption; hand-tuned toward T6]"
    )
    relapse_rate_sustained: RatePerYear = Field(0.25, description="sustained recovery -> using, per year [assumption]")
    days_to_sustained: float = Field(180.0, gt=0, description="days of early recovery before it counts as sustained [assumption]")
    substance_recovery_multiplier: BySubstance = Field(
        BySubstance(opioids=0.9, methamphetamine=0.85, alcohol=1.15, other=1.1),
        description="multiplies recovery_rate_in_treatment by substance [assumption]",
    )
    moud_recovery_multiplier: Multiplier = Field(1.3, description="MOUD vs other modalities for opioids [assumption]")


class StartEffects(Strict):
    """START's mechanisms, each switchable, each with its own size (no single multiplier)."""

    rapid_access: bool = Field(
        True, description="START families get assessment_days_start, uptake_start and treatment priority [APF-2022]"
    )
    mentor_support: bool = Field(True, description="the mentor effects below apply to families of dyads with a mentor")
    mentor_uptake: Probability = Field(0.92, description="share entering treatment with a mentor [assumption]")
    mentor_recovery_multiplier: Multiplier = Field(1.5, description="on recovery_rate_in_treatment with a mentor [assumption]")
    mentor_dropout_multiplier: Multiplier = Field(0.6, description="on dropout_rate_in_treatment with a mentor [assumption]")
    mentor_relapse_multiplier: Multiplier = Field(
        0.4, description="on relapse rates while the case is open [assumption; hand-tuned toward T6]"
    )
    safety_planning_placement_multiplier: Multiplier = Field(
        0.65, description="on the placement hazard while a START case is open [assumption]"
    )
    surveillance_report_multiplier: Multiplier = Field(
        2.8,
        description="on the re-report hazard while a START case is open; START re-reports are higher "
        "[Hall-2021-CYSR; size hand-tuned toward T5]",
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
    reunification_rate_in_recovery: RatePerYear = Field(
        2.5, description="per year, parent in recovery [assumption; hand-tuned toward T4]"
    )
    reunification_rate_not_in_recovery: RatePerYear = Field(
        0.3, description="per year, parent not in recovery [assumption; hand-tuned toward T4]"
    )
    permanency_hearing_days: float = Field(365.0, gt=0, description="permanency hearing after this many days in care [ASFA]")
    reunification_multiplier_after_hearing: Multiplier = Field(
        0.5, description="on reunification after the hearing if the parent is not in recovery [assumption]"
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


class Costs(Strict):
    """Unit costs (US dollars) and the discount rate."""

    caseworker_per_fte_year: float = Field(75_000, ge=0, description="salary + fringe [assumption]")
    mentor_per_fte_year: float = Field(55_000, ge=0, description="salary + fringe [assumption; OH GRF $90k/dyad is a floor]")
    supervision_share: float = Field(0.15, ge=0, description="supervisor cost as a share of dyad cost [assumption]")
    overhead_share: float = Field(0.20, ge=0, description="overhead on staff cost [assumption]")
    training_per_hire: float = Field(5_000, ge=0, description="[assumption]")
    placement_per_child_day: ByPlacement = Field(
        ByPlacement(relative=10.0, foster=22.70, residential=183.0),
        description="maintenance per child-day: KY kinship $300/month, KY foster $22.70, KY residential Level IV $183 [KY-per-diem]",
    )
    casework_per_child_month_in_care: float = Field(
        900.0, ge=0, description="casework and administration per child-month in care [gap 12: assumption]"
    )
    treatment_per_episode: ByModality = Field(
        ByModality(outpatient=3_000, intensive_outpatient=6_000, residential=12_000, moud=7_000),
        description="treatment cost per episode, paid by Medicaid/state [assumption]",
    )
    discount_rate_per_year: float = Field(0.03, ge=0, le=0.2, description="real discount rate [assumption]")


class Scenario(Strict):
    """A complete, validated model input."""

    name: str = Field(min_length=1)
    description: str = ""
    horizon_years: float = Field(5.0, gt=0, le=50, description="referrals are counted over this horizon")
    runout_years: float = Field(
        3.0, ge=0, le=20, description="the horizon's families are followed this long after it ends"
    )
    counties: list[County] = Field(min_length=1)
    program: Program = Program()
    workforce: Workforce = Workforce()
    usual: UsualServices = UsualServices()
    families: Families = Families()
    treatment: Treatment = Treatment()
    recovery: Recovery = Recovery()
    start: StartEffects = StartEffects()
    placement: Placement = Placement()
    followup: FollowUp = FollowUp()
    costs: Costs = Costs()

    @model_validator(mode="after")
    def _capacity(self) -> Scenario:
        for i, c in enumerate(self.counties):
            if (c.initial_caseload or c.initial_waitlist) and c.launch_day > 0:
                raise ValueError(
                    f"counties.{i} ({c.name}) has a pre-existing caseload or waitlist but launch_day = {c.launch_day:g}: "
                    "a county that already runs START launches on day 0"
                )
            if c.initial_caseload > self.slots_of(c):
                raise ValueError(
                    f"counties.{i}.initial_caseload ({c.initial_caseload}) exceeds the county's caseload slots "
                    f"({self.slots_of(c)}: {c.mentor_count} dyads x caseload_cap {self.program.caseload_cap} + "
                    f"{c.dyads - c.mentor_count} solo caseworkers x solo_caseload_cap {self.program.solo_caseload_cap})"
                )
        return self

    def slots_of(self, county: County) -> int:
        """Caseload slots at launch: the dyad cap for caseworkers with a mentor, the solo cap for the rest."""
        m, p = county.mentor_count, self.program
        paired = dyad_cap(p.caseload_cap, p.solo_caseload_cap, self.workforce_of(county).mentor_fte)
        return m * paired + (county.dyads - m) * dyad_cap(p.caseload_cap, p.solo_caseload_cap, None)

    @property
    def horizon_days(self) -> float:
        return self.horizon_years * 365.25

    @property
    def end_days(self) -> float:
        """Day the simulation stops: horizon plus run-out."""
        return (self.horizon_years + self.runout_years) * 365.25

    def workforce_of(self, county: County) -> Workforce:
        return county.workforce or self.workforce

    def slots(self, county: County) -> ByModality:
        return county.treatment_slots or self.treatment.default_slots

    def to_dict(self) -> dict[str, Any]:
        """The scenario as plain data, as a file would give it."""
        return self.model_dump(mode="json", by_alias=True)

    def with_changes(self, changes: dict[str, Any]) -> Scenario:
        """A new scenario with dotted-path overrides, e.g. ``{"counties.0.dyads": 6}``, re-validated.

        A table given as a value merges key by key into the table it replaces (as ``extends``
        does); any other value, a distribution table or a list replaces the old value."""
        if not isinstance(changes, dict):
            raise ScenarioError(
                f"changes must be a dict of dotted paths to values, e.g. {{'counties.0.dyads': 6}}, not {show(changes)}",
                file=OVERRIDE,
            )
        data = self.to_dict()
        for dotted, value in changes.items():
            set_dotted(data, str(dotted), value)
        return validate_as(Scenario, data, file=OVERRIDE)
