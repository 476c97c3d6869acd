"""Compare scenarios on common random numbers: each KPI per scenario and its paired
difference from the first scenario, with 95% confidence intervals."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import ScenarioError
from .common import add_run_options, fail, fmt

HELP = "compare scenarios on the same families: KPIs and paired differences from the first, with CIs"

HEADLINE = (
    "families_started", "mean_days_to_assignment", "share_assigned_within_14d", "families_diverted",
    "dyad_utilization", "placement_rate_12m_start", "sobriety_rate_at_closure_start", "placement_days_start",
    "program_cost", "savings_vs_usual", "net_savings", "savings_per_dollar",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", help="two or more scenario TOML files; the first is the reference")
    add_run_options(p)
    p.add_argument("--out", "-o", default=None, help="output folder (default: results/compare)")


def main(args: argparse.Namespace) -> int:
    from ..compare import compare
    from ..loader import load_scenario

    if len(args.scenarios) < 2:
        return fail("compare needs two or more scenario files; the first is the reference")
    try:
        loaded = {Path(f).stem: load_scenario(f) for f in args.scenarios}
    except ScenarioError as exc:
        return fail(exc)
    if len(loaded) < len(args.scenarios):
        return fail("two scenario files have the same name; give each a distinct file name")
    out = Path(args.out) if args.out else Path("results") / "compare"
    if out.exists() and not out.is_dir():
        return fail(f"--out {out} is a file, not a folder")
    try:
        cmp = compare(loaded, args.replications, args.seed, args.workers, args.scheduler)
    except KeyboardInterrupt:
        return fail("interrupted; nothing written", 130)
    table = cmp.summary()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        table.to_csv(tmp / "comparison.csv", index=False)
        cmp.kpis.to_csv(tmp / "kpis.csv", index=False)
        manifest = {name: r.manifest() for name, r in cmp.results.items()}
        for name, src in zip(loaded, args.scenarios, strict=True):
            manifest[name]["scenario_file"] = os.fspath(src)
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _print(table, list(loaded))
    print(f"results written to {out}/")
    return 0


def _print(table, names: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    ref = names[0]
    t = Table(title=f"Paired differences from '{ref}' (mean [95% CI]; same families, same draws)")
    t.add_column("KPI")
    t.add_column(ref)
    for name in names[1:]:
        t.add_column(name)
        t.add_column(f"{name} - {ref}")
    rows = table.set_index(["kpi", "scenario"])
    for kpi in HEADLINE:
        cells = [rows.at[(kpi, ref), "label"], fmt(rows.at[(kpi, ref), "mean"])]
        for name in names[1:]:
            r = rows.loc[(kpi, name)]
            cells += [fmt(r["mean"]), f"{fmt(r['diff_mean'])} [{fmt(r['diff_ci_low'])}, {fmt(r['diff_ci_high'])}]"]
        t.add_row(*cells)
    Console().print(t)
