"""The registry of metrics: every KPI's key, label, unit and definition, in one dictionary.

Tables, plots and the CLI read labels and units from ``METRICS``. Outcome KPIs come in
two arms: ``_start`` (families served by START, in the START run) and ``_usual`` (the
same families in the usual-services run), so each replication gives paired outcomes.
Cost KPIs cover every eligible family referred within the horizon, in both runs; START's
cost is reported gross (``program_cost``) and net of the usual-services casework it replaces
(``net_program_cost``), and the ratio and net savings use the net cost (decision 0019).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One KPI as tables and plots show it."""

    key: str
    label: str
    unit: str
    definition: str
    arms: bool = False  # True: reported as key_start and key_usual


METRICS: dict[str, Metric] = {m.key: m for m in [
    Metric("families_referred", "Eligible families referred", "families",
           "eligible referrals within the horizon: families_started + families_diverted + families_waiting_at_end"
           " + families_before_launch + families_declined, each family in exactly one"),
    Metric("families_started", "Families started in START", "families", "referred families assigned to a dyad"),
    Metric("families_diverted", "Families diverted", "families",
           "referred families served by usual services because no slot opened in time (or at once: policy divert, or a county with no dyads)"),
    Metric("families_waiting_at_end", "Families still waiting for a dyad at the end", "families",
           "referred families still on the waitlist when the run ends (horizon plus run-out): neither started nor diverted"),
    Metric("families_before_launch", "Families referred before START launched in their county", "families",
           "referred families served by usual services because START did not run in their county yet"),
    Metric("mean_days_to_assignment", "Mean wait for a dyad", "days", "referral to assignment, families started"),
    Metric("p90_days_to_assignment", "90th percentile wait", "days", "referral to assignment, families started"),
    Metric("share_assigned_within_14d", "Assigned within 14 days", "share",
           "share of families referred where START runs (after launch) assigned to a dyad within 14 days "
           "(families who declined START left out)"),
    Metric("mean_waitlist", "Mean waitlist", "families", "time-average number waiting over the horizon"),
    Metric("mean_caseload", "Mean START caseload", "families", "time-average open START cases over the horizon"),
    Metric("dyad_utilization", "Dyad utilisation", "share",
           "time-average caseload on a caseworker / caseload slots over the horizon"),
    Metric("caseworker_fte", "START caseworkers in post", "FTE", "time-average over the horizon, training included"),
    Metric("mentor_fte", "Mentors in post", "FTE", "time-average over the horizon, training included"),
    Metric("vacancy_days", "Vacant post-days", "days", "days posts stood open before a hire, within the horizon"),
    Metric("families_reassigned", "Families reassigned", "families",
           "moves of open START cases to another caseworker (a leaver's, or over a lowered cap), whole run"),
    Metric("mean_days_to_treatment", "Days to treatment", "days", "referral to treatment entry, parents entering", True),
    Metric("sobriety_rate_at_closure", "Sobriety at closure", "share", "parents in recovery when the case closes", True),
    Metric("sobriety_rate_12m", "Sobriety at 12 months", "share",
           "parents in recovery 12 months after referral (the same moment in both arms)", True),
    Metric("placement_rate_12m", "Placed within 12 months", "share of children",
           "children placed out of home within 12 months of referral (removal at investigation included)", True),
    Metric("placement_rate_during_service", "Placed during the case", "share of children",
           "children placed between referral and case closure (removal at investigation included)", True),
    Metric("placement_days", "Days in care per child", "days",
           "child-days in out-of-home care from referral to the end of the follow-up window, per child", True),
    Metric("home_at_closure_rate", "Home at closure", "share of children",
           "children with or reunified with a parent when the case closes", True),
    Metric("reunification_rate_if_placed", "Reunified if placed", "share of children",
           "placed children reunified within the follow-up window", True),
    Metric("recurrence_rate_12m", "Re-report within 12 months", "share of families",
           "maltreatment re-report within 12 months of referral (START monitoring raises reporting)", True),
    Metric("recurrence_after_closure_12m", "Re-report 12 months after closure", "share of families",
           "maltreatment re-report within the follow-up after closure", True),
    Metric("reentry_rate_12m", "Re-entry within 12 months", "share of children",
           "reunified children who re-enter care within 12 months of reunification", True),
    Metric("placement_after_closure_12m", "Placed within 12 months of closure", "share of children",
           "children at home at closure who enter care within the follow-up after closure", True),
    Metric("closure_with_parents_rate", "At closure: with a parent", "share of children",
           "children with or returned to a parent when the case closes (= home_at_closure_rate)", True),
    Metric("closure_with_relatives_rate", "At closure: with relatives", "share of children",
           "children with kin when the case closes: a kin arrangement outside foster care, a relative placement "
           "(no TPR petition), guardianship or relative custody", True),
    Metric("closure_in_nonrelative_care_rate", "At closure: in non-relative care", "share of children",
           "children in foster or residential care when the case closes, no TPR petition filed", True),
    Metric("closure_tpr_or_adopted_rate", "At closure: TPR or adopted", "share of children",
           "children in care after a TPR petition, or adopted, when the case closes; the four closure shares add up "
           "to 1", True),
    Metric("with_parents_12m_after_closure_rate", "12 months after closure: with a parent", "share of children",
           "children with a parent 12 months (followup.followup_days) after the case closed", True),
    Metric("with_relatives_12m_after_closure_rate", "12 months after closure: with relatives", "share of children",
           "children with kin 12 months after the case closed (as closure_with_relatives_rate)", True),
    Metric("in_nonrelative_care_12m_after_closure_rate", "12 months after closure: in non-relative care",
           "share of children", "children in foster or residential care 12 months after the case closed, no TPR "
           "petition filed", True),
    Metric("tpr_or_adopted_12m_after_closure_rate", "12 months after closure: TPR or adopted", "share of children",
           "children in care after a TPR petition, or adopted, 12 months after the case closed; the four add up to 1",
           True),
    Metric("program_cost", "START program cost (gross)", "USD (PV)", "START staff and training, launch to horizon"),
    Metric("usual_casework_credit", "Usual casework credit", "USD (PV)",
           "usual_casework_cost_usual - usual_casework_cost_start: the usual-services casework START replaces"),
    Metric("net_program_cost", "START program cost (net)", "USD (PV)",
           "program_cost - usual_casework_credit (the WSIPP net cost)"),
    Metric("placement_cost", "Out-of-home care cost", "USD (PV)",
           "maintenance and in-care casework of all referred families' children over the follow-up window", True),
    Metric("subsidy_cost", "Subsidies after exit", "USD (PV)",
           "adoption assistance and guardianship subsidies of referred families' children within the follow-up window",
           True),
    Metric("usual_casework_cost", "Usual-services casework", "USD (PV)",
           "ongoing usual-services casework of all referred families (waiting for a dyad or in a usual case)", True),
    Metric("treatment_cost", "Treatment cost", "USD (PV)", "treatment episodes of referred parents (payer: Medicaid/state)", True),
    Metric("savings_vs_usual", "Placement cost avoided", "USD (PV)",
           "(placement_cost + subsidy_cost)_usual - (placement_cost + subsidy_cost)_start"),
    Metric("net_savings", "Net savings", "USD (PV)", "savings_vs_usual - net_program_cost"),
    Metric("savings_per_dollar", "Savings per $1 (net cost)", "USD per USD",
           "savings_vs_usual / net_program_cost; nan if the net cost is not positive"),
    Metric("savings_per_dollar_gross", "Savings per $1 (gross cost)", "USD per USD", "savings_vs_usual / program_cost"),
    Metric("cost_per_placement_avoided", "Net cost per placement avoided", "USD",
           "net_program_cost / (children placed within 12 months: usual - START); nan if none avoided"),
    Metric("families_declined", "Families who declined START", "families",
           "referred families who declined START at referral and got usual services (program.decline_probability)"),
    Metric("families_never_engaged", "Families who never engaged", "families",
           "referred families assigned to a dyad who never engaged: usual services after the outreach "
           "(counted in families_started)"),
    Metric("itt_families", "Families offered START (intention to treat)", "families",
           "referred families where START runs (after launch): served, declined, never engaged, disengaged, "
           "diverted or still waiting"),
    Metric("itt_placement_rate_12m", "Placed within 12 months, all offered (ITT)", "share of children",
           "children of every family offered START placed within 12 months of referral, served or not", True),
    Metric("itt_placement_days", "Days in care per child, all offered (ITT)", "days",
           "child-days in care over the follow-up window per child of every family offered START", True),
    Metric("itt_placement_cost", "Out-of-home care cost, all offered (ITT)", "USD (PV)",
           "maintenance and in-care casework of the children of every family offered START", True),
    Metric("itt_placement_difference_12m", "ITT difference in 12-month placement", "difference in share of children",
           "itt_placement_rate_12m_start - itt_placement_rate_12m_usual (the randomised-trial contrast)"),
]}


def kpi_columns() -> list[str]:
    """The KPI columns of a replication, each arm-wise metric as ``_start`` and ``_usual``."""
    cols = []
    for m in METRICS.values():
        cols += [f"{m.key}_start", f"{m.key}_usual"] if m.arms else [m.key]
    return cols


PROVIDER_METRICS: dict[str, Metric] = {m.key: m for mod in ("outpatient", "intensive_outpatient", "residential", "moud")
                                        for m in [
    Metric(f"treatment_utilisation_{mod}", f"Treatment places in use: {mod.replace('_', ' ')}", "share",
           f"place-days in use / ({mod} places x horizon), every client of the places (CPS parents of every county "
           "using them, and background clients); county_kpis.csv and region_kpis.csv only", True),
    Metric(f"treatment_wait_days_{mod}", f"Wait for a treatment place: {mod.replace('_', ' ')}", "days",
           f"request to entry, mean over every client entering {mod} places who asked within the horizon (CPS "
           "parents and background clients); county_kpis.csv and region_kpis.csv only", True),
]}
"""Provider KPIs of the treatment places a county's parents use (its own, or its region's provider's);
reported per county (county_kpis.csv) and region (region_kpis.csv), not in kpis.csv (they describe a pool of places,
not the scenario)."""
