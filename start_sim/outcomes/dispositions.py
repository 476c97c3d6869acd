"""Where a family's children live on a given day (at closure, and 12 months after): one of four
dispositions, so that each child is counted once and the four shares add up to 1.

- ``parents``: at home with a parent (never left, or returned home);
- ``relatives``: with kin, in a kin arrangement outside foster care, a licensed relative
  placement, or after an exit to guardianship or relative custody;
- ``nonrelative``: in foster or residential care, no TPR petition filed;
- ``tpr_or_adopted``: in care after a TPR petition, or adopted.

A relative placement whose TPR petition has been filed counts as ``tpr_or_adopted``: the petition,
not the home, decides the child's legal path (decision 0031).
"""

from __future__ import annotations

from start_sim.outcomes.children import ADOPTION, GUARDIANSHIP, KIN_ARRANGEMENT, RELATIVE_CUSTODY, Episode

PARENTS, RELATIVES, NONRELATIVE, TPR_OR_ADOPTED = "parents", "relatives", "nonrelative", "tpr_or_adopted"
DISPOSITIONS = (PARENTS, RELATIVES, NONRELATIVE, TPR_OR_ADOPTED)
KIN_KINDS = (KIN_ARRANGEMENT, "relative")
KIN_EXITS = (GUARDIANSHIP, RELATIVE_CUSTODY)


def disposition(episodes: list[Episode], day: float) -> str:
    """The children's disposition on ``day`` from their spells away from home (in time order)."""
    for ep in episodes:
        if ep.start <= day < ep.end:
            if ep.tpr_day <= day:
                return TPR_OR_ADOPTED
            return RELATIVES if ep.kind in KIN_KINDS else NONRELATIVE
        if ep.end <= day and ep.exit == ADOPTION:
            return TPR_OR_ADOPTED
        if ep.end <= day and ep.exit in KIN_EXITS:
            return RELATIVES
    return PARENTS
