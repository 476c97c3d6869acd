"""Results folders on disk: the tables, the manifest, the figures and report.html of each
command, built aside and moved into place by :func:`start_sim.outputs.folders.replace_folder`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from start_sim.analyses.calibration import CalibrationResult
from start_sim.analyses.staffing import Sizing
from start_sim.analyses.uncertainty import UncertaintyResult
from start_sim.core.version import PACKAGE, __version__
from start_sim.experiments.compare import Comparison
from start_sim.experiments.compare import manifest as comparison_manifest
from start_sim.experiments.results import Results
from start_sim.outcomes.fiscal import fiscal_note
from start_sim.outputs.fiscal_table import rows_of
from start_sim.outputs.folders import replace_folder


def write_run_files(results: Results, folder: Path, report: bool = True) -> None:
    """Write tables, manifest and (with ``report``) figures and report.html into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    results.kpis.to_csv(folder / "kpis.csv", index=False)
    results.summary().to_csv(folder / "summary.csv", index_label="kpi")
    results.timeseries.to_csv(folder / "timeseries.csv", index=False)
    results.families.to_csv(folder / "families.csv", index=False)
    results.county_kpis.to_csv(folder / "county_kpis.csv", index=False)
    results.budget.to_csv(folder / "budget.csv", index=False)
    if not results.region_kpis.empty:
        results.region_kpis.to_csv(folder / "region_kpis.csv", index=False)
    results.budget_by_year().to_csv(folder / "budget_by_year.csv")
    fiscal_note(rows_of(results)[0]).to_csv(folder / "fiscal_note.csv", index=False)
    (folder / "manifest.json").write_text(json.dumps(results.manifest(), indent=2))
    if report:
        from start_sim.outputs.report import write_run_report

        write_run_report(results, folder)


def write_run(results: Results, out: str | Path, plots: bool = True) -> Path:
    """Write CSVs, manifest, figures and report.html to ``out`` (built in a temporary
    folder beside it, then moved into place, so ``out`` is never half-written)."""
    return replace_folder(out, lambda tmp: write_run_files(results, tmp, report=plots))


def write_comparison(cmp: Comparison, out: str | Path, report: bool = True) -> Path:
    """Write a comparison folder: ``comparison.csv`` (each KPI per scenario, paired
    differences from the first), ``kpis.csv``, ``timeseries.csv`` and ``fiscal_note.csv`` of every scenario,
    ``manifest.json``, figures and ``report.html``, and each scenario's own results in
    ``scenarios/<name>/``. Built aside and moved into place."""

    def fill(tmp: Path) -> None:
        for name, res in cmp.results.items():
            write_run_files(res, tmp / "scenarios" / name, report=report)
        cmp.summary().to_csv(tmp / "comparison.csv", index=False)
        cmp.kpis.to_csv(tmp / "kpis.csv", index=False)
        pd.concat([r.timeseries.assign(scenario=name) for name, r in cmp.results.items()],
                  ignore_index=True).to_csv(tmp / "timeseries.csv", index=False)
        pd.concat([fiscal_note(rows_of(r)[0]).assign(scenario=name) for name, r in cmp.results.items()],
                  ignore_index=True).to_csv(tmp / "fiscal_note.csv", index=False)
        (tmp / "manifest.json").write_text(json.dumps(comparison_manifest(cmp), indent=2))
        if report:
            from start_sim.outputs.report import write_compare_report

            write_compare_report(cmp, tmp)

    return replace_folder(out, fill)


def write_sizing(sizing: Sizing, out: str | Path) -> Path:
    """``staffing.csv`` and ``manifest.json`` of a staffing search into ``out``, built aside and moved into place."""

    def fill(tmp: Path) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        sizing.table().to_csv(tmp / "staffing.csv", index=False)
        manifest = {
            "kind": "size", "package": PACKAGE, "command": "size", "targets": [t.text for t in sizing.targets],
            "replications": sizing.replications,
            "seed": sizing.seed, "version": __version__, "scenario": sizing.scenario.to_dict(),
            "hiring_schedule": [c.note() for c in sizing.counties], "skipped": sizing.skipped,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        from start_sim.outputs.size_report import write_size_report

        write_size_report(sizing, manifest, tmp)

    return replace_folder(out, fill)


def write_calibration_folder(res: CalibrationResult, out: str | Path, scenario_source: str | Path,
                             fragment: str | Path | None = None) -> Path:
    """A calibration folder (fit, posterior, particles, evaluations, calibrated.toml, report.html
    and ``manifest.json``), built aside and moved into place; returns the fragment's path."""
    from start_sim.outputs.calibration_report import write_calibration

    out = Path(out)

    def fill(tmp: Path) -> None:
        write_calibration(res, tmp, scenario_source, fragment)
        manifest = {"kind": "calibrate", "package": PACKAGE, "version": __version__,
                    "scenario_file": os.fspath(scenario_source), "targets_file": res.target_set.source,
                    "seed": res.info.get("seed"), "replications": res.info.get("replications"),
                    "best_deviance": res.best_deviance, "ess": res.ess, "best": res.best}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=float))

    replace_folder(out, fill)
    return Path(fragment) if fragment else out / "calibrated.toml"


def write_uncertainty(res: UncertaintyResult, out: str | Path) -> Path:
    """An uncertainty folder (psa, psa_by_year, summary, tornado, morris, sobol, voi and ratio tables, tornado.png,
    report.html and ``manifest.json``), built aside and moved into place."""
    from start_sim.outputs.uncertainty_report import render_html, tornado_figure

    def fill(tmp: Path) -> None:
        res.draws.to_csv(tmp / "psa.csv", index=False)
        res.by_year().to_csv(tmp / "psa_by_year.csv", index=False)
        res.summary().to_csv(tmp / "summary.csv", index=False)
        res.tornado.to_csv(tmp / "tornado.csv", index=False)
        res.morris.to_csv(tmp / "morris.csv", index=False)
        res.sobol.to_csv(tmp / "sobol.csv", index=False)
        if res.voi is not None:
            res.voi.groups.assign(evpi=res.voi.evpi).to_csv(tmp / "voi.csv", index=False)
        res.ratio_table.to_csv(tmp / "ratio_2_22.csv", index=False)
        png = tornado_figure(res.tornado, res.point["net_savings"], tmp / "tornado.png")
        (tmp / "report.html").write_text(render_html(res, png), encoding="utf-8")
        manifest = {"kind": "uncertainty", "package": PACKAGE, "version": __version__,
                    "scenario_name": res.scenario.name, "perspective": res.options.perspective,
                    "info": res.info, "scenario": res.scenario.to_dict()}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

    return replace_folder(out, fill)
