"""Sites that differ (decision 0036): county multipliers on the base rates and the random site
effect. Multipliers of 1 change nothing; each multiplier moves its own rate, in its own county,
in the expected direction on common random numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.sim.family import site_effect
from start_sim.sim.replication import simulate
from start_sim.sim.streams import NEW, CountyDraws

REPS = 4


def scenario(**county) -> ss.Scenario:
    return ss.Scenario(
        name="sites", horizon_years=2, runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 40, "dyads": 2},
                  {"name": "B", "referrals_per_year": 40, "dyads": 2, **county}],
    )


def county_kpis(sc: ss.Scenario, seed: int = 3) -> pd.DataFrame:
    return run(sc, replications=REPS, seed=seed, workers=1).county_kpis


def test_multipliers_of_one_and_no_site_effect_reproduce_the_results_exactly():
    ones = {"removal_multiplier": 1.0, "placement_multiplier": 1.0, "reunification_multiplier": 1.0,
            "treatment_access_multiplier": 1.0}
    a = run(scenario(), replications=2, seed=5, workers=1)
    b = run(scenario(**ones).with_changes({"sites.effect_sd": 0.0}), replications=2, seed=5, workers=1)
    pd.testing.assert_frame_equal(a.kpis, b.kpis, check_exact=True)
    pd.testing.assert_frame_equal(a.families, b.families, check_exact=True)


def _paired_up(base: pd.DataFrame, more: pd.DataFrame, key: str, county: str = "B") -> float:
    """Paired difference of a county's KPI (more - base) over replications, checked > 0 by 3 SE."""
    x = more[more["county"] == county][key].to_numpy(float) - base[base["county"] == county][key].to_numpy(float)
    assert x.mean() > 3 * x.std(ddof=1) / np.sqrt(len(x)), f"{key} in {county}: {x}"
    return float(x.mean())


def test_the_placement_multiplier_raises_placement_in_its_own_county_only():
    base, more = county_kpis(scenario()), county_kpis(scenario(placement_multiplier=2.0))
    for arm in ("start", "usual"):
        _paired_up(base, more, f"placement_rate_12m_{arm}")
    a0, a1 = base[base["county"] == "A"], more[more["county"] == "A"]
    pd.testing.assert_frame_equal(a0.reset_index(drop=True), a1.reset_index(drop=True), check_exact=True)


def test_the_reunification_multiplier_raises_reunification_of_placed_children():
    # more removals at investigation give more placed children to reunify
    sc = scenario(removal_multiplier=3.0)
    base, more = county_kpis(sc), county_kpis(sc.with_changes({"counties.1.reunification_multiplier": 2.5}))
    _paired_up(base, more, "reunification_rate_if_placed_usual")


def test_the_removal_multiplier_removes_a_superset_of_families_at_investigation():
    def removed(sc: ss.Scenario) -> set[tuple[int, int]]:
        return {(r.county, f.index) for r in simulate(sc, 2, 0) for f in r.families if f.removed_at_investigation}

    base, more = removed(scenario()), removed(scenario(removal_multiplier=2.0))
    assert base < more and all(c == 1 for c, _ in more - base)


def test_the_treatment_access_multiplier_raises_uptake_in_both_arms():
    def uptake(sc: ss.Scenario) -> set[tuple[str, int]]:
        return {(arm, c.family.index) for r in simulate(sc, 2, 0) if r.county == 1
                for arm, cases in (("start", r.start), ("usual", r.usual)) for c in cases if c.takes_up}

    base, more = uptake(scenario()), uptake(scenario(treatment_access_multiplier=1.4))
    assert base < more and {arm for arm, _ in more - base} == {"start", "usual"}


def test_the_site_effect_is_one_per_county_and_replication_with_the_given_log_spread():
    sc = scenario().with_changes({"sites.effect_sd": 0.4})
    z = np.log([site_effect(sc, CountyDraws(1, rep, 0, NEW, 0)) for rep in range(4000)])
    assert abs(z.mean()) < 4 * 0.4 / np.sqrt(len(z))
    assert z.std() == pytest.approx(0.4, rel=0.05)
    fams = simulate(sc, 1, 0)[1].families
    assert len({f.site_effect for f in fams}) == 1 and fams[0].site_effect != 1.0
    assert site_effect(scenario(), CountyDraws(1, 0, 0, NEW, 0)) == 1.0
