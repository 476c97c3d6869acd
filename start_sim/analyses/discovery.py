"""Scenario discovery: under which conditions does START stop paying for itself, or miss its
service target?

A Latin hypercube (``scipy.stats.qmc``, from the named stream ``discover:lhs`` of the seed) over
the design's factors (levers and uncertainties, :mod:`start_sim.inputs.design`); one more
column picks a joint row of the calibrated posterior, so the effect parameters move together
as fitted. Every design is one scenario; all run replications 0..n-1 on the one seed (common
random numbers: design differences are not sampling noise) as one grid of tasks
(:func:`start_sim.experiments.grid.simulate_grid`, resumable from a work folder). Each design's
outcomes are the means over its replications of the run's KPIs (agency perspective, the
scenario's own unit costs: a cost uncertainty enters as a scenario value). PRIM
(:mod:`start_sim.analyses.prim_boxes`) then looks for boxes of inputs where net savings fall below
zero, or fewer than the target share of families are assigned to a dyad within 14 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import qmc

from start_sim.analyses.parallel import named_rng
from start_sim.analyses.prim_boxes import Box, find_boxes
from start_sim.core.dotted import OVERRIDE, set_dotted
from start_sim.core.errors import ScenarioError
from start_sim.experiments.executor import Progress
from start_sim.experiments.grid import simulate_grid
from start_sim.experiments.workfolder import WorkFolder
from start_sim.inputs.design import Design, apply
from start_sim.inputs.messages import validate_as
from start_sim.inputs.schema import Scenario

POSTERIOR_COLUMN = "posterior_row"
EFFECT_PREFIX = "effect:"
OUTCOMES = {
    "net_savings": "Net savings (USD PV)",
    "savings_per_dollar": "Savings per $1 (net cost)",
    "share_assigned_within_14d": "Share assigned to a dyad within 14 days",
    "placement_avoided": "Children placed within 12 months avoided (share of children)",
}
"""Outcomes per design (means over its replications) and their labels."""


@dataclass
class Discovery:
    """Designs (inputs), their outcomes, and the PRIM boxes of each question."""

    design: Design
    designs: pd.DataFrame  # one row per design: design id, factor values, posterior row and its effects
    outcomes: pd.DataFrame  # one row per design: design id and OUTCOMES
    boxes: dict[str, list[Box]]  # question -> boxes found
    cases: dict[str, int]  # question -> designs where it happens
    labels: dict[str, str]  # PRIM input column -> planners' label
    units: dict[str, str]
    info: dict = field(default_factory=dict)

    def drivers(self) -> pd.DataFrame:
        """Spearman rank correlation of each input with each outcome over the designs, strongest on
        net savings first: what moves the outcomes even where no box concentrates a problem."""
        x, _, _ = prim_inputs(self.design, self.designs)
        m = pd.concat([x.reset_index(drop=True), self.outcomes[list(OUTCOMES)].reset_index(drop=True)], axis=1)
        rho = m.corr(method="spearman").loc[list(x.columns), list(OUTCOMES)]
        return rho.reindex(rho["net_savings"].abs().sort_values(ascending=False).index).rename_axis("input").reset_index()


QUESTIONS = {
    "net_savings_below_zero": "START's net savings fall below zero",
    "service_target_missed": "fewer than {target} of families are assigned to a dyad within 14 days",
}


def question(q: str, service_target: float) -> str:
    """A question in planners' words, the service target filled in."""
    return QUESTIONS[q].format(target=f"{100 * service_target:.0f}%")


def sample(design: Design, n: int, seed: int, posterior: pd.DataFrame | None = None) -> pd.DataFrame:
    """``n`` designs: a Latin hypercube over the factors (and a posterior row), in factor units."""
    factors = design.factors
    d = len(factors) + (posterior is not None)
    u = qmc.LatinHypercube(d=d, seed=named_rng(seed, "discover:lhs")).random(n)
    out = pd.DataFrame({"design": np.arange(n)})
    for j, f in enumerate(factors):
        v = f.low + u[:, j] * (f.high - f.low)
        out[f.name] = np.round(v) if f.integer and not (f.scale or f.relative_to) else v
    if posterior is not None:
        rows = np.minimum((u[:, -1] * len(posterior)).astype(int), len(posterior) - 1)
        out[POSTERIOR_COLUMN] = rows
        for col in posterior.columns:
            out[EFFECT_PREFIX + col] = posterior[col].to_numpy(dtype=float)[rows]
    return out


