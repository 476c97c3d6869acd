"""The fiscal note (outcomes.fiscal), the [funding] table and the per-payer perspectives."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses.bca import PERSPECTIVES, Options, bca, ledger
from start_sim.core.errors import ScenarioError
from start_sim.core.timebase import DAYS_PER_MONTH
from start_sim.outcomes import fiscal

KEYS = ["replication", "county", "year"]
NONE = {"funding.fmap": 0.0, "funding.ive_eligible_share": 0.0, "funding.prevention_federal_share": 0.0,
        "funding.admin_federal_share": 0.0, "funding.treatment_medicaid_share": 0.0}


@pytest.fixture(scope="module")
def scenario() -> ss.Scenario:
    """Two counties, one launching late, with Medicaid billing, state allocations, a grant and no escalation."""
    return ss.Scenario(
        name="fiscal", horizon_years=2, runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2},
                  {"name": "B", "referrals_per_year": 20, "dyads": 1, "launch_day": 200}],
        costs={"cost_escalation_per_year": 0.0},
        funding={"peer_support_billable_share": 0.3, "state_per_agency_per_year": 20_000,
                 "state_per_dyad_per_year": 30_000, "state_share_of_nonfederal": 0.25,
                 "grants": [{"year": 1, "payer": "opioid settlement", "amount": 50_000}]},
    )


@pytest.fixture(scope="module")
def results(scenario) -> ss.Results:
    return ss.run(scenario, 2, 7)


def rows_of(sc: ss.Scenario, res: ss.Results) -> pd.DataFrame:
    return fiscal.fiscal_rows(sc, res.budget, res.timeseries, res.families)


def test_payers_of_each_item_add_up_to_the_budget(scenario, results):
    """With escalation 0 the fiscal note's totals per item, county and year equal the budget's."""
    total = rows_of(scenario, results).groupby([*KEYS, "item"])["amount"].sum().unstack()
    b = results.budget.set_index(KEYS)
    expect = {"start_cost": b["staff"] + b["training"], "extra_treatment": b["treatment_start"] - b["treatment_usual"],
              "care_cost_avoided": b["placement_avoided"], "casework_credit": b["casework_credit"],
              "subsidy_avoided": b["subsidy_usual"] - b["subsidy_start"]}
    for item, values in expect.items():
        assert np.allclose(total[item].reindex(values.index), values, rtol=1e-9, atol=1e-6), item
    assert b["staff"].sum() > 0 and b["placement_avoided"].abs().sum() > 0


def test_every_payer_pays_something_and_the_grant_reduces_the_county(scenario, results):
    rows = rows_of(scenario, results)
    by = rows.groupby("payer")["amount"].sum()
    assert {"federal", "state", "county", "opioid settlement"} <= set(by.index)
    no_grant = rows_of(scenario.with_changes({"funding.grants": []}), results)
    county = rows[(rows.payer == "county") & (rows.item == "start_cost")].groupby("year")["amount"].sum()
    before = no_grant[(no_grant.payer == "county") & (no_grant.item == "start_cost")].groupby("year")["amount"].sum()
    n = results.replications
    assert before[1] - county[1] == pytest.approx(50_000 * n)
    assert county[2] == pytest.approx(before[2])


def test_with_no_federal_or_state_share_the_county_pays_everything(scenario, results):
    sc = scenario.with_changes({**NONE, "funding.peer_support_billable_share": 0.0, "funding.grants": [],
                                "funding.state_per_agency_per_year": 0.0, "funding.state_per_dyad_per_year": 0.0,
                                "funding.state_share_of_nonfederal": 0.0})
    rows = rows_of(sc, results)
    others = rows[(rows.payer != "county") & (rows.item != "extra_treatment")]
    assert others["amount"].abs().max() == 0.0
    # treatment has no county share: with no Medicaid it is the state's
    tx = rows[rows.item == "extra_treatment"]
    assert tx[tx.payer == "county"]["amount"].abs().sum() == 0.0


def test_a_twelve_month_limit_binds():
    """A candidate served 18 months is claimable for 12."""
    fam = pd.DataFrame({"replication": [0], "county": ["A"], "service": ["start"], "assigned_day": [0.0],
                        "closure_day_start": [18 * DAYS_PER_MONTH]})
    days = fiscal.prevention_days(fam, 12.0, 1000.0, 3).groupby("replication")[["served", "claimable"]].sum()
    assert days.loc[0, "served"] == pytest.approx(18 * DAYS_PER_MONTH)
    assert days.loc[0, "claimable"] == pytest.approx(12 * DAYS_PER_MONTH)
    f = ss.Scenario(name="x", counties=[{"name": "A", "referrals_per_year": 1, "dyads": 1}]).funding
    split = dict(((p, s), a) for p, s, a in fiscal.split_start_cost(f, 1800.0, 0.0, 12 / 18, 0.0))
    assert split[("federal", "IV-E prevention")] == pytest.approx(0.5 * 1800 * 12 / 18)
    assert split[("county", "residual")] == pytest.approx(1800 - 600)


def test_medicaid_pays_before_ive_and_the_state_allocation_is_capped():
    f = ss.Scenario(name="x", counties=[{"name": "A", "referrals_per_year": 1, "dyads": 1}],
                    funding={"peer_support_billable_share": 0.5, "peer_support_rate_per_hour": 10.0}).funding
    split = fiscal.split_start_cost(f, 100_000.0, 1.0, 1.0, 1e9)
    medicaid = 0.5 * 2080 * 10.0
    got = {(p, s): a for p, s, a in split}
    assert got[("federal", "Medicaid peer support")] + got[("state", "Medicaid peer support")] == pytest.approx(medicaid)
    assert got[("federal", "IV-E prevention")] == pytest.approx(0.5 * (100_000 - medicaid))
    assert got[("county", "residual")] == pytest.approx(0.0)
    assert sum(got.values()) == pytest.approx(100_000)


def test_escalation_grows_each_year(scenario, results):
    flat = rows_of(scenario, results).groupby("year")["amount"].sum()
    grown = rows_of(scenario.with_changes({"costs.cost_escalation_per_year": 0.1}), results).groupby("year")["amount"].sum()
    assert grown[1] == pytest.approx(flat[1])
    assert grown[3] == pytest.approx(flat[3] * 1.1 ** 2)


def test_the_perspectives_of_the_payers_add_up_to_the_whole(scenario):
    led = ledger(scenario.with_changes({"funding.grants": []}), 3, 0)
    net = {p: bca(led, options=Options(perspective=p))["net_savings"] for p in PERSPECTIVES}
    assert net["federal"] + net["state_funds"] + net["county"] == pytest.approx(net["state"], rel=1e-9, abs=1e-3)
    assert net["county"] != pytest.approx(net["state"])
    with pytest.raises(ValueError, match="perspective"):
        bca(led, options=Options(perspective="city"))


def test_uncertainty_cli_offers_every_perspective():
    import argparse

    from start_sim.cli import uncertainty

    p = argparse.ArgumentParser()
    uncertainty.add_arguments(p)
    action = next(a for a in p._actions if a.dest == "perspective")
    assert tuple(action.choices) == PERSPECTIVES


def test_run_folder_has_the_fiscal_note_and_the_report_its_table(scenario, results, tmp_path):
    out = ss.write_run(results, tmp_path / "run")
    note = pd.read_csv(out / "fiscal_note.csv")
    assert list(note.columns) == ["year", "county", "payer", "item", "stream", "amount"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Fiscal note: who pays and who saves" in html and "opioid settlement" in html
    assert not math.isnan(note["amount"].sum())


def test_funding_table_is_validated():
    base = {"name": "x", "counties": [{"name": "A", "referrals_per_year": 1, "dyads": 1}]}
    with pytest.raises((ScenarioError, ValueError), match="fmpa|extra"):
        ss.Scenario(**base, funding={"fmpa": 0.7})
    with pytest.raises((ScenarioError, ValueError)):
        ss.Scenario(**base, funding={"fmap": 1.2})
    with pytest.raises((ScenarioError, ValueError)):
        ss.Scenario(**base, funding={"grants": [{"year": 0, "payer": "x", "amount": 1}]})
