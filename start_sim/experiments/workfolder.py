"""Finished replications of one run, kept on disk as they arrive so that the run can resume."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from start_sim.core.errors import RunError
from start_sim.experiments.records import READABLE_FORMATS, RECORD_FORMAT, Record, decode, scenario_hash
from start_sim.inputs.schema import Scenario


class WorkFolder:
    """Finished replications of one run, kept as they arrive so that the run can resume.

    ``work.json`` says which run it is (seed and the hash of each scenario); the records
    are ``replications/<scenario>/<replication>.json.gz``. ``say`` receives the notes about
    records that cannot be reused (they are deleted and simulated again)."""

    def __init__(self, path: str | Path, say: Callable[[str], None] = lambda _: None):
        self.path = Path(path)
        self.say = say

    @classmethod
    def open(cls, path: str | Path, plan: dict, resume: bool, say: Callable[[str], None] = lambda _: None) -> WorkFolder:
        """Start a work folder, or continue one with ``resume`` if it belongs to the same run.

        Raises RunError if it exists without ``resume`` (finished replications would be
        lost) or if it belongs to another run (other scenarios or seed)."""
        work = cls(path, say)
        if work.path.exists():
            if not resume:
                raise RunError(
                    f"{work.path} holds an unfinished run ({work.count()} replications done); add --resume to "
                    f"continue it, or delete the folder to start again"
                )
            diffs = _differences(work.plan(), plan)
            if diffs:
                raise RunError(f"cannot resume from {work.path}: it belongs to another run ({'; '.join(diffs)}). "
                               f"Rerun with the options of that run, or delete {work.path} to start again")
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
            doc = json.loads((self.path / "work.json").read_text())
        except (OSError, ValueError):
            return {}
        return doc if isinstance(doc, dict) else {}

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

    def records(self, name: str, scenario: Scenario, seed: int) -> dict[int, Record]:
        """The reusable records of ``name``: each is checked against the run (scenario, seed,
        replication); a damaged, truncated or foreign one is reported, deleted and left to simulate."""
        sha = scenario_hash(scenario)
        good: dict[int, Record] = {}
        for i in self.finished(name):
            path = self._dir(name) / f"{i:06d}.json.gz"
            try:
                rec = decode(self.load(name, i))
            except (OSError, RunError) as exc:
                problem = f"it is damaged or truncated ({getattr(exc, 'strerror', None) or exc})"
            else:
                problem = _mismatch(rec, i, sha, seed)
                if problem is None:
                    good[i] = rec
                    continue
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                raise RunError(f"replication record {path} cannot be used ({problem}) nor deleted "
                               f"({exc.strerror or exc}); delete it and rerun with --resume") from None
            self.say(f"note: replication record {path} cannot be reused: {problem}; it is simulated again")
        return good

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _mismatch(rec: Record, replication: int, sha: str, seed: int) -> str | None:
    """Why a decoded record does not belong to this run, or None."""
    if rec.replication != replication:
        return f"it holds replication {rec.replication}, not {replication}"
    if rec.seed != seed:
        return f"it was simulated with --seed {rec.seed}, not {seed} (another run wrote into this folder)"
    if rec.scenario_sha is not None and rec.scenario_sha != sha:
        return "it was simulated from other scenario values than this run's"
    return None


def _differences(stored: dict, plan: dict) -> list[str]:
    """In words, how the run stored in a work folder differs from this one."""
    if not stored:
        return ["its work.json is missing or damaged, so it cannot be matched to this run"]
    out = []
    if stored.get("command") != plan["command"]:
        out.append(f"it was started by `start-sim {stored.get('command')}`, not `start-sim {plan['command']}`")
    if stored.get("seed") != plan["seed"]:
        out.append(f"it was run with --seed {stored.get('seed')}, this run has --seed {plan['seed']}")
    old, new = stored.get("scenarios") or {}, plan["scenarios"]
    sources = plan.get("sources") or {}
    if set(old) != set(new):
        out.append(f"it holds the scenarios {', '.join(sorted(old)) or 'none'}, this run "
                   f"{', '.join(sorted(new))}")
    else:
        for name in new:
            if old[name] != new[name]:
                what = f"the scenario file {sources[name]}" if sources.get(name) else f"scenario {name!r}"
                out.append(f"{what} has changed since that run started (or a file it extends has)")
    if stored.get("record_format") not in READABLE_FORMATS:
        out.append("it was written by another version of start-sim")
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    """Write, fsync, rename into place, fsync the folder: after a crash the file is whole or absent."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # a folder cannot be opened on every system (Windows); the rename is done
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def work_plan(command: str, scenarios: dict[str, Scenario], seed: int, sources: dict[str, str] | None = None) -> dict:
    """What a work folder must match to be resumed; ``sources`` (the scenario files) only names them in messages."""
    plan = {"command": command, "seed": seed, "scenarios": {n: scenario_hash(s) for n, s in scenarios.items()},
            "record_format": RECORD_FORMAT}
    if sources:
        plan["sources"] = dict(sources)
    return plan
