"""The planner app's entry point: ``streamlit run start_sim/app/main.py`` (``start-sim app`` does it)."""

from __future__ import annotations

import os

import streamlit as st

from start_sim.app import session
from start_sim.app.views import county, plans, savings, sizing

PAGES = (
    (county.render, "My county", "county"),
    (sizing.render, "How many dyads", "dyads"),
    (plans.render, "Hiring plans", "plans"),
    (savings.render, "Savings and who pays", "savings"),
)


def sidebar() -> None:
    """Run settings every page uses."""
    cfg = session.settings()
    with st.sidebar:
        st.header("Run settings")
        reps = st.number_input("Replications", 1, 1000, cfg.replications, key="cfg-replications",
                               help="simulated repeats of the horizon; more give narrower intervals and take longer")
        seed = st.number_input("Seed", 0, 2**31 - 1, cfg.seed, key="cfg-seed",
                               help="the same seed gives the same numbers")
        workers = st.number_input("Workers", 1, max(1, os.cpu_count() or 1), cfg.workers, key="cfg-workers",
                                  help="1: in this process; more: a local Dask cluster (as --workers)")
        day0 = st.date_input("Day 0 of the scenario", cfg.day0, key="cfg-day0",
                             help="the calendar date of day 0, for the dates to open posts")
        session.state()["settings"] = session.Settings(int(reps), int(seed), int(workers), day0)
        st.caption(f"Scenario: {session.scenario().name}")


def main() -> None:
    st.set_page_config(page_title="start-sim planner", layout="wide")
    session.ensure()
    sidebar()
    if hasattr(st, "navigation"):
        st.navigation([st.Page(fn, title=title, url_path=path, default=i == 0)
                       for i, (fn, title, path) in enumerate(PAGES)]).run()
    else:  # Streamlit before 1.36
        titles = [t for _, t, _ in PAGES]
        choice = st.sidebar.radio("Page", titles)
        PAGES[titles.index(choice)][0]()


main()
