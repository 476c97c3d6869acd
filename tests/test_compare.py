"""Paired comparison on common random numbers."""

from __future__ import annotations

import math

from scipy import stats

import start_sim as ss
from start_sim.core.stats import paired_difference
from start_sim.experiments.compare import compare


def unpaired_difference(a, b, confidence=0.95):
    """Welch interval of mean(a) - mean(b), as if the scenarios had independent draws."""
    x, y = a.dropna().to_numpy(dtype=float), b.dropna().to_numpy(dtype=float)
    mean = float(x.mean() - y.mean())
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1)) if se > 0 else 1
    half = float(stats.t.ppf(0.5 + confidence / 2, dof) * se)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}


def test_scenario_compared_with_itself_differs_by_exactly_zero(small):
    cmp = compare({"a": small, "b": small}, replications=3, seed=5)
    s = cmp.summary()
    diffs = s[s.scenario == "b"].set_index("kpi")["diff_mean"].dropna()
    assert (diffs == 0).all(), f"non-zero self-differences: {diffs[diffs != 0].to_dict()}"


def test_paired_ci_much_narrower_than_unpaired(small):
    stronger = small.with_changes({"start.safety_planning_casework_multiplier": 0.5})
    cmp = compare({"base": small, "stronger": stronger}, replications=12, seed=2)
    a, b = cmp.results["stronger"].kpis, cmp.results["base"].kpis
    for kpi in ("placement_cost_start", "placement_rate_12m_start", "net_savings"):
        p, u = paired_difference(a[kpi], b[kpi]), unpaired_difference(a[kpi], b[kpi])
        wp, wu = p["ci_high"] - p["ci_low"], u["ci_high"] - u["ci_low"]
        assert wp < 0.6 * wu, f"{kpi}: paired CI width {wp:.4g} is not much narrower than unpaired {wu:.4g}"


def test_compare_reports_every_scenario(small):
    cmp = compare({"x": small, "y": small.with_changes({"program.caseload_cap": 5})}, replications=2, seed=1)
    assert set(cmp.kpis["scenario"]) == {"x", "y"}
    assert isinstance(cmp.results["x"], ss.Results)
