"""Net savings by programme year: has START paid for itself by the end of year k?

A replication's ledger is cut at the end of each programme year (day 0 is the start of the
run, as in the budget and the fiscal note): care, casework and subsidy spells end there,
treatment episodes and hires after it are dropped, START staff leave the payroll there, and the
cut ledger is priced by :func:`start_sim.analyses.bca.bca` (so staff cost comes from
``outcomes.costs.staff_cost`` and discounting from ``core.discount``, as for the whole
horizon). The result is the *cumulative* present-value net savings to the end of each year;
the last year also holds anything later, so its cumulative value is the whole-horizon net
savings of the same draw. A year's own net savings is the difference of consecutive cumulative
values. Payer perspectives count the state allocations and grants of the years up to the cut.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from start_sim.analyses.bca import DEFAULT, Ledger, Options, bca
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import Costs

BASE_PERSPECTIVES = ("agency", "state")
"""Always priced by year; the chosen perspective is added when it is a payer's."""


def until(led: Ledger, day: float) -> Ledger:
    """The ledger of what happened before ``day``: spells cut there, later episodes and hires dropped."""
    tx = led.tx_day < day
    posts = [replace(p, left=min(p.left, day)) for p in led.posts if p.hired < day]
    return replace(led, ep_end=np.minimum(led.ep_end, day), cw_end=np.minimum(led.cw_end, day),
                   sub_end=np.minimum(led.sub_end, day), tx_arm=led.tx_arm[tx], tx_mod=led.tx_mod[tx],
                   tx_day=led.tx_day[tx], tx_days=led.tx_days[tx], posts=posts, until=min(led.until, day))


def perspectives(options: Options) -> tuple[str, ...]:
    """The perspectives priced by year: agency, state and the chosen one."""
    return tuple(dict.fromkeys((*BASE_PERSPECTIVES, options.perspective)))


def cumulative_net(led: Ledger, c: Costs | None = None, options: Options = DEFAULT) -> list[dict]:
    """Rows (year, perspective, cumulative_net_savings): present-value net savings to the end of each year."""
    n = led.scenario.programme_years
    rows = []
    for k in range(1, n + 1):
        cut = until(led, k * DAYS_PER_YEAR if k < n else math.inf)
        for p in perspectives(options):
            net = bca(cut, c, Options(options.discount_rate, options.horizon_years, p))["net_savings"]
            rows.append({"year": k, "perspective": p, "cumulative_net_savings": net})
    return rows


def summary(draws: pd.DataFrame) -> pd.DataFrame:
    """Over the draws (columns draw, year, perspective, cumulative_net_savings), by perspective and
    year: mean and 2.5-97.5% of the year's and of the cumulative net savings, and the share of
    draws with each above 0 (``p_paid_for_itself``: the cumulative one)."""
    if draws.empty:
        return pd.DataFrame()
    d = draws.sort_values(["perspective", "draw", "year"])
    cum = d["cumulative_net_savings"]
    d = d.assign(net_savings=cum - d.groupby(["perspective", "draw"])["cumulative_net_savings"].shift(fill_value=0.0))
    rows = []
    for (p, k), g in d.groupby(["perspective", "year"], sort=False):
        row: dict = {"year": int(k), "perspective": p}
        for col, name in (("net_savings", "net_savings"), ("cumulative_net_savings", "cumulative")):
            v = g[col].to_numpy(float)
            row |= {f"{name}_mean": v.mean(), f"{name}_p2.5": np.percentile(v, 2.5),
                    f"{name}_p97.5": np.percentile(v, 97.5)}
        row["p_net_savings_positive"] = float((g["net_savings"] > 0).mean())
        row["p_paid_for_itself"] = float((g["cumulative_net_savings"] > 0).mean())
        rows.append(row)
    order = {p: i for i, p in enumerate(dict.fromkeys(draws["perspective"]))}
    out = pd.DataFrame(rows)
    return out.sort_values(["perspective", "year"], key=lambda s: s.map(order) if s.name == "perspective" else s,
                           kind="stable").reset_index(drop=True)
