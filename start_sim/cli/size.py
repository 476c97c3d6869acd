"""Staffing search: per county, the smallest number of dyads that meets the service targets.

Targets (give --target once or more; all must hold):

  assigned_within_days=DAYS@SHARE   at least SHARE of the eligible families referred after the
                                    county's launch are assigned to a dyad within DAYS days of
                                    referral (e.g. assigned_within_days=14@0.9)
  diverted_share<=SHARE             at most SHARE of them go to usual services because no slot
                                    opened in time (e.g. diverted_share<=0.05)

A share may be written 0.9 or 90%. Two answers: "at maturity" (the main table), the service
levels of families referred after a warm-up (by default 4 mean case lengths, at least 2
years), in a window as long as the horizon; and "first year after launch", the families
referred in the county's first year from the scenario's starting state. A region's shared dyads
are sized for the region as a whole (simulated together, with its providers), and each of its
counties' service level at that answer is shown. Any other county is sized alone: an analytic estimate
(Little's law and Erlang C, or Erlang B for waitlist_policy = "divert") is confirmed by
simulation on common random numbers (the same families for every candidate count), stepping
down or up to the smallest count whose mean service level over the replications meets every
target. The table shows that count, its staff, utilisation, the service level with its 95%
CI, the share of replications meeting the targets, the annual staff cost and when to open
the posts."""

from __future__ import annotations

import argparse
import math
import sys
import warnings
from contextlib import nullcontext
from pathlib import Path

from start_sim.cli.common import (
    check_size,
    console,
    fail,
    fmt,
    number,
    output_folder,
    positive_int,
    seed,
    share,
    workers,
)

HELP = "staffing search: the fewest dyads per county meeting a service target, with its uncertainty"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/buncombe.toml")
    p.add_argument("--target", "-t", action="append", required=True, metavar="TARGET",
                   help="service target, repeatable (all must hold): assigned_within_days=DAYS@SHARE or "
                        "diverted_share<=SHARE, e.g. --target 'assigned_within_days=14@0.9'")
    p.add_argument("--replications", "-n", type=positive_int, default=20,
                   help="replications per candidate dyad count, the same for every count (default 20)")
    p.add_argument("--seed", type=seed, default=1, help="base random seed, 0 or more (default 1)")
    p.add_argument("--workers", "-w", type=workers, default=1,
                   help="Dask worker processes; 1 (default) runs in this process, which is fast enough for most "
                        "scenarios (a capacity-only replication of a county takes tens of milliseconds)")
    p.add_argument("--confidence", type=share, default=None, metavar="SHARE",
                   help="also require this share of replications to meet every target, e.g. 0.8 or 80%% "
                        "(default: the mean service level meets them)")
    p.add_argument("--as-given", action="store_true",
                   help="use the scenario's staffing dynamics as given; by default a scenario that sets no turnover "
                        "or hiring lag is sized with caseworker turnover 0.3 a year [Casey-turnover], mentor turnover "
                        "0.2 and a gamma hiring lag of mean 60, sd 20 days [assumptions]")
    p.add_argument("--warmup-years", type=number(0, 40, "3"), default=None, metavar="YEARS",
                   help="warm-up before the at-maturity window (default: 4 mean times in START, at least 2 years)")
    p.add_argument("--from-launch", action="store_true",
                   help="measure the main answer from launch to the horizon (no warm-up), as before issue 12")
    p.add_argument("--no-first-year", action="store_true", help="leave out the first-year-after-launch answer")
    p.add_argument("--county", action="append", default=None, metavar="NAME",
                   help="size only this county (repeatable; default: every county)")
    p.add_argument("--out", "-o", default=None,
                   help="write staffing.csv and manifest.json to this folder (created or replaced once done; an "
                        "existing one must be empty or hold start-sim results)")


