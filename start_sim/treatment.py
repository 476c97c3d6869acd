"""Treatment system of one county: assessment delays, uptake, modality and places.

Places are capacity-limited SimPy priority resources, one per modality, so an expansion
can run into a treatment bottleneck. START families ask with priority 0 (the program's
rapid access), usual-services families with priority 1 (the general queue).
"""

from __future__ import annotations

from typing import Callable

import simpy

from .scenario import MODALITIES, ByModality, Treatment

START_PRIORITY, USUAL_PRIORITY = 0, 1


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


class TreatmentSystem:
    """The county's treatment places, one priority resource per modality (None: no places)."""

    def __init__(self, env: simpy.Environment, slots: ByModality) -> None:
        self.env = env
        self.places: dict[str, simpy.PriorityResource | None] = {}
        for m in MODALITIES:
            n = int(getattr(slots, m))
            self.places[m] = simpy.PriorityResource(env, capacity=n) if n > 0 else None

    def request(self, modality: str, priority: int, on_start: Callable[[simpy.Event], None]) -> simpy.Event | None:
        """Ask for a place; ``on_start`` runs when it is granted. None if the modality has no places."""
        res = self.places[modality]
        if res is None:
            return None
        req = res.request(priority=priority)
        req.callbacks.append(on_start)
        return req

    def release_at(self, modality: str, req: simpy.Event, day: float) -> None:
        """Give the place back at ``day``."""
        res = self.places[modality]
        assert res is not None
        self.env.timeout(max(0.0, day - self.env.now)).callbacks.append(lambda _e: res.release(req))
