"""*My county*: pick a starting point, edit the inputs that matter, check them against the
schema (each problem under its field), save and download the scenario file."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

import start_sim as ss
from start_sim.app import session
from start_sim.app.fields import (
    COUNTY_FIELDS,
    HIRING_PATH,
    PROGRAM_FIELDS,
    Field,
    changes_from,
    help_text,
    path_of,
    problems_by_field,
    value_of,
)
from start_sim.app.widgets import download_scenario, field_errors

NEW = "A new county (blank starting point)"


def _starting_point() -> None:
    options = [*session.bundled(), NEW]
    cols = st.columns([3, 1])
    choice = cols[0].selectbox("Start from a bundled county or region", options, index=None,
                               placeholder="Choose a starting point", key="start-from")
    if cols[1].button("Open", key="open-start", disabled=choice is None):
        if choice == NEW:
            session.set_scenario(session.new_scenario(), "new")
        else:
            path = session.bundled()[choice]
            session.set_scenario(ss.load_scenario(path), path.name)
        session.state()["version"] = session.state().get("version", 0) + 1
    upload = st.file_uploader("Or open a scenario file you saved (TOML)", type=["toml"], key="upload")
    if upload is not None and session.state().get("uploaded") != upload.file_id:
        session.state()["uploaded"] = upload.file_id
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / upload.name
            path.write_bytes(upload.getvalue())
            try:
                session.set_scenario(ss.load_scenario(path), upload.name)
                session.state()["version"] = session.state().get("version", 0) + 1
            except ss.ScenarioError as exc:
                st.error("That file is not a valid scenario:\n\n" + "\n\n".join(f"- {p}" for p in exc.problems))


def _widget(f: Field, sc: ss.Scenario, county: int, key: str):
    label = f"{f.label} ({f.unit})" if f.unit else f.label
    value = value_of(sc, f, county)
    helptext = help_text(path_of(f, sc, county))
    if f.kind == "text":
        return st.text_input(label, value, help=helptext, key=key)
    if f.key == "lag" and value is None:
        st.caption(f"{f.label}: this scenario gives a distribution without a single mean; edit it in the file")
        return None
    if f.kind == "int":
        return st.number_input(label, value=int(value), step=1, help=helptext, key=key)
    return st.number_input(label, value=float(value), step=f.step or 1.0, format="%g", help=helptext, key=key)


def _hiring_rows(frame: pd.DataFrame) -> list[dict]:
    rows = []
    for r in frame.to_dict("records"):
        if all(pd.isna(v) for v in r.values()):
            continue
        rows.append({"day": float(0 if pd.isna(r.get("day")) else r["day"]),
                     "caseworkers": int(0 if pd.isna(r.get("caseworkers")) else r["caseworkers"]),
                     "mentors": int(0 if pd.isna(r.get("mentors")) else r["mentors"])})
    return rows


def render() -> None:
    session.ensure()
    s = session.state()
    st.title("My county")
    st.write("Choose a starting point, change what differs in your county, then **Check and save**. "
             "Every value is checked by the same rules as scenario files; a problem is shown under its field.")
    _starting_point()
    sc = session.scenario()
    st.caption(f"Scenario: **{sc.name}** (from {s.get('source', 'new')}), {len(sc.counties)} "
               f"{'county' if len(sc.counties) == 1 else 'counties'}")
    county = 0
    if len(sc.counties) > 1:
        county = st.selectbox("County to edit", range(len(sc.counties)), format_func=lambda i: sc.counties[i].name,
                              key="county-pick")
    s["county"] = county
    version = s.get("version", 0)
    values, slots, paths = {}, {}, {}
    with st.form(f"inputs-{version}-{county}"):
        st.subheader("The county")
        for f in COUNTY_FIELDS:
            values[f.key] = _widget(f, sc, county, f"{f.key}-{version}-{county}")
            slots[f.key], paths[f.key] = st.empty(), path_of(f, sc, county)
        st.markdown("**Hiring steps**: posts opened later (day after day 0, caseworker and mentor posts)",
                    help=help_text(HIRING_PATH.format(i=county)))
        current = pd.DataFrame([h.model_dump() for h in sc.counties[county].hiring],
                               columns=["day", "caseworkers", "mentors"])
        edited = st.data_editor(current, num_rows="dynamic", key=f"hiring-{version}-{county}",
                                column_config={"day": st.column_config.NumberColumn("day (days after day 0)"),
                                               "caseworkers": st.column_config.NumberColumn("caseworker posts"),
                                               "mentors": st.column_config.NumberColumn("mentor posts")})
        slots["hiring"], paths["hiring"] = st.empty(), HIRING_PATH.format(i=county)
        st.subheader("Programme and staff")
        for f in PROGRAM_FIELDS:
            values[f.key] = _widget(f, sc, county, f"{f.key}-{version}-{county}")
            slots[f.key], paths[f.key] = st.empty(), path_of(f, sc, county)
        submitted = st.form_submit_button("Check and save", type="primary")
    if submitted:
        changes = changes_from(sc, county, values, _hiring_rows(edited))
        new, problems, warns = session.apply(sc, changes)
        if new is None:
            s["problems"] = problems_by_field(problems, paths)
        else:
            session.set_scenario(new, s.get("source", "new"))
            s["county"], s["version"], s["saved"] = county, version + 1, warns
            st.rerun()
    placed, other = s.get("problems", ({}, []))
    for key, lines in placed.items():
        if key in slots:
            field_errors(slots[key], lines)
    if other:
        st.error("Not saved:\n\n" + "\n\n".join(f"- {p}" for p in other))
    elif placed:
        st.error("Not saved: see the messages under the fields.")
    if "saved" in s and not s.get("problems"):
        st.success("Saved: the runs on the other pages use these inputs.")
        for w in s["saved"]:
            st.warning(w)
    download_scenario()
    st.caption("Next: *How many dyads* sizes the staff, *Hiring plans* compares plans, *Savings and who pays* "
               "runs the scenario. Run settings (replications, seed, day 0) are in the sidebar.")
