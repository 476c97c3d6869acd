"""Replications of one or several scenarios: where they run, how they are kept, how many.

* **Executors.** Replications run in this process, on a local Dask ``LocalCluster`` or on an
  existing Dask cluster; ``dask.distributed`` is the one engine. Every task is one
  replication (or a few, when one takes under ``CHUNK_SECONDS``) with a stable key, and
  results stream back with ``as_completed``. A scenario x replication grid (a comparison)
  goes to one cluster at once. Each replication builds its generators from
  (seed, replication), so where it runs does not matter: results are identical whatever
  the executor and worker count. A worker that dies loses no replication: the scheduler
  gives its tasks to another worker (and each task may be retried).
* **Records.** A replication comes back as one record: its KPIs, monthly series and family
  rows as gzipped JSON (floats round-trip exactly). Every path, in memory or through a
  work folder, builds its tables from records, so a resumed run and a clean one give the
  same tables.
* **Work folder.** With ``work=WorkFolder(...)``, each finished replication is written to
  ``<work>/replications/<scenario>/<replication>.json.gz`` as it arrives (to a temporary
  name, then renamed, so a file is whole or absent); an interrupted run continues from
  what is there.
* **How many.** ``replications="auto"`` runs until the rule of :mod:`start_sim.precision`
  is met.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from . import __version__
from .metrics import METRICS, ReplicationOutput, summarise
from .precision import ReplicationsRule
from .replication import simulate
from .scenario import Scenario

CHUNK_SECONDS = 0.2
"""A task should take about this long at least: faster replications are grouped into chunks."""
RECORD_FORMAT = 2  # 2: with county KPIs and the budget view

Progress = Callable[[int, int], None]
"""``progress(done, total)``: replications finished (resumed ones included) and planned."""


class RunError(Exception):
    """A run that cannot start or continue as asked (e.g. a work folder of another run)."""


# --------------------------------------------------------------------------- one replication


def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationOutput:
    """Simulate both arms of every county for one replication and summarise it."""
    return summarise(scenario, simulate(scenario, seed, replication), replication)


def encode(out: ReplicationOutput, seed: int) -> bytes:
    """A replication's outputs as gzipped JSON, tables as columns + rows."""
    doc = {
        "format": RECORD_FORMAT,
        "seed": seed,
        "replication": out.kpis["replication"],
        "kpis": out.kpis,
        "timeseries": _table(out.timeseries),
        "families": _table(out.families),
        "county_kpis": _table(out.county_kpis),
        "budget": _table(out.budget),
    }
    return gzip.compress(json.dumps(doc, default=_plain, separators=(",", ":")).encode(), compresslevel=1)


def _table(rows: list[dict]) -> dict:
    columns = list(rows[0]) if rows else []
    return {"columns": columns, "data": [list(r.values()) for r in rows]}


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    raise TypeError(f"cannot store {type(x).__name__} in a replication record")


@dataclass
class Record:
    """One replication, decoded: KPIs and its two tables."""

    replication: int
    kpis: dict[str, float]
    timeseries: pd.DataFrame
    families: pd.DataFrame
    county_kpis: pd.DataFrame
    budget: pd.DataFrame


def decode(data: bytes) -> Record:
    doc = json.loads(gzip.decompress(data))
    if doc.get("format") != RECORD_FORMAT:
        raise RunError(f"replication record format {doc.get('format')!r} is not {RECORD_FORMAT}")
    i = doc["replication"]
    ts = pd.DataFrame(doc["timeseries"]["data"], columns=doc["timeseries"]["columns"])
    fams = pd.DataFrame(doc["families"]["data"], columns=doc["families"]["columns"])
    fams.insert(0, "replication", i)
    counties = pd.DataFrame(doc["county_kpis"]["data"], columns=doc["county_kpis"]["columns"])
    budget = pd.DataFrame(doc["budget"]["data"], columns=doc["budget"]["columns"])
    return Record(i, doc["kpis"], ts, fams, counties, budget)


def simulate_chunk(scenario: Scenario, name: str, seed: int, replications: Sequence[int]) -> list[tuple]:
    """The task run by an executor: ``(name, replication, record, seconds)`` for each replication."""
    out = []
    for i in replications:
        t0 = time.perf_counter()
        data = encode(run_replication(scenario, seed, i), seed)
        out.append((name, i, data, time.perf_counter() - t0))
    return out


# --------------------------------------------------------------------------- executors


