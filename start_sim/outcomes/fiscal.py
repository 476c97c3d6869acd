"""The fiscal note: the budget's costs and savings by programme year, payer and item.

Built from a run's tables (``budget``, ``timeseries``, ``families``), one replication, county
and programme year at a time, under the scenario's ``[funding]`` table. Each item's amount is
split among payers so that the payers' amounts add up to the item (before escalation, the
item's budget total). Items, each positive in its own sense (a cost or a saving):

- ``start_cost``: START staff and training. Medicaid pays first for mentors' billed peer
  support (IV-E is the payer of last resort), federal at FMAP and the state the rest; then the
  federal government pays the IV-E prevention share of the casework of candidates in their
  first ``prevention_months`` of START; then the state allocation (per agency and per dyad,
  at most the rest); then grants and settlement money of the year (at most the rest, spread
  over counties in proportion to what each still owes); the county pays the remainder.
- ``extra_treatment``: treatment in the START run minus in the usual run; Medicaid's share
  federal at FMAP, the rest by the state.
- ``care_cost_avoided``: care in the usual run minus in the START run; maintenance federal at
  FMAP x the IV-E eligible share, in-care casework and administration federal at the IV-E
  administration share x the eligible share (the whole of care at FMAP x eligible share when
  the budget has no ``maintenance_*`` columns); the non-federal part split state/county.
- ``casework_credit``: usual-services casework the START run does not need; no federal share
  (IV-B and block grants do not follow caseloads) [assumption], split state/county.
- ``subsidy_avoided``: adoption and guardianship subsidies avoided, federal at FMAP x eligible
  share, the rest split state/county.

The claimable share of START's cost in a county-year is the START family-days within each
family's first ``prevention_months`` (from the family rows: assignment to closure) over all
START family-days (the monthly caseload, pre-existing families included); pre-existing
families, whose START began before the run, are not claimed [assumption]. Amounts are nominal
and escalated by ``costs.cost_escalation_per_year`` from year 1.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from start_sim.core.timebase import DAYS_PER_MONTH, DAYS_PER_YEAR
from start_sim.inputs.funding import PAID_HOURS_PER_FTE_YEAR, Funding

if TYPE_CHECKING:
    from start_sim.inputs.schema import Scenario

PAYERS = ("federal", "state", "county")
COSTS = ("start_cost", "extra_treatment")
SAVINGS = ("care_cost_avoided", "casework_credit", "subsidy_avoided")
COLUMNS = ["replication", "year", "county", "payer", "item", "stream", "amount"]
KEYS = ("replication", "county", "year")


def overlap_by_year(start: np.ndarray, end: np.ndarray, years: int) -> np.ndarray:
    """Days of each interval [start, end) inside each programme year, array [interval, year]."""
    edges = np.arange(years + 1) * DAYS_PER_YEAR
    lo = np.maximum(start[:, None], edges[None, :-1])
    hi = np.minimum(end[:, None], edges[None, 1:])
    return np.clip(hi - lo, 0.0, None)


def prevention_days(families: pd.DataFrame, months: float, end_day: float, years: int) -> pd.DataFrame:
    """START family-days of the referred families by replication, county and year: all of them
    (``served``) and those within each family's first ``months`` of START (``claimable``)."""
    fam = families[families["service"] == "start"]
    start = fam["assigned_day"].to_numpy(float)
    end = fam["closure_day_start"].fillna(end_day).to_numpy(float)
    served = overlap_by_year(start, end, years)
    claim = overlap_by_year(start, np.minimum(end, start + months * DAYS_PER_MONTH), years)
    out = []
    for name, days in (("served", served), ("claimable", claim)):
        frame = pd.DataFrame(days, columns=range(1, years + 1))
        frame["replication"], frame["county"] = fam["replication"].to_numpy(), fam["county"].to_numpy()
        out.append(frame.groupby(["replication", "county"]).sum().stack().rename(name))
    return pd.concat(out, axis=1).rename_axis(["replication", "county", "year"]).reset_index()


