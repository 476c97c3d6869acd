"""Figures for a run or a comparison: caseload, waitlist and staff over time; outcomes START
vs usual services; cumulative cost and savings; savings per dollar; paired differences.

Every function takes one :class:`~start_sim.experiments.results.Results` or a ``{name: Results}``
mapping (a comparison: one colour per scenario) and returns a matplotlib ``Figure`` with a
title, labelled axes and units. Series over time show the mean over replications, its 95%
confidence interval (dark band) and the middle 90% of replications (light band).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.axis
import matplotlib.ticker

if "ipykernel" not in sys.modules:  # in a notebook keep its inline backend, elsewhere never open a window
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from start_sim.core.stats import half_width, t_quantile
from start_sim.metrics.registry import METRICS

if TYPE_CHECKING:
    from start_sim.experiments.results import Results

STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "savefig.dpi": 110,
}
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
MONTHS_PER_YEAR = 12


@contextmanager
def style():
    """The package's figure style, for the figures drawn inside the ``with`` block."""
    with plt.rc_context(STYLE):
        yield


def _many(results: Results | Mapping[str, Results]) -> dict[str, Results]:
    if isinstance(results, Mapping):
        return dict(results)
    return {results.scenario.name: results}


def _title(results: Mapping[str, Results]) -> str:
    """The scenario's name, or "Scenarios compared" for several."""
    return next(iter(results.values())).scenario.name if len(results) == 1 else "Scenarios compared"


def _reps(results: Mapping[str, Results]) -> str:
    n = {r.replications for r in results.values()}
    return f"{n.pop()} replications" if len(n) == 1 else "replications: " + ", ".join(
        f"{k} {r.replications}" for k, r in results.items())


def _by_month(ts: pd.DataFrame, column: str) -> pd.DataFrame:
    """Months x replications, summed over counties."""
    return ts.groupby(["replication", "month"])[column].sum().unstack("replication")


def band(ax: plt.Axes, by: pd.DataFrame, label: str, color: str, scale: float = 1.0) -> None:
    """Mean line, 95% CI of the mean (dark) and 5-95th percentiles of replications (light)."""
    x = by.index.to_numpy() / MONTHS_PER_YEAR
    v = by.to_numpy(dtype=float) * scale
    mean = np.nanmean(v, axis=1)
    ax.plot(x, mean, color=color, label=label, lw=1.6)
    n = v.shape[1]
    if n > 1:
        half = t_quantile(n) * np.nanstd(v, axis=1, ddof=1) / math.sqrt(n)
        ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.35, lw=0)
        ax.fill_between(x, np.nanpercentile(v, 5, axis=1), np.nanpercentile(v, 95, axis=1), color=color,
                        alpha=0.12, lw=0)


def _horizon(ax: plt.Axes, results: Mapping[str, Results], label: bool = False) -> None:
    h = next(iter(results.values())).scenario.horizon_years
    ax.axvline(h, color="k", lw=0.8, ls=":")
    if label:
        ax.annotate("end of horizon", (h, 0), xycoords=("data", "axes fraction"), xytext=(3, 4),
                    textcoords="offset points", fontsize=8)


BAND_NOTE = "years from start of run\n(line: mean; dark band: 95% CI of the mean; light band: middle 90% of replications)"


def caseload_plot(results: Results | Mapping[str, Results]) -> Figure:
    """Open START cases (with caseload slots) and the waitlist by month, all counties together."""
    many = _many(results)
    with style():
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True)
        for k, (name, res) in enumerate(many.items()):
            color = COLORS[k % len(COLORS)]
            tag = f"{name}: " if len(many) > 1 else ""
            band(ax1, _by_month(res.timeseries, "caseload"), f"{tag}open START cases", color)
            slots = _by_month(res.timeseries, "slots").mean(axis=1)
            ax1.step(slots.index / MONTHS_PER_YEAR, slots, where="post", color=color, ls="--", lw=1,
                     label=f"{tag}caseload slots (mean)")
            band(ax2, _by_month(res.timeseries, "waitlist"), f"{tag}waiting for a dyad", color)
        title = _title(many)
        ax1.set_title(f"{title}: START caseload ({_reps(many)})")
        ax1.set_ylabel("families")
        ax1.legend(loc="lower right")
        ax2.set_title("Waitlist for a dyad")
        ax2.set_ylabel("families")
        ax2.set_xlabel(BAND_NOTE)
        ax2.legend(loc="upper right")
        for ax in (ax1, ax2):
            _horizon(ax, many, label=ax is ax1)
            ax.set_ylim(bottom=0)
    return fig


