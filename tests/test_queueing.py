"""Analytic and extreme-value checks of the dyad-slot queue.

With exponential case lengths, no early exit, no extension and an unbounded waitlist,
the wait for a START slot is an M/M/c queue with c = dyads x caseload_cap: the simulated
mean wait, P(wait > 0) and mean waitlist must match Erlang C. With the ``divert`` policy
there is no waitlist and the share of families diverted is Erlang B's blocking
probability. Little's law ties time averages to per-family times. Extreme values (no
dyads, unlimited capacity, a launch after the horizon) have exact answers.

Tolerances come from the replications: a theoretical value must lie in the 99%
t-interval of the replication means. No seeded number is pinned.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats

import start_sim as ss
from start_sim.metrics.kpis import summarise
from start_sim.sim.case import Case, State
from start_sim.sim.model import CountyModel
from start_sim.sim.replication import county_families, simulate

SEED = 20240611
DAYS_PER_YEAR = 365.25


# -- queueing theory ---------------------------------------------------------------------
def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``a`` = lambda / mu."""
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c with offered load ``a`` < c."""
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def test_erlang_formulas_against_textbook_values():
    # c = 1: M/M/1, P(wait) = rho and B = a / (1 + a)
    assert erlang_c(1, 0.7) == pytest.approx(0.7, abs=1e-12)
    assert erlang_b(1, 0.5) == pytest.approx(1 / 3, abs=1e-12)
    # c = 2, a = 1: B = (1/2) / (1 + 1 + 1/2) = 0.2; C = 2 B / (2 - 1 (1 - B)) = 1/3
    assert erlang_b(2, 1.0) == pytest.approx(0.2, abs=1e-12)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, abs=1e-12)


def ci99(x: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 99% t-interval over replications."""
    x = np.asarray(x, dtype=float)
    n = len(x)
    return float(x.mean()), float(stats.t.ppf(0.995, n - 1) * x.std(ddof=1) / math.sqrt(n))


def assert_in_ci(name: str, sims: np.ndarray, theory: float, abs_floor: float = 0.0) -> None:
    mean, half = ci99(sims)
    half = max(half, abs_floor)
    assert abs(mean - theory) <= half, (
        f"{name}: simulated mean {mean:.4f} differs from theory {theory:.4f} by {mean - theory:+.4f}, "
        f"more than the 99% CI half-width {half:.4f} over {len(sims)} replications"
    )


# -- scenarios ---------------------------------------------------------------------------
def queue_scenario(
    rho: float,
    *,
    dyads: int = 2,
    cap: int = 3,
    mean_service: float = 10.0,
    years: float = 20,
    policy: str = "waitlist",
    max_wait: float | None = None,
    **program: object,
) -> ss.Scenario:
    """A county whose dyad slots form an M/M/c queue at utilisation ``rho`` = lambda / (c mu)."""
    c = dyads * cap
    lam = rho * c / mean_service  # families per day
    return ss.Scenario(
        name=f"mmc-{rho}",
        horizon_years=years,
        runout_years=0.5,
        counties=[{"name": "Q", "referrals_per_year": lam * DAYS_PER_YEAR, "dyads": dyads}],
        # nobody enters treatment: it cannot change a slot's occupancy here, and it costs time
        treatment={"uptake_usual": 0.0, "uptake_start": 0.0},
        start={"mentor_uptake": 0.0},
        program={
            "caseload_cap": cap,
            "service_days": {"dist": "exponential", "mean": mean_service},
            "disengagement_probability": 0.0,
            "max_extensions": 0,
            "max_wait_days": max_wait,
            "waitlist_policy": policy,
            **program,
        },
    )


class TimeAverage:
    """Time integral of the waitlist length and open START cases, read from the live model.

    ``CountyModel`` calls the audit after every state change, so between two calls the
    waitlist and caseloads are constant: this is an estimator independent of the case
    records the KPIs are computed from.
    """

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi
        self.last_t = 0.0
        self.last = (0, 0)
        self.wait_area = 0.0
        self.case_area = 0.0

    def __call__(self, model: CountyModel, what: str) -> None:
        if not model.with_start:
            return
        self._advance(model.env.now)
        self.last = (len(model.waitlist), model.pool.active)

    def _advance(self, t: float) -> None:
        dt = max(0.0, min(t, self.hi) - max(self.last_t, self.lo))
        self.wait_area += self.last[0] * dt
        self.case_area += self.last[1] * dt
        self.last_t = t

    def finish(self) -> tuple[float, float]:
        """Time-average waitlist and caseload over [lo, hi)."""
        self._advance(self.hi)
        span = self.hi - self.lo
        return self.wait_area / span, self.case_area / span


