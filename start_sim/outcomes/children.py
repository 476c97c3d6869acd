"""Children's placements and permanency, computed from the parent's recovery path.

A family's children move together (a sibling group is removed and returned together:
an assumption, recorded in docs/decisions) and every figure is counted per child.
At home, the placement hazard depends on the parent's state and, while a START case is
open, on the dyad's safety planning. In care, reunification depends on the parent's
recovery; ASFA adds a permanency hearing after 12 months in care (reunification slows
if the parent is not in recovery; relatives may take guardianship) and a TPR petition
once the child has been in care 15 of the most recent 22 months, unless a relative
placement is exempted; after the petition the exit is adoption.

A child can also leave home for kin outside foster care (a safety plan or temporary custody
with a relative, ``KIN_ARRANGEMENT``): a share of each departure from home, with START's kin
preference redirecting would-be foster placements to kin while its case is open; such a child
returns home as a placed child is reunified, and one still with the relative when the case
closes stays there in the relative's custody (decision 0031). A re-report can also trigger a
removal (``removal_days``, decision 0032).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from itertools import pairwise

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import PLACEMENT_TYPES, Placement
from start_sim.sim.recovery import EARLY, TREATMENT, USING
from start_sim.sim.streams import UniformSeq

REUNIFIED, GUARDIANSHIP, ADOPTION, IN_CARE = "reunified", "guardianship", "adoption", "in_care"
RELATIVE_CUSTODY = "relative_custody"  # a kin arrangement still in place at the case's closure
KIN_ARRANGEMENT = "kin_arrangement"  # a spell with kin outside foster care (not a placement type)
PERMANENT_EXITS = (GUARDIANSHIP, ADOPTION, RELATIVE_CUSTODY)


@dataclass(frozen=True, slots=True)
class Episode:
    """One spell in out-of-home care of a family's children."""

    start: float
    end: float
    kind: str  # relative, foster, residential; or kin_arrangement (outside foster care)
    exit: str  # reunified, guardianship, adoption, relative_custody, in_care (still in care at the end)
    tpr_day: float  # day of the TPR petition, or inf


def _segments(times: list[float], states: list[int], t0: float, t1: float) -> list[tuple[float, float, int]]:
    """The parent's states as (start, end, state) pieces covering [t0, t1].

    ``times`` is sorted: the walk starts at the state in force at ``t0`` (bisection) and
    stops at the first change after ``t1``, so a query costs the pieces it returns."""
    out = []
    n = len(times)
    i = bisect.bisect_right(times, t0) - 1
    if i < 0:
        i = 0
    while i < n:
        ti = times[i]
        if ti >= t1:
            break
        s = ti if ti > t0 else t0
        nxt = times[i + 1] if i + 1 < n else math.inf
        e = nxt if nxt < t1 else t1
        if e > s:
            out.append((s, e, states[i]))
        i += 1
    return out


def care_days_in_window(prior: list[Episode], entry: float, day: float, window: float) -> float:
    """Days in care in (day - window, day], the current spell having begun at ``entry``."""
    lo = day - window
    total = day - max(entry, lo)
    for ep in prior:
        total += max(0.0, min(ep.end, entry) - max(ep.start, lo))
    return total


def tpr_day(prior: list[Episode], entry: float, p: Placement) -> float:
    """First day the '15 of the most recent 22 months' clock is met in the spell begun at ``entry``.

    While the child stays in care the days in the window never fall, and once the window
    holds only this spell they reach the 15 months: so bisection on that interval finds it.
    """
    if not prior:
        return entry + p.tpr_days_in_care  # a first spell: the clock is simply 15 months
    lo, hi = entry, entry + p.tpr_window_days
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        if care_days_in_window(prior, entry, mid, p.tpr_window_days) >= p.tpr_days_in_care:
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True)
class Paths:
    """How children leave home and for where: the arm's rules for one family's history.

    ``start_open`` is the (assignment, closure) interval of a START case, during which the
    placement hazard is multiplied by ``safety_multiplier`` and START's ``kin_preference``
    applies; ``closure_day`` (nan if open at the end) turns a kin arrangement still in place
    into relative custody; ``removal_days`` are re-reports that remove children found at home.
    """

    start_open: tuple[float, float] | None
    safety_multiplier: float
    kin_preference: float
    closure_day: float
    removal_days: tuple[float, ...] = ()


