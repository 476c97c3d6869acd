"""The app's plain sentences: the bottom line of a run, built from its summary and KPIs."""

from __future__ import annotations

import math

import pandas as pd

from start_sim.inputs.schema import Scenario
from start_sim.outputs.formatting import money, share

NOISE = "95% interval, simulation noise only"


def in_ten(value: float) -> str:
    """A share as "9 in 10 families" (with the percentage), as a planner says it."""
    if value is None or not math.isfinite(value):
        return "no families"
    if value >= 0.995:
        return "all families"
    n = round(value * 10)
    if n >= 10:
        return f"nearly all families ({share(value)})"
    if n <= 0:
        return f"fewer than 1 in 10 families ({share(value)})"
    return f"{n} in 10 families ({share(value)})"


def _dyads(scenario: Scenario) -> str:
    start = sum(c.dyads for c in scenario.counties)
    later = sum(h.caseworkers for c in scenario.counties for h in c.hiring)
    word = "dyad" if start == 1 else "dyads"
    where = "" if len(scenario.counties) == 1 else f" across {len(scenario.counties)} counties"
    grow = f" (and {later} more caseworker posts opened later)" if later else ""
    return f"{start} {word} at launch{where}{grow}"


def bottom_line(scenario: Scenario, summary: pd.DataFrame, kpis: pd.DataFrame | None = None) -> str:
    """One sentence: waits, START's cost (net of the usual casework it replaces when the run
    reports it), the care cost avoided and the net, with the net's 95% interval over replications.

    ``summary``: :meth:`start_sim.Results.summary` (index KPI key; mean, ci_low, ci_high)."""
    def get(key: str, col: str = "mean") -> float:
        return float(summary.at[key, col]) if key in summary.index else math.nan

    net_cost = "net_program_cost" in summary.index
    cost = get("net_program_cost" if net_cost else "program_cost")
    cost_words = "(net of the usual casework it replaces)" if net_cost else "(staff and training)"
    avoided = get("savings_vs_usual")
    net = get("net_savings") if "net_savings" in summary.index else avoided - cost
    years = f"{scenario.horizon_years:g} year" + ("" if scenario.horizon_years == 1 else "s")
    net_words = f"net savings of {money(net)}" if net >= 0 else f"a net cost of {money(-net)}"
    lo, hi = get("net_savings", "ci_low"), get("net_savings", "ci_high")
    interval = f" ({NOISE}: {money(lo)} to {money(hi)})" if math.isfinite(lo) and math.isfinite(hi) else ""
    return (f"With {_dyads(scenario)}, {in_ten(get('share_assigned_within_14d'))} are assigned to a dyad within "
            f"14 days; for the families referred over {years}, START is expected to cost {money(cost)} {cost_words} "
            f"and avoid {money(avoided)} of out-of-home care: {net_words}{interval}.")


def p_positive(kpis: pd.DataFrame, key: str = "net_savings") -> float:
    """Share of replications in which ``key`` is above 0 (simulation noise only)."""
    if key not in kpis or kpis[key].dropna().empty:
        return math.nan
    return float((kpis[key].dropna() > 0).mean())
