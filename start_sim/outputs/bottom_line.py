"""The bottom line at the top of every report: plain sentences built from the results, with what
is counted, the horizon and what each interval covers.

One function per report kind, each a plain function of summary tables (so they can be tested
on small fabricated ones): :func:`run`, :func:`compare`, :func:`uncertainty`, :func:`calibration`
and :func:`size`. Each returns a :class:`BottomLine`; :func:`as_html` renders it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from start_sim.inputs.schema import Scenario
from start_sim.outputs.formatting import money, share
from start_sim.outputs.html import escape
from start_sim.outputs.labels import kpi_label

NOISE_ONLY = "simulation noise only; see the uncertainty analysis for parameter uncertainty"
COUNTED = ("Counted: START staff and training, less the usual-services casework START replaces, against the "
           "out-of-home care (per diems and in-care casework) and subsidies after exit avoided for the families "
           "referred within the horizon. Not counted: treatment costs (reported separately) and anything after "
           "the follow-up.")


@dataclass(frozen=True)
class BottomLine:
    """Sentences for a decision, and the note of what is counted and over which horizon."""

    sentences: tuple[str, ...]
    scope: str


@dataclass(frozen=True)
class Setting:
    """What the sentences of a run need to know of its scenario."""

    dyads: int
    counties: int
    horizon_years: float
    runout_years: float
    discount_rate: float


@dataclass(frozen=True)
class Psa:
    """What the uncertainty analysis says of net savings (present value, USD)."""

    mean: float
    low: float  # 2.5th percentile over the draws
    high: float  # 97.5th percentile
    p_positive: float
    draws: int


def setting(scenario: Scenario) -> Setting:
    """What the sentences need to know of a scenario."""
    return Setting(sum(c.dyads for c in scenario.counties), len(scenario.counties), scenario.horizon_years,
                   scenario.runout_years, scenario.costs.discount_rate_per_year)


def psa_of(summary: pd.DataFrame, p_positive: float, draws: int) -> Psa:
    """A :class:`Psa` from the uncertainty summary (columns output, mean, p2.5, p97.5)."""
    r = summary.set_index("output").loc["net_savings"]
    return Psa(float(r["mean"]), float(r["p2.5"]), float(r["p97.5"]), float(p_positive), int(draws))


def _get(s: pd.DataFrame, key: str, col: str = "mean") -> float:
    return float(s.at[key, col]) if key in s.index and col in s.columns else math.nan


def _years(y: float) -> str:
    return f"{y:g} year" + ("" if y == 1 else "s")


def _count(x: float) -> str:
    """A mean count of families as a whole number."""
    return f"{x:,.0f}" if math.isfinite(x) else "-"


def _net(value: float) -> str:
    """Net savings as words: savings when positive, a net cost when negative."""
    return f"net savings of {money(value)}" if value >= 0 else f"a net cost of {money(-value)}, as it costs more than it avoids"


def _scope(horizon: str, rate: float) -> str:
    return f"{COUNTED} Horizon: {horizon}. Amounts in USD, present value discounted at {100 * rate:g}% a year."


def _referred(st: Setting) -> str:
    return f"families referred over {_years(st.horizon_years)}, followed for {_years(st.runout_years)} more"


def run(s: pd.DataFrame, setting: Setting, psa: Psa | None = None) -> BottomLine:
    """The bottom line of one run from its summary (index: KPI column; mean, ci_low, ci_high)."""
    scope = _scope(_referred(setting), setting.discount_rate)
    started = _get(s, "families_started")
    where = f" in {setting.counties} counties" if setting.counties > 1 else ""
    if setting.dyads == 0 or not started > 0:
        return BottomLine((f"With {setting.dyads} START dyads{where}, no family is served by START over the "
                           f"{_years(setting.horizon_years)}: there are no outcomes or savings to compare with "
                           "usual services.",), scope)
    out = [f"With {setting.dyads} dyads{where}, {share(_get(s, 'share_assigned_within_14d'))} of referred families "
           f"are assigned to a dyad within 14 days (mean wait {_get(s, 'mean_days_to_assignment'):.1f} days); "
           f"{_count(started)} families are served by START over the {_years(setting.horizon_years)}"
           + (f" and {_count(_get(s, 'families_diverted'))} go to usual services because no place opened in time."
              if _get(s, "families_diverted") >= 0.5 else ".")]
    out.append(f"Of their children, {share(_get(s, 'placement_rate_12m_start'))} are placed out of home within "
               f"12 months, against {share(_get(s, 'placement_rate_12m_usual'))} of the same families under usual "
               f"services; {share(_get(s, 'sobriety_rate_at_closure_start'))} of parents are in recovery when the "
               f"case closes, against {share(_get(s, 'sobriety_rate_at_closure_usual'))}.")
    net, cost, gross = _get(s, "net_savings"), _get(s, "net_program_cost"), _get(s, "program_cost")
    money_s = (f"START is expected to cost {money(cost)} net of the usual casework it replaces "
               f"({money(gross)} before that credit) and to avoid {money(_get(s, 'savings_vs_usual'))} of "
               f"out-of-home care and subsidies: {_net(net)}")
    if psa is not None:
        out.append(f"{money_s} (95% interval {money(psa.low)} to {money(psa.high)} over {psa.draws} draws of the "
                   "effects and unit costs in the uncertainty analysis).")
        out.append(f"The chance it saves more than it costs is {share(psa.p_positive)}.")
    else:
        out.append(f"{money_s} (95% confidence interval {money(_get(s, 'net_savings', 'ci_low'))} to "
                   f"{money(_get(s, 'net_savings', 'ci_high'))}: {NOISE_ONLY}).")
        out.append("The chance it saves more than it costs needs the uncertainty analysis (start-sim uncertainty); "
                   "it is not estimated in this report.")
    return BottomLine(tuple(out), scope)


def compare(summary: pd.DataFrame, names: Sequence[str], settings: Mapping[str, Setting]) -> BottomLine:
    """The bottom line of a comparison from its summary (scenario, kpi, mean, diff_mean, diff_ci_*)."""
    ref = names[0]
    rows = summary.set_index(["kpi", "scenario"])

    def v(kpi: str, name: str, col: str = "mean") -> float:
        return float(rows.at[(kpi, name), col]) if (kpi, name) in rows.index and col in rows.columns else math.nan

    out = []
    for n in names:
        st = settings[n]
        fam = v("families_started", n)
        line = (f"{n} ({st.dyads} dyads): {_count(fam)} families served by START, "
                f"{share(v('share_assigned_within_14d', n))} assigned within 14 days")
        if fam > 0:
            line += (f"; {share(v('placement_rate_12m_start', n))} of their children placed within 12 months "
                     f"(usual services: {share(v('placement_rate_12m_usual', n))}); {_net(v('net_savings', n))}")
            per = v("net_program_cost", n) / fam
            line += f", a net cost of {money(per)} per family served" if math.isfinite(per) else ""
        out.append(line + ".")
    for n in names[1:]:
        d, lo, hi = (v("net_savings", n, c) for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
        df = v("families_started", n, "diff_mean")
        out.append(f"Against {ref}, {n} changes net savings by {money(d)} (95% confidence interval {money(lo)} to "
                   f"{money(hi)}: {NOISE_ONLY}) and serves {_count(abs(df))} "
                   f"{'more' if df >= 0 else 'fewer'} families.")
    out.append("Read net savings beside the families served and their outcomes: a plan that serves fewer families "
               "can show larger savings while doing less.")
    st = settings[ref]
    return BottomLine(tuple(out), _scope(_referred(st), st.discount_rate))


def uncertainty(summary: pd.DataFrame, p_positive: float, draws: int, perspective: str, horizon_years: float,
                discount_rate: float) -> BottomLine:
    """The bottom line of the uncertainty analysis from its summary (output, point, mean, p2.5, p97.5)."""
    s = summary.set_index("output")

    def g(key: str, col: str = "mean") -> float:
        return float(s.at[key, col]) if key in s.index else math.nan

    net = g("net_savings")
    out = [f"Over {_years(horizon_years)} of care after referral, from the {perspective}'s point of view, START is "
           f"expected to cost {money(g('pv_cost'))} and avoid {money(g('pv_placement_cost_avoided'))} of out-of-home "
           f"care and subsidies: {_net(net)} (95% interval {money(g('net_savings', 'p2.5'))} to "
           f"{money(g('net_savings', 'p97.5'))} over {draws} draws of the effects and unit costs; each draw "
           "also carries one replication's chance variation).",
           f"The chance it saves more than it costs is {share(p_positive)}.",
           f"Each $1 of net cost avoids {money_per_dollar(g('savings_per_dollar', 'median'))} (median; "
           f"{money_per_dollar(g('savings_per_dollar_gross', 'median'))} on the gross cost). Decide on net savings "
           "and the chance above: the ratio hides the size of the programme."]
    return BottomLine(tuple(out), _scope(f"{_years(horizon_years)} of care counted after each referral", discount_rate))


def money_per_dollar(value: float) -> str:
    """A ratio of dollars as "$2.22"."""
    return f"${value:.2f}" if math.isfinite(value) else "- (the net cost is not positive)"


def calibration(fit: pd.DataFrame, ess: float, particles: int, deviance: float) -> BottomLine:
    """The bottom line of a calibration from its fit table (target, arm, kpi, inside) and posterior."""
    n = len(fit)
    missed = fit[~fit["inside"].astype(bool)]
    out = [f"The model was fitted to {n} observed result{'s' if n != 1 else ''} of the studies; at the best fit "
           + ("every one is reproduced inside its interval." if missed.empty else
              f"{n - len(missed)} are inside their intervals and these are not: "
              + "; ".join(f"{r.target}, {kpi_label(f'{r.kpi}_{r.arm}')}" for r in missed.itertuples()) + ".")]
    enough = ess >= 100
    out.append(f"The posterior (the parameter values consistent with the studies) rests on an effective "
               f"{ess:.0f} of {particles} weighted draws: " + (
                   "enough to carry parameter uncertainty into the uncertainty analysis." if enough else
                   "few, so read its intervals as rough and refit with more points before a budget decision."))
    out.append(f"Overall misfit (deviance, -2 log-likelihood ratio): {deviance:.2f}; 0 is a perfect fit.")
    return BottomLine(tuple(out), "Calibration intervals cover parameter uncertainty given the studies' sizes; "
                                  "the studies' own biases are not counted.")


def size(table: pd.DataFrame, targets: Sequence[str], replications: int) -> BottomLine:
    """The bottom line of a staffing search from its table (county, dyads_needed, caseworkers, mentors,
    target_met, p_meets_target, annual_staff_cost)."""
    goal = " and ".join(targets) or "the service targets"
    out = []
    for r in table.itertuples():
        if r.target_met:
            out.append(f"{r.county}: {r.dyads_needed} dyads ({r.caseworkers} caseworkers, {r.mentors} mentors) meet "
                       f"{goal}; the target was met in {share(r.p_meets_target)} of replications; staff cost "
                       f"{money(r.annual_staff_cost)} a year.")
        else:
            out.append(f"{r.county}: even {r.dyads_needed} dyads do not meet {goal}; look at the referrals and "
                       "the service length before adding staff.")
    if len(table) > 1:
        out.append(f"All counties: {int(table['dyads_needed'].sum())} dyads, staff cost "
                   f"{money(float(table['annual_staff_cost'].sum()))} a year.")
    return BottomLine(tuple(out), f"Each answer is the smallest number of dyads whose mean over {replications} "
                                  f"replications meets the target ({NOISE_ONLY}).")


def as_html(bl: BottomLine) -> str:
    """The bottom-line block of a report."""
    items = "".join(f"<li>{escape(x)}</li>" for x in bl.sentences)
    return (f'<section class="bottom-line"><h2>Bottom line</h2><ul>{items}</ul>'
            f"<p class=small>{escape(bl.scope)}</p></section>")
