"""Per-family outcomes of one arm, computed after the event run from the case record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from start_sim.core.timebase import DAYS_PER_YEAR, OUTCOME_WINDOW_DAYS
from start_sim.inputs.schema import PLACEMENT_TYPES, Scenario
from start_sim.inputs.sites import site_placement
from start_sim.outcomes import costs
from start_sim.outcomes.children import (
    KIN_ARRANGEMENT,
    PERMANENT_EXITS,
    REUNIFIED,
    Episode,
    Paths,
    PlacementRates,
    placement_history,
    placement_rates,
)
from start_sim.outcomes.dispositions import PARENTS, disposition
from start_sim.outcomes.followup import removal_days, report_days
from start_sim.outcomes.resources import CareSpell, care_spells, start_open, subsidy_spells, usual_casework_spans
from start_sim.sim.case import Case
from start_sim.sim.recovery import in_recovery, untreated_recovery


@dataclass(slots=True)
class Outcome:
    """What one family's children and parent went through in one arm (per-child counts x children)."""

    children: int
    sober_at_closure: float  # 1/0, nan if the case had not closed by the end
    placed_12m: bool
    placed_window: bool
    care_days: dict[str, float]  # child-days per placement type within the window (per child)
    home_days: float  # per child, days at home with the parent within the window
    other_days: float  # per child, days after guardianship, adoption or relative custody within the window
    home_at_closure: float  # 1/0/nan
    reunified: bool
    reentered_12m: float  # 1/0, nan if never reunified or not observed for 12 months
    report_12m: bool
    report_after_closure_12m: float  # 1/0/nan
    days_to_treatment: float  # nan if no treatment
    placement_cost: float  # PV maintenance and in-care casework
    treatment_cost: float
    episodes: list[Episode]
    care: list[CareSpell] = field(default_factory=list)  # the priced resource spells (outcomes.resources)
    casework: list[tuple[float, float]] = field(default_factory=list)
    subsidies: list[tuple[str, float, float]] = field(default_factory=list)
    usual_casework_cost: float = 0.0  # PV usual-services casework
    subsidy_cost: float = 0.0  # PV adoption and guardianship subsidies after exit
    # 1/0 in recovery 12 months after referral, nan if not observed: unlike sobriety at
    # closure, measured at the same moment in both arms (START extends cases while the
    # parent is not in recovery, which raises its sobriety *at closure* by itself)
    sober_12m: float = math.nan
    placed_during_service: float = math.nan  # 1/0 placed between referral and closure, nan if open at the end
    placed_after_closure_12m: float = math.nan  # 1/0 home at closure then placed within the follow-up, else nan
    kin_spells: list[Episode] = field(default_factory=list)  # with kin outside foster care (not in ``episodes``)
    kin_days: float = 0.0  # per child, days in a kin arrangement within the window (not in home_days)
    disposition_at_closure: str = ""  # outcomes.dispositions; "" if the case had not closed by the end
    disposition_12m_after_closure: str = ""  # "" if not closed or closure + follow-up is after the run

    @property
    def placement_days(self) -> float:
        return sum(self.care_days.values())


@dataclass(slots=True)
class OutcomeRates:
    """What the outcomes of every family of one scenario read alike, computed once (``outcome_rates``,
    one per ``summarise``) rather than per family: the same values, by the same operations."""

    sc: Scenario
    end: float  # sc.end_days
    runout_days: float  # the follow-up window's length
    prices: costs.Prices
    placement: dict[tuple[int, float], PlacementRates] = field(default_factory=dict)  # by (county, site effect)

    def placement_for(self, county: int, effect: float) -> PlacementRates:
        """The placement walks' rates of one county at its site effect (``site_placement``)."""
        got = self.placement.get((county, effect))
        if got is None:
            sc = self.sc
            got = self.placement[county, effect] = placement_rates(site_placement(sc.placement, sc.counties[county], effect))
        return got


def outcome_rates(sc: Scenario) -> OutcomeRates:
    """The ``OutcomeRates`` of ``sc``."""
    return OutcomeRates(sc, sc.end_days, sc.runout_years * DAYS_PER_YEAR, costs.prices(sc.costs))


