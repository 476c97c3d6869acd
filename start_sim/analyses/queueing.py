"""Queueing formulas of the staffing estimate: Erlang B and C, and the M/M/c service levels.

The START queue is treated as M/M/c (exponential case lengths: an approximation, the real
ones are lognormal). With ``c`` caseload slots, arrival rate ``lambda`` and mean time in START
``1 / mu``, the offered load is ``a = lambda / mu``: Erlang C gives ``P(wait <= t) = 1 - C(c, a)
exp(-(c mu - lambda) min(t, max_wait))`` and the diverted share ``C(c, a) exp(-(c mu - lambda)
max_wait)``; with ``waitlist_policy = "divert"`` Erlang B gives the diverted share ``B(c, a)``
and the share assigned at once ``1 - B(c, a)``.
"""

from __future__ import annotations

import math

from start_sim.analyses.service_targets import ServiceTarget
from start_sim.inputs.schema import Program


def erlang_b(c: int, a: float) -> float:
    """Erlang B: blocking probability of M/M/c/c with offered load ``a`` = lambda / mu."""
    if a <= 0:
        return 0.0
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: P(wait > 0) in M/M/c with offered load ``a`` (1 when ``a >= c``)."""
    if a <= 0:
        return 0.0
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_within(c: int, lam: float, mu: float, t: float) -> float:
    """P(wait <= t) in M/M/c: ``1 - C(c, a) exp(-(c mu - lambda) t)`` (0 when unstable)."""
    a = lam / mu
    if lam <= 0:
        return 1.0
    if a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c * mu - lam) * t)


def analytic_level(target: ServiceTarget, slots: float, lam: float, mean_days: float, program: Program) -> float:
    """The service level the queueing formulas give for ``slots`` caseload slots."""
    c = max(0, math.floor(slots + 1e-9))
    if lam <= 0:
        return 1.0 if target.metric == "assigned_within_days" else 0.0
    if c == 0:
        return 0.0 if target.metric == "assigned_within_days" else 1.0
    mu = 1.0 / mean_days
    a = lam / mu
    if program.waitlist_policy == "divert":
        b = erlang_b(c, a)
        return 1.0 - b if target.metric == "assigned_within_days" else b
    limit = math.inf if program.max_wait_days is None else program.max_wait_days
    if target.metric == "assigned_within_days":
        return mmc_within(c, lam, mu, min(target.days, limit))
    if math.isinf(limit):
        return 0.0 if a < c else 1.0 - c / a
    return 1.0 - mmc_within(c, lam, mu, limit) if a < c else 1.0 - c / a
