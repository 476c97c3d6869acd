"""A report a planner can hand on: one self-contained ``report.html`` and its PNG figures.

The HTML embeds every figure as a base64 ``data:`` URI and carries its own styles, so it
opens in a browser with no network (:mod:`start_sim.outputs.html`). It shows the headline
KPIs with their 95% confidence intervals, the figures (caseload, waitlist and staff over time;
outcomes START vs usual services; cost and savings over time; savings per dollar), how precise
the estimates are (and the replications the rule of :mod:`start_sim.experiments.precision`
would need), the scenario's key inputs with their sources (:mod:`start_sim.outputs.sources`),
and the run's manifest.

``start-sim report DIR`` rebuilds it from a results folder; ``run`` and ``compare`` write
it at the end.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

from start_sim.core.errors import RunError
from start_sim.core.stats import mean_ci
from start_sim.experiments.precision import DEFAULT_KPIS, replications_needed
from start_sim.metrics.registry import METRICS
from start_sim.outputs import bottom_line, plots
from start_sim.outputs.fiscal_table import fiscal_html
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape as _e
from start_sim.outputs.html import figure_html, notice, page, png_bytes
from start_sim.outputs.html import table as _table
from start_sim.outputs.labels import BUDGET, kpi_label, plain
from start_sim.outputs.sources import differing_inputs_html, inputs_html

if TYPE_CHECKING:
    from start_sim.experiments.compare import Comparison
    from start_sim.experiments.results import Results

# (file stem, function name in start_sim.outputs.plots, caption)
RUN_FIGURES = (
    ("caseload", "caseload_plot", "Open START cases against caseload slots, and families waiting for a dyad, month by month."),
    ("staff", "staff_plot", "START caseworkers and mentors in post (training included) and posts waiting to be filled."),
    ("outcomes", "outcomes_plot", "Outcomes of the families START served, and of the very same families under usual "
                                  "services (the counterfactual run on the same random numbers)."),
    ("costs", "costs_plot", "Cumulative present value of START staff cost and of the placement cost avoided for the "
                            "horizon's referred families; net savings is their difference."),
    ("savings_per_dollar", "savings_plot", "Placement cost avoided per dollar of START staff cost, one value per "
                                           "replication, with the mean and its 95% confidence interval."),
)
COMPARE_FIGURES = (
    ("differences", None, "Paired differences from the reference scenario, replication by replication on common random "
                          "numbers, as a percentage of the reference's mean."),
    *RUN_FIGURES,
)


INTERVALS = ("Mean over replications [95% confidence interval]. The intervals cover simulation noise only; see "
             "the uncertainty analysis (start-sim uncertainty) for parameter uncertainty.")
NOTHING_SERVED = ("Nothing to show: no family is served by START in this scenario (no dyads, or none in post "
                  "within the horizon), so there are no START caseloads, outcomes or savings to chart.")


def _ci(row: Mapping) -> str:
    return f"{fmt(row['mean'])} <span class=ci>[{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]</span>"


def setting_of(results: Results) -> bottom_line.Setting:
    """What the bottom line needs to know of a run's scenario."""
    return bottom_line.setting(results.scenario)


def served(results: Results) -> bool:
    """Whether START served any family in any replication."""
    k = results.kpis
    return "families_started" in k.columns and bool((k["families_started"] > 0).any())


def _figures(folder: Path, specs: tuple, make: Callable[[str | None, str], Figure], empty: str | None = None) -> str:
    """Each figure of ``specs`` as ``stem.png`` in ``folder`` and as embedded HTML; with ``empty``,
    that notice in place of every figure (and no PNG)."""
    parts = []
    for stem, fn, caption in specs:
        if empty:
            (folder / f"{stem}.png").unlink(missing_ok=True)
            parts.append(f'<figure id="fig-{stem}">{notice(empty)}<figcaption>{_e(caption)}</figcaption></figure>')
            continue
        png = png_bytes(make(fn, stem))
        (folder / f"{stem}.png").write_bytes(png)
        parts.append(figure_html(stem, png, caption))
    return "\n".join(parts)


