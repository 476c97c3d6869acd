"""The terminal's per-county and region table of a scenario with regions (mean over replications)."""

from __future__ import annotations

import pandas as pd

from start_sim.experiments.results import Results
from start_sim.outputs.formatting import fmt

COLUMNS = (
    ("families_referred", "referred"), ("families_started", "started"), ("mean_days_to_assignment", "dyad wait d"),
    ("mean_days_to_treatment_start", "to tx d START"), ("mean_days_to_treatment_usual", "to tx d usual"),
    ("placement_rate_12m_start", "placed START"), ("placement_rate_12m_usual", "placed usual"),
    ("net_savings", "net savings $k"), ("treatment_wait_days_outpatient_start", "outpt wait d"),
)
"""(KPI column, short header): the registry's labels are too long for a table this wide."""


def print_regions(results: Results) -> None:
    """One row per county, then one per region: its counties together and its providers' places.
    Shared dyads' staff KPIs stand on the region's row (and its first county's)."""
    from rich.table import Table

    from start_sim.cli.common import console

    ck, rk = results.county_kpis, results.region_kpis
    if ck.empty or rk.empty:
        return
    regions = rk.assign(county=rk["region"] + " (region)")
    both = pd.concat([ck, regions], ignore_index=True)
    order = list(dict.fromkeys(both["county"]))
    means = both.groupby("county", sort=False).mean(numeric_only=True)
    t = Table(title=f"{results.scenario.name}: by county and region (mean of {results.replications} replications)")
    t.add_column("county / region", no_wrap=True)
    for _, header in COLUMNS:
        t.add_column(header, justify="right")
    for name in order:
        row = means.loc[name]
        t.add_row(name, *(fmt(float(row[c]) / (1000 if c == "net_savings" else 1)) if c in row.index else "-"
                          for c, _ in COLUMNS))
    con = console()
    con.print(t)
    con.print("to tx d: referral to treatment entry; placed: children placed within 12 months; outpt wait d: request "
              "to entry at the outpatient places the county's parents use (START run), every client counted. A "
              "region's shared dyads (staff, their cost) stand on its first county's row and on the region's row. "
              "Every KPI, modality and arm: county_kpis.csv and region_kpis.csv.")
