"""The staff events of a county's dyads: posts opened at launch and by the hiring plan, staff
starting after hiring lag and training, leaving after their tenure (their families go to other
caseworkers or wait), and the log of caseload slots. A mixin of
:class:`start_sim.sim.model.CountyModel`, kept apart so each module has one job.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import simpy

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import Scenario
from start_sim.inputs.tables import County, Workforce
from start_sim.sim.case import Case
from start_sim.sim.staff import CASEWORKER, MENTOR, Post, StaffPool
from start_sim.sim.streams import stream


class StaffEvents:
    """Posts, starters and leavers of one county (or a region's shared dyads) in one arm."""

    sc: Scenario
    staff_county: County
    env: simpy.Environment
    pool: StaffPool
    caseload: list[list[Case]]
    unassigned: deque[Case]
    slot_log: list[tuple[float, int]]
    _end: float
    _wf: Workforce
    _on_staff_start: Callable[[simpy.Event], None]
    _on_staff_leave: Callable[[simpy.Event], None]
    # provided by CountyModel: schedule a callback, assign waiting families, call the auditor
    _at: Callable[[float, Callable[[simpy.Event], None], Case], None]
    _fill_slot: Callable[[], None]
    _check: Callable[[str], None]

    def _staff_plan(self, seed: int, replication: int, county_index: int) -> None:
        """Staff in post at launch, then the hiring plan's posts; each post's lag, training and
        tenure come from its role's own streams, in the order the posts are opened."""
        county = self.staff_county
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
                    self._open_post(role, step.open_day(county.launch_day))

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
        self.pool.remove(case.caseworker)
        case.caseworker = -1
        case.unassigned.append((self.env.now, math.inf))
        self.unassigned.append(case)

    def _end_unassigned(self, case: Case) -> None:
        start, _ = case.unassigned[-1]
        case.unassigned[-1] = (start, self.env.now)

