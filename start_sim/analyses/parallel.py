"""Tasks of the analyses, in order, on the one executor of the package, and their random streams.

Calibration and the uncertainty analysis map a function over many inputs and need the
results in input order; :func:`ordered_map` does so through
:meth:`start_sim.experiments.executor.Executor.stream` (serially, or on Dask). Their random
draws come from :func:`named_rng`: a generator identified by a *name*, as the model's streams
are (:mod:`start_sim.sim.streams`), so adding a draw for one purpose moves no other.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from start_sim.experiments.executor import Executor
from start_sim.sim.streams import stable_hash


def ordered_map(executor: Executor, fn: Callable[..., Any], args: Sequence[tuple], label: str) -> list:
    """``[fn(*a) for a in args]``, run by ``executor``; ``label`` names the tasks on Dask."""
    out: list = [None] * len(args)
    tag = f"start-sim-{label}-{uuid.uuid4().hex[:8]}"
    items = [(f"{tag}-{i}", a) for i, a in enumerate(args)]
    executor.stream(fn, items, lambda key, result: out.__setitem__(int(key.rsplit("-", 1)[1]), result))
    return out


def named_rng(seed: int, name: str) -> np.random.Generator:
    """The generator for one named purpose of an analysis: ``SeedSequence([seed, stable_hash(name)])``."""
    return np.random.default_rng(np.random.SeedSequence([seed, stable_hash(name)]))
