"""Replications of several scenarios on one seed (common random numbers), as one grid of tasks."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from start_sim.experiments.executor import Executor, Progress
from start_sim.experiments.precision import ReplicationsRule
from start_sim.experiments.records import Record, decode, scenario_hash, simulate_chunk
from start_sim.experiments.workfolder import WorkFolder
from start_sim.inputs.schema import Scenario

CHUNK_SECONDS = 0.2
"""A task should take about this long at least: faster replications are grouped into chunks."""


@dataclass
class GridResult:
    """Records of every scenario in replication order, and how their number was chosen."""

    records: dict[str, list[Record]]
    rule: dict | None = None
    simulated: int = 0  # replications simulated by this call (not resumed)
    resumed: int = 0  # replications taken from the work folder


def simulate_grid(
    scenarios: dict[str, Scenario],
    replications: int | str,
    seed: int,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    executor: Literal["auto", "serial", "dask"] = "auto",
    progress: Progress | None = None,
    work: WorkFolder | None = None,
    rule: ReplicationsRule | None = None,
    chunk: int | None = None,
) -> GridResult:
    """Replications 0..n-1 of every scenario on one seed (common random numbers), as one grid.

    ``replications`` is a number or ``"auto"`` (``rule`` decides, default
    :class:`ReplicationsRule`). ``chunk`` fixes the replications per task (default: one,
    or more when a replication takes under ``CHUNK_SECONDS``)."""
    if not scenarios:
        raise ValueError("no scenario to run")
    auto = replications == "auto"
    if not auto:
        if not isinstance(replications, int | np.integer) or replications < 1:
            raise ValueError(f"replications = {replications!r} is not allowed: give 1 or more, or 'auto'")
        replications = int(replications)
    rule = rule or ReplicationsRule()
    have: dict[str, dict[int, Record]] = {name: {} for name in scenarios}
    resumed = 0
    if work is not None:
        for name in scenarios:
            have[name] = work.records(name, scenarios[name], seed)
            resumed += len(have[name])
    target = rule.first_target if auto else replications
    if auto:  # resumed replications count toward the first batch
        target = max(target, min((len(h) for h in have.values()), default=0))
    simulated = 0

    def done_count() -> int:
        return sum(1 for h in have.values() for i in h if i < target)

    def on_result(key: str, result: list[tuple]) -> None:
        nonlocal simulated
        for name, i, data, _ in result:
            if work is not None:
                work.save(name, i, data)
            have[name][i] = decode(data)
            simulated += 1
        if progress:
            progress(done_count(), target * len(scenarios))

    info = None
    with Executor(workers, scheduler, executor) as ex:
        while True:
            todo = [(name, i) for name in scenarios for i in range(target) if i not in have[name]]
            if progress:
                progress(done_count(), target * len(scenarios))
            _run_tasks(ex, scenarios, seed, todo, on_result, chunk)
            if not auto:
                final = replications
                break
            frames = [_kpi_frame(have[name], target) for name in scenarios]
            n = rule.solution(frames)
            if n is not None:
                final = n + rule.window(n)
                info = rule.verdict(frames, n, final)
                break
            if target >= rule.max_replications:
                final = target
                info = rule.verdict(frames, None, final)
                break
            target = rule.next_target(frames, target, max(ex.size, 1))
    records = {name: [have[name][i] for i in range(final)] for name in scenarios}
    return GridResult(records, info, simulated, resumed)


def _kpi_frame(records: dict[int, Record], n: int) -> pd.DataFrame:
    return pd.DataFrame([records[i].kpis for i in range(n)])


def _run_tasks(ex: Executor, scenarios: dict[str, Scenario], seed: int, todo: list[tuple[str, int]],
               on_result: Callable, chunk: int | None) -> None:
    """One task per replication; when replications are quick, a first round of single
    replications (one per worker) times them and the rest go in chunks."""
    if not todo:
        return
    hashes = {name: scenario_hash(sc)[:12] for name, sc in scenarios.items()}

    def items(pairs: list[tuple[str, int]], size: int) -> list[tuple[str, tuple]]:
        out = []
        for name in scenarios:
            reps = [i for n, i in pairs if n == name]
            for k in range(0, len(reps), size):
                part = tuple(reps[k : k + size])
                span = f"{part[0]}" if len(part) == 1 else f"{part[0]}-{part[-1]}"
                key = f"start-sim-{name}-{hashes[name]}-seed{seed}-rep{span}"
                out.append((key, (scenarios[name], name, seed, part)))
        return out

    if chunk is not None or not ex.uses_dask(len(todo)):
        ex.stream(simulate_chunk, items(todo, chunk or 1), on_result)
        return
    if ex.client is None:
        ex._start(len(todo))
    probe, rest = todo[: ex.size], todo[ex.size :]
    seconds: list[float] = []

    def timed(key: str, result: list[tuple]) -> None:
        seconds.extend(r[3] for r in result)
        on_result(key, result)

    ex.stream(simulate_chunk, items(probe, 1), timed)
    if rest:
        per = float(np.median(seconds)) if seconds else CHUNK_SECONDS
        size = 1 if per >= CHUNK_SECONDS else min(math.ceil(CHUNK_SECONDS / max(per, 1e-6)),
                                                  max(1, len(rest) // (4 * ex.size)))
        ex.stream(simulate_chunk, items(rest, size), on_result)


