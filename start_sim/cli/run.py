"""Run one scenario: both arms, N replications (or enough for a chosen precision); write
CSVs, figures, report.html and a manifest.

Each finished replication is kept in OUT.partial/ as it completes; the results folder OUT is
built at the end and moved into place, and OUT.partial/ removed. If the run is interrupted
(Ctrl-C, a killed process), rerun the same command with --resume to continue it."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from start_sim.cli.closure import closure_keys, print_dispositions
from start_sim.cli.common import (
    add_run_options,
    check_size,
    fail,
    output_folder,
    print_budget,
    print_fiscal,
    print_stop,
    print_summary,
    rule_of,
    simulate_then_write,
    work_folder,
)

HELP = "run a scenario: both arms, N replications; write CSVs, figures, report.html and a manifest"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky.toml")
    add_run_options(p)
    p.add_argument("--out", "-o", default=None,
                   help="output folder, created or replaced once the run succeeds; an existing one must be empty or "
                        "hold start-sim results (default: results/<scenario file name>)")


def main(args: argparse.Namespace) -> int:
    """Nothing is written on bad input: it stops before the run (bad input raises, and
    :func:`start_sim.cli.main` prints it). OUT must be new, empty or a start-sim results folder,
    and is locked (OUT.lock) for the run. Finished replications go to OUT.partial/ as they
    arrive; :func:`write_run` builds OUT aside and moves it into place."""
    from start_sim.experiments.runner import run
    from start_sim.experiments.workfolder import WorkFolder, work_plan
    from start_sim.inputs.files import load_scenario
    from start_sim.outputs.writers import write_run

    scenario = load_scenario(args.scenario)
    out = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    rule = rule_of(args)
    check_size(scenario, args.replications, args.max_replications)
    with output_folder(out, "run"):
        partial = work_folder(out)
        work = WorkFolder.open(partial, work_plan("run", {"run": scenario}, args.seed, {"run": args.scenario}),
                               args.resume, say=fail)
        results, status = simulate_then_write(
            work,
            lambda bar: run(scenario, args.replications, args.seed, args.workers, args.scheduler,
                            progress=bar, source=os.fspath(args.scenario), work=work, rule=rule),
            lambda results: write_run(results, out),
            out,
        )
    if status:
        return status
    print_summary(results, skip=closure_keys())
    print_dispositions(results)
    if results.scenario.regions:
        from start_sim.cli.region_table import print_regions

        print_regions(results)
    print_budget(results)
    print_fiscal(results)
    print_stop(results.info.rule)
    if results.info.resumed:
        print(f"resumed: {results.info.resumed} replications taken from {partial}/, "
              f"{results.info.simulated} simulated now")
    print(f"results written to {out}/ (report: {out / 'report.html'})")
    return 0