def start_arm(sc: ss.Scenario, rep: int, audit: Callable | None = None) -> list[Case]:
    """The START arm of county 0 for one replication (the counterfactual is not needed here)."""
    fams = county_families(sc, 0, SEED, rep)
    return CountyModel(sc, 0, fams, with_start=True, audit=audit).run()


# -- Erlang C ----------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("rho", "years"), [(0.5, 10), (0.7, 12), (0.9, 20)])
def test_wait_for_a_slot_is_erlang_c(rho, years):
    dyads, cap, mean_service = 2, 3, 10.0
    c = dyads * cap
    warmup = 2 * DAYS_PER_YEAR  # an empty start relaxes within a few hundred days even at rho = 0.9
    reps = 40
    sc = queue_scenario(rho, dyads=dyads, cap=cap, mean_service=mean_service, years=years)
    lam = rho * c / mean_service
    a = lam * mean_service
    p_wait = erlang_c(c, a)
    wq = p_wait / (c / mean_service - lam)
    waits, delayed, lq = [], [], []
    for rep in range(reps):
        avg = TimeAverage(warmup, sc.horizon_days)
        cases = start_arm(sc, rep, avg)
        w = np.array([x.wait_days for x in cases if warmup <= x.family.referral_day < sc.horizon_days])
        assert len(w) > 500, f"rep {rep}: only {len(w)} referrals after the warm-up"
        assert not np.isnan(w).any(), (
            f"rep {rep}: {int(np.isnan(w).sum())} families referred before the horizon were never assigned "
            "although the waitlist is unbounded and the queue is stable"
        )
        assert (w >= 0).all(), f"rep {rep}: negative wait {w.min()}"
        waits.append(w.mean())
        delayed.append((w > 0).mean())
        lq.append(avg.finish()[0])
    assert_in_ci(f"mean wait for a slot, days (rho={rho}, c={c})", np.array(waits), wq)
    assert_in_ci(f"P(wait > 0) (rho={rho}, c={c})", np.array(delayed), p_wait)
    assert_in_ci(f"time-average waitlist (rho={rho}, c={c})", np.array(lq), lam * wq)


@pytest.mark.slow
@pytest.mark.parametrize("load", [3.0, 6.0])
def test_divert_policy_blocks_like_erlang_b(load):
    """No waitlist: a family finding every slot full is diverted, so the system is M/M/c/c."""
    dyads, cap, mean_service = 2, 3, 10.0
    c = dyads * cap
    warmup = 0.5 * DAYS_PER_YEAR
    reps = 30
    sc = queue_scenario(load / c, dyads=dyads, cap=cap, mean_service=mean_service, years=6, policy="divert")
    blocked = []
    for rep in range(reps):
        cases = [x for x in start_arm(sc, rep) if warmup <= x.family.referral_day < sc.horizon_days]
        routes = {x.route for x in cases}
        assert routes <= {"assigned", "diverted"}, f"rep {rep}: unexpected routes {routes - {'assigned', 'diverted'}}"
        waits = np.array([x.wait_days for x in cases if x.service == "start"])
        assert (waits == 0).all(), f"rep {rep}: with policy divert a START family waited up to {waits.max()} days"
        diverted = [x for x in cases if x.route == "diverted"]
        assert all(x.diverted_day == x.family.referral_day for x in diverted), (
            f"rep {rep}: a diverted family was diverted after its referral day"
        )
        blocked.append(len(diverted) / len(cases))
    assert_in_ci(f"share diverted (offered load {load}, c={c})", np.array(blocked), erlang_b(c, load))


# -- Little's law ------------------------------------------------------------------------
LITTLE = dict(
    caseload_cap=3,
    service_days={"dist": "lognormal", "mean": 60, "sd": 30},
    disengagement_probability=0.2,
    disengagement_days={"dist": "uniform", "low": 10, "high": 90},
    max_extensions=2,
    extension_days={"dist": "fixed", "value": 30},
    max_wait_days=20.0,
)


def little_scenario(referrals_per_year: float, years: float) -> ss.Scenario:
    """Lognormal case lengths, early exits, extensions and reneging: Little's law needs none of M/M/c."""
    return ss.Scenario(
        name="little",
        horizon_years=years,
        runout_years=1.5,
        counties=[{"name": "L", "referrals_per_year": referrals_per_year, "dyads": 2}],
        program=LITTLE,
    )


def full_wait(case: Case) -> float:
    """Referral to the end of waiting: assignment or reneging (diverted after max_wait_days)."""
    if case.service == "start":
        return case.assigned_day - case.family.referral_day
    assert case.route == "reneged", f"family {case.family.index}: route {case.route!r} in a waitlist scenario"
    return case.diverted_day - case.family.referral_day


