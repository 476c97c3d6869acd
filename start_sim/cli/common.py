"""What the subcommands share: argument types, run options, messages and the summary table."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from start_sim.outputs.formatting import fmt
from start_sim.outputs.labels import BUDGET

if TYPE_CHECKING:
    from start_sim.experiments.results import Results


MAX_COUNT = 1_000_000
"""The largest count (replications, draws, design points...) an option accepts."""
MAX_SEED = 2**32 - 1


def _whole(text: str, minimum: int, maximum: int = MAX_COUNT, auto: bool = False) -> int | str:
    """A whole number from ``minimum`` to ``maximum`` (or, with ``auto``, the word 'auto')."""
    if auto and text.strip().lower() == "auto":
        return "auto"
    alt = " (or 'auto')" if auto else ""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{alt}") from None
    if not minimum <= value <= maximum:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give a whole number from {minimum} to {maximum:,}"
                                         + (", or 'auto'" if auto else ""))
    return value


def whole(minimum: int, maximum: int = MAX_COUNT):
    """An argparse type: a whole number from ``minimum`` to ``maximum``."""
    return lambda text: _whole(text, minimum, maximum)


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more (up to ``MAX_COUNT``)."""
    return _whole(text, 1)


def seed(text: str) -> int:
    """An argparse type: a whole number from 0 to 2**32 - 1."""
    return _whole(text, 0, MAX_SEED)


def replications(text: str) -> int | str:
    """An argparse type: a whole number, 1 or more, or ``auto``."""
    return _whole(text, 1, auto=True)


def workers(text: str) -> int:
    """An argparse type: worker processes, 1 to 256 (each is a process on this machine)."""
    return _whole(text, 1, 256)


def number(low: float, high: float, example: str):
    """An argparse type: a finite number from ``low`` to ``high`` (``inf`` and ``nan`` are refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:  # also false for nan
            raise argparse.ArgumentTypeError(f"{text} is not allowed: give a number from {low:g} to {high:g}, "
                                             f"e.g. {example}")
        return value

    return parse


_ADDRESS = re.compile(r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$")


def scheduler_address(text: str) -> str:
    """An argparse type: a Dask scheduler address, ``[tcp://]host:port``."""
    m = _ADDRESS.match(text.strip())
    if m is None or not 1 <= int(m.group(1)) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address: give tcp://HOST:PORT, e.g. "
                                         f"tcp://10.0.0.5:8786 (the address the Dask scheduler prints)")
    return text.strip()


