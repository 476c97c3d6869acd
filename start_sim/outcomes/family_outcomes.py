"""Per-family outcomes of one arm, computed after the event run from the case record."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from start_sim.core.timebase import DAYS_PER_YEAR, OUTCOME_WINDOW_DAYS
from start_sim.inputs.schema import PLACEMENT_TYPES, Scenario
from start_sim.inputs.sites import site_placement
from start_sim.outcomes import costs
from start_sim.outcomes.children import KIN_ARRANGEMENT, PERMANENT_EXITS, REUNIFIED, Episode, Paths, placement_history
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


def family_outcome(sc: Scenario, case: Case) -> Outcome:
    """Children's placements, re-reports, sobriety and costs for one family in one arm."""
    f = case.family
    end = sc.end_days
    window_end = f.referral_day + sc.runout_years * DAYS_PER_YEAR
    # Fresh readers of the family's children, reports and (for a family never served)
    # recovery sequences, none of which the event run has read: the outcome is then a
    # function of the case record, the same however often it is asked for.
    proc = case.recovery or untreated_recovery(sc, f, case.seqs["recovery"].fresh())
    times, states = proc.path(end)
    open_start = start_open(sc, case)
    reports = report_days(
        f.referral_day, times, states, open_start, sc.start.surveillance_report_multiplier,
        sc.followup, case.seqs["reports"].fresh(), end,
    )
    eff = sc.start
    paths = Paths(
        open_start,
        eff.safety_planning_casework_multiplier * (eff.safety_planning_mentor_multiplier if case.mentor else 1.0),
        eff.kin_preference, case.closure_day,
        removal_days(reports, times, states, open_start, eff.surveillance_report_multiplier,
                     eff.report_removal_multiplier, sc.followup, case.seqs["report_removal"].fresh()),
    )
    placement = site_placement(sc.placement, sc.counties[f.county], f.site_effect)
    away = placement_history(
        f.referral_day, f.removed_at_investigation, times, states, paths, placement,
        case.seqs["children"].fresh(), case.seqs["kin"].fresh(), end, f.kin_at_investigation,
    )
    episodes = [ep for ep in away if ep.kind != KIN_ARRANGEMENT]  # spells in foster care (priced, counted as placed)
    kin_spells = [ep for ep in away if ep.kind == KIN_ARRANGEMENT]
    closed = not math.isnan(case.closure_day)
    care = dict.fromkeys(PLACEMENT_TYPES, 0.0)
    other = 0.0
    kin_days = 0.0
    for ep in away:
        days = max(0.0, min(ep.end, window_end) - max(ep.start, f.referral_day))
        if ep.kind == KIN_ARRANGEMENT:
            kin_days += days
        else:
            care[ep.kind] += days
        if ep.exit in PERMANENT_EXITS:
            other += max(0.0, window_end - max(ep.end, f.referral_day))
    observed = window_end - f.referral_day
    home = observed - sum(care.values()) - kin_days - other
    reunions = [ep.end for ep in episodes if ep.exit == REUNIFIED and ep.end < window_end]
    if reunions and reunions[0] + OUTCOME_WINDOW_DAYS <= end:
        reentered = float(any(reunions[0] < ep.start <= reunions[0] + OUTCOME_WINDOW_DAYS for ep in episodes))
    else:
        reentered = math.nan
    if closed:
        sober = float(in_recovery(proc.state_at(case.closure_day)))
        at_close = disposition(away, case.closure_day)
        home_close = float(at_close == PARENTS)
        after = case.closure_day + sc.followup.followup_days
        at_after = disposition(away, after) if after < end else ""
        report_after = float(any(case.closure_day < d <= after for d in reports)) if after <= end else math.nan
        during = float(any(ep.start <= case.closure_day for ep in episodes))
        placed_after = (
            float(any(case.closure_day < ep.start <= after for ep in episodes)) if home_close and after <= end else math.nan
        )
    else:
        sober = home_close = report_after = during = placed_after = math.nan
        at_close = at_after = ""
    tx = case.tx_start_day
    spans = usual_casework_spans(sc, case)
    spells, subsidies = care_spells(sc, case, episodes, spans), subsidy_spells(sc, case, episodes)
    at_12m = f.referral_day + OUTCOME_WINDOW_DAYS
    return Outcome(
        children=f.children,
        sober_at_closure=sober,
        placed_12m=any(ep.start <= at_12m for ep in episodes),
        placed_window=any(ep.start < window_end for ep in episodes),
        care_days=care,
        home_days=home,
        other_days=other,
        home_at_closure=home_close,
        reunified=bool(reunions),
        reentered_12m=reentered,
        report_12m=any(d <= at_12m for d in reports),
        report_after_closure_12m=report_after,
        days_to_treatment=tx - f.referral_day if not math.isnan(tx) else math.nan,
        placement_cost=costs.placement_cost(sc.costs, spells, f.children),
        treatment_cost=costs.treatment_bills_cost(sc.costs, sc.treatment, case),
        episodes=episodes,
        care=spells,
        casework=spans,
        subsidies=subsidies,
        usual_casework_cost=costs.usual_casework_cost(sc.costs, spans),
        subsidy_cost=costs.subsidy_cost(sc.costs, subsidies, f.children),
        sober_12m=float(in_recovery(proc.state_at(at_12m))) if at_12m <= end else math.nan,
        placed_during_service=during,
        placed_after_closure_12m=placed_after,
        kin_spells=kin_spells,
        kin_days=kin_days,
        disposition_at_closure=at_close,
        disposition_12m_after_closure=at_after,
    )

