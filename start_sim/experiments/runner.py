"""The public entry points: raw replications (``replicate``) and tidy results of one scenario (``run``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from start_sim.experiments.executor import Executor, Progress
from start_sim.experiments.grid import simulate_grid
from start_sim.experiments.precision import ReplicationsRule
from start_sim.experiments.records import run_replication, scenario_hash
from start_sim.experiments.results import Results, RunInfo
from start_sim.experiments.workfolder import WorkFolder, work_plan
from start_sim.inputs.schema import Scenario
from start_sim.metrics.kpis import ReplicationOutput


def replicate(
    scenario: Scenario,
    replications: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[ReplicationOutput]:
    """Raw outputs of replications 0..n-1 in order (family rows as dicts): serial for one
    worker, else on Dask, one task per replication."""
    if replications < 1:
        raise ValueError("replications must be at least 1")
    done: dict[int, ReplicationOutput] = {}

    def on_result(key: str, out: ReplicationOutput) -> None:
        done[out.kpis["replication"]] = out
        if progress:
            progress(len(done), replications)

    key = f"start-sim-raw-{scenario_hash(scenario)[:12]}-seed{seed}-rep"
    with Executor(workers, scheduler) as ex:
        ex.stream(run_replication, [(f"{key}{i}", (scenario, seed, i)) for i in range(replications)], on_result)
    return [done[i] for i in range(replications)]


def run(
    scenario: Scenario,
    replications: int | str = 10,
    seed: int = 1,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Progress | None = None,
    source: str = "",
    *,
    executor: Literal["auto", "serial", "dask"] = "auto",
    work: WorkFolder | str | Path | None = None,
    resume: bool = False,
    rule: ReplicationsRule | None = None,
    chunk: int | None = None,
) -> Results:
    """Run ``replications`` (a number, or ``"auto"``: see :mod:`start_sim.experiments.precision`) of
    ``scenario`` and collect tidy results.

    ``workers`` > 1 runs on a local Dask cluster, ``scheduler`` on an existing one,
    ``executor="dask"`` forces Dask even for one worker. With ``work`` (a folder), each
    finished replication is kept there and ``resume=True`` continues from it."""
    if work is not None and not isinstance(work, WorkFolder):
        work = WorkFolder.open(work, work_plan("run", {"run": scenario}, seed), resume)
    grid = simulate_grid({"run": scenario}, replications, seed, workers=workers, scheduler=scheduler,
                         executor=executor, progress=progress, work=work, rule=rule, chunk=chunk)
    info = RunInfo(rule=grid.rule, simulated=grid.simulated, resumed=grid.resumed)
    return Results.from_records(scenario, seed, grid.records["run"], source=source, info=info)
