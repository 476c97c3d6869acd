"""A report a planner can hand on: one self-contained ``report.html`` and its PNG figures.

The HTML embeds every figure as a base64 ``data:`` URI and carries its own styles, so it
opens in a browser with no network. It shows the headline KPIs with their 95% confidence
intervals, the figures (caseload, waitlist and staff over time; outcomes START vs usual
services; cost and savings over time; savings per dollar), how precise the estimates are
(and the replications the rule of :mod:`start_sim.experiments.precision` would need), the scenario's
key inputs with their sources (``calibration/sources.md``), and the run's manifest.

``start-sim report DIR`` rebuilds it from a results folder; ``run`` and ``compare`` write
it at the end.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel

from start_sim.core.version import __version__
from start_sim.experiments.precision import DEFAULT_KPIS, replications_needed
from start_sim.inputs.schema import Scenario
from start_sim.metrics.registry import METRICS
from start_sim.outputs import plots
from start_sim.outputs.formatting import fmt

if TYPE_CHECKING:
    from start_sim.experiments.compare import Comparison
    from start_sim.experiments.results import Results

SOURCES_FILE = Path(__file__).resolve().parents[2] / "calibration" / "sources.md"

# (file stem, function name in start_sim.plots, caption)
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
KEY_INPUTS = (
    "horizon_years", "runout_years", "program.caseload_cap", "program.solo_caseload_cap", "program.waitlist_policy",
    "program.max_wait_days", "program.service_days", "program.disengagement_probability",
    "workforce.caseworker_turnover_per_year", "workforce.mentor_turnover_per_year", "workforce.hiring_lag_days",
    "treatment.assessment_days_start", "treatment.assessment_days_usual", "treatment.uptake_usual",
    "treatment.uptake_start", "start.mentor_uptake", "start.mentor_recovery_multiplier",
    "start.mentor_relapse_multiplier", "start.safety_planning_placement_multiplier",
    "start.surveillance_report_multiplier", "placement.rate_using", "placement.reunification_rate_in_recovery",
    "costs.caseworker_per_fte_year", "costs.mentor_per_fte_year", "costs.placement_per_child_day",
    "costs.casework_per_child_month_in_care", "costs.discount_rate_per_year",
)
COUNTY_COLUMNS = ("name", "referrals_per_year", "dyads", "mentors", "launch_day", "initial_caseload", "initial_waitlist")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1000px;
padding:1.5em;color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}th,td{border:1px solid #ddd;padding:.25em .5em;
vertical-align:top}th{background:#f3f3f3;text-align:left}td.n{text-align:right;white-space:nowrap}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.88em;color:#555}
.meta{color:#555}pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.8em}details summary{cursor:pointer}
.small{font-size:.85em;color:#555}
"""


# --------------------------------------------------------------------------- formatting


def _e(text: Any) -> str:
    return html.escape(str(text))


def _ci(row: Mapping) -> str:
    return f"{fmt(row['mean'])} <span class=small>[{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]</span>"


