"""The index parent's recovery: a continuous-time process sampled event by event.

States: using, in treatment, early recovery, sustained recovery. Each sojourn draws one
exponential "hazard budget" from the family's own uniforms and spends it at the current
total rate; when rates change (the START case closes, a treatment episode ends) the
unspent budget carries over. This is exact for piecewise-constant hazards and keeps
common random numbers tight: the same family uses the same draws in both arms, so a
lower rate only moves its events later.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import Scenario
from start_sim.sim.family import Family
from start_sim.sim.streams import UniformSeq
from start_sim.sim.treatment import ongoing_moud

USING, TREATMENT, EARLY, SUSTAINED = 0, 1, 2, 3


def in_recovery(state: int) -> bool:
    """Early or sustained recovery counts as 'in recovery' (sobriety)."""
    return state >= EARLY


@dataclass(frozen=True, slots=True)
class RecoveryRates:
    """Per-day rates for one parent, already adjusted for substance and arm."""

    recover_in_treatment: float
    dropout_in_treatment: float
    spontaneous: float
    relapse_early: float
    relapse_sustained: float
    days_to_sustained: float
    relapse_multiplier_open: float  # mentor effect while the START case is open (1 = none)


class RecoveryProcess:
    """One parent's path, advanced lazily to whatever time the model asks about."""

    __slots__ = ("rates", "u", "t", "state", "budget", "times", "states", "awaiting_treatment",
                 "case_open", "tx_end", "sustained_at")

    def __init__(self, start_day: float, rates: RecoveryRates, u: UniformSeq, awaiting_treatment: bool) -> None:
        self.rates = rates
        self.u = u
        self.t = start_day
        self.state = USING
        self.budget = -math.log(u.next())
        self.times = [start_day]
        self.states = [USING]
        self.awaiting_treatment = awaiting_treatment
        self.case_open = False
        self.tx_end = math.inf
        self.sustained_at = math.inf

    def _move(self, t: float, state: int) -> None:
        self.t = t
        if state == self.state:
            return
        self.state = state
        self.times.append(t)
        self.states.append(state)
        self.budget = -math.log(self.u.next())
        self.sustained_at = t + self.rates.days_to_sustained if state == EARLY else math.inf

    # -- advancing ---------------------------------------------------------------
    def advance(self, until: float, stop_at_dropout: bool = False) -> None:
        """Run the process forward to ``until`` under the current regime: in each state, a rate to
        the 'better' state and a rate back to using (the mentor's relapse effect while the case is
        open), spent against the sojourn's budget up to the next boundary (``until``, the episode's
        end, the move to sustained recovery). The outcome phase runs every path to the end of the
        run through here, so the rates are read inline."""
        r = self.rates
        while self.t < until:
            state = self.state
            if state == USING:
                up, down = (0.0 if self.awaiting_treatment else r.spontaneous), 0.0
            elif state == TREATMENT:
                up, down = r.recover_in_treatment, r.dropout_in_treatment
            else:
                mult = r.relapse_multiplier_open if self.case_open else 1.0
                up, down = 0.0, (r.relapse_early if state == EARLY else r.relapse_sustained) * mult
            total = up + down
            boundary = until
            if self.tx_end < boundary:
                boundary = self.tx_end
            if self.sustained_at < boundary:
                boundary = self.sustained_at
            hit = self.t + self.budget / total if total > 0 else math.inf
            if hit <= boundary:
                # the choice between the two exits uses its own uniform
                better = up > 0 and (down == 0 or self.u.next() * total < up)
                if better:
                    self._move(hit, EARLY)
                elif state == TREATMENT:
                    self.tx_end = math.inf  # dropout ends the episode
                    self._move(hit, USING)
                    if stop_at_dropout:
                        return
                else:  # relapse: back to treatment while the episode lasts
                    self._move(hit, TREATMENT if self.tx_end < math.inf else USING)
                continue
            self.budget -= (boundary - self.t) * total
            self.t = boundary
            if boundary == self.sustained_at:
                self._move(boundary, SUSTAINED)
            elif boundary == self.tx_end:
                self.tx_end = math.inf
                if state == TREATMENT:
                    self._move(boundary, USING)

    def state_at(self, day: float) -> int:
        """State at ``day``; a day already passed is read from the recorded path (a day
        before the path starts reads its first state, not its last)."""
        if day < self.t:
            return self.states[max(bisect.bisect_right(self.times, day) - 1, 0)]
        self.advance(day)
        return self.state

    def start_treatment(self, day: float, episode_days: float) -> float:
        """Enter treatment at ``day`` for at most ``episode_days``; returns the day the
        treatment place is given up (dropout or end of episode).

        Treatment-episode rates hold for the whole episode (the mentor effect is decided at
        entry), so the exit is known at entry and the model can schedule the release.
        """
        self.advance(day)
        self.awaiting_treatment = False
        if self.state != USING:
            return day  # recovered meanwhile: the place is not taken
        self._move(day, TREATMENT)
        end = self.tx_end = day + episode_days
        self.advance(end, stop_at_dropout=True)
        return min(self.t, end)

    def give_up_waiting(self, day: float) -> None:
        """The parent will not enter treatment after all (spontaneous recovery applies from now)."""
        self.advance(day)
        self.awaiting_treatment = False

    def set_case_open(self, day: float, is_open: bool) -> None:
        """Switch the regime (mentor relapse effect) from ``day`` (or from now, if later)."""
        self.advance(day)
        self.case_open = is_open

    def path(self, until: float) -> tuple[list[float], list[int]]:
        """Change times and states from the start to ``until`` (advancing if needed)."""
        self.advance(until)
        return self.times, self.states


def recovery_rates(sc: Scenario, substance: str, modality: str, mentor: bool) -> RecoveryRates:
    """Per-day recovery rates of one parent: substance, modality and (if any) mentor effects."""
    rec, eff = sc.recovery, sc.start
    recover = rec.recovery_rate_in_treatment * getattr(rec.substance_recovery_multiplier, substance)
    if modality == "moud":
        recover *= rec.moud_recovery_multiplier
    dropout = 0.0 if ongoing_moud(sc.treatment, modality) else rec.dropout_rate_in_treatment  # retention is the dropout
    return RecoveryRates(
        recover_in_treatment=recover * (eff.mentor_recovery_multiplier if mentor else 1.0) / DAYS_PER_YEAR,
        dropout_in_treatment=dropout * (eff.mentor_dropout_multiplier if mentor else 1.0) / DAYS_PER_YEAR,
        spontaneous=rec.spontaneous_recovery_rate / DAYS_PER_YEAR,
        relapse_early=rec.relapse_rate_early / DAYS_PER_YEAR,
        relapse_sustained=rec.relapse_rate_sustained / DAYS_PER_YEAR,
        days_to_sustained=rec.days_to_sustained,
        relapse_multiplier_open=eff.mentor_relapse_multiplier if mentor else 1.0,
    )


def untreated_recovery(sc: Scenario, family: Family, u: UniformSeq) -> RecoveryProcess:
    """The path of a parent never served (still on the START waitlist when the run ends),
    drawn from ``u``, a reader of the family's recovery sequence."""
    rates = recovery_rates(sc, family.substance, "outpatient", False)
    return RecoveryProcess(family.referral_day, rates, u, awaiting_treatment=False)
