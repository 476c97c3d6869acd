"""Paired comparison of scenarios on common random numbers.

Every scenario is run with the same seed, so replication ``i`` of each sees the same
families with the same draws; the difference of a KPI between two scenarios is then
taken replication by replication, and its confidence interval is far narrower than
the one from two independent samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .experiment import Results, run
from .scenario import Scenario


@dataclass
class Comparison:
    """Results of several scenarios on the same seed, and their paired differences."""

    results: dict[str, Results]

    @property
    def names(self) -> list[str]:
        return list(self.results)

    @property
    def kpis(self) -> pd.DataFrame:
        """Per-replication KPIs of every scenario, with a ``scenario`` column."""
        return pd.concat([r.kpis.assign(scenario=name) for name, r in self.results.items()], ignore_index=True)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Each KPI per scenario (mean, CI) and its paired difference from the first scenario."""
        base_name = self.names[0]
        base = self.results[base_name].kpis
        rows = []
        for name, res in self.results.items():
            s = res.summary(confidence)
            for kpi in s.index:
                row = {"scenario": name, "kpi": kpi, "label": s.at[kpi, "label"], "mean": s.at[kpi, "mean"],
                       "ci_low": s.at[kpi, "ci_low"], "ci_high": s.at[kpi, "ci_high"]}
                if name != base_name:
                    d = paired_difference(res.kpis[kpi], base[kpi], confidence)
                    row.update({f"diff_{k}": v for k, v in d.items()})
                rows.append(row)
        return pd.DataFrame(rows)


def paired_difference(a: pd.Series, b: pd.Series, confidence: float = 0.95) -> dict[str, float]:
    """Mean and t-interval of ``a - b`` replication by replication (NaN pairs dropped)."""
    d = (a.to_numpy(dtype=float) - b.to_numpy(dtype=float))
    d = d[~np.isnan(d)]
    n = len(d)
    if n == 0:
        return {"mean": math.nan, "ci_low": math.nan, "ci_high": math.nan}
    mean = float(d.mean())
    if n < 2:
        return {"mean": mean, "ci_low": math.nan, "ci_high": math.nan}
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def unpaired_difference(a: pd.Series, b: pd.Series, confidence: float = 0.95) -> dict[str, float]:
    """Welch interval of mean(a) - mean(b), as if the scenarios had independent draws."""
    x, y = a.dropna().to_numpy(dtype=float), b.dropna().to_numpy(dtype=float)
    mean = float(x.mean() - y.mean())
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1)) if se > 0 else 1
    half = float(stats.t.ppf(0.5 + confidence / 2, dof) * se)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def compare(
    scenarios: dict[str, Scenario],
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
) -> Comparison:
    """Run every scenario on the same seed (common random numbers) and pair them."""
    if len(scenarios) < 1:
        raise ValueError("compare needs at least one scenario")
    return Comparison({name: run(sc, replications, seed, workers, scheduler) for name, sc in scenarios.items()})
