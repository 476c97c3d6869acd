"""Value of information (EVPI, EVPPI by regression) and Sobol indices against known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from start_sim.analyses.sobol import indices
from start_sim.analyses.voi import evpi, evppi, groups_of, value_of_information


def test_evpi_is_zero_when_one_option_is_always_best():
    rng = np.random.default_rng(1)
    assert evpi(rng.uniform(1, 5, 1000)) == 0.0
    assert evpi(-rng.uniform(1, 5, 1000)) == 0.0
    assert evpi(np.column_stack([rng.normal(0, 1, 500), rng.normal(0, 1, 500) + 10])) == pytest.approx(0.0)


@pytest.mark.parametrize("mu,sigma", [(1.0, 2.0), (-0.5, 1.0), (0.0, 3.0)])
def test_evpi_of_a_normal_net_benefit_is_the_known_value(mu, sigma):
    """E[max(0, X)] - max(0, E[X]) for X ~ N(mu, sigma): mu Phi(mu/sigma) + sigma phi(mu/sigma) - max(0, mu)."""
    x = stats.norm(mu, sigma).ppf((np.arange(200_000) + 0.5) / 200_000)  # quasi-random: tiny sampling error
    exact = mu * stats.norm.cdf(mu / sigma) + sigma * stats.norm.pdf(mu / sigma) - max(0.0, mu)
    assert evpi(x) == pytest.approx(exact, rel=2e-3)


def test_evppi_is_at_most_evpi_and_the_group_of_all_inputs_reaches_it():
    rng = np.random.default_rng(2)
    a, b, c = rng.uniform(-1, 1, (3, 3000))
    nb = 2 * a + np.sin(3 * b) + 0.3 * a * b  # c plays no part
    total = evpi(nb)
    both, only_a, only_b, only_c = (evppi(nb, np.column_stack([a, b])), evppi(nb, a), evppi(nb, b), evppi(nb, c))
    assert both == pytest.approx(total, rel=0.03), "the group holding all uncertainty is worth the EVPI"
    for part in (only_a, only_b, only_c):
        assert part <= total + 1e-9
    assert only_a > only_b > only_c
    assert only_c < 0.03 * total, "an input that plays no part is worth (almost) nothing"


def test_evppi_of_a_linear_two_option_problem_matches_its_closed_form():
    """NB = X + Y with X, Y independent normals: E[NB | X] = X + mu_Y, so EVPPI(X) is the normal EVPI of X + mu_Y."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.5, 1.0, 20_000), rng.normal(0.0, 1.5, 20_000)
    exact = 0.5 * stats.norm.cdf(0.5) + stats.norm.pdf(0.5) - 0.5
    assert evppi(x + y, x) == pytest.approx(exact, rel=0.05)


def test_value_of_information_table_from_psa_draws():
    rng = np.random.default_rng(3)
    n = 400
    d = pd.DataFrame({"start.effect": rng.uniform(0, 1, n), "cost:price": rng.uniform(0, 1, n), "families": 100.0})
    d["net_savings"] = 1e6 * (d["start.effect"] - 0.45) + 1e5 * (d["cost:price"] - 0.5)
    v = value_of_information(d, groups_of(d, ["start.effect"]))
    g = v.groups.set_index("group")
    assert v.evpi > 0 and v.evpi_per_family == pytest.approx(v.evpi / 100)
    assert g.loc["effect parameters", "evppi"] > g.loc["unit costs", "evppi"]
    assert g.loc["funding shares", "inputs"] == 0 and g.loc["funding shares", "evppi"] == 0
    assert g.loc["all inputs", "evppi"] == pytest.approx(v.evpi, rel=0.02)