def _table(header: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class=n>{c}</td>" if j >= numeric_from else f"<td>{c}</td>" for j, c in enumerate(r))
        + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------- figures


def render(fig) -> bytes:
    """A figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=110)
    finally:
        plt.close(fig)
    return buf.getvalue()


def _figure_html(stem: str, png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="fig-{stem}"><img src="data:image/png;base64,{data}" alt="{_e(caption)}">'
            f"<figcaption><b>{stem}.png</b>: {_e(caption)}</figcaption></figure>")


def _figures(folder: Path, specs: tuple, make: Callable[[str | None, str], Any]) -> str:
    parts = []
    for stem, fn, caption in specs:
        png = render(make(fn, stem))
        (folder / f"{stem}.png").write_bytes(png)
        parts.append(_figure_html(stem, png, caption))
    return "\n".join(parts)


# --------------------------------------------------------------------------- inputs and sources


@cache
def sources() -> dict[str, tuple[str, str]]:
    """Source key -> (citation, first web address) from ``calibration/sources.md``."""
    out: dict[str, tuple[str, str]] = {}
    try:
        text = SOURCES_FILE.read_text(encoding="utf-8")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("|---") or line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("key", "") or cells[0] in out:
            continue
        url = re.search(r"https?://\S+", cells[2]) if len(cells) > 2 else None
        out[cells[0]] = (cells[1], url.group(0).rstrip(";,") if url else "")
    return out


def source_keys(description: str) -> list[str]:
    """Source keys cited in square brackets in a parameter description, and 'assumption'."""
    known = sources()
    keys: list[str] = []
    for group in re.findall(r"\[([^\]]+)\]", description or ""):
        for piece in re.split(r"[;,]", group):
            piece = piece.strip()
            hit = next((k for k in sorted(known, key=len, reverse=True) if piece.startswith(k)), None)
            if hit is None and "assumption" in piece:
                hit = "assumption"
            if hit and hit not in keys:
                keys.append(hit)
    if not keys and "assumption" in (description or ""):
        keys.append("assumption")
    return keys


def _sources_html(keys: list[str]) -> str:
    known = sources()
    parts = []
    for k in keys:
        if k in known:
            citation, url = known[k]
            label = f'<a href="{_e(url)}" title="{_e(citation)}">{_e(k)}</a>' if url else f'<span title="{_e(citation)}">{_e(k)}</span>'
            parts.append(label)
        else:
            parts.append(_e(k))
    return ", ".join(parts) or "-"


def describe(path: str) -> str:
    """The schema's description of a dotted parameter path (its deepest documented field)."""
    cls: Any = Scenario
    desc = ""
    for part in path.split("."):
        if part.isdigit() or not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        f = cls.model_fields.get(part)
        if f is None:
            break
        desc = f.description or desc
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        nxt = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        cls = nxt
    return desc


def _value(v: Any) -> str:
    if isinstance(v, dict) and "dist" in v:
        rest = ", ".join(f"{k}={fmt(x) if not isinstance(x, list) else x}" for k, x in v.items() if k != "dist")
        return f"{v['dist']}({rest})"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if v is None:
        return "none"
    return fmt(v)


def flatten(d: Any, prefix: str = "", whole: bool = True) -> dict[str, Any]:
    """Dotted paths to leaves. Sections and list items are opened; deeper down, a
    distribution or a table of plain numbers (e.g. one per modality) stays one value."""
    depth = prefix.count(".")
    if isinstance(d, list) and d and isinstance(d[0], dict):
        out = {}
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}{i}.", whole=True))
        return out
    if isinstance(d, dict) and "dist" not in d and (
        whole or depth <= 1 or any(isinstance(x, dict | list) for x in d.values())
    ):
        out = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}.", whole=False))
        return out
    return {prefix[:-1]: d}


def _get(d: dict, path: str) -> Any:
    for part in path.split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
    return d


def inputs_html(scenario: Scenario, title: str = "Key inputs and their sources") -> str:
    d = scenario.to_dict()
    rows = []
    for path in KEY_INPUTS:
        try:
            v = _get(d, path)
        except (KeyError, IndexError, TypeError):
            continue
        desc = describe(path)
        rows.append([f"<code>{_e(path)}</code>", _e(_value(v)), _e(desc), _sources_html(source_keys(desc))])
    county_rows = [[_e(_value(c.get(k))) for k in COUNTY_COLUMNS if k in c] for c in d["counties"]]
    county_head = [f'<span title="{_e(describe("counties.0." + k))}">{_e(k)}</span>' for k in COUNTY_COLUMNS
                   if k in d["counties"][0]]
    every = []
    for path, v in flatten({k: v for k, v in d.items() if k not in ("name", "description", "counties")}).items():
        desc = describe(path)
        every.append([f"<code>{_e(path)}</code>", _e(_value(v)), _e(desc), _sources_html(source_keys(desc))])
    return (
        f"<h2>{_e(title)}</h2>"
        "<p class=small>Each parameter's source key resolves in <code>calibration/sources.md</code> (hover for the "
        "citation; links need a network). <i>assumption</i> marks a value without a published source.</p>"
        + _table(["parameter", "value", "what it is", "source"], rows, numeric_from=9)
        + "<h3>Counties</h3>" + _table(county_head, county_rows, numeric_from=1)
        + "<details><summary>Every parameter of the scenario</summary>"
        + _table(["parameter", "value", "what it is", "source"], every, numeric_from=9) + "</details>"
    )


def differing_inputs_html(scenarios: Mapping[str, Scenario]) -> str:
    flat = {n: flatten(s.to_dict()) for n, s in scenarios.items()}
    names = list(flat)
    paths = sorted({p for f in flat.values() for p in f})
    rows = []
    for p in paths:
        vals = [flat[n].get(p, "-") for n in names]
        if all(v == vals[0] for v in vals) or p == "name":
            continue
        desc = describe(p)
        rows.append([f"<code>{_e(p)}</code>", *[_e(_value(v)) for v in vals], _e(desc), _sources_html(source_keys(desc))])
    if not rows:
        return "<h2>Inputs that differ</h2><p>The scenarios have the same inputs.</p>"
    return ("<h2>Inputs that differ between the scenarios</h2>"
            + _table(["parameter", *[_e(n) for n in names], "what it is", "source"], rows, numeric_from=99))


# --------------------------------------------------------------------------- tables


