"""Benefit-cost analysis of START, in the public-policy convention (as WSIPP uses for
child-welfare programs): present value (PV) of placement cost avoided, PV of program cost,
net savings, savings per $1, the break-even effect, with explicit discount rate, horizon
and perspective.

Costs are recomputed after the event run from a *ledger* of each replication: every
out-of-home spell (arm, placement type, start, end, children) and every treatment episode
of the families referred within the horizon. Cost is linear in the unit costs, so any set
of unit costs, discount rate or horizon is priced from the same ledger without
re-simulating (common random numbers make the events identical anyway; only the prices
change). With the scenario's own costs, the horizon equal to ``runout_years`` and the
agency perspective, the result equals the run's KPIs ``placement_cost_*``,
``program_cost``, ``net_program_cost`` and ``net_savings``.

Cost is the *net* cost, as WSIPP reports it: START's staff and training minus the
usual-services casework the comparison families receive instead (``usual_casework_credit``);
the gross ratio is reported beside it (decision 0019).

Perspectives
  agency: the child-welfare agency pays START staff, casework, out-of-home care and subsidies
          (the model's KPIs).
  state:  the agency plus the treatment payer: START's extra treatment episodes
          (``treatment_cost_start - treatment_cost_usual``) count as a cost of START.
  federal, state_funds, county: one payer's share of the state perspective
          (:mod:`start_sim.analyses.payers`); they add up to it.
Decisions should rest on net savings; the ratio misbehaves when its denominator varies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from start_sim.analyses import payers
from start_sim.core import discount
from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.schema import MODALITIES, PLACEMENT_TYPES, Costs, Scenario
from start_sim.outcomes import costs as costmod
from start_sim.outcomes.family_outcomes import family_outcome, outcome_rates
from start_sim.outcomes.resources import SUBSIDY_KINDS
from start_sim.sim.family import in_cohort
from start_sim.sim.replication import simulate
from start_sim.sim.staff import Post

PERSPECTIVES = ("agency", "state", *payers.PERSPECTIVES)
CLAIMED_RATIO = 2.22  # "$2.22 of out-of-home cost saved per $1 spent" (program summary, method not stated)


@dataclass
class Ledger:
    """The resource spells (``outcomes.resources``) of the families referred within the horizon,
    both arms: care, usual-services casework, subsidies after exit, and treatment episodes."""

    scenario: Scenario
    ep_arm: np.ndarray  # 0 START run, 1 usual-services run
    ep_kind: np.ndarray  # index into PLACEMENT_TYPES
    ep_start: np.ndarray  # day, clipped to the referral day
    ep_end: np.ndarray  # day, clipped to the end of the family's follow-up window
    ep_ref: np.ndarray  # the family's referral day
    ep_children: np.ndarray
    ep_worked: np.ndarray  # 1 where the family's own worker (START dyad or usual caseworker) has its case open
    cw_arm: np.ndarray  # days on a usual-services caseload: arm, start, end, referral day
    cw_start: np.ndarray
    cw_end: np.ndarray
    cw_ref: np.ndarray
    sub_arm: np.ndarray  # subsidy spells after exit: arm, kind (index into SUBSIDY_KINDS), days, children
    sub_kind: np.ndarray
    sub_start: np.ndarray
    sub_end: np.ndarray
    sub_ref: np.ndarray
    sub_children: np.ndarray
    tx_arm: np.ndarray
    tx_mod: np.ndarray  # index into MODALITIES
    tx_day: np.ndarray
    tx_days: np.ndarray  # days billed per day (ongoing MOUD, decision 0053); NaN: billed per episode
    children: int  # children of the referred families
    families: int
    started: int  # referred families served by START
    pre_existing: int  # START families open on day 0 (staffed by the program, not in the cohort)
    placed_12m: tuple[float, float]  # children placed within 12 months of referral: START run, usual run
    posts: list[Post]  # START staff of every county (priced by ``costs.staff_cost``)
    until: float = math.inf  # what happened before this day only (``analyses.by_year.until``)


def ledger(scenario: Scenario, seed: int, replication: int) -> Ledger:
    """Simulate one replication and record what costs are computed from."""
    runs = simulate(scenario, seed, replication)
    ep: list[tuple] = []
    cw: list[tuple] = []
    sub: list[tuple] = []
    tx: list[tuple] = []
    kids = fams = started = pre = 0
    placed = [0.0, 0.0]
    kinds = {k: i for i, k in enumerate(PLACEMENT_TYPES)}
    subsidies = {k: i for i, k in enumerate(SUBSIDY_KINDS)}
    mods = {m: i for i, m in enumerate(MODALITIES)}
    rates = outcome_rates(scenario)
    for run in runs:
        for cs, cu in zip(run.start, run.usual, strict=True):
            f = cs.family
            if not in_cohort(f, scenario):
                pre += f.pre_existing and cs.service == "start"
                continue
            fams += 1
            kids += f.children
            started += cs.service == "start"
            ref = f.referral_day
            for arm, case in ((0, cs), (1, cu)):
                o = family_outcome(scenario, case, rates)
                placed[arm] += f.children * o.placed_12m
                ep += [(arm, kinds[sp.kind], sp.start, sp.end, ref, f.children, sp.worked) for sp in o.care]
                cw += [(arm, a, b, ref) for a, b in o.casework]
                sub += [(arm, subsidies[k], a, b, ref, f.children) for k, a, b in o.subsidies]
                tx += [(arm, mods[case.modality], day, days) for day, days in costmod.treatment_bills(scenario.treatment, case)]
    e = np.array(ep, dtype=float).reshape(-1, 7)
    w = np.array(cw, dtype=float).reshape(-1, 4)
    u = np.array(sub, dtype=float).reshape(-1, 6)
    t = np.array(tx, dtype=float).reshape(-1, 4)
    return Ledger(scenario, e[:, 0].astype(int), e[:, 1].astype(int), e[:, 2], e[:, 3], e[:, 4], e[:, 5],
                  e[:, 6].astype(bool), w[:, 0].astype(int), w[:, 1], w[:, 2], w[:, 3],
                  u[:, 0].astype(int), u[:, 1].astype(int), u[:, 2], u[:, 3], u[:, 4], u[:, 5],
                  t[:, 0].astype(int), t[:, 1].astype(int), t[:, 2], t[:, 3], kids, fams, started, pre,
                  (placed[0], placed[1]),
                  [p for run in runs for p in run.posts])


@dataclass(frozen=True)
class Options:
    """Explicit benefit-cost choices; ``None`` means the scenario's own value."""

    discount_rate: float | None = None  # per year, real
    horizon_years: float | None = None  # years of placement cost counted after each referral (<= runout_years)
    perspective: str = "agency"  # one of PERSPECTIVES


