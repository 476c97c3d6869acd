"""Run one scenario: both arms, N replications; write CSVs, plots and a manifest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import ScenarioError
from .common import add_run_options, fail, print_summary, progress

HELP = "run a scenario: both arms, N replications; write CSVs, plots and a manifest"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky.toml")
    add_run_options(p)
    p.add_argument("--out", "-o", default=None,
                   help="output folder, created or replaced once the run succeeds (default: results/<scenario file name>)")


def main(args: argparse.Namespace) -> int:
    """Nothing is written unless the run succeeds: bad input stops before the run, and
    :meth:`Results.write` builds the folder aside and moves it into place at the end."""
    from .. import experiment
    from ..loader import load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return fail(exc)
    out = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    if out.exists() and not out.is_dir():
        return fail(f"--out {out} is a file, not a folder; give a folder for the results (it is created or replaced)")
    try:
        results = experiment.run(scenario, args.replications, args.seed, args.workers, args.scheduler,
                                 progress=progress, source=os.fspath(args.scenario))
    except ScenarioError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        return fail("interrupted; nothing written", 130)
    try:
        results.write(out)
    except OSError as exc:
        return fail(f"cannot write results to {out}: {exc.strerror or exc}; nothing written", 1)
    print_summary(results)
    print(f"results written to {out}/")
    return 0
