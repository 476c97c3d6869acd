"""Distribution tables: inverse CDFs that rise with u, match their stated moments, and reject bad tables.

Each distribution is sampled by ``ppf(u)`` of a uniform that belongs to the family, so these
are the properties the model relies on: monotone in ``u`` (common random numbers stay
monotone), the right mean and sd, and the scalar and vectorised paths agreeing.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from scipy import stats

import start_sim as ss
from start_sim.inputs.distributions import DIST_NAMES, Distribution, Empirical, Gamma, Lognormal

ADAPTER = TypeAdapter(Distribution)

TABLES = {
    "fixed": {"dist": "fixed", "value": 90},
    "exponential": {"dist": "exponential", "mean": 2.0},
    "lognormal": {"dist": "lognormal", "mean": 426, "sd": 150},
    "gamma": {"dist": "gamma", "mean": 10, "sd": 5},
    "gamma_skewed": {"dist": "gamma", "mean": 2, "sd": 4},
    "uniform": {"dist": "uniform", "low": 30, "high": 180},
    "empirical_weighted": {"dist": "empirical", "values": [1, 2, 3, 4], "weights": [0.40, 0.32, 0.18, 0.10]},
    "empirical_equal": {"dist": "empirical", "values": [0, 5, 10]},
    "empirical_histogram": {
        "dist": "empirical", "values": [0, 7, 60, 150], "weights": [0.50, 0.16, 0.34], "interpolate": True,
    },
}

# Moments worked out by hand, independent of the code's own .mean and .std.
EXPECTED = {
    "fixed": (90.0, 0.0),
    "exponential": (2.0, 2.0),
    "lognormal": (426.0, 150.0),
    "gamma": (10.0, 5.0),
    "gamma_skewed": (2.0, 4.0),
    "uniform": (105.0, 150 / math.sqrt(12)),
    "empirical_weighted": (1.98, math.sqrt(0.40 * 1 + 0.32 * 4 + 0.18 * 9 + 0.10 * 16 - 1.98**2)),
    "empirical_equal": (5.0, math.sqrt(50 / 3)),
    # histogram: bin midpoints weigh the mean; E[X^2] of a uniform bin is (a^2 + ab + b^2) / 3
    "empirical_histogram": (
        0.5 * 3.5 + 0.16 * 33.5 + 0.34 * 105,
        math.sqrt(0.5 * 49 / 3 + 0.16 * (49 + 420 + 3600) / 3 + 0.34 * (3600 + 9000 + 22500) / 3 - 42.81**2),
    ),
}

N = 200_000


def make(name: str):
    return ADAPTER.validate_python(TABLES[name])


@pytest.fixture(scope="module")
def uniforms() -> np.ndarray:
    return np.random.default_rng(20_240_601).random(N)


def test_every_distribution_name_is_covered():
    covered = {t["dist"] for t in TABLES.values()}
    assert covered == set(DIST_NAMES), f"distributions without a test table: {set(DIST_NAMES) - covered}"


@pytest.mark.parametrize("name", TABLES)
def test_ppf_is_monotone_on_a_grid(name):
    d = make(name)
    u = np.concatenate([[0.0], np.linspace(1e-9, 1 - 1e-9, 20_001)])
    x = d.ppf_array(u)
    drops = np.flatnonzero(np.diff(x) < 0)
    assert drops.size == 0, f"{name}: ppf falls between u={u[drops[0]]} and u={u[drops[0] + 1]}: {x[drops[0]]} > {x[drops[0] + 1]}"
    assert np.all(x >= 0), f"{name}: negative draw {x.min()}"
    assert np.all(np.isfinite(x)), f"{name}: non-finite draw on [0, 1)"


@pytest.mark.parametrize("name", TABLES)
@settings(max_examples=200, deadline=None)
@given(a=st.floats(0.0, 1.0, exclude_max=True), b=st.floats(0.0, 1.0, exclude_max=True))
def test_ppf_is_monotone_for_any_pair(name, a, b):
    d = make(name)
    lo, hi = min(a, b), max(a, b)
    assert d.ppf(lo) <= d.ppf(hi), f"{name}: ppf({lo}) = {d.ppf(lo)} > ppf({hi}) = {d.ppf(hi)}"


@pytest.mark.parametrize("name", TABLES)
def test_sample_mean_and_sd_match(name, uniforms):
    """Mean within 5 standard errors of the stated mean; sd within 5 standard errors of the stated sd."""
    d = make(name)
    want_mean, want_sd = EXPECTED[name]
    assert d.mean == pytest.approx(want_mean, rel=1e-12, abs=1e-12), f"{name}: .mean = {d.mean}, worked out {want_mean}"
    assert d.std == pytest.approx(want_sd, rel=1e-9, abs=1e-12), f"{name}: .std = {d.std}, worked out {want_sd}"
    x = d.ppf_array(uniforms)
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    se_mean = want_sd / math.sqrt(N)
    assert abs(mean - want_mean) <= 5 * se_mean + 1e-9, (
        f"{name}: sample mean {mean:.5g} differs from {want_mean:.5g} by {mean - want_mean:.3g} (5 SE = {5 * se_mean:.3g})"
    )
    m4 = float(np.mean((x - mean) ** 4))
    se_sd = math.sqrt(max(m4 - sd**4, 0.0) / (4 * N)) / sd if sd > 0 else 0.0
    assert abs(sd - want_sd) <= 5 * se_sd + 1e-9, (
        f"{name}: sample sd {sd:.5g} differs from {want_sd:.5g} by {sd - want_sd:.3g} (5 SE = {5 * se_sd:.3g})"
    )


@pytest.mark.parametrize("name", TABLES)
def test_ppf_array_agrees_with_ppf(name, uniforms):
    d = make(name)
    u = np.concatenate([[0.0, 0.5, 1 - 1e-12], uniforms[:2000]])
    scalar = np.array([d.ppf(float(v)) for v in u])
    vector = d.ppf_array(u)
    worst = int(np.argmax(np.abs(scalar - vector)))
    assert np.allclose(scalar, vector, rtol=1e-12, atol=0), (
        f"{name}: ppf({u[worst]}) = {scalar[worst]!r} but ppf_array gives {vector[worst]!r}"
    )
    grid = uniforms[:12].reshape(3, 4)
    assert d.ppf_array(grid).shape == (3, 4), f"{name}: ppf_array should keep the shape of u"


def test_lognormal_and_gamma_match_scipy(uniforms):
    u = uniforms[:1000]
    ln = Lognormal(dist="lognormal", mean=426, sd=150)
    s2 = math.log1p((150 / 426) ** 2)
    ref = stats.lognorm(s=math.sqrt(s2), scale=math.exp(math.log(426) - s2 / 2)).ppf(u)
    assert np.allclose(ln.ppf_array(u), ref, rtol=1e-10), "lognormal ppf differs from scipy.stats.lognorm"
    for mean, sd in ((10, 5), (2, 4)):
        g = Gamma(dist="gamma", mean=mean, sd=sd)
        shape = (mean / sd) ** 2
        ref = stats.gamma(a=shape, scale=mean / shape).ppf(u)
        assert np.allclose(g.ppf_array(u), ref, rtol=1e-8), f"gamma({mean}, {sd}) ppf differs from scipy.stats.gamma"


def test_empirical_frequencies_match_weights(uniforms):
    d = make("empirical_weighted")
    x = d.ppf_array(uniforms)
    for value, weight in zip(d.values, d.weights, strict=True):
        share = float(np.mean(x == value))
        se = math.sqrt(weight * (1 - weight) / N)
        assert abs(share - weight) <= 5 * se, f"value {value}: drawn {share:.4f} of the time, weight {weight}"
    assert set(np.unique(x)) <= set(d.values), "discrete empirical draws only its values"


def test_empirical_histogram_stays_in_its_bins(uniforms):
    d = make("empirical_histogram")
    x = d.ppf_array(uniforms)
    for (lo, hi), weight in zip(zip(d.values, d.values[1:], strict=False), d.weights, strict=True):
        share = float(np.mean((x >= lo) & (x < hi)))
        assert abs(share - weight) <= 5 * math.sqrt(weight * (1 - weight) / N), f"bin [{lo}, {hi}): {share:.4f} vs {weight}"


def test_unsorted_empirical_values_are_sorted_with_their_weights():
    d = Empirical.model_validate({"dist": "empirical", "values": [3, 1, 2], "weights": [1, 2, 3]})
    assert (d.values, d.weights) == ([1, 2, 3], [2, 3, 1]), "values sorted, each keeping its weight"
    assert d.mean == pytest.approx((3 * 1 + 1 * 2 + 2 * 3) / 6)
    assert d == Empirical.model_validate(d.model_dump(by_alias=True)), "sorted tables round-trip"


@pytest.mark.parametrize(
    ("table", "fragment"),
    [
        ({"dist": "lognormal", "mean": 10, "sd": -1}, "sd = -1 is not allowed: must be more than 0"),
        ({"dist": "gamma", "mean": 10, "sd": -2}, "sd = -2 is not allowed: must be more than 0"),
        ({"dist": "gamma", "mean": -10, "sd": 2}, "mean = -10 is not allowed: must be more than 0"),
        ({"dist": "exponential", "mean": 0}, "mean = 0 is not allowed: must be more than 0"),
        ({"dist": "fixed", "value": -1}, "value = -1 is not allowed: must be 0 or more"),
        ({"dist": "uniform", "low": 5, "high": 1}, "high (1) must be at least low (5)"),
        ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "weights has 1 entries and values 2; 2 weights"),
        (
            {"dist": "empirical", "values": [0, 1, 2], "weights": [1, 1, 1], "interpolate": True},
            "2 weights expected (one per bin, one fewer than values)",
        ),
        ({"dist": "empirical", "values": [2, 1], "interpolate": True}, "values are bin edges"),
        ({"dist": "empirical", "values": [1, 2], "weights": [0, 0]}, "weights must be 0 or more with a positive sum"),
        ({"dist": "empirical", "values": [1, 2], "weights": [-1, 2]}, "weights must be 0 or more"),
        ({"dist": "empirical", "values": [-1, 2]}, "values must be 0 or more"),
        ({"dist": "empirical", "values": []}, "needs at least 1 item"),
        ({"dist": "weibull", "shape": 2}, 'dist = "weibull" is not a known distribution'),
        ({"dist": "fixed", "value": 1, "mean": 2}, "mean is not a known key (allowed here: dist, value)"),
        ({"dist": "fixed"}, "value is missing"),
        ({"dist": "lognormal", "mean": float("nan"), "sd": 1}, "must be a finite number"),
        ({"value": 3}, "needs a 'dist' key"),
    ],
    ids=lambda v: str(v)[:50],
)
def test_invalid_tables_are_rejected(small, table, fragment):
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(table)
    if "dist" not in table:
        return  # an override without 'dist' merges into the current distribution (see test_scenario)
    with pytest.raises(ss.ScenarioError) as info:
        small.with_changes({"program.service_days": table})
    text = str(info.value)
    assert "program.service_days" in text and fragment in text, f"expected {fragment!r} in: {text}"


def test_distributions_are_frozen():
    d = make("lognormal")
    with pytest.raises(ValidationError):
        d.sd = 3
