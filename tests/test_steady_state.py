"""Sizing at steady state: the warm-up window against an independent queueing simulator, and the
staffing search at maturity against Erlang C.

The independent simulator is the Kiefer-Wolfowitz recursion for a first-come-first-served
queue with ``c`` servers: each arrival takes the earliest free slot, so its wait is
``max(0, earliest free time - arrival)``. It shares no code with the model (numpy and heapq
only) and is run long enough that its start does not matter. No seeded number is pinned:
tolerances are 99% intervals over replications (or batches).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from scipy import stats

import start_sim as ss
from start_sim.analyses.candidate_runs import county_scenario
from start_sim.analyses.staffing import size_county
from start_sim.analyses.steady_state import FIRST_YEAR, maturity
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import county_families

DAYS_PER_YEAR = 365.25
SEED = 20261202


def kiefer_wolfowitz(lam: float, service: np.ndarray, c: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Arrival days and waits of an FCFS queue with ``c`` servers, Poisson arrivals at ``lam`` a
    day and the given service times (one per arrival)."""
    t = np.cumsum(rng.exponential(1.0 / lam, len(service)))
    free = [0.0] * c
    waits = np.empty(len(service))
    for i, (arrive, s) in enumerate(zip(t.tolist(), service.tolist(), strict=True)):
        start = max(heapq.heappop(free), arrive)
        waits[i] = start - arrive
        heapq.heappush(free, start + s)
    return t, waits


def queue(rho: float, dyads: int, cap: int = 13, years: float = 5, dist: dict | None = None) -> ss.Scenario:
    """A county whose slots form an FCFS queue with unbounded waiting at load ``rho``."""
    dist = dist or {"dist": "lognormal", "mean": 426.0, "sd": 150.0}
    lam = rho * dyads * cap / dist["mean"]
    return ss.Scenario(
        name=f"queue-{rho}", horizon_years=years, runout_years=2,
        counties=[{"name": "Q", "referrals_per_year": lam * DAYS_PER_YEAR, "dyads": dyads}],
        treatment={"uptake_usual": 0.0, "uptake_start": 0.0}, start={"mentor_uptake": 0.0},
        program={"caseload_cap": cap, "service_days": dist, "disengagement_probability": 0.0, "max_extensions": 0,
                 "max_wait_days": "none"},
    )


def measured(sc: ss.Scenario, lo: float, hi: float, rep: int) -> tuple[float, float]:
    """Mean wait and share assigned within 14 days of the families referred in [lo, hi)."""
    cases = CountyModel(sc, 0, county_families(sc, 0, SEED, rep), with_start=True).run()
    w = np.array([x.wait_days for x in cases if lo <= x.family.referral_day < hi])
    assert not np.isnan(w).any(), "a family of the window was never assigned: lengthen the run-out"
    return float(w.mean()), float((w <= 14).mean())


