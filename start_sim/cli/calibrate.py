"""Fit free parameters to observed START outcomes (targets file), with a posterior; write
the fitted scenario fragment, posterior draws and DIR/report.html."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from start_sim.cli.common import (
    ProgressBar,
    console,
    fail,
    fmt,
    output_folder,
    positive_int,
    scheduler_address,
    seed,
    whole,
    workers,
)
from start_sim.cli.phases import PhaseProgress
from start_sim.core.errors import ScenarioError

BUDGET = {"design-points": 100_000, "starts": 1_000, "maxfev": 100_000, "local-points": 100_000,
          "posterior-points": 1_000_000, "posterior-draws": 1_000_000}
"""The budget overrides and the largest value each accepts."""


HELP = "calibrate free parameters to observed targets (Sobol + Nelder-Mead fit, SIR posterior); write a report"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario TOML file to calibrate, e.g. scenarios/kentucky.toml")
    p.add_argument("--targets", "-t", default="calibration/targets.toml", help="targets and priors (TOML)")
    p.add_argument("--out", "-o", default="results/calibration",
                   help="output folder, created or replaced once done; an existing one must be empty or hold "
                        "start-sim results (default results/calibration)")
    p.add_argument("--fragment", default=None,
                   help="where to write the calibrated scenario fragment (default DIR/calibrated.toml)")
    p.add_argument("--posterior-csv", default=None, help="also copy the posterior draws to this CSV")
    p.add_argument("--replications", "-n", type=positive_int, default=None,
                   help="replications per evaluation (default: the targets file's [calibration])")
    p.add_argument("--seed", type=seed, default=None, help="common random-number seed (default: targets file)")
    p.add_argument("--workers", "-w", type=workers, default=1, help="Dask worker processes (1 = serial)")
    p.add_argument("--scheduler", type=scheduler_address, default=None,
                   help="address of an existing Dask scheduler (tcp://host:8786)")
    for name, most in BUDGET.items():
        p.add_argument(f"--{name}", type=whole(1, most), default=None,
                       help=f"budget override, 1 to {most:,} (see [calibration])")


def main(args: argparse.Namespace) -> int:
    """Bad input stops before the fit; the folder is built aside and moved into place, with a manifest."""
    from start_sim.analyses.calibration import calibrate
    from start_sim.inputs.files import load_scenario
    from start_sim.inputs.targets import load_targets
    from start_sim.outputs.folders import check_file
    from start_sim.outputs.writers import write_calibration_folder

    scenario = load_scenario(args.scenario)
    try:
        targets = load_targets(args.targets)
    except ScenarioError as exc:
        return fail(exc)
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        return fail(f"cannot read the targets file {args.targets}: {getattr(exc, 'strerror', None) or exc}; it must "
                    f"be a TOML file of [parameters] and [[targets]] like calibration/targets.toml")
    out = Path(args.out)
    if args.fragment:
        check_file(Path(args.fragment), "--fragment", is_fragment_header)
    if args.posterior_csv:
        check_file(Path(args.posterior_csv), "--posterior-csv", is_posterior_header)
    budget = {k.replace("-", "_"): getattr(args, k.replace("-", "_")) for k in BUDGET}
    budget = {k: v for k, v in budget.items() if v is not None}
    with output_folder(out, "calibrate"):
        try:
            with ProgressBar("calibrate") as bar:  # phases: design, Nelder-Mead, posterior
                say = PhaseProgress(bar, "calibrate", 3)
                res = calibrate(scenario, targets, replications=args.replications, seed=args.seed,
                                workers=args.workers, scheduler=args.scheduler, budget=budget, progress=say)
                say.finish()
        except KeyboardInterrupt:
            return fail("interrupted; nothing written", 130)
        try:
            frag = write_calibration_folder(res, out, os.fspath(args.scenario), args.fragment)
            if args.posterior_csv:
                Path(args.posterior_csv).parent.mkdir(parents=True, exist_ok=True)
                res.posterior.to_csv(args.posterior_csv, index=False)
        except OSError as exc:
            return fail(f"cannot write to {out}: {exc.strerror or exc}; nothing written", 1)
    _print(res)
    print(f"calibrated fragment {frag}; report {out / 'report.html'} ({res.seconds / 60:.1f} min)")
    return 0


def is_fragment_header(first_line: str) -> bool:
    """The first line of a fragment that ``calibrate`` wrote (so it may be replaced)."""
    return "written by `start-sim calibrate`" in first_line


def is_posterior_header(first_line: str) -> bool:
    """The column names of a posterior CSV that ``calibrate`` wrote (so it may be replaced)."""
    return first_line.startswith("draw,particle,")


def _print(res) -> None:
    from rich.table import Table

    t = Table(title=f"Targets vs simulated (best fit; 95% posterior interval); deviance {res.best_deviance:.2f}, "
                    f"ESS {res.ess:.0f}")
    for c in ("target", "KPI", "observed [interval]", "best fit", "posterior 95%", "inside"):
        t.add_column(c)
    for r in res.fit.itertuples():
        t.add_row(f"{r.target} {r.arm}", r.kpi, f"{fmt(r.observed)} [{fmt(r.low)}, {fmt(r.high)}]", fmt(r.best),
                  f"[{fmt(r.post_low)}, {fmt(r.post_high)}]", "yes" if r.inside else "NO")
    p = Table(title="Free parameters")
    for c in ("parameter", "prior", "best fit", "posterior 95%"):
        p.add_column(c)
    for par in res.target_set.parameters:
        q = res.posterior[par.path].quantile([0.025, 0.975])
        p.add_row(par.path, f"[{fmt(par.low)}, {fmt(par.high)}]", fmt(res.best[par.path]),
                  f"[{fmt(q.iloc[0])}, {fmt(q.iloc[1])}]")
    console().print(t)
    console().print(p)
