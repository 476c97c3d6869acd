"""Tidy results of one scenario: per-replication KPIs, monthly series, family records."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from start_sim.core.errors import RunError
from start_sim.core.stats import mean_ci
from start_sim.core.version import PACKAGE, __version__
from start_sim.experiments.manifests import REWRITE, need, read_manifest, read_table
from start_sim.experiments.records import Record, scenario_hash
from start_sim.inputs.schema import Scenario
from start_sim.metrics.registry import METRICS


@dataclass(frozen=True)
class RunInfo:
    """How a result's replications came about: the replications rule's verdict (``--replications
    auto``; None for a fixed number) and how many were simulated now or taken from a work folder."""

    rule: dict | None = None
    simulated: int = 0
    resumed: int = 0


@dataclass
class Results:
    """Tidy results of one scenario: per-replication KPIs, monthly series, family records."""

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    families: pd.DataFrame
    source: str = ""
    info: RunInfo = field(default_factory=RunInfo)
    county_kpis: pd.DataFrame = field(default_factory=pd.DataFrame)  # each county's KPIs, per replication
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)  # nominal costs by county and programme year
    region_kpis: pd.DataFrame = field(default_factory=pd.DataFrame)  # each region's KPIs, per replication

    @property
    def replications(self) -> int:
        return len(self.kpis)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean and t-interval of each KPI over replications (index: KPI key)."""
        return summary_table(self.kpis.drop(columns=["replication", "seed"]), confidence)

    def manifest(self) -> dict:
        m = {
            "kind": "run",
            "package": PACKAGE,
            "version": __version__,
            "scenario_name": self.scenario.name,
            "scenario_file": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": self.scenario.to_dict(),
            "scenario_sha256": scenario_hash(self.scenario),
        }
        if self.info.rule:
            m["replications_rule"] = self.info.rule
        return m

    @classmethod
    def from_records(cls, scenario: Scenario, seed: int, records: Sequence[Record], source: str = "",
                     info: RunInfo | None = None) -> Results:
        kpis = pd.DataFrame([r.kpis for r in records])
        kpis.insert(0, "seed", seed)
        ts = _concat([r.timeseries for r in records])
        fams = _concat([r.families for r in records])
        return cls(scenario, seed, kpis, ts, fams, source=source, info=info or RunInfo(),
                   county_kpis=_concat([r.county_kpis for r in records]), budget=_concat([r.budget for r in records]),
                   region_kpis=_concat([r.region_kpis for r in records]))

    def budget_by_year(self) -> pd.DataFrame:
        """Mean nominal costs by programme year over replications, all counties together."""
        cols = [c for c in self.budget.columns if c not in ("replication", "county", "year")]
        per_rep = self.budget.groupby(["replication", "year"])[cols].sum()
        return per_rep.groupby("year").mean()

    @classmethod
    def read(cls, folder: str | Path, families: bool = False) -> Results:
        """Results written by :func:`start_sim.outputs.writers.write_run` (family rows only if ``families``: they are large)."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        if manifest.get("kind", "run") != "run":
            raise RunError(f"{folder} holds the results of start-sim {manifest.get('kind')}, not of one run")
        try:
            scenario = Scenario.model_validate(need(manifest, "scenario", dict, folder))
        except ValueError as exc:
            raise RunError(f"{folder / 'manifest.json'}: its 'scenario' entry is not a valid scenario ({exc}); "
                           f"{REWRITE}") from None
        seed = need(manifest, "seed", int, folder)
        fams = read_table(folder, "families.csv") if families else pd.DataFrame()
        info = RunInfo(rule=manifest.get("replications_rule") or None)
        return cls(scenario, seed, read_table(folder, "kpis.csv"), read_table(folder, "timeseries.csv"),
                   fams, source=str(manifest.get("scenario_file", "")), info=info,
                   county_kpis=read_table(folder, "county_kpis.csv"), budget=read_table(folder, "budget.csv"),
                   region_kpis=read_table(folder, "region_kpis.csv") if (folder / "region_kpis.csv").exists()
                   else pd.DataFrame())


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(nonempty, ignore_index=True)



def summary_table(kpis: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and t confidence interval of every column.

    A t-interval is symmetric, so for a KPI near its natural limit it can cross it: the
    interval is clipped to the KPI's range, read from its unit in the registry
    (:data:`~start_sim.metrics.registry.METRICS`): [0, 1] for a share (units starting with
    ``share``), 0 or more for days."""
    rows = {}
    for col in kpis.columns:
        x = kpis[col].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        n = len(x)
        mean, low, high = mean_ci(x, confidence)
        lo_limit, hi_limit = kpi_range(col)
        low, high = max(low, lo_limit), min(high, hi_limit)
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        rows[col] = {"mean": mean, "sd": sd, "ci_low": low, "ci_high": high, "n": n}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["label"] = [_label(c) for c in table.index]
    return table


def _metric(col: str):
    """The registry entry of a KPI column (an arm's ``_start``/``_usual`` column too), or None."""
    for suffix in ("_start", "_usual"):
        if col.endswith(suffix) and col[: -len(suffix)] in METRICS:
            return METRICS[col[: -len(suffix)]]
    return METRICS.get(col)


def kpi_range(col: str) -> tuple[float, float]:
    """The values a KPI column can take, from its unit: [0, 1] for shares, [0, inf) for days."""
    metric = _metric(col)
    unit = metric.unit if metric else ""
    if unit.startswith("share"):
        return 0.0, 1.0
    if unit == "days":
        return 0.0, math.inf
    return -math.inf, math.inf


def _label(col: str) -> str:
    """The KPI's label, with the arm of an ``_start``/``_usual`` column."""
    metric = _metric(col)
    if metric is None:
        return col
    return metric.label + {f"{metric.key}_start": " (START)", f"{metric.key}_usual": " (usual)"}.get(col, "")


