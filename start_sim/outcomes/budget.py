"""Costs by programme year, in nominal dollars, for a budget request.

Year ``k`` is days [365.25 k, 365.25 (k+1)) from the start of the run. Staff and training
are the START programme over the horizon (as the ``program_cost`` KPI); treatment and
out-of-home care are those of the horizon's referred families, in each arm, in the year
they are paid (so care for late referrals runs into the run-out years). Unlike the cost
KPIs these figures are not discounted: a budget asks for this year's dollars.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from start_sim.core.timebase import DAYS_PER_YEAR as YEAR
from start_sim.outcomes.costs import care_cost_per_child_day, post_cost_per_day
from start_sim.sim.family import in_cohort

if TYPE_CHECKING:
    from start_sim.inputs.schema import Scenario
    from start_sim.outcomes.family_outcomes import Outcome
    from start_sim.sim.replication import CountyRun


def _spread(out: list[float], per_day: float, start: float, end: float) -> None:
    """Add ``per_day`` over [start, end) to the years it falls in."""
    start, end = max(start, 0.0), min(end, len(out) * YEAR)
    k = int(start // YEAR)
    while start < end and k < len(out):
        stop = min(end, (k + 1) * YEAR)
        out[k] += per_day * (stop - start)
        start, k = stop, k + 1


def budget_rows(sc: Scenario, parts: list[tuple[CountyRun, dict[str, list[Outcome]]]], replication: int) -> list[dict]:
    """One row per county and programme year: staff, training, treatment and care in both arms."""
    years = math.ceil(sc.end_days / YEAR)
    H = sc.horizon_days
    c = sc.costs
    rows = []
    for run, outs in parts:
        cols = {k: [0.0] * years for k in ("staff", "training", "treatment_start", "treatment_usual",
                                           "placement_start", "placement_usual")}
        for p in run.posts:
            if p.hired >= H:
                continue
            _spread(cols["staff"], post_cost_per_day(c, p), p.hired, min(p.left, H))
            cols["training"][int(max(p.hired, 0.0) // YEAR)] += c.training_per_hire
        for arm in ("start", "usual"):
            cases = run.start if arm == "start" else run.usual
            for case, o in zip(cases, outs[arm], strict=True):
                f = case.family
                if not in_cohort(f, sc):
                    continue
                if not math.isnan(case.tx_start_day) and case.tx_start_day < years * YEAR:
                    cols[f"treatment_{arm}"][int(case.tx_start_day // YEAR)] += getattr(c.treatment_per_episode,
                                                                                       case.modality)
                window_end = f.referral_day + sc.runout_years * YEAR
                for ep in o.episodes:
                    _spread(cols[f"placement_{arm}"], care_cost_per_child_day(c, ep.kind) * o.children,
                            max(ep.start, f.referral_day), min(ep.end, window_end))
        for k in range(years):
            row = {"replication": replication, "county": sc.counties[run.county].name, "year": k + 1,
                   **{name: values[k] for name, values in cols.items()}}
            row["placement_avoided"] = row["placement_usual"] - row["placement_start"]
            rows.append(row)
    return rows
