"""Scenario discovery: a Latin hypercube of designs over the levers and uncertainties of a design
file, every design simulated on common random numbers, then PRIM boxes of the inputs where
START's net savings fall below zero or the 14-day service target is missed. Finished
replications are kept in OUT.partial/ as they arrive; after an interruption, rerun the same
command with --resume to continue."""

from __future__ import annotations

import argparse
from pathlib import Path

from start_sim.cli.common import (
    console,
    fail,
    number,
    output_folder,
    positive_int,
    scheduler_address,
    seed,
    simulate_then_write,
    whole,
    work_folder,
    workers,
)

HELP = "scenario discovery: where START stops paying for itself (Latin hypercube + PRIM boxes)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky_calibrated.toml")
    p.add_argument("--design", required=True, help="design TOML file, e.g. scenarios/designs/kentucky_design.toml")
    p.add_argument("--designs", "-n", type=positive_int, default=64, help="designs in the Latin hypercube (default 64)")
    p.add_argument("--replications", "-r", type=whole(1, 1000), default=None,
                   help="replications per design (default: the design file's, 5 if it names none)")
    p.add_argument("--density", type=number(0.05, 1, "0.8"), default=0.8,
                   help="density a box must reach: the share of the designs inside it where the problem happens, "
                        "0.05 to 1 (default 0.8)")
    p.add_argument("--seed", type=seed, default=1, help="random seed (default 1)")
    p.add_argument("--workers", "-w", type=workers, default=1, help="Dask worker processes (1 = serial)")
    p.add_argument("--scheduler", type=scheduler_address, default=None,
                   help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from OUT.partial/")
    p.add_argument("--out", "-o", default=None,
                   help="output folder, created or replaced once done (default results/discover)")


def main(args: argparse.Namespace) -> int:
    """Bad input (scenario, design, posterior, a design that does not fit the scenario) stops before any run."""
    from start_sim.analyses.discovery import design_scenarios, discover, sample
    from start_sim.experiments.workfolder import WorkFolder, work_plan
    from start_sim.inputs.design import load_design
    from start_sim.inputs.feasibility import check_feasible
    from start_sim.inputs.files import load_scenario
    from start_sim.inputs.posterior import load_posterior
    from start_sim.outputs.discovery_report import write_discovery

    scenario = load_scenario(args.scenario)
    design, post_path = load_design(args.design)
    posterior = load_posterior(post_path) if post_path is not None else None
    reps = args.replications or design.replications
    designs = sample(design, args.designs, args.seed, posterior)
    scenarios = design_scenarios(scenario, design, designs, args.design)  # all checked before any run
    for sc in scenarios.values():
        check_feasible(sc, reps)
    out = Path(args.out) if args.out else Path("results") / "discover"
    with output_folder(out, "discover"):
        partial = work_folder(out)
        work = WorkFolder.open(partial, work_plan("discover", scenarios, args.seed), args.resume, say=fail)
        res, status = simulate_then_write(
            work,
            lambda bar: discover(scenario, design, args.designs, args.seed, posterior=posterior, replications=reps,
                                 workers=args.workers, scheduler=args.scheduler, work=work, progress=bar,
                                 density=args.density),
            lambda res: write_discovery(res, out),
            out,
        )
    if status:
        return status
    _print(res)
    if res.info["resumed"]:
        print(f"resumed: {res.info['resumed']} replications taken from {partial}/, {res.info['simulated']} simulated now")
    print(f"results written to {out}/ (report: {out / 'report.html'})")
    return 0


def _print(res) -> None:
    from start_sim.analyses.discovery import QUESTIONS, question
    from start_sim.outputs.discovery_report import box_sentence, no_box_reason

    con = console()
    n = res.info["designs"]
    for q in QUESTIONS:
        text = question(q, res.design.service_target)
        con.print(f"[bold]{text[0].upper()}{text[1:]}[/bold]: in {res.cases[q]} of {n} designs")
        if not res.boxes[q]:
            con.print(f"  no box: {no_box_reason(res, q)}")
        for box in res.boxes[q]:
            con.print(f"  {box_sentence(res, q, box)}", highlight=False)
