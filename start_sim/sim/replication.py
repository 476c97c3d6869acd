"""One replication: draw each county's families once, run both arms on them, keep the cases."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from start_sim.inputs.schema import Scenario
from start_sim.sim.case import Case
from start_sim.sim.family import Family, draw_families
from start_sim.sim.model import CountyModel
from start_sim.sim.referrals import arrival_days
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
    return run, start, usual


def simulate(
    scenario: Scenario,
    seed: int,
    replication: int,
    audit: Callable[[CountyModel, str], None] | None = None,
) -> list[CountyRun]:
    """Run every county in both arms for one replication."""
    runs = []
    with gc_paused():
        for k in range(len(scenario.counties)):
            fams = county_families(scenario, k, seed, replication)
            runs.append(simulate_county(scenario, k, fams, seed, replication, audit)[0])
    return runs
