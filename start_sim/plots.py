"""Figures for a run: caseload and waitlist over time, and outcomes START vs usual services."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .metrics import METRICS  # noqa: E402

if TYPE_CHECKING:
    from .experiment import Results


def _band(ax: plt.Axes, ts: pd.DataFrame, column: str, label: str, color: str) -> None:
    """Mean over replications with a 2.5-97.5 percentile band."""
    by = ts.groupby(["replication", "month"])[column].sum().unstack("replication")
    months = by.index.to_numpy() / 12
    ax.plot(months, by.mean(axis=1), color=color, label=label)
    if by.shape[1] > 1:
        ax.fill_between(months, by.quantile(0.025, axis=1), by.quantile(0.975, axis=1), color=color, alpha=0.2)


def caseload_plot(results: Results) -> Figure:
    """Open START cases, slots and waitlist by month (all counties together)."""
    ts = results.timeseries
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True)
    _band(ax1, ts, "caseload", "open START cases", "tab:blue")
    slots = ts.groupby(["replication", "month"])["slots"].sum().groupby("month").mean()
    ax1.step(slots.index / 12, slots, where="post", color="grey", ls="--", label="caseload slots")
    ax1.set_ylabel("families")
    ax1.set_title(f"{results.scenario.name}: START caseload and waitlist ({results.replications} replications)")
    ax1.legend(loc="lower right")
    _band(ax2, ts, "waitlist", "waiting for a dyad", "tab:orange")
    ax2.set_ylabel("families")
    ax2.set_xlabel("years from start of run")
    h = results.scenario.horizon_years
    for ax in (ax1, ax2):
        ax.axvline(h, color="k", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    ax2.annotate("horizon", (h, ax2.get_ylim()[1] * 0.9), xytext=(4, 0), textcoords="offset points", fontsize=8)
    ax2.legend(loc="upper right")
    return fig


OUTCOME_KEYS = ("placement_rate_12m", "home_at_closure_rate", "sobriety_rate_at_closure",
                "reunification_rate_if_placed", "recurrence_rate_12m", "reentry_rate_12m")


def outcomes_plot(results: Results) -> Figure:
    """Outcome shares, START vs usual services for the same families, with 95% CIs."""
    s = results.summary()
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    y = np.arange(len(OUTCOME_KEYS))
    for off, arm, color in ((-0.18, "start", "tab:blue"), (0.18, "usual", "tab:grey")):
        rows = s.loc[[f"{k}_{arm}" for k in OUTCOME_KEYS]]
        err = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
        ax.barh(y + off, rows["mean"], height=0.34, xerr=np.nan_to_num(err), color=color,
                label="START" if arm == "start" else "usual services (same families)")
    ax.set_yticks(y, [METRICS[k].label for k in OUTCOME_KEYS])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share (95% CI over replications)")
    ax.set_title(
        f"{results.scenario.name}: outcomes of families served by START\nand of the same families under usual services",
        fontsize=11,
    )
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig
