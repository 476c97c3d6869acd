"""The spread of a site effect, estimated from targets of several sites (decision 0036).

When the targets file frees one county multiplier per site (e.g. ``counties.0.placement_multiplier``,
``counties.1.placement_multiplier``, ... each with targets of that county, ``site = "..."``), the
calibration's posterior gives each site's log multiplier with its uncertainty. Their
between-site sd is the random-effect meta-analysis estimate of DerSimonian and Laird (1986),
the method-of-moments tau: the spread of the sites' estimates beyond what their own posterior
variances explain. It is the value to give ``[sites] effect_sd`` for a site not yet observed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNTY_MULTIPLIER = re.compile(r"^counties\.(\d+)\.(\w+_multiplier)$")
MIN_SITES = 3


@dataclass(frozen=True)
class Spread:
    """Between-site sd of one kind of county multiplier, on the log scale."""

    multiplier: str
    sites: int
    tau: float
    mean_log: float  # precision-weighted mean log multiplier
    q: float  # Cochran's Q


def dersimonian_laird(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """(tau, weighted mean, Q) of estimates ``y`` with within-site variances ``v``."""
    w = 1.0 / np.maximum(v, 1e-12)
    mean = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - mean) ** 2))
    denom = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - (len(y) - 1)) / denom) if denom > 0 else 0.0
    return math.sqrt(tau2), mean, q


def site_spreads(posterior: pd.DataFrame, parameters: Sequence) -> list[Spread]:
    """One estimate per kind of county multiplier freed for at least ``MIN_SITES`` counties."""
    kinds: dict[str, list[str]] = {}
    for p in parameters:
        m = COUNTY_MULTIPLIER.match(p.path)
        if m:
            kinds.setdefault(m.group(2), []).append(p.path)
    out = []
    for kind, paths in kinds.items():
        if len(paths) < MIN_SITES:
            continue
        logs = np.log(np.column_stack([posterior[p].to_numpy(float) for p in paths]).clip(1e-12))
        tau, mean, q = dersimonian_laird(logs.mean(axis=0), logs.var(axis=0, ddof=1))
        out.append(Spread(kind, len(paths), tau, mean, q))
    return out
