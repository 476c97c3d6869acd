"""*How many dyads*: service targets, the dyads each county needs with how sure that is, the
dates to open posts, and a phased plan when referrals grow."""

from __future__ import annotations

import streamlit as st

import start_sim as ss
from start_sim.app import session
from start_sim.app.widgets import Bar, stop_notice


def render() -> None:
    s = session.state()
    sc, cfg = session.scenario(), session.settings()
    st.title("How many dyads")
    st.write(f"Scenario **{sc.name}**. The smallest number of dyads per county whose simulated service "
             f"meets your targets ({cfg.replications} replications on common random numbers).")
    cols = st.columns(3)
    days = cols[0].number_input("Assigned to a dyad within (days)", value=14, step=1, key="target-days")
    share = cols[1].slider("for at least this share of families", 0.5, 1.0, 0.9, 0.05, key="target-share")
    divert = cols[2].checkbox("and at most 5% sent to usual services for want of a slot", key="target-divert")
    targets = [f"assigned_within_days={days:g}@{share:g}"] + (["diverted_share<=0.05"] if divert else [])
    county = s.get("county", 0) if s.get("county", 0) < len(sc.counties) else 0
    c = sc.counties[county]
    growth = st.number_input(f"Referral forecast for {c.name}: growth a year (0.05 = +5%)",
                             value=float(c.referral_growth_per_year), step=0.01, format="%g", key="target-growth",
                             help="above 0: a phased plan, year by year, of when to open more posts")
    stop_notice()
    if st.button("Find the dyads needed", type="primary", key="run-sizing"):
        bar = Bar("Sizing")
        try:
            sizing = session.size(sc, targets, cfg, bar)
            s["sizing"] = (sizing, session.sizing_table(sizing, cfg))
            s["phases"] = session.phased_plan(sc, county, growth, targets, cfg, bar) if growth > 0 else None
            bar.done()
        except (ss.ScenarioError, ValueError) as exc:
            st.error(str(exc))
    if "sizing" not in s:
        st.info("Set the targets and press **Find the dyads needed**.")
        return
    sizing, table = s["sizing"]
    st.subheader("The answer at maturity")
    first = {f.county: f.dyads for f in sizing.first_year}
    for cs in sizing.counties:
        early = (f" In the first year after launch {first[cs.county]} meet them (caseloads are still filling)."
                 if cs.county in first else "")
        when = "now (START already runs there)" if cs.running else f"by {session.date_of(cfg, cs.open_posts_day):%d %B %Y}"
        met = "meets" if cs.reached else "does not meet (the largest number tried)"
        st.success(f"{cs.county}: {cs.dyads} dyads ({cs.caseworkers} caseworkers, {cs.mentors} mentors) {met} the "
                   f"targets on average; in {cs.p_meets:.0%} of replications every target is met. Open the posts "
                   f"{when}, {cs.hiring_lead_days:.0f} days of hiring and training before the launch on "
                   f"{session.date_of(cfg, cs.launch_day):%d %B %Y}.{early}")
    for note in sizing.skipped:
        st.warning(note)
    st.dataframe(table, hide_index=True)
    st.caption("P(meets target): the share of replications meeting every target; add dyads if you want it high "
               "rather than the average on target. The 95% CI is over replications (simulation noise only).")
    st.download_button("Download the answer (CSV)", table.to_csv(index=False), "staffing.csv", "text/csv",
                       key="dl-sizing")
    phases = s.get("phases")
    if phases is not None:
        st.subheader(f"Phased plan for {c.name} as referrals grow")
        st.dataframe(phases, hide_index=True)
        st.download_button("Download the phased plan (CSV)", phases.to_csv(index=False), "phased_plan.csv",
                           "text/csv", key="dl-phases")
