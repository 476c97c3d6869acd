"""Outcome model: placement invariants, START mechanisms and the paired counterfactual.

Mechanism tests compare scenarios on common random numbers, replication by replication,
and judge the paired differences against their own standard error (never a seeded value).
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim.experiments.runner import run
from start_sim.inputs.schema import FollowUp, Placement
from start_sim.outcomes.children import ADOPTION, GUARDIANSHIP, IN_CARE, REUNIFIED, Paths, placement_history
from start_sim.outcomes.family_outcomes import family_outcome
from start_sim.outcomes.followup import report_days
from start_sim.sim.recovery import EARLY, SUSTAINED, USING
from start_sim.sim.replication import simulate
from start_sim.sim.streams import CountyDraws, UniformSeq

Y = 365.25
REPS = 8
SEED = 2
SLOTS = ("outpatient", "intensive_outpatient", "residential", "moud")


# -- helpers ---------------------------------------------------------------------------------

def paired(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Mean and standard error of the paired differences a - b over replications."""
    d = (np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    d = d[~np.isnan(d)]
    assert len(d) >= 3, f"only {len(d)} replications with both values"
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


def assert_positive(a: pd.Series, b: pd.Series, what: str, k: float = 3.0) -> None:
    """a > b: the paired difference lies more than k standard errors above zero."""
    m, se = paired(a, b)
    assert m - k * se > 0, f"{what}: paired difference {m:+.5f} (SE {se:.5f}) is not above 0 by {k} SE"


def assert_covers_zero(a: pd.Series, b: pd.Series, what: str, k: float = 4.0) -> None:
    """a == b within noise: the paired difference is within k standard errors of zero."""
    m, se = paired(a, b)
    assert abs(m) <= k * se + 1e-12, f"{what}: paired difference {m:+.6f} (SE {se:.6f}) is {abs(m) / max(se, 1e-300):.1f} SE from 0"


@pytest.fixture(scope="module")
def base() -> ss.Scenario:
    """One county with ample dyads (nobody waits, so START and usual services see the same
    families at the same times) and default START mechanisms."""
    return ss.Scenario(
        name="mechanisms", horizon_years=3, runout_years=2,
        counties=[{"name": "A", "referrals_per_year": 80, "dyads": 12}],
    )


_cache: dict[str, ss.Results] = {}


def results(sc: ss.Scenario, key: str) -> ss.Results:
    if key not in _cache:
        _cache[key] = run(sc, replications=REPS, seed=SEED)
    return _cache[key]


@pytest.fixture(scope="module")
def base_results(base) -> ss.Results:
    res = results(base, "base")
    assert (res.kpis["mean_days_to_assignment"] == 0).all(), "the mechanism scenario should have no wait for a dyad"
    return res


# -- placement invariants --------------------------------------------------------------------

@pytest.fixture(scope="module")
def churn() -> ss.Scenario:
    """Many placements, reunifications, re-entries, petitions and guardianships."""
    return ss.Scenario(
        name="churn", horizon_years=3, runout_years=2,
        counties=[{"name": "A", "referrals_per_year": 60, "dyads": 2, "initial_caseload": 20, "initial_waitlist": 3}],
        placement={"removal_at_investigation_share": 0.3, "rate_using": 2.0, "rate_in_treatment": 1.0,
                   "rate_in_recovery": 0.5, "reunification_rate_in_recovery": 3.0,
                   "reunification_rate_not_in_recovery": 0.8, "guardianship_rate_after_hearing": 1.0,
                   "tpr_exception_relative": 0.3},
        program={"max_wait_days": None},  # some families still waiting at the end of the run
    )


def test_episodes_never_overlap_and_exits_are_consistent(churn):
    end = churn.end_days
    n_eps = exits = 0
    seen = set()
    for rep in range(2):
        for runs in simulate(churn, seed=5, replication=rep):
            for case in runs.start + runs.usual:
                o = family_outcome(churn, case)
                eps = o.episodes
                ref = case.family.referral_day
                n_eps += len(eps)
                for e in eps:
                    assert ref <= e.start <= e.end <= end, f"episode {e} outside [referral {ref}, end {end}]"
                for a, b in pairwise(eps):
                    assert a.end <= b.start, f"overlapping spells: {a} and {b}"
                    assert a.exit == REUNIFIED, f"a spell after exit {a.exit}: {eps}"
                for e in eps[:-1]:
                    assert e.exit != IN_CARE, f"only the last spell can be open at the end: {eps}"
                if eps and eps[-1].exit == IN_CARE:
                    assert eps[-1].end == end, f"open spell ends on {eps[-1].end}, not the end of the run {end}"
                if case.family.removed_at_investigation:
                    assert eps and eps[0].start == ref, f"removed at investigation but first spell starts {eps[:1]}"
                seen |= {e.exit for e in eps}
                exits += sum(e.exit != IN_CARE for e in eps)
                # the outcome is a function of the case record: asking again gives the same
                again = family_outcome(churn, case)
                assert again.episodes == eps and again.report_12m == o.report_12m, "family_outcome is not repeatable"
                assert o.placed_12m == any(e.start <= ref + 365.0 for e in eps), "placed_12m disagrees with the spells"
    assert n_eps > 200 and {REUNIFIED, GUARDIANSHIP, ADOPTION, IN_CARE} <= seen, (
        f"the churn scenario should exercise every exit: {n_eps} spells, exits {sorted(seen)}")


def test_child_days_add_up_to_the_window(churn):
    res = run(churn, replications=2, seed=6)
    f = res.families
    window = churn.runout_years * Y
    kinds = ("relative", "foster", "residential")
    for arm in ("start", "usual"):
        parts = {"home": f[f"home_days_{arm}"], "other permanency": f[f"other_permanency_days_{arm}"],
                 "kin arrangement": f[f"kin_arrangement_days_{arm}"], **{k: f[f"{k}_days_{arm}"] for k in kinds}}
        for name, col in parts.items():
            assert (col >= -1e-9).all(), f"{arm}: negative {name} days, min {col.min():.6f}"
        total = sum(parts.values())
        worst = float((total - window).abs().max())
        assert worst <= 1e-6, f"{arm}: home + care + other days differ from the {window}-day window by up to {worst:.3e}"
        care = sum(f[f"{k}_days_{arm}"] for k in kinds)
        gap = float((care - f[f"placement_days_{arm}"]).abs().max())
        assert gap <= 1e-6, f"{arm}: placement_days differs from the sum of care days by {gap:.3e}"
        assert (f[f"placements_{arm}"] > 0).sum() > 50, f"{arm}: too few placed families to test"


# -- hazards at home against theory (scripted parent paths) -------------------------------------

def _seq(row) -> UniformSeq:
    return UniformSeq(np.asarray(row, dtype=float), CountyDraws(0, 0, 0, 0, 1), "test", 0)


@pytest.mark.parametrize("open_days, mult", [(None, 1.0), (200.0, 0.4)])
def test_placement_hazard_at_home_matches_theory(open_days, mult):
    """P(placed within a year) = 1 - exp(-cumulative hazard), with safety planning only while open;
    placement types follow their shares."""
    p = Placement(rate_using=0.6, rate_in_recovery=0.1, kin_arrangement_ratio=0.0)
    rec_day = 150.0  # the parent recovers on day 150
    times, states = [0.0, rec_day], [USING, EARLY]
    start_open = None if open_days is None else (0.0, open_days)
    # cumulative hazard to day 365 (rate per year / 365.25 per day), multiplied while the case is open
    pieces = [(0.0, rec_day, p.rate_using), (rec_day, 365.0, p.rate_in_recovery)]
    H = 0.0
    for a, b, r in pieces:
        if start_open is None:
            H += r / Y * (b - a)
        else:
            inside = max(0.0, min(b, open_days) - a)
            H += r / Y * (inside * mult + (b - a - inside))
    expected = 1 - math.exp(-H)
    rng = np.random.default_rng(9)
    n = 20_000
    placed, kinds = 0, {"relative": 0, "foster": 0, "residential": 0}
    for _ in range(n):
        paths = Paths(start_open, mult, 0.0, math.nan)
        eps = placement_history(0.0, False, times, states, paths, p, _seq(rng.random(12)), _seq(rng.random(6)), 365.0)
        if eps:
            placed += 1
            kinds[eps[0].kind] += 1
    se = math.sqrt(expected * (1 - expected) / n)
    assert abs(placed / n - expected) < 4 * se, (
        f"placed within a year {placed / n:.4f} vs theory {expected:.4f} (4 SE = {4 * se:.4f})")
    for kind, count in kinds.items():
        share = getattr(p.type_shares, kind)
        se_k = math.sqrt(share * (1 - share) / placed)
        assert abs(count / placed - share) < 4 * se_k + 1e-12, f"{kind} share {count / placed:.4f} vs {share} (4 SE {4 * se_k:.4f})"


def test_re_report_count_matches_poisson_mean():
    """Re-reports are a Poisson process: mean count = integral of the rate, raised while a START case is open."""
    fu = FollowUp(report_rate_using=2.0, report_rate_in_recovery=0.5)
    times, states = [0.0, 300.0], [USING, SUSTAINED]
    surveillance, open_ = 3.0, (100.0, 500.0)
    end = 730.0
    # rate per day on pieces: [0,100) using, [100,300) using x3, [300,500) recovery x3, [500,730) recovery
    mean = (2.0 * 100 + 2.0 * 3 * 200 + 0.5 * 3 * 200 + 0.5 * 230) / Y
    rng = np.random.default_rng(4)
    n = 20_000
    counts = np.array([len(report_days(0.0, times, states, open_, surveillance, fu, _seq(rng.random(12)), end))
                       for _ in range(n)])
    se = math.sqrt(mean / n)
    assert abs(counts.mean() - mean) < 4 * se, f"mean re-reports {counts.mean():.4f} vs Poisson mean {mean:.4f} (4 SE {4 * se:.4f})"
    assert abs(counts.var() / counts.mean() - 1) < 0.05, f"variance/mean of re-report counts {counts.var() / counts.mean():.3f}, Poisson 1"


# -- START mechanisms ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def no_mechanisms(base) -> ss.Scenario:
    """Every START mechanism off and usual services set like START."""
    return base.with_changes({
        "start.rapid_access": False,
        "start.mentor_support": False,
        "start.safety_planning_casework_multiplier": 1.0,
        "start.safety_planning_mentor_multiplier": 1.0,
        "start.kin_preference": 0.0,
        "start.report_removal_multiplier": 1.0,
        "start.surveillance_report_multiplier": 1.0,
        "treatment.uptake_start": base.treatment.uptake_usual,
        "usual.service_days": base.program.service_days.model_dump(by_alias=True),
        # case length and closure rule as in usual services, else sobriety *at closure* is
        # measured at differently chosen times (START extends a case up to twice while the
        # parent is not in recovery, usual services once)
        "program.disengagement_probability": 0.0,
        "program.max_extensions": base.usual.max_extensions,
        "program.extension_days": base.usual.extension_days.model_dump(by_alias=True),
        # in-care casework in full: the share charged while a case is open follows each arm's case
        # windows (START's opens at assignment, after any wait), which are the same rule but not the
        # same days; this test is about care itself
        "costs.in_care_casework_share_while_case_open": 1.0,
    })


def test_no_mechanisms_no_effect(no_mechanisms):
    """START = usual services within noise, and savings near zero."""
    off = no_mechanisms
    k = results(off, "off").kpis
    for key in ("placement_rate_12m", "placement_days", "home_at_closure_rate", "reunification_rate_if_placed",
                "recurrence_rate_12m", "reentry_rate_12m", "sobriety_rate_at_closure", "mean_days_to_treatment"):
        assert_covers_zero(k[f"{key}_start"], k[f"{key}_usual"], f"{key}: START - usual with no mechanisms")
    rel = float(k["savings_vs_usual"].abs().mean() / k["placement_cost_usual"].mean())
    assert rel < 0.01, f"savings_vs_usual is {rel:.2%} of the placement cost with no START mechanism"


def test_no_mechanisms_same_family_outcomes(no_mechanisms):
    """Without mechanisms each family's placements, re-reports, treatment entry and recovery at
    12 months are the same in both arms (common random numbers, nobody waits for a dyad)."""
    # a kin arrangement still in place at closure becomes relative custody on each arm's own
    # closure day, and the arms draw their case lengths from different uniforms: no arrangements here
    sc = no_mechanisms.with_changes({"placement.kin_arrangement_ratio": 0.0})
    n = 0
    for run_ in simulate(sc, seed=SEED, replication=0):
        for cs, cu in zip(run_.start, run_.usual, strict=True):
            os_, ou = family_outcome(sc, cs), family_outcome(sc, cu)
            n += len(os_.episodes)
            # equal up to rounding: the START run advances the recovery path in other steps
            same = len(os_.episodes) == len(ou.episodes) and all(
                a.kind == b.kind and a.exit == b.exit and abs(a.start - b.start) < 1e-6 and abs(a.end - b.end) < 1e-6
                for a, b in zip(os_.episodes, ou.episodes, strict=True))
            assert same, f"family {cs.family.index}: spells differ\n{os_.episodes}\n{ou.episodes}"
            for attr in ("report_12m", "sober_12m", "days_to_treatment"):
                a, b = getattr(os_, attr), getattr(ou, attr)
                assert a == b or (a != a and b != b), f"family {cs.family.index}: {attr} START {a} vs usual {b}"
    assert n > 20, f"only {n} spells in care: too few to compare"


def test_start_beats_usual_with_mentors(base_results):
    k = base_results.kpis
    assert_positive(k["sobriety_rate_at_closure_start"], k["sobriety_rate_at_closure_usual"], "sobriety: START - usual")
    assert_positive(k["placement_rate_12m_usual"], k["placement_rate_12m_start"], "placement within 12 months: usual - START")
    assert_positive(k["mean_days_to_treatment_usual"], k["mean_days_to_treatment_start"], "days to treatment: usual - START")
    assert_positive(k["savings_vs_usual"], 0 * k["savings_vs_usual"], "savings_vs_usual")


def test_start_raises_sobriety_at_12_months(base):
    """Measured at the same moment in both arms (12 months after referral), not at closure."""
    d = []
    for run_ in simulate(base, seed=SEED, replication=0):
        for cs, cu in zip(run_.start, run_.usual, strict=True):
            if cs.service == "start" and not cs.family.pre_existing:
                a, b = family_outcome(base, cs).sober_12m, family_outcome(base, cu).sober_12m
                if a == a and b == b:
                    d.append(a - b)
    m, se = float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(len(d)))
    assert m - 3 * se > 0, f"sober 12 months after referral, START - usual: {m:+.4f} (SE {se:.4f}, {len(d)} families)"