def design_scenario(base: Scenario, design: Design, row: pd.Series) -> Scenario:
    """``base`` with one design's factor values and posterior effects written in."""
    data = base.to_dict()
    for f in design.factors:
        apply(data, f, float(row[f.name]))
    for col in row.index:
        if str(col).startswith(EFFECT_PREFIX):
            set_dotted(data, str(col)[len(EFFECT_PREFIX):], float(row[col]))
    for s in design.settings:
        apply(data, s, s.value)
    data["name"] = f"{base.name} (design {int(row['design'])})"
    return validate_as(Scenario, data, file=OVERRIDE)


def design_scenarios(base: Scenario, design: Design, designs: pd.DataFrame,
                     source: str | None = None) -> dict[str, Scenario]:
    """Every design's scenario; one that the scenario's checks refuse is a ScenarioError naming the
    design, its factor values and ``source`` (the design file)."""
    out = {}
    for _, r in designs.iterrows():
        try:
            out[_key(int(r["design"]))] = design_scenario(base, design, r)
        except ScenarioError as exc:
            values = ", ".join(f"{f.name} = {r[f.name]:.4g}" for f in design.factors)
            raise ScenarioError(f"design {int(r['design'])} ({values}) does not fit the scenario: {exc}; narrow the "
                                f"ranges or add a [[settings]] entry that keeps every design valid", file=source) from None
    return out


def _key(i: int) -> str:
    return f"design{i:04d}"


def outcomes(records: dict, designs: pd.DataFrame) -> pd.DataFrame:
    """Each design's outcomes: means of its replications' KPIs."""
    rows = []
    for i in designs["design"]:
        k = pd.DataFrame([r.kpis for r in records[_key(int(i))]])
        rows.append({"design": int(i), "replications": len(k),
                     "net_savings": k["net_savings"].mean(), "savings_per_dollar": k["savings_per_dollar"].mean(),
                     "share_assigned_within_14d": k["share_assigned_within_14d"].mean(),
                     "placement_avoided": (k["placement_rate_12m_usual"] - k["placement_rate_12m_start"]).mean()})
    return pd.DataFrame(rows)


def prim_inputs(design: Design, designs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """PRIM's inputs (factor values and posterior effects; not the row number), labels and units."""
    cols = [f.name for f in design.factors] + [c for c in designs.columns if str(c).startswith(EFFECT_PREFIX)]
    labels = {f.name: f.label for f in design.factors}
    units = {f.name: f.unit for f in design.factors}
    for c in cols:
        if c.startswith(EFFECT_PREFIX):
            labels[c] = f"the effect parameter {c[len(EFFECT_PREFIX):]}"
            units[c] = ""
    x = designs[cols].astype(float)
    return x.loc[:, x.nunique() > 1], labels, units


def discover(base: Scenario, design: Design, n: int, seed: int = 1, *, posterior: pd.DataFrame | None = None,
             replications: int | None = None, workers: int = 1, scheduler: str | None = None,
             executor: Literal["auto", "serial", "dask"] = "auto", work: WorkFolder | None = None,
             progress: Progress | None = None, density: float = 0.8) -> Discovery:
    """Sample, simulate and analyse ``n`` designs; see the module docstring."""
    designs = sample(design, n, seed, posterior)
    scenarios = design_scenarios(base, design, designs)
    reps = replications or design.replications
    grid = simulate_grid(scenarios, reps, seed, workers=workers, scheduler=scheduler, executor=executor,
                         progress=progress, work=work)
    out = outcomes(grid.records, designs)
    x, labels, units = prim_inputs(design, designs)
    flags = {"net_savings_below_zero": (out["net_savings"] < 0).to_numpy(),
             "service_target_missed": (out["share_assigned_within_14d"] < design.service_target).to_numpy()}
    boxes = {q: find_boxes(x, y, density=density) for q, y in flags.items()}
    info = {"designs": n, "replications": reps, "seed": seed, "simulated": grid.simulated, "resumed": grid.resumed,
            "density": density, "service_target": design.service_target}
    return Discovery(design, designs, out, boxes, {q: int(y.sum()) for q, y in flags.items()}, labels, units, info)

