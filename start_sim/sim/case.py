"""One family's case in one arm: its final state, the service and route it took, and the
days and draws the model records on it.

State, service and route are ``StrEnum`` members: each compares equal to its string, so
tables, records and CSV files hold the same text as before."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from start_sim.sim.family import Family
from start_sim.sim.recovery import RecoveryProcess
from start_sim.sim.streams import UniformSeq
from start_sim.sim.treatment import TreatmentRequest

NAN = math.nan


class State(StrEnum):
    """Final state of an eligible family (exactly one each)."""

    WAITING = "waiting"
    IN_START = "in_start"
    CLOSED_START = "closed_start"
    USUAL = "usual"


class Service(StrEnum):
    """The service a family received (none yet while it waits)."""

    NONE = ""
    START = "start"
    USUAL = "usual"


class Route(StrEnum):
    """How a family reached its service."""

    NONE = ""
    ASSIGNED = "assigned"  # to a START caseworker
    DIVERTED = "diverted"  # to usual services at once (waitlist policy divert)
    RENEGED = "reneged"  # to usual services after waiting too long
    BEFORE_LAUNCH = "before_launch"  # referred before START launched in the county
    NO_PROGRAM = "no_program"  # the usual-services arm, or a county without START
    DECLINED = "declined"  # declined START at referral: usual services at once
    NEVER_ENGAGED = "never_engaged"  # assigned to a dyad, never engaged: usual services after the outreach


DIVERTED_ROUTES = (Route.RENEGED, Route.DIVERTED)
"""Routes of families that asked for START and were served by usual services instead."""

UNOFFERED_ROUTES = (Route.NO_PROGRAM, Route.BEFORE_LAUNCH)
"""Routes of families to whom START was not on offer."""


def engaged(case: Case) -> bool:
    """Served by START: assigned to a dyad and engaged (not a family that never engaged)."""
    return case.service == Service.START and case.route != Route.NEVER_ENGAGED


def dyad_span(case: Case, end: float) -> tuple[float, float] | None:
    """[assignment, release) of the dyad slot a family held (a START case, or the outreach to a
    family that never engaged), the release being ``end`` while still held at ``end``; None if never assigned."""
    if case.route == Route.NEVER_ENGAGED:
        release = case.outreach_end_day
    elif case.service == Service.START:
        release = case.closure_day
    else:
        return None
    return case.assigned_day, min(release, end) if not math.isnan(release) else end


@dataclass(slots=True, eq=False)
class Case:
    """What happened to one family in one arm."""

    family: Family
    state: State = State.WAITING
    service: Service = Service.NONE
    route: Route = Route.NONE
    caseworker: int = -1  # index of the START caseworker holding the case (-1: none)
    mentor: bool = False
    open_day: float = NAN  # START assignment or usual case opening
    assigned_day: float = NAN
    diverted_day: float = NAN
    outreach_end_day: float = NAN  # a family that never engaged: its dyad slot is freed (usual case opens)
    planned_close_day: float = NAN
    closure_day: float = NAN
    extensions: int = 0
    disengaged: bool = False
    assessment_day: float = NAN
    modality: str = ""
    tx_request_day: float = NAN
    tx_start_day: float = NAN
    tx_exit_day: float = NAN
    recovery: RecoveryProcess | None = None
    waiting: bool = False
    reassignments: int = 0  # moves to another caseworker (a leaver's or an over-cap family)
    unassigned: list[tuple[float, float]] = field(default_factory=list)  # open without a caseworker: [from, to)
    takes_up: bool = False
    request: TreatmentRequest | None = None  # while queueing for a treatment place
    repeats: list[tuple[float, float, float]] = field(default_factory=list)  # later episodes: (request, start, exit)
    seqs: dict[str, UniformSeq] = field(default_factory=dict)

    @property
    def wait_days(self) -> float:
        return self.assigned_day - self.family.referral_day

    @property
    def episode_starts(self) -> list[float]:
        """Days the parent entered treatment: the first episode, then any later one (treatment.max_episodes)."""
        first = [] if math.isnan(self.tx_start_day) else [self.tx_start_day]
        return first + [start for _, start, _ in self.repeats if not math.isnan(start)]
