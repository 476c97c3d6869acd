"""Calibration: targets file, deterministic objective, recovery of known parameters, report,
and the shipped calibrated scenario against its targets (slow)."""

from __future__ import annotations

import math
import re
import tomllib

import pytest

import start_sim as ss
from start_sim.analyses.calibration import calibrate
from start_sim.analyses.calibration_objective import evaluate, objective, simulated_targets
from start_sim.core.errors import ScenarioError
from start_sim.experiments.runner import replicate
from start_sim.inputs.targets import CalibrationTarget, Parameter, Settings, TargetSet, load_targets
from start_sim.outputs.calibration_report import write_calibration

from .conftest import ROOT

TINY = dict(design_points=4, starts=1, maxfev=40, local_points=12, posterior_points=16, posterior_draws=20)


@pytest.fixture
def busy() -> ss.Scenario:
    """One county, enough families for stable rates, quick (about 0.05 s a replication)."""
    return ss.Scenario(name="busy", horizon_years=1.5, runout_years=1,
                       counties=[{"name": "A", "referrals_per_year": 160, "dyads": 20}])


PARAMS = (Parameter("placement.rate_using", 0.2, 0.8, 0.4),
          Parameter("start.safety_planning_casework_multiplier", 0.3, 1.0, 0.65))


def _targets(values: dict[str, float], n: float = 4000) -> TargetSet:
    ts = [CalibrationTarget(id="X", name="x", kpi=k.rsplit("_", 1)[0], arm=k.rsplit("_", 1)[1], kind="rate", value=v,
                 low=v - 0.05, high=v + 0.05, n=n) for k, v in values.items()]
    return TargetSet(PARAMS, tuple(ts), Settings(horizon_years=0, replications=2, seed=11))


def test_shipped_targets_file_reads_and_covers_the_evidence():
    ts = load_targets(ROOT / "calibration" / "targets.toml")
    ids = {t.id for t in ts.targets}
    assert {"T1", "T2", "T4", "T5", "T6", "T7", "P1", "P2"} <= ids
    for t in ts.targets:
        assert t.source and t.population
        assert t.low <= t.value <= t.high or t.kind == "at_least"
    t2 = [t for t in ts.targets if t.id == "T2"]
    assert all(t.weight < 1 for t in t2), "T2 overlaps T1: it must be down-weighted"
    assert all(p.low < p.default < p.high for p in ts.parameters)


def test_deviance_is_zero_on_target_and_grows_with_n():
    t = CalibrationTarget(id="T", name="t", kpi="k", arm="start", kind="rate", value=0.3, low=0.2, high=0.4, n=100)
    assert t.deviance(0.3) == pytest.approx(0.0)
    big = CalibrationTarget(**{**t.__dict__, "n": 400})
    assert big.deviance(0.35) == pytest.approx(4 * t.deviance(0.35))
    one_sided = CalibrationTarget(**{**t.__dict__, "kind": "at_least", "value": 0.75})
    assert one_sided.deviance(0.9) == 0 and one_sided.deviance(0.6) > 0


def test_objective_is_deterministic_for_a_fixed_seed(busy):
    ts = _targets({"placement_rate_12m_start": 0.2, "placement_rate_12m_usual": 0.33})
    f = objective(busy, ts)
    a, b = f([0.45, 0.6]), f([0.45, 0.6])
    assert a == b and math.isfinite(a)
    assert f([0.7, 0.6]) != a


def test_recovers_known_parameters_from_a_perturbed_start(busy):
    truth = [0.55, 0.5]
    ts0 = _targets({"placement_rate_12m_start": 0.0, "placement_rate_12m_usual": 0.0})
    sim = evaluate(busy, PARAMS, ts0.targets, truth, 2, 11)
    ts = _targets(sim)
    res = calibrate(busy, ts, start=[0.4, 0.75], budget=dict(TINY, posterior_points=0), posterior=False)
    assert res.best["placement.rate_using"] == pytest.approx(truth[0], abs=0.06)
    assert res.best["start.safety_planning_casework_multiplier"] == pytest.approx(truth[1], abs=0.08)
    assert res.best_deviance < 2.0


def test_calibrate_writes_fragment_posterior_and_report(busy, tmp_path):
    sim = evaluate(busy, PARAMS, _targets({"placement_rate_12m_start": 0, "placement_rate_12m_usual": 0}).targets,
                   [0.5, 0.6], 2, 11)
    ts = _targets(sim, n=500)
    res = calibrate(busy, ts, budget=TINY)
    src = tmp_path / "base.toml"
    src.write_text('name = "busy"\nhorizon_years = 1.5\nrunout_years = 1\n[[counties]]\nname = "A"\n'
                   'referrals_per_year = 160\ndyads = 20\n')
    frag = write_calibration(res, tmp_path / "out", src, tmp_path / "frag" / "calibrated.toml")
    loaded = ss.load_scenario(frag)
    assert loaded.placement.rate_using == pytest.approx(res.best["placement.rate_using"], abs=1e-5)
    assert "Fit date" in frag.read_text()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Targets vs simulated" in html
    assert len(res.posterior) == TINY["posterior_draws"]
    assert set(res.fit["target"]) == {"X"}


def test_cli_calibrate_rejects_bad_targets(tmp_path):
    from start_sim.cli import main

    bad = tmp_path / "t.toml"
    bad.write_text('[[targets]]\nid = "T1"\nbogus = 1\n')
    assert main(["calibrate", str(ROOT / "scenarios" / "kentucky.toml"), "--targets", str(bad),
                 "--out", str(tmp_path / "o")]) == 2


def test_too_few_local_points_for_the_curvature_of_the_free_parameters_is_refused(tmp_path):
    """Ten free parameters need 66 points for a full quadratic: 64 would leave the posterior's
    covariance underdetermined (a least-squares fit with more coefficients than points)."""
    text = (ROOT / "calibration" / "targets.toml").read_text()
    bad = tmp_path / "t.toml"
    bad.write_text(re.sub(r"(?m)^local_points = \d+", "local_points = 64", text))
    with pytest.raises(ScenarioError, match="calibration.local_points = 64 is not allowed with 10 free parameters"):
        load_targets(bad)


@pytest.mark.slow
def test_calibrated_kentucky_reproduces_each_fitted_target_inside_its_interval():
    """The shipped calibrated scenario, on the full Kentucky horizon, meets every fitted target."""
    path = ROOT / "scenarios" / "kentucky_calibrated.toml"
    sc = ss.load_scenario(path)
    ts = load_targets(ROOT / "calibration" / "targets.toml")
    outs = replicate(sc, 3, 1)
    sim = simulated_targets(outs, ts.targets)
    missed = [(t.label, round(sim[t.key], 3), t.low, t.high) for t in ts.fitted if not t.low <= sim[t.key] <= t.high]
    assert not missed, f"outside their intervals: {missed}"
    frag = tomllib.loads((ROOT / "calibration" / "kentucky_calibrated.toml").read_text())
    assert "placement" in frag and "Fit date" in (ROOT / "calibration" / "kentucky_calibrated.toml").read_text()