def kpi_tables_html(results: Results) -> str:
    """Capacity, staff and cost KPIs, then outcomes START vs usual services, with 95% CIs."""
    s = results.summary()
    cap, out = [], []
    for m in METRICS.values():
        if m.arms:
            a, b = f"{m.key}_start", f"{m.key}_usual"
            if a in s.index:
                out.append([_e(m.label), _e(m.unit), _ci(s.loc[a]), _ci(s.loc[b]), _e(plain(m.definition))])
        elif m.key in s.index:
            cap.append([_e(m.label), _e(m.unit), _ci(s.loc[m.key]), _e(plain(m.definition))])
    return (
        f"<h2>Capacity, staff and costs</h2><p class=small>{INTERVALS}</p>"
        + _table(["KPI", "unit", "mean [95% CI]", "definition"], cap, numeric_from=2, definition_from=3)
        + "<h2>Outcomes: START vs usual services for the same families</h2>"
        + f"<p class=small>{INTERVALS}</p>"
        + _table(["KPI", "unit", "START", "usual services", "definition"], out, numeric_from=2, definition_from=4)
    )


def budget_html(results: Results) -> str:
    """Nominal costs by programme year (mean over replications), as a budget request needs them."""
    if results.budget.empty:
        return ""
    b = results.budget_by_year()
    cols = [c for c in BUDGET if c in b.columns]
    def k(v: float) -> str:
        return f"{v / 1000:,.0f}" if math.isfinite(v) else "-"

    rows = [[str(y), *(k(r[c]) for c in cols)] for y, r in b.iterrows()]
    rows.append(["total", *(f"<b>{k(b[c].sum())}</b>" for c in cols)])
    return ("<h2>Budget by programme year</h2><p class=small>Thousands of USD, nominal (not discounted), today's "
            "unit costs, "
            f"mean of {results.replications} replications, all counties; care, treatment, casework and subsidies "
            "of the families referred within the horizon, in the year they are paid (as "
            "<code>budget_by_year.csv</code>).</p>"
            + _table(["year", *(_e(BUDGET[c]) for c in cols)], rows))


def precision_html(kpis: pd.DataFrame, rule: dict | None) -> str:
    """How precise the KPIs are, and the replications the precision rule needs."""
    cols = [k for k in DEFAULT_KPIS if k in kpis.columns]
    p = (rule or {}).get("precision", 0.05)
    need = replications_needed(kpis, cols, precision=p)
    rows = [[_e(kpi_label(k)), fmt(r["mean"]), f"{100 * r['precision_now']:.1f}%" if math.isfinite(r["precision_now"]) else "-",
        fmt(r["needed"]), fmt(r["projected"])] for k, r in need.iterrows()]
    head = (f"<p>Replications were chosen by the confidence-interval method: run until each KPI's 95% CI half-width "
            f"is within {100 * p:g}% of its mean for {rule.get('look_ahead')} replications in a row. Precision "
            f"reached after <b>{rule.get('needed')}</b> replications; {rule.get('used')} used.</p>"
            if rule and rule.get("reached") else
            f"<p><b>Precision of {100 * p:g}% was not reached</b> within {rule.get('max_replications')} replications.</p>"
            if rule else "")
    return (
        "<h2>How precise are these estimates?</h2>" + head
        + f"<p class=small>Relative precision: 95% CI half-width / |mean| after {len(kpis)} replications. "
        f"<i>needed</i>: the replications after which it stayed within {100 * p:g}% (with a look-ahead of 5), "
        "'-' if not yet; <i>projected</i>: (t &middot; sd / (precision &middot; mean))&sup2;. "
        "Run with <code>--replications auto --precision 0.05</code> to choose the number this way.</p>"
        + _table(["KPI", "mean", "precision now", "needed", "projected"], rows)
    )


def _manifest_html(manifest: dict) -> str:
    return ("<h2>Manifest</h2><p class=small>The run's provenance, as in <code>manifest.json</code>.</p>"
            f"<details><summary>manifest.json</summary><pre>{_e(json.dumps(manifest, indent=2))}</pre></details>")