def main(args: argparse.Namespace) -> int:
    from start_sim.analyses.region_sizing import size_scenario
    from start_sim.analyses.staffing import fill_sizing_defaults, parse_target
    from start_sim.inputs.files import read_scenario_data, validate
    from start_sim.inputs.plausibility import NoDyadsWarning
    from start_sim.outputs.writers import write_sizing

    try:
        targets = [parse_target(t) for t in args.target]
    except ValueError as exc:
        return fail(exc)
    data, origin = read_scenario_data(args.scenario)
    filled = [] if args.as_given else fill_sizing_defaults(data)
    for c in data.get("counties", []) if isinstance(data.get("counties"), list) else []:
        if isinstance(c, dict):
            c.setdefault("dyads", 0)  # size needs no dyads: it finds them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoDyadsWarning)
        scenario = validate(data, file=str(args.scenario), origin=origin, strict=True)
    if filled:
        print("start-sim size: sizing with staffing dynamics the scenario does not set (--as-given to leave them "
              "out): " + "; ".join(filled), file=sys.stderr)
    if args.county:
        names = [c.name for c in scenario.counties]
        unknown = [n for n in args.county if n not in names]
        if unknown:
            return fail(f"--county {', '.join(map(repr, unknown))}: no such county in {args.scenario}; "
                        f"the counties are {', '.join(names)}")
        data = scenario.to_dict()
        data["counties"] = [c for c in data["counties"] if c["name"] in args.county]
        data["regions"] = [r for r in data.get("regions", []) if set(r["counties"]) <= set(args.county)]
        try:
            scenario = scenario.model_validate(data)
        except ValueError as exc:
            return fail(exc)
    out = Path(args.out) if args.out else None
    check_size(scenario, args.replications, args.replications)
    with output_folder(out, "size") if out is not None else nullcontext():
        try:
            sizing = size_scenario(scenario, targets, replications=args.replications, seed=args.seed,
                                   workers=args.workers, confidence=args.confidence,
                                   steady_state=not args.from_launch, first_year=not args.no_first_year,
                                   warmup_years=args.warmup_years)
        except KeyboardInterrupt:
            return fail("interrupted; nothing written", 130)
        print_sizing(sizing)
        if out is not None:
            try:
                write_sizing(sizing, out)
            except OSError as exc:
                return fail(f"cannot write to {out}: {exc.strerror or exc}; nothing written", 1)
            print(f"staffing table written to {out / 'staffing.csv'}")
    return 0


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1%}"


def print_sizing(sizing) -> None:
    """The staffing table (rich), then the hiring schedule and how the answer was found."""
    from rich.table import Table

    out = console()
    goal = "; ".join(t.text for t in sizing.targets)
    if sizing.confidence is not None:
        goal += f" in at least {sizing.confidence:.0%} of replications"
    measured = sizing.counties[0].window.label if sizing.counties else ""
    table = Table(title=f"{sizing.scenario.name}: dyads needed {measured} for {goal} "
                        f"({sizing.replications} replications, seed {sizing.seed})")
    for col, just in (("county", "left"), ("dyads", "right"), ("case-\nworkers", "right"),
                      ("mentors", "right"), ("utili-\nsation", "right")):
        table.add_column(col, justify=just)
    for t in sizing.targets:
        table.add_column(f"{t.label}\nmean [95% CI]", justify="right")
    for col in ("P(meets\ntarget)", "staff cost\nper year", "open posts\nby"):
        table.add_column(col, justify="right")
    for c in sizing.counties:
        levels = [f"{_pct(m)} [{_pct(max(lo, 0.0))}, {_pct(min(hi, 1.0))}]" for m, lo, hi in c.levels]
        needed = f"{c.dyads}" if c.reached else f">{c.dyads} (not met)"
        when = "now" if c.running else (f"day {c.open_posts_day:.0f}")
        table.add_row(c.county, needed, str(c.caseworkers), str(c.mentors), _pct(c.utilisation), *levels,
                      _pct(c.p_meets), f"${fmt(c.annual_cost)}", when)
    if len(sizing.counties) > 1:
        table.add_section()
        table.add_row("total", str(sum(c.dyads for c in sizing.counties)),
                      str(sum(c.caseworkers for c in sizing.counties)), str(sum(c.mentors for c in sizing.counties)),
                      "", *[""] * len(sizing.targets), "", f"${fmt(sum(c.annual_cost for c in sizing.counties))}", "")
    if sizing.counties:
        out.print(table)
    if sizing.first_year:
        print_first_year(sizing, out)
    for r in sizing.regions:
        print_region(r, out)
    out.print("[bold]Hiring schedule[/bold] (posts open hiring lag + training before families are taken):")
    for c in [*sizing.counties, *sizing.regions]:
        out.print(f"  - {c.note()}")
    out.print("[bold]How it was found[/bold]:")
    for c in sizing.counties:
        below = ""
        if c.below is not None:
            below = "; with one dyad fewer: " + ", ".join(
                f"{t.column} {_pct(b)}" for t, b in zip(c.targets, c.below, strict=True))
        floor = f"; at least {c.floor} to hold its open cases" if c.floor > 1 else ""
        out.print(f"  - {c.county}: analytic estimate {c.analytic_dyads} dyads (Erlang on "
                      f"{c.arrival_per_year:.0f} eligible families/yr x {c.mean_days_in_start:.0f} days in START, "
                      f"utilisation {_pct(c.analytic_utilisation)}), simulated "
                      + ", ".join(f"{n}:{'met' if ok else 'missed'}" for n, ok in c.tried.items()) + below + floor)
    for s in sizing.skipped:
        out.print(f"  - note: {s}")
    window = (sizing.counties[0].window.label if sizing.counties else
              sizing.regions[0].window.label if sizing.regions else "from launch to the horizon")
    out.print(f"Service levels count the families referred {window} (eligible, after the county's launch); the "
              "same random numbers for every count. Staff cost: salary + fringe with supervision and overhead, per "
              "year.")


