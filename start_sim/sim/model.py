"""The SimPy model of one county in one arm: dyad slots, waitlist and treatment places.

Only what touches shared capacity is an event here: referral, reneging, the request for
a treatment place, giving up the treatment queue, the end of a treatment episode (its place
is freed), the closure checks (a START closure frees a dyad slot), and staff starting or
leaving (they change the slots). Events are callbacks on SimPy timeouts, the
case they concern carried as the timeout's value, rather than one long-lived process per
family, which keeps the kernel fast. What touches no shared resource (the assessment of
a parent who will not enter treatment; children's placements, re-reports, costs) is not
an event: it is recorded directly, or computed after the run from each family's record
(see ``children``, ``followup``, ``costs``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import simpy

from start_sim.inputs.distributions import Distribution
from start_sim.inputs.schema import Scenario
from start_sim.inputs.sites import uptake_share
from start_sim.sim.case import Case, Route, Service, State
from start_sim.sim.engagement import declines, never_engages
from start_sim.sim.family import Family
from start_sim.sim.providers import CountyLink
from start_sim.sim.recovery import USING, RecoveryProcess, RecoveryRates, in_recovery, recovery_rates
from start_sim.sim.residual import length_biased
from start_sim.sim.staff import StaffPool
from start_sim.sim.staff_events import StaffEvents
from start_sim.sim.streams import UniformSeq
from start_sim.sim.treatment import (
    START_PRIORITY,
    USUAL_PRIORITY,
    TreatmentRequest,
    TreatmentSystem,
    choose_modality,
    ongoing_moud,
)

Handler = Callable[[Case], None]


class CountyModel(StaffEvents):
    """One county, one arm. ``with_start=False`` is the usual-services counterfactual."""

    def __init__(
        self,
        scenario: Scenario,
        county_index: int,
        families: list[Family],
        with_start: bool,
        audit: Callable[[CountyModel, str], None] | None = None,
        seed: int = 0,
        replication: int = 0,
        link: CountyLink | None = None,
    ) -> None:
        self.sc = scenario
        self.county = scenario.counties[county_index]
        self.link = link  # what the county shares with the others of its region (None: nothing)
        self.staff_county = link.staff_county if link and link.staff_county else self.county  # whose staff plan
        hires_later = any(step.caseworkers for step in self.staff_county.hiring)
        self.offers_start = with_start  # the START arm: families are referred to START
        self.with_start = with_start and (self.staff_county.dyads > 0 or hires_later)  # ... and it has staff
        self.env = link.env if link else simpy.Environment()
        prog = scenario.program
        self.pool = StaffPool(*(link.caps if link and link.caps else (prog.caseload_cap, prog.solo_caseload_cap)))
        self.caseload: list[list[Case]] = []  # per caseworker: its open cases
        self.unassigned: deque[Case] = deque()  # open START cases waiting for another caseworker
        self.families_reassigned = 0
        self.slot_log: list[tuple[float, int]] = [(0.0, 0)]  # (day, caseload slots from then on)
        self.waitlist: deque[Case] = deque()
        self.treatment: TreatmentSystem[Case] = (link.treatment if link and link.treatment else
                                                 TreatmentSystem(scenario.treatment_places(self.county)))
        self.audit = audit
        self._end = scenario.end_days
        self._extension: dict[Service, tuple[int, Distribution]] = {
            Service.START: (prog.max_extensions, prog.extension_days),
            Service.USUAL: (scenario.usual.max_extensions, scenario.usual.extension_days),
        }
        self._rates: dict[tuple[str, str, bool], RecoveryRates] = {}
        # event callbacks, made once: the value of each timeout is the case it concerns
        self._on_arrive, self._on_renege, self._on_assess, self._on_release, self._on_closure, self._on_give_up = (
            self._callback(h)
            for h in (self._arrive, self._renege, self._assess, self._release, self._closure_check, self._give_up)
        )
        self._on_request, self._on_repeat = self._callback(self._request), self._callback(self._repeat)
        if link and link.staff_host is not None:  # shared dyads: one caseload and waitlist for the region
            link.share_staff(self, with_start)
        self._on_staff_start, self._on_staff_leave = self._callback(self._staff_start), self._callback(self._staff_leave)
        self._on_outreach_end = self._callback(self._outreach_end)
        if self.with_start:  # staff first: those in post at launch take the day's first families
            self._staff_plan(seed, replication, county_index)
        self.cases = [Case(f, seqs=f.fresh_seqs()) for f in families]
        timeout, on_arrive = self.env.timeout, self._on_arrive
        for case in self.cases:
            timeout(case.family.referral_day, case).callbacks.append(on_arrive)

    # -- plumbing ------------------------------------------------------------------
    @staticmethod
    def _callback(handler: Handler) -> Callable[[simpy.Event], None]:
        return lambda event: handler(event.value)

    def _at(self, day: float, callback: Callable[[simpy.Event], None], case: Case) -> None:
        self.env.timeout(max(0.0, day - self.env.now), case).callbacks.append(callback)

    def _check(self, what: str) -> None:
        if self.audit is not None:
            self.audit(self, what)

    def run(self) -> list[Case]:
        self.env.run(until=self._end)
        return self.cases

    # -- referral and assignment ---------------------------------------------------------
    def _arrive(self, case: Case) -> None:
        now = self.env.now
        f = case.family
        if not self.offers_start:
            self._open_usual(case, Route.NO_PROGRAM)
        elif now < self.county.launch_day and not f.pre_existing:
            self._open_usual(case, Route.BEFORE_LAUNCH)
        elif declines(self.sc.program, f):
            self._open_usual(case, Route.DECLINED)
        elif not self.with_start:  # START on offer but no caseworker ever: no slot, so diverted at once
            self._divert(case, Route.DIVERTED)
        elif f.open_at_start:
            caseworker = self.pool.open_caseworker()
            if caseworker is None:
                raise RuntimeError(f"no open slot for pre-existing family {f.index}: the scenario validator should "
                                   "prevent this")
            self._assign(case, caseworker, elapsed_share=f.u_elapsed)
        else:
            caseworker = self.pool.open_caseworker()
            if caseworker is not None:
                self._assign(case, caseworker)
            elif self.sc.program.waitlist_policy == "divert":
                self._divert(case, Route.DIVERTED)
            else:
                case.waiting = True
                self.waitlist.append(case)
                if self.sc.program.max_wait_days is not None:
                    self._at(now + self.sc.program.max_wait_days, self._on_renege, case)
        self._check("arrive")

    def _renege(self, case: Case) -> None:
        if case.waiting:
            self.waitlist.remove(case)
            case.waiting = False
            self._divert(case, Route.RENEGED)
            self._check("renege")

    def _divert(self, case: Case, route: Route) -> None:
        case.diverted_day = self.env.now
        self._open_usual(case, route)

    def _assign(self, case: Case, caseworker: int, elapsed_share: float = 0.0) -> None:
        now = self.env.now
        f = case.family
        prog, eff = self.sc.program, self.sc.start
        self.pool.add(caseworker)
        self.caseload[caseworker].append(case)
        case.state, case.service, case.route = State.IN_START, Service.START, case.route or Route.ASSIGNED
        case.caseworker = caseworker
        case.mentor = self.pool.mentor_of[caseworker] is not None and eff.mentor_support
        case.assigned_day = case.open_day = now
        outreach = never_engages(prog, f)
        if outreach is not None:  # holds the slot, no START effect, then usual services
            case.route, case.outreach_end_day = Route.NEVER_ENGAGED, now + outreach
            self._at(case.outreach_end_day, self._on_outreach_end, case)
            return
        # an open pre-existing case: a length-biased planned length, a uniform share already served
        length = length_biased(prog.service_days, f.u_service) if f.open_at_start else prog.service_days.ppf(f.u_service)
        planned = length * (1.0 - elapsed_share)
        case.disengaged = f.u_disengage < prog.disengagement_probability
        if case.disengaged:
            planned = min(planned, prog.disengagement_days.ppf(f.u_disengage_day))
        case.planned_close_day = now + planned
        self._start_recovery(case)
        case.recovery.set_case_open(now, True)
        tr = self.sc.treatment
        assessment = tr.assessment_days_start if eff.rapid_access else tr.assessment_days_usual
        self._assessment(case, now + assessment.ppf(f.u_assessment) + self._immaturity_delay(now))
        self._at(case.planned_close_day, self._on_closure, case)

    def _immaturity_delay(self, now: float) -> float:
        """Extra days to treatment at a young site, falling linearly to 0 at maturity."""
        prog = self.sc.program
        if prog.maturity_days <= 0:
            return 0.0
        return prog.immature_extra_days_to_treatment * max(0.0, 1.0 - (now - self.county.launch_day) / prog.maturity_days)

    def _open_usual(self, case: Case, route: Route) -> None:
        now = self.env.now
        f = case.family
        case.state, case.service, case.route = State.USUAL, Service.USUAL, route
        case.open_day = now
        case.planned_close_day = now + self.sc.usual.service_days.ppf(f.u_usual_service)
        self._start_recovery(case)
        self._assessment(case, now + self.sc.treatment.assessment_days_usual.ppf(f.u_assessment))
        self._at(case.planned_close_day, self._on_closure, case)

    # -- recovery and treatment ----------------------------------------------------------
    def _start_recovery(self, case: Case) -> None:
        f = case.family
        tr, eff = self.sc.treatment, self.sc.start
        case.modality = choose_modality(f.substance, f.high_severity, f.u_modality, tr)
        if case.service == Service.START:
            uptake = eff.mentor_uptake if case.mentor else (tr.uptake_start if eff.rapid_access else tr.uptake_usual)
        else:
            uptake = tr.uptake_usual
        case.takes_up = f.u_uptake < uptake_share(uptake, self.county)
        key = (f.substance, case.modality, case.mentor)
        rates = self._rates.get(key)
        if rates is None:
            rates = self._rates[key] = recovery_rates(self.sc, *key)
        case.recovery = RecoveryProcess(f.referral_day, rates, case.seqs["recovery"], awaiting_treatment=case.takes_up)

    def _assessment(self, case: Case, day: float) -> None:
        """The assessment on ``day``: an event for a parent who will then ask for a treatment
        place; for any other parent only its day is recorded (if the run reaches it)."""
        if case.takes_up:
            self._at(day, self._on_assess, case)
            return
        now = self.env.now
        at = now + max(0.0, day - now)  # the time a timeout would fire, to the last bit
        if at < self._end:
            case.assessment_day = at

    def _assess(self, case: Case) -> None:
        """Assessed: the request reaches the treatment places now, or after the region's referral delay."""
        case.assessment_day = self.env.now
        if self.link and self.link.referral_days > 0:
            self._at(self.env.now + self.link.referral_days, self._on_request, case)
        else:
            self._request(case)

    def _request(self, case: Case) -> None:
        now = self.env.now
        if not case.repeats:
            case.tx_request_day = now
        first = case.service == Service.START and self.sc.start.rapid_access and (not self.link or self.link.start_priority)
        priority = START_PRIORITY if first else USUAL_PRIORITY
        places = self.treatment.places[case.modality]
        if places is None:
            case.recovery.give_up_waiting(now)
        elif places.request(case, priority, now):
            self._enter_treatment(case)
        else:
            case.request = TreatmentRequest(case.modality, priority, now)
            limit = self.sc.treatment.max_wait_days
            if limit is not None:
                self._at(now + limit, self._on_give_up, case)

    def _give_up(self, case: Case) -> None:
        """A parent still queueing for a place after ``treatment.max_wait_days`` stops waiting."""
        if case.request is None:
            return
        places = self.treatment.places[case.modality]
        if places is None or not places.cancel(case):
            raise RuntimeError(f"family {case.family.index} gives up a {case.modality} queue it is not in")
        case.request = None
        case.recovery.give_up_waiting(self.env.now)
        self._check("treatment_give_up")

    def _enter_treatment(self, case: Case) -> None:
        now = self.env.now
        case.request = None
        if case.repeats:  # a later episode (treatment.max_episodes), its length from the family's own sequence
            exit_day = case.recovery.start_treatment(now, self._episode_days(case, case.seqs["treatment"]))
            case.repeats[-1] = (case.repeats[-1][0], now, exit_day)
        else:
            case.tx_start_day = now
            exit_day = case.tx_exit_day = case.recovery.start_treatment(now, self._episode_days(case, None))
        self._at(exit_day, self._on_release, case)
        self._check("treatment")

    def _episode_days(self, case: Case, seq: UniformSeq | None) -> float:
        """Days the place is held at most: ongoing MOUD until discontinuation (its own stream, decision 0053),
        else an episode from ``seq`` (a later episode) or the family's first-episode uniform."""
        tr = self.sc.treatment
        if ongoing_moud(tr, case.modality):
            return tr.moud_retention_days.ppf(case.seqs["moud_retention"].next())
        return tr.episode_days[case.modality].ppf(seq.next() if seq else case.family.u_episode)

    def _repeat(self, case: Case) -> None:
        """A parent still using after an episode, in a case still open, asks for a place again."""
        if math.isnan(case.closure_day) and case.recovery.state_at(self.env.now) == USING:
            case.repeats.append((self.env.now, math.nan, math.nan))
            case.recovery.awaiting_treatment = True
            self._request(case)

    def _release(self, case: Case) -> None:
        """The episode is over: its place passes to the first family in the queue, if any."""
        places = self.treatment.places[case.modality]
        if places is None:
            raise RuntimeError(f"family {case.family.index} leaves a {case.modality} place that does not exist")
        nxt = places.release()
        if nxt is not None:
            self.link.hand_over(nxt) if self.link else self._enter_treatment(nxt)
        tr, now = self.sc.treatment, self.env.now
        if 1 + len(case.repeats) < tr.max_episodes and math.isnan(case.closure_day) and case.recovery.state_at(now) == USING:
            self._at(now + tr.repeat_request_days.ppf(case.seqs["treatment"].next()), self._on_repeat, case)

    # -- closure -------------------------------------------------------------------------
    def _closure_check(self, case: Case) -> None:
        now = self.env.now
        start = case.service == Service.START
        max_ext, ext = self._extension[case.service]
        if not case.disengaged and case.extensions < max_ext and not in_recovery(case.recovery.state_at(now)):
            case.extensions += 1
            self._at(now + ext.ppf(case.seqs["extension"].next()), self._on_closure, case)
            return
        case.closure_day = now
        if start:
            case.state = State.CLOSED_START
            case.recovery.set_case_open(now, False)
            self._free_slot(case)
            self._fill_slot()
        self._check("closure")

    def _free_slot(self, case: Case) -> None:
        if case.caseworker >= 0:
            self.pool.remove(case.caseworker)
            self.caseload[case.caseworker].remove(case)
        else:
            self.unassigned.remove(case)
            self._end_unassigned(case)

    def _outreach_end(self, case: Case) -> None:
        """A family that never engaged gives back its dyad slot and opens a usual-services case."""
        self._free_slot(case)
        case.mentor = False
        self._open_usual(case, Route.NEVER_ENGAGED)
        self._fill_slot()
        self._check("outreach_end")

    def _fill_slot(self) -> None:
        """Open slots go first to families whose caseworker left, then to the waitlist."""
        while self.unassigned or self.waitlist:
            caseworker = self.pool.open_caseworker()
            if caseworker is None:
                return
            if self.unassigned:
                case = self.unassigned.popleft()
                self.pool.add(caseworker)
                self.caseload[caseworker].append(case)
                case.caseworker = caseworker
                self._end_unassigned(case)
                case.reassignments += 1
                self.families_reassigned += 1
            else:
                case = self.waitlist.popleft()
                case.waiting = False
                (self.link.model_of(case) if self.link else self)._assign(case, caseworker)
