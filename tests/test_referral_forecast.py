"""Referral forecast: the product of independent draws has the analytic mean and variance; a
replication's draw is deterministic, comes from its own stream and moves no other draw; bad
inputs are refused naming the field; ``start-sim referrals`` prints and writes the forecast.
Also the one TOML spelling of "no value", ``"none"``."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import start_sim as ss
from start_sim.cli import main as cli
from start_sim.core.errors import ScenarioError, ScenarioWarning
from start_sim.inputs.files import load_scenario
from start_sim.inputs.referral_forecast import DRAWS, FACTORS
from start_sim.sim.referrals import arrival_days, county_rate

FORECAST = {
    "cps_per_year": {"dist": "uniform", "low": 800, "high": 1200},
    "annual_trend": {"dist": "uniform", "low": 0.98, "high": 1.06},
    "under6_share": {"dist": "empirical", "values": [0.35, 0.45, 0.5], "weights": [1, 2, 1]},
    "substance_share": {"dist": "uniform", "low": 0.3, "high": 0.5},
    "acceptance_share": {"dist": "fixed", "value": 0.7},
}


def scenario(uncertainty: bool = True, **forecast: object) -> ss.Scenario:
    fc = {**FORECAST, "uncertainty": uncertainty, **forecast}
    return ss.Scenario(name="fc", horizon_years=3, counties=[
        {"name": "A", "dyads": 3, "referral_forecast": fc},
        {"name": "B", "dyads": 1, "referrals_per_year": 20},
    ])


def test_forecast_mean_and_variance_are_those_of_a_product_of_independent_factors():
    fc = scenario().counties[0].referral_forecast
    m = {"cps_per_year": 1000, "under6_share": (0.35 + 0.9 + 0.5) / 4, "substance_share": 0.4, "acceptance_share": 0.7}
    v = {"cps_per_year": 400**2 / 12, "under6_share": (0.35**2 + 2 * 0.45**2 + 0.5**2) / 4 - m["under6_share"] ** 2,
         "substance_share": 0.2**2 / 12, "acceptance_share": 0.0}
    mean = math.prod(m.values())
    var = math.prod(m[k] ** 2 + v[k] for k in FACTORS) - mean**2
    assert fc.mean_per_year == pytest.approx(mean, rel=1e-12)
    assert fc.variance_per_year == pytest.approx(var, rel=1e-9)
    # Monte Carlo through the same draw the replications use: 99.9% bounds on the sample mean and variance
    n = 200_000
    rate, growth = fc.draw(np.random.default_rng(5).random((n, DRAWS)))
    assert abs(rate.mean() - mean) < 3.3 * math.sqrt(var / n), f"sample mean {rate.mean():.3f} vs {mean:.3f}"
    assert rate.var() == pytest.approx(var, rel=0.03), f"sample variance {rate.var():.2f} vs {var:.2f}"
    assert growth.mean() == pytest.approx(0.02, abs=3.3 * 0.08 / math.sqrt(12 * n))
    # the mean run uses the mean rate and the mean trend
    c = scenario().counties[0]
    assert c.referrals_per_year == pytest.approx(mean) and c.referral_growth_per_year == pytest.approx(0.02)


def test_per_replication_rate_is_deterministic_and_from_its_own_stream():
    sc, fixed = scenario(True), scenario(False)
    c, cf = sc.counties[0], fixed.counties[0]
    draws = [county_rate(c, 0, 11, r) for r in range(40)]
    assert draws == [county_rate(c, 0, 11, r) for r in range(40)], "same seed and replication, another rate"
    assert len({d[0] for d in draws}) == 40, "the rate should differ between replications"
    assert county_rate(c, 0, 12, 0) != draws[0], "another seed, the same rate"
    assert all(county_rate(cf, 0, 11, r) == (cf.referrals_per_year, cf.referral_growth_per_year) for r in range(5))
    # the arrivals keep their own stream: at the mean rate the forecast county's arrivals are a
    # plain county's with the same rate and growth
    plain = ss.Scenario(name="p", horizon_years=3, counties=[
        {"name": "A", "dyads": 3, "referrals_per_year": cf.referrals_per_year,
         "referral_growth_per_year": cf.referral_growth_per_year}])
    assert np.array_equal(arrival_days(cf, 0, 1000.0, 11, 0), arrival_days(plain.counties[0], 0, 1000.0, 11, 0))
    # and the county without a forecast is untouched by its neighbour's draws
    assert np.array_equal(arrival_days(sc.counties[1], 1, 1000.0, 11, 0),
                          arrival_days(fixed.counties[1], 1, 1000.0, 11, 0))
    # with uncertainty, the arrivals' count follows the drawn rate
    ratio = [len(arrival_days(c, 0, 365.25, 11, r)) / county_rate(c, 0, 11, r)[0] for r in range(40)]
    assert 0.9 < float(np.mean(ratio)) < 1.1


@pytest.mark.parametrize(("change", "words"), [
    ({"under6_share": {"dist": "uniform", "low": 0.2, "high": 1.4}}, ["under6_share", "1.4", "0-1"]),
    ({"substance_share": {"dist": "lognormal", "mean": 0.4, "sd": 0.1}}, ["substance_share", "above 1"]),
    ({"annual_trend": {"dist": "uniform", "low": 0.0, "high": 1.1}}, ["annual_trend", "above 0"]),
    ({"counts": "calls"}, ["counts", "reports", "substantiations"]),
    ({"cps_per_yr": 5}, ["cps_per_yr", "cps_per_year"]),
])
def test_bad_forecast_inputs_are_refused_naming_field_and_allowed(change, words):
    with pytest.raises(ScenarioError) as err:
        scenario().with_changes({f"counties.0.referral_forecast.{k}": v for k, v in change.items()})
    text = str(err.value)
    assert "referral_forecast" in text and all(w in text for w in words), text


def test_forecast_and_referrals_per_year_together_is_an_error():
    with pytest.raises(ScenarioError, match="referrals_per_year and referral_forecast are both given"):
        scenario().with_changes({"counties.0.referrals_per_year": 40})
    with pytest.raises(ScenarioError, match="eligible_share"):
        scenario().with_changes({"counties.0.eligible_share": 0.5})


def test_referrals_command_prints_and_writes_the_forecast(tmp_path, capsys):
    path = tmp_path / "fc.toml"
    path.write_text('name = "fc"\nhorizon_years = 3\n[[counties]]\nname = "A"\ndyads = 3\n'
                    '[counties.referral_forecast]\ncps_per_year = {dist = "uniform", low = 800, high = 1200}\n'
                    '[[counties]]\nname = "B"\ndyads = 1\nreferrals_per_year = 20\n')
    out = tmp_path / "fc.csv"
    assert cli(["referrals", str(path), "--csv", str(out)]) == 0
    text = capsys.readouterr().out
    assert "eligible START referrals" in text and "80% range" in text and "as given" in text
    import pandas as pd

    t = pd.read_csv(out)
    assert list(t["year"][t["county"] == "A"]) == [1, 2, 3]
    a = t[t["county"] == "A"].iloc[0]
    assert a["p2_5"] < a["p10"] < a["median"] < a["p90"] < a["p97_5"]
    mean = load_scenario(path).counties[0].referrals_per_year
    assert a["mean"] == pytest.approx(mean, rel=0.02), "year 1's mean is the forecast's mean (no trend)"
    b = t[t["county"] == "B"]
    assert (b["p2_5"] == 20).all() and (b["p97_5"] == 20).all()


# -- "none" in TOML ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["program.max_wait_days", "treatment.max_wait_days", "counties.0.mentors"])
def test_none_in_quotes_is_accepted_by_every_no_value_field(key):
    sc = scenario().with_changes({key: "none"})
    node = sc
    for part in key.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    assert node is None


def test_none_in_a_file_and_a_wrong_word_refused(tmp_path):
    path = tmp_path / "n.toml"
    path.write_text('name = "n"\n[program]\nmax_wait_days = "none"\n[treatment]\nmax_wait_days = "None"\n'
                    '[[counties]]\nname = "A"\nreferrals_per_year = 10\ndyads = 1\n')
    sc = load_scenario(path)
    assert sc.program.max_wait_days is None and sc.treatment.max_wait_days is None
    path.write_text(path.read_text().replace('max_wait_days = "none"', 'max_wait_days = "unbounded"'))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    assert "n.toml" in text and "max_wait_days" in text and "'unbounded'" in text and '"none"' in text, text


def test_base_day_moves_each_replications_rate_by_its_own_trend():
    """The sizing warm-up moves a forecast later through base_day: on day W each replication's
    rate is its rate on day 0 before (the same draws, its own trend)."""
    from start_sim.inputs.referral_forecast import shifted

    sc = scenario()
    c = sc.counties[0]
    w = 3000.0
    moved = sc.with_changes({"counties.0.referral_forecast": shifted(c.referral_forecast, w)}).counties[0]
    for r in range(10):
        (rate, g), (rate_m, g_m) = county_rate(c, 0, 11, r), county_rate(moved, 0, 11, r)
        assert g_m == g
        assert rate_m * (1 + g) ** (w / 365.25) == pytest.approx(rate, rel=1e-12)
    assert moved.referrals_per_year * 1.02 ** (w / 365.25) == pytest.approx(c.referrals_per_year, rel=1e-12)


def test_declines_on_top_of_a_forecast_acceptance_share_warn_of_double_counting():
    with pytest.warns(ScenarioWarning, match="already leaves out the families who decline"):
        scenario().with_changes({"program.decline_probability": 0.1})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        scenario(acceptance_share={"dist": "fixed", "value": 1.0}).with_changes({"program.decline_probability": 0.1})


def test_a_word_field_that_may_be_empty_keeps_its_words():
    """``"none"`` empties an optional field; a field that takes words (a design's ``relative_to``)
    keeps any other word."""
    from start_sim.inputs.design import Factor

    lever = Factor(name="m", label="mentors", paths=["counties.*.mentors"], relative_to="dyads", low=0.5, high=1.0)
    assert lever.relative_to == "dyads"
    assert Factor(name="m", label="m", paths=["x"], relative_to="none", low=0.5, high=1.0).relative_to is None
