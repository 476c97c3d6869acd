"""Upper limits on counts and rates, each above anything a real county reaches.

They exist so that a mistyped exponent (``referrals_per_year = 1e9``) is refused with a
message naming the field, rather than filling the memory or running for ever. Each limit
carries its reason; the schema's field descriptions quote it.
"""

from __future__ import annotations

MAX_REFERRALS_PER_YEAR = 250_000
REFERRALS_REASON = (
    "at most 250,000 a year: the whole U.S. receives about 4 million CPS referrals a year and the largest county "
    "system (Los Angeles) under 200,000"
)

MAX_GROWTH_PER_YEAR = 1.0
GROWTH_REASON = "at most 1 (doubling every year); faster growth is not a referral trend"

MAX_BASE_DAYS = 50 * 365.25
"""Furthest day (either way) a referral forecast's CPS counts may describe: the longest run."""

MAX_WAITLIST = MAX_REFERRALS_PER_YEAR
WAITLIST_REASON = "at most 250,000: a waitlist larger than the largest county's referrals in a year"

MAX_DYADS = 2000
DYADS_REASON = "at most 2,000: START runs a handful of dyads per county, and no county employs 2,000 in-home caseworkers"

MAX_HIRING_STEPS = 1000
HIRING_STEPS_REASON = "at most 1,000 steps (a step a week for 19 years)"

MAX_CASELOAD_CAP = 50
CASELOAD_REASON = "at most 50: START caps a dyad at 12-15 families [KY-SOP-6.3]; a cap above 50 is not START"

MAX_EXTENSIONS = 20
EXTENSIONS_REASON = "at most 20: each extension is a court or supervisor review of months, not days"

MAX_TURNOVER_PER_YEAR = 5.0
TURNOVER_REASON = (
    "at most 5 a year (a mean tenure of 73 days): the U.S. range is 0.2-0.4 a year [Casey-turnover], and a staff "
    "whose mean tenure is shorter than their training is not a workforce"
)

MAX_DAYS = 1_000_000.0
DAYS_REASON = "at most 1,000,000: durations are in days, and 1,000,000 days is 2,700 years"

MAX_CV = 1000.0
CV_REASON = "sd from 1/1,000 to 1,000 times the mean (outside it a lognormal or gamma has no usable quantiles)"

MAX_MULTIPLIER = 20.0
MULTIPLIER_REASON = (
    "at most 20: an effect that multiplies a rate twentyfold is far beyond any published effect of START, and a "
    "larger one makes a family's simulated path a step a day"
)

MAX_PATH_RATE_PER_YEAR = 52.0
PATH_RATE_REASON = (
    "at most 52 a year (once a week): recovery, dropout and relapse happen months apart, and each change of state "
    "is a step of the family's simulated path"
)
