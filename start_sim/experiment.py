"""Replications of a scenario: serial or on a Dask cluster, identical either way.

Each replication builds its own generators from (seed, replication), so where it runs
does not matter; results are put back in replication order whatever order they finish.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .metrics import METRICS, ReplicationOutput, summarise
from .replication import simulate
from .scenario import Scenario


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationOutput:
    """Simulate both arms of every county for one replication and summarise it."""
    return summarise(scenario, simulate(scenario, seed, replication), replication)


@dataclass
class Results:
    """Tidy results of one scenario: per-replication KPIs, monthly series, family records."""

    scenario: Scenario
    seed: int
    kpis: pd.DataFrame
    timeseries: pd.DataFrame
    families: pd.DataFrame
    source: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def replications(self) -> int:
        return len(self.kpis)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean and t-interval of each KPI over replications (index: KPI key)."""
        return summary_table(self.kpis.drop(columns=["replication", "seed"]), confidence)

    def manifest(self) -> dict:
        return {
            "package": "start-sim",
            "version": __version__,
            "scenario_name": self.scenario.name,
            "scenario_file": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": self.scenario.to_dict(),
            "scenario_sha256": _hash(self.scenario),
        }

    def write(self, out: str | Path, plots: bool = True) -> Path:
        """Write CSVs, manifest and plots to ``out`` (built in a temporary folder, then moved)."""
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            self.kpis.to_csv(tmp / "kpis.csv", index=False)
            self.summary().to_csv(tmp / "summary.csv", index_label="kpi")
            self.timeseries.to_csv(tmp / "timeseries.csv", index=False)
            self.families.to_csv(tmp / "families.csv", index=False)
            (tmp / "manifest.json").write_text(json.dumps(self.manifest(), indent=2))
            if plots:
                from .plots import caseload_plot, outcomes_plot

                caseload_plot(self).savefig(tmp / "caseload.png", dpi=110)
                outcomes_plot(self).savefig(tmp / "outcomes.png", dpi=110)
            if out.exists():
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return out


def _hash(scenario: Scenario) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(scenario.to_dict(), sort_keys=True).encode()).hexdigest()


def summary_table(kpis: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and t confidence interval of every column."""
    rows = {}
    for col in kpis.columns:
        x = kpis[col].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        n = len(x)
        mean = float(x.mean()) if n else math.nan
        sd = float(x.std(ddof=1)) if n > 1 else math.nan
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)) if n > 1 else math.nan
        rows[col] = {"mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half, "n": n}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["label"] = [_label(c) for c in table.index]
    return table


def _label(col: str) -> str:
    for suffix, arm in (("_start", " (START)"), ("_usual", " (usual)")):
        if col.endswith(suffix) and col[: -len(suffix)] in METRICS:
            return METRICS[col[: -len(suffix)]].label + arm
    return METRICS[col].label if col in METRICS else col


def replicate(
    scenario: Scenario,
    replications: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[ReplicationOutput]:
    """Outputs of replications 0..n-1 in order; serial for one worker, else on Dask."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    if workers <= 1 and scheduler is None:
        outs = []
        for i in range(replications):
            outs.append(run_replication(scenario, seed, i))
            if progress:
                progress(i + 1, replications)
        return outs
    return list(_dask_map(scenario, range(replications), seed, workers, scheduler, progress))


def _dask_map(
    scenario: Scenario,
    reps: Iterable[int],
    seed: int,
    workers: int,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[ReplicationOutput]:
    from dask.distributed import Client, LocalCluster, as_completed

    reps = list(reps)
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        scattered = client.scatter(scenario, broadcast=True)
        futures = {
            client.submit(run_replication, scattered, seed, i, key=f"replication-{_hash(scenario)[:12]}-{seed}-{i}",
                          retries=3): i
            for i in reps
        }
        done: dict[int, ReplicationOutput] = {}
        for fut in as_completed(futures):
            done[futures[fut]] = fut.result()
            if progress:
                progress(len(done), len(reps))
        return [done[i] for i in reps]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run(
    scenario: Scenario,
    replications: int = 10,
    seed: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    source: str = "",
) -> Results:
    """Run ``replications`` of ``scenario`` and collect tidy results."""
    outs = replicate(scenario, replications, seed, workers, scheduler, progress)
    kpis = pd.DataFrame([o.kpis for o in outs])
    kpis.insert(0, "seed", seed)
    ts = pd.DataFrame([row for o in outs for row in o.timeseries])
    fams = pd.DataFrame([{"replication": o.kpis["replication"], **row} for o in outs for row in o.families])
    return Results(scenario, seed, kpis, ts, fams, source=source)
