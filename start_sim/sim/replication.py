"""One replication: draw each county's families once, run both arms on them (a region's counties
together, on one environment per arm), keep the cases."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from start_sim.inputs.regions import RegionPlan
from start_sim.inputs.schema import Scenario
from start_sim.sim.case import Case
from start_sim.sim.family import Family, draw_families
from start_sim.sim.model import CountyModel
from start_sim.sim.providers import PlaceUse, place_use
from start_sim.sim.referrals import arrival_days
from start_sim.sim.region import RegionArm, run_region
from start_sim.sim.staff import Post
from start_sim.sim.streams import NEW, PRE_EXISTING, CountyDraws


@dataclass
class CountyRun:
    """Both arms of one county: the same families, START available or not."""

    county: int
    families: list[Family]
    start: list[Case]
    usual: list[Case]
    peak_load: list[int]
    posts: list[Post]  # START staff, in post or vacant, over the run
    families_reassigned: int
    slot_log: list[tuple[float, int]]  # (day, caseload slots from that day)
    places: dict[str, PlaceUse] = field(default_factory=dict)  # by arm: the treatment places its parents use
    region: str = ""  # the region's name ('' for a county in no region)


def county_families(scenario: Scenario, county_index: int, seed: int, replication: int) -> list[Family]:
    """Pre-existing families (day 0) then referred families, in referral order."""
    c = scenario.counties[county_index]
    days = arrival_days(c, county_index, scenario.end_days, seed, replication)
    new = draw_families(scenario, county_index, days, CountyDraws(seed, replication, county_index, NEW, len(days)), False)
    n_pre = c.initial_caseload + c.initial_waitlist
    pre = draw_families(
        scenario,
        county_index,
        np.zeros(n_pre),
        CountyDraws(seed, replication, county_index, PRE_EXISTING, n_pre),
        True,
        open_count=c.initial_caseload,
    )
    return pre + new


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector; reference counting still frees memory.

    A replication builds some hundred thousand small linked objects (families, cases,
    recovery paths, SimPy events) but almost no reference cycles, and the collector's
    repeated passes over them took about half of the event loop's time. Its previous
    state is restored on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def simulate_county(
    scenario: Scenario,
    county_index: int,
    families: list[Family],
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> tuple[CountyRun, CountyModel, CountyModel]:
    """Both arms of one county on the same families (the models are returned for inspection)."""
    start = CountyModel(scenario, county_index, families, with_start=True, audit=audit, seed=seed,
                        replication=replication)
    usual = CountyModel(scenario, county_index, families, with_start=False, audit=audit)
    run = CountyRun(county_index, families, start.run(), usual.run(), list(start.pool.peak), start.pool.posts,
                    start.families_reassigned, start.slot_log)
    key, places, H = f"county {start.county.name}", scenario.treatment_places(start.county), scenario.horizon_days
    run.places = {arm: place_use(key, places, cases, [], H) for arm, cases in (("start", run.start), ("usual", run.usual))}
    return run, start, usual


def simulate_region(
    scenario: Scenario,
    plan: RegionPlan,
    families: dict[int, list[Family]],
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> tuple[list[CountyRun], dict[str, RegionArm]]:
    """Both arms of one region on the same families; one run per county, and the two arms
    (``"start"``, ``"usual"``). Shared dyads' staff (posts, slots, peak loads) are reported under
    the host, the region's first county."""
    arms = {arm: run_region(scenario, plan, families, arm == "start", seed, replication, audit)
            for arm in ("start", "usual")}
    runs = []
    for k in plan.counties:
        start, usual = arms["start"].models[k], arms["usual"].models[k]
        staffed = start.link is None or start.link.staff_host is None
        run = CountyRun(k, families[k], start.cases, usual.cases, list(start.pool.peak) if staffed else [],
                        start.pool.posts if staffed else [], sum(c.reassignments for c in start.cases),
                        start.slot_log if staffed else [(0.0, 0)], region=plan.name)
        run.places = {arm: arms[arm].place_use(k, scenario.horizon_days) for arm in arms}
        runs.append(run)
    return runs, arms


def simulate(
    scenario: Scenario,
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> list[CountyRun]:
    """Run every county in both arms for one replication."""
    runs = []
    with gc_paused():
        for plan in scenario.region_plans():
            fams = {k: county_families(scenario, k, seed, replication) for k in plan.counties}
            if plan.trivial:
                runs.append(simulate_county(scenario, plan.counties[0], fams[plan.counties[0]], seed, replication,
                                            audit)[0])
            else:
                runs += simulate_region(scenario, plan, fams, seed, replication, audit)[0]
    return sorted(runs, key=lambda r: r.county)