@pytest.mark.parametrize("referrals_per_year", [30.0, 45.0])
def test_littles_law_on_waitlist_and_caseload(referrals_per_year):
    """Over a window after warm-up, L (from the live model) = lambda W (from the family records).

    Both sides are estimated from the same replication and paired, so the tolerance is
    the 99% t-interval of the paired difference. Families who reneged count with their
    whole wait; cases count from assignment to closure including extensions.
    """
    years, reps = 12, 24
    sc = little_scenario(referrals_per_year, years)
    lo, hi = 2 * DAYS_PER_YEAR, sc.horizon_days
    span = hi - lo
    diffs_w, diffs_c, lq, lc = [], [], [], []
    reneged = 0
    for rep in range(reps):
        avg = TimeAverage(lo, hi)
        cases = start_arm(sc, rep, avg)
        arrivals = [x for x in cases if lo <= x.family.referral_day < hi]
        waits = np.array([full_wait(x) for x in arrivals])
        reneged += sum(x.route == "reneged" for x in arrivals)
        starts = [x for x in cases if x.service == "start" and lo <= x.assigned_day < hi]
        in_start = np.array([x.closure_day - x.assigned_day for x in starts])
        assert not np.isnan(in_start).any(), "a case assigned before the horizon was still open at the end of the run"
        wait_avg, case_avg = avg.finish()
        lq.append(wait_avg)
        lc.append(case_avg)
        diffs_w.append(wait_avg - len(arrivals) / span * waits.mean())
        diffs_c.append(case_avg - len(starts) / span * in_start.mean())
    assert reneged > 0, "no family reneged: the test does not exercise waits cut short by max_wait_days"
    for name, d, level in (("waitlist", diffs_w, lq), ("caseload", diffs_c, lc)):
        mean, half = ci99(np.array(d))
        # edge effects at the window's ends vanish in expectation at steady state; the floor
        # only keeps a degenerate (zero-variance) difference from failing on rounding
        half = max(half, 1e-9)
        assert abs(mean) <= half, (
            f"Little's law on the {name}: time average {np.mean(level):.4f} minus arrival rate x mean time "
            f"differs by {mean:+.4f} on average, more than the 99% CI half-width {half:.4f}"
        )


def _kpi_scenarios() -> list[ss.Scenario]:
    base = little_scenario(40.0, 4)
    return [
        base,
        base.with_changes({"program.waitlist_policy": "divert"}),
        base.with_changes({"program.max_wait_days": None}),
        base.with_changes({"counties.0.initial_caseload": 6, "counties.0.initial_waitlist": 4}),
        base.with_changes({"counties.0.launch_day": 200.0, "counties.0.mentors": 1}),
    ]


@pytest.mark.parametrize("sc", _kpi_scenarios(), ids=["reneging", "divert", "unbounded", "initial", "launch-solo"])
def test_time_average_kpis_equal_integral_of_model_state(sc):
    """Two estimators of one metric: mean_waitlist / mean_caseload from the case records,
    and the time integral of the live model's waitlist and caseloads, over [0, horizon)."""
    for rep in range(2):
        avg = TimeAverage(0.0, sc.horizon_days)
        runs = simulate(sc, SEED, rep, audit=avg)
        kpis = summarise(sc, runs, rep).kpis
        wait_avg, case_avg = avg.finish()
        for key, live in (("mean_waitlist", wait_avg), ("mean_caseload", case_avg)):
            assert kpis[key] == pytest.approx(live, rel=1e-9, abs=1e-9), (
                f"rep {rep}: KPI {key} = {kpis[key]:.6f} but the model's own state averages {live:.6f} "
                f"(difference {kpis[key] - live:+.3g})"
            )


def test_littles_law_sandwich_from_empty_start():
    """Starting empty, over [0, H): departures-based lambda W <= time average <= arrivals-based lambda W.

    Exact on every sample path: the time average counts families still waiting (or open)
    at H only up to H, the arrivals-based product counts their whole time, and the
    departures-based product leaves them out.
    """
    sc = little_scenario(45.0, 4)
    H = sc.horizon_days
    for rep in range(3):
        runs = simulate(sc, SEED, rep)
        kpis = summarise(sc, runs, rep).kpis
        cases = runs[0].start
        arrivals = [x for x in cases if x.family.referral_day < H]
        waits = np.array([full_wait(x) for x in arrivals])
        ends = np.array([x.family.referral_day for x in arrivals]) + waits
        by_arrival = waits.sum() / H
        by_departure = waits[ends <= H].sum() / H
        starts = [x for x in cases if x.service == "start" and x.assigned_day < H]
        dur = np.array([x.closure_day - x.assigned_day for x in starts])
        closes = np.array([x.closure_day for x in starts])
        assert not np.isnan(dur).any(), "a case assigned before the horizon was still open at the end of the run"
        for key, lo_, hi_ in (
            ("mean_waitlist", by_departure, by_arrival),
            ("mean_caseload", dur[closes <= H].sum() / H, dur.sum() / H),
        ):
            got = kpis[key]
            assert lo_ - 1e-9 <= got <= hi_ + 1e-9, (
                f"rep {rep}: {key} = {got:.5f} outside Little's bounds [{lo_:.5f}, {hi_:.5f}] "
                f"(below by {lo_ - got:+.3g} / above by {got - hi_:+.3g})"
            )


