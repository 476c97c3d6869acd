"""Confidence intervals over replications: the one t-interval of the package, and the paired
difference of two scenarios run on common random numbers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
"""Confidence level of every interval unless a caller asks for another."""


def t_quantile(n: int, confidence: float = CONFIDENCE) -> float:
    """The two-sided Student t quantile for ``n`` observations (``n - 1`` degrees of freedom)."""
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1))


def half_width(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> float:
    """Half-width of the t confidence interval of the mean of ``values`` (NaN values dropped;
    NaN with fewer than two)."""
    x = _finite(values)
    n = len(x)
    if n < 2:
        return math.nan
    return float(t_quantile(n, confidence) * x.std(ddof=1) / math.sqrt(n))


def mean_ci(values: Sequence[float] | np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high) of the t confidence interval of the mean (NaN values dropped)."""
    x = _finite(values)
    mean = float(x.mean()) if len(x) else math.nan
    half = half_width(x, confidence)
    return mean, mean - half, mean + half


def paired_difference(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray,
                      confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean and t-interval of ``a - b`` replication by replication (NaN pairs dropped)."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean, low, high = mean_ci(d, confidence)
    return {"mean": mean, "ci_low": low, "ci_high": high}


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]
