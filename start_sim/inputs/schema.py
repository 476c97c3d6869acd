"""The scenario schema: every input of the model, validated, with units and sources.

A scenario is an immutable value. Variants are new objects (:meth:`Scenario.with_changes`
or ``extends = "other.toml"`` in a file). Every default names its source in
``calibration/sources.md`` by a short key in brackets, or says *assumption*.
Time inside the model is in days; rates in the files are per year and durations in days
unless the field name says otherwise. The tables live in :mod:`start_sim.inputs.tables`
and :mod:`start_sim.inputs.family_tables`; they are importable from here too.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from pydantic import Field, model_validator

from start_sim.core.dotted import OVERRIDE, set_dotted, show
from start_sim.core.errors import ScenarioError, ScenarioWarning
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.caseload import caseload_slots
from start_sim.inputs.family_tables import Costs, Families, FollowUp, Placement, Recovery, StartEffects, Treatment
from start_sim.inputs.feasibility import check_feasible
from start_sim.inputs.funding import Funding
from start_sim.inputs.messages import validate_as
from start_sim.inputs.plausibility import warn_implausible
from start_sim.inputs.regions import Region, RegionPlan, check_background, check_regions, region_plans
from start_sim.inputs.sites import Sites
from start_sim.inputs.tables import (
    MODALITIES,
    PLACEMENT_TYPES,
    SUBSTANCES,
    ByModality,
    ByPlacement,
    BySubstance,
    County,
    HiringStep,
    Multiplier,
    Probability,
    Program,
    RatePerYear,
    Strict,
    UsualServices,
    Workforce,
)


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
    funding: Funding = Funding()
    sites: Sites = Sites()
    regions: list[Region] = Field(
        [], description="counties simulated together, sharing treatment providers and dyads; a county in no "
        "region is a region of one (decision 0020)",
    )

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

    @model_validator(mode="after")
    def _unambiguous(self) -> Scenario:
        """Duplicate county names are an error (every per-county output is keyed by name); a launch
        after the horizon and a zero run-out are warnings (the run is well defined, but says less
        than it seems to)."""
        seen: dict[str, int] = {}
        for i, c in enumerate(self.counties):
            key = c.name.strip().casefold()
            if key in seen:
                raise ValueError(
                    f"counties.{i}.name = {show(c.name)} repeats the name of counties.{seen[key]}: every per-county "
                    "output is keyed by the name, so county names must differ (ignoring case and surrounding spaces)"
                )
            seen[key] = i
        late = [i for i, c in enumerate(self.counties) if c.launch_day >= self.horizon_days]
        if late:
            where = ", ".join(f"counties.{i}.launch_day (county {self.counties[i].name!r}) = "
                              f"{self.counties[i].launch_day:g}" for i in late)
            warnings.warn(ScenarioWarning(
                f"{where} is on or after the end of the horizon (day {self.horizon_days:g}, horizon_years x 365.25): "
                "no family counted in the results meets START there, so its START and usual-services results are "
                "the same; give an earlier launch_day or a longer horizon_years"
            ), stacklevel=2)
        if self.runout_years == 0:
            warnings.warn(ScenarioWarning(
                "runout_years = 0: families are not followed after the horizon, so outcomes of the families referred "
                "in its last year (placements, re-reports, savings) are cut short and read as none; give "
                "runout_years = 1 or more when outcomes or savings matter"
            ), stacklevel=2)
        warn_implausible(self)
        check_feasible(self)
        return self

    @model_validator(mode="after")
    def _regions(self) -> Scenario:
        check_regions(self.regions, self.counties)
        tr = self.treatment
        check_background(self.regions, tr.episode_days, self.end_days,
                         tr.moud_retention_days if tr.moud_mode == "ongoing" else None)
        return self

    def region_plans(self) -> list[RegionPlan]:
        """The units of simulation: each region, and every county in no region alone."""
        return region_plans(self.regions, self.counties)

    def slots_of(self, county: County) -> int:
        """Caseload slots at launch: the dyad cap for caseworkers with a mentor, the solo cap for the rest."""
        return caseload_slots(self.program, self.workforce_of(county), county.dyads, county.mentors)

    @property
    def horizon_days(self) -> float:
        return self.horizon_years * DAYS_PER_YEAR

    @property
    def programme_years(self) -> int:
        """Programme years of a run (year k is days [365.25 (k-1), 365.25 k)): the horizon and the
        run-out after it, rounded up; the budget, the fiscal note and the PSA by year share them."""
        return max(1, math.ceil(self.end_days / DAYS_PER_YEAR - 1e-9))

    @property
    def end_days(self) -> float:
        """Day the simulation stops: horizon plus run-out."""
        return (self.horizon_years + self.runout_years) * DAYS_PER_YEAR

    def workforce_of(self, county: County) -> Workforce:
        return county.workforce or self.workforce

    def treatment_places(self, county: County) -> ByModality:
        """The county's treatment places by modality (its own, or ``treatment.default_slots``)."""
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


__all__ = [
    "MODALITIES", "PLACEMENT_TYPES", "SUBSTANCES", "ByModality", "ByPlacement", "BySubstance", "Costs", "County",
    "Families", "FollowUp", "HiringStep", "Multiplier", "Placement", "Probability", "Program", "RatePerYear",
    "Recovery", "Scenario", "StartEffects", "Strict", "Treatment", "UsualServices", "Workforce",
]