def write_run_report(results: Results, folder: str | Path, uncertainty: str | Path | None = None) -> Path:
    """Figures (PNG) and ``report.html`` of one run into ``folder``; ``uncertainty``: the folder of
    the uncertainty analysis of the same scenario, for the bottom line and the chance by year that
    START has paid for itself."""
    folder = Path(folder)
    psa = read_psa(uncertainty, results.scenario.name) if uncertainty is not None else None
    sc = results.scenario
    empty = None if served(results) else NOTHING_SERVED
    figures = _figures(folder, RUN_FIGURES, lambda fn, stem: getattr(plots, fn)(results), empty)
    manifest = results.manifest()
    rule = results.info.rule
    body = (
        f"<h1>{_e(sc.name)}</h1><p>{_e(sc.description)}</p>"
        f"<p class=meta>{results.replications} replications, seed {results.seed}; horizon {sc.horizon_years:g} "
        f"years with {sc.runout_years:g} years of follow-up; {len(sc.counties)} "
        f"{'county' if len(sc.counties) == 1 else 'counties'}. Scenario file: "
        f"<code>{_e(results.source or '-')}</code>. Every family appears in both arms: START and usual services "
        "(the counterfactual) on common random numbers.</p>"
        + bottom_line.as_html(bottom_line.run(results.summary(), setting_of(results), psa))
        + kpi_tables_html(results)
        + budget_html(results)
        + fiscal_html(results, folder, Path(uncertainty) if uncertainty is not None else None)
        + "<h2>Figures</h2>" + figures
        + precision_html(results.kpis, rule)
        + inputs_html(sc)
        + _manifest_html(manifest)
    )
    path = folder / "report.html"
    path.write_text(page(f"{sc.name}: start-sim report", body), encoding="utf-8")
    return path


def write_compare_report(cmp: Comparison, folder: str | Path) -> Path:
    """Figures (PNG) and ``report.html`` of a comparison into ``folder``."""
    from start_sim.experiments.compare import HEADLINE, manifest

    folder = Path(folder)
    names = cmp.names
    ref = names[0]
    summary = cmp.summary()

    def make(fn: str | None, stem: str):
        if fn is None:
            return plots.differences_plot(summary, list(HEADLINE), ref)
        return getattr(plots, fn)(cmp.results)

    any_served = any(served(r) for r in cmp.results.values())
    figures = _figures(folder, COMPARE_FIGURES, make, None if any_served else NOTHING_SERVED)
    rows_by = summary.set_index(["kpi", "scenario"])
    head = ["KPI", *[_e(n) for n in names], *[f"{_e(n)} &minus; {_e(ref)}" for n in names[1:]]]
    rows = []
    for kpi in HEADLINE:
        if (kpi, ref) not in rows_by.index:
            continue
        cells = [_e(rows_by.at[(kpi, ref), "label"])]
        cells += [_ci(rows_by.loc[(kpi, n)]) for n in names]
        for n in names[1:]:
            r = rows_by.loc[(kpi, n)]
            cells.append(f"{fmt(r['diff_mean'])} <span class=ci>[{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]</span>")
        rows.append(cells)
    first = cmp.results[ref]
    links = " ".join(f'<a href="scenarios/{_e(n)}/report.html">{_e(n)}</a>' for n in names)
    body = (
        f"<h1>Comparison: {' vs '.join(_e(n) for n in names)}</h1>"
        f"<p class=meta>Reference: <b>{_e(ref)}</b>. {first.replications} replications each, seed {first.seed}: "
        "replication <i>i</i> of every scenario sees the same families with the same random draws, so differences "
        "are paired replication by replication (much narrower intervals than from independent runs). Each "
        f"scenario's own report: {links}.</p>"
        + bottom_line.as_html(bottom_line.compare(summary, names, {n: setting_of(r) for n, r in cmp.results.items()}))
        + outcomes_per_cost_html(cmp)
        + "<h2>Headline KPIs and paired differences</h2>"
        f"<p class=small>{INTERVALS} The full table is <code>comparison.csv</code>.</p>"
        + _table(head, rows)
        + "<h2>Figures</h2>" + figures
        + precision_html(first.kpis, cmp.info.rule)
        + differing_inputs_html({n: r.scenario for n, r in cmp.results.items()})
        + inputs_html(first.scenario, f"Key inputs of the reference ({ref}) and their sources")
        + _manifest_html(manifest(cmp))
    )
    path = folder / "report.html"
    path.write_text(page(f"start-sim comparison: {' vs '.join(names)}", body), encoding="utf-8")
    return path


