"""ASFA clocks on scripted single families: TPR petition, permanency hearing, adoption.

Each test scripts the parent's recovery path (times/states lists) and the children's
uniforms (a ``UniformSeq`` over a chosen row), so ``placement_history`` is deterministic
and its result can be compared with the day ASFA says. Uniforms are consumed in this
order: at home, one for the placement time; in care, one for the placement type, one for
the relative exemption (relative placements only), one for the adoption delay (only if a
TPR petition is due), one for the exit time budget, one for the exit type.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from start_sim.inputs.schema import Placement
from start_sim.outcomes.children import (
    ADOPTION,
    GUARDIANSHIP,
    IN_CARE,
    REUNIFIED,
    Episode,
    Paths,
    care_days_in_window,
    placement_history,
    tpr_day,
)
from start_sim.sim.recovery import EARLY, USING
from start_sim.sim.streams import CountyDraws, UniformSeq

Y = 365.25  # rates in the scenario are per year, time is in days
END = 10_000.0
ADOPT = 200.0  # fixed days from the TPR petition to adoption
TOL = 1e-5  # the TPR day is found by bisection to 1e-6


def seq(*us: float) -> UniformSeq:
    """A family's uniforms: the given ones first, then its own stream."""
    return UniformSeq(np.array(us, dtype=float), CountyDraws(0, 0, 0, 0, 1), "test", 0)


NO_KIN = Paths(None, 1.0, 0.0, math.nan)
"""No START case, no kin arrangements, no removal on re-reports: the ASFA clocks alone."""


def kin() -> UniformSeq:
    """The kin stream: never read to any effect with NO_KIN."""
    return seq(0.5)


def u_for(delay_days: float, rate_per_year: float) -> float:
    """The uniform whose unit-exponential budget is spent after ``delay_days`` at a constant rate."""
    return math.exp(-rate_per_year / Y * delay_days)


def placement(**kw) -> Placement:
    """Foster placements only, no kin arrangements, no exits except adoption, fixed adoption delay; overrides in ``kw``."""
    base = dict(
        type_shares={"relative": 0.0, "foster": 1.0, "residential": 0.0},
        kin_arrangement_ratio=0.0,
        reunification_rate_in_recovery=0.0,
        reunification_rate_not_in_recovery=0.0,
        guardianship_rate_after_hearing=0.0,
        adoption_days_after_tpr={"dist": "fixed", "value": ADOPT},
    )
    base.update(kw)
    return Placement(**base)


def prior(start: float, end: float) -> Episode:
    return Episode(start, end, "foster", REUNIFIED, math.inf)


def close(actual: float, expected: float, what: str, tol: float = TOL) -> None:
    assert abs(actual - expected) <= tol, f"{what}: got {actual:.6f}, expected {expected:.6f} (off by {actual - expected:+.6f})"


# -- TPR petition: 15 of the most recent 22 months ----------------------------------------

def test_first_entry_gets_petition_after_15_months_then_adoption():
    p = placement()
    close(tpr_day([], 100.0, p), 100.0 + 456.0, "TPR day of a first entry on day 100")
    # removed at investigation on day 100: no home draw; type, adoption, budget, exit type
    eps = placement_history(100.0, True, [100.0], [USING], NO_KIN, p, seq(0.5, 0.5, 0.5, 0.5), kin(), END)
    assert len(eps) == 1, f"expected one spell in care, got {len(eps)}: {eps}"
    ep = eps[0]
    close(ep.start, 100.0, "entry day")
    close(ep.tpr_day, 556.0, "TPR petition day of the spell")
    assert ep.exit == ADOPTION, f"exit after the petition should be adoption, got {ep.exit}"
    close(ep.end, 556.0 + ADOPT, "adoption day (petition + fixed delay)")


@pytest.mark.parametrize(
    "prior_start, prior_end, entry, expected",
    [
        # whole prior spell inside the window at the petition: earlier by its length
        (700.0, 800.0, 1000.0, 1000.0 + 456.0 - 100.0),
        (600.0, 900.0, 1000.0, 1000.0 + 456.0 - 300.0),
        # gap of exactly 213 days (= 669 - 456): the prior spell just fits
        (687.0, 787.0, 1000.0, 1000.0 + 456.0 - 100.0),
        # prior care older than 22 months does not count
        (100.0, 200.0, 1000.0, 1000.0 + 456.0),
        # gap over 213 days: the prior spell slides out of the window before 15 months are
        # reached, so it does not bring the petition forward at all
        (200.0, 500.0, 1000.0, 1000.0 + 456.0),
        (600.0, 780.0, 1000.0, 1000.0 + 456.0),
        # 15 months already in the window at entry: petition at once
        (0.0, 800.0, 1000.0, 1000.0),
    ],
)
def test_prior_care_in_window_brings_petition_forward(prior_start, prior_end, entry, expected):
    got = tpr_day([prior(prior_start, prior_end)], entry, placement())
    close(got, expected, f"TPR day with prior care [{prior_start}, {prior_end}] and entry {entry}")


