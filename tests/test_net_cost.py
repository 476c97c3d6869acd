"""The net programme cost (decision 0019): usual-services casework priced alike in both runs,
the credit START earns by replacing it, and the ratios and savings built on the net cost."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import start_sim as ss
from start_sim.analyses.bca import Ledger, bca, ledger
from start_sim.experiments.runner import run


def _scenario(**county) -> ss.Scenario:
    return ss.Scenario(name="net", horizon_years=1.5, runout_years=1.5,
                       counties=[{"name": "A", "referrals_per_year": 60, "dyads": 4, "initial_caseload": 12, **county}])


@pytest.fixture(scope="module")
def base() -> ss.Scenario:
    return _scenario()


@pytest.fixture(scope="module")
def results(base):
    return run(base, replications=2, seed=4)


def test_credit_is_zero_when_start_serves_nobody():
    """Zero dyads, or a launch after the horizon: both runs give every family the same usual case."""
    for sc in (_scenario(dyads=0, initial_caseload=0), _scenario(launch_day=2 * 365.25, initial_caseload=0)):
        k = run(sc, replications=1, seed=4).kpis.iloc[0]
        assert k["families_started"] == 0 and k["program_cost"] == 0
        assert k["usual_casework_cost_usual"] > 0, "the usual run's families have usual cases"
        assert k["usual_casework_credit"] == 0.0
        assert k["net_program_cost"] == 0.0 and k["net_savings"] == 0.0


def test_net_equals_gross_when_usual_casework_costs_nothing(base):
    free = base.with_changes({"costs.usual_caseworker_per_fte_year": 0.0})
    k = run(free, replications=1, seed=4).kpis.iloc[0]
    assert k["usual_casework_credit"] == 0.0
    assert k["net_program_cost"] == k["program_cost"]
    assert k["savings_per_dollar"] == pytest.approx(k["savings_per_dollar_gross"], rel=1e-12)


def test_credit_is_positive_and_net_below_gross(results):
    k = results.kpis
    assert (k["usual_casework_credit"] > 0).all(), "START families leave the usual caseload"
    assert (k["net_program_cost"] < k["program_cost"]).all()
    assert (k["savings_per_dollar"] > k["savings_per_dollar_gross"]).all()


def test_a_scenario_compared_with_itself_gives_zero_net_savings(base):
    """The usual-services run priced against itself (its spells in both arms, no programme):
    every cost item cancels, and net savings are zero."""
    b = bca(_mirror(ledger(base, 4, 0)))
    assert b["pv_usual_casework_credit"] == 0.0 and b["pv_placement_cost_avoided"] == 0.0
    assert b["pv_net_program_cost"] == 0.0 and b["net_savings"] == 0.0


def _mirror(led: Ledger) -> Ledger:
    """``led`` with the usual run's spells in both arms and no START staff."""
    changes: dict = {"posts": []}
    for f in dataclasses.fields(led):
        item = f.name.split("_")[0]
        if item in ("ep", "cw", "sub", "tx") and f.name != f"{item}_arm":
            usual = getattr(led, f.name)[getattr(led, f"{item}_arm") == 1]
            changes[f.name] = np.concatenate([usual, usual])
    for item in ("ep", "cw", "sub", "tx"):
        n = int((getattr(led, f"{item}_arm") == 1).sum())
        changes[f"{item}_arm"] = np.repeat([0, 1], n)
    return dataclasses.replace(led, **changes)


def test_cumulative_cost_series_end_at_the_kpis(results):
    ts, k = results.timeseries, results.kpis
    last = ts[ts["month"] == ts["month"].max()].groupby("replication").sum(numeric_only=True)
    for arm in ("start", "usual"):
        for series, kpi in (("subsidy_cost_cum", "subsidy_cost"), ("usual_casework_cost_cum", "usual_casework_cost"),
                            ("placement_cost_cum", "placement_cost")):
            got = last[f"{series}_{arm}"].to_numpy(dtype=float)
            want = k.set_index("replication")[f"{kpi}_{arm}"].to_numpy(dtype=float)
            assert np.allclose(got, want, rtol=1e-9), f"{series}_{arm} ends at {got}, KPI {want}"


def test_budget_columns_add_up(results):
    b = results.budget
    for arm in ("start", "usual"):
        assert np.allclose(b[f"placement_{arm}"], b[f"maintenance_{arm}"] + b[f"care_casework_{arm}"])
    assert np.allclose(b["casework_credit"], b["usual_casework_usual"] - b["usual_casework_start"])
    undiscounted = run(_scenario().with_changes({"costs.discount_rate_per_year": 0.0}), replications=1, seed=4)
    k, by = undiscounted.kpis.iloc[0], undiscounted.budget
    for arm in ("start", "usual"):
        assert by[f"usual_casework_{arm}"].sum() == pytest.approx(k[f"usual_casework_cost_{arm}"], rel=1e-9)
        assert by[f"subsidy_{arm}"].sum() == pytest.approx(k[f"subsidy_cost_{arm}"], rel=1e-9, abs=1e-9)


def test_in_care_casework_while_a_case_is_open_is_one_rule_for_both_arms(base):
    """The share applies to days the family's own worker has its case open, in either arm: in
    the START run (dyad or usual worker) and in the usual run (usual worker) alike."""
    led = ledger(base, 4, 0)
    none, full = (bca(led, base.costs.model_copy(update={"in_care_casework_share_while_case_open": s})) for s in (0.0, 1.0))
    for arm in ("start", "usual"):
        assert none[f"pv_placement_cost_{arm}"] < full[f"pv_placement_cost_{arm}"], arm
    assert led.ep_worked[led.ep_arm == 0].any() and led.ep_worked[led.ep_arm == 1].any()
    assert not led.ep_worked.all(), "days in care after the family's case closed are charged in full"


def _swapped(led: Ledger, item: str) -> Ledger:
    """``led`` with one item's spells in the other arm."""
    return dataclasses.replace(led, **{f"{item}_arm": 1 - getattr(led, f"{item}_arm")})


@pytest.mark.parametrize("item, price", [("ep", "placement_per_child_day.foster"), ("ep", "casework_per_child_month_in_care"),
                                         ("cw", "usual_caseworker_per_fte_year"),
                                         ("sub", "adoption_subsidy_per_child_day")])
@pytest.mark.parametrize("seed", [4, 11])
def test_both_arms_are_priced_alike(item, price, seed):
    """Property: swapping which arm a cost item applies to changes the sign of its contribution
    to net savings, not its size (its contribution: net savings with the item priced minus with
    it free)."""
    from start_sim.analyses.uncertainty import with_costs

    long = _scenario().model_copy(update={"runout_years": 4.0})  # long enough for adoptions
    led = ledger(long, seed, 0)
    c = long.costs
    free = with_costs(c, {price: 0.0})

    def contribution(x: Ledger) -> float:
        return bca(x, c)["net_savings"] - bca(x, free)["net_savings"]

    here, swapped = contribution(led), contribution(_swapped(led, item))
    assert not math.isclose(here, 0.0, abs_tol=1e-9), "the item should cost something"
    assert swapped == pytest.approx(-here, rel=1e-9, abs=1e-6)
