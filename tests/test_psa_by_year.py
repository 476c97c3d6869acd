"""Net savings by programme year over the PSA draws (analyses.by_year)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses import by_year
from start_sim.analyses.bca import PERSPECTIVES, Options, bca, ledger
from start_sim.analyses.uncertainty import psa_draws
from start_sim.core.timebase import DAYS_PER_YEAR


@pytest.fixture(scope="module")
def quick() -> ss.Scenario:
    return ss.Scenario(name="quick", horizon_years=1.5, runout_years=1.5,
                       counties=[{"name": "A", "referrals_per_year": 60, "dyads": 5, "initial_caseload": 20}])


@pytest.fixture(scope="module")
def led(quick):
    return ledger(quick, 3, 0)


def _last(rows: list[dict], perspective: str) -> float:
    return [r["cumulative_net_savings"] for r in rows if r["perspective"] == perspective][-1]


@pytest.mark.parametrize("perspective", PERSPECTIVES)
def test_cumulative_net_at_the_last_year_is_the_whole_horizon_net(led, perspective):
    opt = Options(perspective=perspective)
    rows = by_year.cumulative_net(led, None, opt)
    assert {r["year"] for r in rows} == {1, 2, 3}
    assert _last(rows, perspective) == pytest.approx(bca(led, None, opt)["net_savings"], rel=1e-9, abs=1e-6)


def test_each_years_net_sums_to_the_whole_horizon_net_per_draw(quick):
    d, years = psa_draws(quick, None, 3, seed=5)
    s = years.sort_values(["perspective", "draw", "year"])
    agency = s[s["perspective"] == "agency"].groupby("draw")["cumulative_net_savings"]
    yearly = agency.diff().fillna(s.loc[s["perspective"] == "agency", "cumulative_net_savings"])
    per_draw = yearly.groupby(s.loc[s["perspective"] == "agency", "draw"]).sum()
    assert np.allclose(per_draw.to_numpy(), d["net_savings"].to_numpy(), rtol=1e-9)
    t = by_year.summary(years)
    last = t[(t["perspective"] == "agency") & (t["year"] == 3)].iloc[0]
    assert last["cumulative_mean"] == pytest.approx(d["net_savings"].mean(), rel=1e-9)
    assert last["p_paid_for_itself"] == pytest.approx((d["net_savings"] > 0).mean())
    agency_rows = t[t["perspective"] == "agency"]
    assert agency_rows["net_savings_mean"].sum() == pytest.approx(d["net_savings"].mean(), rel=1e-9)


def test_a_cut_ledger_prices_staff_to_the_cut(led):
    cut = by_year.until(led, 200.0)
    c = led.scenario.costs
    assert bca(cut)["pv_program_cost"] == pytest.approx(ss.outcomes.costs.staff_cost(c, led.posts, 200.0), rel=1e-12)
    assert (cut.ep_end <= 200.0).all() and (cut.tx_day < 200.0).all()


def test_zero_width_draws_give_p_zero_or_one_with_the_point_sign_each_year(led):
    point = by_year.cumulative_net(led)
    draws = pd.DataFrame([{"draw": i, **r} for i in range(4) for r in point])
    t = by_year.summary(draws)
    assert set(t["p_paid_for_itself"]) <= {0.0, 1.0}
    for r in point:
        row = t[(t["perspective"] == r["perspective"]) & (t["year"] == r["year"])].iloc[0]
        assert row["p_paid_for_itself"] == float(r["cumulative_net_savings"] > 0)
        assert row["cumulative_p2.5"] == pytest.approx(r["cumulative_net_savings"])


def _no_effect(sc: ss.Scenario) -> ss.Scenario:
    """Every START mechanism off (as in tests/test_outcomes.py): what START 'saves' is chance."""
    return sc.with_changes({"start.rapid_access": False, "start.mentor_support": False,
                            "start.safety_planning_casework_multiplier": 1.0,
                            "start.surveillance_report_multiplier": 1.0,
                            "treatment.uptake_start": sc.treatment.uptake_usual})


def test_a_start_with_no_effect_is_never_likelier_to_pay_for_itself_than_its_noise(quick):
    """Without effects, what START 'avoids' is chance; it pays for itself only where chance beats its
    net cost, so never more often than chance alone is positive."""
    sc = _no_effect(quick)
    n = 8
    _, years = psa_draws(sc, None, n, seed=2, cost_sd_scale=0.0)
    t = by_year.summary(years)
    t = t[t["perspective"] == "agency"].set_index("year")
    leds = [ledger(sc, 2, i) for i in range(n)]
    last = sc.programme_years
    for k in range(1, last + 1):
        cut = [bca(by_year.until(led, k * DAYS_PER_YEAR if k < last else np.inf)) for led in leds]
        noise = np.mean([b["pv_placement_cost_avoided"] > 0 for b in cut])
        assert all(b["pv_net_program_cost"] > 0 for b in cut)
        assert t.loc[k, "p_paid_for_itself"] == pytest.approx(np.mean([b["net_savings"] > 0 for b in cut]))
        assert t.loc[k, "p_paid_for_itself"] <= noise
        assert t.loc[k, "p_paid_for_itself"] <= 0.5


def test_the_fiscal_note_quotes_the_uncertainty_folders_chance_by_year(led, tmp_path):
    from start_sim.outputs.fiscal_table import psa_by_year_html

    assert psa_by_year_html(tmp_path) == ""
    draws = pd.DataFrame([{"draw": i, **r} for i in range(3) for r in by_year.cumulative_net(led)])
    by_year.summary(draws).to_csv(tmp_path / "psa_by_year.csv", index=False)
    html = psa_by_year_html(tmp_path)
    assert "P(paid for itself)" in html and html.count("<tr") >= 7
