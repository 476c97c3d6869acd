"""The uncertainty report: the bottom line, the PSA, the value of information, tornado, Morris and
Sobol figures and tables and the $2.22 table as one self-contained ``report.html`` in the package's one style, and the tornado
figure as PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from start_sim.analyses.uncertainty import UncertaintyResult
from start_sim.outputs import bottom_line
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape, figure_html, frame_table, notice, page, png_bytes, table
from start_sim.outputs.labels import BCA, plain
from start_sim.outputs.plots import money_axis, plt, style
from start_sim.outputs.voi_words import voi_sentence

TORNADO_COLUMNS = ("input", "kind", "low_value", "high_value", "net_at_low", "net_at_high", "width")
TORNADO_LABELS = {"input": "input", "kind": "kind", "low_value": "low value", "high_value": "high value",
                  "net_at_low": "net savings at low, USD (PV)", "net_at_high": "net savings at high, USD (PV)",
                  "width": "swing, USD"}
MORRIS_LABELS = {"input": "input", "mu_star": "mean absolute effect (\u03bc*), USD", "sigma": "spread (\u03c3), USD",
                 "mu_star_conf": "\u03bc* 95% half-width, USD", "mu": "mean effect (\u03bc), USD"}
RATIO_LABELS = {
    "horizon_years": "years of care counted", "program_cost_scale": "program cost scale",
    "program_cost_per_family": "program cost per family, USD",
    "ratio_at_scenario_costs": "savings per $1 at the scenario's costs (net)",
    "ratio_gross_at_scenario_costs": "savings per $1 at the scenario's costs (gross)",
    "casework_per_child_month_for_target": "in-care casework per child-month for $2.22 (net), USD",
    "casework_per_child_month_for_target_gross": "in-care casework per child-month for $2.22 (gross), USD",
}
PSA_PANELS = (("net_savings", "Net savings", 1e-6, "USD millions (PV)", 0.0),
              ("savings_per_dollar", "Savings per $1 (net cost)", 1.0, "USD per USD", 1.0),
              ("placement_days_avoided", "Child-days in care avoided", 1.0, "days", None))


def tornado_figure(tor: pd.DataFrame, point: float, path: str | Path | None = None) -> bytes:
    """Horizontal bars of net savings, widest on top, input values printed beside the bars, as PNG
    bytes (and a PNG file at ``path``)."""
    tor = tor.head(14)
    with style():
        fig, ax = plt.subplots(figsize=(8, 0.42 * len(tor) + 1.6))
        ys = np.arange(len(tor))[::-1]
        span = float(np.nanmax(np.abs(tor[["net_at_low", "net_at_high"]].to_numpy() - point))) if len(tor) else 0.0
        span = span or 1.0
        for y, (_, r) in zip(ys, tor.iterrows(), strict=True):
            lo, hi = r["net_at_low"], r["net_at_high"]
            ax.barh(y, lo - point, left=point, color="tab:blue", alpha=0.8)
            ax.barh(y, hi - point, left=point, color="tab:orange", alpha=0.8)
            for val, x in ((r["low_value"], lo), (r["high_value"], hi)):
                ha = "left" if x >= point else "right"
                ax.text(x + (0.02 if x >= point else -0.02) * span, y, _short(val), va="center", ha=ha, fontsize=7)
        ax.axvline(point, color="black", lw=1)
        ax.set_yticks(ys, [plain(str(i)) for i in tor["input"]], fontsize=8)
        ax.set_xlim(point - 1.35 * span, point + 1.35 * span)
        ax.set_xlabel("net savings, USD (present value); black line: at the point values")
        ax.set_title("One-way sensitivity of net savings\n(blue: input at its low value, orange: at its high value; "
                     "numbers: the input values)", fontsize=10)
        ax.grid(axis="y", visible=False)
        money_axis(ax.xaxis)
        fig.tight_layout()
    png = png_bytes(fig, tight=True)
    if path is not None:
        Path(path).write_bytes(png)
    return png


def _short(v: float) -> str:
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def psa_figure(d: pd.DataFrame) -> bytes:
    """Histograms over the PSA draws of net savings, savings per $1 and child-days in care avoided (PNG)."""
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
        for ax, (key, title, scale, unit, line) in zip(axes, PSA_PANELS, strict=True):
            v = d[key].to_numpy(dtype=float) * scale
            v = v[np.isfinite(v)]
            if line is not None:
                ax.axvline(line, color="red", lw=1)
            if len(v):
                ax.hist(v, bins=min(30, max(5, len(v) // 4)), color="tab:blue", alpha=0.8)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel(unit, fontsize=8)
            ax.set_ylabel("draws", fontsize=8)
            ax.tick_params(labelsize=8)
        fig.suptitle(f"Probabilistic sensitivity analysis: {len(d)} draws of effects and unit costs "
                     "(red line: break-even)", fontsize=10)
        fig.tight_layout()
    return png_bytes(fig, tight=True)


def summary_html(s: pd.DataFrame) -> str:
    """The PSA summary with labels and units."""
    rows = [[escape(BCA.get(r["output"], (plain(r["output"]), ""))[0]), escape(BCA.get(r["output"], ("", ""))[1]),
             *(fmt(r[c]) for c in ("point", "mean", "p2.5", "median", "p97.5"))] for _, r in s.iterrows()]
    return table(["output", "unit", "at point values", "mean", "2.5%", "median", "97.5%"], rows, numeric_from=2)


def by_year_html(t: pd.DataFrame) -> str:
    """The table "Chance START has paid for itself, by year" (present values; empty without rows)."""
    if t.empty:
        return ""
    rows = [[str(r["year"]), escape(r["perspective"]),
             *(fmt(r[c]) for c in ("net_savings_mean", "cumulative_mean", "cumulative_p2.5", "cumulative_p97.5",
                                   "p_paid_for_itself"))] for _, r in t.iterrows()]
    return ("<h2>Chance START has paid for itself, by year</h2><p class=small>Present values (USD, discounted to the "
            "start of the run, as the totals above), by programme year from day 0. Cumulative: net savings from the "
            "start to the end of the year; P: the share of draws in which that is above 0 (\"by the end of year k, has "
            "START paid for itself?\"). Each draw's ledger is cut at the year's end and priced under the draw's "
            "costs; the last year also holds anything later, so its cumulative value is the draw's net savings. "
            "Also in <code>psa_by_year.csv</code>.</p>"
            + table(["year", "perspective", "net savings in the year, mean", "cumulative net savings, mean",
                     "cumulative, 2.5%", "cumulative, 97.5%", "P(paid for itself)"], rows, numeric_from=2))


def render_html(res: UncertaintyResult, tornado_png: bytes | None = None) -> str:
    """The uncertainty report as one HTML page (``tornado_png``: the tornado figure, if drawn already)."""
    s = res.summary()
    o = res.options
    r = res.ratio_table
    rate = o.discount_rate if o.discount_rate is not None else res.scenario.costs.discount_rate_per_year
    horizon = o.horizon_years if o.horizon_years is not None else res.scenario.runout_years
    bl = bottom_line.uncertainty(s, res.p_savings_exceed_cost, res.info["draws"], o.perspective, horizon, rate)
    morris = (frame_table(res.morris, list(res.morris.columns), MORRIS_LABELS) if len(res.morris)
              else notice("Morris screening was not run (--morris-trajectories 0)."))
    tornado = tornado_png if tornado_png is not None else tornado_figure(res.tornado, res.point["net_savings"])
    body = f"""<h1>Uncertainty and benefit-cost: {escape(res.scenario.name)}</h1>
