"""Referral arrivals: a Poisson process per county with optional yearly growth.

The rate is ``referrals_per_year * (1 + growth) ** years``. Arrivals are drawn by
inverting the cumulative intensity at the running sum of unit exponentials from the
county's ``arrivals`` stream, so arrival ``i`` depends only on the first ``i`` draws:
a longer horizon appends families and no other input moves them.
"""

from __future__ import annotations

import math

import numpy as np

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import County
from start_sim.sim.streams import NEW, stream


def arrival_days(county: County, county_index: int, end_day: float, seed: int, replication: int) -> np.ndarray:
    """Referral days in [0, end_day) for one county."""
    rate = county.referrals_per_year / DAYS_PER_YEAR
    if rate <= 0 or end_day <= 0:
        return np.empty(0)
    g = math.log1p(county.referral_growth_per_year) / DAYS_PER_YEAR  # growth per day, continuous

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
