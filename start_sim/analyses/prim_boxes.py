"""Boxes of inputs where a case of interest happens, by the Patient Rule Induction Method (PRIM)
of the EMA Workbench (``ema_workbench.analysis.prim``, the reference implementation in
exploratory modelling; Friedman and Fisher 1999, Bryant and Lempert 2010).

PRIM peels the input space a little at a time (``peel_alpha``), each step raising the share of
cases of interest inside the box (*density*) at the cost of the share of all cases it holds
(*coverage*); the steps form the peeling trajectory (the coverage/density trade-off). From it
we take the step of largest coverage that reaches ``density`` once every restriction whose
quasi-p-value (a one-sided binomial test of the density with and without it) is 0.05 or more is
dropped (Bryant and Lempert's choice of an interpretable box, with only limits the data
support). A step left with no restriction, or below ``density`` after the drops, is passed over;
if none is left, there is no box.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

SIGNIFICANCE = 0.05
"""Quasi-p-value at or above which a box limit is dropped [assumption: the conventional 5% level]."""

MAX_BOXES = 2
"""Boxes sought per question; the second covers the cases the first leaves [assumption]."""


@dataclass
class Box:
    """One box: its statistics, the limits of its restricted inputs and the trajectory it came from."""

    coverage: float  # share of all cases of interest inside the box
    density: float  # share of the designs inside the box that are cases of interest
    mass: float  # share of all designs inside the box
    n: int  # designs inside
    k: int  # cases of interest inside
    limits: pd.DataFrame  # input, low, high, full_low, full_high, qp_low, qp_high (restricted inputs only)
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step


def find_boxes(x: pd.DataFrame, y: np.ndarray, *, density: float = 0.8, peel_alpha: float = 0.05,
               max_boxes: int = MAX_BOXES) -> list[Box]:
    """Boxes of ``x`` (one row per design) where ``y`` (True: a case of interest) concentrates."""
    y = np.asarray(y, dtype=bool)
    if y.sum() == 0 or y.all() or x.shape[1] == 0:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ema_workbench warns about optional parallel back-ends it does not need here
        logging.getLogger("EMA").setLevel(logging.ERROR)
        from ema_workbench.analysis import prim

        p = prim.Prim(x.reset_index(drop=True), y, threshold=density, peel_alpha=peel_alpha)
        boxes = []
        for _ in range(max_boxes):
            box = p.find_box()
            if box is None:
                break
            chosen = _chosen(box, density)
            if chosen is None:
                break
            boxes.append(chosen)
    return boxes


def _chosen(box, density: float) -> Box | None:
    """The largest-coverage step that still reaches ``density`` once its insignificant limits are dropped."""
    traj = box.peeling_trajectory.copy()
    ok = traj[(traj["density"] >= density) & (traj["res_dim"] > 0)]
    for start in ok.sort_values(["coverage", "density"], ascending=False).index:
        i = int(start)
        while weak := [name for name, qp in box.qp[i].items() if min(v for v in qp if v >= 0) >= SIGNIFICANCE]:
            box.drop_restriction(weak[0], i)
            i = len(box.peeling_trajectory) - 1
        s = box.peeling_trajectory.iloc[i]
        if box.qp[i] and s["density"] >= density:
            return _box(box, i, traj)
    return None


def _box(box, i: int, traj: pd.DataFrame) -> Box:
    lims, full = box.box_lims[i], box.box_lims[0]
    rows = [{"input": name, "low": float(lims[name].iloc[0]), "high": float(lims[name].iloc[1]),
             "full_low": float(full[name].iloc[0]), "full_high": float(full[name].iloc[1]),
             "qp_low": _qp(qp[0]), "qp_high": _qp(qp[1])} for name, qp in box.qp[i].items()]
    s = box.peeling_trajectory.iloc[i]
    return Box(float(s["coverage"]), float(s["density"]), float(s["mass"]), int(s["n"]), int(s["k"]),
               pd.DataFrame(rows), traj[["coverage", "density", "mass", "res_dim"]].copy())


def _qp(v: float) -> float:
    return float("nan") if v < 0 else float(v)
