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
from dataclasses import dataclass, field

import simpy

from start_sim.inputs.distributions import Distribution
from start_sim.inputs.schema import Scenario
from start_sim.sim.family import Family
from start_sim.sim.recovery import RecoveryProcess, RecoveryRates, in_recovery
from start_sim.sim.staff import CASEWORKER, MENTOR, Post, Workforce
from start_sim.sim.streams import UniformSeq, stream
from start_sim.sim.treatment import START_PRIORITY, USUAL_PRIORITY, TreatmentRequest, TreatmentSystem, choose_modality

DAYS_PER_YEAR = 365.25
NAN = math.nan

# final states of an eligible family (exactly one each)
WAITING, IN_START, CLOSED_START, USUAL = "waiting", "in_start", "closed_start", "usual"


@dataclass(slots=True, eq=False)
class Case:
    """What happened to one family in one arm."""

    family: Family
    state: str = WAITING
    service: str = ""  # "start" or "usual": the service the family received
    route: str = ""  # how it got there: assigned, diverted, reneged, before_launch, no_program
    dyad: int = -1
    mentor: bool = False
    open_day: float = NAN  # START assignment or usual case opening
    assigned_day: float = NAN
    diverted_day: float = NAN
    planned_close_day: float = NAN
    closure_day: float = NAN
    extensions: int = 0
    disengaged: bool = False
    assessment_day: float = NAN
    modality: str = ""
    tx_request_day: float = NAN
    tx_start_day: float = NAN
    tx_exit_day: float = NAN
    recovery: RecoveryProcess | None = None
    waiting: bool = False
    reassignments: int = 0  # moves to another caseworker (a leaver's or an over-cap family)
    unassigned: list[tuple[float, float]] = field(default_factory=list)  # open without a caseworker: [from, to)
    takes_up: bool = False
    request: TreatmentRequest | None = None  # while queueing for a treatment place
    seqs: dict[str, UniformSeq] = field(default_factory=dict)

    @property
    def wait_days(self) -> float:
        return self.assigned_day - self.family.referral_day


Handler = Callable[[Case], None]


