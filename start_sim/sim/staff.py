"""START staff of one county: caseworkers and mentors as people, and the dyads they form.

A dyad is one caseworker and one mentor. A caseworker whose mentor post is vacant
serves alone, with the lower ``solo_cap`` and without the mentor's effects; a part-time
mentor's dyad gets a cap between the two, in proportion to the mentor's FTE.

This module keeps the state (who is in post, who is paired, each caseworker's load and
cap); the SimPy model schedules the hires, training and departures that change it.
Caseworkers are indexed in hiring order; the lists ``load``, ``cap`` and ``peak`` hold
one entry per caseworker ever hired, with cap 0 for one not (or no longer) taking families.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from start_sim.inputs.caseload import dyad_cap

CASEWORKER, MENTOR = "caseworker", "mentor"


@dataclass(slots=True, eq=False)
class Post:
    """One staff member's time in a county, from the open post to leaving (days)."""

    role: str
    fte: float
    opened: float  # the post was opened (a vacancy until hired)
    hired: float = math.inf  # on the payroll from here; training first
    active: float = math.inf  # takes families (caseworker) or joins a dyad (mentor) from here
    left: float = math.inf
    index: int = -1  # position in the caseworker or mentor lists once active


class StaffPool:
    """The runtime staff of one county (the scenario's ``Workforce`` is its input): caseworkers,
    mentors and their pairing, caseloads under each caseworker's cap."""

    __slots__ = ("full_cap", "solo_cap", "load", "cap", "peak", "mentor_of", "mentor_fte", "partner", "posts")

    def __init__(self, full_cap: int, solo_cap: int) -> None:
        self.full_cap, self.solo_cap = full_cap, dyad_cap(full_cap, solo_cap, None)
        self.load: list[int] = []
        self.cap: list[int] = []
        self.peak: list[int] = []
        self.mentor_of: list[int | None] = []  # per caseworker: index of its mentor
        self.mentor_fte: list[float] = []  # per mentor
        self.partner: list[int | None] = []  # per mentor: index of its caseworker (None: unpaired or gone)
        self.posts: list[Post] = []

    # -- reading -----------------------------------------------------------------------
    @property
    def slots(self) -> int:
        return sum(self.cap)

    @property
    def active(self) -> int:
        return sum(self.load)

    def open_caseworker(self) -> int | None:
        """Index of the least-loaded caseworker with an open slot (lowest index on ties), or None."""
        best, best_load = None, None
        for i, (n, c) in enumerate(zip(self.load, self.cap, strict=True)):
            if n < c and (best_load is None or n < best_load):
                best, best_load = i, n
        return best

    # -- caseload ----------------------------------------------------------------------
    def add(self, i: int) -> None:
        """Caseworker ``i`` takes one more family."""
        self.load[i] += 1
        if self.load[i] > self.cap[i]:
            raise AssertionError(f"caseworker {i} over its cap: {self.load[i]} > {self.cap[i]}")
        self.peak[i] = max(self.peak[i], self.load[i])

    def remove(self, i: int) -> None:
        """Caseworker ``i`` gives up one family."""
        if self.load[i] <= 0:
            raise AssertionError(f"caseworker {i} would have a negative caseload")
        self.load[i] -= 1

    # -- staff changes -----------------------------------------------------------------
    def start_caseworker(self) -> int:
        """A trained caseworker starts taking families (paired with a free mentor if any)."""
        i = len(self.load)
        self.load.append(0)
        self.peak.append(0)
        self.mentor_of.append(None)
        self.cap.append(self.solo_cap)
        self._pair_with_free_mentor(i)
        return i

    def start_mentor(self, fte: float) -> int:
        """A trained mentor joins the first caseworker without one (or waits for one)."""
        m = len(self.mentor_fte)
        self.mentor_fte.append(fte)
        self.partner.append(None)
        self._join_solo_caseworker(m)
        return m

    def caseworker_leaves(self, i: int) -> None:
        """Caseworker ``i`` stops taking families; the caller moves its families first.
        Its mentor joins another caseworker without one, if any."""
        if self.load[i]:
            raise AssertionError(f"caseworker {i} leaves with {self.load[i]} families still assigned")
        self.cap[i] = 0
        m = self.mentor_of[i]
        self.mentor_of[i] = None
        if m is not None:
            self.partner[m] = None
            self._join_solo_caseworker(m)

    def mentor_leaves(self, m: int) -> int | None:
        """Mentor ``m`` leaves; returns its caseworker (now solo, or re-paired), whose cap may
        have fallen below its load: the caller moves the excess families."""
        i = self.partner[m]
        self.mentor_fte[m] = 0.0
        self.partner[m] = None
        if i is None:
            return None
        self.mentor_of[i] = None
        self.cap[i] = self.solo_cap
        self._pair_with_free_mentor(i)
        return i

    def _pair_with_free_mentor(self, i: int) -> None:
        """Caseworker ``i`` takes the first mentor without a caseworker, if any."""
        free = next((m for m, p in enumerate(self.partner) if p is None and self.mentor_fte[m] > 0), None)
        if free is not None:
            self._pair(i, free)

    def _join_solo_caseworker(self, m: int) -> None:
        """Mentor ``m`` joins the first working caseworker without a mentor, if any."""
        alone = next((i for i, (mo, c) in enumerate(zip(self.mentor_of, self.cap, strict=True))
                      if mo is None and c > 0), None)
        if alone is not None:
            self._pair(alone, m)

    def _pair(self, i: int, m: int) -> None:
        self.mentor_of[i] = m
        self.partner[m] = i
        self.cap[i] = dyad_cap(self.full_cap, self.solo_cap, self.mentor_fte[m])
