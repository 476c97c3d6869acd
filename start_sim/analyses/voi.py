"""Value of information from the PSA draws: is a better evaluation worth paying for before deciding?

The decision is "expand START or not" on net savings: not expanding is worth 0, expanding the
draw's net savings. The expected value of perfect information (EVPI) is what a state would gain
by deciding after learning every uncertain input rather than now:
``E[max(0, NB)] - max(0, E[NB])``. It is zero when one option is best in every draw.

The expected value of partial perfect information (EVPPI) of a group of inputs (the effect
parameters, the unit costs, ...) is the same gain from learning that group only:
``E_phi[max(0, E[NB | phi])] - max(0, E[NB])``. ``E[NB | phi]`` comes from a regression of the
draws' net benefit on the group's values (Strong, Oakley and Brennan 2014, Med Decis Making
34:311-326), which needs no further simulation. The regression here is an additive natural
cubic spline in each input, with their pairwise products when the draws allow, the model with
the smallest generalised cross-validation score (GCV) among linear, additive-spline and
spline-plus-interactions (a spline that overfits would bias EVPPI upward). Stochastic
variation of a replication is in each draw's net benefit but in no group, so no group's EVPPI
reaches EVPI exactly. An estimate above EVPI (impossible for the true value) is kept but flagged
(``above_evpi``): the fitted values' own noise inflates EVPPI when the draws are few for the
group's inputs, or when few draws sit near break-even.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DRAWS_PER_COEFFICIENT = 5
"""A regression is fitted only with at least this many draws per coefficient [assumption: a common
rule against overfitting, which biases EVPPI upward]; with fewer for even the linear model the
EVPPI is not estimated (NaN: run more PSA draws)."""

KNOTS = 4
"""Knots of each input's natural cubic spline, at its quantiles [assumption: Strong et al. use
GAM smoothers of similar flexibility; GCV chooses between this and simpler fits]."""


def evpi(nb: np.ndarray) -> float:
    """EVPI of net benefits ``nb`` (draws x options; one column = that option against 0)."""
    nb = _options(nb)
    return float(np.mean(nb.max(axis=1)) - nb.mean(axis=0).max())


def evppi(nb: np.ndarray, inputs: np.ndarray | pd.DataFrame) -> float:
    """EVPPI of the group ``inputs`` (draws x parameters) by nonparametric regression."""
    nb = _options(nb)
    x = np.asarray(inputs, dtype=float).reshape(len(nb), -1)
    fitted = [fit(x, nb[:, j]) for j in range(nb.shape[1])]
    if any(f is None for f in fitted):
        return float("nan")
    f = np.column_stack(fitted)
    return max(0.0, float(np.mean(f.max(axis=1)) - f.mean(axis=0).max()))


def _options(nb: np.ndarray) -> np.ndarray:
    """Net benefits with the 'do nothing' option (0) as the first column when one option is given."""
    nb = np.asarray(nb, dtype=float)
    if nb.ndim == 1:
        nb = np.column_stack([np.zeros_like(nb), nb])
    if not np.isfinite(nb).all():
        raise ValueError("net benefits must be finite numbers")
    return nb


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Fitted ``E[y | x]``: of the linear, additive-spline and spline+interactions models with at
    least ``DRAWS_PER_COEFFICIENT`` draws per coefficient, the smallest GCV; None if none qualifies."""
    if np.ptp(y) == 0:
        return y.copy()
    x = x[:, np.ptp(x, axis=0) > 0]
    best, best_gcv = None, np.inf
    for design in _bases(x):
        p = design.shape[1]
        if p * DRAWS_PER_COEFFICIENT > len(y):
            continue
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        yhat = design @ coef
        gcv = len(y) * float(np.sum((y - yhat) ** 2)) / (len(y) - p) ** 2
        if gcv < best_gcv:
            best, best_gcv = yhat, gcv
    return best


def _bases(x: np.ndarray) -> list[np.ndarray]:
    ones = np.ones((len(x), 1))
    z = (x - x.mean(axis=0)) / x.std(axis=0) if x.shape[1] else x
    linear = np.hstack([ones, z])
    spline = np.hstack([linear, *[_ncs(z[:, j]) for j in range(z.shape[1])]])
    pairs = [z[:, i] * z[:, j] for i in range(z.shape[1]) for j in range(i + 1, z.shape[1])]
    out = [linear, spline]
    if pairs:
        out.append(np.hstack([spline, np.column_stack(pairs)]))
    return out


def _ncs(v: np.ndarray) -> np.ndarray:
    """Natural cubic spline terms of ``v`` (beyond the linear one), knots at quantiles (Hastie et al. 5.2.1)."""
    knots = np.unique(np.quantile(v, np.linspace(0.05, 0.95, KNOTS)))
    if len(knots) < 3:
        return np.empty((len(v), 0))

    def d(k: int) -> np.ndarray:
        return (np.maximum(v - knots[k], 0) ** 3 - np.maximum(v - knots[-1], 0) ** 3) / (knots[-1] - knots[k])

    last = d(len(knots) - 2)
    return np.column_stack([d(k) - last for k in range(len(knots) - 2)])


@dataclass
class VOI:
    """EVPI and EVPPI of the 'expand START or not' decision, per family and for the scenario's cohort."""

    evpi: float  # USD PV, the scenario's cohort (its counties over the horizon)
    families: float  # mean cohort families per draw
    groups: pd.DataFrame  # kind, group, inputs, evppi, above_evpi, evppi_per_family, share_of_evpi
    p_expand_best: float  # share of draws where expanding beats not expanding
    expected_net: float  # mean net savings of expanding over the draws (the decision now)

    @property
    def evpi_per_family(self) -> float:
        """EVPI divided by the mean cohort families of a draw."""
        return self.evpi / self.families if self.families else float("nan")


def groups_of(draws: pd.DataFrame, effects: Sequence[str]) -> dict[str, list[str]]:
    """The PSA's input groups: effect parameters, unit costs, funding shares (those in the draws)."""
    costs = [c for c in draws.columns if str(c).startswith("cost:")]
    funding = [c for c in draws.columns if str(c).startswith("funding:")]
    out = {"effect parameters": [c for c in effects if c in draws.columns], "unit costs": costs,
           "funding shares": funding}
    out["all inputs"] = [c for g in out.values() for c in g]
    return out


def value_of_information(draws: pd.DataFrame, groups: Mapping[str, Sequence[str]],
                         outcome: str = "net_savings") -> VOI:
    """EVPI and the EVPPI of each group (and of each single input) from PSA ``draws``."""
    nb = draws[outcome].to_numpy(dtype=float)
    total = evpi(nb)
    fam = float(draws["families"].mean()) if "families" in draws else float("nan")
    rows = []
    singles = {c: [c] for cols in groups.values() for c in cols}
    for kind, table in (("group", dict(groups)), ("input", singles)):
        for name, cols in table.items():
            value = (evppi(nb, draws[list(cols)]) if total > 0 else 0.0) if cols else 0.0
            rows.append({"kind": kind, "group": name, "inputs": len(cols), "evppi": value,
                         "above_evpi": bool(value > total * (1 + 1e-9)),
                         "evppi_per_family": value / fam if fam else float("nan"),
                         "share_of_evpi": value / total if total > 0 else float("nan")})
    df = pd.DataFrame(rows)
    return VOI(total, fam, df, float((nb > 0).mean()), float(nb.mean()))
