"""Caseload caps and slots: how many families a caseworker carries with a full, part-time or
no mentor, and how many a county's caseworkers carry together. The one place slots are counted
(the scenario's checks and the staffing analyses both use :func:`caseload_slots`)."""

from __future__ import annotations

import math

from start_sim.inputs.tables import Program, Workforce


def dyad_cap(full_cap: int, solo_cap: int, mentor_fte: float | None) -> int:
    """Cap of a caseworker with a mentor of ``mentor_fte`` (None: no mentor); a caseworker
    alone never carries more than a full dyad."""
    solo_cap = min(solo_cap, full_cap)
    if mentor_fte is None:
        return solo_cap
    return solo_cap + math.floor((full_cap - solo_cap) * mentor_fte + 1e-9)


def caseload_slots(program: Program, workforce: Workforce, dyads: int, mentors: int | None) -> int:
    """Caseload slots of ``dyads`` caseworkers, ``mentors`` of them with a mentor (None: one each;
    more mentors than caseworkers count as one each), under ``workforce`` (the county's, for its
    mentor FTE): the dyad cap for those with a mentor, the solo cap for the rest."""
    paired_count = dyads if mentors is None else min(mentors, dyads)
    p = program
    paired = dyad_cap(p.caseload_cap, p.solo_caseload_cap, workforce.mentor_fte)
    return paired_count * paired + (dyads - paired_count) * dyad_cap(p.caseload_cap, p.solo_caseload_cap, None)