class Executor:
    """Where tasks run: ``serial`` (this process), or ``dask`` (a ``LocalCluster`` of
    ``workers`` processes, or the cluster at ``scheduler``). ``auto`` is serial for one
    worker (or one task) and no scheduler, Dask otherwise. The cluster starts at the first
    :meth:`stream` that has work and serves every later one; use as a context manager."""

    def __init__(self, workers: int = 1, scheduler: str | None = None, kind: Literal["auto", "serial", "dask"] = "auto"):
        if kind not in ("auto", "serial", "dask"):
            raise ValueError(f"executor {kind!r} is not one of auto, serial, dask")
        if kind == "serial" and scheduler:
            raise ValueError("a serial executor cannot use a scheduler")
        self.workers = max(1, int(workers))
        self.scheduler = scheduler
        self.kind = kind
        self.client = None
        self.cluster = None

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def uses_dask(self, tasks: int) -> bool:
        if self.kind != "auto":
            return self.kind == "dask"
        return self.scheduler is not None or min(self.workers, tasks) > 1

    @property
    def size(self) -> int:
        """Workers available (1 when serial)."""
        if self.client is None:
            return 1
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def _start(self, tasks: int) -> None:
        from dask.distributed import Client, LocalCluster

        if self.scheduler is not None:
            self.client = Client(self.scheduler)
            return
        n = self.workers if self.kind == "dask" else min(self.workers, tasks)
        self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                                    silence_logs=logging.ERROR)
        self.client = Client(self.cluster)

    def stream(self, fn: Callable, items: Iterable[tuple[str, tuple]], on_result: Callable[[str, Any], None],
               retries: int = 3) -> None:
        """Run ``fn(*args)`` for each ``(key, args)``; call ``on_result(key, result)`` as each finishes."""
        items = list(items)
        if not items:
            return
        if self.client is None and self.uses_dask(len(items)):
            self._start(len(items))
        if self.client is None:
            for key, args in items:
                on_result(key, fn(*args))
            return
        from dask.distributed import as_completed

        futures = {self.client.submit(fn, *args, key=key, retries=retries, pure=False): key for key, args in items}
        for fut in as_completed(futures):
            result = fut.result()
            key = futures.pop(fut)
            fut.release()
            on_result(key, result)

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001 - closing must not hide the run's own outcome
                    pass


# --------------------------------------------------------------------------- work folder


