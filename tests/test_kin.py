"""Kin as a path (decision 0031): kin arrangements outside foster care and START's kin
preference, their theory on scripted parent paths, their direction on common random numbers,
and their price (no maintenance for an arrangement, licensed kin at the foster rate)."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.inputs.schema import Placement
from start_sim.outcomes import costs
from start_sim.outcomes.children import (
    IN_CARE,
    KIN_ARRANGEMENT,
    RELATIVE_CUSTODY,
    REUNIFIED,
    Paths,
    placement_history,
)
from start_sim.outcomes.family_outcomes import family_outcome
from start_sim.sim.case import Service
from start_sim.sim.recovery import USING
from start_sim.sim.replication import simulate
from start_sim.sim.streams import CountyDraws, UniformSeq
from tests.test_outcomes import assert_positive, paired

Y = 365.25
REPS = 6


def _seq(row) -> UniformSeq:
    return UniformSeq(np.asarray(row, dtype=float), CountyDraws(0, 0, 0, 0, 1), "test", 0)


@pytest.fixture(scope="module")
def base() -> ss.Scenario:
    """Ample dyads (nobody waits) and many placements."""
    return ss.Scenario(
        name="kin", horizon_years=3, runout_years=2,
        counties=[{"name": "A", "referrals_per_year": 80, "dyads": 12}],
        placement={"rate_using": 0.8, "rate_in_treatment": 0.4},
    )


_cache: dict[str, ss.Results] = {}


def results(sc: ss.Scenario, key: str) -> ss.Results:
    if key not in _cache:
        _cache[key] = run(sc, replications=REPS, seed=3)
    return _cache[key]


OFF = {"placement.kin_arrangement_ratio": 0.0, "start.kin_preference": 0.0}


@pytest.mark.parametrize("ratio", [0.0, 0.5, 2.0])
def test_departures_and_kin_share_match_theory(ratio):
    """Children leave home at the placement hazard x (1 + ratio); a share ratio / (1 + ratio)
    of departures is a kin arrangement; foster-care entry keeps the placement hazard."""
    p = Placement(rate_using=0.6, kin_arrangement_ratio=ratio)
    times, states = [0.0], [USING]
    paths = Paths(None, 1.0, 0.0, math.nan)
    rng = np.random.default_rng(11)
    n = 20_000
    left = kin = 0
    for _ in range(n):
        away = placement_history(0.0, False, times, states, paths, p, _seq(rng.random(12)), _seq(rng.random(6)), 365.0)
        if away:
            left += 1
            kin += away[0].kind == KIN_ARRANGEMENT
    expected = 1 - math.exp(-p.rate_using * (1 + ratio) * 365.0 / Y)
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(left / n - expected) < 4 * se, f"left home within a year {left / n:.4f} vs theory {expected:.4f}"
    share = ratio / (1 + ratio)
    se_k = math.sqrt(share * (1 - share) / left) if 0 < share < 1 else 0.0
    assert abs(kin / left - share) <= 4 * se_k + 1e-12, f"kin share {kin / left:.4f} vs {share:.4f}"


def test_kin_preference_moves_foster_to_kin_in_the_share_given():
    """While a START case is open a would-be foster placement goes to kin with probability
    kin_preference; relative and residential placements are untouched."""
    p = Placement(rate_using=3.0, kin_arrangement_ratio=0.0)
    pref = 0.4
    paths = Paths((0.0, 400.0), 1.0, pref, math.nan)
    rng = np.random.default_rng(5)
    kinds = {"relative": 0, "foster": 0, "residential": 0}
    n = 0
    for _ in range(20_000):
        away = placement_history(0.0, False, [0.0], [USING], paths, p, _seq(rng.random(12)), _seq(rng.random(6)), 365.0)
        if away:
            n += 1
            kinds[away[0].kind] += 1
    sh = p.type_shares
    expected = {"relative": sh.relative + pref * sh.foster, "foster": (1 - pref) * sh.foster, "residential": sh.residential}
    for kind, count in kinds.items():
        se = math.sqrt(expected[kind] * (1 - expected[kind]) / n)
        assert abs(count / n - expected[kind]) < 4 * se, f"{kind}: {count / n:.4f} vs {expected[kind]:.4f}"


def test_spells_away_from_home_never_overlap_and_kin_ends_at_closure(base):
    sc = base.with_changes({"placement.kin_arrangement_ratio": 1.0})
    end, n_kin, custody = sc.end_days, 0, 0
    for runs in simulate(sc, seed=2, replication=0):
        for case in runs.start + runs.usual:
            o = family_outcome(sc, case)
            away = sorted(o.episodes + o.kin_spells, key=lambda ep: ep.start)
            for a, b in pairwise(away):
                assert a.end <= b.start and a.exit == REUNIFIED, f"spells overlap or follow a final exit: {away}"
            for ep in o.kin_spells:
                n_kin += 1
                assert ep.tpr_day == math.inf, "a kin arrangement is not foster care: no TPR clock"
                if ep.exit == RELATIVE_CUSTODY:
                    custody += 1
                    assert ep.end == case.closure_day, f"relative custody on {ep.end}, closure {case.closure_day}"
                elif ep.exit == IN_CARE:
                    assert ep.end == end
    assert n_kin > 50 and custody > 5, f"too few kin arrangements ({n_kin}) or custodies ({custody}) to test"


def test_paths_off_relatives_come_only_from_relative_placements(base):
    """With kin arrangements and kin preference off, nobody is in a kin arrangement, every child
    with relatives at closure is in (or left to guardianship from) a relative placement, and
    relative placements are the relative type share of entries in both arms."""
    sc = base.with_changes(OFF)
    entries = {"start": [0, 0], "usual": [0, 0]}
    for rep in range(2):
        for runs in simulate(sc, seed=4, replication=rep):
            for arm, cases in (("start", runs.start), ("usual", runs.usual)):
                for case in cases:
                    o = family_outcome(sc, case)
                    assert not o.kin_spells and o.kin_days == 0
                    for ep in o.episodes:
                        entries[arm][0] += ep.kind == "relative"
                        entries[arm][1] += 1
                    if o.disposition_at_closure == "relatives":
                        assert any(ep.kind == "relative" and ep.start <= case.closure_day for ep in o.episodes)
    share = sc.placement.type_shares.relative
    for arm, (rel, n) in entries.items():
        se = math.sqrt(share * (1 - share) / n)
        assert abs(rel / n - share) < 4 * se, f"{arm}: relative share of entries {rel / n:.4f} vs {share}"


def test_kin_paths_raise_relatives_at_closure_and_start_more(base):
    """On common random numbers: kin arrangements raise relatives at closure in both arms, and
    START's kin preference raises them in START only."""
    off = results(base.with_changes(OFF), "off").kpis
    arr = results(base.with_changes({"start.kin_preference": 0.0}), "arrangements").kpis
    on = results(base, "on").kpis
    for arm in ("start", "usual"):
        assert_positive(arr[f"closure_with_relatives_rate_{arm}"], off[f"closure_with_relatives_rate_{arm}"],
                        f"{arm}: relatives at closure, kin arrangements on - off")
    assert_positive(on["closure_with_relatives_rate_start"], arr["closure_with_relatives_rate_start"],
                    "START: relatives at closure, kin preference 0.5 - 0")
    assert (on["closure_with_relatives_rate_usual"] == arr["closure_with_relatives_rate_usual"]).all(), (
        "START's kin preference changed the usual-services arm")
    m, se = paired(on["placement_rate_12m_start"], arr["placement_rate_12m_start"])
    assert m <= 3 * se, f"kin preference raised START's foster-care entries ({m:+.4f}, SE {se:.4f})"


