"""Costs by programme year, in nominal dollars, for a budget request.

Year ``k`` is days [365.25 k, 365.25 (k+1)) from the start of the run. Staff and training
are the START programme over the horizon (as the ``program_cost`` KPI); treatment, care,
usual-services casework and subsidies are those of the horizon's referred families, in each
arm, in the year they are paid (so care for late referrals runs into the run-out years).
Unlike the cost KPIs these figures are not discounted, and they are at today's unit costs:
``costs.cost_escalation_per_year`` is applied by the fiscal note, not here.

Columns (``_start``: the START run, ``_usual``: the usual-services run of the same families):
``staff``, ``training``; ``treatment_*``; ``placement_*`` = ``maintenance_*`` (per diems) +
``care_casework_*`` (in-care casework and administration); ``placement_avoided``;
``usual_casework_*`` (ongoing usual-services casework); ``subsidy_*`` (adoption assistance and
guardianship subsidies after exit); ``casework_credit`` = ``usual_casework_usual -
usual_casework_start``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from start_sim.core.timebase import DAYS_PER_YEAR as YEAR
from start_sim.outcomes import costs
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


ARM_COLUMNS = ("treatment", "placement", "maintenance", "care_casework", "usual_casework", "subsidy")
"""Columns of both arms, as ``{name}_start`` and ``{name}_usual``."""


def budget_rows(sc: Scenario, parts: list[tuple[CountyRun, dict[str, list[Outcome]]]], replication: int) -> list[dict]:
    """One row per county and programme year: staff and training, then treatment, care,
    casework and subsidies in both arms, and the differences (see the module docstring)."""
    years = sc.programme_years
    H = sc.horizon_days
    c = sc.costs
    rows = []
    pr = costs.prices(c)  # unit prices, computed once
    for run, outs in parts:
        cols = {k: [0.0] * years for k in ("staff", "training", *(f"{n}_{a}" for n in ARM_COLUMNS for a in ("start", "usual")))}
        for p in run.posts:
            if p.hired >= H:
                continue
            _spread(cols["staff"], costs.post_cost_per_day(c, p), p.hired, min(p.left, H))
            cols["training"][int(max(p.hired, 0.0) // YEAR)] += c.training_per_hire
        for arm in ("start", "usual"):
            cases = run.start if arm == "start" else run.usual
            for case, o in zip(cases, outs[arm], strict=True):
                if not in_cohort(case.family, sc):
                    continue
                for day, days in costs.treatment_bills(sc.treatment, case):
                    if day < years * YEAR:
                        cols[f"treatment_{arm}"][int(day // YEAR)] += costs.bill_price(c, case.modality, days)
                for s in o.care:
                    _spread(cols[f"maintenance_{arm}"], pr.maintenance[s.kind] * o.children, s.start, s.end)
                    _spread(cols[f"care_casework_{arm}"], pr.care_casework[s.worked] * o.children, s.start, s.end)
                for a, b in o.casework:
                    _spread(cols[f"usual_casework_{arm}"], pr.usual_casework, a, b)
                for kind, a, b in o.subsidies:
                    _spread(cols[f"subsidy_{arm}"], pr.subsidy[kind] * o.children, a, b)
        for arm in ("start", "usual"):
            cols[f"placement_{arm}"] = [m + w for m, w in zip(cols[f"maintenance_{arm}"], cols[f"care_casework_{arm}"],
                                                               strict=True)]
        for k in range(years):
            row = {"replication": replication, "county": sc.counties[run.county].name, "year": k + 1,
                   **{name: cols[name][k] for name in ("staff", "training", "treatment_start", "treatment_usual",
                                                        "placement_start", "placement_usual")}}
            row["placement_avoided"] = row["placement_usual"] - row["placement_start"]
            for name in ARM_COLUMNS[2:]:
                row[f"{name}_start"], row[f"{name}_usual"] = cols[f"{name}_start"][k], cols[f"{name}_usual"][k]
            row["casework_credit"] = row["usual_casework_usual"] - row["usual_casework_start"]
            rows.append(row)
    return rows
