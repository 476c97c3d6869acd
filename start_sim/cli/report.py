"""Rebuild the figures and the self-contained report.html of a results folder written by
``start-sim run`` or ``start-sim compare`` (they write it themselves at the end); with
``--uncertainty DIR`` a run's bottom line uses the uncertainty analysis of the same scenario."""

from __future__ import annotations

import argparse
from pathlib import Path

from start_sim.cli.common import fail

HELP = "write report.html and PNG figures for a results folder of run or compare"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a results folder, e.g. results/kentucky or results/cmp")
    p.add_argument("--uncertainty", default=None, metavar="DIR",
                   help="the --out folder of start-sim uncertainty for the same scenario: the run's bottom line then "
                        "quotes its 95%% interval and the chance START saves more than it costs")


def main(args: argparse.Namespace) -> int:
    """A malformed manifest or table is bad input (exit 2, raised as ``RunError``); a file
    that cannot be written exits 1."""
    from start_sim.outputs.report import write_report

    folder = Path(args.folder)
    if not folder.is_dir():
        return fail(f"{folder} is not a folder; give a results folder written by start-sim run or compare")
    try:
        path = write_report(folder, args.uncertainty)
    except KeyError as exc:
        return fail(f"the tables in {folder} are not those start-sim writes (no column {exc}); rerun start-sim run "
                    f"or compare into this folder to write them again")
    except OSError as exc:
        return fail(f"cannot build the report of {folder}: {exc.strerror or exc}", 1)
    print(f"report written to {path}")
    return 0