# -- extreme values ----------------------------------------------------------------------
def _busy(**county: object) -> ss.Scenario:
    return ss.Scenario(
        name="extreme",
        horizon_years=3,
        runout_years=1,
        counties=[{"name": "X", "referrals_per_year": 60, "dyads": 2, **county}],
        program={"caseload_cap": 3},
    )


def test_zero_dyads_sends_everyone_to_usual_services():
    """With no dyad every family, pre-existing waitlist included, is diverted to usual services at once."""
    sc = _busy(dyads=0, initial_waitlist=3)
    res = ss.run(sc, replications=2, seed=SEED)
    k = res.kpis
    assert (k["families_referred"] > 0).all(), "the scenario referred no family, so the test shows nothing"
    for key in ("families_started", "mean_waitlist", "mean_caseload", "families_waiting_at_end"):
        assert (k[key] == 0).all(), f"{key} with 0 dyads: {k[key].tolist()} (expected 0)"
    assert (k["families_diverted"] == k["families_referred"]).all(), "every referred family is diverted"
    routes = set(res.families["route"])
    assert routes == {"diverted"}, f"routes with 0 dyads: {routes} (expected only 'diverted')"
    services = set(res.families["service"])
    assert services == {"usual"}, f"services with 0 dyads: {services}"
    for run in simulate(sc, SEED, 0):
        bad = [c for c in run.start if c.state != State.USUAL or c.route != "diverted"]
        assert not bad, f"{len(bad)} of {len(run.start)} cases (incl. pre-existing, run-out) not usual/diverted"


@pytest.mark.parametrize("policy", ["waitlist", "divert"])
def test_unlimited_capacity_gives_zero_waits(policy):
    sc = _busy(dyads=200).with_changes({"program.waitlist_policy": policy})
    res = ss.run(sc, replications=2, seed=SEED)
    k = res.kpis
    assert (k["families_started"] == k["families_referred"]).all(), (
        f"started {k['families_started'].tolist()} != referred {k['families_referred'].tolist()} with 600 slots"
    )
    assert (k["families_diverted"] == 0).all(), f"families_diverted {k['families_diverted'].tolist()} with 600 slots"
    waits = res.families["wait_days"]
    assert (waits == 0).all(), f"wait_days should be exactly 0 with 600 slots; max {waits.max()}"
    assert (k["mean_waitlist"] == 0).all(), f"mean_waitlist {k['mean_waitlist'].tolist()} with 600 slots"
    assert (k["mean_days_to_assignment"] == 0).all(), f"mean_days_to_assignment {k['mean_days_to_assignment'].tolist()}"


def test_launch_after_horizon_starts_nobody():
    """A county launching after the horizon (beside one that runs START) serves nobody with START."""
    sc = ss.Scenario(  # horizon is 3 years; the run goes on 1 year more
        name="extreme", horizon_years=3, runout_years=1, program={"caseload_cap": 3},
        counties=[{"name": "X", "referrals_per_year": 60, "dyads": 2, "launch_day": 4 * DAYS_PER_YEAR},
                  {"name": "Y", "referrals_per_year": 10, "dyads": 1}])
    res = ss.run(sc, replications=2, seed=SEED)
    k = res.county_kpis[res.county_kpis["county"] == "X"]
    assert (k["families_referred"] > 0).all(), "the scenario referred no family, so the test shows nothing"
    assert (k["families_started"] == 0).all(), f"families_started {k['families_started'].tolist()} before launch"
    assert (k["families_diverted"] == 0).all(), f"families_diverted {k['families_diverted'].tolist()} before launch"
    routes = set(res.families.loc[res.families["county"] == "X", "route"])
    assert routes == {"before_launch"}, f"routes before launch: {routes} (expected only 'before_launch')"
    assert (k["mean_caseload"] == 0).all(), f"mean_caseload {k['mean_caseload'].tolist()} before launch"
