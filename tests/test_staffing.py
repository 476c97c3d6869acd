"""The staffing search: analytic formulas, the minimum found on common random numbers,
monotonicity in dyads, target parsing and the ``start-sim size`` command."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import start_sim as ss
from start_sim.analyses.candidate_runs import Evaluator
from start_sim.analyses.queueing import analytic_level, erlang_b, erlang_c, mmc_within
from start_sim.analyses.service_targets import parse_target
from start_sim.analyses.staffing import size_county, size_staffing
from start_sim.analyses.staffing_estimate import mean_days_in_start, mentors_for
from start_sim.cli import main as cli_main
from start_sim.outcomes import costs

ROOT = Path(__file__).resolve().parents[1]
SEED = 11


def one_county(**county) -> ss.Scenario:
    c = {"name": "A", "referrals_per_year": 30, "dyads": 2}
    c.update(county)
    return ss.Scenario(name="one county", horizon_years=3, runout_years=1, program={"caseload_cap": 10},
                       counties=[c])


# -- analytic ------------------------------------------------------------------------------
def test_erlang_against_known_values():
    # textbook call-centre value: 10 agents, 8 erlangs -> P(wait) = 0.4092, B = 0.1217
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-4)
    assert erlang_b(10, 8.0) == pytest.approx(0.12166, abs=1e-4)
    # c = 2, a = 1: C = 1/3; c = 1: C = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)
    assert erlang_c(1, 0.7) == pytest.approx(0.7, abs=1e-12)
    assert erlang_c(3, 3.0) == 1.0  # unstable: everyone waits
    # M/M/1 with lambda 0.5, mu 1: P(W <= t) = 1 - rho exp(-(mu - lambda) t)
    assert mmc_within(1, 0.5, 1.0, 2.0) == pytest.approx(1 - 0.5 * math.exp(-1.0), abs=1e-12)
    assert mmc_within(1, 0.5, 1.0, 0.0) == pytest.approx(0.5, abs=1e-12)


def test_analytic_levels_follow_the_policy():
    sc = one_county()
    t14, div = parse_target("assigned_within_days=14@0.9"), parse_target("diverted_share<=0.05")
    lam, days = 30 / 365.25, 400.0
    # waitlist: diverted = P(wait > max_wait) (max_wait_days 30 by default)
    mu = 1 / days
    assert analytic_level(div, 40, lam, days, sc.program) == pytest.approx(1 - mmc_within(40, lam, mu, 30.0))
    assert analytic_level(t14, 40, lam, days, sc.program) == pytest.approx(mmc_within(40, lam, mu, 14.0))
    # divert: Erlang B
    divert = sc.with_changes({"program.waitlist_policy": "divert"})
    assert analytic_level(div, 40, lam, days, divert.program) == pytest.approx(erlang_b(40, lam * days))
    # the mean time in START without disengagement or extensions is the service mean
    plain = sc.with_changes({"program.disengagement_probability": 0.0, "program.max_extensions": 0}).program
    assert mean_days_in_start(plain, 0.7) == pytest.approx(plain.service_days.mean)
    assert mean_days_in_start(sc.program, 1.0) > mean_days_in_start(sc.program, 0.0)


def test_target_syntax():
    t = parse_target("assigned_within_days=14@0.9")
    assert (t.metric, t.days, t.level) == ("assigned_within_days", 14.0, 0.9)
    assert parse_target(" assigned_within_days = 7 @ 95% ").level == pytest.approx(0.95)
    d = parse_target("diverted_share<=0.05")
    assert (d.metric, d.level) == ("diverted_share", 0.05)
    assert d.meets(0.05) and not d.meets(0.06) and t.meets(0.9) and not t.meets(0.89)
    for bad in ("assigned_within_days=14", "assigned_within_days=x@0.9", "assigned_within_days=14@1.2",
                "diverted_share<0.05", "wait<=3", "", "diverted_share<=-0.1"):
        with pytest.raises(ValueError, match="target"):
            parse_target(bad)


def test_mentor_ratio_kept():
    c = one_county(dyads=4, mentors=2).counties[0]
    assert [mentors_for(c, n) for n in (1, 2, 3, 4, 6)] == [0, 1, 1, 2, 3]
    assert mentors_for(one_county().counties[0], 5) is None  # one mentor per caseworker


# -- the search ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def busy() -> ss.Scenario:
    return one_county(referrals_per_year=40)


def test_search_returns_the_minimum_on_common_random_numbers(busy):
    targets = ["assigned_within_days=14@0.9"]
    res = size_county(busy, 0, targets, replications=8, seed=SEED)
    assert res.reached and res.dyads >= 2
    ev = Evaluator(busy, 0, (parse_target(targets[0]),), 8, SEED, window=res.window)  # where the answer was measured
    at, below = ev(res.dyads), ev(res.dyads - 1)
    assert at.meets and not below.meets
    assert at.mean(0) == pytest.approx(res.levels[0][0])
    assert res.below is not None and res.below[0] == pytest.approx(below.mean(0))
    # the same random numbers: rerunning a candidate gives exactly the same levels
    again = Evaluator(busy, 0, (parse_target(targets[0]),), 8, SEED, window=res.window)(res.dyads)
    assert [r.levels for r in again.reps] == [r.levels for r in at.reps]
    lo, hi = res.levels[0][1], res.levels[0][2]
    assert lo <= res.levels[0][0] <= hi and 0 <= res.p_meets <= 1


def test_more_dyads_never_lower_the_service_level(busy):
    targets = (parse_target("assigned_within_days=14@0.9"), parse_target("diverted_share<=0.05"))
    ev = Evaluator(busy, 0, targets, 6, SEED)
    evs = [ev(n) for n in (1, 2, 3, 5)]
    assigned = [e.mean(0) for e in evs]
    diverted = [e.mean(1) for e in evs]
    assert assigned == sorted(assigned) and assigned[0] < assigned[-1]
    assert diverted == sorted(diverted, reverse=True)
    utilisation = [e.utilisation for e in evs]
    assert utilisation == sorted(utilisation, reverse=True)


def test_tiny_volume_needs_one_dyad():
    sc = one_county(referrals_per_year=2, dyads=3)
    res = size_staffing(sc, "assigned_within_days=14@0.9", replications=4, seed=SEED)
    (c,) = res.counties
    assert c.analytic_dyads == 1 and c.dyads == 1 and c.reached and c.levels[0][0] >= 0.9
    assert c.below is None
    assert c.annual_cost == pytest.approx(costs.staff_cost_per_day(sc.costs, 1.0, 1.0) * 365.25)


def test_counties_are_sized_alone_with_their_launch_and_floor():
    sc = ss.Scenario(name="two", horizon_years=3, runout_years=1, program={"caseload_cap": 10}, counties=[
        {"name": "Old", "referrals_per_year": 10, "dyads": 4, "initial_caseload": 35},
        {"name": "New", "referrals_per_year": 10, "dyads": 1, "launch_day": 200},
    ])
    res = size_staffing(sc, ["assigned_within_days=30@0.8"], replications=3, seed=SEED)
    old, new = res.counties
    assert old.floor == 4 and old.dyads >= 4 and old.running
    assert new.launch_day == 200 and new.open_posts_day == pytest.approx(200 - 90) and not new.running
    table = res.table()
    assert list(table["county"]) == ["Old", "New"] and "assigned_within_30d_ci_low" in table


# -- command line ----------------------------------------------------------------------------
def test_cli_prints_the_table_and_writes_csv(tmp_path, capsys):
    out = tmp_path / "size"
    status = cli_main(["size", str(ROOT / "scenarios" / "buncombe.toml"), "--target", "assigned_within_days=14@0.9",
                       "--replications", "6", "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0
    assert "Buncombe" in text and "dyads" in text and "Hiring schedule" in text
    import pandas as pd

    table = pd.read_csv(out / "staffing.csv")
    assert table.loc[0, "county"] == "Buncombe" and table.loc[0, "dyads_needed"] >= 1
    assert not list(tmp_path.glob(".*"))  # no temporary folder left behind


@pytest.mark.parametrize("target", ["assigned_within_days=14", "p90<=14", "diverted_share<=2"])
def test_cli_rejects_a_malformed_target(tmp_path, capsys, target):
    out = tmp_path / "size"
    status = cli_main(["size", str(ROOT / "scenarios" / "buncombe.toml"), "--target", target, "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and target in err and not out.exists()
    if target != "diverted_share<=2":
        assert "assigned_within_days=DAYS@SHARE" in err


def test_cli_bad_scenario_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[counties]]\nname = "A"\nreferrals_per_year = -3\ndyads = 1\n')
    status = cli_main(["size", str(bad), "--target", "diverted_share<=0.05", "--out", str(tmp_path / "o")])
    assert status == 2 and "referrals_per_year" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
