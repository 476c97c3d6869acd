"""Caseload caps: how many families a caseworker carries with a full, part-time or no mentor."""

from __future__ import annotations

import math


def dyad_cap(full_cap: int, solo_cap: int, mentor_fte: float | None) -> int:
    """Cap of a caseworker with a mentor of ``mentor_fte`` (None: no mentor); a caseworker
    alone never carries more than a full dyad."""
    solo_cap = min(solo_cap, full_cap)
    if mentor_fte is None:
        return solo_cap
    return solo_cap + math.floor((full_cap - solo_cap) * mentor_fte + 1e-9)
