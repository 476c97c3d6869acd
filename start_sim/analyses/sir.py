"""The calibration posterior: sampling-importance-resampling (SIR) around the best fit, and the
posterior and predictive intervals of every target.

The curvature at the optimum comes from a least-squares quadratic fitted to a Sobol design in
a small box around it; the importance proposal is a multivariate normal with
``proposal_inflation**2`` times the inverse of that curvature, truncated to the prior box and
sampled by ``scipy.stats.qmc.MultivariateNormalQMC`` (a Sobol-based QMC design). Importance
weights are prior x likelihood / proposal density; draws are resampled with those weights. The
effective sample size is reported: a small one means the posterior is poorly resolved and the
design should be larger. Every random draw comes from a named stream of the calibration seed.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from start_sim.analyses.calibration_objective import UnitObjective, frame, point
from start_sim.analyses.parallel import named_rng, ordered_map
from start_sim.experiments.executor import Executor
from start_sim.inputs.schema import Scenario
from start_sim.inputs.targets import SHARE_KINDS, Settings, TargetSet


@dataclass
class Posterior:
    """The SIR posterior: every importance particle, the resampled draws and diagnostics."""

    particles: pd.DataFrame  # parameters, deviance, simulated targets, log_weight, weight
    draws: pd.DataFrame  # draw, particle, one column per parameter
    ess: float
    info: dict[str, Any]


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


def sir(executor: Executor, objective: UnitObjective, u_best: np.ndarray, s: Settings) -> Posterior:
    """The posterior around the best fit ``u_best`` (unit cube), by SIR (see the module docstring)."""
    params = objective.parameters
    d = len(params)
    # curvature of the deviance (= -2 log L) from a local Sobol design
    hw = s.local_half_width
    lo, hi = np.clip(u_best - hw, 0, 1), np.clip(u_best + hw, 0, 1)
    with warnings.catch_warnings():  # Sobol balance wants powers of 2; other sizes still work
        warnings.simplefilter("ignore", UserWarning)
        local = qmc.Sobol(d, scramble=True, seed=named_rng(s.seed, "calibration:local-design")).random(
            max(s.local_points, 2 * d + 2))
        # a long QMC sequence, of which the first posterior_points inside the prior box are used:
        # the proposal is the normal truncated to the box (its normalising constant cancels)
        z = qmc.MultivariateNormalQMC(mean=np.zeros(d), seed=named_rng(s.seed, "calibration:proposal")).random(
            8 * max(s.posterior_points, 1))
    local = qmc.scale(local, lo, hi)
    loc_pts = ordered_map(executor, point, [(objective, list(u)) for u in local], "calibrate-local")
    y = np.array([p[2] for p in loc_pts])
    ok = np.isfinite(y) & (y < 1e5)  # points whose simulation failed return a huge deviance: left out of the fit
    h = curvature(local[ok] - u_best, y[ok]) / 2  # Hessian of -log L
    w, v = np.linalg.eigh((h + h.T) / 2)
    w = np.clip(w, 1 / 0.3**2, None)  # no direction wider than sd 0.3 of the prior box; PD [assumption: a setting]
    cov = (v / w) @ v.T * s.proposal_inflation**2
    # importance design: QMC multivariate normal around the optimum
    z = u_best + z @ np.linalg.cholesky(cov).T  # the same QMC normal design, scaled to the proposal
    inside = np.all((z >= 0) & (z <= 1), axis=1)
    outside = int((~inside[: np.searchsorted(np.cumsum(inside), s.posterior_points) + 1]).sum())
    z_in = z[inside][: s.posterior_points]
    pts = ordered_map(executor, point, [(objective, list(u)) for u in z_in], "calibrate-importance")
    dev = np.array([p[2] for p in pts])
    logq = stats.multivariate_normal(mean=u_best, cov=cov).logpdf(z_in)
    logw = -dev / 2 - np.atleast_1d(logq)  # uniform prior: constant inside the box
    logw[~np.isfinite(logw)] = -np.inf
    wts = np.exp(logw - np.max(logw))
    wts /= wts.sum()
    ess = float(1 / np.sum(wts**2))
    particles = frame(params, pts)
    particles["log_weight"] = logw
    particles["weight"] = wts
    idx = named_rng(s.seed, "calibration:resample").choice(len(pts), size=s.posterior_draws, replace=True, p=wts)
    draws = particles.iloc[idx][[p.path for p in params]].reset_index(drop=True)
    draws.insert(0, "particle", idx)
    draws.insert(0, "draw", np.arange(len(draws)))
    info = {"posterior_evaluations": len(loc_pts) + len(pts), "proposal_outside_prior": outside,
            "hessian_unit": h.tolist(), "particle_index": idx.tolist()}
    return Posterior(particles, draws, ess, info)


def fit_table(ts: TargetSet, fitted: Scenario, best_sim: dict[str, float], particles: pd.DataFrame,
              draws: pd.DataFrame) -> pd.DataFrame:
    """One row per target: observed value and interval, the best fit, the posterior and the
    predictive 95% intervals (a study of the target's effective size), and its deviance."""
    rows = []
    data = fitted.to_dict()
    idx = draws["particle"].to_numpy() if "particle" in draws else None
    for t in ts.targets:
        row = {"target": t.id, "site": t.site, "arm": t.arm, "name": t.name, "kpi": t.key, "kind": t.kind, "observed": t.value,
               "low": t.low, "high": t.high, "n_eff": t.n_eff if t.kind in SHARE_KINDS else math.nan}
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
            rng = named_rng(ts.settings.seed, f"calibration:predictive:{t.id}:{t.arm}")
            if t.kind in SHARE_KINDS and len(vals):
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