class WorkFolder:
    """Finished replications of one run, kept as they arrive so that the run can resume.

    ``work.json`` says which run it is (seed and the hash of each scenario); the records
    are ``replications/<scenario>/<replication>.json.gz``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @classmethod
    def open(cls, path: str | Path, plan: dict, resume: bool) -> WorkFolder:
        """Start a work folder, or continue one with ``resume`` if it belongs to the same run.

        Raises RunError if it exists without ``resume`` (finished replications would be
        lost) or if it belongs to another run (other scenarios or seed)."""
        work = cls(path)
        if work.path.exists():
            stored = work.plan()
            if not resume:
                raise RunError(
                    f"{work.path} holds an unfinished run ({work.count()} replications done); add --resume to "
                    f"continue it, or delete the folder to start again"
                )
            diffs = [f"{k}: {stored.get(k)!r} there, {v!r} now" for k, v in plan.items() if stored.get(k) != v]
            if diffs:
                raise RunError(
                    f"cannot resume from {work.path}: it belongs to another run ({'; '.join(diffs)}); delete it "
                    f"or give another --out"
                )
            for tmp in work.path.rglob(".tmp-*"):
                tmp.unlink(missing_ok=True)
        work._plan = plan
        return work

    _plan: dict | None = None

    def _create(self) -> None:
        """Made at the first saved replication, so a run that finishes none leaves nothing."""
        if not (self.path / "work.json").exists():
            self.path.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.path / "work.json", json.dumps(self._plan or {}, indent=2, sort_keys=True).encode())

    def plan(self) -> dict:
        try:
            return json.loads((self.path / "work.json").read_text())
        except (OSError, ValueError):
            return {}

    def _dir(self, name: str) -> Path:
        return self.path / "replications" / name

    def finished(self, name: str) -> list[int]:
        folder = self._dir(name)
        if not folder.is_dir():
            return []
        return sorted(int(p.name.split(".")[0]) for p in folder.glob("*.json.gz") if p.name.split(".")[0].isdigit())

    def count(self) -> int:
        return sum(1 for _ in (self.path / "replications").glob("*/*.json.gz")) if self.path.exists() else 0

    def save(self, name: str, replication: int, data: bytes) -> None:
        self._create()
        folder = self._dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(folder / f"{replication:06d}.json.gz", data)

    def load(self, name: str, replication: int) -> bytes:
        return (self._dir(name) / f"{replication:06d}.json.gz").read_bytes()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def work_plan(command: str, scenarios: dict[str, Scenario], seed: int) -> dict:
    """What a work folder must match to be resumed."""
    return {"command": command, "seed": seed, "scenarios": {n: scenario_hash(s) for n, s in scenarios.items()},
            "record_format": RECORD_FORMAT}


# --------------------------------------------------------------------------- the grid


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
            for i in work.finished(name):
                have[name][i] = decode(work.load(name, i))
                resumed += 1
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
                info = {**rule.to_dict(), "needed": n, "used": final, "reached": True}
                break
            if target >= rule.max_replications:
                final = target
                info = {**rule.to_dict(), "needed": None, "used": final, "reached": False}
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


# --------------------------------------------------------------------------- results of one scenario


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
    county_kpis: pd.DataFrame = field(default_factory=pd.DataFrame)  # each county's KPIs, per replication
    budget: pd.DataFrame = field(default_factory=pd.DataFrame)  # nominal costs by county and programme year

    @property
    def replications(self) -> int:
        return len(self.kpis)

    def summary(self, confidence: float = 0.95) -> pd.DataFrame:
        """Mean and t-interval of each KPI over replications (index: KPI key)."""
        return summary_table(self.kpis.drop(columns=["replication", "seed"]), confidence)

    def manifest(self) -> dict:
        m = {
            "kind": "run",
            "package": "start-sim",
            "version": __version__,
            "scenario_name": self.scenario.name,
            "scenario_file": self.source,
            "seed": self.seed,
            "replications": self.replications,
            "scenario": self.scenario.to_dict(),
            "scenario_sha256": scenario_hash(self.scenario),
        }
        if self.extra.get("replications_rule"):
            m["replications_rule"] = self.extra["replications_rule"]
        return m

    @classmethod
    def from_records(cls, scenario: Scenario, seed: int, records: Sequence[Record], source: str = "",
                     extra: dict | None = None) -> Results:
        kpis = pd.DataFrame([r.kpis for r in records])
        kpis.insert(0, "seed", seed)
        ts = _concat([r.timeseries for r in records])
        fams = _concat([r.families for r in records])
        return cls(scenario, seed, kpis, ts, fams, source=source, extra=dict(extra or {}),
                   county_kpis=_concat([r.county_kpis for r in records]), budget=_concat([r.budget for r in records]))

    def budget_by_year(self) -> pd.DataFrame:
        """Mean nominal costs by programme year over replications, all counties together."""
        cols = [c for c in self.budget.columns if c not in ("replication", "county", "year")]
        per_rep = self.budget.groupby(["replication", "year"])[cols].sum()
        return per_rep.groupby("year").mean()

    @classmethod
    def read(cls, folder: str | Path, families: bool = False) -> Results:
        """Results written by :meth:`write` (family rows only if ``families``: they are large)."""
        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        if manifest.get("kind", "run") != "run":
            raise RunError(f"{folder} holds a {manifest.get('kind')}, not the results of one run")
        scenario = Scenario.model_validate(manifest["scenario"])
        fams = pd.read_csv(folder / "families.csv") if families else pd.DataFrame()
        extra = {"replications_rule": manifest["replications_rule"]} if manifest.get("replications_rule") else {}
        return cls(scenario, manifest["seed"], pd.read_csv(folder / "kpis.csv"), pd.read_csv(folder / "timeseries.csv"),
                   fams, source=manifest.get("scenario_file", ""), extra=extra,
                   county_kpis=pd.read_csv(folder / "county_kpis.csv"), budget=pd.read_csv(folder / "budget.csv"))

    def write_files(self, folder: Path, report: bool = True) -> None:
        """Write tables, manifest and (with ``report``) figures and report.html into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        self.kpis.to_csv(folder / "kpis.csv", index=False)
        self.summary().to_csv(folder / "summary.csv", index_label="kpi")
        self.timeseries.to_csv(folder / "timeseries.csv", index=False)
        self.families.to_csv(folder / "families.csv", index=False)
        self.county_kpis.to_csv(folder / "county_kpis.csv", index=False)
        self.budget.to_csv(folder / "budget.csv", index=False)
        self.budget_by_year().to_csv(folder / "budget_by_year.csv")
        (folder / "manifest.json").write_text(json.dumps(self.manifest(), indent=2))
        if report:
            from .report import write_run_report

            write_run_report(self, folder)

    def write(self, out: str | Path, plots: bool = True) -> Path:
        """Write CSVs, manifest, figures and report.html to ``out`` (built in a temporary
        folder beside it, then moved into place, so ``out`` is never half-written)."""
        return replace_folder(out, lambda tmp: self.write_files(tmp, report=plots))


def replace_folder(out: str | Path, fill: Callable[[Path], None]) -> Path:
    """Build a folder with ``fill(tmp)`` beside ``out``, then put it in place of ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fill(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    nonempty = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(nonempty, ignore_index=True)


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(json.dumps(scenario.to_dict(), sort_keys=True).encode()).hexdigest()


_hash = scenario_hash  # older name


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


# --------------------------------------------------------------------------- public entry points


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
    """Run ``replications`` (a number, or ``"auto"``: see :mod:`start_sim.precision`) of
    ``scenario`` and collect tidy results.

    ``workers`` > 1 runs on a local Dask cluster, ``scheduler`` on an existing one,
    ``executor="dask"`` forces Dask even for one worker. With ``work`` (a folder), each
    finished replication is kept there and ``resume=True`` continues from it."""
    if work is not None and not isinstance(work, WorkFolder):
        work = WorkFolder.open(work, work_plan("run", {"run": scenario}, seed), resume)
    grid = simulate_grid({"run": scenario}, replications, seed, workers=workers, scheduler=scheduler,
                         executor=executor, progress=progress, work=work, rule=rule, chunk=chunk)
    extra = {"replications_rule": grid.rule} if grid.rule else {}
    extra.update(simulated=grid.simulated, resumed=grid.resumed)
    return Results.from_records(scenario, seed, grid.records["run"], source=source, extra=extra)
