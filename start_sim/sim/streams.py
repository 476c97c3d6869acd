"""Random streams keyed by name, so that common random numbers survive model changes.

Every stream is a ``numpy.random.Generator`` built from
``SeedSequence([seed, replication, county, cohort, stable_hash(name)])``: its identity is
its *name*, never its spawn position, so adding a stream shifts no other.

Per-family draws come in blocks: the stream named ``name`` yields a matrix whose row
``i`` belongs to family ``i`` of that county and cohort. numpy fills a matrix in row
order from one stream, so row ``i`` is the same whatever the number of families; a
family therefore keeps its draws when a scenario adds dyads, lengthens the horizon or
changes any rate. A family that needs more draws than its row holds continues on a
generator of its own, keyed additionally by its index (see :meth:`CountyDraws.extra`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

NEW, PRE_EXISTING = 0, 1
"""Cohorts: families referred during the run, and families already open at its start."""


def stable_hash(name: str) -> int:
    """A 32-bit hash of ``name`` that is the same in every process and Python version."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def stream(seed: int, replication: int, county: int, name: str, cohort: int = NEW) -> np.random.Generator:
    """The generator for one named purpose in one county of one replication."""
    return np.random.default_rng(np.random.SeedSequence([seed, replication, county, cohort, stable_hash(name)]))


@dataclass
class CountyDraws:
    """Lazily built per-family uniform blocks for one county and cohort of one replication."""

    seed: int
    replication: int
    county: int
    cohort: int
    n: int
    _blocks: dict[str, np.ndarray] = field(default_factory=dict)

    def block(self, name: str, width: int) -> np.ndarray:
        """Uniforms of shape ``(n, width)``; row ``i`` is family ``i``'s for ``name``."""
        got = self._blocks.get(name)
        if got is None:
            got = stream(self.seed, self.replication, self.county, name, self.cohort).random((self.n, width))
            self._blocks[name] = got
        return got

    def extra(self, name: str, family: int) -> np.random.Generator:
        """A family's own generator for draws beyond its block (rarely needed)."""
        return np.random.default_rng(
            np.random.SeedSequence(
                [self.seed, self.replication, self.county, self.cohort, stable_hash(name), family]
            )
        )


class UniformSeq:
    """A family's sequence of uniforms for one purpose: its block row, then its own stream.

    The row is kept as a list of Python floats: reading it is the hot path of the
    recovery, placement and re-report processes.
    """

    __slots__ = ("_row", "_pos", "_source", "_rng")

    def __init__(self, row: Sequence[float] | np.ndarray, draws: CountyDraws, name: str, family: int) -> None:
        self._row: Sequence[float] = row.tolist() if isinstance(row, np.ndarray) else row
        self._pos = 0
        self._source = (draws, name, family)
        self._rng: np.random.Generator | None = None

    def next(self) -> float:
        """The next uniform in (0, 1)."""
        pos = self._pos
        if pos < len(self._row):
            self._pos = pos + 1
            return self._row[pos] or 1e-300
        if self._rng is None:
            draws, name, family = self._source
            self._rng = draws.extra(name, family)
        return float(self._rng.random()) or 1e-300

    def fresh(self) -> UniformSeq:
        """An independent reader of the same sequence, at its first draw (one per arm)."""
        reader = UniformSeq.__new__(UniformSeq)
        reader._row, reader._pos, reader._source, reader._rng = self._row, 0, self._source, None
        return reader