class CountyModel:
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
    ) -> None:
        self.sc = scenario
        self.county = scenario.counties[county_index]
        hires_later = any(step.caseworkers for step in self.county.hiring)
        self.with_start = with_start and (self.county.dyads > 0 or hires_later)
        self.env = simpy.Environment()
        prog = scenario.program
        self.pool = Workforce(prog.caseload_cap, prog.solo_caseload_cap)
        self.caseload: list[list[Case]] = []  # per caseworker: its open cases
        self.orphans: deque[Case] = deque()  # open START cases waiting for another caseworker
        self.families_reassigned = 0
        self.slot_log: list[tuple[float, int]] = [(0.0, 0)]  # (day, caseload slots from then on)
        self.waitlist: deque[Case] = deque()
        self.treatment: TreatmentSystem[Case] = TreatmentSystem(scenario.slots(self.county))
        self.audit = audit
        self._end = scenario.end_days
        self._extension: dict[str, tuple[int, Distribution]] = {
            "start": (prog.max_extensions, prog.extension_days),
            "usual": (scenario.usual.max_extensions, scenario.usual.extension_days),
        }
        self._rates: dict[tuple[str, str, bool], RecoveryRates] = {}
        # event callbacks, made once: the value of each timeout is the case it concerns
        self._on_arrive, self._on_renege, self._on_assess, self._on_release, self._on_closure, self._on_give_up = (
            self._callback(h)
            for h in (self._arrive, self._renege, self._assess, self._release, self._closure_check, self._give_up)
        )
        self._on_staff_start, self._on_staff_leave = self._callback(self._staff_start), self._callback(self._staff_leave)
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

    # -- staff ---------------------------------------------------------------------------
    def _staff_plan(self, seed: int, replication: int, county_index: int) -> None:
        """Staff in post at launch, then the hiring plan's posts; each post's lag, training and
        tenure come from its role's own streams, in the order the posts are opened."""
        county = self.county
        self._wf = self.sc.workforce_of(county)
        self._staff_u = {
            role: stream(seed, replication, county_index, f"staff.{role}") for role in (CASEWORKER, MENTOR)
        }
        for role, n in ((CASEWORKER, county.dyads), (MENTOR, county.mentor_count)):
            for _ in range(n):
                self._open_post(role, county.launch_day, in_post=True)
        for step in county.hiring:
            for role, n in ((CASEWORKER, step.caseworkers), (MENTOR, step.mentors)):
                for _ in range(n):
                    self._open_post(role, step.day)

    def _open_post(self, role: str, day: float, in_post: bool = False) -> None:
        wf = self._wf
        u_lag, u_training, u_tenure = self._staff_u[role].random(3)
        post = Post(role, 1.0 if role == CASEWORKER else wf.mentor_fte, opened=day)
        if in_post:
            post.hired = post.active = day
        else:
            post.hired = day + wf.hiring_lag_days.ppf(u_lag)
            post.active = post.hired + wf.training_days.ppf(u_training)
        rate = (wf.caseworker_turnover_per_year if role == CASEWORKER else wf.mentor_turnover_per_year) / DAYS_PER_YEAR
        if rate > 0:
            post.left = post.hired - math.log1p(-u_tenure) / rate
        self.pool.posts.append(post)
        if post.left > post.active:
            self._at(post.active, self._on_staff_start, post)
        if post.left < self._end:
            self._at(post.left, self._on_staff_leave, post)

    def _staff_start(self, post: Post) -> None:
        if post.role == CASEWORKER:
            post.index = self.pool.start_caseworker()
            self.caseload.append([])
        else:
            post.index = self.pool.start_mentor(post.fte)
        self._log_slots()
        self._fill_slot()
        self._check("staff_start")

    def _staff_leave(self, post: Post) -> None:
        """A leaver's families go to other caseworkers (or wait for one); the post is refilled."""
        if post.index >= 0:
            if post.role == CASEWORKER:
                for case in self.caseload[post.index]:
                    self._unassign(case)
                self.caseload[post.index] = []
                self.pool.caseworker_leaves(post.index)
            else:
                cw = self.pool.mentor_leaves(post.index)
                if cw is not None:
                    while self.pool.load[cw] > self.pool.cap[cw]:
                        self._unassign(self.caseload[cw].pop())
        if self._wf.replace_leavers:
            self._open_post(post.role, self.env.now)
        self._log_slots()
        self._fill_slot()
        self._check("staff_leave")

    def _log_slots(self) -> None:
        day, slots = self.env.now, self.pool.slots
        if self.slot_log[-1][0] == day:
            self.slot_log[-1] = (day, slots)
        elif self.slot_log[-1][1] != slots:
            self.slot_log.append((day, slots))

    def _unassign(self, case: Case) -> None:
        self.pool.remove(case.dyad)
        case.dyad = -1
        case.unassigned.append((self.env.now, math.inf))
        self.orphans.append(case)

    def _end_unassigned(self, case: Case) -> None:
        start, _ = case.unassigned[-1]
        case.unassigned[-1] = (start, self.env.now)

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
        if not self.with_start:
            self._open_usual(case, "no_program")
        elif now < self.county.launch_day and not f.pre_existing:
            self._open_usual(case, "before_launch")
        elif f.open_at_start:
            self._assign(case, self.pool.open_dyad(), elapsed_share=f.u_elapsed)
        else:
            dyad = self.pool.open_dyad()
            if dyad is not None:
                self._assign(case, dyad)
            elif self.sc.program.waitlist_policy == "divert":
                self._divert(case, "diverted")
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
            self._divert(case, "reneged")
            self._check("renege")

    def _divert(self, case: Case, route: str) -> None:
        case.diverted_day = self.env.now
        self._open_usual(case, route)

    def _assign(self, case: Case, dyad: int | None, elapsed_share: float = 0.0) -> None:
        assert dyad is not None, "no open slot for a pre-existing case: the scenario validator should prevent this"
        now = self.env.now
        f = case.family
        prog, eff = self.sc.program, self.sc.start
        self.pool.add(dyad)
        self.caseload[dyad].append(case)
        case.state, case.service, case.route = IN_START, "start", case.route or "assigned"
        case.dyad, case.mentor = dyad, self.pool.mentor_of[dyad] is not None and eff.mentor_support
        case.assigned_day = case.open_day = now
        planned = prog.service_days.ppf(f.u_service) * (1.0 - elapsed_share)
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

    def _open_usual(self, case: Case, route: str) -> None:
        now = self.env.now
        f = case.family
        case.state, case.service, case.route = USUAL, "usual", route
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
        if case.service == "start":
            uptake = eff.mentor_uptake if case.mentor else (tr.uptake_start if eff.rapid_access else tr.uptake_usual)
        else:
            uptake = tr.uptake_usual
        case.takes_up = f.u_uptake < uptake
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
        now = self.env.now
        case.assessment_day = case.tx_request_day = now
        priority = START_PRIORITY if case.service == "start" and self.sc.start.rapid_access else USUAL_PRIORITY
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
        assert places is not None and places.cancel(case)
        case.request = None
        case.recovery.give_up_waiting(self.env.now)
        self._check("treatment_give_up")

    def _enter_treatment(self, case: Case) -> None:
        now = self.env.now
        episode = self.sc.treatment.episode_days[case.modality].ppf(case.family.u_episode)
        case.request = None
        case.tx_start_day = now
        case.tx_exit_day = case.recovery.start_treatment(now, episode)
        self._at(case.tx_exit_day, self._on_release, case)
        self._check("treatment")

    def _release(self, case: Case) -> None:
        """The episode is over: its place passes to the first family in the queue, if any."""
        places = self.treatment.places[case.modality]
        assert places is not None
        nxt = places.release()
        if nxt is not None:
            self._enter_treatment(nxt)

    # -- closure -------------------------------------------------------------------------
    def _closure_check(self, case: Case) -> None:
        now = self.env.now
        start = case.service == "start"
        max_ext, ext = self._extension[case.service]
        if not case.disengaged and case.extensions < max_ext and not in_recovery(case.recovery.state_at(now)):
            case.extensions += 1
            self._at(now + ext.ppf(case.seqs["extension"].next()), self._on_closure, case)
            return
        case.closure_day = now
        if start:
            case.state = CLOSED_START
            case.recovery.set_case_open(now, False)
            if case.dyad >= 0:
                self.pool.remove(case.dyad)
                self.caseload[case.dyad].remove(case)
            else:
                self.orphans.remove(case)
                self._end_unassigned(case)
            self._fill_slot()
        self._check("closure")

    def _fill_slot(self) -> None:
        """Open slots go first to families whose caseworker left, then to the waitlist."""
        while self.orphans or self.waitlist:
            dyad = self.pool.open_dyad()
            if dyad is None:
                return
            if self.orphans:
                case = self.orphans.popleft()
                self.pool.add(dyad)
                self.caseload[dyad].append(case)
                case.dyad = dyad
                self._end_unassigned(case)
                case.reassignments += 1
                self.families_reassigned += 1
            else:
                case = self.waitlist.popleft()
                case.waiting = False
                self._assign(case, dyad)