def share(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not allowed: give a share between 0 and 1, e.g. 0.05")
    return value


def all_cores() -> int:
    return os.cpu_count() or 1


def add_run_options(p: argparse.ArgumentParser, replications_default: int = 20) -> None:
    """--replications (or auto, with --precision), --seed, --workers, --scheduler and
    --resume, as every simulating command takes them."""
    p.add_argument("--replications", "-n", type=replications, default=replications_default,
                   help=f"replications, 1 or more, or 'auto' to run until --precision is reached (default "
                        f"{replications_default})")
    p.add_argument("--precision", type=share, default=0.05,
                   help="with --replications auto: the 95%% CI half-width as a share of the mean that every watched "
                        "KPI must reach, and keep for 5 more replications (default 0.05)")
    p.add_argument("--precision-kpis", default=None, metavar="KPI,KPI",
                   help="with --replications auto: the KPIs to watch (default: " + ", ".join(_default_kpis()) + ")")
    p.add_argument("--max-replications", type=positive_int, default=1000,
                   help="with --replications auto: stop here even if the precision is not reached (default 1000)")
    p.add_argument("--seed", type=seed, default=1, help="base random seed, 0 or more (default 1)")
    p.add_argument("--workers", "-w", type=workers, default=all_cores(),
                   help=f"Dask worker processes on this machine; 1 runs in this process (default: all cores, "
                        f"{all_cores()} here)")
    p.add_argument("--scheduler", type=scheduler_address, default=None,
                   help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from OUT.partial/ without redoing its finished replications")


def _default_kpis() -> tuple[str, ...]:
    from start_sim.experiments.precision import DEFAULT_KPIS

    return DEFAULT_KPIS


def rule_of(args: argparse.Namespace):
    """The replications rule the options ask for (``RunError`` with a message if they are wrong)."""
    from start_sim.core.errors import RunError
    from start_sim.experiments.precision import ReplicationsRule
    from start_sim.metrics.registry import kpi_columns

    kpis = tuple(k.strip() for k in args.precision_kpis.split(",") if k.strip()) if args.precision_kpis else _default_kpis()
    known = set(kpi_columns())
    unknown = [k for k in kpis if k not in known]
    if unknown:
        import difflib

        hints = [f"{k!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, known, 1)) else "")
                 for k in unknown]
        raise RunError(f"--precision-kpis: unknown KPI {', '.join(hints)}")
    return ReplicationsRule(precision=args.precision, kpis=kpis, max_replications=max(args.max_replications, 10))


@contextmanager
def output_folder(out: Path, command: str) -> Iterator[None]:
    """Check that ``out`` may be replaced (``FolderError``), hold its lock ``OUT.lock`` for
    the whole run (``RunError`` if another run holds it) and remove what a killed run left."""
    from start_sim.experiments.lock import RunLock
    from start_sim.outputs.folders import check_out, clean_leftovers

    check_out(out)
    with RunLock(out, command, say=fail):
        clean_leftovers(out)
        yield


def check_size(scenario, replications: int | str, max_replications: int) -> None:
    """Refuse (``ScenarioError``) a run too large for this machine before simulating anything:
    ``replications``, or ``max_replications`` under ``auto`` (the most it may keep)."""
    from start_sim.inputs.feasibility import check_feasible

    check_feasible(scenario, max_replications if replications == "auto" else replications)


def work_folder(out: Path) -> Path:
    """Where a run keeps its finished replications until its results are written."""
    return out.with_name(out.name + ".partial")


def console():
    """A rich console: the terminal's width, or 120 columns when output goes to a file or log
    (rich would otherwise wrap tables at 80)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=120)


def fail(message: object, status: int = 2) -> int:
    """Print one paragraph on stderr and return the exit status (2: bad input)."""
    print(f"start-sim: {message}", file=sys.stderr)
    return status


class ProgressBar:
    """Replications done, rate and time left on a terminal (rich); silent when stderr is not one.

    Use as a context manager and pass it as ``progress``: it is called with (done, total)."""

    def __init__(self, what: str = "replications"):
        self.what = what
        self.enabled = sys.stderr.isatty()
        self._bar = None
        self._task = None

    def __enter__(self) -> ProgressBar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                console=Console(stderr=True), transient=False,
            )
            self._bar.start()
        return self

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            return
        if self._task is None:
            self._task = self._bar.add_task(self.what, total=total, completed=done, rate="")
            self._start = (done, time.monotonic())
            return
        d0, t0 = self._start
        elapsed = time.monotonic() - t0
        rate = f"{(done - d0) / elapsed:.1f}/s" if elapsed > 0 and done > d0 else ""
        self._bar.update(self._task, total=total, completed=done, rate=rate)

    def describe(self, what: str) -> None:
        """Change the text in front of the bar (e.g. the phase of an analysis)."""
        self.what = what
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, description=what)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def summary_cell(summary: Any, key: str) -> str:
    """A KPI's mean and 95% CI from a ``Results.summary()`` table, or "-" if it has none."""
    if key not in summary.index:
        return "-"
    row = summary.loc[key]
    return f"{fmt(row['mean'])}  [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"


def print_summary(results: Results, skip: frozenset[str] = frozenset()) -> None:
    """Programme, capacity and cost KPIs, then START vs usual services side by side (without the
    arm-wise KPIs in ``skip``, which the caller shows in a table of their own)."""
    from rich.table import Table

    from start_sim.metrics.registry import METRICS

    s = results.summary()

    def cell(key: str) -> str:
        return summary_cell(s, key)

    cap = Table(title=f"{results.scenario.name}: capacity and costs (mean [95% CI], {results.replications} replications)")
    cap.add_column("KPI")
    cap.add_column("unit")
    cap.add_column("value")
    outcomes = Table(title="Outcomes of families served by START vs the same families under usual services")
    outcomes.add_column("KPI")
    outcomes.add_column("unit")
    outcomes.add_column("START")
    outcomes.add_column("usual services")
    for m in METRICS.values():
        if m.arms and m.key in skip:
            continue
        if m.arms:
            outcomes.add_row(m.label, m.unit, cell(f"{m.key}_start"), cell(f"{m.key}_usual"))
        else:
            cap.add_row(m.label, m.unit, cell(m.key))
    con = console()
    con.print(cap)
    con.print(outcomes)


def print_budget(results: Results) -> None:
    """Nominal costs by programme year (mean over replications), ready for a budget request."""
    from rich.table import Table

    b = results.budget_by_year()
    t = Table(title=f"{results.scenario.name}: costs by programme year (nominal, thousands of USD, mean of "
                    f"{results.replications} replications; care and treatment of families referred within the horizon)")
    terminal = ("staff", "training", "treatment_start", "placement_start", "placement_usual", "placement_avoided")
    cols = {key: BUDGET[key] for key in terminal}  # the report's labels; the terminal shows six columns
    t.add_column("year")
    for label in cols.values():
        t.add_column(label, justify="right")
    def k(value: float) -> str:
        return f"{value / 1000:,.0f}"

    for year, row in b.iterrows():
        t.add_row(str(year), *(k(row[c]) for c in cols))
    t.add_row("total", *(k(b[c].sum()) for c in cols), end_section=True)
    console().print(t)


def print_fiscal(results: Results) -> None:
    """The fiscal note by programme year and payer (mean over replications, nominal, escalated)."""
    from rich.table import Table

    from start_sim.outputs.fiscal_table import ITEMS, by_year_and_payer, rows_of

    t = by_year_and_payer(rows_of(results)[0])
    table = Table(title=f"{results.scenario.name}: fiscal note by payer (nominal, escalated, thousands of USD, mean "
                        f"of {results.replications} replications; net = savings - costs; fiscal_note.csv by county)")
    table.add_column("year")
    table.add_column("payer")
    for label in ITEMS.values():
        table.add_column(label, justify="right")
    for year, group in t.groupby("year", sort=False):
        for i, (_, r) in enumerate(group.iterrows()):
            table.add_row(str(year), r["payer"], *(f"{r[k] / 1000:,.0f}" for k in ITEMS), end_section=i == len(group) - 1)
    for payer, r in t.groupby("payer", sort=False)[list(ITEMS)].sum().iterrows():
        table.add_row("total", str(payer), *(f"{r[k] / 1000:,.0f}" for k in ITEMS))
    console().print(table)


def print_stop(rule: dict | None) -> None:
    """Why a ``--replications auto`` run stopped (nothing for a fixed number); the manifest's
    ``replications_rule`` records the same."""
    if rule and "stopped_by" in rule:
        from start_sim.experiments.precision import describe_stop

        print(describe_stop(rule))


def interrupted(work) -> int:
    """Exit status 130; say what was kept for --resume (an empty work folder is removed)."""
    n = work.count()
    if n == 0:
        work.discard()
        return fail("interrupted; nothing written", 130)
    return fail(f"interrupted; {n} finished replications kept in {work.path}/: rerun the same command with "
                f"--resume to continue", 130)


def kept(work) -> None:
    """After a failure: tell where the finished replications are."""
    n = work.count()
    if n == 0:
        work.discard()
    else:
        fail(f"{n} finished replications kept in {work.path}/; rerun with --resume to reuse them")


def simulate_then_write(work, simulate: Callable, write: Callable, out: Path) -> tuple[Any, int]:
    """``simulate(progress_bar)`` keeping finished replications in ``work``, then ``write(result)``.

    Returns (result, 0), or (None, exit status) once the message is printed: 2 bad input,
    130 interrupted, 1 cannot keep or write files. After a failure the finished replications
    stay in ``work`` for --resume; after success ``work`` is removed.
    """
    from start_sim.core.errors import RunError, ScenarioError
    from start_sim.outputs.folders import FolderError

    failure = f"cannot keep replications in {work.path}: {{}}"
    try:
        with ProgressBar() as bar:
            result = simulate(bar)
        failure = f"cannot write results to {out}: {{}}; nothing written"
        write(result)
    except ScenarioError as exc:
        return None, fail(exc)
    except (RunError, FolderError) as exc:
        status = fail(exc)
        kept(work)
        return None, status
    except KeyboardInterrupt:
        return None, interrupted(work)
    except OSError as exc:
        status = fail(failure.format(exc.strerror or exc), 1)
        kept(work)
        return None, status
    except BaseException:
        kept(work)
        raise
    work.discard()
    return result, 0
