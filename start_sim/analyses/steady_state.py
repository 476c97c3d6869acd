"""Where the staffing search measures capacity: at maturity (after a warm-up) or in the first year.

A county simulated from its launch starts with empty (or pre-filled) caseloads; its waits
rise for years before they settle, because a START case lasts over a year. Averaging the
waits over [launch, horizon) mixes that ramp-up with the steady state and understates the
waits at maturity (at load 0.9, a mean wait of 8.4 days over a 5-year run from empty against
about 17 days at steady state). The search therefore measures two windows:

* **at maturity** (the default answer): the county runs a warm-up of ``warmup_days`` after its
  launch, then its families referred in a window as long as the scenario's horizon are
  measured. The referral rate is shifted back by the warm-up where referrals grow, so that the
  window sees the horizon's own rates (a county with a ``referral_forecast`` keeps its
  forecast's rate, unshifted).
* **first year after launch**: families referred in the county's first 365.25 days, from the
  scenario's own starting state (empty, or its initial caseload).

The warm-up is :data:`WARMUP_CASE_LENGTHS` mean times in START, at least
:data:`MIN_WARMUP_YEARS`: a queue of many servers relaxes over a few service times, and
``tests/test_steady_state.py`` checks the measured wait against an independent queueing
simulator at load 0.9.
"""

from __future__ import annotations

from dataclasses import dataclass

from start_sim.core.timebase import DAYS_PER_YEAR

WARMUP_CASE_LENGTHS = 4.0
"""Warm-up in mean times in START [assumption: checked at load 0.9, see the module docstring]."""

MIN_WARMUP_YEARS = 2.0
"""The shortest warm-up, years [assumption]."""


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


def maturity(mean_days_in_start: float, horizon_days: float, warmup_years: float | None = None) -> Window:
    """The at-maturity window: a warm-up (``warmup_years``, or the default rule), then as long as the horizon."""
    if warmup_years is None:
        warm = max(WARMUP_CASE_LENGTHS * mean_days_in_start, MIN_WARMUP_YEARS * DAYS_PER_YEAR)
    else:
        warm = warmup_years * DAYS_PER_YEAR
    return Window("at maturity", warm, horizon_days)
