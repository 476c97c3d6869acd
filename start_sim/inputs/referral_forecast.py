"""Referral forecast: a county's eligible START referrals a year from its own CPS counts.

A planner knows the county's CPS reports (or substantiations) a year and, roughly, the share
of them with a child under 6, the share of those with parental substance use as a primary
safety risk, and the share of eligible families who accept START. Each is a distribution
(:mod:`start_sim.inputs.distributions`) and they are taken as independent, so the eligible
referrals a year are the product

    eligible = cps_per_year x under6_share x substance_share x acceptance_share,

with mean ``prod E[X_i]`` and variance ``prod (E[X_i]^2 + Var X_i) - prod E[X_i]^2``. The
rate changes by ``annual_trend`` a year (a multiplier: 1.03 = +3% a year), continuously in
time as ``referral_growth_per_year`` does. A county with a forecast gets ``referrals_per_year``
(the mean, moved from ``base_day`` to day 0 by the mean trend) and
``referral_growth_per_year`` (the mean trend - 1) from it; with
``uncertainty = true`` each replication draws its own rate and trend
(:func:`start_sim.sim.referrals.county_rate`, stream ``referral_forecast``).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs import bounds as B
from start_sim.inputs.distributions import Distribution, Fixed, Uniform

SHARES = ("under6_share", "substance_share", "acceptance_share")
FACTORS = ("cps_per_year", *SHARES)
"""The factors of the product, in the order a replication draws them (then the trend)."""


class ReferralForecast(BaseModel):
    """``[counties.referral_forecast]``: eligible START referrals from the county's CPS counts."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    counts: Literal["reports", "substantiations"] = Field(
        "reports", description="what cps_per_year counts: CPS reports accepted for assessment, or substantiations; "
        "the shares below must describe the same families"
    )
    cps_per_year: Distribution = Field(
        description="the county's CPS reports (or substantiations) a year, e.g. {dist = \"uniform\", low = 900, "
        "high = 1100}; the county's own figure, required"
    )
    annual_trend: Distribution = Field(
        Fixed(dist="fixed", value=1.0),
        description="yearly multiplier of the CPS counts (1.03 = +3% a year); default no trend [assumption]",
    )
    under6_share: Distribution = Field(
        Uniform(dist="uniform", low=0.35, high=0.55),
        description="share of those reports with a child under 6 (START's age rule [PSC-eligibility]); not in the "
        "evidence: a county should give its own [gap 5: assumption]",
    )
    substance_share: Distribution = Field(
        Uniform(dist="uniform", low=0.25, high=0.55),
        description="share of those with parental substance use as a primary safety risk; parental drug abuse in "
        "36% of U.S. removals [ChildTrends-AFCARS-2017], 53.5% for infants [NCSACW-under-1]; removals are the "
        "severe end, so the range reaches lower [gap 5: assumption]",
    )
    acceptance_share: Distribution = Field(
        Uniform(dist="uniform", low=0.6, high=0.9),
        description="share of eligible families who accept START (voluntary); not published [gap 5: assumption]",
    )
    base_day: float = Field(
        0.0, ge=-B.MAX_BASE_DAYS, le=B.MAX_BASE_DAYS,
        description="day of the run the CPS counts describe (0: day 0; -365: counts of the year before the run); "
        "the trend runs from there",
    )
    uncertainty: bool = Field(
        False, description="true: each replication draws its own rate and trend from these distributions; false: "
        "every replication uses the mean rate and the mean trend"
    )

    @model_validator(mode="after")
    def _supports(self) -> ReferralForecast:
        for name in SHARES:
            lo, hi = support(getattr(self, name))
            if hi > 1.0 + 1e-12:
                raise ValueError(
                    f"{name} can take {hi:g}, above 1: a share lies in 0-1; give a fixed, uniform or empirical "
                    "distribution with values from 0 to 1 (e.g. {dist = \"uniform\", low = 0.3, high = 0.5})"
                )
        hi = support(self.annual_trend)[1]
        if hi - 1.0 > B.MAX_GROWTH_PER_YEAR:
            raise ValueError(f"annual_trend can take {hi:g}: a yearly multiplier of at most "
                             f"{1 + B.MAX_GROWTH_PER_YEAR:g}; {B.GROWTH_REASON}")
        if support(self.annual_trend)[0] <= 0:
            raise ValueError("annual_trend can take 0 or less: a yearly multiplier is above 0 (1 = no trend, "
                             "1.03 = +3% a year, 0.97 = -3% a year)")
        if self.mean_per_year > B.MAX_REFERRALS_PER_YEAR:
            raise ValueError(f"the forecast's mean, {self.mean_per_year:,.0f} eligible referrals a year, is too "
                             f"large: {B.REFERRALS_REASON}")
        return self

    @property
    def mean_per_year(self) -> float:
        """Mean eligible START referrals a year (the product of the factors' means)."""
        return math.prod(getattr(self, k).mean for k in FACTORS)

    @property
    def variance_per_year(self) -> float:
        """Variance of the eligible referrals a year, the factors independent."""
        second = math.prod(getattr(self, k).mean ** 2 + getattr(self, k).std ** 2 for k in FACTORS)
        return max(0.0, second - self.mean_per_year**2)

    @property
    def mean_on_day_0(self) -> float:
        """``referrals_per_year`` of the mean run: the mean rate, moved from ``base_day`` to day 0 by the mean trend."""
        return self.mean_per_year * self.annual_trend.mean ** (-self.base_day / DAYS_PER_YEAR)

    @property
    def mean_growth(self) -> float:
        """``referral_growth_per_year`` of the mean run: the mean trend - 1."""
        return self.annual_trend.mean - 1.0

    def draw(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rates a year on day 0 and growths a year from uniforms ``u`` of shape (..., 5): one
        column per factor in :data:`FACTORS` order, then the trend (each draw's own trend moves
        its rate from ``base_day`` to day 0)."""
        u = np.asarray(u, dtype=float)
        rate = np.ones(u.shape[:-1])
        for j, k in enumerate(FACTORS):
            rate = rate * getattr(self, k).ppf_array(u[..., j])
        trend = self.annual_trend.ppf_array(u[..., len(FACTORS)])
        return rate * trend ** (-self.base_day / DAYS_PER_YEAR), trend - 1.0


DRAWS = len(FACTORS) + 1
"""Uniforms one replication takes from the ``referral_forecast`` stream."""


def support(d: Any) -> tuple[float, float]:
    """Smallest and largest value a distribution can take (inf for an unbounded one)."""
    lo, hi = float(d.ppf_array(np.array([0.0]))[0]), float(d.ppf_array(np.array([1.0]))[0])
    return lo, (math.inf if math.isnan(hi) else hi)


def year_mean(rate_per_year: np.ndarray | float, growth: np.ndarray | float, year: int) -> np.ndarray:
    """Expected referrals in programme year ``year`` (1 = the first): the rate grows continuously,
    ``rate (1 + g)^t`` at year ``t``, as the arrivals do (:mod:`start_sim.sim.referrals`)."""
    g = np.log1p(np.asarray(growth, dtype=float))
    a, b = year - 1, year
    safe = np.where(np.abs(g) < 1e-12, 1.0, g)
    grown = np.where(np.abs(g) < 1e-12, 1.0, (np.exp(safe * b) - np.exp(safe * a)) / safe)
    return np.asarray(rate_per_year, dtype=float) * grown


def fill_from_forecast(data: Any) -> Any:
    """A county's data with ``referrals_per_year`` and ``referral_growth_per_year`` taken from its
    ``referral_forecast`` (validated here); ``ValueError`` if the county gives them as well."""
    if not isinstance(data, dict) or data.get("referral_forecast") is None:
        return data
    given = [k for k in ("referrals_per_year", "referral_growth_per_year") if k in data]
    if given:
        raise ValueError(
            f"{' and '.join(given)} and referral_forecast are both given: with a [counties.referral_forecast] the "
            "eligible referrals a year and their trend come from the forecast (cps_per_year x shares, annual_trend); "
            f"leave out {' and '.join(given)}, or drop the forecast"
        )
    if data.get("eligible_share", 1.0) != 1.0:
        raise ValueError(
            f"eligible_share = {data['eligible_share']!r} with a referral_forecast: the forecast already gives "
            "eligible families (its under6, substance and acceptance shares); leave eligible_share out"
        )
    raw = data["referral_forecast"]
    try:
        fc = raw if isinstance(raw, ReferralForecast) else ReferralForecast.model_validate(raw)
    except ValidationError:  # the field's own validation reports it, with its path
        return {**data, "referrals_per_year": 0.0}
    return {**data, "referrals_per_year": fc.mean_on_day_0, "referral_growth_per_year": fc.mean_growth}


def without_derived(county: Any, dumped: dict[str, Any]) -> dict[str, Any]:
    """A county as plain data, leaving out what its forecast derives (so that the data, read
    back or changed, is derived again rather than refused as given twice)."""
    if getattr(county, "referral_forecast", None) is None:
        return dumped
    return {k: v for k, v in dumped.items() if k not in ("referrals_per_year", "referral_growth_per_year")}



def shifted(fc: ReferralForecast, days: float) -> dict[str, Any]:
    """The forecast (as data) moved ``days`` later: every replication's rate on day ``t + days``
    is then its rate on day ``t`` before (its own trend, drawn as before, moves it)."""
    return {**fc.model_dump(mode="json", by_alias=True), "base_day": fc.base_day + days}