def staff_plot(results: Results | Mapping[str, Results]) -> Figure:
    """START caseworkers and mentors in post (FTE) and vacant posts by month."""
    many = _many(results)
    with style():
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, constrained_layout=True)
        for k, (name, res) in enumerate(many.items()):
            ts = res.timeseries
            tag = f"{name}: " if len(many) > 1 else ""
            base = COLORS[k % len(COLORS)]
            band(ax1, _by_month(ts, "caseworkers"), f"{tag}caseworkers", base)
            band(ax1, _by_month(ts, "mentor_fte"), f"{tag}mentors (FTE)", base if len(many) > 1 else "tab:green")
            ax1.lines[-1].set_linestyle("--")
            band(ax2, _by_month(ts, "vacancies"), f"{tag}vacant posts", base)
        title = _title(many)
        ax1.set_title(f"{title}: START staff in post ({_reps(many)})")
        ax1.set_ylabel("full-time equivalents")
        ax1.legend(loc="lower right")
        ax2.set_title("Posts open and not yet filled")
        ax2.set_ylabel("posts")
        ax2.set_xlabel(BAND_NOTE)
        for ax in (ax1, ax2):
            _horizon(ax, many, label=ax is ax1)
            ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))
        if ax2.lines:
            ax2.legend(loc="upper right")
    return fig


OUTCOME_KEYS = ("placement_rate_12m", "home_at_closure_rate", "sobriety_rate_at_closure", "sobriety_rate_12m",
                "reunification_rate_if_placed", "recurrence_rate_12m", "reentry_rate_12m")


def outcomes_plot(results: Results | Mapping[str, Results]) -> Figure:
    """Outcome shares of families served by START and of the same families under usual
    services, with 95% CIs over replications."""
    many = _many(results)
    keys = [k for k in OUTCOME_KEYS if k in METRICS]
    bars = []  # (label, summary, arm, color, hatch)
    for k, (name, res) in enumerate(many.items()):
        s = res.summary()
        tag = f"{name}: " if len(many) > 1 else ""
        color = COLORS[k % len(COLORS)] if len(many) > 1 else "tab:blue"
        bars.append((f"{tag}START", s, "start", color, None))
        bars.append((f"{tag}usual services (same families)", s, "usual", "0.6" if len(many) == 1 else color, "//"))
    with style():
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.55 * len(keys) * max(1, len(bars) / 2)), constrained_layout=True)
        y = np.arange(len(keys))
        h = 0.8 / len(bars)
        for j, (label, s, arm, color, hatch) in enumerate(bars):
            rows = s.reindex([f"{k}_{arm}" for k in keys])
            err = np.vstack([rows["mean"] - rows["ci_low"], rows["ci_high"] - rows["mean"]])
            ax.barh(y - 0.4 + h * (j + 0.5), rows["mean"].fillna(0), height=h, xerr=np.nan_to_num(err), color=color,
                    alpha=0.55 if hatch else 0.9, hatch=hatch, edgecolor="white" if not hatch else color, label=label,
                    error_kw={"lw": 0.8})
        ax.set_yticks(y, [METRICS[k].label for k in keys])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share (bars: mean; whiskers: 95% CI over replications)")
        title = _title(many)
        ax.set_title(f"{title}: outcomes of families served by START\nand of the same families under usual services")
        ax.legend(loc="lower right")
        ax.grid(axis="y", visible=False)
    return fig


def costs_plot(results: Results | Mapping[str, Results]) -> Figure:
    """Cumulative present-value cost of START staff, placement cost avoided and net savings."""
    many = _many(results)
    with style():
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True)
        for k, (name, res) in enumerate(many.items()):
            ts = res.timeseries
            tag = f"{name}: " if len(many) > 1 else ""
            program = _by_month(ts, "program_cost_cum")
            avoided = _by_month(ts, "placement_cost_cum_usual") - _by_month(ts, "placement_cost_cum_start")
            c1, c2 = (COLORS[k % len(COLORS)],) * 2 if len(many) > 1 else ("tab:red", "tab:green")
            band(ax1, program, f"{tag}START staff cost", c1, 1e-6)
            band(ax1, avoided, f"{tag}placement cost avoided", c2, 1e-6)
            if len(many) > 1:
                ax1.lines[-1].set_linestyle("--")
            band(ax2, avoided - program, f"{tag}net savings", COLORS[k % len(COLORS)], 1e-6)
        title = _title(many)
        ax1.set_title(f"{title}: cumulative cost and placement cost avoided\n({_reps(many)})")
        ax1.set_ylabel("USD millions (present value)")
        ax1.legend(loc="upper left")
        ax2.set_title("Net savings: placement cost avoided minus START staff cost")
        ax2.axhline(0, color="k", lw=0.8)
        ax2.set_ylabel("USD millions (present value)")
        ax2.set_xlabel(BAND_NOTE)
        ax2.legend(loc="best")
        for ax in (ax1, ax2):
            _horizon(ax, many, label=ax is ax1)
    return fig


