"""What the pages share: the scenario in session state, the run settings, and the runs themselves.

Every run calls the package's public functions (``start_sim.run``, ``compare``,
``size_staffing``), so it goes through the same executor as the command line; results
folders are written with ``write_run``/``write_comparison`` into a temporary folder of the
session, from which the pages offer downloads. Pages pass a progress callback that updates
an ``st.progress`` bar; Streamlit stops the script at that call when the user presses Stop.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import sys
import tempfile
import types
import warnings
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import start_sim as ss
from start_sim.analyses.staffing import Sizing
from start_sim.core.errors import ScenarioWarning
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.experiments.compare import HEADLINE
from start_sim.metrics.registry import METRICS
from start_sim.outcomes import fiscal
from start_sim.outputs.writers import write_comparison, write_run

SCENARIO_ENV = "START_SIM_APP_SCENARIO"
"""A scenario file to open with (``start-sim app FILE`` sets it)."""
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
"""The bundled scenarios of a source checkout."""
DEFAULT_REPLICATIONS = 5
Progress = Callable[[int, int], None]


@dataclass
class Settings:
    """How runs are made: replications, seed, workers (1: in this process; more: a local Dask
    cluster, as ``--workers``), and the calendar date of day 0 (for dates of hiring)."""

    replications: int = DEFAULT_REPLICATIONS
    seed: int = 1
    workers: int = 1
    day0: dt.date = dt.date(dt.date.today().year + 1, 1, 1)


@dataclass
class RunOutput:
    results: ss.Results
    folder: Path


@dataclass
class PlansOutput:
    comparison: ss.Comparison
    table: pd.DataFrame
    folder: Path


def state() -> MutableMapping[str, Any]:
    import streamlit as st

    return st.session_state


def bundled() -> dict[str, Path]:
    """Label -> file of each bundled scenario."""
    if not SCENARIOS.is_dir():
        return {}
    return {p.stem.replace("_", " ").capitalize(): p for p in sorted(SCENARIOS.glob("*.toml"))}


def new_scenario(name: str = "New county") -> ss.Scenario:
    """A one-county starting point: 24 referrals a year, two dyads, schema defaults elsewhere."""
    return ss.Scenario(name=name, counties=[{"name": name, "referrals_per_year": 24, "dyads": 2}])


def ensure() -> None:
    """Session defaults: the scenario named by ``START_SIM_APP_SCENARIO``, else Buncombe, else a new county."""
    s = state()
    if "scenario" not in s:
        path = os.environ.get(SCENARIO_ENV) or str(bundled().get("Buncombe", ""))
        sc, source = (ss.load_scenario(path), Path(path).name) if path else (new_scenario(), "new")
        set_scenario(sc, source)
    s.setdefault("settings", Settings())


def scenario() -> ss.Scenario:
    ensure()
    return state()["scenario"]


def settings() -> Settings:
    ensure()
    return state()["settings"]


def set_scenario(sc: ss.Scenario, source: str) -> None:
    """Make ``sc`` the session's scenario; results of the old one are dropped."""
    s = state()
    s["scenario"], s["source"], s["county"] = sc, source, 0
    for key in ("run", "sizing", "phases", "plans", "problems", "saved"):
        s.pop(key, None)