def test_scripted_reentry_petition_counts_prior_spell():
    """A whole history: placed, reunified, re-placed; the second petition counts the first spell."""
    r_home, r_reun = 0.4, 1.0
    p = placement(rate_using=r_home, reunification_rate_not_in_recovery=r_reun,
                  tpr_days_in_care=456.0, permanency_hearing_days=365.0)
    tiny = 1e-200  # an exit budget of ~460: no reunification within the run
    us = seq(
        u_for(300.0, r_home), 0.5, 0.5, u_for(100.0, r_reun), 0.5,  # home 0-300, care 300-400, reunified
        u_for(200.0, r_home), 0.5, 0.5, tiny, 0.5,  # home 400-600, care from 600
    )
    eps = placement_history(0.0, False, [0.0], [USING], NO_KIN, p, us, kin(), END)
    assert [e.exit for e in eps] == [REUNIFIED, ADOPTION], f"exits: {[e.exit for e in eps]}"
    close(eps[0].start, 300.0, "first entry", 1e-6)
    close(eps[0].end, 400.0, "first reunification", 1e-6)
    close(eps[1].start, 600.0, "re-entry", 1e-6)
    close(eps[1].tpr_day, 600.0 + 456.0 - 100.0, "petition in the second spell (100 prior days in window)")
    close(eps[1].end, eps[1].tpr_day + ADOPT, "adoption day")


def test_scripted_reentry_after_old_spell_petition_not_brought_forward():
    r_home, r_reun = 0.4, 1.0
    p = placement(rate_using=r_home, reunification_rate_not_in_recovery=r_reun)
    us = seq(
        u_for(50.0, r_home), 0.5, 0.5, u_for(100.0, r_reun), 0.5,  # care 50-150
        u_for(850.0, r_home), 0.5, 0.5, 1e-200, 0.5,  # re-entry at 1000
    )
    eps = placement_history(0.0, False, [0.0], [USING], NO_KIN, p, us, kin(), END)
    close(eps[1].start, 1000.0, "re-entry", 1e-6)
    close(eps[1].tpr_day, 1456.0, "petition when the prior spell is older than 22 months")


@settings(max_examples=60, deadline=None)
@given(
    spells=st.lists(st.tuples(st.floats(1.0, 400.0), st.floats(1.0, 400.0)), min_size=0, max_size=4),
    last_gap=st.floats(1.0, 900.0),
)
def test_tpr_day_meets_clock_first(spells, last_gap):
    """At the petition day the window holds 15 months of care, and a day earlier it did not
    (unless the petition is due at entry); checked against a brute-force day count."""
    p = placement()
    t, prior_eps = 0.0, []
    for gap, length in spells:
        prior_eps.append(prior(t + gap, t + gap + length))
        t += gap + length
    entry = t + last_gap
    T = tpr_day(prior_eps, entry, p)
    assert entry - TOL <= T <= entry + 456.0 + TOL, f"petition {T:.3f} outside [entry, entry + 456] (entry {entry:.3f})"

    per_day = 64

    def brute(day: float) -> float:  # care days in (day - 669, day] on a fine grid
        grid = np.linspace(day - 669.0, day, 669 * per_day + 1)[1:]
        in_care = (grid > entry) & (grid <= day)
        for ep in prior_eps:
            in_care |= (grid > ep.start) & (grid <= ep.end)
        return in_care.sum() / per_day

    at = care_days_in_window(prior_eps, entry, T, 669.0)
    assert at >= 456.0 - 1e-4, f"care days in the window at the petition: {at:.4f} < 456"
    grid_error = (2 * len(prior_eps) + 4) / per_day  # one grid step per interval edge
    assert abs(brute(T) - at) <= grid_error, f"care_days_in_window {at:.3f} vs brute-force count {brute(T):.3f}"
    if T > entry + 0.01:
        before = care_days_in_window(prior_eps, entry, T - 0.01, 669.0)
        assert before < 456.0, f"clock already met 0.01 day before the petition: {before:.4f} care days"


# -- exemption of relative placements ----------------------------------------------------------

