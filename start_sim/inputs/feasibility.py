"""Can this scenario run here? The expected families, events and memory, checked before any run.

Every input has a domain limit (:mod:`start_sim.inputs.bounds`), but limits multiply: 250,000
referrals a year over 70 years in ten counties is each value within its limit and still
no run that fits in memory. :func:`check_feasible` refuses such a scenario with a message
naming the input that drives the estimate, before anything is allocated.

Bytes per referral were measured with ``tracemalloc`` on one replication of a one-county
scenario (2,000 referrals a year, all eligible, 40 dyads, 3 years: ``sim.replication.simulate``
then ``metrics.kpis.summarise``): a peak of 9,900 bytes per referral while a replication runs,
and 1,450 bytes per referral kept in its outputs (family rows) for every replication held.
"""

from __future__ import annotations

import math
import os
from typing import Protocol

from start_sim.core.errors import ScenarioError
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.tables import County, Program, UsualServices, Workforce


class Scenario(Protocol):
    """What the estimate reads of a :class:`start_sim.inputs.schema.Scenario` (a protocol, as the
    schema calls this module from its validator)."""

    name: str
    horizon_years: float
    runout_years: float
    counties: list[County]
    program: Program
    usual: UsualServices

    @property
    def end_days(self) -> float: ...

    def workforce_of(self, county: County) -> Workforce: ...

PEAK_BYTES_PER_REFERRAL = 10_000
"""Memory while a replication runs, per referral: measured with tracemalloc on a Kentucky replication
(simulate + summarise, about 9,900 bytes), rounded up."""
KEPT_BYTES_PER_REFERRAL = 1_500
"""Memory kept per referral and replication (its family rows and record): measured the same way (about 1,450)."""
EVENTS_PER_FAMILY = 8
"""Model events per family and arm at most (referral, renege, assessment, treatment request, give-up, release,
closure checks): the event budget of decision 0003."""
MAX_EVENTS = 50_000_000
"""Per replication: about 15 minutes at the measured pace of some 50,000 events a second [assumption: a limit
no planning run needs]."""
MEMORY_SHARE = 0.8
"""Share of the machine's physical memory a run may plan to use [assumption: room for the rest of the machine]."""


def _referrals(county: County, end_days: float) -> float:
    """Expected referrals of one county over the run, pre-existing families included."""
    rate = county.referrals_per_year / DAYS_PER_YEAR
    g = math.log1p(county.referral_growth_per_year) / DAYS_PER_YEAR
    arrivals = rate * end_days if g == 0 else rate * math.expm1(g * end_days) / g
    return arrivals + county.initial_caseload + county.initial_waitlist


def _staff_events(scenario: Scenario, county: County) -> float:
    """Expected staff events of one county: each post starts and may leave; a leaver's post reopens."""
    wf = scenario.workforce_of(county)
    years = scenario.horizon_years + scenario.runout_years
    posts = {"caseworker": county.dyads + sum(s.caseworkers for s in county.hiring),
             "mentor": county.mentor_count + sum(s.mentors for s in county.hiring)}
    rates = {"caseworker": wf.caseworker_turnover_per_year, "mentor": wf.mentor_turnover_per_year}
    refill = 1.0 if wf.replace_leavers else 0.0
    return sum(2 * n * (1 + refill * rates[role] * years) for role, n in posts.items())


def memory_budget() -> int:
    """Bytes a run may use: a share of this machine's physical memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 8 * 2**30
    return int(total * MEMORY_SHARE)


def estimate(scenario: Scenario, replications: int = 1) -> tuple[float, float, float]:
    """Expected families (referrals), events of one replication and peak bytes for ``replications``."""
    end = scenario.end_days
    families = sum(_referrals(c, end) for c in scenario.counties)
    extensions = scenario.program.max_extensions + scenario.usual.max_extensions
    events = families * (2 * EVENTS_PER_FAMILY + extensions) + sum(_staff_events(scenario, c) for c in scenario.counties)
    bytes_ = families * (PEAK_BYTES_PER_REFERRAL + KEPT_BYTES_PER_REFERRAL * max(replications - 1, 0))
    return families, events, bytes_


def _largest(scenario: Scenario, key) -> str:
    """The county input that drives an estimate most, as a field path with the county's name."""
    i = max(range(len(scenario.counties)), key=lambda k: key(scenario.counties[k]))
    c = scenario.counties[i]
    return f"counties.{i} (county {c.name!r})"


def check_feasible(scenario: Scenario, replications: int = 1) -> None:
    """Raise :class:`ScenarioError` when the run would exceed this machine's memory or could not
    end in reasonable time; the message names the input and the estimate."""
    families, events, need = estimate(scenario, replications)
    years = f"horizon_years + runout_years = {scenario.horizon_years + scenario.runout_years:g}"
    budget = memory_budget()
    if need > budget:
        where = _largest(scenario, lambda c: _referrals(c, scenario.end_days))
        reps = f" x {replications} replications kept" if replications > 1 else ""
        raise ScenarioError(
            f"the run would need about {need / 2**30:,.1f} GiB of memory ({families:,.0f} families over {years}"
            f"{reps}; most in {where}: referrals_per_year, referral_growth_per_year, initial_waitlist) and this machine "
            f"allows {budget / 2**30:,.1f} GiB; lower those, the years or the counties, or run fewer replications"
        )
    if events > MAX_EVENTS:
        where = _largest(scenario, lambda c: _referrals(c, scenario.end_days) * 2 * EVENTS_PER_FAMILY
                         + _staff_events(scenario, c))
        raise ScenarioError(
            f"one replication would simulate about {events:,.0f} events ({families:,.0f} families over {years}; "
            f"most in {where}: referrals, dyads, hiring and staff turnover), more than the {MAX_EVENTS:,} a "
            "replication can finish in reasonable time; lower those, the years or the counties"
        )
