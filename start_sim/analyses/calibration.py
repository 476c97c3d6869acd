"""Calibration of free parameters to observed START outcomes, with a posterior.

Method (all numerical work is scipy's; nothing here is a hand-made optimiser or sampler):

1. **Targets as data** (``calibration/targets.toml``): each target names a KPI, an arm, the
   observed value and its effective sample size ``n_eff = n / design_effect * weight``, which
   is where overlapping Kentucky populations and clustering are accounted for. Free parameters
   have uniform priors on ``[low, high]``.
2. **Objective**: minus the log-likelihood, as a deviance (0 = every target hit exactly):
   binomial for rates, normal for means, one-sided binomial for ``at_least`` claims. Each
   evaluation runs the *calibration scenario* (the given scenario with a shorter referral
   horizon, see ``[calibration]``) through :func:`start_sim.experiments.runner.replicate` with one
   fixed seed: common random numbers, so the objective is a deterministic function of the
   parameters, and nearly smooth.
3. **Point fit**: a scrambled Sobol design over the prior box (``scipy.stats.qmc.Sobol``),
   then ``scipy.optimize.minimize(method="Nelder-Mead", bounds=...)`` from the best design
   points (multi-start). Parameters are searched on the unit cube.
4. **Posterior**: sampling-importance-resampling (SIR). The curvature at the optimum comes
   from a least-squares quadratic fitted to a Sobol design in a small box around it; the
   importance proposal is a multivariate normal with ``proposal_inflation**2`` times the
   inverse of that curvature, sampled by ``scipy.stats.qmc.MultivariateNormalQMC`` (a
   Sobol-based QMC design). Importance weights are prior x likelihood / proposal density;
   draws are resampled with those weights. The effective sample size is reported: a small one
   means the posterior is poorly resolved and the design should be larger.

Parallelism: design points (and Nelder-Mead starts) are mapped over a Dask cluster when
``workers > 1`` or a ``scheduler`` address is given; each task runs ``replicate`` serially.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.stats import qmc

from start_sim.experiments.runner import replicate
from start_sim.inputs.posterior import load_posterior
from start_sim.inputs.schema import Scenario
from start_sim.inputs.targets import CalibrationTarget, Parameter, Settings, TargetSet, load_targets

# ------------------------------------------------------------------ simulation of targets


def calibration_scenario(scenario: Scenario, settings: Settings) -> Scenario:
    """The scenario the fit simulates: the same, with ``settings.horizon_years`` of referrals."""
    if settings.horizon_years and settings.horizon_years != scenario.horizon_years:
        return scenario.with_changes({"horizon_years": settings.horizon_years})
    return scenario


def apply(scenario: Scenario, parameters: Sequence[Parameter], theta: Sequence[float]) -> Scenario:
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
        else:
            vals = [o.kpis[t.key] for o in outs]
        res[t.key] = float(np.nanmean(vals)) if np.any(np.isfinite(vals)) else math.nan
    return res


def evaluate(scenario: Scenario, parameters: Sequence[Parameter], targets: Sequence[CalibrationTarget], theta: Sequence[float],
             replications: int, seed: int, workers: int = 1, scheduler: str | None = None) -> dict[str, float]:
    """Simulated target quantities at ``theta`` (common random numbers: ``seed`` fixed)."""
    outs = replicate(apply(scenario, parameters, theta), replications, seed, workers, scheduler)
    return simulated_targets(outs, targets)


def deviance(sim: dict[str, float], targets: Sequence[CalibrationTarget]) -> float:
    return float(sum(t.deviance(sim.get(t.key, math.nan)) for t in targets if t.kind != "check"))


@dataclass
class _Eval:
    """A picklable objective on the unit cube; remembers every evaluation."""

    scenario: Scenario
    parameters: tuple[Parameter, ...]
    targets: tuple[CalibrationTarget, ...]
    replications: int
    seed: int
    log: list = field(default_factory=list)

    def theta(self, u: Sequence[float]) -> list[float]:
        return [p.value(min(max(x, 0.0), 1.0)) for p, x in zip(self.parameters, u, strict=True)]

    def point(self, u: Sequence[float]) -> tuple[list[float], dict[str, float], float]:
        th = self.theta(u)
        sim = evaluate(self.scenario, self.parameters, self.targets, th, self.replications, self.seed)
        return th, sim, deviance(sim, self.targets)

    def __call__(self, u: np.ndarray) -> float:
        th, sim, dev = self.point(u)
        self.log.append((th, sim, dev))
        return dev


def objective(scenario: Scenario, target_set: TargetSet, replications: int | None = None,
              seed: int | None = None) -> Callable[[Sequence[float]], float]:
    """Deviance as a function of the parameter values (not unit-cube): deterministic for a fixed seed."""
    s = target_set.settings
    ev = _Eval(calibration_scenario(scenario, s), target_set.parameters, target_set.fitted,
               replications or s.replications, s.seed if seed is None else seed)

    def f(theta: Sequence[float]) -> float:
        return ev.point([p.unit(v) for p, v in zip(target_set.parameters, theta, strict=True)])[2]
    return f


def _nelder_mead(ev: _Eval, u0: Sequence[float], maxfev: int) -> list:
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


def _point(ev: _Eval, u: Sequence[float]):
    return ev.point(u)


class _Mapper:
    """Maps a function over items: serially, or over a Dask cluster made once for the calibration."""

    def __init__(self, workers: int = 1, scheduler: str | None = None):
        self.client = self.cluster = None
        if workers > 1 or scheduler:
            from dask.distributed import Client, LocalCluster

            if scheduler is None:
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=40)
                self.client = Client(self.cluster)
            else:
                self.client = Client(scheduler)

    def map(self, fn: Callable, ev: _Eval, items: list) -> list:
        if self.client is None:
            return [fn(ev, x) for x in items]
        shared = self.client.scatter(ev, broadcast=True, hash=False)  # a fresh key per call
        futures = [self.client.submit(fn, shared, x, pure=False) for x in items]
        return self.client.gather(futures)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


# ------------------------------------------------------------------ results


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

    def fragment_toml(self, extends: str, scenario_source: str = "") -> str:
        """A scenario file that extends ``extends`` with the fitted values; metadata as comments."""
        return fragment_toml(self, extends, scenario_source)

    def write(self, out: str | Path, fragment: str | Path | None = None, scenario_source: str = "") -> Path:
        """DIR/fit.csv, posterior.csv, particles.csv, evaluations.csv, calibrated.toml, report.html."""
        import os

        from start_sim.outputs.calibration_report import write_report

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        self.fit.to_csv(out / "fit.csv", index=False)
        self.posterior.to_csv(out / "posterior.csv", index=False)
        self.particles.to_csv(out / "particles.csv", index=False)
        self.evaluations.to_csv(out / "evaluations.csv", index=False)
        frag = Path(fragment) if fragment else out / "calibrated.toml"
        frag.parent.mkdir(parents=True, exist_ok=True)
        ext = os.path.relpath(Path(scenario_source).resolve(), frag.parent.resolve()) if scenario_source else "kentucky.toml"
        frag.write_text(self.fragment_toml(ext, scenario_source))
        write_report(self, out / "report.html")
        return frag


def fragment_toml(res: CalibrationResult, extends: str, scenario_source: str = "") -> str:
    data = res.scenario.to_dict()
    ts = res.target_set
    lines = [
        "# Calibrated Kentucky parameters: written by `start-sim calibrate` (start_sim/calibration.py).",
        f"# Fit date: {res.info.get('date', '')}; targets file: {ts.source}; scenario: {scenario_source}",
        f"# Targets fitted: {', '.join(dict.fromkeys(t.id for t in ts.fitted))} (checked: "
        f"{', '.join(t.id for t in ts.targets if t.kind == 'check') or 'none'}); weighting of overlapping Kentucky",
        "# studies and effective sample sizes are documented in calibration/targets.toml.",
        f"# Method: multi-start Nelder-Mead from a Sobol design (best deviance {res.best_deviance:.2f}); posterior by",
        f"# sampling-importance-resampling on a QMC (Sobol) normal design, ESS {res.ess:.0f};",
        "# draws in the posterior CSV next to this file (kentucky_posterior.csv when shipped).",
        f"# Calibration scenario: horizon_years = {ts.settings.horizon_years}, replications = "
        f"{res.info.get('replications')}, seed = {res.info.get('seed')}; {res.info.get('evaluations')} evaluations in "
        f"{res.seconds / 60:.1f} min.",
        "# Scenario files reject unknown keys, so all metadata is in these comments.",
        f'extends = "{extends}"',
        f'name = "{res.scenario.name} (calibrated)"',
    ]
    sections: dict[str, dict[str, Any]] = {}
    for p in ts.parameters:
        parts = p.path.split(".")
        section, key = parts[0], parts[1]
        value = data[section][key]
        sections.setdefault(section, {})[key] = value
    for section, kv in sections.items():
        lines += ["", f"[{section}]"]
        for key, value in kv.items():
            prior = [p for p in ts.parameters if p.path.split(".")[:2] == [section, key]]
            note = "; ".join(f"{p.path}: prior [{p.low:g}, {p.high:g}], default {p.default:g}" for p in prior)
            lines.append(f"{key} = {_toml_value(value)}  # {note}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(round(v, 6))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items() if x is not None) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


# ------------------------------------------------------------------ the calibration


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
    cal = calibration_scenario(scenario, s)
    ev = _Eval(cal, params, ts.fitted, s.replications, s.seed)
    mapper = _Mapper(workers, scheduler)
    log: list = []
    try:
        # 1. Sobol design over the prior box
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            design = qmc.Sobol(d, scramble=True, seed=s.seed).random(max(s.design_points, 1))
        say(f"design: {len(design)} points")
        pts = mapper.map(_point, ev, [list(u) for u in design])
        log += pts
        order = np.argsort([p[2] for p in pts])
        starts = [design[i] for i in order[: s.starts]]
        if start is not None:
            starts = [np.array([p.unit(v) for p, v in zip(params, start, strict=True)])] + starts[: max(s.starts - 1, 0)]
        # 2. multi-start Nelder-Mead (each start a task when parallel)
        say(f"Nelder-Mead: {len(starts)} starts x {s.maxfev} evaluations")
        if s.maxfev > 0 and starts:
            for nm_log in mapper.map(_nm_task, ev, [(list(u), s.maxfev) for u in starts]):
                log += nm_log
        best_i = int(np.argmin([e[2] for e in log]))
        best_theta, _, best_dev = log[best_i]
        u_best = np.array([p.unit(v) for p, v in zip(params, best_theta, strict=True)])
        evaluations = _frame(params, ts.fitted, log)
        # 3. posterior by SIR
        if posterior and s.posterior_points > 0:
            say(f"posterior: {s.local_points} local + {s.posterior_points} importance points")
            particles, draws, ess, info = _sir(mapper, ev, params, ts.fitted, u_best, s)
        else:
            particles = evaluations.assign(log_weight=0.0)
            draws = pd.DataFrame([dict(zip([p.path for p in params], best_theta, strict=True))])
            ess, info = 1.0, {}
    finally:
        mapper.close()
    best = dict(zip([p.path for p in params], best_theta, strict=True))
    fitted_sc = apply(scenario, params, best_theta)
    fit = _fit_table(ts, fitted_sc, log[best_i][1], particles, draws)
    info.update(date=time.strftime("%Y-%m-%d"), replications=s.replications, seed=s.seed,
                evaluations=len(log) + info.get("posterior_evaluations", 0), settings=s.__dict__)
    return CalibrationResult(fitted_sc, ts, best, best_dev, fit, draws, particles, evaluations, ess,
                             time.perf_counter() - t0, info)


def _nm_task(ev: _Eval, args: tuple) -> list:
    u0, maxfev = args
    fresh = replace(ev, log=[])
    return _nelder_mead(fresh, u0, maxfev)


def _frame(params: Sequence[Parameter], targets: Sequence[CalibrationTarget], log: list) -> pd.DataFrame:
    rows = []
    for th, sim, dev in log:
        row = dict(zip([p.path for p in params], th, strict=True))
        row["deviance"] = dev
        row.update({f"sim:{k}": v for k, v in sim.items()})
        rows.append(row)
    return pd.DataFrame(rows)


def _quadratic_features(x: np.ndarray) -> np.ndarray:
    n, d = x.shape
    cols = [np.ones(n)] + [x[:, i] for i in range(d)]
    cols += [x[:, i] * x[:, j] for i in range(d) for j in range(i, d)]
    return np.column_stack(cols)


def curvature(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Hessian of a least-squares quadratic through (x, y); x centred on the optimum."""
    d = x.shape[1]
    coef, *_ = np.linalg.lstsq(_quadratic_features(x), y, rcond=None)
    h = np.zeros((d, d))
    k = 1 + d
    for i in range(d):
        for j in range(i, d):
            if i == j:
                h[i, i] = 2 * coef[k]
            else:
                h[i, j] = h[j, i] = coef[k]
            k += 1
    return h


