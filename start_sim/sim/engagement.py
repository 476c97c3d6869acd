"""Who is served: a family may decline START at referral, or be assigned and never engage
(decision 0035). Each choice reads its own uniform of the family (streams ``decline`` and
``never_engage``), so no other draw moves and both are off (probability 0) by default.

Early disengagement, the third way a family is not fully served, is in ``CountyModel._assign``:
its case closes on the disengagement day, which ends every START effect then.
"""

from __future__ import annotations

from start_sim.inputs.tables import Program
from start_sim.sim.family import Family


def declines(prog: Program, f: Family) -> bool:
    """A newly referred family declines START (families already open or waiting on day 0 do not)."""
    return not f.pre_existing and f.u_decline < prog.decline_probability


def never_engages(prog: Program, f: Family) -> float | None:
    """Days an assigned family that never engages holds its dyad slot; None if it engages.

    The days come from the same uniform rescaled (u / p is uniform on (0, 1) given u < p),
    so the length of the outreach needs no draw of its own. Cases open on day 0 have engaged.
    """
    p = prog.never_engage_probability
    if f.open_at_start or f.u_never_engage >= p:
        return None
    return prog.outreach_days.ppf(f.u_never_engage / p)