OUTCOME_ROWS = (
    ("families_started", "Families served by START"),
    ("share_assigned_within_14d", "Assigned within 14 days"),
    ("placement_rate_12m_start", "Children placed within 12 months (START)"),
    ("placement_rate_12m_usual", "Children placed within 12 months (same families, usual services)"),
    ("sobriety_rate_at_closure_start", "Parents in recovery at closure (START)"),
    ("home_at_closure_rate_start", "Children home at closure (START)"),
    ("net_program_cost", "START program cost (net), USD (PV)"),
    ("cost_per_family", "Net cost per family served, USD (PV)"),
    ("cost_per_placement_avoided", "Net cost per placement avoided, USD"),
    ("net_savings", "Net savings, USD (PV)"),
)


def outcomes_per_cost_html(cmp: Comparison) -> str:
    """What each scenario achieves and what it costs per outcome, beside its net savings."""
    def ci(res: Results, key: str) -> str:
        k = res.kpis
        if key == "cost_per_family":
            x = (k["net_program_cost"] / k["families_started"].where(k["families_started"] > 0)).to_numpy(dtype=float)
        elif key in k.columns:
            x = k[key].to_numpy(dtype=float)
        else:
            return "-"
        mean, lo, hi = mean_ci(x)
        return _ci({"mean": mean, "ci_low": lo, "ci_high": hi})

    rows = [[_e(label), *(ci(r, key) for r in cmp.results.values())] for key, label in OUTCOME_ROWS]
    return ("<h2>Outcomes and cost per outcome</h2><p class=small>What each plan achieves beside what it saves, as "
            f"cost-effectiveness analysis reads them: a plan that serves fewer families can save more while doing "
            f"less. {INTERVALS}</p>" + _table(["", *(_e(n) for n in cmp.names)], rows))


def read_psa(folder: str | Path, scenario_name: str) -> bottom_line.Psa:
    """What the uncertainty folder ``folder`` (of ``start-sim uncertainty``) says of net savings,
    for the bottom line of a run of the scenario named ``scenario_name`` (``RunError`` if it is
    not an uncertainty folder of that scenario)."""
    from start_sim.experiments.manifests import read_manifest, read_table

    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != "uncertainty":
        raise RunError(f"{folder} is not an uncertainty folder (its manifest says {manifest.get('kind')!r}); give the "
                       f"--out folder of start-sim uncertainty")
    if manifest.get("scenario_name") != scenario_name:
        raise RunError(f"{folder} analysed the scenario {manifest.get('scenario_name')!r}, not {scenario_name!r}; give "
                       f"the uncertainty folder of the same scenario")
    draws = read_table(folder, "psa.csv")
    if "net_savings" not in draws.columns or draws["net_savings"].dropna().empty:
        raise RunError(f"{folder / 'psa.csv'} has no net savings per draw; rerun start-sim uncertainty into {folder}")
    net = draws["net_savings"].dropna()
    return bottom_line.psa_of(read_table(folder, "summary.csv"), float((net > 0).mean()), len(net))


def write_report(folder: str | Path, uncertainty: str | Path | None = None) -> Path:
    """Rebuild the figures and ``report.html`` of a run or comparison folder from its files; with
    ``uncertainty`` (an uncertainty folder of the same scenario) a run's bottom line quotes its
    interval and the chance START saves more than it costs."""
    folder = Path(folder)
    from start_sim.experiments.manifests import read_manifest

    kind = read_manifest(folder).get("kind", "run")
    if kind == "compare":
        if uncertainty is not None:
            raise RunError("--uncertainty applies to the report of one run, not of a comparison")
        from start_sim.experiments.compare import read

        return write_compare_report(read(folder), folder)
    from start_sim.experiments.results import Results

    return write_run_report(Results.read(folder), folder, uncertainty)
