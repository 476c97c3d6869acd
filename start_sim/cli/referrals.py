"""Referral forecast: each county's eligible START referrals a year, from its CPS counts.

A county with a [counties.referral_forecast] table turns its CPS reports (or substantiations)
a year into eligible START referrals: x the share with a child under 6, x the share with
parental substance use as a primary safety risk, x the share who accept START, each with its
uncertainty, growing by its annual trend. This command prints, per county, the mean and the
80% and 95% ranges of the expected referrals, year by year over the horizon; a county that
gives referrals_per_year directly is shown as given. The ranges come from the inputs'
uncertainty; a year's actual count also varies by chance around its expected value."""

from __future__ import annotations

import argparse
from pathlib import Path

from start_sim.cli.common import console, fail, positive_int, seed

HELP = "referral forecast: eligible START referrals a year per county from its CPS counts, with ranges"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("scenario", help="scenario TOML file, e.g. scenarios/kentucky.toml")
    p.add_argument("--years", type=positive_int, default=None,
                   help="programme years to show (default: the scenario's horizon_years, rounded up)")
    p.add_argument("--seed", type=seed, default=1, help="random seed of the forecast's draws (default 1)")
    p.add_argument("--csv", default=None, metavar="FILE",
                   help="also write the table (county, year, mean and quantiles) to this CSV file")


def main(args: argparse.Namespace) -> int:
    from start_sim.analyses.referral_outlook import outlook, outlook_frame
    from start_sim.inputs.files import load_scenario

    scenario = load_scenario(args.scenario)
    outlooks = outlook(scenario, seed=args.seed, years=args.years)
    print_outlook(scenario.name, outlooks)
    if args.csv:
        path = Path(args.csv)
        try:
            outlook_frame(outlooks).to_csv(path, index=False)
        except OSError as exc:
            return fail(f"cannot write {path}: {exc.strerror or exc}", 1)
        print(f"referral forecast written to {path}")
    return 0


def fmt(x: float) -> str:
    """A count of families: whole above 10, one decimal below."""
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


def _words(o) -> str:
    """The forecast's arithmetic in one sentence."""
    fc = o.forecast
    if fc is None:
        return f"{o.county}: {fmt(o.mean_per_year)} eligible referrals a year, as given (referrals_per_year; no range)"
    parts = (f"{fmt(fc.cps_per_year.mean)} CPS {fc.counts} a year x {fc.under6_share.mean:.0%} with a child under 6 "
             f"x {fc.substance_share.mean:.0%} with parental substance use as a primary risk x "
             f"{fc.acceptance_share.mean:.0%} accepting START")
    trend = fc.annual_trend.mean - 1
    grows = "no trend" if abs(trend) < 1e-12 else f"{trend:+.1%} a year"
    how = "drawn per replication in runs" if fc.uncertainty else "runs use the mean (uncertainty = false)"
    return (f"{o.county}: about {fmt(o.mean_per_year)} eligible START referrals a year (sd {fmt(o.sd_per_year)}), "
            f"from {parts}; {grows}; {how}")


def print_outlook(name: str, outlooks) -> None:
    """One table per scenario: county, year, mean, 80% and 95% ranges; then each county's arithmetic."""
    from rich.table import Table

    out = console()
    table = Table(title=f"{name}: eligible START referrals expected per year")
    for col in ("county", "year", "mean", "80% range", "95% range"):
        table.add_column(col, justify="left" if col == "county" else "right")
    for o in outlooks:
        for y in o.years:
            lo95, lo80, _, hi80, hi95 = y.quantiles
            ranges = ("-", "-") if o.forecast is None else (f"{fmt(lo80)} to {fmt(hi80)}", f"{fmt(lo95)} to {fmt(hi95)}")
            table.add_row(o.county if y.year == 1 else "", str(y.year), fmt(y.mean), *ranges)
        table.add_section()
    out.print(table)
    out.print("[bold]How each figure is made[/bold]:")
    for o in outlooks:
        out.print(f"  - {_words(o)}")
    out.print("Ranges: of the expected number, from the uncertainty of the inputs; a year's actual count also varies "
              "by chance (about the square root of the mean either way).")
