"""Calibration set-up of issue 11 (decision 0037): T7 as an interval, site targets, the target x
parameter sensitivity table, the posterior split of an effect, and the between-site spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses.calibration import calibrate
from start_sim.analyses.calibration_objective import UnitObjective, evaluate, simulated_targets
from start_sim.analyses.identification import identification, sensitivity, split_posterior
from start_sim.analyses.site_spread import dersimonian_laird, site_spreads
from start_sim.core.errors import ScenarioError
from start_sim.experiments.executor import Executor
from start_sim.experiments.runner import replicate
from start_sim.inputs.targets import CalibrationTarget, Parameter, Settings, TargetSet, load_targets
from start_sim.outputs.calibration_report import render

from .conftest import ROOT

SURVEILLANCE = "start.surveillance_report_multiplier"  # a START-only effect on re-reports
PARAMS = (Parameter("placement.rate_using", 0.2, 0.8, 0.4), Parameter("followup.report_rate_using", 0.03, 0.2, 0.085),
          Parameter(SURVEILLANCE, 1.5, 4.5, 2.8))


def busy() -> ss.Scenario:
    return ss.Scenario(name="busy", horizon_years=1.5, runout_years=1,
                       counties=[{"name": "A", "referrals_per_year": 160, "dyads": 20},
                                 {"name": "B", "referrals_per_year": 80, "dyads": 10}])


def rate(kpi: str, arm: str, value: float, n: float = 500, site: str = "") -> CalibrationTarget:
    return CalibrationTarget(id="R" if kpi.startswith("recurrence") else "X", name="x", kpi=kpi, arm=arm, kind="rate", value=value, low=value - 0.05,
                             high=value + 0.05, n=n, site=site)


def test_t7_is_an_interval_flat_inside_and_penalised_against_the_nearer_end():
    t7 = next(t for t in load_targets(ROOT / "calibration" / "targets.toml").targets if t.id == "T7")
    assert t7.kind == "interval" and (t7.low, t7.high) == (0.75, 0.85)
    assert t7.deviance(0.76) == t7.deviance(0.84) == 0.0
    above = t7.deviance(0.88)
    as_rate = CalibrationTarget(**{**t7.__dict__, "kind": "rate", "value": 0.85})
    assert above > 0 and above == pytest.approx(as_rate.deviance(0.88))
    assert t7.deviance(0.70) > 0 and t7.deviance(0.60) > t7.deviance(0.70)


def test_an_interval_target_needs_a_proper_interval(tmp_path):
    text = (ROOT / "calibration" / "targets.toml").read_text().replace("high = 0.85", "high = 0.70")
    bad = tmp_path / "t.toml"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match="interval target needs"):
        load_targets(bad)


def test_a_site_target_is_its_county_s_kpi():
    sc = busy()
    outs = replicate(sc, 2, 3)
    t = rate("placement_rate_12m", "usual", 0.3, site="B")
    sim = simulated_targets(outs, [t])
    expect = np.mean([next(r for r in o.county_kpis if r["county"] == "B")["placement_rate_12m_usual"] for o in outs])
    assert t.key == "placement_rate_12m_usual@B" and sim[t.key] == pytest.approx(expect, rel=1e-12)
    assert sim[t.key] != simulated_targets(outs, [rate("placement_rate_12m", "usual", 0.3)])["placement_rate_12m_usual"]


def test_sensitivity_shows_a_start_only_effect_cannot_move_the_usual_arm():
    targets = (rate("placement_rate_12m", "usual", 0.33), rate("recurrence_rate_12m", "start", 0.12),
               rate("recurrence_rate_12m", "usual", 0.06))
    ev = UnitObjective(busy(), PARAMS, targets, replications=2, seed=11)
    with Executor(1, None) as ex:
        sens = sensitivity(ex, ev, [0.4, 0.5, 0.5], step=0.15)
    row = sens.set_index(["parameter", "key"])["effect_se"]
    assert row[(SURVEILLANCE, "recurrence_rate_12m_usual")] == 0.0  # common random numbers: exactly no effect
    assert row[(SURVEILLANCE, "placement_rate_12m_usual")] == 0.0
    assert row[(SURVEILLANCE, "recurrence_rate_12m_start")] > 1.0
    assert row[("placement.rate_using", "placement_rate_12m_usual")] > 1.0
    assert row[("followup.report_rate_using", "placement_rate_12m_usual")] > 0.0  # a re-report can remove the children (decision 0032)
    ident = identification(sens).set_index("parameter")
    assert ident.loc["placement.rate_using", "constrained_by"].startswith("X usual")
    assert ident.loc[SURVEILLANCE, "constrained_by"].startswith("R start")
    assert (ident["sd_ratio"] < 1).all()


def test_two_parts_seen_only_as_a_product_are_reported_as_a_ridge():
    sens = pd.DataFrame([{"parameter": p, "target": t, "key": t, "slope": 0, "se": 1, "effect_se": e, "share": 0.5}
                         for t, e in (("T1", 20.0), ("T2", 10.0)) for p in ("casework", "mentor")])
    ident = identification(sens).set_index("parameter")
    assert ident.loc["mentor", "correlation"] < -0.9 and ident.loc["mentor", "most_correlated"] == "casework"


def test_split_posterior_gives_each_part_s_share_of_the_log_effect():
    parts = (Parameter("a", 0.3, 1.0, 0.7, split="sp"), Parameter("b", 0.3, 1.0, 0.7, split="sp"),
             Parameter("c", 0.0, 1.0, 0.5))
    post = pd.DataFrame({"a": [0.5] * 10, "b": [0.25] * 10, "c": np.linspace(0, 1, 10)})
    out = split_posterior(post, parts).set_index("parameter")
    assert out.loc["a", "share_mean"] == pytest.approx(1 / 3) and out.loc["b", "share_mean"] == pytest.approx(2 / 3)
    assert out.loc["product", "post_mean"] == pytest.approx(0.125) and "c" not in out.index


def test_the_between_site_spread_is_recovered_on_synthetic_sites():
    rng = np.random.default_rng(4)
    tau, k, se = 0.3, 200, 0.1
    true = rng.normal(0.0, tau, k)
    draws = true + rng.normal(0, se, (400, k))  # each site's posterior: its truth with sampling noise
    params = [Parameter(f"counties.{i}.placement_multiplier", 0.1, 5.0, 1.0) for i in range(k)]
    post = pd.DataFrame(np.exp(draws + rng.normal(0, se, k)), columns=[p.path for p in params])
    (spread,) = site_spreads(post, params)
    assert spread.sites == k and spread.tau == pytest.approx(tau, rel=0.15)
    assert dersimonian_laird(np.zeros(5), np.ones(5))[0] == 0.0  # no spread beyond the noise
    assert site_spreads(post.iloc[:, :2], params[:2]) == []  # two sites say nothing


def test_a_short_calibration_reports_which_targets_constrain_which_parameter():
    sc = busy()
    targets = (rate("placement_rate_12m", "usual", 0.0), rate("recurrence_rate_12m", "start", 0.0),
               rate("recurrence_rate_12m", "usual", 0.0))
    sim = evaluate(sc, PARAMS, targets, [0.5, 0.085, 2.8], 2, 11)
    ts = TargetSet(PARAMS, tuple(rate(t.kpi, t.arm, sim[t.key]) for t in targets),
                   Settings(horizon_years=0, replications=2, seed=11, sensitivity_step=0.1))
    res = calibrate(sc, ts, budget=dict(design_points=4, starts=1, maxfev=12, local_points=8, posterior_points=8,
                                        posterior_draws=10))
    assert set(res.sensitivity["parameter"]) == {p.path for p in PARAMS} and len(res.sensitivity) == 9
    html = render(res)
    assert "Which targets constrain which parameter" in html and "<b>" in html
