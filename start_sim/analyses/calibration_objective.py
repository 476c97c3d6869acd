"""The calibration objective: the deviance of the targets at a parameter vector, on common random numbers.

Each evaluation runs the *calibration scenario* (the given scenario with a shorter referral
horizon, see ``[calibration]``) through :func:`start_sim.experiments.runner.replicate` with one
fixed seed: the objective is a deterministic function of the parameters, and nearly smooth.
Minus the log-likelihood enters as a deviance (0 = every target hit exactly): binomial for
rates, normal for means, one-sided binomial for ``at_least`` claims, flat inside and binomial outside
for ``interval`` claims
(:meth:`start_sim.inputs.targets.CalibrationTarget.deviance`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from start_sim.experiments.runner import replicate
from start_sim.inputs.schema import Scenario
from start_sim.inputs.targets import CalibrationTarget, Parameter, Settings, TargetSet

Point = tuple[list[float], dict[str, float], float]
"""One evaluation: parameter values, simulated target quantities, deviance."""


def calibration_scenario(scenario: Scenario, settings: Settings) -> Scenario:
    """The scenario the fit simulates: the same, with ``settings.horizon_years`` of referrals."""
    if settings.horizon_years and settings.horizon_years != scenario.horizon_years:
        return scenario.with_changes({"horizon_years": settings.horizon_years})
    return scenario


def apply(scenario: Scenario, parameters: Sequence[Parameter], theta: Sequence[float]) -> Scenario:
    """``scenario`` with the free parameters set to ``theta``."""
    return scenario.with_changes({p.path: float(v) for p, v in zip(parameters, theta, strict=True)})


def simulated_targets(outs: list, targets: Sequence[CalibrationTarget]) -> dict[str, float]:
    """Mean over replications of each target's simulated quantity."""
    res: dict[str, float] = {}
    for t in targets:
        if t.kind == "check":
            continue
        if t.key == "mean_case_days":
            vals = []
            for o in outs:
                d = [r["closure_day_start"] - r["assigned_day"] for r in o.families
                     if r["service"] == "start" and not math.isnan(r["closure_day_start"])]
                vals.append(float(np.mean(d)) if d else math.nan)
        elif t.site:
            vals = [_county_kpi(o, t.site, t.key.partition("@")[0]) for o in outs]
        else:
            vals = [o.kpis[t.key] for o in outs]
        res[t.key] = float(np.nanmean(vals)) if np.any(np.isfinite(vals)) else math.nan
    return res


def _county_kpi(out, county: str, key: str) -> float:
    """One county's KPI in one replication (a site target)."""
    for row in out.county_kpis:
        if row["county"] == county:
            return row[key]
    raise KeyError(f"a site target names county '{county}', which is not in the calibration scenario")


def evaluate(scenario: Scenario, parameters: Sequence[Parameter], targets: Sequence[CalibrationTarget], theta: Sequence[float],
             replications: int, seed: int, workers: int = 1, scheduler: str | None = None) -> dict[str, float]:
    """Simulated target quantities at ``theta`` (common random numbers: ``seed`` fixed)."""
    outs = replicate(apply(scenario, parameters, theta), replications, seed, workers, scheduler)
    return simulated_targets(outs, targets)


def deviance(sim: dict[str, float], targets: Sequence[CalibrationTarget]) -> float:
    """Sum of the fitted targets' deviances (-2 log-likelihood ratio) for simulated values ``sim``."""
    return float(sum(t.deviance(sim.get(t.key, math.nan)) for t in targets if t.kind != "check"))


@dataclass
class UnitObjective:
    """A picklable objective on the unit cube; remembers every evaluation."""

    scenario: Scenario
    parameters: tuple[Parameter, ...]
    targets: tuple[CalibrationTarget, ...]
    replications: int
    seed: int
    log: list[Point] = field(default_factory=list)

    def theta(self, u: Sequence[float]) -> list[float]:
        """Parameter values of a point ``u`` of the unit cube (clipped to it)."""
        return [p.value(min(max(x, 0.0), 1.0)) for p, x in zip(self.parameters, u, strict=True)]

    def point(self, u: Sequence[float]) -> Point:
        """(parameter values, simulated targets, deviance) at ``u``; not logged."""
        th = self.theta(u)
        sim = evaluate(self.scenario, self.parameters, self.targets, th, self.replications, self.seed)
        return th, sim, deviance(sim, self.targets)

    def __call__(self, u: np.ndarray) -> float:
        """The deviance at ``u``, logged (the optimiser's objective)."""
        th, sim, dev = self.point(u)
        self.log.append((th, sim, dev))
        return dev


def objective(scenario: Scenario, target_set: TargetSet, replications: int | None = None,
              seed: int | None = None) -> Callable[[Sequence[float]], float]:
    """Deviance as a function of the parameter values (not unit-cube): deterministic for a fixed seed."""
    s = target_set.settings
    ev = UnitObjective(calibration_scenario(scenario, s), target_set.parameters, target_set.fitted,
               replications or s.replications, s.seed if seed is None else seed)

    def f(theta: Sequence[float]) -> float:
        return ev.point([p.unit(v) for p, v in zip(target_set.parameters, theta, strict=True)])[2]
    return f


def point(ev: UnitObjective, u: Sequence[float]) -> Point:
    """``ev.point(u)`` as a plain function (a task for the executor)."""
    return ev.point(u)


def frame(params: Sequence[Parameter], log: Sequence[Point]) -> pd.DataFrame:
    """Evaluations as a table: one column per parameter, the deviance and ``sim:`` columns."""
    rows = []
    for th, sim, dev in log:
        row = dict(zip([p.path for p in params], th, strict=True))
        row["deviance"] = dev
        row.update({f"sim:{k}": v for k, v in sim.items()})
        rows.append(row)
    return pd.DataFrame(rows)