<p class=meta>{res.info['draws']} draws of the probabilistic sensitivity analysis (posterior rows jointly, unit
costs from gamma distributions, sd scale {res.info['cost_sd_scale']:g}); perspective <b>{escape(o.perspective)}</b>;
discount rate {100 * rate:g}% a year; {horizon:g} year{"" if horizon == 1 else "s"} of care counted after referral.</p>
{bottom_line.as_html(bl)}
<h2>Probabilistic sensitivity analysis</h2>
<p class=small>Point: at the point values of every input; mean, median and the 2.5% and 97.5% points over the draws.
The range covers parameter uncertainty (effects and unit costs) and each draw's chance variation.</p>
{summary_html(s)}
{figure_html("psa", psa_figure(res.draws), "Distribution over the draws; the red line is break-even.", named=False)}
{by_year_html(res.by_year())}
{voi_html(res)}
<h2>Tornado: one-way sensitivity of net savings</h2>
{figure_html("tornado", tornado, "Each input moved alone over its 2.5-97.5% range, the others at point values.")}
{frame_table(res.tornado, TORNADO_COLUMNS, TORNADO_LABELS)}
<h2>Morris elementary effects, net savings</h2>
<p class=small>A screening of which inputs matter (SALib); posterior correlations are ignored here.</p>
{morris}
<h2>Sobol indices, net savings</h2>
<p class=small>Share of the variance of net savings each input explains alone (first-order) and with all its
interactions (total), with 95% confidence half-widths (SALib); same inputs and ranges as the Morris screening.</p>
{sobol_html(res.sobol)}
<h2>Which assumptions reproduce $2.22 per $1?</h2>
<p class=small>In-care casework and administration cost per child-month (on top of the per diems) at which the present
value of placement cost avoided / the program cost = 2.22, by years of care counted and program cost per family.</p>
{frame_table(r, list(r.columns), RATIO_LABELS)}"""
    return page(f"Uncertainty: {res.scenario.name}", body)


SOBOL_LABELS = {"input": "input", "S1": "first-order S1", "S1_conf": "S1 95% half-width", "ST": "total ST",
                "ST_conf": "ST 95% half-width"}


SOBOL_WIDE = 0.1
"""A 95% half-width above 0.1 (of a variance share from 0 to 1) makes the indices indicative only."""


def sobol_note(sob: pd.DataFrame) -> str:
    """A caution when the Sobol indices' intervals are too wide to rank inputs by, else ''."""
    wide = float(sob[["S1_conf", "ST_conf"]].to_numpy().max()) if len(sob) else 0.0
    if wide <= SOBOL_WIDE:
        return ""
    return (f"Indicative only: 95% half-widths up to {wide:.2f} of a variance share between 0 and 1, too wide to "
            "rank inputs by; more base samples (--sobol-samples 64 or more) narrow them. Until then, rank inputs by "
            "the tornado and the Morris screening.")