def apply(sc: ss.Scenario, changes: dict[str, Any]) -> tuple[ss.Scenario | None, list[str], list[str]]:
    """The scenario with ``changes`` validated by the schema: (scenario or None, problems, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ScenarioWarning)
        try:
            new = sc.with_changes(changes) if changes else sc
        except ss.ScenarioError as exc:
            return None, exc.problems, []
    return new, [], [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]


def workdir() -> Path:
    """This session's folder for results (removed with the machine's temporary files)."""
    s = state()
    if "workdir" not in s or not Path(s["workdir"]).is_dir():
        s["workdir"] = tempfile.mkdtemp(prefix="start-sim-app-")
    s["runs"] = s.get("runs", 0) + 1
    return Path(s["workdir"]) / f"run-{s['runs']}"


@contextmanager
def outside_the_page_script() -> Iterator[None]:
    """Runs on a local Dask cluster start worker processes that re-run the main module's file
    (Python's spawn); under Streamlit that is the page script, which cannot run there. While a
    run goes, ``__main__`` is an empty module, so the workers import only start_sim."""
    page = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = page


def run_scenario(sc: ss.Scenario, cfg: Settings, progress: Progress | None = None) -> RunOutput:
    """``start_sim.run`` of the scenario, written as a results folder (report, CSVs, fiscal note)."""
    with outside_the_page_script():
        res = ss.run(sc, replications=cfg.replications, seed=cfg.seed, workers=cfg.workers, progress=progress)
    return RunOutput(res, write_run(res, workdir()))


def date_of(cfg: Settings, day: float) -> dt.date:
    return cfg.day0 + dt.timedelta(days=round(day))


def size(sc: ss.Scenario, targets: list[str], cfg: Settings, progress: Callable[[str], None] | None = None,
         first_year: bool = True) -> Sizing:
    with outside_the_page_script():
        return ss.size_staffing(sc, targets, replications=cfg.replications, seed=cfg.seed, workers=cfg.workers,
                                progress=progress, first_year=first_year)


def sizing_table(sizing: Sizing, cfg: Settings) -> pd.DataFrame:
    """The answer per county as a planner reads it, posts' opening as a calendar date."""
    rows = []
    first = {f.county: f.dyads for f in sizing.first_year}
    for c in sizing.counties:
        row = {"county": c.county, "dyads needed": c.dyads, "caseworkers": c.caseworkers, "mentors": c.mentors,
               "target met": c.reached, "P(meets target)": c.p_meets}
        if c.county in first:
            row["dyads in the first year"] = first[c.county]
        for t, (m, lo, hi) in zip(c.targets, c.levels, strict=True):
            row[f"{t.column} (mean)"] = m
            lo, hi = max(0.0, lo), min(1.0, hi)  # a share: the t-interval clipped to 0-1
            row[f"{t.column} 95% CI"] = f"{lo:.0%} to {hi:.0%}"
        row["annual staff cost"] = c.annual_cost
        row["open posts by"] = date_of(cfg, c.open_posts_day) if not c.running else "now (already running)"
        row["launch"] = date_of(cfg, c.launch_day)
        rows.append(row)
    return pd.DataFrame(rows)


def phased_plan(sc: ss.Scenario, county: int, growth: float, targets: list[str], cfg: Settings,
                progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Dyads year by year as referrals grow by ``growth`` a year: each year's county sized alone at
    that year's referral rate (held level), never fewer than the year before; posts open the
    hiring lag and training before the year starts."""
    c = sc.counties[county]
    years = max(1, math.ceil(sc.horizon_years))
    rows, have = [], 0
    for k in range(years):
        refs = c.referrals_per_year * (1 + growth) ** k
        one = sc.with_changes({"counties": [{**c.model_dump(mode="json", exclude_defaults=True),
                                             "referrals_per_year": refs, "referral_growth_per_year": 0.0,
                                             "referral_forecast": None, "hiring": []}]})
        if progress:
            progress(f"year {k + 1} of {years}: {refs:.0f} referrals a year")
        cs = size(one, targets, cfg, first_year=False).counties[0]
        need = max(have, cs.dyads)
        launch = date_of(cfg, c.launch_day)
        starts = launch.replace(year=launch.year + k) if (launch.month, launch.day) != (2, 29) else launch + dt.timedelta(days=round(DAYS_PER_YEAR * k))
        rows.append({"year": k + 1, "starts": starts, "referrals a year": round(refs, 1),
                     "dyads needed": need, "new posts": need - have,
                     "open new posts by": starts - dt.timedelta(days=round(cs.hiring_lead_days)) if need > have else "",
                     "P(meets target)": cs.p_meets})
        have = need
    return pd.DataFrame(rows)


def plan_scenario(sc: ss.Scenario, county: int, plan: dict[str, Any]) -> ss.Scenario:
    """The scenario with one staffing plan in county ``county``: dyads and mentors at launch and one
    later hiring step (``hire_day``, ``hire_caseworkers``, ``hire_mentors``)."""
    hires = int(plan.get("hire_caseworkers") or 0), int(plan.get("hire_mentors") or 0)
    hiring = [{"day": float(plan.get("hire_day") or 0), "caseworkers": hires[0], "mentors": hires[1]}] if any(hires) else []
    return sc.with_changes({f"counties.{county}.dyads": int(plan["dyads"]), f"counties.{county}.mentors": int(plan["mentors"]),
                            f"counties.{county}.hiring": hiring})


def compare_plans(sc: ss.Scenario, county: int, plans: list[dict[str, Any]], cfg: Settings,
                  progress: Progress | None = None) -> PlansOutput:
    """``start_sim.compare`` of the plans on common random numbers (the first is the reference)."""
    scenarios = {str(p["plan"]): plan_scenario(sc, county, p) for p in plans}
    with outside_the_page_script():
        cmp = ss.compare(scenarios, replications=cfg.replications, seed=cfg.seed, workers=cfg.workers,
                         progress=progress)
    return PlansOutput(cmp, plans_table(cmp), write_comparison(cmp, workdir()))


def plans_table(cmp: ss.Comparison) -> pd.DataFrame:
    """The headline KPIs, one row each: every plan's mean, and each plan's paired difference from the first."""
    s = cmp.summary()
    ref = cmp.names[0]
    rows = []
    for key in HEADLINE:
        part = s[s["kpi"] == key].set_index("scenario")
        if part.empty:
            continue
        m = METRICS.get(key)
        row = {"KPI": m.label if m else key, "unit": m.unit if m else ""}
        for name in cmp.names:
            row[name] = part.at[name, "mean"]
        for name in cmp.names[1:]:
            lo, hi = part.at[name, "diff_ci_low"], part.at[name, "diff_ci_high"]
            row[f"{name} - {ref}"] = part.at[name, "diff_mean"]
            row[f"{name} - {ref}: 95% CI"] = f"{lo:,.3g} to {hi:,.3g}"
        rows.append(row)
    return pd.DataFrame(rows)


def fiscal_by_payer(folder: Path) -> pd.DataFrame:
    """``fiscal_note.csv`` of a run folder summed over years and counties: item x payer, with the net
    (savings less costs) per payer."""
    note = pd.read_csv(folder / "fiscal_note.csv")
    table = note.pivot_table(index="item", columns="payer", values="amount", aggfunc="sum", fill_value=0.0)
    sign = pd.Series({i: (-1.0 if i in fiscal.COSTS else 1.0) for i in table.index})
    table.loc["net (savings less costs)"] = (table.mul(sign, axis=0)).sum()
    return table
