"""Where the staffing search measures capacity: at maturity (after a warm-up) or in the first year.

A county simulated from its launch starts with empty (or pre-filled) caseloads; its waits
rise for years before they settle, because a START case lasts over a year. Averaging the
waits over [launch, horizon) mixes that ramp-up with the steady state and understates the
waits at maturity (at load 0.9, a mean wait of 8.4 days over a 5-year run from empty against
about 17 days at steady state). The search therefore measures two windows:

* **at maturity** (the default answer): the county runs a warm-up of ``warmup_days`` after its
  launch, then its families referred in a window as long as the scenario's horizon are
  measured. The referral rate is shifted back by the warm-up where referrals grow, so that the
  window sees the horizon's own rates (a ``referral_forecast`` is moved by the warm-up through its
  ``base_day``, so each replication's own trend shifts its own rate).
* **first year after launch**: families referred in the county's first 365.25 days, from the
  scenario's own starting state (empty, or its initial caseload).

The warm-up is the longest of :data:`MIN_WARMUP_YEARS`, :data:`WARMUP_CASE_LENGTHS` mean times
in START, and :data:`WARMUP_RELAXATIONS` relaxation times of the dyad-slot queue, at most
:data:`MAX_WARMUP_YEARS`. The relaxation time of an M/M/c queue with ``c`` slots and offered load
``a`` is about ``E[T] / (sqrt(c) - sqrt(a))^2`` (the heavy-traffic spectral gap of the
birth-death process [assumption: an approximation, checked by simulation]): it grows fast as
the load nears 1 and shrinks as slots are added, so a few large dyad teams settle within a few
years while two dyads at 90% load take decades. ``tests/test_steady_state.py`` checks the
measured service levels against an independent queueing simulator at load 0.9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from start_sim.core.timebase import DAYS_PER_YEAR

WARMUP_CASE_LENGTHS = 4.0
"""Warm-up in mean times in START, at least [assumption]."""

WARMUP_RELAXATIONS = 10.0
"""Warm-up in relaxation times of the queue, at least [assumption]: the mean wait converges slower
than the spectral gap says (after 3 relaxation times a run from empty still showed three
quarters of the steady mean wait at load 0.9; after 10 it matched the independent simulator)."""

MIN_WARMUP_YEARS = 2.0
"""The shortest warm-up, years [assumption]."""

MAX_WARMUP_YEARS = 30.0
"""The longest warm-up, years: a county loaded so near its capacity that it needs more has no
steady state worth planning on (the search then adds dyads anyway) [assumption]."""

LONGEST_RUN_YEARS = 50.0
"""A run's horizon may not exceed this (the schema's limit on ``horizon_years``)."""


@dataclass(frozen=True)
class Window:
    """Capacity KPIs count families referred in [launch + warmup_days, launch + warmup_days + measure_days)."""

    label: str
    warmup_days: float
    measure_days: float | None  # None: to the scenario's horizon (the search as it was)

    def bounds(self, launch_day: float, horizon_days: float) -> tuple[float, float]:
        """First and last (excluded) day of the window in a run."""
        lo = launch_day + self.warmup_days
        return lo, horizon_days if self.measure_days is None else lo + self.measure_days


AS_GIVEN = Window("from launch to the horizon", 0.0, None)
FIRST_YEAR = Window("first year after launch", 0.0, DAYS_PER_YEAR)


def relaxation_days(mean_days_in_start: float, slots: float, load: float) -> float:
    """Relaxation time of the slot queue, days: ``E[T] / (sqrt(c) - sqrt(a))^2`` (inf if ``a >= c``)."""
    if slots <= 0 or load >= slots:
        return math.inf
    return mean_days_in_start / (math.sqrt(slots) - math.sqrt(max(load, 0.0))) ** 2


def warmup_days(mean_days_in_start: float, slots: float, load: float) -> float:
    """The default warm-up (module docstring), days."""
    days = max(MIN_WARMUP_YEARS * DAYS_PER_YEAR, WARMUP_CASE_LENGTHS * mean_days_in_start,
               WARMUP_RELAXATIONS * relaxation_days(mean_days_in_start, slots, load))
    return min(days, MAX_WARMUP_YEARS * DAYS_PER_YEAR)


def maturity(mean_days_in_start: float, launch_day: float, horizon_days: float, slots: float, load: float,
             warmup_years: float | None = None) -> Window:
    """The at-maturity window: a warm-up (``warmup_years``, or :func:`warmup_days`), then as long
    as the horizon; the warm-up is shortened so that the run stays within
    :data:`LONGEST_RUN_YEARS`."""
    warm = warmup_days(mean_days_in_start, slots, load) if warmup_years is None else warmup_years * DAYS_PER_YEAR
    room = LONGEST_RUN_YEARS * DAYS_PER_YEAR - launch_day - horizon_days
    return Window("at maturity", max(0.0, min(warm, room)), horizon_days)


def window_for(basis: str, mean_days_in_start: float, launch_day: float, horizon_days: float, slots: float,
               load: float, warmup_years: float | None = None) -> Window:
    """The measurement window of a sizing ``basis``: ``"maturity"`` (:func:`maturity` for the queue
    of ``slots`` at ``load``), ``"first_year"`` or ``"as_given"``."""
    if basis == "maturity":
        return maturity(mean_days_in_start, launch_day, horizon_days, slots, load, warmup_years)
    return FIRST_YEAR if basis == "first_year" else AS_GIVEN
