"""The uncertainty report: the PSA, tornado and Morris figures and tables and the $2.22 table
as one self-contained ``report.html``, and the tornado figure as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from start_sim.analyses.uncertainty import UncertaintyResult
from start_sim.outputs.html import data_uri, escape, frame_table, page, png_bytes
from start_sim.outputs.plots import plt

TORNADO_COLUMNS = ("input", "kind", "low_value", "high_value", "net_at_low", "net_at_high", "width")


def tornado_figure(tor: pd.DataFrame, point: float, path: str | Path | None = None) -> str:
    """Horizontal bars of net savings, widest on top, input limits printed beside the bars, as a
    data URI (and a PNG file at ``path``)."""
    tor = tor.head(14)
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(tor) + 1.3))
    ys = np.arange(len(tor))[::-1]
    span = float(np.nanmax(np.abs(tor[["net_at_low", "net_at_high"]].to_numpy() - point))) or 1.0
    for y, (_, r) in zip(ys, tor.iterrows(), strict=True):
        lo, hi = r["net_at_low"], r["net_at_high"]
        ax.barh(y, lo - point, left=point, color="tab:blue", alpha=0.8)
        ax.barh(y, hi - point, left=point, color="tab:orange", alpha=0.8)
        for val, x in ((r["low_value"], lo), (r["high_value"], hi)):
            ha = "left" if x >= point else "right"
            ax.text(x + (0.02 if x >= point else -0.02) * span, y, _short(val), va="center", ha=ha, fontsize=7)
    ax.axvline(point, color="black", lw=1)
    ax.set_yticks(ys, tor["input"], fontsize=8)
    ax.set_xlim(point - 1.35 * span, point + 1.35 * span)
    ax.set_xlabel("net savings, USD (PV)")
    ax.set_title("One-way sensitivity of net savings (blue: input at its low value, orange: high;\n"
                 "numbers beside the bars are the input values)", fontsize=9)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v / 1e6:.0f}M")
    png = png_bytes(fig, tight=True)
    if path is not None:
        Path(path).write_bytes(png)
    return data_uri(png)


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def psa_figure(d: pd.DataFrame) -> str:
    """Histograms over the PSA draws of net savings, savings per $1 and child-days in care avoided."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    for ax, key, lab in zip(axes, ("net_savings", "savings_per_dollar", "placement_days_avoided"),
                            ("net savings, USD M (PV)", "savings per $1", "child-days in care avoided"), strict=True):
        v = d[key].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        if key == "net_savings":
            v = v / 1e6
            ax.axvline(0, color="red", lw=1)
        if key == "savings_per_dollar":
            ax.axvline(1, color="red", lw=1)
        ax.hist(v, bins=30, color="tab:blue", alpha=0.8)
        ax.set_xlabel(lab, fontsize=8)
    fig.tight_layout()
    return data_uri(png_bytes(fig, tight=True))


def render_html(res: UncertaintyResult) -> str:
    """The uncertainty report as one HTML page."""
    s = res.summary()
    o = res.options
    r = res.ratio_table
    rate = o.discount_rate if o.discount_rate is not None else res.scenario.costs.discount_rate_per_year
    horizon = o.horizon_years if o.horizon_years is not None else res.scenario.runout_years
    morris = frame_table(res.morris, list(res.morris.columns)) if len(res.morris) else "<p>not run</p>"
    body = f"""<h1>Uncertainty and benefit-cost: {escape(res.scenario.name)}</h1>
<p>{res.info['draws']} PSA draws (posterior rows jointly, unit costs from gamma distributions, sd scale
{res.info['cost_sd_scale']:g}); perspective <b>{o.perspective}</b>; discount rate {rate:g}/yr;
horizon {horizon:g} years of care after referral.
<b>P(net savings &gt; 0) = {res.p_savings_exceed_cost:.2f}</b>. Decide on net savings, not on the ratio.</p>
{frame_table(s, list(s.columns))}
<img src="{psa_figure(res.draws)}">
<h2>Tornado: one-way sensitivity of net savings</h2>
<img src="{tornado_figure(res.tornado, res.point['net_savings'])}">
{frame_table(res.tornado, TORNADO_COLUMNS)}
<h2>Morris elementary effects (SALib), net savings</h2>
{morris}
<h2>Which assumptions reproduce $2.22 per $1?</h2>
<p>Casework and administration cost per child-month in care (on top of maintenance per diems) at which PV placement
cost avoided / PV program cost = 2.22, by horizon of care cost counted and by program cost per family.</p>
{frame_table(r, list(r.columns))}"""
    return page(f"Uncertainty: {res.scenario.name}", body)