def family_outcome(sc: Scenario, case: Case, rates: OutcomeRates | None = None) -> Outcome:
    """Children's placements, re-reports, sobriety and costs for one family in one arm (``rates``:
    ``outcome_rates(sc)`` if already known, as for every family of a replication)."""
    r = outcome_rates(sc) if rates is None else rates
    f = case.family
    end = r.end
    referral = f.referral_day
    window_end = referral + r.runout_days
    seqs = case.seqs
    # Fresh readers of the family's children, reports and (for a family never served)
    # recovery sequences, none of which the event run has read: the outcome is then a
    # function of the case record, the same however often it is asked for.
    proc = case.recovery or untreated_recovery(sc, f, seqs["recovery"].fresh())
    times, states = proc.path(end)
    open_start = start_open(sc, case)
    eff, followup = sc.start, sc.followup
    reports = report_days(
        referral, times, states, open_start, eff.surveillance_report_multiplier, followup, seqs["reports"].fresh(), end,
    )
    closure = case.closure_day
    paths = Paths(
        open_start,
        eff.safety_planning_casework_multiplier * (eff.safety_planning_mentor_multiplier if case.mentor else 1.0),
        eff.kin_preference, closure,
        removal_days(reports, times, states, open_start, eff.surveillance_report_multiplier,
                     eff.report_removal_multiplier, followup, seqs["report_removal"].fresh()) if reports else (),
    )
    pr = r.placement_for(f.county, f.site_effect)
    away = placement_history(
        referral, f.removed_at_investigation, times, states, paths, pr.p,
        seqs["children"].fresh(), seqs["kin"].fresh(), end, f.kin_at_investigation, pr,
    )
    episodes: list[Episode] = []
    kin_spells: list[Episode] = []
    care = dict.fromkeys(PLACEMENT_TYPES, 0.0)
    other = 0.0
    kin_days = 0.0
    for ep in away:
        days = max(0.0, min(ep.end, window_end) - max(ep.start, referral))
        if ep.kind == KIN_ARRANGEMENT:
            kin_spells.append(ep)  # with kin outside foster care (not priced, not counted as placed)
            kin_days += days
        else:
            episodes.append(ep)
            care[ep.kind] += days
        if ep.exit in PERMANENT_EXITS:
            other += max(0.0, window_end - max(ep.end, referral))
    observed = window_end - referral
    home = observed - sum(care.values()) - kin_days - other
    reunions = [ep.end for ep in episodes if ep.exit == REUNIFIED and ep.end < window_end]
    if reunions and reunions[0] + OUTCOME_WINDOW_DAYS <= end:
        back, back_by = reunions[0], reunions[0] + OUTCOME_WINDOW_DAYS
        reentered = float(any([back < ep.start <= back_by for ep in episodes]))
    else:
        reentered = math.nan
    if not math.isnan(closure):
        sober = float(in_recovery(proc.state_at(closure)))
        at_close = disposition(away, closure) if away else PARENTS
        home_close = float(at_close == PARENTS)
        after = closure + followup.followup_days
        at_after = (disposition(away, after) if away else PARENTS) if after < end else ""
        report_after = float(any([closure < d <= after for d in reports])) if after <= end else math.nan
        during = float(any([ep.start <= closure for ep in episodes]))
        placed_after = (
            float(any([closure < ep.start <= after for ep in episodes])) if home_close and after <= end else math.nan
        )
    else:
        sober = home_close = report_after = during = placed_after = math.nan
        at_close = at_after = ""
    tx = case.tx_start_day
    spans = usual_casework_spans(sc, case)
    if episodes:
        spells, subsidies = care_spells(sc, case, episodes, spans), subsidy_spells(sc, case, episodes)
    else:
        spells, subsidies = [], []
    at_12m = referral + OUTCOME_WINDOW_DAYS
    prices = r.prices
    return Outcome(
        children=f.children,
        sober_at_closure=sober,
        placed_12m=any([ep.start <= at_12m for ep in episodes]),
        placed_window=any([ep.start < window_end for ep in episodes]),
        care_days=care,
        home_days=home,
        other_days=other,
        home_at_closure=home_close,
        reunified=bool(reunions),
        reentered_12m=reentered,
        report_12m=any([d <= at_12m for d in reports]),
        report_after_closure_12m=report_after,
        days_to_treatment=tx - referral if not math.isnan(tx) else math.nan,
        placement_cost=costs.placement_cost(sc.costs, spells, f.children, prices),
        treatment_cost=costs.treatment_bills_cost(sc.costs, sc.treatment, case, prices),
        episodes=episodes,
        care=spells,
        casework=spans,
        subsidies=subsidies,
        usual_casework_cost=costs.usual_casework_cost(sc.costs, spans, prices),
        subsidy_cost=costs.subsidy_cost(sc.costs, subsidies, f.children, prices),
        sober_12m=float(in_recovery(proc.state_at(at_12m))) if at_12m <= end else math.nan,
        placed_during_service=during,
        placed_after_closure_12m=placed_after,
        kin_spells=kin_spells,
        kin_days=kin_days,
        disposition_at_closure=at_close,
        disposition_12m_after_closure=at_after,
    )
