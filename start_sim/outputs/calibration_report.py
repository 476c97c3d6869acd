"""The calibration folder: the fit, posterior, particles and evaluations as CSV, the calibrated
scenario fragment, and one self-contained ``report.html`` (figures embedded as base64 PNG).

The report shows target vs simulated (best fit, posterior mean and 95% intervals) as a table
and a figure, the posterior of each free parameter against its prior range, and notes drawn
from the targets file (weights, design effects, populations and sources).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from start_sim.analyses.calibration import CalibrationResult
from start_sim.inputs.targets import SHARE_KINDS
from start_sim.outputs import bottom_line
from start_sim.outputs.calibrated_scenario import fragment_toml
from start_sim.outputs.calibration_identification import identification_html
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import cell, escape, figure_html, frame_table, page, png_bytes, table
from start_sim.outputs.labels import kpi_label, param_label
from start_sim.outputs.plots import plt, style

FIT_HEADER = ("target", "result", "observed [interval]", "effective n", "best fit", "posterior mean [95%]",
              "predictive 95%", "deviance", "inside")


def fit_html(fit: pd.DataFrame) -> str:
    """Targets against the simulated values, intervals in the cell of their value."""
    def iv(m: str, lo: float, hi: float) -> str:
        return f"{m} <span class=ci>[{fmt(lo)}, {fmt(hi)}]</span>"

    rows = [[escape(r["target"]), escape(_result(r)), iv(fmt(r["observed"]), r["low"], r["high"]), fmt(r["n_eff"]),
             fmt(r["best"]), iv(fmt(r["post_mean"]), r["post_low"], r["post_high"]),
             iv("", r["pred_low"], r["pred_high"]), fmt(r["deviance"]), cell(bool(r["inside"]))]
            for _, r in fit.iterrows()]
    return table(list(FIT_HEADER), rows, numeric_from=2)


POST_LABELS = {"parameter": "parameter", "drives": "what it drives", "prior_low": "prior low", "prior_high": "prior high",
               "default": "default", "best_fit": "best fit", "post_mean": "posterior mean",
               "post_2.5%": "posterior 2.5%", "post_97.5%": "posterior 97.5%"}


def _result(r: pd.Series) -> str:
    """A target's simulated result in words: its KPI's label and arm (or its kind), and its site if any."""
    kpi, _, site = str(r["kpi"]).partition("@")
    return kpi_label(f"{kpi}_{r['arm']}") + (f" ({site})" if site else "")


def targets_figure(fit: pd.DataFrame) -> bytes:
    """Observed intervals against the simulated best fit and posterior of every share target (PNG)."""
    rows = fit[fit["kind"].isin(SHARE_KINDS)].reset_index(drop=True)
    with style():
        return png_bytes(_targets_axes(rows), tight=True)


def _targets_axes(rows: pd.DataFrame) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        ax.plot([r["low"], r["high"]], [yi + 0.12] * 2, color="black", lw=2)
        ax.plot(r["observed"], yi + 0.12, "o", color="black")
        ax.plot([r["pred_low"], r["pred_high"]], [yi - 0.12] * 2, color="tab:orange", lw=1, alpha=0.6)
        ax.plot([r["post_low"], r["post_high"]], [yi - 0.12] * 2, color="tab:blue", lw=3)
        ax.plot(r["best"], yi - 0.12, "D", color="tab:blue", ms=5)
    ax.set_yticks(y, [f"{r['target']}: {_result(r)}" for _, r in rows.iterrows()], fontsize=8)
    ax.set_xlabel("share")
    ax.set_title("Observed (black: value and interval) vs simulated (blue: best fit and 95% posterior;\n"
                 "orange: 95% predictive at the study's effective n)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    ax.grid(axis="y", visible=False)
    return fig


def posterior_figure(res: CalibrationResult) -> bytes:
    """Histograms of the posterior draws of every free parameter over its prior range (PNG)."""
    params = res.target_set.parameters
    n = len(params)
    cols = min(4, n)
    rws = math.ceil(n / cols)
    with style():
        fig, axes = plt.subplots(rws, cols, figsize=(2.4 * cols, 2.2 * rws), squeeze=False)
        for ax, p in zip(axes.flat, params, strict=False):
            ax.hist(res.posterior[p.path].to_numpy(), bins=20, range=(p.low, p.high), color="tab:blue", alpha=0.7)
            ax.axvline(p.default, color="grey", ls="--", lw=1, label="default")
            ax.axvline(res.best[p.path], color="tab:red", lw=1.5, label="best fit")
            ax.set_xlim(p.low, p.high)
            ax.set_title(_wrap(param_label(p.path)), fontsize=8, fontweight="normal")
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        fig.suptitle("Posterior draws of each free parameter (x axis: its uniform prior range)", fontsize=9)
        fig.tight_layout()
    return png_bytes(fig, tight=True)


def _wrap(text: str, width: int = 28) -> str:
    """``text`` broken into lines of about ``width`` characters (for small titles)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _notes(res: CalibrationResult) -> str:
    """Notes and limitations that follow from the targets file, not from one state's studies."""
    ts = res.target_set
    s = ts.settings
    down = [f"{t.label} (weight {t.weight:g})" for t in ts.fitted if t.weight != 1]
    clustered = [f"{t.label} (design effect {t.design_effect:g})" for t in ts.fitted if t.design_effect != 1]
    items = [
        "Effective sample sizes are n / design effect &times; weight (targets file "
        f"<code>{escape(ts.source)}</code>): the weight discounts studies of overlapping populations, the design "
        "effect clustering. " + (f"Weighted down: {escape(', '.join(down))}. " if down else "")
        + (f"Clustered: {escape(', '.join(clustered))}." if clustered else ""),
        "Targets that are different outcomes of one sample enter the likelihood as independent (their correlation "
        "is ignored).",
        f"The fit uses {s.horizon_years:g} years of referrals (same counties, caseloads and run-out as the full "
        "scenario); check the calibrated values on the full scenario.",
    ]
    populations = res.fit.drop_duplicates(["target", "arm"])[["target", "arm", "population", "source"]]
    return ("<h2>Notes and limitations</h2><ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
            "<h3>Populations and sources of the targets</h3>"
            + frame_table(populations, list(populations.columns)))