def test_sobol_indices_of_a_linear_function_match_the_analytic_values():
    """y = sum a_i x_i, x_i ~ U(0, 1): S1_i = ST_i = a_i^2 / sum a_j^2."""
    a = np.array([4.0, 2.0, 1.0, 0.0])
    problem = {"num_vars": 4, "names": list("abcd"), "bounds": [[0, 1]] * 4}
    si = indices(problem, lambda x: x @ a, 4096, seed=1).set_index("input")
    exact = a**2 / np.sum(a**2)
    for name, e in zip("abcd", exact, strict=True):
        assert si.loc[name, "S1"] == pytest.approx(e, abs=0.03)
        assert si.loc[name, "ST"] == pytest.approx(e, abs=0.03)
        assert si.loc[name, "S1_conf"] > 0 or e == 0


def test_sobol_indices_of_the_ishigami_function():
    """Ishigami (a=7, b=0.1) on [-pi, pi]^3: S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}

    def f(x):
        return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])

    si = indices(problem, f, 8192, seed=2).set_index("input")
    for name, s1, st in (("x1", 0.314, 0.558), ("x2", 0.442, 0.442), ("x3", 0.0, 0.244)):
        assert si.loc[name, "S1"] == pytest.approx(s1, abs=0.04)
        assert si.loc[name, "ST"] == pytest.approx(st, abs=0.04)


def test_evppi_is_not_estimated_from_too_few_draws():
    rng = np.random.default_rng(6)
    x = rng.uniform(size=(30, 8))
    assert np.isnan(evppi(x.sum(axis=1) - 4, x)), "9 coefficients need 45 draws"
    assert not np.isnan(evppi(x[:, 0] - 0.5, x[:, :1]))


def test_the_psa_draws_funding_shares_for_payer_perspectives_only():
    import start_sim as ss
    from start_sim.analyses.bca import Options
    from start_sim.analyses.uncertainty import psa

    quick = ss.Scenario(name="quick", horizon_years=1.0, runout_years=1.0,
                        counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2, "initial_caseload": 5}])
    county = psa(quick, None, 6, 2, options=Options(perspective="county"))
    agency = psa(quick, None, 6, 2)
    assert {"funding:ive_eligible_share", "funding:treatment_medicaid_share"} <= set(county.columns)
    assert county["funding:ive_eligible_share"].nunique() == 6
    assert not any(c.startswith("funding:") for c in agency.columns)
    same = [c for c in agency.columns if c.startswith("cost:")]
    pd.testing.assert_frame_equal(agency[same], county[same])  # funding draws move no cost draw
    v = value_of_information(county, groups_of(county, []))
    assert v.groups.set_index("group").loc["funding shares", "inputs"] == 2


def test_uncertainty_command_prints_evpi_and_shows_sobol_and_voi_in_its_report(tmp_path, capsys):
    from start_sim.cli import main

    sc = tmp_path / "quick.toml"
    sc.write_text('name = "quick"\nhorizon_years = 1\nrunout_years = 1\n'
                  '[[counties]]\nname = "A"\nreferrals_per_year = 30\ndyads = 2\ninitial_caseload = 5\n')
    out = tmp_path / "unc"
    assert main(["uncertainty", str(sc), "--draws", "12", "--morris-trajectories", "0", "--sobol-samples", "2",
                 "--tornado-replications", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "everything (EVPI)" in text and "unit costs" in text and "Sobol indices" in text
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Is a better evaluation worth paying for?" in html and "first-order S1" in html
    voi = pd.read_csv(out / "voi.csv")
    assert {"group", "evppi", "evpi", "above_evpi"} <= set(voi.columns)
    assert len(pd.read_csv(out / "sobol.csv")) > 0


def test_sobol_indices_with_wide_intervals_are_flagged_indicative():
    """A planner must not rank inputs by indices whose intervals span most of [0, 1]."""
    import pandas as pd

    from start_sim.outputs.uncertainty_report import sobol_html, sobol_note

    wide = pd.DataFrame({"input": ["a"], "S1": [0.2], "S1_conf": [0.38], "ST": [0.1], "ST_conf": [0.2]})
    narrow = wide.assign(S1_conf=[0.03], ST_conf=[0.02])
    assert "Indicative only" in sobol_note(wide) and "0.38" in sobol_note(wide)
    assert sobol_note(narrow) == "" and "Indicative only" not in sobol_html(narrow)
    assert "Indicative only" in sobol_html(wide)