def recovery_rates(sc: Scenario, substance: str, modality: str, mentor: bool) -> RecoveryRates:
    """Per-day recovery rates of one parent: substance, modality and (if any) mentor effects."""
    rec, eff = sc.recovery, sc.start
    recover = rec.recovery_rate_in_treatment * getattr(rec.substance_recovery_multiplier, substance)
    if modality == "moud":
        recover *= rec.moud_recovery_multiplier
    return RecoveryRates(
        recover_in_treatment=recover * (eff.mentor_recovery_multiplier if mentor else 1.0) / DAYS_PER_YEAR,
        dropout_in_treatment=rec.dropout_rate_in_treatment * (eff.mentor_dropout_multiplier if mentor else 1.0)
        / DAYS_PER_YEAR,
        spontaneous=rec.spontaneous_recovery_rate / DAYS_PER_YEAR,
        relapse_early=rec.relapse_rate_early / DAYS_PER_YEAR,
        relapse_sustained=rec.relapse_rate_sustained / DAYS_PER_YEAR,
        days_to_sustained=rec.days_to_sustained,
        relapse_multiplier_open=eff.mentor_relapse_multiplier if mentor else 1.0,
    )


def untreated_recovery(sc: Scenario, case: Case) -> RecoveryProcess:
    """The path of a parent still on the START waitlist when the run ends (no service yet)."""
    f = case.family
    rates = recovery_rates(sc, f.substance, "outpatient", False)
    return RecoveryProcess(f.referral_day, rates, case.seqs["recovery"], awaiting_treatment=False)
