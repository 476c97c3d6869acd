"""Maltreatment re-reports: a hazard that depends on the parent's state and on monitoring.

A re-report opens an investigation that may remove the children (``removal_days``).

START families are seen far more often while their case is open, so more maltreatment is
*reported* then (START's 12-month re-report rate was higher, 12.3% vs 6.1%,
[Hall-2021-CYSR]). The model keeps the two apart: the true-risk part follows the parent's
state; ``surveillance_report_multiplier`` raises reporting while a START case is open.
"""

from __future__ import annotations

import bisect
import math

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import FollowUp
from start_sim.sim.recovery import EARLY
from start_sim.sim.streams import UniformSeq


def report_days(
    referral_day: float,
    times: list[float],
    states: list[int],
    start_open: tuple[float, float] | None,
    surveillance: float,
    p: FollowUp,
    u: UniformSeq,
    end_day: float,
) -> list[float]:
    """Days of re-reports after referral up to ``end_day`` (a Poisson process, piecewise rate).

    The rate is constant between edges: the referral, the end, the parent's changes of state
    and the START case's opening and closing in between (``times`` is sorted, so the changes
    inside the interval are one slice)."""
    inside = times[bisect.bisect_right(times, referral_day):bisect.bisect_left(times, end_day)]
    if start_open is not None:
        inside += [x for x in start_open if referral_day < x < end_day]
    edges = sorted({referral_day, end_day, *inside})
    out: list[float] = []
    log, nxt = math.log, u.next
    budget = -log(nxt())
    i_state = 0
    n = len(times)
    recovered_rate, using_rate = p.report_rate_in_recovery / DAYS_PER_YEAR, p.report_rate_using / DAYS_PER_YEAR
    o0, o1 = start_open if start_open is not None else (math.inf, -math.inf)
    a = edges[0]
    for b in edges[1:]:
        while i_state + 1 < n and times[i_state + 1] <= a:
            i_state += 1
        rate = recovered_rate if states[i_state] >= EARLY else using_rate
        if o0 <= a < o1:
            rate *= surveillance
        t = a
        while rate > 0 and rate * (b - t) >= budget:
            t += budget / rate
            out.append(t)
            budget = -log(nxt())
        budget -= rate * (b - t)
        a = b
    return out


def removal_days(
    reports: list[float],
    times: list[float],
    states: list[int],
    start_open: tuple[float, float] | None,
    surveillance: float,
    start_multiplier: float,
    p: FollowUp,
    u: UniformSeq,
) -> tuple[float, ...]:
    """Re-reports whose investigation removes the children if they are at home (decision 0032).

    Each report has its own uniform (its place in the family's ``report_removal`` stream). The
    removal probability follows the parent's state on the report day. While a START case is open
    only one report in ``surveillance`` is a report of the usual-services kind (the rest come from
    START's closer watch), so the probability is divided by it and multiplied by ``start_multiplier``.
    """
    out = []
    i_state = 0
    for day in reports:
        while i_state + 1 < len(times) and times[i_state + 1] <= day:
            i_state += 1
        prob = p.removal_after_report_in_recovery if states[i_state] >= EARLY else p.removal_after_report_using
        if start_open is not None and start_open[0] <= day < start_open[1]:
            prob *= start_multiplier / surveillance if surveillance > 0 else 0.0
        if u.next() < prob:
            out.append(day)
    return tuple(out)
