"""Costs reconcile: family rows add up to the KPIs, and unit costs follow their formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.inputs.schema import Costs, County
from start_sim.outcomes import costs
from start_sim.outcomes.resources import CareSpell
from start_sim.sim.staff import CASEWORKER, MENTOR, Post

Y = 365.25


def steady_posts(county: County) -> list[Post]:
    """The posts of constant staffing: the county's caseworkers and mentors (full time) in
    post from its launch and never leaving."""
    day = county.launch_day
    roles = [CASEWORKER] * county.dyads + [MENTOR] * county.mentor_count
    return [Post(role, 1.0, opened=day, hired=day, active=day) for role in roles]


def steady_cost(c: Costs, county: County, horizon_days: float) -> float:
    """Present value of constant staffing to the horizon, as the model prices its posts."""
    return costs.staff_cost(c, steady_posts(county), horizon_days)


def rel_close(actual: float, expected: float, what: str, rtol: float = 1e-9) -> None:
    assert abs(actual - expected) <= rtol * max(1.0, abs(expected)), (
        f"{what}: {actual:,.6f} vs {expected:,.6f} (off by {actual - expected:+,.6f})")


@pytest.fixture(scope="module")
def two_counties() -> ss.Scenario:
    return ss.Scenario(
        name="costs",
        horizon_years=2,
        runout_years=1.5,
        counties=[
            {"name": "A", "referrals_per_year": 40, "dyads": 3, "initial_caseload": 10},
            {"name": "B", "referrals_per_year": 25, "dyads": 2, "mentors": 1, "launch_day": 200},
        ],
    )


@pytest.fixture(scope="module")
def results(two_counties):
    return run(two_counties, replications=3, seed=8)


def test_family_rows_add_up_to_cost_kpis(results):
    fams, kpis = results.families, results.kpis
    for _, k in kpis.iterrows():
        rows = fams[fams["replication"] == k["replication"]]
        assert len(rows) == k["families_referred"], (
            f"replication {k['replication']}: {len(rows)} family rows vs families_referred {k['families_referred']}")
        for key in ("placement_cost", "treatment_cost", "subsidy_cost", "usual_casework_cost"):
            for arm in ("start", "usual"):
                rel_close(float(rows[f"{key}_{arm}"].sum()), float(k[f"{key}_{arm}"]),
                          f"replication {k['replication']}: sum of family {key}_{arm} vs KPI")
        # the headline ratios are built from the totals: savings on care and subsidies, net cost
        # = gross programme cost - the usual casework START replaces
        avoided_cost = (k["placement_cost_usual"] + k["subsidy_cost_usual"]
                        - k["placement_cost_start"] - k["subsidy_cost_start"])
        rel_close(k["savings_vs_usual"], avoided_cost, "savings_vs_usual")
        rel_close(k["usual_casework_credit"], k["usual_casework_cost_usual"] - k["usual_casework_cost_start"], "credit")
        rel_close(k["net_program_cost"], k["program_cost"] - k["usual_casework_credit"], "net_program_cost")
        rel_close(k["net_savings"], k["savings_vs_usual"] - k["net_program_cost"], "net_savings")
        rel_close(k["savings_per_dollar"], k["savings_vs_usual"] / k["net_program_cost"], "savings_per_dollar")
        rel_close(k["savings_per_dollar_gross"], k["savings_vs_usual"] / k["program_cost"], "savings_per_dollar_gross")
        avoided = float((rows["children"] * (rows["placed_12m_usual"].astype(float)
                                             - rows["placed_12m_start"].astype(float))).sum())
        if avoided > 0:
            rel_close(k["cost_per_placement_avoided"], k["net_program_cost"] / avoided, "cost_per_placement_avoided")
        else:
            assert math.isnan(k["cost_per_placement_avoided"]), "cost_per_placement_avoided should be nan if none avoided"


def test_program_cost_kpi_is_sum_of_counties(results, two_counties):
    expected = sum(steady_cost(two_counties.costs, c, two_counties.horizon_days) for c in two_counties.counties)
    for v in results.kpis["program_cost"]:
        rel_close(float(v), expected, "program_cost KPI vs sum of county program costs")


def test_family_placement_cost_matches_its_care_days(results, two_counties):
    """Without discounting, and with in-care casework charged in full in both runs, a family's
    placement cost is sum over types of days x (rate + casework) x children."""
    sc = two_counties.with_changes({"costs.discount_rate_per_year": 0.0, "costs.in_care_casework_share_while_case_open": 1.0})
    res = run(sc, replications=1, seed=8)
    f = res.families
    c = sc.costs
    for arm in ("start", "usual"):
        per_child = sum(f[f"{kind}_days_{arm}"] * costs.care_cost_per_child_day(c, kind)
                        for kind in ("relative", "foster", "residential"))
        expected = per_child * f["children"]
        worst = float((f[f"placement_cost_{arm}"] - expected).abs().max())
        assert worst < 1e-6 * max(1.0, float(expected.max())), f"{arm}: family placement cost differs from days x rate by {worst:.4f}"


# -- unit formulas -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["relative", "foster", "residential"])
def test_placement_cost_of_scripted_spell(kind):
    c0 = Costs(discount_rate_per_year=0.0)
    spell = CareSpell(kind, 100.0, 400.0, False)
    children = 3
    per_day = getattr(c0.placement_per_child_day, kind) + c0.casework_per_child_month_in_care / (Y / 12)
    got = costs.placement_cost(c0, [spell], children)
    rel_close(got, 300.0 * per_day * children, f"{kind}: undiscounted cost of a 300-day spell for {children} children")
    # the brief's rounding of a month to 30.44 days agrees to 0.01%
    approx = 300.0 * (getattr(c0.placement_per_child_day, kind) + c0.casework_per_child_month_in_care / 30.44) * children
    rel_close(got, approx, f"{kind}: cost with 30.44-day months", rtol=1e-4)
    # days the family's own worker has its case open carry the share of in-care casework (half by default)
    worked = CareSpell(kind, 100.0, 400.0, True)
    share = c0.in_care_casework_share_while_case_open
    rel_close(costs.placement_cost(c0, [worked], children),
              300.0 * (getattr(c0.placement_per_child_day, kind) + share * c0.casework_per_child_month_in_care / (Y / 12))
              * children, f"{kind}: a worked spell pays the share of in-care casework")
    full = c0.model_copy(update={"in_care_casework_share_while_case_open": 1.0})
    rel_close(costs.placement_cost(full, [worked], children), got, f"{kind}: share 1 charges in-care casework in full")
    # discounting: smaller, and equal to the integral of the discounted daily cost
    c3 = Costs(discount_rate_per_year=0.03)
    disc = costs.placement_cost(c3, [spell], children)
    days = np.linspace(100.0, 400.0, 30_001)
    integrand = per_day * children * 1.03 ** (-days / Y)
    numeric = float(np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(days)))
    assert disc < got, f"{kind}: discounted cost {disc:,.2f} not below undiscounted {got:,.2f}"
    rel_close(disc, numeric, f"{kind}: discounted cost vs numerical integral of per-day cost x 1.03^-t", rtol=1e-7)


def test_usual_casework_and_subsidy_prices():
    c = Costs(discount_rate_per_year=0.0)
    loaded = c.usual_caseworker_per_fte_year * (1 + c.supervision_share) * (1 + c.overhead_share)
    rel_close(costs.usual_casework_cost(c, [(0.0, Y)]), loaded / c.usual_ongoing_caseload,
              "a family-year on a usual caseload costs a loaded worker-year / caseload")
    rel_close(costs.subsidy_cost(c, [("adoption", 0.0, 10.0), ("guardianship", 10.0, 30.0)], 2),
              2 * (10 * c.adoption_subsidy_per_child_day + 20 * c.guardianship_subsidy_per_child_day), "subsidies")


def test_treatment_cost_is_discounted_episode_price():
    c = Costs(discount_rate_per_year=0.05)
    for m in ("outpatient", "intensive_outpatient", "residential", "moud"):
        price = getattr(c.treatment_per_episode, m)
        rel_close(costs.treatment_cost(c, m, 0.0), price, f"{m}: treatment cost on day 0")
        rel_close(costs.treatment_cost(c, m, 2 * Y), price / 1.05**2, f"{m}: treatment cost two years out")


@pytest.mark.parametrize("dyads, mentors, years", [(1, None, 1.0), (4, None, 5.0), (5, 2, 3.0), (3, 0, 2.5)])
def test_program_cost_formula(dyads, mentors, years):
    c = Costs(discount_rate_per_year=0.0)
    county = County(name="X", referrals_per_year=10, dyads=dyads, mentors=mentors)
    m = dyads if mentors is None else mentors
    staff = dyads * c.caseworker_per_fte_year + m * c.mentor_per_fte_year
    expected = staff * (1 + c.supervision_share) * (1 + c.overhead_share) * years + (dyads + m) * c.training_per_hire
    rel_close(steady_cost(c, county, years * Y), expected,
              f"program cost of {dyads} caseworkers and {m} mentors over {years} years, no discounting")
    # a later launch pays staff from the launch only; discounting makes it smaller
    late = County(name="X", referrals_per_year=10, dyads=dyads, mentors=mentors, launch_day=0.5 * Y)
    expected_late = staff * (1 + c.supervision_share) * (1 + c.overhead_share) * (years - 0.5) + (dyads + m) * c.training_per_hire
    rel_close(steady_cost(c, late, years * Y), expected_late, "program cost with a launch half a year in")
    disc = steady_cost(Costs(discount_rate_per_year=0.03), county, years * Y)
    assert disc < expected, f"discounted program cost {disc:,.0f} not below undiscounted {expected:,.0f}"


def test_no_program_no_cost():
    c = Costs()
    assert steady_cost(c, County(name="X", referrals_per_year=10, dyads=0), 5 * Y) == 0.0, "zero dyads cost nothing"
    assert steady_cost(c, County(name="X", referrals_per_year=10, dyads=2, launch_day=6 * Y), 5 * Y) == 0.0, (
        "a county launching after the horizon costs nothing")
