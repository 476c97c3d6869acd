"""Referral arrivals: a Poisson process per county with optional yearly growth.

The rate is ``referrals_per_year * (1 + growth) ** years``. Arrivals are drawn by
inverting the cumulative intensity at the running sum of unit exponentials from the
county's ``arrivals`` stream, so arrival ``i`` depends only on the first ``i`` draws:
a longer horizon appends families and no other input moves them.

A county with a ``referral_forecast`` whose ``uncertainty`` is on draws its rate and growth
once per replication from its own stream ``referral_forecast`` (:func:`county_rate`); the
arrivals' stream is untouched, so families keep their draws whatever the forecast.
"""

from __future__ import annotations

import math

import numpy as np

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.referral_forecast import DRAWS
from start_sim.inputs.schema import County
from start_sim.sim.streams import NEW, stream


def county_rate(county: County, county_index: int, seed: int, replication: int) -> tuple[float, float]:
    """Referrals a year and relative growth a year in one replication: the scenario's (the
    forecast's mean), or drawn from the forecast when its ``uncertainty`` is on."""
    fc = county.referral_forecast
    if fc is None or not fc.uncertainty:
        return county.referrals_per_year, county.referral_growth_per_year
    rate, growth = fc.draw(stream(seed, replication, county_index, "referral_forecast", NEW).random(DRAWS))
    return float(rate), float(growth)


def arrival_days(county: County, county_index: int, end_day: float, seed: int, replication: int) -> np.ndarray:
    """Referral days in [0, end_day) for one county."""
    per_year, growth = county_rate(county, county_index, seed, replication)
    rate = per_year / DAYS_PER_YEAR
    if rate <= 0 or end_day <= 0:
        return np.empty(0)
    g = math.log1p(growth) / DAYS_PER_YEAR  # growth per day, continuous

    def cumulative(t: np.ndarray | float) -> np.ndarray | float:
        return rate * t if g == 0 else rate * np.expm1(g * np.asarray(t)) / g

    def inverse(lam: np.ndarray) -> np.ndarray:
        return lam / rate if g == 0 else np.log1p(g * lam / rate) / g

    total = float(cumulative(end_day))
    rng = stream(seed, replication, county_index, "arrivals", NEW)
    sums: list[np.ndarray] = []
    acc = 0.0
    chunk = max(64, int(total * 1.2) + 16)
    while acc < total:
        e = np.cumsum(-np.log1p(-rng.random(chunk))) + acc
        sums.append(e)
        acc = float(e[-1])
    lam = np.concatenate(sums)
    lam = lam[lam < total]
    if g < 0:
        lam = lam[g * lam / rate > -1]  # shrinking rate: the cumulative intensity is bounded
    return inverse(lam)
