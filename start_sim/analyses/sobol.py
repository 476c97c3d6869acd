"""Sobol variance-based indices (SALib), for START's net savings beside the Morris screening.

First-order index S1: the share of the variance of net savings that one input explains alone;
total index ST: its share counting every interaction it takes part in. Both with 95% bootstrap
confidence intervals (SALib's). Inputs and ranges are those of the Morris screening
(:func:`start_sim.analyses.uncertainty.screening_problem`; the model run is
:func:`start_sim.analyses.uncertainty.sobol`): effect parameters uniform over their
marginal posterior 2.5-97.5% range (their posterior correlation ignored, as Sobol's
decomposition needs independent inputs) and unit costs over their 2.5-97.5% range. Saltelli's
design takes ``samples`` x (2 x inputs + 2) evaluations; effect vectors are simulated once each
(replication 0, common random numbers) and costs re-priced on their ledger, so the cost is
``samples`` x (2 x effects + 2) simulations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def indices(problem: dict, model: Callable[[np.ndarray], np.ndarray], samples: int, seed: int = 1) -> pd.DataFrame:
    """S1 and ST with their 95% confidence half-widths of ``model`` (rows of inputs -> outputs)."""
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    y = np.asarray(model(x), dtype=float)
    si = sobol_analyze.analyze(problem, y, calc_second_order=False, seed=seed)
    df = pd.DataFrame({"input": problem["names"], "S1": si["S1"], "S1_conf": si["S1_conf"],
                       "ST": si["ST"], "ST_conf": si["ST_conf"]})
    return df.sort_values("ST", ascending=False).reset_index(drop=True)
