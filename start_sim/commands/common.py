"""What the subcommands share: argument types, run options, messages and the summary table."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..experiment import Results


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


def seed(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 0 or more")
    return value


def add_run_options(p: argparse.ArgumentParser, replications: int = 20) -> None:
    """--replications, --seed, --workers and --scheduler, as every simulating command takes them."""
    p.add_argument("--replications", "-n", type=positive_int, default=replications,
                   help=f"replications, 1 or more (default {replications})")
    p.add_argument("--seed", type=seed, default=1, help="base random seed, 0 or more (default 1)")
    p.add_argument("--workers", "-w", type=positive_int, default=1,
                   help="Dask worker processes on this machine (1 = serial)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (tcp://host:8786)")


def fail(message: object, status: int = 2) -> int:
    """Print one paragraph on stderr and return the exit status (2: bad input)."""
    print(f"start-sim: {message}", file=sys.stderr)
    return status


def progress(done: int, total: int) -> None:
    """A one-line counter on a terminal; silent when stderr is not one."""
    if sys.stderr.isatty():
        print(f"\rreplications {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def fmt(value: float) -> str:
    """A number as a planner reads it: thousands separators, sensible decimals, '-' for none."""
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


def print_summary(results: Results) -> None:
    """Programme, capacity and cost KPIs, then START vs usual services side by side."""
    from rich.console import Console
    from rich.table import Table

    from ..metrics import METRICS

    s = results.summary()
    console = Console()

    def cell(key: str) -> str:
        if key not in s.index:
            return "-"
        row = s.loc[key]
        return f"{fmt(row['mean'])}  [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"

    cap = Table(title=f"{results.scenario.name}: capacity and costs (mean [95% CI], {results.replications} replications)")
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