def savings_plot(results: Results | Mapping[str, Results]) -> Figure:
    """Distribution over replications of the placement cost avoided per dollar of START."""
    many = _many(results)
    with style():
        fig, ax = plt.subplots(figsize=(8, 4.2), constrained_layout=True)
        values = {name: res.kpis["savings_per_dollar"].dropna().to_numpy(dtype=float) for name, res in many.items()}
        allv = np.concatenate([v for v in values.values() if len(v)]) if any(len(v) for v in values.values()) else []
        bins = np.histogram_bin_edges(allv, bins=min(30, max(5, len(allv) // 4))) if len(allv) else 10
        for k, (name, v) in enumerate(values.items()):
            if not len(v):
                continue
            color = COLORS[k % len(COLORS)]
            mean = float(v.mean())
            half = half_width(v) if len(v) > 1 else 0.0
            ax.hist(v, bins=bins, color=color, alpha=0.5 if len(many) > 1 else 0.75, edgecolor="white",
                    label=f"{name}: mean {mean:.2f} (95% CI {mean - half:.2f} to {mean + half:.2f})")
            ax.axvline(mean, color=color, lw=1.6)
            ax.axvspan(mean - half, mean + half, color=color, alpha=0.15)
        if not len(allv):
            ax.text(0.5, 0.5, "No replication has a positive net START cost: savings per $1 is undefined.",
                    transform=ax.transAxes, ha="center", va="center")
        ax.axvline(1.0, color="k", ls="--", lw=1)
        ax.annotate("break-even:\n\\$1 avoided per \\$1 spent", (1.0, 0.6), xycoords=("data", "axes fraction"),
                    xytext=(-4, 0), textcoords="offset points", fontsize=8, ha="right")
        title = _title(many)
        ax.set_title(f"{title}: placement cost avoided per \\$1 of START ({_reps(many)})")
        ax.set_xlabel("USD avoided per USD of START staff cost (present value)")
        ax.set_ylabel("replications")
        ax.legend(loc="best")
    return fig


def money_axis(axis: matplotlib.axis.Axis) -> None:
    """Tick labels in USD, thousands ("k") or millions ("M"), with the decimals the tick spacing needs
    (ticks every 2.5M read 2.5M, 5.0M, 7.5M)."""
    def label(v: float, _pos: int) -> str:
        locs = np.asarray(axis.get_majorticklocs(), dtype=float)
        top = float(np.nanmax(np.abs(locs))) if len(locs) else abs(v)
        scale, suffix = (1e6, "M") if top >= 1e6 else (1e3, "k") if top >= 1e3 else (1.0, "")
        step = float(np.min(np.diff(locs))) / scale if len(locs) > 1 else 1.0
        dec = next((d for d in range(4) if abs(round(step, d) - step) < 1e-6 * max(1.0, step)), 3)
        return f"{'-' if v < 0 else ''}${abs(v) / scale:,.{dec}f}{suffix}"

    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(label))


def differences_plot(summary: pd.DataFrame, keys: list[str], reference: str) -> Figure:
    """Paired differences from the reference scenario, one dot plot per KPI in the KPI's own unit
    (so no KPI flattens the others), with 95% CIs."""
    others = [n for n in summary["scenario"].unique() if n != reference]
    rows = summary.set_index(["kpi", "scenario"])
    keys = [k for k in keys if (k, reference) in rows.index and any((k, n) in rows.index for n in others)]
    with style():
        fig, axes = plt.subplots(max(1, len(keys)), 1, figsize=(8, 0.9 + (0.45 + 0.22 * len(others)) * len(keys)),
                                 squeeze=False, constrained_layout=True)
        for ax, k in zip(axes[:, 0], keys, strict=False):
            base = k if k in METRICS else k.removesuffix("_start").removesuffix("_usual")
            unit = METRICS[base].unit if base in METRICS else ""
            for j, name in enumerate(others):
                r = rows.loc[(k, name)]
                m, lo, hi = (float(r[c]) for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
                ax.errorbar([m], [j], xerr=[[max(0.0, m - lo)], [max(0.0, hi - m)]], fmt="o", capsize=3,
                            color=COLORS[(j + 1) % len(COLORS)])
            ax.axvline(0, color="k", lw=0.8)
            ax.set_yticks(range(len(others)), others if len(others) > 1 else [""], fontsize=8)
            ax.set_ylim(-0.6, len(others) - 0.4)
            ax.invert_yaxis()
            ax.set_title(f"{rows.at[(k, reference), 'label']} ({unit})", fontsize=9, loc="left", fontweight="normal")
            ax.tick_params(axis="x", labelsize=8)
            ax.grid(axis="y", visible=False)
            if unit.startswith("USD") and unit != "USD per USD":
                money_axis(ax.xaxis)
        who = others[0] if len(others) == 1 else "each scenario"
        fig.suptitle(f"Differences: {who} minus '{reference}' (dot: mean; bar: 95% CI over paired replications,\n"
                     "simulation noise only; each KPI in its own unit; 0 = no difference)", fontsize=10)
    return fig
