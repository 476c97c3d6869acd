"""Results folders on disk: the tables, the manifest, the figures and report.html of a run."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from start_sim.analyses.staffing import Sizing
from start_sim.core.version import __version__
from start_sim.experiments.compare import Comparison
from start_sim.experiments.compare import manifest as comparison_manifest
from start_sim.experiments.results import Results


def write_run_files(results: Results, folder: Path, report: bool = True) -> None:
    """Write tables, manifest and (with ``report``) figures and report.html into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    results.kpis.to_csv(folder / "kpis.csv", index=False)
    results.summary().to_csv(folder / "summary.csv", index_label="kpi")
    results.timeseries.to_csv(folder / "timeseries.csv", index=False)
    results.families.to_csv(folder / "families.csv", index=False)
    results.county_kpis.to_csv(folder / "county_kpis.csv", index=False)
    results.budget.to_csv(folder / "budget.csv", index=False)
    results.budget_by_year().to_csv(folder / "budget_by_year.csv")
    (folder / "manifest.json").write_text(json.dumps(results.manifest(), indent=2))
    if report:
        from start_sim.outputs.report import write_run_report

        write_run_report(results, folder)


def write_run(results: Results, out: str | Path, plots: bool = True) -> Path:
    """Write CSVs, manifest, figures and report.html to ``out`` (built in a temporary
    folder beside it, then moved into place, so ``out`` is never half-written)."""
    return replace_folder(out, lambda tmp: write_run_files(results, tmp, report=plots))


def replace_folder(out: str | Path, fill: Callable[[Path], None]) -> Path:
    """Build a folder with ``fill(tmp)`` beside ``out``, then put it in place of ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        fill(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def write_comparison(cmp: Comparison, out: str | Path, report: bool = True) -> Path:
    """Write a comparison folder: ``comparison.csv`` (each KPI per scenario, paired
    differences from the first), ``kpis.csv`` and ``timeseries.csv`` of every scenario,
    ``manifest.json``, figures and ``report.html``, and each scenario's own results in
    ``scenarios/<name>/``. Built aside and moved into place."""

    def fill(tmp: Path) -> None:
        for name, res in cmp.results.items():
            write_run_files(res, tmp / "scenarios" / name, report=report)
        cmp.summary().to_csv(tmp / "comparison.csv", index=False)
        cmp.kpis.to_csv(tmp / "kpis.csv", index=False)
        pd.concat([r.timeseries.assign(scenario=name) for name, r in cmp.results.items()],
                  ignore_index=True).to_csv(tmp / "timeseries.csv", index=False)
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
            "command": "size", "targets": [t.text for t in sizing.targets], "replications": sizing.replications,
            "seed": sizing.seed, "version": __version__, "scenario": sizing.scenario.to_dict(),
            "hiring_schedule": [c.note() for c in sizing.counties], "skipped": sizing.skipped,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))

    return replace_folder(out, fill)
