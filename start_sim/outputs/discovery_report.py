"""The scenario-discovery folder: designs.csv, outcomes.csv, boxes.csv, trajectories.csv, drivers.csv,
report.html (the boxes in planners' words, the coverage/density trade-off) and manifest.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from start_sim.analyses.discovery import OUTCOMES, QUESTIONS, Discovery, question
from start_sim.analyses.prim_boxes import SIGNIFICANCE, Box
from start_sim.core.version import PACKAGE, __version__
from start_sim.outputs.folders import replace_folder
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape, figure_html, frame_table, notice, page, png_bytes, table
from start_sim.outputs.plots import plt, style


def value_words(v: float, unit: str) -> str:
    """A limit as a planner reads it: shares as percentages, else the number and its unit."""
    if unit == "share":
        return f"{100 * v:.0f}%"
    return f"{fmt(v)} {unit}".strip()


def limit_words(row: pd.Series, label: str, unit: str) -> str:
    """One restriction in words: 'the usual ongoing caseload is above 20 families'."""
    low_cut = row["low"] > row["full_low"] + 1e-12
    high_cut = row["high"] < row["full_high"] - 1e-12
    if low_cut and high_cut:
        return f"{label} is between {value_words(row['low'], unit)} and {value_words(row['high'], unit)}"
    if low_cut:
        return f"{label} is above {value_words(row['low'], unit)}"
    return f"{label} is below {value_words(row['high'], unit)}"


def box_sentence(res: Discovery, q: str, box: Box) -> str:
    """The box as one sentence: '<question> mainly when A and B (coverage, density)'."""
    parts = [limit_words(r, res.labels.get(r["input"], r["input"]), res.units.get(r["input"], ""))
             for _, r in box.limits.iterrows()]
    text = question(q, res.design.service_target)
    when = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"{text[0].upper()}{text[1:]} mainly when {when}: "
            f"{box.k} of the {box.n} designs in that region ({100 * box.density:.0f}%) and {100 * box.coverage:.0f}% "
            f"of all such designs.")


def no_box_reason(res: Discovery, q: str) -> str:
    k, n = res.cases[q], res.info["designs"]
    if k == 0:
        return "it never happens"
    if k == n:
        return "it happens in every design"
    return (f"no region of the inputs concentrates it (a density of {100 * res.info['density']:.0f}% is not reached "
            f"with significant limits)")


def boxes_frame(res: Discovery) -> pd.DataFrame:
    rows = []
    for q, boxes in res.boxes.items():
        for b, box in enumerate(boxes):
            for _, r in box.limits.iterrows():
                rows.append({"question": q, "box": b + 1, "coverage": box.coverage, "density": box.density,
                             "mass": box.mass, "designs_in_box": box.n, "cases_in_box": box.k, **r.to_dict()})
    return pd.DataFrame(rows)


def trajectories_frame(res: Discovery) -> pd.DataFrame:
    frames = [box.trajectory.assign(question=q, box=b + 1, step=range(len(box.trajectory)))
              for q, boxes in res.boxes.items() for b, box in enumerate(boxes)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def render_html(res: Discovery) -> str:
    n = res.info["designs"]
    body = [f"<h1>Scenario discovery: {escape(res.design.description or 'START')}</h1>",
            f"<p class=meta>{n} designs (Latin hypercube) x {res.info['replications']} replications each on common "
            f"random numbers, seed {res.info['seed']}; agency perspective, each design's own unit costs. A box is a "
            f"region of the inputs; <b>density</b> is the share of its designs where the problem happens, "
            f"<b>coverage</b> the share of all problem designs it holds. Limits are kept only when their "
            f"quasi-p-value is below {SIGNIFICANCE:g}.</p>"]
    for q in QUESTIONS:
        text = question(q, res.design.service_target)
        body.append(f"<h2>When {escape(text)}</h2>")
        k = res.cases[q]
        body.append(f"<p>This happens in {k} of {n} designs ({100 * k / n:.0f}%).</p>")
        boxes = res.boxes[q]
        if not boxes:
            body.append(notice(f"No box: {no_box_reason(res, q)}."))
            continue
        for b, box in enumerate(boxes):
            body.append(f"<h3>Box {b + 1}</h3><p><b>{escape(box_sentence(res, q, box))}</b></p>")
            rows = [[escape(res.labels.get(r["input"], r["input"])), value_words(r["low"], res.units.get(r["input"], "")),
                     value_words(r["high"], res.units.get(r["input"], "")),
                     f"{value_words(r['full_low'], res.units.get(r['input'], ''))} to "
                     f"{value_words(r['full_high'], res.units.get(r['input'], ''))}", _p(r["qp_low"]), _p(r["qp_high"])]
                    for _, r in box.limits.iterrows()]
            body.append(table(["input", "box from", "box to", "range sampled", "quasi-p (lower limit)",
                               "quasi-p (upper limit)"], rows, numeric_from=1))
            t = box.trajectory
            body.append(figure_html(f"tradeoff-{q}-{b + 1}", tradeoff_figure(box), "Each peeling step trades coverage "
                                    "for density; the ring marks the box shown.", named=False))
            body.append("<details><summary>Coverage/density trade-off (peeling trajectory)</summary>"
                        + frame_table(t.assign(step=range(len(t))), ["step", "coverage", "density", "mass", "res_dim"],
                                      {"res_dim": "inputs restricted"}) + "</details>")
    s = res.outcomes[list(OUTCOMES)].describe(percentiles=[0.05, 0.5, 0.95]).T.reset_index()
    s["index"] = s["index"].map(OUTCOMES)
    body.append("<h2>Outcomes over the designs</h2>" + frame_table(s, ["index", "mean", "5%", "50%", "95%"],
                                                                    {"index": "outcome"}))
    dr = res.drivers()
    dr["input"] = dr["input"].map(lambda c: res.labels.get(c, c))
    body.append("<h2>What moves the outcomes</h2><p class=small>Rank (Spearman) correlation of each input with each "
                "outcome over the designs (+1: the outcome rises with the input); strongest on net savings first. It "
                "shows drivers even where no box concentrates a problem.</p>"
                + frame_table(dr, ["input", *OUTCOMES], OUTCOMES))
    body.append("<h2>Inputs</h2>" + table(["input", "kind", "range", "scenario paths"], [
        [escape(f.label), "lever" if f in res.design.levers else "uncertainty",
         f"{value_words(f.low, '' if f.scale or f.relative_to else f.unit)} to "
         f"{value_words(f.high, '' if f.scale or f.relative_to else f.unit)}" + (" x scenario value" if f.scale else
                                                                                  f" x {f.relative_to}" if f.relative_to else ""),
         escape(", ".join(f.paths))] for f in res.design.factors], numeric_from=9))
    if res.design.posterior is not None:
        body.append(f"<p>The effect parameters are joint rows of {escape(res.design.posterior.file)} "
                    f"(they move together, as calibrated).</p>")
    body.append("<p class=small>Files: designs.csv (inputs of each design), outcomes.csv (its outcomes), "
                "boxes.csv (box limits), trajectories.csv (coverage/density steps), drivers.csv (rank correlations).</p>")
    return page("START scenario discovery", "\n".join(body))


def tradeoff_figure(box: Box) -> bytes:
    """Coverage against density along the peeling trajectory, coloured by inputs restricted; the box ringed."""
    with style():
        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        t = box.trajectory
        pts = ax.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22)
        ax.scatter([box.coverage], [box.density], s=140, facecolors="none", edgecolors="red", linewidths=1.5)
        fig.colorbar(pts, ax=ax, label="inputs restricted")
        ax.set_xlabel("coverage (share of all problem designs in the box)")
        ax.set_ylabel("density (share of the box's designs with the problem)")
        fig.tight_layout()
    return png_bytes(fig)


def _p(v: float) -> str:
    return "-" if v is None or math.isnan(v) else f"{v:.2g}"


def write_discovery(res: Discovery, out: str | Path) -> Path:
    """The discovery folder, built aside and moved into place."""

    def fill(tmp: Path) -> None:
        res.designs.to_csv(tmp / "designs.csv", index=False)
        res.outcomes.to_csv(tmp / "outcomes.csv", index=False)
        boxes_frame(res).to_csv(tmp / "boxes.csv", index=False)
        trajectories_frame(res).to_csv(tmp / "trajectories.csv", index=False)
        res.drivers().to_csv(tmp / "drivers.csv", index=False)
        (tmp / "report.html").write_text(render_html(res), encoding="utf-8")
        manifest = {"kind": "discovery", "package": PACKAGE, "version": __version__, "info": res.info,
                    "design": res.design.model_dump(), "cases": res.cases}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

    return replace_folder(out, fill)