def _sir(mapper: _Mapper, ev: _Eval, params, targets, u_best: np.ndarray, s: Settings):
    d = len(params)
    # curvature of the deviance (= -2 log L) from a local Sobol design
    hw = s.local_half_width
    lo, hi = np.clip(u_best - hw, 0, 1), np.clip(u_best + hw, 0, 1)
    with warnings.catch_warnings():  # Sobol balance wants powers of 2; other sizes still work
        warnings.simplefilter("ignore", UserWarning)
        local = qmc.Sobol(d, scramble=True, seed=s.seed + 1).random(max(s.local_points, 2 * d + 2))
        # a long QMC sequence, of which the first posterior_points inside the prior box are used:
        # the proposal is the normal truncated to the box (its normalising constant cancels)
        z = qmc.MultivariateNormalQMC(mean=np.zeros(d), seed=s.seed + 2).random(8 * max(s.posterior_points, 1))
    local = qmc.scale(local, lo, hi)
    loc_pts = mapper.map(_point, ev, [list(u) for u in local])
    y = np.array([p[2] for p in loc_pts])
    ok = np.isfinite(y) & (y < 1e5)
    h = curvature(local[ok] - u_best, y[ok]) / 2  # Hessian of -log L
    w, v = np.linalg.eigh((h + h.T) / 2)
    w = np.clip(w, 1 / 0.3**2, None)  # no direction wider than sd 0.3 of the prior box; PD
    cov = (v / w) @ v.T * s.proposal_inflation**2
    # importance design: QMC multivariate normal around the optimum
    z = u_best + z @ np.linalg.cholesky(cov).T  # the same QMC normal design, scaled to the proposal
    inside = np.all((z >= 0) & (z <= 1), axis=1)
    outside = int((~inside[: np.searchsorted(np.cumsum(inside), s.posterior_points) + 1]).sum())
    z_in = z[inside][: s.posterior_points]
    pts = mapper.map(_point, ev, [list(u) for u in z_in])
    dev = np.array([p[2] for p in pts])
    logq = stats.multivariate_normal(mean=u_best, cov=cov).logpdf(z_in)
    logw = -dev / 2 - np.atleast_1d(logq)  # uniform prior: constant inside the box
    logw[~np.isfinite(logw)] = -np.inf
    wts = np.exp(logw - np.max(logw))
    wts /= wts.sum()
    ess = float(1 / np.sum(wts**2))
    particles = _frame(params, targets, pts)
    particles["log_weight"] = logw
    particles["weight"] = wts
    rng = np.random.default_rng(s.seed + 3)
    idx = rng.choice(len(pts), size=s.posterior_draws, replace=True, p=wts)
    draws = particles.iloc[idx][[p.path for p in params]].reset_index(drop=True)
    draws.insert(0, "particle", idx)
    draws.insert(0, "draw", np.arange(len(draws)))
    info = {"posterior_evaluations": len(loc_pts) + len(pts), "proposal_outside_prior": outside,
            "hessian_unit": h.tolist(), "particle_index": idx.tolist()}
    return particles, draws, ess, info