def render(res: CalibrationResult) -> str:
    """The calibration report as one HTML page."""
    fit = res.fit
    s = res.target_set.settings
    missed = fit[~fit["inside"]]
    verdict = ("Every target's best-fit value is inside its interval." if missed.empty else
               "Targets outside their interval: " + ", ".join(f"{r.target}, {kpi_label(f'{r.kpi}_{r.arm}')}"
                                                              for r in missed.itertuples()) + ".")
    post = pd.DataFrame([{
        "parameter": param_label(p.path), "drives": p.drives, "prior_low": p.low, "prior_high": p.high, "default": p.default,
        "best_fit": res.best[p.path], "post_mean": float(res.posterior[p.path].mean()),
        "post_2.5%": float(res.posterior[p.path].quantile(0.025)),
        "post_97.5%": float(res.posterior[p.path].quantile(0.975)),
    } for p in res.target_set.parameters])
    info = res.info
    body = f"""<h1>Calibration: {escape(res.scenario.name)}</h1>
<p class=meta>Fit date {info.get('date')}; targets {escape(res.target_set.source)}; calibration scenario: the scenario with
{s.horizon_years:g} years of referrals, {info.get('replications')} replications per evaluation, seed {info.get('seed')}
(common random numbers: the objective is deterministic). {info.get('evaluations')} evaluations in
{res.seconds / 60:.1f} minutes. Best deviance (-2 log-likelihood ratio) {res.best_deviance:.2f}.
Posterior: sampling-importance-resampling on a QMC (Sobol) multivariate-normal design around the optimum;
effective sample size {res.ess:.0f} of {len(res.particles)} particles
({info.get('proposal_outside_prior', 0)} proposal points fell outside the prior box and were skipped: the proposal is
the normal truncated to the box).</p>
{bottom_line.as_html(bottom_line.calibration(fit, res.ess, len(res.particles), res.best_deviance))}
<p><b>{escape(verdict)}</b></p>
<h2>Targets vs simulated</h2>
<p class=small>Observed, low, high: the target and its interval; best fit: simulated at the best fit; posterior: mean
and 95% interval of the simulated value over posterior draws (parameter uncertainty); predictive: 95% interval of a
study of the target's effective size (parameter and sampling uncertainty); deviance: the target's share of -2 log L.</p>
{figure_html("targets", targets_figure(fit), "Targets against the simulated values.", named=False)}
{fit_html(fit)}
<h2>Posterior of the free parameters</h2>
{figure_html("posterior", posterior_figure(res), "Posterior draws against each parameter's prior range.", named=False)}
{frame_table(post, list(post.columns), POST_LABELS)}
{identification_html(res)}
{_notes(res)}"""
    return page(f"Calibration: {res.scenario.name}", body)


def write_calibration(res: CalibrationResult, folder: str | Path, scenario_source: str | Path,
                      fragment: str | Path | None = None) -> Path:
    """``folder``/fit.csv, posterior.csv, particles.csv, evaluations.csv and report.html, and the
    calibrated fragment (default ``folder``/calibrated.toml) extending ``scenario_source``; returns the fragment."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    res.fit.to_csv(out / "fit.csv", index=False)
    res.posterior.to_csv(out / "posterior.csv", index=False)
    res.particles.to_csv(out / "particles.csv", index=False)
    res.evaluations.to_csv(out / "evaluations.csv", index=False)
    if not res.sensitivity.empty:
        res.sensitivity.to_csv(out / "sensitivity.csv", index=False)
    frag = Path(fragment) if fragment else out / "calibrated.toml"
    frag.parent.mkdir(parents=True, exist_ok=True)
    extends = os.path.relpath(Path(scenario_source).resolve(), frag.parent.resolve())
    frag.write_text(fragment_toml(res, extends, os.fspath(scenario_source)))
    (out / "report.html").write_text(render(res), encoding="utf-8")
    return frag
