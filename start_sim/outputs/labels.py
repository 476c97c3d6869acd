"""Words for the code names a report would otherwise show: KPI columns (from the registry),
dotted parameter paths (from the schema's field names), benefit-cost outputs, budget columns,
and :func:`plain`, which rewrites any of them found inside a sentence."""

from __future__ import annotations

import re

from start_sim.inputs.schema import Scenario
from start_sim.metrics.registry import METRICS

ARMS = {"start": "START", "usual": "usual services"}

BCA = {
    "net_savings": ("Net savings", "USD (PV)"),
    "savings_per_dollar": ("Savings per $1 (net cost)", "USD per USD"),
    "savings_per_dollar_gross": ("Savings per $1 (gross cost)", "USD per USD"),
    "pv_placement_cost_avoided": ("Care and subsidy cost avoided", "USD (PV)"),
    "pv_program_cost": ("START program cost (gross)", "USD (PV)"),
    "pv_usual_casework_credit": ("Usual casework START replaces", "USD (PV)"),
    "pv_net_program_cost": ("START program cost (net)", "USD (PV)"),
    "pv_extra_treatment_cost": ("Extra treatment cost", "USD (PV)"),
    "pv_cost": ("Cost counted (net program cost, plus extra treatment from the state's view)", "USD (PV)"),
    "placement_days_avoided": ("Child-days in care avoided", "days"),
    "placement_reduction_pp": ("Children placed within 12 months: reduction", "% points"),
    "break_even_reduction_pp": ("Placement reduction that pays for START", "% points"),
}
"""Outputs of :func:`start_sim.analyses.bca.bca`: label and unit."""

BUDGET = {
    "staff": "START staff", "training": "training", "treatment_start": "treatment (START)",
    "placement_start": "care (START)", "placement_usual": "care (usual services)", "placement_avoided": "care avoided",
    "casework_credit": "usual casework replaced", "subsidy_start": "subsidies (START)",
    "subsidy_usual": "subsidies (usual services)",
}
"""Columns of the budget by programme year shown in reports, in order (all of them in budget_by_year.csv)."""

WORDS = {"pv": "present value", "fte": "FTE", "usual": "usual-services", "12m": "12 months", "pp": "points",
         "p90": "90th percentile", "14d": "14 days", "kpi": "KPI"}


def kpi_label(column: str) -> str:
    """A KPI column (``key``, ``key_start`` or ``key_usual``) as its registry label (and arm)."""
    if column in METRICS:
        return METRICS[column].label
    for suffix, arm in ARMS.items():
        base = column.removesuffix(f"_{suffix}")
        if base != column and base in METRICS:
            return f"{METRICS[base].label} ({arm})"
    if column in BCA:
        return BCA[column][0]
    return humanise(column)


def humanise(name: str) -> str:
    """A code name in words: ``casework_per_child_month_in_care`` -> "casework per child month in care"."""
    return " ".join(WORDS.get(w, w) for w in name.replace("-", "_").split("_") if w)


def param_label(path: str) -> str:
    """A dotted parameter path in words, the section last: ``costs.placement_per_child_day.foster`` ->
    "placement per child day, foster (costs)"."""
    parts = [p for p in path.split(".") if p]
    if not parts:
        return path
    section = parts[0] if len(parts) > 1 else ""
    leaf = ", ".join(humanise(p) for p in parts[1:] if not p.isdigit()) if section else humanise(parts[0])
    leaf = leaf[:1].upper() + leaf[1:]
    return f"{leaf} ({humanise(section)})" if section else leaf


_DOTTED = re.compile(r"\b(?:" + "|".join(sorted(Scenario.model_fields, key=len, reverse=True))
                     + r")(?:\.[a-z0-9_]+)+\b")
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def plain(text: str) -> str:
    """``text`` with every dotted path and snake_case code name rewritten in words."""
    text = _DOTTED.sub(lambda m: param_label(m.group(0)), text)
    return _SNAKE.sub(lambda m: kpi_label(m.group(0)), text)
