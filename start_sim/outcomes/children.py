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
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import PLACEMENT_TYPES, Placement
from start_sim.sim.recovery import EARLY
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
    Each step is ``care_days_in_window``, written out (same operations, same order).
    """
    if not prior:
        return entry + p.tpr_days_in_care  # a first spell: the clock is simply 15 months
    window, needed = p.tpr_window_days, p.tpr_days_in_care
    spans = [(ep.start, ep.end if ep.end < entry else entry) for ep in prior]
    lo, hi = entry, entry + window
    while hi - lo > 1e-6:
        mid = (lo + hi) / 2
        w0 = mid - window
        total = mid - (w0 if w0 > entry else entry)
        for s, e in spans:
            d = e - (w0 if w0 > s else s)
            total += d if d > 0.0 else 0.0
        if total >= needed:
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


@dataclass(frozen=True, slots=True)
class PlacementRates:
    """A placement table's figures as the hazard walks read them, computed once per table
    (``placement_rates``) by the same operations the walks did per family."""

    p: Placement
    leave_by_state: tuple[float, float, float, float]  # daily rate of leaving home, by the parent's state
    reunify_in_recovery: float  # daily rate of coming home from kin, parent in recovery
    reunify_not_in_recovery: float
    kin_share: float  # share of departures that are kin arrangements
    kin_form: float  # START's kin preference: share of redirected placements that are kin arrangements
    type_bounds: tuple[float, ...]  # cumulative placement-type shares


def placement_rates(p: Placement) -> PlacementRates:
    """The per-day figures of ``p`` the walks use (see ``PlacementRates``)."""
    leave = 1.0 + p.kin_arrangement_ratio  # every departure from home: foster-care entries and kin arrangements
    recovered = p.rate_in_recovery * leave / DAYS_PER_YEAR
    share = p.kin_arrangement_ratio / (1.0 + p.kin_arrangement_ratio)
    bounds, acc = [], 0.0
    for kind in PLACEMENT_TYPES:
        acc += getattr(p.type_shares, kind)
        bounds.append(acc)
    return PlacementRates(
        p,
        (p.rate_using * leave / DAYS_PER_YEAR, p.rate_in_treatment * leave / DAYS_PER_YEAR, recovered, recovered),
        p.reunification_rate_in_recovery / DAYS_PER_YEAR,
        p.reunification_rate_not_in_recovery / DAYS_PER_YEAR,
        share,
        share / (share + (1.0 - share) * p.type_shares.relative) if share > 0 else 0.0,
        tuple(bounds),
    )


def _destination(u_type: float, kin: UniformSeq, day: float, formal: bool, paths: Paths, r: PlacementRates) -> str:
    """Where children leaving home on ``day`` go: a kin arrangement, or a placement type.

    A share ``ratio / (1 + ratio)`` of departures (``placement.kin_arrangement_ratio``; none if
    ``formal``: a removal into care at investigation or on a re-report) is a kin arrangement; the rest take their type from ``type_shares``
    with the existing draw. While a START case is open a would-be foster placement goes to kin
    with probability ``kin_preference``, kin taking the arm's usual form (arrangement or
    licensed relative placement) in proportion.
    """
    u_arr, u_pref, u_form = kin.next(), kin.next(), kin.next()
    if not formal and u_arr < r.kin_share:
        return KIN_ARRANGEMENT
    kind = PLACEMENT_TYPES[-1]
    for k, bound in zip(PLACEMENT_TYPES, r.type_bounds, strict=True):
        if u_type < bound:
            kind = k
            break
    opened = paths.start_open
    if kind == "foster" and opened is not None and opened[0] <= day < opened[1] and u_pref < paths.kin_preference:
        return KIN_ARRANGEMENT if u_form < r.kin_form else "relative"
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
    rates: PlacementRates | None = None,
) -> list[Episode]:
    """The children's spells away from home (in care or with kin) from referral to ``end_day``;
    ``rates``: ``placement_rates(p)`` if already known."""
    r = placement_rates(p) if rates is None else rates
    episodes: list[Episode] = []
    t = referral_day
    removals = paths.removal_days
    at_investigation = removed_at_investigation or kin_at_investigation
    while t < end_day:
        first = not episodes and t == referral_day
        # -- at home: first departure by spending a unit-exponential budget, or a removal on a re-report
        if not (at_investigation and first):
            entry = _home_exit(times, states, t, end_day, r.leave_by_state, paths.start_open, paths.safety_multiplier,
                               -math.log(u.next()))
            removal = math.inf
            for d in removals:
                if t < d < end_day:
                    removal = d
                    break
            formal = removal < entry
            entry = min(entry, removal)
            if entry == math.inf:
                return episodes
            t = entry
        else:
            formal = removed_at_investigation
        # -- away from home
        u_type = u.next()
        kind = KIN_ARRANGEMENT if kin_at_investigation and first else _destination(u_type, kin, t, formal, paths, r)
        if kind == KIN_ARRANGEMENT:
            episode = _kin_spell(t, times, states, r, kin, paths.closure_day, end_day)
        else:
            formal_prior = [ep for ep in episodes if ep.kind != KIN_ARRANGEMENT]
            episode = _care_spell(t, kind, formal_prior, times, states, p, u, end_day)
        episodes.append(episode)
        if episode.exit != REUNIFIED:
            return episodes
        t = episode.end
    return episodes


def _pieces(times: list[float], states: list[int], t0: float, t1: float) -> Iterator[tuple[float, float, int]]:
    """The parent's states as (start, end, state) pieces covering [t0, t1]: the walk starts at the
    state in force at ``t0`` (bisection on the sorted ``times``) and stops at ``t1``, so a walk costs
    the pieces it reads (the walks below stop early, at the day they look for)."""
    n = len(times)
    i = bisect.bisect_right(times, t0) - 1
    if i < 0:
        i = 0
    while i < n:
        ti = times[i]
        if ti >= t1:
            return
        s = ti if ti > t0 else t0
        e = times[i + 1] if i + 1 < n else math.inf
        if e >= t1:
            e = t1
        if e > s:
            yield s, e, states[i]
        i += 1


def _home_exit(
    times: list[float],
    states: list[int],
    t0: float,
    t1: float,
    leave_by_state: tuple[float, ...],
    start_open: tuple[float, float] | None,
    safety: float,
    budget: float,
) -> float:
    """Day the unit-exponential ``budget`` is spent at home over the parent's states in [t0, t1]
    (inf if never): the state's daily rate of leaving home, times ``safety`` while the START case
    is open. The parent's pieces start at the state in force at ``t0`` (bisection) and stop at
    ``t1``; a piece is cut where the case opens or closes inside it."""
    o0, o1 = start_open if start_open is not None else (math.nan, math.nan)
    for s, e, state in _pieces(times, states, t0, t1):
        base = leave_by_state[state]
        if start_open is None:
            if base * (e - s) >= budget:
                return s + budget / base
            budget -= base * (e - s)
        elif s < o0 < e or s < o1 < e:
            pieces = [s, e, *(x for x in start_open if s < x < e)]
            pieces.sort()
            for a, b in pairwise(pieces):
                rate = base * safety if o0 <= a < o1 else base
                if rate * (b - a) >= budget:
                    return a + budget / rate
                budget -= rate * (b - a)
        else:
            rate = base * safety if o0 <= s < o1 else base
            if rate * (e - s) >= budget:
                return s + budget / rate
            budget -= rate * (e - s)
    return math.inf


def _kin_spell(
    entry: float, times: list[float], states: list[int], r: PlacementRates, kin: UniformSeq, closure_day: float,
    end_day: float,
) -> Episode:
    """With kin outside foster care: home again at the reunification rates (no ASFA clock: the
    child is not in foster care); still there when the case closes, the relative keeps custody."""
    stop = closure_day if entry < closure_day < end_day else end_day
    budget = -math.log(kin.next())
    for s, e, state in _pieces(times, states, entry, stop):
        rate = r.reunify_in_recovery if state >= EARLY else r.reunify_not_in_recovery
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
    stop = adoption if adoption < end_day else end_day  # min(end_day, adoption)
    for s, e, state in _pieces(times, states, entry, stop):
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
