"""The fiscal note of a run as tables: by programme year and payer (HTML for the report, rows
for the command line), from :mod:`start_sim.outcomes.fiscal`."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from start_sim.experiments.manifests import read_table
from start_sim.outcomes import fiscal
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape as _e
from start_sim.outputs.html import table

if TYPE_CHECKING:
    from start_sim.experiments.results import Results

ITEMS = {"start_cost": "START cost", "extra_treatment": "extra treatment", "casework_credit": "casework credit",
         "care_cost_avoided": "care cost avoided", "subsidy_avoided": "subsidies avoided", "net": "net"}


def rows_of(results: Results, folder: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fiscal note of every replication and the family rows it used (read from ``folder`` when
    the results were read without them)."""
    families = results.families
    if families.empty and folder is not None and (folder / "families.csv").exists():
        families = read_table(folder, "families.csv")
    return fiscal.fiscal_rows(results.scenario, results.budget, results.timeseries, families), families


def by_year_and_payer(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over replications of each item and the net, by year and payer (all counties), with the
    share of replications in which the payer's net saving that year is above 0."""
    bp = fiscal.by_payer(rows)
    bp["positive"] = (bp["net"] > 0).astype(float)
    out = bp.groupby(["year", "payer"], sort=False)[[*ITEMS, "positive"]].mean().reset_index()
    order = {p: i for i, p in enumerate(fiscal.payers_of(rows))}
    return out.sort_values(["year", "payer"], key=lambda s: s.map(order) if s.name == "payer" else s, kind="stable")


def _whole(v: float) -> str:
    """Whole dollars, '-' for none (a county without START has no cost per family)."""
    return fmt(round(v)) if math.isfinite(v) else "-"


def psa_by_year_html(uncertainty: Path) -> str:
    """The uncertainty folder's chance that START has paid for itself by the end of each year
    (``psa_by_year.csv``, present values), for the fiscal note; empty if the folder has none."""
    if not (uncertainty / "psa_by_year.csv").exists():
        return ""
    t = read_table(uncertainty, "psa_by_year.csv")
    body = [[str(r["year"]), _e(str(r["perspective"])), _whole(r["cumulative_mean"]), _whole(r["cumulative_p2.5"]),
             _whole(r["cumulative_p97.5"]), fmt(r["p_paid_for_itself"])] for _, r in t.iterrows()]
    return ("<p class=small>With parameter uncertainty (<code>start-sim uncertainty</code>): cumulative net savings "
            "to the end of each year, USD, present value, and the share of draws in which START has paid for itself "
            "by then.</p>"
            + table(["year", "perspective", "cumulative net savings, mean", "2.5%", "97.5%", "P(paid for itself)"],
                    body, numeric_from=2))


def fiscal_html(results: Results, folder: Path, uncertainty: Path | None = None) -> str:
    """The report's fiscal-note section (with ``uncertainty``, an uncertainty folder, the PSA's
    chance by year that START has paid for itself)."""
    rows, families = rows_of(results, folder)
    if rows.empty:
        return ""
    t = by_year_and_payer(rows)
    body = [[str(r["year"]), _e(r["payer"]), *(_whole(r[k]) for k in ITEMS), fmt(r["positive"])]
            for _, r in t.iterrows()]
    totals = t.groupby("payer", sort=False)[list(ITEMS)].sum()
    body += [["all years", _e(p), *(f"<b>{_whole(v)}</b>" for v in r), ""] for p, r in totals.iterrows()]
    unit = fiscal.unit_costs(rows, families)
    units = "; ".join(f"{_e(p)} {_whole(unit[f'{p}_per_family'])} per family served and "
                      f"{_whole(unit[f'{p}_per_placement_avoided'])} per placement avoided"
                      for p in totals.index if f"{p}_per_family" in unit)
    growth = results.scenario.costs.cost_escalation_per_year
    return (
        "<h2>Fiscal note: who pays and who saves</h2><p class=small>Mean of the replications, USD, nominal, "
        f"escalated by {fmt(growth)} a year from year 1; all counties together (by county in "
        "<code>fiscal_note.csv</code>, with each funding stream). Net = savings (care cost avoided, casework "
        "credit, subsidies avoided) minus costs (START cost, extra treatment). P(net &gt; 0) is the share of "
        "replications in which the payer saves that year (chance variation, not parameter uncertainty: run "
        "<code>start-sim uncertainty --perspective county</code> for that). The payers' amounts of an item add "
        "up to the item.</p>"
        + table(["year", "payer", *(_e(v) for v in ITEMS.values()), "P(net &gt; 0)"], body, numeric_from=2)
        + f"<p class=small>Net cost (costs minus savings) over the run: {units}.</p>"
        + (psa_by_year_html(uncertainty) if uncertainty is not None else "")
    )