def yearly_staff(timeseries: pd.DataFrame) -> pd.DataFrame:
    """Caseload-days and mentor FTE-years by replication, county and year, from the monthly series."""
    ts = timeseries.assign(year=(timeseries["day"] // DAYS_PER_YEAR).astype(int) + 1)
    ts = ts.assign(caseload_days=ts["caseload"] * DAYS_PER_MONTH,
                   mentor_fte_years=ts["mentor_fte"] * DAYS_PER_MONTH / DAYS_PER_YEAR)
    return ts.groupby(list(KEYS))[["caseload_days", "mentor_fte_years"]].sum().reset_index()


def split_start_cost(f: Funding, cost: float, mentor_fte_years: float, claimable_share: float,
                     allocation: float) -> list[tuple[str, str, float]]:
    """START's cost of one county-year by (payer, stream), before grants: Medicaid peer support,
    IV-E prevention, the state allocation; the last entry is what is left for grants and the county."""
    medicaid = min(cost, f.peer_support_billable_share * PAID_HOURS_PER_FTE_YEAR * f.peer_support_rate_per_hour
                   * mentor_fte_years)
    prevention = f.prevention_federal_share * f.candidate_share * claimable_share * (cost - medicaid)
    rest = cost - medicaid - prevention
    state = min(rest, allocation) if cost > 0 else 0.0
    return [("federal", "Medicaid peer support", f.fmap * medicaid),
            ("state", "Medicaid peer support", (1 - f.fmap) * medicaid),
            ("federal", "IV-E prevention", prevention),
            ("state", "state allocation", state),
            ("county", "residual", rest - state)]


def split_shared(f: Funding, federal_share: float, amount: float, stream: str) -> list[tuple[str, str, float]]:
    """An amount with a federal share, the rest split between the state and the county."""
    rest = (1 - federal_share) * amount
    return [("federal", stream, federal_share * amount), ("state", "state funds", f.state_share_of_nonfederal * rest),
            ("county", "county funds", (1 - f.state_share_of_nonfederal) * rest)]


def split_treatment(f: Funding, amount: float) -> list[tuple[str, str, float]]:
    """Extra treatment: Medicaid's share federal at FMAP, the rest by the state."""
    med = f.treatment_medicaid_share * amount
    return [("federal", "Medicaid", f.fmap * med), ("state", "Medicaid", (1 - f.fmap) * med),
            ("state", "state funds", amount - med)]


def split_care(f: Funding, budget_row: pd.Series) -> list[tuple[str, str, float]]:
    """Care cost avoided: maintenance at FMAP x eligible share, in-care casework at the IV-E
    administration share x eligible share (whole care at FMAP when not itemised)."""
    if "maintenance_start" not in budget_row:
        return split_shared(f, f.fmap * f.ive_eligible_share, budget_row["placement_avoided"], "IV-E maintenance")
    maintenance = budget_row["maintenance_usual"] - budget_row["maintenance_start"]
    casework = budget_row["care_casework_usual"] - budget_row["care_casework_start"]
    return (split_shared(f, f.fmap * f.ive_eligible_share, maintenance, "IV-E maintenance")
            + split_shared(f, f.admin_federal_share * f.ive_eligible_share, casework, "IV-E administration"))


def _item_rows(f: Funding, b: pd.Series) -> list[tuple[str, str, str, float]]:
    """(item, payer, stream, amount) of every item but START's cost, for one budget row."""
    out = [("extra_treatment", *e) for e in split_treatment(f, b["treatment_start"] - b["treatment_usual"])]
    out += [("care_cost_avoided", *e) for e in split_care(f, b)]
    if "casework_credit" in b:
        out += [("casework_credit", *e) for e in split_credit(f, b["casework_credit"])]
    if "subsidy_start" in b:
        out += [("subsidy_avoided", *e) for e in split_subsidy(f, b["subsidy_usual"] - b["subsidy_start"])]
    return out


def split_credit(f: Funding, amount: float) -> list[tuple[str, str, float]]:
    """Usual-services casework START replaces: no federal share, the rest split state/county."""
    return split_shared(f, 0.0, amount, "")


def split_subsidy(f: Funding, amount: float) -> list[tuple[str, str, float]]:
    """Adoption and guardianship subsidies avoided: federal at FMAP x the IV-E eligible share."""
    return split_shared(f, f.fmap * f.ive_eligible_share, amount, "IV-E assistance")


def fiscal_rows(sc: Scenario, budget: pd.DataFrame, timeseries: pd.DataFrame, families: pd.DataFrame) -> pd.DataFrame:
    """The fiscal note of every replication: replication, year, county, payer, item, stream, amount."""
    f = sc.funding
    if budget.empty:
        return pd.DataFrame(columns=COLUMNS)
    years = int(budget["year"].max())
    b = budget.merge(yearly_staff(timeseries), on=list(KEYS), how="left")
    b = b.merge(prevention_days(families, f.prevention_months, sc.end_days, years), on=list(KEYS), how="left")
    b = b.fillna({"caseload_days": 0.0, "mentor_fte_years": 0.0, "served": 0.0, "claimable": 0.0})
    counties = {c.name: c for c in sc.counties}
    rows: list[tuple] = []
    owed: dict[tuple, float] = {}
    for _, r in b.iterrows():
        key = (int(r["replication"]), int(r["year"]), r["county"])
        served = max(r["caseload_days"], r["served"])
        share = r["claimable"] / served if served > 0 else 0.0
        county = counties[r["county"]]
        allocation = f.state_per_agency_per_year + f.state_per_dyad_per_year * county.dyads
        split = split_start_cost(f, r["staff"] + r["training"], r["mentor_fte_years"], share, allocation)
        rows += [(*key, payer, "start_cost", stream, amount) for payer, stream, amount in split[:-1]]
        owed[key] = split[-1][2]
        rows += [(*key, payer, item, stream, amount) for item, payer, stream, amount in _item_rows(f, r)]
    rows += _grants_and_county(f, owed)
    out = pd.DataFrame(rows, columns=COLUMNS)
    growth = sc.costs.cost_escalation_per_year
    out["amount"] *= (1 + growth) ** (out["year"] - 1)
    return out


def _grants_and_county(f: Funding, owed: dict[tuple, float]) -> list[tuple]:
    """Grant money by year, spread over counties in proportion to what each owes (at most that),
    then the county's residual of START's cost."""
    rows = []
    owed = dict(owed)
    for g in f.grants:
        for rep in sorted({k[0] for k in owed}):
            keys = [k for k in owed if k[0] == rep and k[1] == g.year]
            total = sum(owed[k] for k in keys)
            for k in keys:
                paid = owed[k] if total <= g.amount else g.amount * owed[k] / total
                owed[k] -= paid
                rows.append((*k, g.payer, "start_cost", "grant", paid))
    rows += [(*k, "county", "start_cost", "residual", v) for k, v in owed.items()]
    return rows


def signed(rows: pd.DataFrame) -> pd.Series:
    """Each row's amount as a net saving: savings positive, costs negative."""
    return rows["amount"].where(~rows["item"].isin(COSTS), -rows["amount"])


def fiscal_note(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean over replications: year, county, payer, item, stream, amount (nominal, escalated)."""
    n = rows["replication"].nunique() or 1
    keys = ["year", "county", "payer", "item", "stream"]
    return (rows.groupby(keys, sort=False)["amount"].sum() / n).reset_index().sort_values(keys[:3], kind="stable")


def payers_of(rows: pd.DataFrame) -> list[str]:
    """The federal government, the state, the county, then grant payers in order of appearance."""
    return [*PAYERS, *(p for p in dict.fromkeys(rows["payer"]) if p not in PAYERS)]


def by_payer(rows: pd.DataFrame) -> pd.DataFrame:
    """Per replication, year and payer: each item's amount and ``net`` (savings minus costs),
    all counties together; every replication has every (year, payer) row."""
    wide = rows.pivot_table(index=["replication", "year", "payer"], columns="item", values="amount",
                            aggfunc="sum", fill_value=0.0)
    full = pd.MultiIndex.from_product([sorted(rows["replication"].unique()), sorted(rows["year"].unique()),
                                       payers_of(rows)], names=wide.index.names)
    wide = wide.reindex(full, fill_value=0.0)
    for item in (*COSTS, *SAVINGS):
        if item not in wide:
            wide[item] = 0.0
    wide["net"] = wide[list(SAVINGS)].sum(axis=1) - wide[list(COSTS)].sum(axis=1)
    return wide.reset_index()


def unit_costs(rows: pd.DataFrame, families: pd.DataFrame) -> dict[str, float]:
    """Whole run, mean over replications: each payer's net cost (costs minus savings) per family
    served by START and per child's placement (within 12 months) avoided."""
    net = by_payer(rows).groupby(["replication", "payer"])["net"].sum().groupby("payer").mean()
    reps = families.groupby("replication")
    served = reps.apply(lambda g: float((g["service"] == "start").sum())).mean() if len(families) else math.nan
    avoided = reps.apply(lambda g: float((g["children"] * (g["placed_12m_usual"].astype(float)
                                                            - g["placed_12m_start"].astype(float))).sum())).mean() \
        if len(families) else math.nan
    out = {}
    for payer, value in net.items():
        out[f"{payer}_per_family"] = -value / served if served else math.nan
        out[f"{payer}_per_placement_avoided"] = -value / avoided if avoided else math.nan
    return out
