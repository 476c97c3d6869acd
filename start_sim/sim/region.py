"""One region in one arm: its counties' models on one SimPy environment, with the providers and
shared dyads they have in common.

Each county keeps its own model (its families, referral handling, recovery and closures), so
counties stay the unit of reporting; what they share is linked in (:class:`CountyLink`): the
environment, a provider's places, and for shared dyads the staff pool, caseloads and waitlist,
held by the region's first county (the host), whose model runs the shared staff plan.
A county's families and their draws are those it would have alone (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import simpy

from start_sim.inputs.regions import RegionPlan
from start_sim.inputs.schema import Scenario
from start_sim.sim.family import Family
from start_sim.sim.model import CountyModel
from start_sim.sim.providers import CountyLink, PlaceUse, ProviderRun, place_use
from start_sim.sim.treatment import ongoing_moud


@dataclass
class RegionArm:
    """A region after one arm's run: the county models (by county index) and the providers."""

    env: simpy.Environment
    models: dict[int, CountyModel]
    providers: list[ProviderRun]

    def place_use(self, county: int, horizon: float) -> PlaceUse:
        """The use of the places ``county``'s parents ask for (its provider's, or its own)."""
        model = self.models[county]
        for run in self.providers:
            if run.treatment is model.treatment:
                cases = [c for m in self.models.values() if m.treatment is run.treatment for c in m.cases]
                return place_use(f"provider {run.provider.name}", run.provider.places, cases, run.clients, horizon)
        sc = model.sc
        return place_use(f"county {model.county.name}", sc.treatment_places(model.county), model.cases, [], horizon)


def run_region(
    scenario: Scenario,
    plan: RegionPlan,
    families: dict[int, list[Family]],
    with_start: bool,
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> RegionArm:
    """Build the region's arm and run it to the end of the run."""
    arm = build_region(scenario, plan, families, with_start, seed, replication, audit)
    arm.env.run(until=scenario.end_days)
    return arm


def build_region(
    scenario: Scenario,
    plan: RegionPlan,
    families: dict[int, list[Family]],
    with_start: bool,
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> RegionArm:
    """The region's models and providers on one environment, ready to run."""
    region = plan.region
    assert region is not None
    env = simpy.Environment()
    models: dict[int, CountyModel] = {}
    names = [c.name for c in scenario.counties]

    def hand_over(who: Any) -> None:  # a CPS parent handed a freed place (background clients start in the pool)
        models[who.family.county]._enter_treatment(who)

    def model_of(case: Any) -> CountyModel:
        return models[case.family.county]

    def synced(model: CountyModel, what: str) -> None:  # a check reads the places as they are now
        for run in providers:
            run.catch_up()
        assert audit is not None
        audit(model, what)

    def check() -> None:  # after background clients have been played at a wake-up
        for m in models.values():
            synced(m, "background")

    tr = scenario.treatment
    retention = tr.moud_retention_days if ongoing_moud(tr, "moud") else None
    providers = [ProviderRun(env, p, tr.episode_days, scenario.end_days, seed, replication,
                             plan.counties[0], hand_over, check if audit else None, retention) for p in region.providers]
    shared = region.shared_dyads
    host: CountyModel | None = None
    for k in plan.counties:
        p = plan.provider_of(k, names)
        prov = region.providers[p] if p is not None else None
        delays = {name.strip().casefold(): d for name, d in (prov.referral_days if prov else {}).items()}
        link = CountyLink(env, hand_over, model_of,
                          treatment=providers[p].treatment if p is not None else None,
                          referral_days=delays.get(names[k].strip().casefold(), 0.0),
                          start_priority=prov.start_priority if prov else True,
                          staff_host=host)
        if shared is not None and host is None:
            counties = [scenario.counties[j] for j in plan.counties]
            link.staff_county = counties[0].model_copy(update={
                "dyads": shared.dyads, "mentors": shared.mentors, "hiring": [],
                "launch_day": min(c.launch_day for c in counties)})
            link.caps = shared.caps(scenario.program)
        models[k] = CountyModel(scenario, k, families[k], with_start=with_start, audit=synced if audit else None, seed=seed,
                                replication=replication, link=link)
        if shared is not None and host is None:
            host = models[k]
    return RegionArm(env, models, providers)