def test_scarce_treatment_delays_treatment_and_lowers_sobriety(base, base_results):
    k0 = base_results.kpis
    one = results(base.with_changes({"treatment.default_slots": dict.fromkeys(SLOTS, 1)}), "slots1").kpis
    none = results(base.with_changes({"treatment.default_slots": dict.fromkeys(SLOTS, 0)}), "slots0").kpis
    for arm in ("start", "usual"):
        assert_positive(one[f"mean_days_to_treatment_{arm}"], k0[f"mean_days_to_treatment_{arm}"],
                        f"{arm}: days to treatment, one place per modality - default places")
        assert_positive(k0[f"sobriety_rate_at_closure_{arm}"], one[f"sobriety_rate_at_closure_{arm}"],
                        f"{arm}: sobriety, default places - one place per modality")
        assert_positive(k0[f"sobriety_rate_at_closure_{arm}"], none[f"sobriety_rate_at_closure_{arm}"],
                        f"{arm}: sobriety, default places - no places")
        assert none[f"mean_days_to_treatment_{arm}"].isna().all(), f"{arm}: days to treatment without any place"
        assert (none[f"treatment_cost_{arm}"] == 0).all(), f"{arm}: treatment cost without any place"


def test_some_treatment_capacity_is_no_worse_than_none(base):
    one = results(base.with_changes({"treatment.default_slots": dict.fromkeys(SLOTS, 1)}), "slots1").kpis
    none = results(base.with_changes({"treatment.default_slots": dict.fromkeys(SLOTS, 0)}), "slots0").kpis
    for arm in ("start", "usual"):
        m, se = paired(one[f"sobriety_rate_at_closure_{arm}"], none[f"sobriety_rate_at_closure_{arm}"])
        assert m + 3 * se >= 0, f"{arm}: sobriety with one place per modality is {m:+.3f} (SE {se:.3f}) below none"