def test_exempted_relative_placement_never_gets_petition():
    p = placement(type_shares={"relative": 1.0, "foster": 0.0, "residential": 0.0}, tpr_exception_relative=1.0)
    # type, exemption, exit budget, exit type (no adoption draw without a petition)
    eps = placement_history(100.0, True, [100.0], [USING], NO_KIN, p, seq(0.5, 0.999, 0.5, 0.5), kin(), END)
    assert len(eps) == 1 and eps[0].tpr_day == math.inf, f"exempted relative spell got a petition: {eps}"
    assert eps[0].exit == IN_CARE and eps[0].end == END, f"expected in care to the end of the run, got {eps[0]}"
    # not exempted: the same spell gets its petition and ends in adoption
    q = placement(type_shares={"relative": 1.0, "foster": 0.0, "residential": 0.0}, tpr_exception_relative=0.0)
    eps = placement_history(100.0, True, [100.0], [USING], NO_KIN, q, seq(0.5, 0.5, 0.5, 0.5, 0.5), kin(), END)
    close(eps[0].tpr_day, 556.0, "TPR day of a relative placement that is not exempted")
    assert eps[0].exit == ADOPTION, f"non-exempted relative spell exit: {eps[0].exit}"


def test_exemption_share_matches_parameter():
    share = 0.7
    p = placement(type_shares={"relative": 1.0, "foster": 0.0, "residential": 0.0}, tpr_exception_relative=share)
    rng = np.random.default_rng(5)
    n = 4000
    exempt = sum(
        placement_history(0.0, True, [0.0], [USING], NO_KIN, p, seq(*rng.random(8)), kin(), END)[0].tpr_day == math.inf
        for _ in range(n)
    )
    se = math.sqrt(share * (1 - share) / n)
    assert abs(exempt / n - share) < 4 * se, f"exempted share {exempt / n:.4f} vs tpr_exception_relative {share} (4 SE = {4 * se:.4f})"


# -- permanency hearing -----------------------------------------------------------------------

@pytest.mark.parametrize("recovered", [False, True])
def test_hearing_slows_reunification_only_if_parent_not_in_recovery(recovered):
    r, mult, hearing = 0.5, 0.25, 365.0
    p = placement(
        reunification_rate_not_in_recovery=r, reunification_rate_in_recovery=r,
        reunification_multiplier_after_hearing=mult, permanency_hearing_days=hearing,
        tpr_days_in_care=5000.0, tpr_window_days=5000.0,  # no petition in the way
    )
    before_hearing = r / Y * hearing
    budget = before_hearing + 0.1  # spent 0.1 after the hearing
    state = EARLY if recovered else USING
    eps = placement_history(100.0, True, [0.0], [state], NO_KIN, p, seq(0.5, 0.5, math.exp(-budget), 0.5), kin(), END)
    rate_after = r * (1.0 if recovered else mult) / Y
    expected = 100.0 + hearing + 0.1 / rate_after
    assert eps[0].exit == REUNIFIED, f"expected reunification, got {eps[0].exit}"
    close(eps[0].end, expected, f"reunification day (parent {'in' if recovered else 'not in'} recovery)", 1e-6)


def test_hearing_opens_guardianship_for_relatives():
    g, hearing = 0.5, 365.0
    p = placement(
        type_shares={"relative": 1.0, "foster": 0.0, "residential": 0.0}, tpr_exception_relative=1.0,
        guardianship_rate_after_hearing=g, permanency_hearing_days=hearing,
    )
    eps = placement_history(100.0, True, [0.0], [USING], NO_KIN, p, seq(0.5, 0.5, math.exp(-0.2), 0.5), kin(), END)
    assert eps[0].exit == GUARDIANSHIP, f"expected guardianship, got {eps[0].exit}"
    close(eps[0].end, 100.0 + hearing + 0.2 / (g / Y), "guardianship day (none before the hearing)", 1e-6)


# -- after the petition: adoption, not reunification -----------------------------------------

def test_no_reunification_after_petition():
    p = placement(reunification_rate_in_recovery=1e6)  # reunified at once if the parent recovers in time
    # parent recovers 50 days after the petition (day 556): too late
    eps = placement_history(100.0, True, [0.0, 606.0], [USING, EARLY], NO_KIN, p, seq(0.5, 0.5, 0.5, 0.5), kin(), END)
    assert len(eps) == 1 and eps[0].exit == ADOPTION, f"after the petition the exit must be adoption: {eps}"
    close(eps[0].end, 556.0 + ADOPT, "adoption day")
    # the same family with the parent recovering before the petition is reunified
    eps = placement_history(100.0, True, [0.0, 500.0], [USING, EARLY], NO_KIN, p, seq(0.5, 0.5, 0.5, 0.5), kin(), END)
    assert eps[0].exit == REUNIFIED and eps[0].end < 556.0, f"recovery before the petition should reunify: {eps[0]}"
    close(eps[0].end, 500.0, "reunification just after recovery", 1e-3)


def test_adoption_after_end_of_run_is_still_in_care():
    p = placement()
    eps = placement_history(100.0, True, [0.0], [USING], NO_KIN, p, seq(0.5, 0.5, 0.5, 0.5), kin(), 600.0)
    assert eps[0].exit == IN_CARE and eps[0].end == 600.0, f"expected still in care at the end of the run: {eps[0]}"
