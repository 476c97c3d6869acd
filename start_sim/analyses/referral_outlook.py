"""The referral forecast of every county by programme year: mean and 80% / 95% intervals.

A county's :class:`~start_sim.inputs.referral_forecast.ReferralForecast` is sampled many times
(its own stream ``referral_forecast.outlook``, so the figures are the same on every call);
each draw gives a rate and a trend, and year ``k``'s expected referrals follow from them
(:func:`~start_sim.inputs.referral_forecast.year_mean`). The intervals are those of the
*expected* number (what the inputs leave uncertain); a year's actual count also varies by
chance around it (Poisson: a standard deviation of about the square root of the mean).
A county without a forecast has its ``referrals_per_year`` as given, without an interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from start_sim.inputs.referral_forecast import DRAWS, ReferralForecast, year_mean
from start_sim.inputs.schema import County, Scenario
from start_sim.sim.streams import stream

OUTLOOK_DRAWS = 20_000
"""Draws of each county's forecast: the 2.5% quantile then moves by well under 1% between seeds."""

QUANTILES = (0.025, 0.10, 0.50, 0.90, 0.975)


@dataclass(frozen=True)
class YearOutlook:
    """One programme year of one county."""

    year: int
    mean: float
    quantiles: tuple[float, ...]  # at QUANTILES


@dataclass(frozen=True)
class CountyOutlook:
    """A county's eligible START referrals: the forecast (or the given rate) by year."""

    county: str
    forecast: ReferralForecast | None
    mean_per_year: float
    sd_per_year: float
    years: tuple[YearOutlook, ...]


def county_outlook(county: County, county_index: int, years: int, seed: int = 1,
                   draws: int = OUTLOOK_DRAWS) -> CountyOutlook:
    """One county's outlook over ``years`` programme years."""
    fc = county.referral_forecast
    if fc is None:
        rows = tuple(YearOutlook(k, float(m), (float(m),) * len(QUANTILES))
                     for k in range(1, years + 1)
                     for m in [year_mean(county.referrals_per_year, county.referral_growth_per_year, k)])
        return CountyOutlook(county.name, None, county.referrals_per_year, 0.0, rows)
    rate, growth = fc.draw(stream(seed, 0, county_index, "referral_forecast.outlook").random((draws, DRAWS)))
    rows = []
    for k in range(1, years + 1):
        x = year_mean(rate, growth, k)
        rows.append(YearOutlook(k, float(x.mean()), tuple(float(q) for q in np.quantile(x, QUANTILES))))
    return CountyOutlook(county.name, fc, fc.mean_per_year, math.sqrt(fc.variance_per_year), tuple(rows))


def outlook(scenario: Scenario, seed: int = 1, years: int | None = None) -> list[CountyOutlook]:
    """Every county's outlook over the horizon's programme years (or ``years``)."""
    n = max(1, math.ceil(scenario.horizon_years - 1e-9)) if years is None else years
    return [county_outlook(c, k, n, seed) for k, c in enumerate(scenario.counties)]


def outlook_frame(outlooks: list[CountyOutlook]) -> pd.DataFrame:
    """One row per county and year: the expected eligible referrals and their intervals."""
    rows = []
    for o in outlooks:
        for y in o.years:
            lo95, lo80, med, hi80, hi95 = y.quantiles
            rows.append({"county": o.county, "source": "forecast" if o.forecast else "given", "year": y.year,
                         "mean": y.mean, "p2_5": lo95, "p10": lo80, "median": med, "p90": hi80, "p97_5": hi95})
    return pd.DataFrame(rows)