def ci99(x: list[float]) -> tuple[float, float]:
    a = np.asarray(x, dtype=float)
    return float(a.mean()), float(stats.t.ppf(0.995, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:program.caseload_cap")
def test_warm_up_window_reaches_the_steady_state_that_a_run_from_empty_misses():
    """Load 0.9, 2 dyads x 5 slots, lognormal case lengths of mean 10 days (time scaled down so that
    the test is short: a horizon of 4.3 case lengths is START's 5 years of 14-month cases). From
    empty the waits are those of a queue still filling; after the default warm-up, over a long
    window, they match the independent simulator's long-run waits."""
    rho, dyads, cap, mean, sd = 0.9, 2, 5, 10.0, 3.5
    dist = {"dist": "lognormal", "mean": mean, "sd": sd}
    short = queue(rho, dyads, cap, years=4.3 * mean / DAYS_PER_YEAR, dist=dist)
    long_ = queue(rho, dyads, cap, years=4.0, dist=dist)
    c, lam = dyads * cap, rho * dyads * cap / mean
    window = maturity(mean, 0.0, long_.horizon_days, c, lam * mean)
    assert window.warmup_days >= 10 * mean / (math.sqrt(c) - math.sqrt(lam * mean)) ** 2 - 1e-9
    warm_sc = county_scenario(long_, 0, dyads, 2.0, window)
    lo, hi = window.bounds(0.0, warm_sc.horizon_days)
    reps = 12
    empty = [measured(short, 0.0, short.horizon_days, r) for r in range(reps * 4)]
    warm = [measured(warm_sc, lo, hi, r) for r in range(reps)]
    # the independent simulator: one long run, 10 batches of 20 years after 5 years
    rng = np.random.default_rng(SEED)
    s2 = math.log1p((sd / mean) ** 2)
    n = int(lam * DAYS_PER_YEAR * 206)
    t, w = kiefer_wolfowitz(lam, rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n), c, rng)
    batches = [w[(t >= a) & (t < a + 20 * DAYS_PER_YEAR)] for a in np.arange(5, 205, 20) * DAYS_PER_YEAR]
    ref = {"mean wait, days": ci99([b.mean() for b in batches]),
           "share assigned within 14 days": ci99([(b <= 14).mean() for b in batches])}
    for k, (name, (m_ref, h_ref)) in enumerate(ref.items()):
        m_warm, h_warm = ci99([x[k] for x in warm])
        assert abs(m_warm - m_ref) <= math.hypot(h_warm, h_ref), (
            f"{name} after the warm-up: {m_warm:.3f} +/- {h_warm:.3f}, independent simulator {m_ref:.3f} "
            f"+/- {h_ref:.3f}")
    m_empty, h_empty = ci99([x[0] for x in empty])
    m_ref, h_ref = ref["mean wait, days"]
    assert m_empty + h_empty < m_ref - h_ref, (
        f"from empty, the short run's mean wait {m_empty:.2f} +/- {h_empty:.2f} should lie below the steady state "
        f"{m_ref:.2f} +/- {h_ref:.2f}: the test shows nothing")
    print(f"mean wait: from empty {m_empty:.2f}, after the warm-up {ci99([x[0] for x in warm])[0]:.2f}, independent "
          f"simulator {m_ref:.2f} days")


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c with offered load ``a`` < c (the test's own, not the package's)."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return c * b / (c - a * (1.0 - b))


def erlang_dyads(lam: float, mean: float, cap: int, days: float, share: float) -> int:
    """Fewest dyads whose M/M/c queue assigns ``share`` of families within ``days``."""
    a = lam * mean
    n = 1
    while n * cap <= a or 1 - erlang_c(n * cap, a) * math.exp(-(n * cap / mean - lam) * days) < share:
        n += 1
    return n


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::start_sim.core.errors.ScenarioWarning")
@pytest.mark.parametrize("families_per_year", [90.0, 160.0])
def test_sizing_at_maturity_matches_erlang_c_within_one_dyad(families_per_year):
    """Exponential case lengths, no early exit or extension, unbounded waiting: the dyad-slot queue
    is M/M/c, and the search's answer at maturity is Erlang C's within one dyad."""
    mean, cap = 60.0, 4
    lam = families_per_year / DAYS_PER_YEAR
    sc = queue(1.0, 1, cap, years=3, dist={"dist": "exponential", "mean": mean})
    sc = sc.with_changes({"counties.0.referrals_per_year": families_per_year})
    got = size_county(sc, 0, ["assigned_within_days=14@0.9"], replications=6, seed=SEED)
    want = erlang_dyads(lam, mean, cap, 14.0, 0.9)
    assert got.window.label == "at maturity" and got.window.warmup_days > 0
    assert abs(got.dyads - want) <= 1, (
        f"{families_per_year:g} families a year: the search at maturity says {got.dyads} dyads, Erlang C {want}; "
        f"service level there {got.levels[0][0]:.3f}, tried {got.tried}")


@pytest.mark.filterwarnings("ignore::start_sim.core.errors.ScenarioWarning")
def test_first_year_is_measured_from_launch_and_needs_no_more_than_maturity():
    """The first year after launch is measured from an empty start, so it never needs more dyads
    than the county at maturity (same targets, same random numbers)."""
    sc = queue(1.0, 1, 4, years=3, dist={"dist": "exponential", "mean": 60.0})
    sc = sc.with_changes({"counties.0.referrals_per_year": 160.0})
    first = size_county(sc, 0, ["assigned_within_days=14@0.9"], replications=6, seed=SEED, basis="first_year")
    mature = size_county(sc, 0, ["assigned_within_days=14@0.9"], replications=6, seed=SEED)
    assert first.window is FIRST_YEAR
    assert first.dyads <= mature.dyads, f"first year {first.dyads} dyads > at maturity {mature.dyads}"


@pytest.mark.filterwarnings("ignore::start_sim.core.errors.ScenarioWarning")
def test_initial_caseload_at_equilibrium_stays_level_like_m_g_infinity():
    """Ample slots and an initial caseload of ``a = lambda E[S]`` families: with the equilibrium
    residual (length-biased length, a uniform share served) an M/G/infinity caseload stays at
    ``a`` on average at every later day; the old residual ``(1 - U) S`` would dip, its mean being
    ``E[S] / 2`` instead of ``E[S^2] / (2 E[S])``."""
    mean, sd, per_year = 426.0, 150.0, 100.0
    a = per_year / DAYS_PER_YEAR * mean
    sc = queue(1.0, 20, 13, years=2, dist={"dist": "lognormal", "mean": mean, "sd": sd})
    sc = sc.with_changes({"counties.0.referrals_per_year": per_year, "counties.0.initial_caseload": round(a)})
    open_at, residual = {100.0: [], 300.0: []}, []
    for rep in range(30):
        cases = CountyModel(sc, 0, county_families(sc, 0, SEED, rep), with_start=True).run()
        assert all(x.service == "start" for x in cases if x.family.referral_day < 300), "ample slots: nobody diverted"
        residual += [x.planned_close_day for x in cases if x.family.pre_existing]
        for t, counts in open_at.items():
            counts.append(sum(x.assigned_day <= t < x.closure_day for x in cases))
    m_res, h_res = ci99(residual)
    want = (mean**2 + sd**2) / (2 * mean)
    assert abs(m_res - want) <= h_res, f"mean residual {m_res:.1f} +/- {h_res:.1f} days, equilibrium {want:.1f}"
    for t, counts in open_at.items():
        m, h = ci99(counts)
        assert abs(m - round(a)) <= h, f"open cases on day {t:g}: {m:.1f} +/- {h:.1f}, expected {round(a)} throughout"


def test_size_command_gives_an_answer_at_maturity_and_one_for_the_first_year(tmp_path, capsys):
    from start_sim.cli import main as cli

    path = tmp_path / "one.toml"
    path.write_text('name = "one"\nhorizon_years = 2\n[[counties]]\nname = "A"\nreferrals_per_year = 25\n')
    out = tmp_path / "sized"
    assert cli(["size", str(path), "-t", "assigned_within_days=14@0.9", "-n", "2", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "dyads needed at maturity" in text and "First year after launch" in text and "warm-up" in text
    import pandas as pd

    t = pd.read_csv(out / "staffing.csv")
    assert t.loc[0, "measured"] == "at maturity" and t.loc[0, "warmup_days"] >= 2 * DAYS_PER_YEAR
    assert t.loc[0, "dyads_first_year"] <= t.loc[0, "dyads_needed"] + 1
    assert "First year after launch" in (out / "report.html").read_text()
    assert cli(["size", str(path), "-t", "assigned_within_days=14@0.9", "-n", "2", "--from-launch",
                "--no-first-year"]) == 0
    text = capsys.readouterr().out
    assert "from launch to the horizon" in text and "First year after launch" not in text
