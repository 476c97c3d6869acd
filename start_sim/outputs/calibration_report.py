"""The calibration report: one self-contained HTML page (figures embedded as base64 PNG).

Target vs simulated (best fit, posterior mean and 95% intervals) as a table and a figure,
and the posterior of each free parameter against its prior range.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from start_sim.analyses.calibration import CalibrationResult


def png(fig) -> str:
    """A matplotlib figure as a data URI; the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _mpl():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def targets_figure(fit) -> str:
    plt = _mpl()
    rows = fit[fit["kind"].isin(["rate", "at_least"])].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        ax.plot([r["low"], r["high"]], [yi + 0.12] * 2, color="black", lw=2)
        ax.plot(r["observed"], yi + 0.12, "o", color="black")
        ax.plot([r["pred_low"], r["pred_high"]], [yi - 0.12] * 2, color="tab:orange", lw=1, alpha=0.6)
        ax.plot([r["post_low"], r["post_high"]], [yi - 0.12] * 2, color="tab:blue", lw=3)
        ax.plot(r["best"], yi - 0.12, "D", color="tab:blue", ms=5)
    ax.set_yticks(y, [f"{r['target']} {r['arm']}: {r['kpi']}" for _, r in rows.iterrows()], fontsize=8)
    ax.set_xlabel("share")
    ax.set_title("Observed (black: value and interval) vs simulated (blue: best fit and 95% posterior;\n"
                 "orange: 95% predictive at the study's effective n)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return png(fig)


def posterior_figure(res: CalibrationResult) -> str:
    plt = _mpl()
    params = res.target_set.parameters
    n = len(params)
    cols = min(4, n)
    rws = math.ceil(n / cols)
    fig, axes = plt.subplots(rws, cols, figsize=(3.2 * cols, 2.4 * rws), squeeze=False)
    for ax, p in zip(axes.flat, params, strict=False):
        vals = res.posterior[p.path].to_numpy()
        ax.hist(vals, bins=20, range=(p.low, p.high), color="tab:blue", alpha=0.7)
        ax.axvline(p.default, color="grey", ls="--", lw=1, label="default")
        ax.axvline(res.best[p.path], color="tab:red", lw=1.5, label="best fit")
        ax.set_xlim(p.low, p.high)
        ax.set_title(p.path, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Posterior draws (x axis = uniform prior range)", fontsize=9)
    fig.tight_layout()
    return png(fig)


def _fmt(v) -> str:
    if isinstance(v, str):
        return html.escape(v)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "<b>no</b>"
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:.3f}"


def _table(df, cols) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r[c])}</td>" for c in cols) + "</tr>" for _, r in df.iterrows())
    return f"<table><tr>{head}</tr>{body}</table>"


def render(res: CalibrationResult) -> str:
    import pandas as pd

    fit = res.fit
    s = res.target_set.settings
    missed = fit[~fit["inside"]]
    verdict = ("Every target's best-fit value is inside its interval." if missed.empty else
               "Targets outside their interval: " + ", ".join(f"{r.target} {r.arm}" for r in missed.itertuples())
               + ". See the discussion below.")
    post = pd.DataFrame([{
        "parameter": p.path, "drives": p.drives, "prior_low": p.low, "prior_high": p.high, "default": p.default,
        "best_fit": res.best[p.path], "post_mean": float(res.posterior[p.path].mean()),
        "post_2.5%": float(res.posterior[p.path].quantile(0.025)),
        "post_97.5%": float(res.posterior[p.path].quantile(0.975)),
    } for p in res.target_set.parameters])
    fit_cols = ["target", "arm", "kpi", "kind", "observed", "low", "high", "n_eff", "best", "post_mean", "post_low",
                "post_high", "pred_low", "pred_high", "deviance", "inside"]
    info = res.info
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>start-sim calibration</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;}}table{{border-collapse:collapse;font-size:12px}}
td,th{{border:1px solid #ccc;padding:3px 6px;text-align:right}}th{{background:#eee}}</style></head><body>
<h1>Calibration: {html.escape(res.scenario.name)}</h1>
<p>Fit date {info.get('date')}; targets {html.escape(res.target_set.source)}; calibration scenario: the scenario with
{s.horizon_years:g} years of referrals, {info.get('replications')} replications per evaluation, seed {info.get('seed')}
(common random numbers: the objective is deterministic). {info.get('evaluations')} evaluations in
{res.seconds / 60:.1f} minutes. Best deviance (-2 log-likelihood ratio) {res.best_deviance:.2f}.
Posterior: sampling-importance-resampling on a QMC (Sobol) multivariate-normal design around the optimum;
effective sample size {res.ess:.0f} of {len(res.particles)} particles
({info.get('proposal_outside_prior', 0)} proposal points fell outside the prior box and were skipped: the proposal is the normal truncated to the box).</p>
<p><b>{html.escape(verdict)}</b></p>
<h2>Targets vs simulated</h2>
<p>observed, low, high: the target and its interval; best: simulated at the best fit; post_*: mean and 95% interval of
the simulated value over posterior draws (parameter uncertainty); pred_*: 95% predictive interval of a study of the
target's effective size (parameter and sampling uncertainty); deviance: the target's share of -2 log L.</p>
<img src="{targets_figure(fit)}">
{_table(fit, fit_cols)}
<h2>Posterior of the free parameters</h2>
<img src="{posterior_figure(res)}">
{_table(post, list(post.columns))}
<h2>Notes and limitations</h2>
<ul>
<li>Weighting: the Kentucky studies overlap; T1 is the primary placement target and T2 a cross-check at a quarter
weight; T1, T4 and T5 are outcomes of one sample and enter as independent (their correlation is ignored). Effective
sample sizes and design effects are in the targets file.</li>
<li>T6 (sobriety) and T7 (home at closure) have no published n; their intervals are analyst judgement. T7 is not in
evidence.md section 3: the nearest stated figure (&gt;75% home at closure) is used as a one-sided target.</li>
<li>The model counts all children of a family; T1, T4 and T5 count the youngest child per family.</li>
<li>The fit uses a shorter referral horizon than the full scenario (same counties, caseloads and run-out); the
shipped values are then checked on the full scenario by the slow test.</li>
</ul>
</body></html>"""


def write_report(res: CalibrationResult, path: str | Path) -> None:
    Path(path).write_text(render(res))