def print_first_year(sizing, out) -> None:
    """The same search in the first year after launch, beside the answer at maturity."""
    from rich.table import Table

    table = Table(title="First year after launch: the same targets for the families referred in the county's first "
                        "year (from the scenario's starting state)")
    for col in ("county", "dyads\nat maturity", "dyads\nfirst year"):
        table.add_column(col, justify="left" if col == "county" else "right")
    for t in sizing.targets:
        table.add_column(f"{t.label}\nfirst year, mean", justify="right")
    mature = {c.county: c for c in sizing.counties}
    for c in sizing.first_year:
        needed = f"{c.dyads}" if c.reached else f">{c.dyads} (not met)"
        table.add_row(c.county, str(mature[c.county].dyads), needed, *(_pct(m) for m, _, _ in c.levels))
    out.print(table)
    if sizing.counties and sizing.counties[0].window.warmup_days > 0:
        warm = ", ".join(f"{c.county} {c.window.warmup_days / 365.25:.1f}" for c in sizing.counties)
        out.print(f"At maturity: families referred after a warm-up of START (years: {warm}), over a window as long "
                  "as the horizon; caseloads fill up over the first years, so the first year's waits are shorter.")


def print_region(r, out) -> None:
    """A region's shared dyads: the answer for all its families, then each county's level at it."""
    from rich.table import Table

    needed = f"{r.dyads}" if r.reached else f">{r.dyads} (not met)"
    first = ""
    if r.first_year is not None:
        f = r.first_year
        first = f"; first year after launch: {f.dyads if f.reached else f'>{f.dyads} (not met)'}"
    table = Table(title=f"Region {r.region}: {needed} shared dyads ({r.mentors} mentors) {r.window.label}{first}; "
                        f"caps {r.caps[0]} (travel share {r.travel_share:.0%}), utilisation {_pct(r.utilisation)}, "
                        f"P(meets target) {_pct(r.p_meets)}, staff cost ${fmt(r.annual_cost)} a year")
    table.add_column("county", justify="left")
    table.add_column("eligible\nper year", justify="right")
    for t in r.targets:
        table.add_column(f"{t.label}\nmean [95% CI]", justify="right")
    if r.first_year is not None:
        for t in r.targets:
            table.add_column(f"{t.label}\nfirst year, {r.first_year.dyads} dyads", justify="right")
    table.add_column("meets\ntarget", justify="right")
    fy = r.first_year.counties if r.first_year is not None else [None] * len(r.counties)
    for c, f in zip(r.counties, fy, strict=True):
        extra = [_pct(m) for m, _, _ in f.levels] if f is not None else []
        table.add_row(c.county, f"{c.arrival_per_year:.1f}", *(f"{_pct(m)} [{_pct(max(lo, 0.0))}, {_pct(min(hi, 1.0))}]"
                                                                for m, lo, hi in c.levels), *extra,
                      "yes" if c.meets else "no")
    table.add_section()
    extra = [_pct(m) for m, _, _ in r.first_year.levels] if r.first_year is not None else []
    table.add_row("region", f"{r.arrival_per_year:.1f}", *(f"{_pct(m)} [{_pct(max(lo, 0.0))}, {_pct(min(hi, 1.0))}]"
                                                           for m, lo, hi in r.levels), *extra, "yes" if r.reached else "no")
    out.print(table)
    below = ""
    if r.below is not None:
        below = "; with one dyad fewer: " + ", ".join(f"{t.column} {_pct(b)}" for t, b in zip(r.targets, r.below, strict=True))
    out.print(f"  - region {r.region}: analytic estimate {r.analytic_dyads} shared dyads (Erlang on {r.arrival_per_year:.0f} "
              f"eligible families/yr x {r.mean_days_in_start:.0f} days in START at the travel-reduced caps, utilisation "
              f"{_pct(r.analytic_utilisation)}), simulated with its counties and providers together "
              + ", ".join(f"{n}:{'met' if ok else 'missed'}" for n, ok in r.tried.items()) + below)
    for s in r.shortfalls():
        out.print(f"  - [bold]{s}[/bold]")
