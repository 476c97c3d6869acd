"""Remaining case lengths of the cases already open when a run starts, at equilibrium.

A case found open at a random moment of a steady caseload is a *length-biased* draw: long
cases are open more of the time, so its planned length ``S*`` has density ``x f(x) / E[S]``,
and the share already served is uniform, leaving ``(1 - U) S*``. That residual has density
``(1 - F(x)) / E[S]`` and mean ``E[S^2] / (2 E[S])``, longer than the ``E[S] / 2`` of ``(1 - U) S``
with an unbiased ``S``. The length-biased quantile function is built once per distribution on
a grid of quantiles (:data:`GRID` points) and read by linear interpolation, so the family's
uniform keeps its place (common random numbers stay monotone).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from start_sim.inputs.distributions import Distribution

GRID = 8192
"""Quantile grid of the length-biased distribution (its mean is then within 0.1% of E[S^2]/E[S])."""


@lru_cache(maxsize=32)
def _table(dist: Distribution) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities of the length-biased distribution at the grid's values, and the values."""
    x = dist.ppf_array((np.arange(GRID) + 0.5) / GRID)
    w = np.maximum(x, 0.0)
    total = w.sum()
    cum = np.cumsum(w) / total if total > 0 else (np.arange(GRID) + 1.0) / GRID
    return cum - w / (2 * total) if total > 0 else cum, x


def length_biased(dist: Distribution, u: float) -> float:
    """The length-biased planned length at quantile ``u`` (``S*`` of the module docstring)."""
    cum, x = _table(dist)
    return float(np.interp(u, cum, x))