def kpi_tables_html(results: Results) -> str:
    s = results.summary()
    cap, out = [], []
    for m in METRICS.values():
        if m.arms:
            a, b = f"{m.key}_start", f"{m.key}_usual"
            if a in s.index:
                out.append([_e(m.label), _e(m.unit), _ci(s.loc[a]), _ci(s.loc[b]), _e(m.definition)])
        elif m.key in s.index:
            cap.append([_e(m.label), _e(m.unit), _ci(s.loc[m.key]), _e(m.definition)])
    return (
        "<h2>Capacity, staff and costs</h2><p class=small>Mean over replications [95% confidence interval].</p>"
        + _table(["KPI", "unit", "mean [95% CI]", "definition"], cap, numeric_from=2)
        + "<h2>Outcomes: START vs usual services for the same families</h2>"
        + _table(["KPI", "unit", "START", "usual services", "definition"], out, numeric_from=2)
    )


def precision_html(kpis: pd.DataFrame, rule: dict | None) -> str:
    cols = [k for k in DEFAULT_KPIS if k in kpis.columns]
    need = replications_needed(kpis, cols, precision=(rule or {}).get("precision", 0.05))
    p = (rule or {}).get("precision", 0.05)
    rows = [[_e(METRICS[k.removesuffix("_start").removesuffix("_usual")].label + (
        " (START)" if k.endswith("_start") else " (usual)" if k.endswith("_usual") else "")
        if k.removesuffix("_start").removesuffix("_usual") in METRICS else k),
        fmt(r["mean"]), f"{100 * r['precision_now']:.1f}%" if math.isfinite(r["precision_now"]) else "-",
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


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n<p class=small>Written by start-sim {_e(__version__)}.</p></body></html>\n")


# --------------------------------------------------------------------------- reports


def write_run_report(results: Results, folder: str | Path) -> Path:
    """Figures (PNG) and ``report.html`` of one run into ``folder``."""
    folder = Path(folder)
    sc = results.scenario
    figures = _figures(folder, RUN_FIGURES, lambda fn, stem: getattr(plots, fn)(results))
    manifest = results.manifest()
    rule = results.extra.get("replications_rule")
    body = (
        f"<h1>{_e(sc.name)}</h1><p>{_e(sc.description)}</p>"
        f"<p class=meta>{results.replications} replications, seed {results.seed}; horizon {fmt(sc.horizon_years)} "
        f"years with {fmt(sc.runout_years)} years of follow-up; {len(sc.counties)} "
        f"{'county' if len(sc.counties) == 1 else 'counties'}. Scenario file: "
        f"<code>{_e(results.source or '-')}</code>. Every family appears in both arms: START and usual services "
        "(the counterfactual) on common random numbers.</p>"
        + kpi_tables_html(results)
        + "<h2>Figures</h2>" + figures
        + precision_html(results.kpis, rule)
        + inputs_html(sc)
        + _manifest_html(manifest)
    )
    path = folder / "report.html"
    path.write_text(_page(f"{sc.name}: start-sim report", body), encoding="utf-8")
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

    figures = _figures(folder, COMPARE_FIGURES, make)
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
            cells.append(f"{fmt(r['diff_mean'])} <span class=small>[{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]</span>")
        rows.append(cells)
    first = cmp.results[ref]
    links = " ".join(f'<a href="scenarios/{_e(n)}/report.html">{_e(n)}</a>' for n in names)
    body = (
        f"<h1>Comparison: {' vs '.join(_e(n) for n in names)}</h1>"
        f"<p class=meta>Reference: <b>{_e(ref)}</b>. {first.replications} replications each, seed {first.seed}: "
        "replication <i>i</i> of every scenario sees the same families with the same random draws, so differences "
        "are paired replication by replication (much narrower intervals than from independent runs). Each "
        f"scenario's own report: {links}.</p>"
        "<h2>Headline KPIs and paired differences</h2><p class=small>Mean [95% CI]; the full table is "
        "<code>comparison.csv</code>.</p>"
        + _table(head, rows)
        + "<h2>Figures</h2>" + figures
        + precision_html(first.kpis, cmp.extra.get("replications_rule"))
        + differing_inputs_html({n: r.scenario for n, r in cmp.results.items()})
        + inputs_html(first.scenario, f"Key inputs of the reference ({ref}) and their sources")
        + _manifest_html(manifest(cmp))
    )
    path = folder / "report.html"
    path.write_text(_page(f"start-sim comparison: {' vs '.join(names)}", body), encoding="utf-8")
    return path


def write_report(folder: str | Path) -> Path:
    """Rebuild the figures and ``report.html`` of a run or comparison folder from its files."""
    folder = Path(folder)
    kind = json.loads((folder / "manifest.json").read_text()).get("kind", "run")
    if kind == "compare":
        from start_sim.experiments.compare import read

        return write_compare_report(read(folder), folder)
    from start_sim.experiments.results import Results

    return write_run_report(Results.read(folder), folder)
