"""Rewrite the pinned golden-master files: ``python -m tests.golden.regenerate``.

Only for a change that moves the model's results on purpose: commit the new files on their own,
with the reason in the commit message."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from start_sim.cli import main

HERE = Path(__file__).resolve().parent
SCENARIOS = ("workforce", "divert")
FILES = ("kpis.csv", "timeseries.csv", "families.csv", "budget.csv")
SEED = 7
REPLICATIONS = 3


def produce(name: str, out: Path) -> Path:
    """Run the golden scenario ``name`` serially through the command line into ``out``."""
    status = main(["run", str(HERE / f"{name}.toml"), "--replications", str(REPLICATIONS), "--seed", str(SEED),
                   "--workers", "1", "--out", str(out)])
    if status != 0:
        raise RuntimeError(f"golden scenario {name} exited with {status}")
    return out


def regenerate() -> None:
    for name in SCENARIOS:
        with tempfile.TemporaryDirectory() as tmp:
            out = produce(name, Path(tmp) / name)
            target = HERE / name
            target.mkdir(exist_ok=True)
            for f in FILES:
                shutil.copyfile(out / f, target / f)


if __name__ == "__main__":
    regenerate()
