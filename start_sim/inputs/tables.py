"""Scenario tables of people and programme: counties, staff, hiring, START practice and the
usual-services case, with the shared base class and per-modality/substance/placement tables.

Every default names its source in ``calibration/sources.md`` by a short key in brackets, or
says *assumption*. Upper limits come from :mod:`start_sim.inputs.bounds`, each with its reason.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from start_sim.inputs import bounds as B
from start_sim.inputs.distributions import Distribution, Fixed, Lognormal, Uniform
from start_sim.inputs.none_word import none_words
from start_sim.inputs.referral_forecast import ReferralForecast, fill_from_forecast, without_derived

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
RatePerYear = Annotated[float, Field(ge=0.0)]
Multiplier = Annotated[float, Field(ge=0.0, le=B.MAX_MULTIPLIER)]
MODALITIES = ("outpatient", "intensive_outpatient", "residential", "moud")
SUBSTANCES = ("opioids", "methamphetamine", "alcohol", "other")
PLACEMENT_TYPES = ("relative", "foster", "residential")


class Strict(BaseModel):
    """Base for all scenario tables: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _none_word(cls, data: Any) -> Any:
        """``"none"`` in a file is None in every field that allows it (TOML has no null)."""
        return none_words(cls.model_fields, data)


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
        le=B.MAX_TURNOVER_PER_YEAR,
        description="caseworker leaving rate (exponential tenure); 0 holds staff constant; the U.S. range is "
        f"0.2-0.4 a year, about 0.3 on average [Casey-turnover]; {B.TURNOVER_REASON}",
    )
    mentor_turnover_per_year: RatePerYear = Field(
        0.0,
        le=B.MAX_TURNOVER_PER_YEAR,
        description=f"mentor leaving rate (exponential tenure); not published [gap 8: assumption]; {B.TURNOVER_REASON}",
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
    """Posts opened on one day: filled after the hiring lag, taking families after training.
    The day is given as ``day`` (from the start of the run) or ``days_after_launch`` (from the
    county's ``launch_day``): exactly one of the two."""

    day: float | None = Field(
        None, ge=0, description="day the posts are opened, counted from the start of the run (day 0), not from the "
        "county's launch; give this or days_after_launch"
    )
    days_after_launch: float | None = Field(
        None, ge=0, description="days after the county's launch_day the posts are opened (e.g. 365 for a second "
        "dyad in the first year after launch); give this or day"
    )
    caseworkers: int = Field(0, ge=0, le=B.MAX_DYADS, description=f"caseworker posts opened; {B.DYADS_REASON}")
    mentors: int = Field(0, ge=0, le=B.MAX_DYADS, description=f"mentor posts opened; {B.DYADS_REASON}")

    @model_validator(mode="after")
    def _one_day(self) -> HiringStep:
        if (self.day is None) == (self.days_after_launch is None):
            given = "both" if self.day is not None else "neither"
            raise ValueError(f"a hiring step needs exactly one of day (from the start of the run) and "
                             f"days_after_launch (from the county's launch_day); {given} given")
        return self

    def open_day(self, launch_day: float) -> float:
        """The day of the run the posts open."""
        return launch_day + self.days_after_launch if self.day is None else self.day


class County(Strict):
    """One site: its referral volume, its START dyads and its treatment places."""

    name: str = Field(min_length=1)
    referrals_per_year: float = Field(
        ge=0, le=B.MAX_REFERRALS_PER_YEAR,
        description=f"CPS referrals screened for START per year; {B.REFERRALS_REASON}",
    )
    referral_growth_per_year: float = Field(
        0.0, gt=-1.0, le=B.MAX_GROWTH_PER_YEAR,
        description=f"relative growth of the referral rate per year (0.05 = +5%/yr); {B.GROWTH_REASON}",
    )
    eligible_share: Probability = Field(
        1.0, description="share of screened referrals that are START-eligible [gap 5: assumption]"
    )
    dyads: int = Field(
        ge=0, le=B.MAX_DYADS,
        description=f"START caseworkers in post from the launch day, each a dyad when paired; {B.DYADS_REASON}",
    )
    mentors: int | None = Field(
        None, ge=0, le=B.MAX_DYADS,
        description=f"mentors in post (at most one per caseworker); \"none\" (in quotes) = one per caseworker; {B.DYADS_REASON}",
    )
    launch_day: float = Field(0.0, ge=0, description="day the county starts START (before it: usual services)")
    initial_caseload: int = Field(0, ge=0, description="families already open in START on day 0 (tagged pre-existing)")
    initial_waitlist: int = Field(
        0, ge=0, le=B.MAX_WAITLIST,
        description=f"families already waiting on day 0 (tagged pre-existing); {B.WAITLIST_REASON}",
    )
    hiring: list[HiringStep] = Field(
        [], max_length=B.MAX_HIRING_STEPS,
        description=f"posts opened later (e.g. a second dyad in year 2, or mentors hired late); {B.HIRING_STEPS_REASON}",
    )
    workforce: Workforce | None = Field(None, description="this county's staffing dynamics; default: the scenario's")
    treatment_slots: ByModality | None = Field(
        None, description="treatment places open to child-welfare parents; default: treatment.default_slots"
    )
    removal_multiplier: Multiplier = Field(
        1.0, description="site multiplier on placement.removal_at_investigation_share (capped at 1), both arms; "
        "1 = the Kentucky calibration [assumption: set per site]"
    )
    placement_multiplier: Multiplier = Field(
        1.0, description="site multiplier on the at-home placement hazards (placement.rate_*), both arms "
        "[assumption: set per site]"
    )
    reunification_multiplier: Multiplier = Field(
        1.0, description="site multiplier on the reunification rates, both arms [assumption: set per site]"
    )
    treatment_access_multiplier: Multiplier = Field(
        1.0, description="site multiplier on the treatment uptake shares (capped at 1), both arms "
        "[assumption: set per site]"
    )
    referral_forecast: ReferralForecast | None = Field(
        None, description="eligible referrals from the county's CPS counts, with uncertainty (then leave out "
        "referrals_per_year and referral_growth_per_year: they come from the forecast); `start-sim referrals` shows it"
    )

    @model_validator(mode="before")
    @classmethod
    def _forecast(cls, data: Any) -> Any:
        return fill_from_forecast(data)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return without_derived(self, handler(self))

    @property
    def mentor_count(self) -> int:
        """Caseworkers who have a mentor (a full dyad)."""
        return self.dyads if self.mentors is None else min(self.mentors, self.dyads)


class Program(Strict):
    """START practice: caseload cap, waitlist rule and case duration."""

    caseload_cap: int = Field(
        13, ge=1, le=B.MAX_CASELOAD_CAP, description=f"families per dyad [KY-SOP-6.3: 12-15]; {B.CASELOAD_REASON}"
    )
    waitlist_policy: Literal["waitlist", "divert"] = Field(
        "waitlist",
        description="'waitlist': wait up to max_wait_days for a slot; 'divert': usual services at once if no slot",
    )
    max_wait_days: float | None = Field(
        30.0, ge=0, description="longest wait before usual services instead; \"none\" (in quotes) = no limit [assumption]"
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
    decline_probability: Probability = Field(
        0.0, description="share of referred eligible families who decline START and get usual services at once "
        "[gap 5: not published; 0 keeps the calibrated Kentucky fit, set per site]"
    )
    never_engage_probability: Probability = Field(
        0.0, description="share of assigned families who never engage: they hold a dyad slot for outreach_days, "
        "then close to usual services with no START effect [Huebner-2018 counts no-shows, not this share; "
        "assumption: 0, set per site]"
    )
    outreach_days: Distribution = Field(
        Fixed(dist="fixed", value=30),
        description="days a never-engaging family holds its dyad slot before closing to usual services "
        "[KY-SOP-6.3: the START Timeline covers the first 30 working days; assumption]"
    )
    extension_days: Distribution = Field(
        Fixed(dist="fixed", value=90), description="length of one extension, days [assumption]"
    )
    max_extensions: int = Field(
        2, ge=0, le=B.MAX_EXTENSIONS,
        description=f"extensions at most, when the parent is not in recovery [assumption]; {B.EXTENSIONS_REASON}",
    )
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
        8, ge=1, le=B.MAX_CASELOAD_CAP,
        description="families per caseworker whose mentor post is vacant (at most caseload_cap) [assumption]; "
        f"{B.CASELOAD_REASON}",
    )


class UsualServices(Strict):
    """The usual-services (treatment-as-usual) CPS case for the same families."""

    service_days: Distribution = Field(
        Lognormal(dist="lognormal", mean=300, sd=120),
        description="usual in-home/ongoing case length, days [assumption]",
    )
    extension_days: Distribution = Field(Fixed(dist="fixed", value=90), description="[assumption]")
    max_extensions: int = Field(1, ge=0, le=B.MAX_EXTENSIONS, description=f"[assumption]; {B.EXTENSIONS_REASON}")
