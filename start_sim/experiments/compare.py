"""Paired comparison of scenarios on common random numbers.

Every scenario is run with the same seed, so replication ``i`` of each sees the same
families with the same draws; the difference of a KPI between two scenarios is then
taken replication by replication, and its confidence interval is far narrower than
the one from two independent samples.

All scenarios go to one executor as one scenario x replication grid (one Dask cluster for
the whole comparison), and with a work folder each finished replication of each scenario
is kept as it arrives, so an interrupted comparison resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from start_sim.core.errors import RunError
from start_sim.core.stats import paired_difference
from start_sim.core.version import PACKAGE
from start_sim.experiments.executor import Progress
from start_sim.experiments.grid import simulate_grid
from start_sim.experiments.manifests import need, read_manifest
from start_sim.experiments.precision import ReplicationsRule
from start_sim.experiments.results import Results, RunInfo
from start_sim.experiments.workfolder import WorkFolder, work_plan
from start_sim.inputs.schema import Scenario

HEADLINE = (
    "families_started", "mean_days_to_assignment", "share_assigned_within_14d", "families_diverted",
    "dyad_utilization", "placement_rate_12m_start", "sobriety_rate_at_closure_start", "placement_days_start",
    "program_cost", "savings_vs_usual", "net_savings", "savings_per_dollar",
)
"""KPIs shown first in a comparison's table, report and figure of differences."""


@dataclass
class Comparison:
    """Results of several scenarios on the same seed, and their paired differences."""

    results: dict[str, Results]
    info: RunInfo = field(default_factory=RunInfo)

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


def compare(
    scenarios: dict[str, Scenario],
    replications: int | str = 10,
    seed: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    *,
    executor: str = "auto",
    work: WorkFolder | str | Path | None = None,
    resume: bool = False,
    rule: ReplicationsRule | None = None,
    sources: dict[str, str] | None = None,
    chunk: int | None = None,
) -> Comparison:
    """Run every scenario on the same seed (common random numbers) and pair them.

    The scenarios x replications grid goes to one executor; ``replications="auto"`` runs
    until the rule of :mod:`start_sim.experiments.precision` is met for every scenario. ``work`` and
    ``resume`` are as for :func:`start_sim.run`."""
    if len(scenarios) < 1:
        raise ValueError("compare needs at least one scenario")
    if work is not None and not isinstance(work, WorkFolder):
        work = WorkFolder.open(work, work_plan("compare", scenarios, seed), resume)
    grid = simulate_grid(scenarios, replications, seed, workers=workers, scheduler=scheduler, executor=executor,
                         progress=progress, work=work, rule=rule, chunk=chunk)
    rule_only = RunInfo(rule=grid.rule)
    sources = sources or {}
    results = {
        name: Results.from_records(sc, seed, grid.records[name], source=sources.get(name, ""), info=rule_only)
        for name, sc in scenarios.items()
    }
    return Comparison(results, RunInfo(rule=grid.rule, simulated=grid.simulated, resumed=grid.resumed))


def manifest(cmp: Comparison) -> dict:
    """What a comparison folder holds: the reference, seed, replications and each scenario's manifest."""
    first = next(iter(cmp.results.values()))
    m = {
        "kind": "compare",
        "package": PACKAGE,
        "version": first.manifest()["version"],
        "reference": cmp.names[0],
        "seed": first.seed,
        "replications": first.replications,
        "scenarios": {name: r.manifest() for name, r in cmp.results.items()},
    }
    if cmp.info.rule:
        m["replications_rule"] = cmp.info.rule
    return m


def read(folder: str | Path) -> Comparison:
    """A comparison written by :func:`write` (family rows left out)."""
    folder = Path(folder)
    m = read_manifest(folder)
    if m.get("kind") != "compare":
        raise RunError(f"{folder} does not hold a comparison (start-sim compare writes one)")
    results = {name: Results.read(folder / "scenarios" / name) for name in need(m, "scenarios", dict, folder)}
    info = RunInfo(rule=m.get("replications_rule") or None)
    return Comparison(results, info)
