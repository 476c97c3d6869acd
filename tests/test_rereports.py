"""Re-reports with consequences (decision 0032): a re-report while the children are home opens an
investigation that removes them with a probability by the parent's state and arm."""

from __future__ import annotations

import math

import numpy as np
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.inputs.schema import FollowUp, Placement
from start_sim.outcomes.children import Paths, placement_history
from start_sim.outcomes.family_outcomes import family_outcome
from start_sim.outcomes.followup import removal_days, report_days
from start_sim.outcomes.resources import start_open
from start_sim.sim.recovery import EARLY, USING, untreated_recovery
from start_sim.sim.replication import simulate
from start_sim.sim.streams import CountyDraws, UniformSeq
from tests.test_outcomes import assert_positive


def _seq(row) -> UniformSeq:
    return UniformSeq(np.asarray(row, dtype=float), CountyDraws(0, 0, 0, 0, 1), "test", 0)


def test_removal_probability_by_state_and_arm():
    """Using: removal_after_report_using; in recovery: ..._in_recovery; while a START case is open,
    divided by the surveillance multiplier and multiplied by report_removal_multiplier."""
    fu = FollowUp(removal_after_report_using=0.6, removal_after_report_in_recovery=0.2)
    times, states = [0.0, 100.0], [USING, EARLY]
    open_ = (200.0, 300.0)
    reports = [50.0, 150.0, 250.0]  # using; recovery; recovery with START open
    expected = [0.6, 0.2, 0.2 * 1.5 / 3.0]
    rng = np.random.default_rng(1)
    n = 20_000
    hits = np.zeros(3)
    for _ in range(n):
        got = removal_days(reports, times, states, open_, 3.0, 1.5, fu, _seq(rng.random(3)))
        hits += [d in got for d in reports]
    for share, p in zip(hits / n, expected, strict=True):
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / n), f"removal share {share:.4f} vs {p:.4f}"


def test_a_removal_on_a_re_report_starts_a_spell_that_day_if_home():
    p = Placement(rate_using=0.0, rate_in_treatment=0.0, rate_in_recovery=0.0, kin_arrangement_ratio=1.0)
    paths = Paths(None, 1.0, 0.0, math.nan, removal_days=(40.0, 60.0))
    away = placement_history(0.0, False, [0.0], [USING], paths, p, _seq([0.5] * 12), _seq([0.01] * 6), 365.0)
    assert away and away[0].start == 40.0, f"no removal on the report day: {away}"
    assert away[0].kind != "kin_arrangement", "a removal on a re-report is a removal into care, not a kin arrangement"
    assert all(ep.start != 60.0 for ep in away), "a report while the children were away removed them again"


@pytest.fixture(scope="module")
def base() -> ss.Scenario:
    return ss.Scenario(
        name="rereports", horizon_years=3, runout_years=2,
        counties=[{"name": "A", "referrals_per_year": 80, "dyads": 12}],
        followup={"report_rate_using": 0.5, "report_rate_in_recovery": 0.2},
    )


def test_re_report_removals_raise_placement_in_both_arms(base):
    off = run(base.with_changes({"followup.removal_after_report_using": 0.0,
                                 "followup.removal_after_report_in_recovery": 0.0}), replications=6, seed=8).kpis
    on = run(base.with_changes({"followup.removal_after_report_using": 0.5,
                                "followup.removal_after_report_in_recovery": 0.2}), replications=6, seed=8).kpis
    for arm in ("start", "usual"):
        assert_positive(on[f"placement_rate_12m_{arm}"], off[f"placement_rate_12m_{arm}"],
                        f"{arm}: placed within 12 months, re-report removals on - off")
        assert_positive(on[f"placement_days_{arm}"], off[f"placement_days_{arm}"], f"{arm}: days in care, on - off")


def test_placements_follow_re_reports(base):
    """Placement and maltreatment are linked: with removals on, some spells begin on a report day."""
    sc = base.with_changes({"followup.removal_after_report_using": 0.5})
    linked = 0
    for runs in simulate(sc, seed=1, replication=0):
        for case in runs.start + runs.usual:
            o = family_outcome(sc, case)
            linked += sum(1 for ep in o.episodes if ep.start != case.family.referral_day and any(
                abs(ep.start - d) < 1e-9 for d in _reports(sc, case)))
    assert linked > 10, f"only {linked} spells begin on a re-report day"


def _reports(sc: ss.Scenario, case) -> list[float]:
    proc = case.recovery or untreated_recovery(sc, case.family, case.seqs["recovery"].fresh())
    times, states = proc.path(sc.end_days)
    return report_days(case.family.referral_day, times, states, start_open(sc, case),
                       sc.start.surveillance_report_multiplier, sc.followup, case.seqs["reports"].fresh(), sc.end_days)