def test_mentors_carry_part_of_the_effect(base, base_results):
    """Caseworkers without mentors (same cap, so the same families are served) do less."""
    full = base_results.kpis
    solo = results(base.with_changes({"counties.0.mentors": 0, "program.solo_caseload_cap": base.program.caseload_cap}),
                   "solo").kpis
    assert (solo["families_started"] == full["families_started"]).all(), "solo and full runs should serve the same families"
    assert_positive(full["placement_rate_12m_usual"] - full["placement_rate_12m_start"],
                    solo["placement_rate_12m_usual"] - solo["placement_rate_12m_start"],
                    "placement effect (usual - START): with mentors - without")
    assert_positive(full["sobriety_rate_at_closure_start"] - full["sobriety_rate_at_closure_usual"],
                    solo["sobriety_rate_at_closure_start"] - solo["sobriety_rate_at_closure_usual"],
                    "sobriety effect (START - usual): with mentors - without")
    assert_positive(full["savings_vs_usual"], solo["savings_vs_usual"], "savings: with mentors - without")


def test_surveillance_raises_start_re_reports(base, base_results):
    k = base_results.kpis
    assert base.start.surveillance_report_multiplier > 1, "the default should raise reporting under START"
    assert_positive(k["recurrence_rate_12m_start"], k["recurrence_rate_12m_usual"],
                    "re-report within 12 months: START - usual, surveillance multiplier > 1")
    flat = results(base.with_changes({"start.surveillance_report_multiplier": 1.0}), "surv1").kpis
    m, se = paired(flat["recurrence_rate_12m_start"], flat["recurrence_rate_12m_usual"])
    assert m <= 3 * se, f"re-report START - usual is {m:+.4f} (SE {se:.4f}) above 0 without surveillance"


