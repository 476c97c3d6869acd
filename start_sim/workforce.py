"""START dyads in one county: caseload counts under a cap, least-loaded assignment.

A dyad is one caseworker and one mentor. A caseworker whose mentor post is vacant
serves alone, with the lower ``solo_cap`` and without the mentor's effects.
"""

from __future__ import annotations


class DyadPool:
    """Caseload of each dyad; assignment goes to the least-loaded dyad with an open slot."""

    __slots__ = ("load", "cap", "has_mentor", "peak")

    def __init__(self, dyads: int, mentors: int, cap: int, solo_cap: int) -> None:
        self.has_mentor = [i < mentors for i in range(dyads)]
        self.cap = [cap if m else solo_cap for m in self.has_mentor]
        self.load = [0] * dyads
        self.peak = [0] * dyads

    @property
    def slots(self) -> int:
        return sum(self.cap)

    @property
    def active(self) -> int:
        return sum(self.load)

    def open_dyad(self) -> int | None:
        """Index of the least-loaded dyad with an open slot (lowest index on ties), or None."""
        best, best_load = None, None
        for i, (n, c) in enumerate(zip(self.load, self.cap, strict=True)):
            if n < c and (best_load is None or n < best_load):
                best, best_load = i, n
        return best

    def add(self, dyad: int) -> None:
        self.load[dyad] += 1
        if self.load[dyad] > self.cap[dyad]:
            raise AssertionError(f"dyad {dyad} over its cap: {self.load[dyad]} > {self.cap[dyad]}")
        self.peak[dyad] = max(self.peak[dyad], self.load[dyad])

    def remove(self, dyad: int) -> None:
        if self.load[dyad] <= 0:
            raise AssertionError(f"dyad {dyad} would have a negative caseload")
        self.load[dyad] -= 1
