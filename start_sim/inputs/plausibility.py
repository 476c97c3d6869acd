"""Plausibility warnings: values that are allowed but look like a mistake.

A value within its domain limit (:mod:`start_sim.inputs.bounds`) runs, but some are so far
outside the sources' ranges that they are more likely a slip: a rate written as a percentage
(``caseworker_turnover_per_year = 3`` meant as 3%), a caseload cap far from START's 12-15, or a
county with no dyads (START never runs there). Each becomes a :class:`ScenarioWarning` naming
the field, the value, the sources' range and what to write instead; the run goes on.
"""

from __future__ import annotations

import warnings
from typing import Protocol

from start_sim.core.errors import ScenarioWarning
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.family_tables import Treatment
from start_sim.inputs.regions import Region, shared_dyad_counties
from start_sim.inputs.tables import County, Program, Workforce

TURNOVER_PLAUSIBLE = 1.0
"""Turnover above 1 a year (a mean tenure under a year) is far above the 0.2-0.4 of [Casey-turnover]."""

GROWTH_PLAUSIBLE = 0.25
"""Referral growth above 25% a year, sustained, is not a referral trend [assumption]."""

CAP_PLAUSIBLE = (6, 25)
"""A caseload cap outside 6-25 is far from START's 12-15 [KY-SOP-6.3]."""

RETENTION_PLAUSIBLE = (30.0, 5 * DAYS_PER_YEAR)
"""A mean MOUD retention under a month or over five years is far from about half retained at 24
weeks [MOUD-RET-HSER-2014, MOUD-RET-STEIN-2005]."""


class NoDyadsWarning(ScenarioWarning):
    """A county has no dyads and hires none: START never runs there."""


class Scenario(Protocol):
    """What the checks read of a :class:`start_sim.inputs.schema.Scenario`."""

    counties: list[County]
    program: Program
    workforce: Workforce
    regions: list[Region]
    treatment: Treatment


def _percent_hint(value: float) -> str:
    return f"; if you meant {value:g}%, write {value / 100:g}" if 1 < value <= 100 else ""


def _workforce(wf: Workforce, where: str) -> list[str]:
    out = []
    for key, source in (("caseworker_turnover_per_year", "0.2-0.4 a year, about 0.3 [Casey-turnover]"),
                        ("mentor_turnover_per_year", "0.2 in the bundled scenarios [gap 8: assumption]")):
        value = getattr(wf, key)
        if value > TURNOVER_PLAUSIBLE:
            out.append(f"{where}{key} = {value:g} is far outside the sources' range ({source}): it means a mean "
                       f"tenure of {DAYS_PER_YEAR / value:.0f} days{_percent_hint(value)}")
    return out


def _moud(tr: Treatment) -> list[str]:
    """Ongoing MOUD retention far from the sources, or a retention that is set but not used."""
    mean = tr.moud_retention_days.mean
    default = type(tr).model_fields["moud_retention_days"].default
    # a changed retention left unused (a scenario re-read from its own values repeats the default: no warning)
    if tr.moud_mode == "episode" and tr.moud_retention_days != default:
        return ["treatment.moud_retention_days is set but treatment.moud_mode = \"episode\" does not use it: MOUD "
                "episodes last episode_days.moud; write moud_mode = \"ongoing\" for medication held until "
                "discontinuation"]
    lo, hi = RETENTION_PLAUSIBLE
    if tr.moud_mode == "ongoing" and not lo <= mean <= hi:
        return [f"treatment.moud_retention_days has a mean of {mean:.0f} days, far from the sources' about half "
                "retained at 24 weeks (the default's mean is 365 days) [MOUD-RET-HSER-2014, MOUD-RET-STEIN-2005]"]
    return []


def plausibility_problems(scenario: Scenario) -> list[str]:
    """One sentence per value that is allowed but implausible."""
    out = _workforce(scenario.workforce, "workforce.")
    cap = scenario.program.caseload_cap
    lo, hi = CAP_PLAUSIBLE
    if not lo <= cap <= hi:
        out.append(f"program.caseload_cap = {cap} is far from START's 12-15 families per dyad [KY-SOP-6.3]")
    out += _moud(scenario.treatment)
    for i, c in enumerate(scenario.counties):
        if c.workforce is not None:
            out += _workforce(c.workforce, f"counties.{i}.workforce.")
        g = c.referral_growth_per_year
        if g > GROWTH_PLAUSIBLE:
            out.append(f"counties.{i}.referral_growth_per_year (county {c.name!r}) = {g:g} is {g:.0%} more referrals "
                       "every year, far above any referral trend; "
                       "0.05 means +5% a year")
        forecast = c.referral_forecast
        if forecast is not None and scenario.program.decline_probability > 0 and forecast.acceptance_share.mean < 1:
            out.append(f"counties.{i}.referral_forecast.acceptance_share (county {c.name!r}) already leaves out the "
                       f"families who decline START, and program.decline_probability = "
                       f"{scenario.program.decline_probability:g} declines some of the rest again: set the "
                       "acceptance share to {dist = \"fixed\", value = 1} to model declines in the run (they then "
                       "appear in the intention-to-treat KPIs), or decline_probability = 0")
    return out


def warn_implausible(scenario: Scenario) -> None:
    """Warn (``ScenarioWarning``) for every implausible value and every county without dyads."""
    for text in plausibility_problems(scenario):
        warnings.warn(ScenarioWarning(text + "; the run goes on with the value given"), stacklevel=3)
    shared = shared_dyad_counties(scenario.regions)
    for i, c in enumerate(scenario.counties):
        if c.dyads == 0 and not any(s.caseworkers for s in c.hiring) and c.name.strip().casefold() not in shared:
            warnings.warn(NoDyadsWarning(
                f"counties.{i}.dyads (county {c.name!r}) = 0 and no caseworkers are hired later: START never runs "
                "there, so every family referred after its launch is diverted to usual services; give dyads = 1 or "
                "more (start-sim size finds how many)"), stacklevel=3)
