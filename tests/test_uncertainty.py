"""Benefit-cost ledger, PSA, tornado, Morris and the $2.22 table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses.bca import Options, bca, ledger, reproduce_ratio
from start_sim.analyses.uncertainty import cost_distributions, distribution, morris, psa, tornado, with_costs
from start_sim.outputs.uncertainty_report import tornado_figure


@pytest.fixture
def quick() -> ss.Scenario:
    return ss.Scenario(name="quick", horizon_years=1.5, runout_years=1.5,
                       counties=[{"name": "A", "referrals_per_year": 60, "dyads": 5, "initial_caseload": 20}])


def test_ledger_prices_exactly_like_the_run(quick):
    k = ss.run(quick, 1, 3).kpis.iloc[0]
    b = bca(ledger(quick, 3, 0))
    assert b["pv_placement_cost_start"] == pytest.approx(k["placement_cost_start"], rel=1e-9)
    assert b["pv_placement_cost_usual"] == pytest.approx(k["placement_cost_usual"], rel=1e-9)
    assert b["pv_program_cost"] == pytest.approx(k["program_cost"], rel=1e-9)
    for key, kpi in (("pv_subsidy_cost_start", "subsidy_cost_start"), ("pv_subsidy_cost_usual", "subsidy_cost_usual"),
                     ("pv_usual_casework_start", "usual_casework_cost_start"),
                     ("pv_usual_casework_usual", "usual_casework_cost_usual"),
                     ("pv_usual_casework_credit", "usual_casework_credit"), ("pv_net_program_cost", "net_program_cost"),
                     ("pv_placement_cost_avoided", "savings_vs_usual"), ("savings_per_dollar", "savings_per_dollar"),
                     ("savings_per_dollar_gross", "savings_per_dollar_gross")):
        assert b[key] == pytest.approx(k[kpi], rel=1e-9, abs=1e-6), key
    assert b["net_savings"] == pytest.approx(k["net_savings"], rel=1e-9, abs=1e-6)
    state = bca(ledger(quick, 3, 0), options=Options(perspective="state"))
    extra = k["treatment_cost_start"] - k["treatment_cost_usual"]
    assert state["pv_extra_treatment_cost"] == pytest.approx(extra, rel=1e-9, abs=1e-6)
    assert state["net_savings"] == pytest.approx(b["net_savings"] - extra, rel=1e-9, abs=1e-6)


def test_ledger_prices_staff_as_the_run_does_with_turnover_and_part_time_mentors(quick):
    sc = quick.with_changes({"workforce": {"caseworker_turnover_per_year": 0.8, "mentor_fte": 0.5},
                             "counties.0.hiring": [{"day": 200, "caseworkers": 1, "mentors": 1}]})
    k = ss.run(sc, 1, 3).kpis.iloc[0]
    assert bca(ledger(sc, 3, 0))["pv_program_cost"] == pytest.approx(k["program_cost"], rel=1e-12)


def test_psa_with_zero_width_distributions_reproduces_the_point_result(quick):
    d = psa(quick, None, 3, seed=5, cost_sd_scale=0.0)
    k = ss.run(quick, 3, 5).kpis
    assert np.allclose(d["net_savings"], k["net_savings"], rtol=1e-9)
    assert np.allclose(d["savings_per_dollar"], k["savings_per_dollar"], rtol=1e-9)


def test_psa_over_a_one_row_posterior_equals_the_changed_scenario(quick):
    post = pd.DataFrame({"placement.rate_using": [0.6]})
    d = psa(quick, post, 2, seed=5, cost_sd_scale=0.0)
    k = ss.run(quick.with_changes({"placement.rate_using": 0.6}), 2, 5).kpis
    assert np.allclose(d["net_savings"], k["net_savings"], rtol=1e-9)


def test_cost_distributions_have_the_mean_and_sd_asked_for():
    for fam, m, s in (("gamma", 22.7, 5.0), ("beta", 0.2, 0.05)):
        d = distribution(fam, m, s)
        assert d.mean() == pytest.approx(m) and d.std() == pytest.approx(s)
    assert distribution("gamma", 10, 0) is None


def test_horizon_and_discounting_options(quick):
    led = ledger(quick, 3, 0)
    full = bca(led, options=Options(discount_rate=0.0))
    one = bca(led, options=Options(discount_rate=0.0, horizon_years=1.0))
    assert one["pv_placement_cost_usual"] < full["pv_placement_cost_usual"]
    assert bca(led, options=Options(discount_rate=0.07))["pv_program_cost"] < full["pv_program_cost"]
    with pytest.raises(ValueError):
        bca(led, options=Options(horizon_years=5))


def test_break_even_and_the_2_22_table(quick):
    led = ledger(quick, 3, 0)
    table = reproduce_ratio([led], horizons=(1.0, 1.5), program_scales=(1.0,))
    for r in table.itertuples():
        c = with_costs(quick.costs, {"casework_per_child_month_in_care": r.casework_per_child_month_for_target})
        b = bca(led, c, Options(horizon_years=r.horizon_years))
        assert b["savings_per_dollar"] == pytest.approx(2.22, rel=1e-6)
        c = with_costs(quick.costs, {"casework_per_child_month_in_care": r.casework_per_child_month_for_target_gross})
        assert bca(led, c, Options(horizon_years=r.horizon_years))["savings_per_dollar_gross"] == pytest.approx(2.22, rel=1e-6)
    b = bca(led)
    if b["pv_placement_cost_avoided"] > 0:
        scaled = b["break_even_reduction_pp"] / b["placement_reduction_pp"]
        assert scaled == pytest.approx(b["pv_cost"] / b["pv_placement_cost_avoided"])


def test_tornado_is_sorted_widest_first_and_morris_ranks_inputs(quick, tmp_path):
    post = pd.DataFrame({"placement.rate_using": [0.3, 0.4, 0.5], "start.safety_planning_casework_multiplier":
                         [0.5, 0.6, 0.7]})
    tor, point, base = tornado(quick, post, seed=2, replications=1)
    assert list(tor["width"]) == sorted(tor["width"], reverse=True)
    assert {"placement.rate_using", "costs.casework_per_child_month_in_care", "discount rate"} <= set(tor["input"])
    assert point["net_savings"] == pytest.approx(bca(base[0])["net_savings"])
    tornado_figure(tor, point["net_savings"], tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 1000
    m = morris(quick, post, seed=2, trajectories=2)
    assert len(m) == len(tor) - 1 and (m["mu_star"] >= 0).all(), "Morris has the inputs, not the discount-rate option"


def test_cli_uncertainty(tmp_path):
    from start_sim.cli import main

    sc = tmp_path / "q.toml"
    sc.write_text('name = "q"\nhorizon_years = 1\nrunout_years = 1\n[[counties]]\nname = "A"\n'
                  'referrals_per_year = 40\ndyads = 3\n')
    out = tmp_path / "u"
    assert main(["uncertainty", str(sc), "--draws", "3", "--morris-trajectories", "0", "--tornado-replications", "1",
                 "--out", str(out)]) == 0
    for f in ("psa.csv", "psa_by_year.csv", "tornado.csv", "tornado.png", "report.html", "ratio_2_22.csv"):
        assert (out / f).exists()
    by = pd.read_csv(out / "psa_by_year.csv")
    assert list(by["year"].unique()) == [1, 2] and set(by["perspective"]) == {"agency", "state"}
    assert by["p_paid_for_itself"].between(0, 1).all()
    last = by[(by["perspective"] == "agency") & (by["year"] == 2)].iloc[0]
    psa_rows = pd.read_csv(out / "psa.csv")
    assert last["cumulative_mean"] == pytest.approx(psa_rows["net_savings"].mean(), rel=1e-9)
    assert "Chance START has paid for itself, by year" in (out / "report.html").read_text()
    assert main(["uncertainty", str(sc), "--horizon-years", "3", "--out", str(out)]) == 2


def test_treatment_prices_incl_ongoing_moud_are_drawn_for_the_state_perspective_only():
    c = ss.Scenario(name="c", counties=[{"name": "A", "referrals_per_year": 10, "dyads": 1}]).costs
    state, agency = cost_distributions(c, perspective="state"), cost_distributions(c, perspective="agency")
    treatment = {"treatment_per_episode.outpatient", "treatment_per_episode.residential", "treatment_per_episode.moud",
                 "moud_per_day"}
    assert treatment <= set(state) and not treatment & set(agency)
    assert set(state) - set(agency) == treatment


def test_ongoing_moud_days_move_the_state_view_by_their_price():
    """With MOUD as ongoing medication the daily price is a real input: the state perspective's tornado
    gives it a width (before, it was not drawn at all)."""
    sc = ss.Scenario(name="moud", horizon_years=1.5, runout_years=1.5, treatment={"moud_mode": "ongoing"},
                     families={"substance_shares": {"opioids": 1.0, "methamphetamine": 0.0, "alcohol": 0.0,
                                                    "other": 0.0}},
                     counties=[{"name": "A", "referrals_per_year": 60, "dyads": 5}])
    tor, _, _ = tornado(sc, None, seed=2, replications=1, options=Options(perspective="state"))
    assert tor.set_index("input").loc["costs.moud_per_day", "width"] > 0
