"""Compare scenarios on common random numbers: each KPI per scenario and its paired
difference from the first scenario, with 95% confidence intervals; figures and report.html.

All scenarios x replications go to one executor (one Dask cluster). Each finished
replication is kept in OUT.partial/ as it completes; rerun with --resume after an
interruption to continue without redoing them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from start_sim.cli.common import (
    add_run_options,
    check_size,
    console,
    fail,
    fmt,
    output_folder,
    print_stop,
    rule_of,
    simulate_then_write,
    work_folder,
)

HELP = "compare scenarios on the same families: KPIs and paired differences from the first, with CIs"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", help="two or more scenario TOML files; the first is the reference")
    add_run_options(p)
    p.add_argument("--out", "-o", default=None, help="output folder, created or replaced once the run succeeds; an existing one must be empty or "
                        "hold start-sim results (default: results/compare)")


def main(args: argparse.Namespace) -> int:
    from start_sim.experiments.compare import HEADLINE, compare
    from start_sim.experiments.workfolder import WorkFolder, work_plan
    from start_sim.inputs.files import load_scenario
    from start_sim.outputs.writers import write_comparison

    if len(args.scenarios) < 2:
        return fail("compare needs two or more scenario files; the first is the reference")
    loaded = {Path(f).stem: load_scenario(f) for f in args.scenarios}
    if len(loaded) < len(args.scenarios):
        return fail("two scenario files have the same name; give each a distinct file name")
    out = Path(args.out) if args.out else Path("results") / "compare"
    rule = rule_of(args)
    for scenario in loaded.values():
        check_size(scenario, args.replications, args.max_replications)
    sources = {name: os.fspath(src) for name, src in zip(loaded, args.scenarios, strict=True)}
    with output_folder(out, "compare"):
        work = WorkFolder.open(work_folder(out), work_plan("compare", loaded, args.seed, sources), args.resume,
                               say=fail)
        cmp, status = simulate_then_write(
            work,
            lambda bar: compare(loaded, args.replications, args.seed, args.workers, args.scheduler, progress=bar,
                                work=work, rule=rule, sources=sources),
            lambda cmp: write_comparison(cmp, out),
            out,
        )
    if status:
        return status
    _print(cmp.summary(), list(loaded), HEADLINE)
    print_stop(cmp.info.rule)
    if cmp.info.resumed:
        print(f"resumed: {cmp.info.resumed} replications taken from {work.path}/, "
              f"{cmp.info.simulated} simulated now")
    print(f"results written to {out}/ (report: {out / 'report.html'})")
    return 0


def _print(table, names: list[str], headline: tuple[str, ...]) -> None:
    """One block per KPI: each scenario's mean and its paired difference from the reference
    (narrow enough for a terminal or a log, however many scenarios)."""
    from rich.table import Table

    ref = names[0]
    t = Table(title=f"Each scenario and its paired difference from '{ref}' (mean [95% CI]; same families, same draws)")
    for col in ("KPI", "scenario", "mean", f"difference from {ref}"):
        t.add_column(col)
    rows = table.set_index(["kpi", "scenario"])
    for kpi in headline:
        if (kpi, ref) not in rows.index:
            continue
        for j, name in enumerate(names):
            r = rows.loc[(kpi, name)]
            diff = "-" if name == ref else f"{fmt(r['diff_mean'])} [{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]"
            t.add_row(r["label"] if j == 0 else "", name, fmt(r["mean"]), diff, end_section=j == len(names) - 1)
    console().print(t)