def _fit_table(ts: TargetSet, fitted: Scenario, best_sim: dict[str, float], particles: pd.DataFrame,
               draws: pd.DataFrame) -> pd.DataFrame:
    rows = []
    data = fitted.to_dict()
    idx = draws["particle"].to_numpy() if "particle" in draws else None
    rng = np.random.default_rng(0)
    for t in ts.targets:
        row = {"target": t.id, "arm": t.arm, "name": t.name, "kpi": t.key, "kind": t.kind, "observed": t.value,
               "low": t.low, "high": t.high, "n_eff": t.n_eff if t.kind in ("rate", "at_least") else math.nan}
        if t.kind == "check":
            val: Any = data
            for part in t.kpi.split("."):
                val = val[part]
            row.update(best=float(val), post_mean=float(val), post_low=float(val), post_high=float(val),
                       pred_low=float(val), pred_high=float(val), deviance=0.0)
        else:
            col = f"sim:{t.key}"
            best = best_sim.get(t.key, math.nan)
            vals = particles[col].to_numpy()[idx] if (idx is not None and col in particles) else np.array([best])
            vals = vals[np.isfinite(vals)]
            if t.kind in ("rate", "at_least") and len(vals):
                n = max(int(round(t.n_eff)), 1)
                pred = rng.binomial(n, np.clip(vals, 0, 1)) / n
            elif len(vals):
                pred = vals + rng.normal(0, t.sd, len(vals))
            else:
                pred = vals
            q = (lambda a, p: float(np.percentile(a, p)) if len(a) else math.nan)
            row.update(best=best, post_mean=float(np.mean(vals)) if len(vals) else math.nan,
                       post_low=q(vals, 2.5), post_high=q(vals, 97.5), pred_low=q(pred, 2.5),
                       pred_high=q(pred, 97.5), deviance=t.deviance(best))
        row["inside"] = bool(t.low <= row["best"] <= t.high)
        row["population"], row["source"] = t.population, t.source
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["CalibrationResult", "CalibrationTarget", "Parameter", "Settings", "TargetSet", "calibrate", "evaluate",
           "load_posterior", "load_targets", "objective", "simulated_targets"]