def sobol_html(sob: pd.DataFrame) -> str:
    if not len(sob):
        return notice("Sobol indices were not computed (--sobol-samples 0).")
    note = sobol_note(sob)
    return (notice(note) if note else "") + frame_table(sob, list(SOBOL_LABELS), SOBOL_LABELS)


def voi_html(res: UncertaintyResult) -> str:
    """EVPI and the EVPPI of each group in planners' words, then the table (groups, then single inputs)."""
    v = res.voi
    if v is None:
        return ""
    rows = [["everything (EVPI)", "-", fmt(v.evpi_per_family), fmt(v.evpi), "100%"]]
    for r in v.groups.itertuples():
        name = r.group if r.kind == "group" else f"{r.group} alone"
        share = ("-" if r.share_of_evpi != r.share_of_evpi else
                 f"{100 * r.share_of_evpi:.0f}% (above EVPI: too few draws)" if r.above_evpi else
                 f"{100 * r.share_of_evpi:.0f}%")
        rows.append([escape(name), str(r.inputs) if r.inputs else "none drawn", fmt(r.evppi_per_family),
                     fmt(r.evppi), share])
    return (f"<h2>Is a better evaluation worth paying for? Value of information</h2><p>{escape(voi_sentence(v, res.scenario.name))}</p>"
            "<p class=small>Decision: expand START or not, on net savings. EVPI: the expected gain from deciding after "
            "learning every uncertain input; EVPPI: from learning one group (regression method of Strong, Oakley "
            "and Brennan 2014, from the PSA draws). Per family: divided by the mean families referred per draw.</p>"
            + table(["what is learnt", "inputs", "per family, USD", f"all {v.families:,.0f} families, USD (PV)",
                     "share of EVPI"], rows, numeric_from=2))