def _placement_kind(u: float, p: Placement) -> str:
    acc = 0.0
    for kind in PLACEMENT_TYPES:
        acc += getattr(p.type_shares, kind)
        if u < acc:
            return kind
    return PLACEMENT_TYPES[-1]


def _destination(u_type: float, kin: UniformSeq, day: float, formal: bool, paths: Paths, p: Placement) -> str:
    """Where children leaving home on ``day`` go: a kin arrangement, or a placement type.

    A share ``ratio / (1 + ratio)`` of departures (``placement.kin_arrangement_ratio``; none if
    ``formal``: a removal into care at investigation or on a re-report) is a kin arrangement; the rest take their type from ``type_shares``
    with the existing draw. While a START case is open a would-be foster placement goes to kin
    with probability ``kin_preference``, kin taking the arm's usual form (arrangement or
    licensed relative placement) in proportion.
    """
    u_arr, u_pref, u_form = kin.next(), kin.next(), kin.next()
    share = p.kin_arrangement_ratio / (1.0 + p.kin_arrangement_ratio)
    if not formal and u_arr < share:
        return KIN_ARRANGEMENT
    kind = _placement_kind(u_type, p)
    opened = paths.start_open
    if kind == "foster" and opened is not None and opened[0] <= day < opened[1] and u_pref < paths.kin_preference:
        arrangement = share / (share + (1.0 - share) * p.type_shares.relative) if share > 0 else 0.0
        return KIN_ARRANGEMENT if u_form < arrangement else "relative"
    return kind


def placement_history(
    referral_day: float,
    removed_at_investigation: bool,
    times: list[float],
    states: list[int],
    paths: Paths,
    p: Placement,
    u: UniformSeq,
    kin: UniformSeq,
    end_day: float,
    kin_at_investigation: bool = False,
) -> list[Episode]:
    """The children's spells away from home (in care or with kin) from referral to ``end_day``."""
    episodes: list[Episode] = []
    t = referral_day
    leave = 1.0 + p.kin_arrangement_ratio  # every departure from home: foster-care entries and kin arrangements
    recovered_rate = p.rate_in_recovery * leave / DAYS_PER_YEAR
    home_rate = {USING: p.rate_using * leave / DAYS_PER_YEAR, TREATMENT: p.rate_in_treatment * leave / DAYS_PER_YEAR}
    start_open = paths.start_open
    safety = paths.safety_multiplier
    while t < end_day:
        first = not episodes and t == referral_day
        # -- at home: first departure by spending a unit-exponential budget, or a removal on a re-report
        if not ((removed_at_investigation or kin_at_investigation) and first):
            budget = -math.log(u.next())
            entry = _home_exit(_segments(times, states, t, end_day), home_rate, recovered_rate, start_open, safety, budget)
            removal = next((d for d in paths.removal_days if t < d < end_day), math.inf) if paths.removal_days else math.inf
            formal = removal < entry
            entry = min(entry, removal)
            if entry == math.inf:
                return episodes
            t = entry
        else:
            formal = removed_at_investigation
        # -- away from home
        u_type = u.next()
        kind = KIN_ARRANGEMENT if kin_at_investigation and first else _destination(u_type, kin, t, formal, paths, p)
        if kind == KIN_ARRANGEMENT:
            episode = _kin_spell(t, times, states, p, kin, paths.closure_day, end_day)
        else:
            formal_prior = [ep for ep in episodes if ep.kind != KIN_ARRANGEMENT]
            episode = _care_spell(t, kind, formal_prior, times, states, p, u, end_day)
        episodes.append(episode)
        if episode.exit != REUNIFIED:
            return episodes
        t = episode.end
    return episodes


