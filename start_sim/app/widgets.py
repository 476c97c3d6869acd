"""Pieces the pages share: a progress bar with a Stop button, downloads, the error under a field."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from start_sim.app import session
from start_sim.app.scenario_file import scenario_toml


def _stopped() -> None:
    session.state()["stopped"] = True


def stop_notice() -> None:
    """Say so when the last run was stopped by the user."""
    if session.state().pop("stopped", False):
        st.warning("Stopped: the run was cancelled and nothing was kept. Press the run button to start again.")


class Bar:
    """``progress(done, total)`` (or ``progress(message)``) into an ``st.progress`` bar, with a Stop
    button beside it. Pressing Stop makes Streamlit re-run the page: the running script is
    stopped at its next call into Streamlit, which is this bar's next update (after each
    replication), and the executor's cluster, if any, is closed on the way out."""

    def __init__(self, what: str):
        self.what = what
        cols = st.columns([5, 1])
        self.bar = cols[0].progress(0.0, text=f"{what}: starting")
        cols[1].button("Stop", key=f"stop-{what}", on_click=_stopped, help="cancel this run")
        self.steps = 0

    def __call__(self, done: int | str, total: int | None = None) -> None:
        if isinstance(done, str):  # a step of the staffing search
            self.steps += 1
            self.bar.progress(min(0.95, self.steps / (self.steps + 3)), text=f"{self.what}: {done}")
        else:
            self.bar.progress(done / max(1, total or 1), text=f"{self.what}: {done} of {total} replications")

    def done(self) -> None:
        self.bar.progress(1.0, text=f"{self.what}: done")


def field_errors(slot, lines: list[str]) -> None:
    """The schema's messages for one field, in the placeholder under its widget."""
    if lines:
        slot.error("\n\n".join(lines))


def download_file(path: Path, label: str, mime: str = "text/csv") -> None:
    if path.exists():
        st.download_button(label, path.read_bytes(), file_name=path.name, mime=mime, key=f"dl-{path}")


def download_scenario(label: str = "Download the scenario file (TOML)") -> None:
    sc = session.scenario()
    text = scenario_toml(sc, f"{sc.name}: saved from the start-sim planner app (start-sim run FILE reads it)")
    name = "".join(ch if ch.isalnum() else "_" for ch in sc.name.lower()).strip("_") or "scenario"
    st.download_button(label, text, file_name=f"{name}.toml", mime="application/toml", key=f"dl-scenario-{label}")


def run_downloads(folder: Path) -> None:
    """The run's report and tables, and its scenario."""
    cols = st.columns(3)
    with cols[0]:
        download_file(folder / "report.html", "Report (HTML)", "text/html")
        download_file(folder / "summary.csv", "Summary (CSV)")
    with cols[1]:
        download_file(folder / "fiscal_note.csv", "Fiscal note (CSV)")
        download_file(folder / "kpis.csv", "KPIs by replication (CSV)")
    with cols[2]:
        download_file(folder / "budget_by_year.csv", "Budget by year (CSV)")
        download_scenario("Scenario (TOML)")