DEFAULT = Options()


def _pv(rate: float, start: np.ndarray, end: np.ndarray, ref: np.ndarray, horizon_years: float | None) -> np.ndarray:
    """PV of one unit a day over each spell, cut at ``horizon_years`` after referral."""
    if horizon_years is not None:
        end = np.minimum(end, ref + horizon_years * DAYS_PER_YEAR)
    return discount.flow(discount.rate_per_day(rate), start, end)


def _by_arm(arm: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.bincount(arm, weights=values, minlength=2)[:2]


def pv_days(led: Ledger, rate: float, horizon_years: float | None) -> np.ndarray:
    """PV child-days in care, array [arm, kind]."""
    v = _pv(rate, led.ep_start, led.ep_end, led.ep_ref, horizon_years) * led.ep_children
    out = np.zeros((2, len(PLACEMENT_TYPES)))
    np.add.at(out, (led.ep_arm, led.ep_kind), v)
    return out


def bca(led: Ledger, c: Costs | None = None, options: Options = DEFAULT) -> dict[str, float]:
    """Benefit-cost figures of one replication's ledger under unit costs ``c``: gross and net
    programme cost (net = gross - the usual-services casework START replaces), placement and
    subsidy cost avoided, net savings and savings per $1 on the net cost (decision 0019)."""
    sc = led.scenario
    c = c or sc.costs
    rate = c.discount_rate_per_year if options.discount_rate is None else options.discount_rate
    if options.discount_rate is not None:
        c = c.model_copy(update={"discount_rate_per_year": rate})
    if options.perspective not in PERSPECTIVES:
        raise ValueError(f"perspective must be one of {', '.join(PERSPECTIVES)}, not {options.perspective!r}")
    if options.horizon_years is not None and options.horizon_years > sc.runout_years + 1e-9:
        raise ValueError(f"horizon_years {options.horizon_years:g} exceeds the scenario's runout_years "
                         f"{sc.runout_years:g}: run with a longer run-out")
    h = options.horizon_years
    maintenance = np.array([costmod.maintenance_per_child_day(c, k) for k in PLACEMENT_TYPES])[led.ep_kind]
    casework = np.where(led.ep_worked, costmod.care_casework_per_child_day(c, True),
                        costmod.care_casework_per_child_day(c, False))
    days = _pv(rate, led.ep_start, led.ep_end, led.ep_ref, h) * led.ep_children
    maint, care_cw = _by_arm(led.ep_arm, days * maintenance), _by_arm(led.ep_arm, days * casework)
    care = maint + care_cw
    sub_price = np.array([costmod.subsidy_per_child_day(c, k) for k in SUBSIDY_KINDS])[led.sub_kind]
    subsidy = _by_arm(led.sub_arm, _pv(rate, led.sub_start, led.sub_end, led.sub_ref, h) * led.sub_children * sub_price)
    usual_cw = _by_arm(led.cw_arm, _pv(rate, led.cw_start, led.cw_end, led.cw_ref, h)
                       * costmod.usual_casework_per_family_day(c))
    tx_price = np.array([costmod.treatment_price(c, m) for m in MODALITIES])
    tx_bill = np.where(np.isnan(led.tx_days), tx_price[led.tx_mod], c.moud_per_day * np.nan_to_num(led.tx_days))
    tx_pv = tx_bill * discount.factor(discount.rate_per_day(rate), led.tx_day)
    treat = _by_arm(led.tx_arm, tx_pv)
    program = costmod.staff_cost(c, led.posts, sc.horizon_days)
    credit = usual_cw[1] - usual_cw[0]
    net_program = program - credit
    benefits = (care[1] + subsidy[1]) - (care[0] + subsidy[0])
    extra_tx = treat[0] - treat[1]
    cost = net_program + (extra_tx if options.perspective == "state" else 0.0)
    gross = program + (extra_tx if options.perspective == "state" else 0.0)
    if options.perspective in payers.PERSPECTIVES:  # the payers' split of the gross state view (analyses.payers)
        benefits, cost = payers.payer_view(options.perspective, sc, rate, led.posts, program, extra_tx,
                                           float(maint[1] - maint[0]), float(care_cw[1] - care_cw[0]), float(credit),
                                           float(subsidy[1] - subsidy[0]), led.until)
        gross = cost
    net = benefits - cost
    avoided = (led.placed_12m[1] - led.placed_12m[0]) / led.children if led.children else math.nan
    days_avoided = float(pv_days(led, 0.0, h).sum(axis=1) @ [-1, 1])
    return {
        "pv_placement_cost_start": float(care[0]),
        "pv_placement_cost_usual": float(care[1]),
        "pv_subsidy_cost_start": float(subsidy[0]),
        "pv_subsidy_cost_usual": float(subsidy[1]),
        "pv_placement_cost_avoided": float(benefits),
        "pv_program_cost": float(program),
        "pv_usual_casework_start": float(usual_cw[0]),
        "pv_usual_casework_usual": float(usual_cw[1]),
        "pv_usual_casework_credit": float(credit),
        "pv_net_program_cost": float(net_program),
        "pv_extra_treatment_cost": float(extra_tx),
        "pv_cost": float(cost),
        "net_savings": float(net),
        "savings_per_dollar": float(benefits / cost) if cost > 0 else math.nan,
        "savings_per_dollar_gross": float(benefits / gross) if gross > 0 else math.nan,
        "placement_days_avoided": days_avoided,
        "placement_reduction_pp": 100 * avoided,
        # savings assumed proportional to the placement reduction: the reduction that pays for START
        "break_even_reduction_pp": 100 * avoided * cost / benefits if benefits > 0 else math.nan,
        "break_even_share_of_usual_cost": float(cost / care[1]) if care[1] > 0 else math.nan,
        "program_cost_per_family_started": float(program / (led.started + led.pre_existing))
        if led.started + led.pre_existing else math.nan,
        "cohort_share_of_program": float(led.started / (led.started + led.pre_existing))
        if led.started + led.pre_existing else math.nan,
    }


def mean_bca(ledgers: list[Ledger], c: Costs | None = None, options: Options = DEFAULT) -> dict[str, float]:
    rows = [bca(led, c, options) for led in ledgers]
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def reproduce_ratio(ledgers: list[Ledger], target: float = CLAIMED_RATIO, horizons: tuple[float, ...] = (1, 2, 3),
                    program_scales: tuple[float, ...] = (1.0, 0.75, 0.5), discount_rate: float | None = None):
    """Which cost assumptions give ``target`` dollars saved per $1 under the simulated effects.

    For each horizon (years of care cost counted after referral) and programme-cost scale
    (on the gross staff cost), the ratio with the scenario's costs on the net cost (gross
    minus the usual-casework credit) and on the gross cost, and the in-care casework and
    administration cost per child-month (on top of the per diems) at which each ratio equals
    ``target``. Costs are linear in that unit cost, so it is solved exactly. Returns a pandas
    DataFrame.
    """
    import pandas as pd

    rows = []
    for h in horizons:
        if h > ledgers[0].scenario.runout_years + 1e-9:
            continue
        opt = Options(horizon_years=h)
        runs = []
        for led in ledgers:
            c = led.scenario.costs
            if discount_rate is not None:
                c = c.model_copy(update={"discount_rate_per_year": discount_rate})
            runs.append((bca(led, c, opt), bca(led, c.model_copy(update={"casework_per_child_month_in_care": 0.0}), opt),
                         bca(led, c.model_copy(update={"casework_per_child_month_in_care": 1000.0}), opt)))
        m = [{k: float(np.mean([r[i][k] for r in runs])) for k in runs[0][i]} for i in range(3)]
        benefit, b_zero = m[0]["pv_placement_cost_avoided"], m[1]["pv_placement_cost_avoided"]
        slope = (m[2]["pv_placement_cost_avoided"] - b_zero) / 1000.0
        for scale in program_scales:
            gross = scale * m[0]["pv_program_cost"]
            net = gross - m[0]["pv_usual_casework_credit"]
            need = [(target * cost - b_zero) / slope if slope > 0 and cost > 0 else math.nan for cost in (net, gross)]
            rows.append({
                "horizon_years": h, "program_cost_scale": scale,
                "program_cost_per_family": m[0]["program_cost_per_family_started"] * scale,
                "ratio_at_scenario_costs": benefit / net if net > 0 else math.nan,
                "ratio_gross_at_scenario_costs": benefit / gross if gross > 0 else math.nan,
                "casework_per_child_month_for_target": need[0],
                "casework_per_child_month_for_target_gross": need[1],
            })
    return pd.DataFrame(rows)