def _home_exit(
    segments: list[tuple[float, float, int]],
    home_rate: dict[int, float],
    recovered_rate: float,
    start_open: tuple[float, float] | None,
    safety: float,
    budget: float,
) -> float:
    """Day the unit-exponential ``budget`` is spent at home over the parent's ``segments`` (inf if
    never): the state's daily rate of leaving home, times ``safety`` while the START case is open."""
    for s, e, state in segments:
        base = home_rate.get(state, recovered_rate)
        if start_open is None:
            pieces: tuple[float, ...] | list[float] = (s, e)
        else:
            o0, o1 = start_open
            pieces = [s, e, *(x for x in start_open if s < x < e)]
            pieces.sort()
        for a, b in pairwise(pieces):
            rate = base * safety if start_open is not None and o0 <= a < o1 else base
            if rate * (b - a) >= budget:
                return a + budget / rate
            budget -= rate * (b - a)
    return math.inf


def _kin_spell(
    entry: float, times: list[float], states: list[int], p: Placement, kin: UniformSeq, closure_day: float, end_day: float
) -> Episode:
    """With kin outside foster care: home again at the reunification rates (no ASFA clock: the
    child is not in foster care); still there when the case closes, the relative keeps custody."""
    stop = closure_day if entry < closure_day < end_day else end_day
    budget = -math.log(kin.next())
    for s, e, state in _segments(times, states, entry, stop):
        rate = (p.reunification_rate_in_recovery if state >= EARLY else p.reunification_rate_not_in_recovery) / DAYS_PER_YEAR
        if rate * (e - s) >= budget:
            return Episode(entry, s + budget / rate, KIN_ARRANGEMENT, REUNIFIED, math.inf)
        budget -= rate * (e - s)
    return Episode(entry, stop, KIN_ARRANGEMENT, RELATIVE_CUSTODY if stop < end_day else IN_CARE, math.inf)


def _care_spell(
    entry: float,
    kind: str,
    prior: list[Episode],
    times: list[float],
    states: list[int],
    p: Placement,
    u: UniformSeq,
    end_day: float,
) -> Episode:
    hearing = entry + p.permanency_hearing_days
    exempt = kind == "relative" and u.next() < p.tpr_exception_relative
    tpr = math.inf if exempt else tpr_day(prior, entry, p)
    adoption = tpr + p.adoption_days_after_tpr.ppf(u.next()) if tpr < math.inf else math.inf
    budget = -math.log(u.next())
    pick = u.next()
    r_in, r_out = p.reunification_rate_in_recovery, p.reunification_rate_not_in_recovery
    after_hearing = p.reunification_multiplier_after_hearing
    guard_rate = p.guardianship_rate_after_hearing if kind == "relative" else 0.0
    for s, e, state in _segments(times, states, entry, min(end_day, adoption)):
        cuts = sorted({s, e, *(x for x in (hearing, tpr) if s < x < e)}) if s < hearing < e or s < tpr < e else (s, e)
        recovered = state >= EARLY
        for a, b in pairwise(cuts):
            reun = 0.0 if a >= tpr else (r_in if recovered else r_out)
            if a >= hearing and not recovered:
                reun *= after_hearing
            guard = guard_rate if a >= hearing else 0.0
            total = (reun + guard) / DAYS_PER_YEAR
            if total * (b - a) >= budget:
                day = a + budget / total
                return Episode(entry, day, kind, REUNIFIED if pick * (reun + guard) < reun else GUARDIANSHIP, tpr)
            budget -= total * (b - a)
    if adoption <= end_day:
        return Episode(entry, adoption, kind, ADOPTION, tpr)
    return Episode(entry, end_day, kind, IN_CARE, tpr)

