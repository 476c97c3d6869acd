"""*Hiring plans*: two or more staffing plans for one county, run on common random numbers, with
each plan's paired difference from the first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

import start_sim as ss
from start_sim.app import session
from start_sim.app.widgets import Bar, download_file, stop_notice

COLUMNS = ["plan", "dyads", "mentors", "hire_day", "hire_caseworkers", "hire_mentors"]


def _defaults(c) -> pd.DataFrame:
    return pd.DataFrame([
        {"plan": "as in the scenario", "dyads": c.dyads, "mentors": c.mentor_count, "hire_day": 0,
         "hire_caseworkers": 0, "hire_mentors": 0},
        {"plan": "one more dyad in year 2", "dyads": c.dyads, "mentors": c.mentor_count, "hire_day": 365,
         "hire_caseworkers": 1, "hire_mentors": 1},
    ], columns=COLUMNS)


def _plans(frame: pd.DataFrame) -> tuple[list[dict], list[str]]:
    plans, problems = [], []
    for r in frame.to_dict("records"):
        if pd.isna(r.get("plan")) or not str(r["plan"]).strip():
            continue
        plans.append({k: (0 if k != "plan" and pd.isna(v) else v) for k, v in r.items()})
    names = [str(p["plan"]) for p in plans]
    if len(plans) < 2:
        problems.append("give at least two plans (one row each, with a name)")
    if len(set(names)) < len(names):
        problems.append("each plan needs its own name")
    return plans, problems


def render() -> None:
    s = session.state()
    sc, cfg = session.scenario(), session.settings()
    st.title("Hiring plans")
    county = s.get("county", 0) if s.get("county", 0) < len(sc.counties) else 0
    c = sc.counties[county]
    st.write(f"Staffing plans for **{c.name}** (scenario {sc.name}). Each plan serves the same families with the "
             "same random draws (common random numbers), so the differences are the plans' own. The first row is "
             "the reference.")
    edited = st.data_editor(_defaults(c), num_rows="dynamic", hide_index=True, key=f"plans-{s.get('version', 0)}",
                            column_config={
                                "plan": st.column_config.TextColumn("plan name"),
                                "dyads": st.column_config.NumberColumn("caseworkers at launch"),
                                "mentors": st.column_config.NumberColumn("mentors at launch"),
                                "hire_day": st.column_config.NumberColumn("later hiring: day"),
                                "hire_caseworkers": st.column_config.NumberColumn("then caseworker posts"),
                                "hire_mentors": st.column_config.NumberColumn("then mentor posts")})
    stop_notice()
    if st.button("Compare the plans", type="primary", key="run-plans"):
        plans, problems = _plans(edited)
        if problems:
            for p in problems:
                st.error(p)
        else:
            bar = Bar("Comparing")
            try:
                s["plans"] = session.compare_plans(sc, county, plans, cfg, bar)
                bar.done()
            except ss.ScenarioError as exc:
                st.error("A plan is not valid:\n\n" + "\n\n".join(f"- {p}" for p in exc.problems))
    out = s.get("plans")
    if out is None:
        st.info("Edit the plans (add rows for more) and press **Compare the plans**.")
        return
    st.subheader("Plans side by side, and each plan minus the first")
    st.dataframe(out.table, hide_index=True)
    st.caption("Differences are paired replication by replication; the 95% CI is simulation noise only.")
    cols = st.columns(2)
    with cols[0]:
        download_file(out.folder / "report.html", "Comparison report (HTML)", "text/html")
    with cols[1]:
        download_file(out.folder / "comparison.csv", "Comparison (CSV)")
