"""The ``start-sim`` command: run a scenario and write its results."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .errors import ScenarioError


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 0 or more")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="start-sim", description="Simulate START dyads, caseloads and outcomes.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario: both arms, N replications; write CSVs, plots and a manifest")
    r.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky.toml")
    r.add_argument("--replications", "-n", type=_positive_int, default=20, help="replications, 1 or more (default 20)")
    r.add_argument("--seed", type=_seed, default=1, help="base random seed, 0 or more (default 1)")
    r.add_argument("--workers", "-w", type=_positive_int, default=1,
                   help="Dask worker processes on this machine (1 = serial)")
    r.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (tcp://host:8786)")
    r.add_argument("--out", "-o", default=None,
                   help="output folder, created or replaced once the run succeeds (default: results/<scenario file name>)")
    return p


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    a = abs(value)
    if a >= 10_000:
        return f"{value:,.0f}"
    if a >= 100:
        return f"{value:.0f}"
    if a >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def print_summary(results) -> None:
    """Capacity KPIs, then START vs usual services side by side, then costs."""
    from rich.console import Console
    from rich.table import Table

    from .metrics import METRICS

    s = results.summary()
    console = Console()

    def cell(key: str) -> str:
        if key not in s.index:
            return "-"
        row = s.loc[key]
        return f"{_fmt(row['mean'])}  [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"

    cap = Table(title=f"{results.scenario.name}: capacity (mean [95% CI], {results.replications} replications)")
    cap.add_column("KPI")
    cap.add_column("unit")
    cap.add_column("value")
    out = Table(title="Outcomes of families served by START vs the same families under usual services")
    out.add_column("KPI")
    out.add_column("unit")
    out.add_column("START")
    out.add_column("usual services")
    for m in METRICS.values():
        if m.arms:
            out.add_row(m.label, m.unit, cell(f"{m.key}_start"), cell(f"{m.key}_usual"))
        else:
            cap.add_row(m.label, m.unit, cell(m.key))
    console.print(cap)
    console.print(out)


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\rreplications {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _fail(message: object, status: int = 2) -> int:
    """Print one paragraph on stderr and return the exit status (2: bad input)."""
    print(f"start-sim: {message}", file=sys.stderr)
    return status


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input, 1 cannot write, 130 interrupted).

    Nothing is written unless the run succeeds: bad input stops before the run, and
    :meth:`Results.write` builds the folder aside and moves it into place at the end.
    """
    args = _parser().parse_args(argv)
    from .experiment import run
    from .loader import load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return _fail(exc)
    out = Path(args.out) if args.out else Path("results") / Path(args.scenario).stem
    if out.exists() and not out.is_dir():
        return _fail(f"--out {out} is a file, not a folder; give a folder for the results (it is created or replaced)")
    try:
        results = run(scenario, args.replications, args.seed, args.workers, args.scheduler,
                      progress=_progress, source=os.fspath(args.scenario))
    except ScenarioError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        return _fail("interrupted; nothing written", 130)
    try:
        results.write(out)
    except OSError as exc:
        return _fail(f"cannot write results to {out}: {exc.strerror or exc}; nothing written", 1)
    print_summary(results)
    print(f"results written to {out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
