"""The parent's recovery process against exponential theory, and the bookkeeping of its path."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from start_sim.sim.recovery import EARLY, SUSTAINED, TREATMENT, USING, RecoveryProcess, RecoveryRates
from start_sim.sim.replication import simulate
from start_sim.sim.streams import CountyDraws, UniformSeq

DRAWS = CountyDraws(0, 0, 0, 0, 1)
NEVER = 1e12  # days: "never" for days_to_sustained


def seq(row) -> UniformSeq:
    return UniformSeq(np.asarray(row, dtype=float), DRAWS, "test", 0)


def rates(**kw) -> RecoveryRates:
    base = dict(recover_in_treatment=0.0, dropout_in_treatment=0.0, spontaneous=0.0, relapse_early=0.0,
                relapse_sustained=0.0, days_to_sustained=NEVER, relapse_multiplier_open=1.0)
    base.update(kw)
    return RecoveryRates(**base)


def within(actual: float, expected: float, se: float, what: str, k: float = 4.0) -> None:
    assert abs(actual - expected) <= k * se, (
        f"{what}: {actual:.5f} vs theory {expected:.5f}, off by {actual - expected:+.5f} (> {k} SE = {k * se:.5f})")


def test_constant_rate_sojourn_is_exponential():
    s = 1 / 200.0  # per day: mean 200 days to leave 'using'
    rng = np.random.default_rng(11)
    n = 20_000
    t = np.empty(n)
    for i in range(n):
        row = rng.random(4)
        proc = RecoveryProcess(0.0, rates(spontaneous=s), seq(row), awaiting_treatment=False)
        times, states = proc.path(1e7)
        assert states[:2] == [USING, EARLY], f"expected using -> early recovery, got {states}"
        t[i] = times[1]
        # exact inverse transform of the first uniform
        assert abs(t[i] - (-math.log(row[0]) / s)) < 1e-6 * t[i] + 1e-9, f"sojourn {t[i]} != -log(u)/rate"
    within(t.mean(), 1 / s, (1 / s) / math.sqrt(n), "mean time to leave 'using' (days)")
    # the median of an exponential is log(2)/rate
    med_se = 1 / (2 * s * 0.5 * math.sqrt(n))  # 1 / (2 f(m) sqrt(n)), f(m) = s/2
    within(float(np.median(t)), math.log(2) / s, med_se, "median time to leave 'using' (days)")


def test_awaiting_treatment_blocks_spontaneous_recovery_until_given_up():
    proc = RecoveryProcess(0.0, rates(spontaneous=1.0), seq([0.5] * 6), awaiting_treatment=True)
    assert proc.state_at(500.0) == USING, "a parent awaiting a treatment place should not recover spontaneously"
    proc.give_up_waiting(500.0)
    times, states = proc.path(1000.0)
    assert states[1] == EARLY and times[1] > 500.0, f"spontaneous recovery should start after day 500: {times}, {states}"


@pytest.mark.parametrize("r, d, D", [(4.0 / 365.25, 3.0 / 365.25, 90.0), (6.0 / 365.25, 1.8 / 365.25, 240.0)])
def test_treatment_recovery_dropout_split(r, d, D):
    """Competing exits in treatment: P(recover by D) = r/(r+d) (1 - e^{-(r+d)D}), likewise dropout."""
    rng = np.random.default_rng(7)
    n = 20_000
    recovered = dropped = completed = 0
    for _ in range(n):
        proc = RecoveryProcess(0.0, rates(recover_in_treatment=r, dropout_in_treatment=d), seq(rng.random(6)), True)
        exit_day = proc.start_treatment(10.0, D)
        times, states = proc.times, proc.states
        assert states[:2] == [USING, TREATMENT] and times[1] == 10.0, f"treatment should start on day 10: {times}, {states}"
        if states[2] == EARLY:
            recovered += 1
            assert exit_day == 10.0 + D, f"a parent who recovers keeps the place to the episode end, left on {exit_day}"
        elif times[2] < 10.0 + D:
            dropped += 1
            assert exit_day == times[2], f"dropout on {times[2]} but the place was given up on {exit_day}"
        else:
            completed += 1
            assert exit_day == 10.0 + D, f"episode end {10.0 + D} but the place was given up on {exit_day}"
    done = 1 - math.exp(-(r + d) * D)
    for what, count, p in (("recovered", recovered, r / (r + d) * done), ("dropped out", dropped, d / (r + d) * done),
                           ("completed without recovery", completed, 1 - done)):
        within(count / n, p, math.sqrt(p * (1 - p) / n), f"share {what} in a {D:.0f}-day episode")


def _relapse_day(u_recover: float, u_relapse: float, lam: float, mult: float, open_day: float | None,
                 close_day: float | None, until: float) -> float:
    """Day of the first relapse of a parent who recovers at once in a very short treatment
    episode on day 0 (after a relapse there is no spontaneous recovery, so the path ends)."""
    r = rates(recover_in_treatment=1e9, relapse_early=lam, relapse_multiplier_open=mult)
    proc = RecoveryProcess(0.0, r, seq([0.5, u_recover, u_relapse, 0.5, 0.5]), awaiting_treatment=True)
    if open_day is not None:
        proc.set_case_open(open_day, True)
    proc.start_treatment(0.0, 1e-3)
    if close_day is not None:
        proc.set_case_open(close_day, False)
    times, states = proc.path(until)
    assert states[:3] == [USING, TREATMENT, EARLY], f"expected using -> treatment -> early recovery, got {states}"
    return times[3] if len(times) > 3 else math.inf


def test_mentor_relapse_multiplier_only_while_case_open():
    lam, mult = 1.2 / 365.25, 0.5
    open_day, close_day = 0.0, 400.0
    t_rec = -math.log(0.5) / 1e9  # the near-instant recovery in treatment
    for budget in (0.1, 0.2, 0.5):  # relapse budget spent during the open case, for lam * mult * 400 = 0.66
        got = _relapse_day(0.5, math.exp(-budget), lam, mult, open_day, close_day, 1e5)
        exp = t_rec + budget / (lam * mult)
        assert abs(got - exp) < 1e-6, f"relapse during the open case on {got:.4f}, expected {exp:.4f} (rate x {mult})"
    for budget in (0.8, 1.5):  # budget left at closure is spent at the full rate
        got = _relapse_day(0.5, math.exp(-budget), lam, mult, open_day, close_day, 1e5)
        spent_open = lam * mult * (close_day - t_rec)
        exp = close_day + (budget - spent_open) / lam
        assert abs(got - exp) < 1e-6, f"relapse after closure on {got:.4f}, expected {exp:.4f} (full rate after day 400)"
        # a parent whose case never opened relapses at the full rate throughout
        got = _relapse_day(0.5, math.exp(-budget), lam, mult, None, None, 1e5)
        assert abs(got - (t_rec + budget / lam)) < 1e-6, f"no case: relapse on {got:.4f}, expected {t_rec + budget / lam:.4f}"


def test_mentor_relapse_multiplier_statistically():
    """P(relapse while open for C days) = 1 - exp(-lam m C); after closure the mean wait is 1/lam."""
    lam, mult, C = 1.2 / 365.25, 0.5, 400.0
    rng = np.random.default_rng(3)
    n = 20_000
    t = np.array([_relapse_day(*rng.random(2), lam, mult, 0.0, C, 1e6) for _ in range(n)])
    p = 1 - math.exp(-lam * mult * C)
    within(float((t < C).mean()), p, math.sqrt(p * (1 - p) / n), "share relapsing while the case is open")
    late = t[t >= C] - C
    within(float(late.mean()), 1 / lam, (1 / lam) / math.sqrt(len(late)), "mean days from closure to relapse")


def test_sustained_after_days_to_sustained_and_its_relapse_rate():
    r = rates(spontaneous=1e9, relapse_early=0.0, relapse_sustained=1 / 1000.0, days_to_sustained=180.0)
    proc = RecoveryProcess(0.0, r, seq([0.5, 0.5, math.exp(-0.3), 0.5]), awaiting_treatment=False)
    times, states = proc.path(1e5)
    assert states[:4] == [USING, EARLY, SUSTAINED, USING], f"path states {states}"
    assert abs(times[2] - times[1] - 180.0) < 1e-9, f"sustained {times[2] - times[1]:.6f} days after early recovery, not 180"
    assert abs(times[3] - times[2] - 300.0) < 1e-6, f"relapse {times[3] - times[2]:.6f} days into sustained, expected 300"


def test_state_at_past_day_reads_recorded_path_and_incremental_equals_one_shot():
    r = rates(recover_in_treatment=4 / 365.25, dropout_in_treatment=3 / 365.25, spontaneous=0.5 / 365.25,
              relapse_early=2 / 365.25, relapse_sustained=0.5 / 365.25, days_to_sustained=180.0)
    rng = np.random.default_rng(1)
    for _ in range(200):
        row = rng.random(40)
        one = RecoveryProcess(5.0, r, seq(row), awaiting_treatment=False)
        times, states = one.path(3000.0)
        times, states = list(times), list(states)
        # a second reader of the same uniforms, advanced by many small queries
        inc = RecoveryProcess(5.0, r, seq(row), awaiting_treatment=False)
        for day in np.linspace(5.0, 3000.0, 97):
            inc.state_at(float(day))
        assert len(inc.times) == len(times) and np.allclose(inc.times, times, rtol=0, atol=1e-7) and inc.states == states, (
            f"incremental path differs from one-shot path:\n{inc.times}\n{times}")
        # reading the past does not move the process and agrees with the recorded path
        t_now = one.t
        for day in rng.uniform(5.0, 3000.0, 20):
            k = int(np.searchsorted(times, day, side="right")) - 1
            assert one.state_at(float(day)) == states[k], f"state_at({day:.2f}) != recorded state {states[k]}"
        assert one.t == t_now and one.times == times, "state_at of a past day changed the process"
        assert one.state_at(4.0) == USING, "before the referral the parent is taken to be using"


ALLOWED = {USING: {TREATMENT, EARLY}, TREATMENT: {EARLY, USING}, EARLY: {SUSTAINED, USING, TREATMENT},
           SUSTAINED: {USING, TREATMENT}}


def test_simulated_paths_are_monotone_with_valid_transitions(small):
    for run in simulate(small, seed=4, replication=0):
        for case in run.start + run.usual:
            proc = case.recovery
            if proc is None:
                continue
            times, states = proc.path(small.end_days)
            assert times[0] == case.family.referral_day, f"path starts on {times[0]}, referral {case.family.referral_day}"
            assert all(b > a for a, b in pairwise(times)), f"path times not increasing: {times}"
            bad = [(a, b) for a, b in pairwise(states) if b not in ALLOWED[a]]
            assert not bad, f"invalid transitions {bad} in path {states}"
            if not math.isnan(case.tx_start_day):
                k = times.index(case.tx_start_day) if case.tx_start_day in times else -1
                assert k > 0 and states[k] == TREATMENT, f"no treatment entry recorded on tx_start_day {case.tx_start_day}"
