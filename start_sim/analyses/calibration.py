"""Calibration of free parameters to observed START outcomes, with a posterior.

Method (all numerical work is scipy's; nothing here is a hand-made optimiser or sampler):

1. **Targets as data** (a targets file such as ``calibration/targets.toml``, read by
   :mod:`start_sim.inputs.targets`): each target names a KPI, an arm, the observed value and
   its effective sample size ``n_eff = n / design_effect * weight``, which is where overlapping
   study populations and clustering are accounted for. Free parameters have uniform priors on
   ``[low, high]``.
2. **Objective**: the deviance of the targets on common random numbers
   (:mod:`start_sim.analyses.calibration_objective`).
3. **Point fit**: a scrambled Sobol design over the prior box (``scipy.stats.qmc.Sobol``),
   then ``scipy.optimize.minimize(method="Nelder-Mead", bounds=...)`` from the best design
   points (multi-start). Parameters are searched on the unit cube.
4. **Posterior**: sampling-importance-resampling around the optimum (:mod:`start_sim.analyses.sir`).
5. **Identification**: the sensitivity of every target to every parameter at the optimum
   (:mod:`start_sim.analyses.identification`): which targets constrain which mechanism.

Random draws (design, proposal, resampling, predictive intervals) come from streams named
after their purpose and keyed by the calibration seed. Design points, Nelder-Mead starts and
importance points are tasks of one :class:`~start_sim.experiments.executor.Executor` (Dask when
``workers > 1`` or a ``scheduler`` address is given); each task runs ``replicate`` serially.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import qmc

from start_sim.analyses.calibration_objective import Point, UnitObjective, apply, calibration_scenario, frame, point
from start_sim.analyses.identification import sensitivity
from start_sim.analyses.parallel import named_rng, ordered_map
from start_sim.analyses.sir import fit_table, sir
from start_sim.experiments.executor import Executor
from start_sim.inputs.schema import Scenario
from start_sim.inputs.targets import TargetSet, load_targets


@dataclass
class CalibrationResult:
    """Best fit, posterior draws and the target-by-target comparison."""

    scenario: Scenario  # the full scenario with the best-fit values
    target_set: TargetSet
    best: dict[str, float]
    best_deviance: float
    fit: pd.DataFrame  # one row per target
    posterior: pd.DataFrame  # resampled draws: one column per parameter
    particles: pd.DataFrame  # every importance draw: parameters, log weight, deviance, simulated targets
    evaluations: pd.DataFrame  # every objective evaluation of the point fit
    ess: float
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)  # target x parameter (analyses.identification)


def _nelder_mead(ev: UnitObjective, u0: Sequence[float], maxfev: int) -> list[Point]:
    d = len(u0)
    x0 = np.clip(np.asarray(u0, float), 0, 1)
    simplex = [x0]
    for i in range(d):
        x = x0.copy()
        x[i] = x[i] + 0.1 if x[i] + 0.1 <= 1 else x[i] - 0.1
        simplex.append(x)
    optimize.minimize(ev, x0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * d,
                      options={"initial_simplex": np.array(simplex), "maxfev": maxfev, "xatol": 1e-3, "fatol": 0.02})
    return ev.log


def _nm_task(ev: UnitObjective, u0: Sequence[float], maxfev: int) -> list[Point]:
    """One Nelder-Mead start on a fresh copy of the objective: its evaluations."""
    return _nelder_mead(replace(ev, log=[]), u0, maxfev)


def calibrate(
    scenario: Scenario,
    targets: TargetSet | str | Path,
    *,
    start: Sequence[float] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    budget: dict[str, Any] | None = None,
    posterior: bool = True,
    progress: Callable[[str], None] | None = None,
) -> CalibrationResult:
    """Fit the free parameters of ``targets`` to its targets; see the module docstring.

    ``start``: parameter values to include as a Nelder-Mead start (besides the best design
    points); ``budget``: overrides of the ``[calibration]`` settings (e.g. ``{"design_points": 8}``).
    """
    t0 = time.perf_counter()
    ts = targets if isinstance(targets, TargetSet) else load_targets(targets)
    s = replace(ts.settings, **(budget or {}))
    if replications:
        s = replace(s, replications=replications)
    if seed is not None:
        s = replace(s, seed=seed)
    ts = replace(ts, settings=s)
    say = progress or (lambda msg: None)
    params = ts.parameters
    d = len(params)
    ev = UnitObjective(calibration_scenario(scenario, s), params, ts.fitted, s.replications, s.seed)
    log: list[Point] = []
    with Executor(workers, scheduler) as ex:
        # 1. Sobol design over the prior box
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            design = qmc.Sobol(d, scramble=True, seed=named_rng(s.seed, "calibration:design")).random(
                max(s.design_points, 1))
        say(f"design: {len(design)} points")
        pts = ordered_map(ex, point, [(ev, list(u)) for u in design], "calibrate-design")
        log += pts
        order = np.argsort([p[2] for p in pts])
        starts = [design[i] for i in order[: s.starts]]
        if start is not None:
            starts = [np.array([p.unit(v) for p, v in zip(params, start, strict=True)])] + starts[: max(s.starts - 1, 0)]
        # 2. multi-start Nelder-Mead (each start a task when parallel)
        say(f"Nelder-Mead: {len(starts)} starts x {s.maxfev} evaluations")
        if s.maxfev > 0 and starts:
            for nm_log in ordered_map(ex, _nm_task, [(ev, list(u), s.maxfev) for u in starts], "calibrate-nm"):
                log += nm_log
        best_i = int(np.argmin([e[2] for e in log]))
        best_theta, _, best_dev = log[best_i]
        u_best = np.array([p.unit(v) for p, v in zip(params, best_theta, strict=True)])
        evaluations = frame(params, log)
        # which targets constrain which parameter: slopes at the optimum on common random numbers
        sens = sensitivity(ex, ev, u_best, s.sensitivity_step) if s.sensitivity_step > 0 else pd.DataFrame()
        # 3. posterior by SIR
        if posterior and s.posterior_points > 0:
            say(f"posterior: {s.local_points} local + {s.posterior_points} importance points")
            post = sir(ex, ev, u_best, s)
            particles, draws, ess, info = post.particles, post.draws, post.ess, post.info
        else:
            particles = evaluations.assign(log_weight=0.0)
            draws = pd.DataFrame([dict(zip([p.path for p in params], best_theta, strict=True))])
            ess, info = 1.0, {}
    best = dict(zip([p.path for p in params], best_theta, strict=True))
    fitted_sc = apply(scenario, params, best_theta)
    fit = fit_table(ts, fitted_sc, log[best_i][1], particles, draws)
    info.update(date=time.strftime("%Y-%m-%d"), replications=s.replications, seed=s.seed,
                evaluations=len(log) + info.get("posterior_evaluations", 0), settings=s.__dict__)
    return CalibrationResult(fitted_sc, ts, best, best_dev, fit, draws, particles, evaluations, ess,
                             time.perf_counter() - t0, info, sens)
