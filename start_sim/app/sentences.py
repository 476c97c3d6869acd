"""The app's plain sentences: the bottom line of a run is the reports' own
(:mod:`start_sim.outputs.bottom_line`), so the app and ``report.html`` say the same thing."""

from __future__ import annotations

import math

import pandas as pd

from start_sim.inputs.schema import Scenario
from start_sim.outputs import bottom_line as bl

NOISE = "95% interval, simulation noise only"


def bottom_line(scenario: Scenario, summary: pd.DataFrame) -> str:
    """The run report's bottom line as one paragraph (``summary``: :meth:`start_sim.Results.summary`)."""
    return " ".join(bl.run(summary, bl.setting(scenario)).sentences)


def p_positive(kpis: pd.DataFrame, key: str = "net_savings") -> float:
    """Share of replications in which ``key`` is above 0 (simulation noise only)."""
    if key not in kpis or kpis[key].dropna().empty:
        return math.nan
    return float((kpis[key].dropna() > 0).mean())
