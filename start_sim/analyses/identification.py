"""Which targets constrain which parameters (decision 0037): the sensitivity of every fitted
target to every free parameter at the best fit, on common random numbers, and what it implies.

For parameter i and target j the slope ``s_ij`` is a central difference of the simulated target
on the unit cube (``step`` of the prior range either side of the best fit; one-sided at a
bound), with the same seed, so the difference is the parameter's effect and not noise between
runs. Divided by the target's observed standard error it is the *standardised effect*: how many
SEs the target moves when the parameter sweeps its whole prior range (linearised). Its square
is the Fisher information the target carries about the parameter; ``share`` is each target's
part of a parameter's information, and the information matrix ``J'J`` gives the linearised
posterior sd and correlations: a parameter whose sd is near the prior's (1 / sqrt(12) of the
range) is set by its prior, and two parameters correlated near -1 or 1 are identified only jointly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from start_sim.analyses.calibration_objective import UnitObjective, point
from start_sim.analyses.parallel import ordered_map
from start_sim.experiments.executor import Executor
from start_sim.inputs.targets import SHARE_KINDS, CalibrationTarget

PRIOR_SD = 1 / math.sqrt(12)  # sd of a uniform prior on the unit range
CONSTRAINS = 1.0  # a target constrains a parameter if it moves by at least this many SEs over the prior range


def target_se(t: CalibrationTarget) -> float:
    """The observed standard error of a fitted target (binomial at n_eff for shares; sd for means)."""
    if t.kind in SHARE_KINDS:
        v = min(max(t.value, 1e-3), 1 - 1e-3)
        return math.sqrt(v * (1 - v) / t.n_eff)
    return t.sd / math.sqrt(t.weight)


def sensitivity(ex: Executor, ev: UnitObjective, u_best: Sequence[float], step: float = 0.1) -> pd.DataFrame:
    """Long table: parameter, target, slope (target per unit prior range), se, standardised effect, share."""
    u0 = np.clip(np.asarray(u_best, float), 0, 1)
    tasks, steps = [], []
    for i in range(len(u0)):
        lo, hi = max(u0[i] - step, 0.0), min(u0[i] + step, 1.0)
        for x in (lo, hi):
            u = u0.copy()
            u[i] = x
            tasks.append((replace(ev, log=[]), list(u)))
        steps.append(hi - lo)
    pts = ordered_map(ex, point, tasks, "calibrate-sensitivity")
    rows = []
    for i, p in enumerate(ev.parameters):
        down, up = pts[2 * i][1], pts[2 * i + 1][1]
        for t in ev.targets:
            slope = (up.get(t.key, math.nan) - down.get(t.key, math.nan)) / steps[i] if steps[i] > 0 else math.nan
            se = target_se(t)
            rows.append({"parameter": p.path, "target": t.label, "key": t.key, "slope": slope, "se": se,
                         "effect_se": slope / se})
    out = pd.DataFrame(rows)
    info = out["effect_se"].fillna(0.0) ** 2
    out["share"] = info / info.groupby(out["parameter"]).transform("sum").replace(0.0, math.nan)
    return out


def effects_matrix(sens: pd.DataFrame) -> pd.DataFrame:
    """Targets (by simulated key, which is unique) x parameters: standardised effects (SEs over the
    whole prior range)."""
    m = sens.pivot(index="key", columns="parameter", values="effect_se")
    return m.loc[sens["key"].drop_duplicates(), sens["parameter"].drop_duplicates()]


def identification(sens: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: its linearised posterior sd against the prior's, its main targets, and the
    parameter it is most correlated with (a ridge means only a combination is identified)."""
    m = effects_matrix(sens).fillna(0.0)
    j = m.to_numpy()
    info = j.T @ j + np.eye(j.shape[1]) / PRIOR_SD**2  # the prior as a normal of the uniform's sd
    cov = np.linalg.inv(info)
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    rows = []
    for k, p in enumerate(m.columns):
        part = sens[sens["parameter"] == p].sort_values("share", ascending=False)
        main = [f"{r.target} ({r.share:.0%})" for r in part.itertuples() if abs(r.effect_se) >= CONSTRAINS
                and r.share >= 0.1]
        c = corr[k].copy()
        c[k] = 0.0
        other = int(np.argmax(np.abs(c))) if len(c) > 1 else k
        rows.append({"parameter": p, "sd_ratio": sd[k] / PRIOR_SD, "constrained_by": ", ".join(main) or "none",
                     "most_correlated": m.columns[other] if other != k else "", "correlation": c[other]})
    return pd.DataFrame(rows)


def split_posterior(posterior: pd.DataFrame, parameters: Sequence) -> pd.DataFrame:
    """Parts of one multiplicative effect (parameters with the same ``split`` name, e.g. the casework
    and mentor parts of safety planning): each part's posterior, the product, and each part's share of
    the log effect, log(part) / log(product), as mean and 95% over the posterior draws."""
    rows = []
    groups: dict[str, list] = {}
    for p in parameters:
        if p.split:
            groups.setdefault(p.split, []).append(p)
    for name, parts in groups.items():
        if len(parts) < 2:
            continue
        logs = np.log(np.column_stack([posterior[p.path].to_numpy(float) for p in parts]).clip(1e-12))
        total = logs.sum(axis=1)
        for k, p in enumerate(parts):
            x = posterior[p.path].to_numpy(float)
            share = np.divide(logs[:, k], total, out=np.full(len(total), math.nan), where=np.abs(total) > 1e-9)
            prior_sd = (p.high - p.low) * PRIOR_SD
            rows.append({"split": name, "parameter": p.path, "prior": f"{p.low:g}-{p.high:g}",
                         "post_mean": float(x.mean()), "post_2.5%": float(np.quantile(x, 0.025)),
                         "post_97.5%": float(np.quantile(x, 0.975)), "sd_ratio": float(x.std()) / prior_sd,
                         "share_mean": float(np.nanmean(share)), "share_2.5%": float(np.nanquantile(share, 0.025)),
                         "share_97.5%": float(np.nanquantile(share, 0.975))})
        prod = np.exp(total)
        rows.append({"split": name, "parameter": "product", "prior": "", "post_mean": float(prod.mean()),
                     "post_2.5%": float(np.quantile(prod, 0.025)), "post_97.5%": float(np.quantile(prod, 0.975)),
                     "sd_ratio": math.nan, "share_mean": 1.0, "share_2.5%": 1.0, "share_97.5%": 1.0})
    return pd.DataFrame(rows)
