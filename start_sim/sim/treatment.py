"""Treatment system of one county: assessment delays, uptake, modality and places.

Places are capacity-limited, one pool per modality, so an expansion can run into a
treatment bottleneck. START families ask with priority 0 (the program's rapid access),
usual-services families with priority 1 (the general queue); within a priority, first
come, first served. This is SimPy's ``PriorityResource`` discipline, kept as plain
counts and a heap: a request that finds a free place is granted at once, and a freed
place passes straight to the first in the queue, so neither costs an event of its own.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Generic, TypeVar

from start_sim.inputs.schema import MODALITIES, ByModality, Treatment

START_PRIORITY, USUAL_PRIORITY = 0, 1
Who = TypeVar("Who")


def choose_modality(substance: str, high_severity: bool, u: float, params: Treatment) -> str:
    """Modality from substance and severity; ``u`` is the family's own uniform.

    Opioid use leads to MOUD for a share of parents; high severity to residential care
    (half) or intensive outpatient (half); everyone else to outpatient. [assumption]
    """
    if substance == "opioids" and u < params.moud_share_opioids:
        return "moud"
    if high_severity:
        return "residential" if u >= 0.5 else "intensive_outpatient"
    return "outpatient"


def ongoing_moud(params: Treatment, modality: str) -> bool:
    """MOUD as ongoing medication (``treatment.moud_mode = "ongoing"``, decision 0053): the place, a
    prescriber's or OTP's panel place, is held until discontinuation, drawn from
    ``moud_retention_days``; the retention draw is the discontinuation, so no dropout hazard applies."""
    return modality == "moud" and params.moud_mode == "ongoing"


@dataclass(frozen=True, slots=True)
class TreatmentRequest:
    """A request for a place that had to queue: its modality, priority and day."""

    modality: str
    priority: int
    day: float


class Places(Generic[Who]):
    """The places of one modality: how many are in use, and who queues for one."""

    __slots__ = ("capacity", "in_use", "queue", "_order")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_use = 0
        self.queue: list[tuple[int, float, int, Who]] = []  # (priority, day, arrival order, who)
        self._order = 0

    def request(self, who: Who, priority: int, day: float) -> bool:
        """Take a free place (True) or join the queue (False)."""
        if self.in_use < self.capacity:
            self.in_use += 1
            return True
        heapq.heappush(self.queue, (priority, day, self._order, who))
        self._order += 1
        return False

    def cancel(self, who: Who) -> bool:
        """Take ``who`` out of the queue (True), or say it was not queueing (False)."""
        for i, item in enumerate(self.queue):
            if item[3] is who:
                self.queue[i] = self.queue[-1]
                self.queue.pop()
                heapq.heapify(self.queue)
                return True
        return False

    def release(self) -> Who | None:
        """Give a place back: it passes to the first in the queue, who is returned (else None)."""
        if self.queue:
            return heapq.heappop(self.queue)[3]
        self.in_use -= 1
        return None


class TreatmentSystem(Generic[Who]):
    """The county's treatment places, one pool per modality (None: no places)."""

    def __init__(self, slots: ByModality) -> None:
        self.places: dict[str, Places[Who] | None] = {}
        for m in MODALITIES:
            n = int(getattr(slots, m))
            self.places[m] = Places(n) if n > 0 else None
