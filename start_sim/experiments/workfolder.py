"""Finished replications of one run, kept on disk as they arrive so that the run can resume."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from start_sim.core.errors import RunError
from start_sim.experiments.records import RECORD_FORMAT, scenario_hash
from start_sim.inputs.schema import Scenario


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


