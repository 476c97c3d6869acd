"""Present values: the one continuous discounting of the package (staff and care costs, the
cumulative cost series and the benefit-cost ledger all price through it)."""

from __future__ import annotations

import math
from typing import overload

import numpy as np

from start_sim.core.timebase import DAYS_PER_YEAR


def rate_per_day(rate_per_year: float) -> float:
    """Continuous discount rate per day equivalent to the annual (effective) ``rate_per_year``."""
    return math.log1p(rate_per_year) / DAYS_PER_YEAR


@overload
def factor(delta: float, day: float) -> float: ...
@overload
def factor(delta: float, day: np.ndarray) -> np.ndarray: ...
def factor(delta: float, day: float | np.ndarray) -> float | np.ndarray:
    """Present-value factor of one dollar paid on ``day`` at the daily rate ``delta``."""
    if isinstance(day, np.ndarray):
        return np.exp(-delta * day)
    return math.exp(-delta * day)


@overload
def flow(delta: float, start: float, end: float, per_day: float = 1.0) -> float: ...
@overload
def flow(delta: float, start: np.ndarray | float, end: np.ndarray | float,
         per_day: float = 1.0) -> np.ndarray: ...
def flow(delta: float, start: float | np.ndarray, end: float | np.ndarray,
         per_day: float = 1.0) -> float | np.ndarray:
    """Present value of ``per_day`` paid continuously over [start, end]; zero where the
    interval is empty. Scalars give a float; arrays (broadcast together) give an array."""
    if isinstance(start, np.ndarray) or isinstance(end, np.ndarray):
        s, e = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
        paid = e > s
        if delta == 0:
            return np.where(paid, per_day * (e - s), 0.0)
        e = np.maximum(e, s)
        return np.where(paid, per_day * (np.exp(-delta * s) - np.exp(-delta * e)) / delta, 0.0)
    if end <= start:
        return 0.0
    if delta == 0:
        return per_day * (end - start)
    return per_day * (math.exp(-delta * start) - math.exp(-delta * end)) / delta
