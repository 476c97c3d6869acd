"""Regions: counties simulated together so that they can share treatment providers and dyads.

A region groups counties by name (``[[regions]]`` tables). Its providers (``[[regions.providers]]``)
hold treatment places by modality for the counties they serve, each county with its own
referral delay, and take clients from outside child welfare (``background_clients_per_year``);
its shared dyads (``[regions.shared_dyads]``) serve every county of the region, with a caseload
cap reduced by the share of their time spent travelling. A county in no region is a region
of one with its own places, as before regions existed (decision 0020).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field, model_validator

from start_sim.core.dotted import show
from start_sim.inputs import bounds as B
from start_sim.inputs.distributions import Distribution
from start_sim.inputs.feasibility import MAX_EVENTS
from start_sim.inputs.tables import MODALITIES, ByModality, County, Program, Strict

NO_BACKGROUND = ByModality(outpatient=0, intensive_outpatient=0, residential=0, moud=0)
MAX_TRAVEL_SHARE = 0.75
"""A dyad spending more than three quarters of its time on the road holds almost no families [assumption]."""


class Provider(Strict):
    """A treatment provider: places by modality for the counties it serves and for everyone else."""

    name: str = Field(min_length=1)
    places: ByModality = Field(description="treatment places by modality, for every client of the provider")
    counties: list[str] | None = Field(
        None, description="counties whose parents it treats (names); none = every county of the region"
    )
    referral_days: dict[str, float] = Field(
        {}, description="days from a parent's assessment to the provider taking the request (referral and "
        "travel), by county name; a county not named takes 0 [assumption]",
    )
    background_clients_per_year: ByModality = Field(
        NO_BACKGROUND, description="clients from outside child welfare starting a request per year, by modality "
        "(Poisson arrivals; they queue first come, first served and do not give up) [assumption: set from the "
        "provider's admissions a year; see calibration/sources.md, background-demand]",
    )
    background_episode_days: dict[str, Distribution] | None = Field(
        None, description="episode length of a background client by modality, days; none = treatment.episode_days",
    )
    start_priority: bool = Field(
        True, description="a START-priority agreement: START parents go ahead of the general queue (when "
        "start.rapid_access); false = one first-come, first-served queue for everyone [APF-2022: START arranges "
        "rapid access with providers]",
    )

    @model_validator(mode="after")
    def _checked(self) -> Provider:
        for county, days in self.referral_days.items():
            if not (math.isfinite(days) and days >= 0):
                raise ValueError(f"referral_days.{county} = {show(days)}: give 0 or more days")
        if self.background_episode_days is not None and set(self.background_episode_days) != set(MODALITIES):
            raise ValueError(f"background_episode_days needs exactly the modalities {', '.join(MODALITIES)}")
        return self


class SharedDyads(Strict):
    """Dyads that serve every county of a region from one caseload (the counties have no dyads of their own)."""

    dyads: int = Field(ge=1, le=B.MAX_DYADS, description=f"caseworkers in post from the first launch; {B.DYADS_REASON}")
    mentors: int | None = Field(
        None, ge=0, le=B.MAX_DYADS, description="mentors (at most one per caseworker); none = one per caseworker"
    )
    travel_share: float = Field(
        0.0, ge=0, le=MAX_TRAVEL_SHARE, description="share of a shared dyad's working time spent travelling between "
        "counties; its caps become floor(cap x (1 - travel_share)), at least 1 [assumption: set per region]",
    )

    def caps(self, program: Program) -> tuple[int, int]:
        """Caseload caps (paired, solo) of a shared caseworker, reduced for travel."""
        keep = 1.0 - self.travel_share
        return (max(1, math.floor(program.caseload_cap * keep + 1e-9)),
                max(1, math.floor(program.solo_caseload_cap * keep + 1e-9)))


class Region(Strict):
    """Counties simulated together: one SimPy environment per arm, shared providers and dyads."""

    name: str = Field(min_length=1)
    counties: list[str] = Field(min_length=1, description="names of the counties in the region")
    providers: list[Provider] = Field([], description="treatment providers shared by the region's counties")
    shared_dyads: SharedDyads | None = Field(None, description="dyads serving every county of the region")


@dataclass(frozen=True)
class RegionPlan:
    """One region as the simulation runs it: county indices, and which provider serves each."""

    name: str
    counties: tuple[int, ...]
    region: Region | None  # None: a county in no region (a region of one, as before)

    @property
    def trivial(self) -> bool:
        """A region of one without providers or shared dyads: simulated exactly as a county alone."""
        return self.region is None

    def provider_of(self, county: int, names: Sequence[str]) -> int | None:
        """Index of the provider serving ``county`` (None: the county's own places)."""
        if self.region is None:
            return None
        for i, p in enumerate(self.region.providers):
            if p.counties is None or names[county] in p.counties:
                return i
        return None


def _key(name: str) -> str:
    return name.strip().casefold()


def shared_dyad_counties(regions: list[Region]) -> set[str]:
    """Names (case-folded) of the counties served by a region's shared dyads."""
    return {_key(n) for r in regions if r.shared_dyads is not None for n in r.counties}


def check_regions(regions: list[Region], counties: list[County]) -> None:
    """Every name known, every county in one region at most, one provider per county, shared dyads
    only where the counties have none of their own; raises ValueError naming the field."""
    index = {_key(c.name): i for i, c in enumerate(counties)}
    known = ", ".join(show(c.name) for c in counties[:8]) + (" ..." if len(counties) > 8 else "")
    owner: dict[int, int] = {}
    seen: dict[str, int] = {}
    for r, region in enumerate(regions):
        if _key(region.name) in seen:
            raise ValueError(f"regions.{r}.name = {show(region.name)} repeats regions.{seen[_key(region.name)]}")
        seen[_key(region.name)] = r
        members = set()
        for j, name in enumerate(region.counties):
            k = index.get(_key(name))
            if k is None:
                raise ValueError(f"regions.{r}.counties.{j} = {show(name)} is not a county of the scenario "
                                 f"(counties: {known})")
            if k in owner:
                raise ValueError(f"regions.{r}.counties.{j} = {show(name)} is already in regions.{owner[k]} "
                                 f"({show(regions[owner[k]].name)}): a county belongs to one region at most")
            owner[k] = r
            members.add(_key(name))
        _check_providers(r, region, members, counties, index)
        if region.shared_dyads is not None:
            for name in region.counties:
                c = counties[index[_key(name)]]
                if c.dyads or c.hiring or c.initial_caseload or c.initial_waitlist:
                    raise ValueError(
                        f"regions.{r}.shared_dyads: county {show(c.name)} has dyads, hiring, an initial caseload or "
                        "waitlist of its own; a region's shared dyads serve counties with dyads = 0 and none of these")


def _check_providers(r: int, region: Region, members: set[str], counties: list[County], index: dict[str, int]) -> None:
    served: dict[str, int] = {}
    names = {_key(p.name): i for i, p in enumerate(region.providers)}
    if len(names) < len(region.providers):
        raise ValueError(f"regions.{r}.providers: provider names must differ")
    for p, prov in enumerate(region.providers):
        for field, names_given in (("counties", prov.counties or []), ("referral_days", list(prov.referral_days))):
            for name in names_given:
                if _key(name) not in members:
                    raise ValueError(f"regions.{r}.providers.{p}.{field}: {show(name)} is not a county of region "
                                     f"{show(region.name)} ({', '.join(map(show, region.counties))})")
        for name in prov.counties if prov.counties is not None else region.counties:
            if _key(name) in served:
                raise ValueError(f"regions.{r}.providers.{p} ({show(prov.name)}) serves {show(name)}, already served "
                                 f"by regions.{r}.providers.{served[_key(name)]}: one provider per county")
            served[_key(name)] = p
            if counties[index[_key(name)]].treatment_slots is not None:
                raise ValueError(f"county {show(name)} has treatment_slots of its own and is served by "
                                 f"regions.{r}.providers.{p} ({show(prov.name)}): give its places to one or the other")
        for m in MODALITIES:
            if getattr(prov.background_clients_per_year, m) > 0 and getattr(prov.places, m) < 1:
                raise ValueError(f"regions.{r}.providers.{p}.background_clients_per_year.{m} > 0 but the provider "
                                 f"has no {m} places")


def region_plans(regions: list[Region], counties: list[County]) -> list[RegionPlan]:
    """The units of simulation in county order: each region where its first county stands, every
    county in no region alone."""
    index = {_key(c.name): i for i, c in enumerate(counties)}
    first: dict[int, Region] = {}
    grouped: set[int] = set()
    for region in regions:
        ks = tuple(index[_key(n)] for n in region.counties)
        first[min(ks)] = region
        grouped.update(ks)
    plans = []
    for k in range(len(counties)):
        if k in first:
            region = first[k]
            plans.append(RegionPlan(region.name, tuple(sorted(index[_key(n)] for n in region.counties)), region))
        elif k not in grouped:
            plans.append(RegionPlan(counties[k].name, (k,), None))
    return plans


def background_load(provider: Provider, episode_days: dict[str, Distribution], modality: str,
                    retention: Distribution | None = None) -> float:
    """Offered load of the provider's background clients on its ``modality`` places:
    arrivals a day x mean episode / places (1 or more: their queue grows without bound);
    ``retention``: ongoing MOUD, whose clients hold a place for the mean retention instead."""
    places = getattr(provider.places, modality)
    rate = getattr(provider.background_clients_per_year, modality) / 365.25
    if rate == 0:
        return 0.0
    episodes = provider.background_episode_days or episode_days
    held = retention if retention is not None and modality == "moud" else episodes[modality]
    return rate * held.mean / places


def check_background(regions: list[Region], episode_days: dict[str, Distribution], end_days: float,
                     retention: Distribution | None = None) -> None:
    """Background clients alone must leave every modality some room (load below 1), and their events
    (arrival and release, in both arms) must fit a replication's event budget."""
    clients = sum(sum(getattr(p.background_clients_per_year, m) for m in MODALITIES)
                  for region in regions for p in region.providers) * end_days / 365.25
    if 4 * clients > MAX_EVENTS:
        raise ValueError(f"the providers' background_clients_per_year give about {clients:,.0f} clients over the run, "
                         f"{4 * clients:,.0f} events (arrival and release in both arms), more than the {MAX_EVENTS:,} a "
                         "replication can finish in reasonable time; lower them or the years")
    for r, region in enumerate(regions):
        for p, prov in enumerate(region.providers):
            for m in MODALITIES:
                load = background_load(prov, episode_days, m, retention)
                if load >= 1:
                    raise ValueError(
                        f"regions.{r}.providers.{p}.background_clients_per_year.{m} = "
                        f"{getattr(prov.background_clients_per_year, m):g} fills {load:.0%} of its "
                        f"{getattr(prov.places, m):g} {m} places on its own (arrivals x mean episode, or mean "
                        "MOUD retention, / places): background clients do not give up, so their queue would grow "
                        "without bound; give fewer clients or more places")