def test_unpaid_kin_arrangement_costs_no_maintenance_and_licensed_kin_the_foster_rate(base):
    """Both arms: a family whose children were only ever in a kin arrangement costs no care and no
    subsidy; a relative placement is priced at the foster per diem."""
    sc = base.with_changes({"placement.kin_arrangement_ratio": 1.0})
    c = sc.costs
    assert costs.maintenance_per_child_day(c, "relative") == costs.maintenance_per_child_day(c, "foster")
    for worked in (True, False):
        assert costs.care_cost_per_child_day(c, "relative", worked) == costs.care_cost_per_child_day(c, "foster", worked)
    only_kin = {Service.START: 0, Service.USUAL: 0}
    for runs in simulate(sc, seed=6, replication=0):
        for case in runs.start + runs.usual:
            o = family_outcome(sc, case)
            if o.kin_spells and not o.episodes:
                only_kin[case.service] += 1
                assert o.placement_cost == 0.0 and o.subsidy_cost == 0.0 and not o.care, (
                    f"a kin arrangement was priced: care {o.placement_cost}, subsidy {o.subsidy_cost}")
            for sp in o.care:
                assert sp.kind != KIN_ARRANGEMENT
    assert all(n > 5 for n in only_kin.values()), f"too few kin-only families per arm: {only_kin}"
