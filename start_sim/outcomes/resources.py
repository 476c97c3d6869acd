"""The resources a family uses in one arm, as spells of days, before any price: care of its
children (split where the family's own worker, the START dyad or a usual-services caseworker,
has its case open), days on a usual-services caseload, and
adoption or guardianship subsidies after exit. ``outcomes.costs`` prices them; the budget, the
cost series and the benefit-cost ledger read the same spells, so the two arms are priced alike.

Every spell lies inside the family's follow-up window [referral, referral + runout_years).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import Scenario
from start_sim.outcomes.children import ADOPTION, GUARDIANSHIP, Episode
from start_sim.sim.case import DIVERTED_ROUTES, Case, Route, Service, State, dyad_span, engaged

SUBSIDY_KINDS = (ADOPTION, GUARDIANSHIP)


@dataclass(frozen=True, slots=True)
class CareSpell:
    """Part of an out-of-home spell: ``worked`` if the family's own worker (the START dyad, or a
    usual-services caseworker) has its case open on those days, in either arm."""

    kind: str  # placement type
    start: float
    end: float
    worked: bool


def window(sc: Scenario, case: Case) -> tuple[float, float]:
    """The family's follow-up window: referral to referral + runout_years."""
    ref = case.family.referral_day
    return ref, ref + sc.runout_years * DAYS_PER_YEAR


def start_open(sc: Scenario, case: Case) -> tuple[float, float] | None:
    """[assignment, closure) of an engaged START case (closure: the end of the run if still open), the
    days START effects apply; None otherwise (a family that declined or never engaged gets none)."""
    if not engaged(case):
        return None
    return case.assigned_day, case.closure_day if not math.isnan(case.closure_day) else sc.end_days


def wait_interval(case: Case) -> tuple[float, float]:
    """[referral, end of waiting) for the START waitlist; zero length if the family never waited."""
    ref = case.family.referral_day
    if case.service == Service.START or case.route == Route.NEVER_ENGAGED:
        return ref, case.assigned_day
    if case.route in DIVERTED_ROUTES:
        return ref, case.diverted_day
    return (ref, math.inf) if case.state == State.WAITING else (ref, ref)


def care_spells(
    sc: Scenario, case: Case, episodes: list[Episode], casework: list[tuple[float, float]] | None = None
) -> list[CareSpell]:
    """The family's days in care within its window, cut where its own worker's case (START or
    usual services) opens and closes: the same rule in both arms. ``casework``: the family's
    ``usual_casework_spans`` if already known."""
    if not episodes:
        return []
    w0, w1 = window(sc, case)
    worked = worker_spans(sc, case, casework)
    out = []
    for ep in episodes:
        a, b = max(ep.start, w0), min(ep.end, w1)
        if b <= a:
            continue
        inner = [t for span in worked for t in span if a < t < b]
        cuts = sorted({a, b, *inner}) if inner else (a, b)
        for s, e in itertools.pairwise(cuts):
            mid = (s + e) / 2
            out.append(CareSpell(ep.kind, s, e, any([o0 <= mid < o1 for o0, o1 in worked])))
    return out


def worker_spans(sc: Scenario, case: Case, casework: list[tuple[float, float]] | None = None) -> list[tuple[float, float]]:
    """Days the family's own worker has its case open: its dyad slot (a START case, or the
    outreach to a family that never engaged), or its days on a usual-services caseload
    (``casework``: the family's ``usual_casework_spans`` if already known)."""
    spans = usual_casework_spans(sc, case) if casework is None else casework
    held = dyad_span(case, sc.end_days)
    return [held, *spans] if held is not None else spans


def usual_casework_spans(sc: Scenario, case: Case) -> list[tuple[float, float]]:
    """Days the family is on a usual-services caseload within its window: waiting for a dyad
    (a usual worker holds the case meanwhile) and an open usual-services case (diverted,
    reneged, before launch, or the usual-services run)."""
    w0, w1 = window(sc, case)
    w1 = min(w1, sc.end_days)
    spans = [wait_interval(case)]
    if case.service == Service.USUAL:
        spans.append((case.open_day, case.closure_day if not math.isnan(case.closure_day) else w1))
    return [(max(a, w0), min(b, w1)) for a, b in spans if min(b, w1) > max(a, w0)]


def subsidy_spells(sc: Scenario, case: Case, episodes: list[Episode]) -> list[tuple[str, float, float]]:
    """(adoption | guardianship, from, to): subsidy days after an exit to adoption or guardianship,
    to the youngest child's ``costs.subsidy_end_age`` or the end of the window."""
    f = case.family
    w0, w1 = window(sc, case)
    ages_out = f.referral_day + (sc.costs.subsidy_end_age - f.youngest_age) * DAYS_PER_YEAR
    stop = min(w1, ages_out)
    return [(ep.exit, max(ep.end, w0), stop) for ep in episodes if ep.exit in SUBSIDY_KINDS and stop > max(ep.end, w0)]
