"""Sites that differ: a county's multipliers on the base rates, and the optional random site
effect on its placement hazard (decision 0036).

A county's ``removal_multiplier``, ``placement_multiplier``, ``reunification_multiplier`` and
``treatment_access_multiplier`` (``inputs.tables.County``) scale the Kentucky-calibrated rates
in both arms alike. ``[sites] effect_sd`` adds a log-normal random site effect: each county of
each replication draws one standard normal ``z`` from its own stream and multiplies its
placement hazard by ``exp(effect_sd * z)`` (median 1), so replications span site-to-site
variation. With every multiplier 1 and ``effect_sd`` 0 the rates are the scenario's own
objects, untouched, and results are bit-identical to a model without sites.
"""

from __future__ import annotations

from pydantic import Field

from start_sim.inputs.family_tables import Placement
from start_sim.inputs.tables import County, Strict


class Sites(Strict):
    """Site-to-site variation not set county by county."""

    effect_sd: float = Field(
        0.0, ge=0.0, le=2.0,
        description="log-scale sd of a random per-county multiplier on the placement hazard, drawn each "
        "replication (0 = none); estimated by the calibration when targets from several sites are given "
        "[assumption: 0, no multi-site START rates are published]",
    )


def removal_share(share: float, county: County) -> float:
    """The county's probability of removal at the investigation."""
    return share if county.removal_multiplier == 1.0 else min(1.0, share * county.removal_multiplier)


def uptake_share(share: float, county: County) -> float:
    """The county's treatment uptake probability."""
    return share if county.treatment_access_multiplier == 1.0 else min(1.0, share * county.treatment_access_multiplier)


def site_placement(p: Placement, county: County, effect: float = 1.0) -> Placement:
    """The placement table of one county: its hazards times its multiplier and random effect,
    its reunification rates times its multiplier; ``p`` itself when nothing differs."""
    home = county.placement_multiplier * effect
    reun = county.reunification_multiplier
    if home == 1.0 and reun == 1.0:
        return p
    return p.model_copy(update={
        "rate_using": p.rate_using * home,
        "rate_in_treatment": p.rate_in_treatment * home,
        "rate_in_recovery": p.rate_in_recovery * home,
        "reunification_rate_in_recovery": p.reunification_rate_in_recovery * reun,
        "reunification_rate_not_in_recovery": p.reunification_rate_not_in_recovery * reun,
    })