def test_safety_planning_lowers_start_placements(base):
    flat = results(base.with_changes({"start.safety_planning_casework_multiplier": 1.0}), "safety1").kpis
    half = results(base.with_changes({"start.safety_planning_casework_multiplier": 0.5}), "safety05").kpis
    assert_positive(flat["placement_rate_12m_start"], half["placement_rate_12m_start"],
                    "START placement within 12 months: safety multiplier 1 - 0.5")
    assert (flat["placement_rate_12m_usual"] == half["placement_rate_12m_usual"]).all(), (
        "safety planning changed the usual-services arm")


# -- paired counterfactual -------------------------------------------------------------------

def test_usual_arm_sees_the_same_families(base):
    sc = base.with_changes({"counties.0.initial_caseload": 15, "counties.0.dyads": 3})  # some wait, some diverted
    for run_ in simulate(sc, seed=3, replication=1):
        assert len(run_.start) == len(run_.usual) == len(run_.families), "arms hold different numbers of families"
        for cs, cu, fam in zip(run_.start, run_.usual, run_.families, strict=True):
            assert cs.family is fam and cu.family is fam, "the two arms' cases point at different family records"
            for attr in ("referral_day", "children", "youngest_age", "substance", "two_parent", "high_severity",
                         "removed_at_investigation", "pre_existing"):
                assert getattr(cs.family, attr) == getattr(cu.family, attr), f"{attr} differs between arms"
            assert cs.seqs is not cu.seqs, "each arm needs its own readers of the family's sequences"
        assert any(c.route in ("reneged", "diverted") for c in run_.start), "the scenario should divert some families"


def test_usual_arm_does_not_depend_on_start_settings(base, base_results):
    """The counterfactual of a family is the same whatever START does (common random numbers)."""
    other = results(base.with_changes({"counties.0.mentors": 0, "program.solo_caseload_cap": base.program.caseload_cap}),
                    "solo").families
    f0 = base_results.families
    cols = [c for c in f0.columns if c.endswith("_usual")]
    assert len(f0) == len(other), "a START setting changed the families referred"
    for c in cols:
        a, b = f0[c].to_numpy(), other[c].to_numpy()
        same = (a == b) | (pd.isna(a) & pd.isna(b))
        assert same.all(), f"usual-services column {c} changed with START settings in {int((~same).sum())} families"
