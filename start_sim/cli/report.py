"""Rebuild the figures and the self-contained report.html of a results folder written by
``start-sim run`` or ``start-sim compare`` (they write it themselves at the end)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from start_sim.cli.common import fail

HELP = "write report.html and PNG figures for a results folder of run or compare"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a results folder, e.g. results/kentucky or results/cmp")


def main(args: argparse.Namespace) -> int:
    from start_sim.outputs.report import write_report

    folder = Path(args.folder)
    if not (folder / "manifest.json").is_file():
        return fail(f"{folder} is not a results folder: it has no manifest.json (write one with start-sim run or compare)")
    try:
        path = write_report(folder)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        return fail(f"cannot build the report of {folder}: {exc}", 1)
    print(f"report written to {path}")
    return 0
