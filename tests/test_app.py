"""The planner app's pages in Streamlit's AppTest harness (no browser): each page renders, a bad
input shows its message under the field, a run completes on a small scenario and shows the
bottom line; and the pieces the pages use (sentence, scenario file, problems by field)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import start_sim as ss
from start_sim.app import session
from start_sim.app.fields import problems_by_field
from start_sim.app.scenario_file import scenario_toml
from start_sim.app.sentences import bottom_line, p_positive
from start_sim.inputs.files import validate
from tests.app_scenario import TINY

MAIN = Path(session.__file__).with_name("main.py")


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Streamlit's script runner puts the page script in ``sys.modules["__main__"]`` and leaves it
    there; worker processes that Dask spawns later in the same test session would run that script
    again (and fail). Put the test session's own main module back after each test."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def page(name: str) -> None:
    import importlib

    importlib.import_module(f"start_sim.app.views.{name}").render()


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    monkeypatch.setenv(session.SCENARIO_ENV, str(path))
    return path


def app(name: str) -> AppTest:
    at = AppTest.from_function(page, args=(name,), default_timeout=60)
    at.session_state["settings"] = session.Settings(replications=2, seed=3)
    return at


def test_main_renders_with_navigation(tiny):
    at = AppTest.from_file(str(MAIN), default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "My county"
    assert [n.label for n in at.sidebar.number_input][:2] == ["Replications", "Seed"]


@pytest.mark.parametrize("name, title", [("county", "My county"), ("sizing", "How many dyads"),
                                         ("plans", "Hiring plans"), ("savings", "Savings and who pays")])
def test_each_page_renders(tiny, name, title):
    at = app(name).run()
    assert not at.exception
    assert at.title[0].value == title


def _by_label(elements, start: str):
    return next(e for e in elements if e.label.startswith(start))


def _after(at: AppTest, widget_label: str) -> str:
    """The element right after the widget labelled ``widget_label`` in the form: where its error goes."""
    form = at.get("form")[0]
    children = list(form.children.values())
    i = next(k for k, e in enumerate(children) if getattr(e, "label", "") and e.label.startswith(widget_label))
    after = children[i + 1]
    return after.value if after.type == "error" else ""


def test_bad_input_shows_its_message_under_the_field(tiny):
    at = app("county").run()
    _by_label(at.number_input, "Eligible share").set_value(1.5)
    _by_label(at.number_input, "Caseload cap").set_value(0)
    at.button(key="FormSubmitter:inputs-0-0-Check and save").click().run()
    assert not at.exception
    assert "counties.0.eligible_share" in _after(at, "Eligible share") and "from 0 to 1" in _after(at, "Eligible share")
    assert "program.caseload_cap" in _after(at, "Caseload cap")
    assert _after(at, "Dyads at launch") == ""
    assert at.session_state["scenario"].counties[0].eligible_share == 1.0  # not saved


def test_good_input_is_saved(tiny):
    at = app("county").run()
    _by_label(at.number_input, "Dyads at launch").set_value(3)
    _by_label(at.number_input, "Mentors at launch").set_value(3)
    at.button(key="FormSubmitter:inputs-0-0-Check and save").click().run()
    assert not at.exception and not at.error
    sc = at.session_state["scenario"]
    assert sc.counties[0].dyads == 3 and sc.counties[0].mentors is None  # still one mentor per caseworker
    assert any("Saved" in s.value for s in at.success)


def test_a_run_completes_and_shows_the_bottom_line(tiny):
    at = app("savings").run()
    at.button(key="run-scenario").click().run(timeout=120)
    assert not at.exception
    line = at.info[0].value
    assert line.startswith("With 2 dyads, ") and "simulation noise only" in line
    assert {m.label for m in at.metric} >= {"P(net savings > 0)", "Savings per $1 of START (net cost)"}
    labels = {d.label for d in at.get("download_button")}
    assert {"Report (HTML)", "Fiscal note (CSV)", "Scenario (TOML)"} <= labels
    out = at.session_state["run"]
    assert (out.folder / "fiscal_note.csv").exists() and out.results.replications == 2


def test_sizing_and_phased_plan(tiny):
    at = app("sizing").run()
    at.number_input(key="target-growth").set_value(0.1)
    at.button(key="run-sizing").click().run(timeout=120)
    assert not at.exception
    assert "dyads" in at.success[0].value and "Open the posts by" in at.success[0].value
    phases = at.session_state["phases"]
    assert list(phases["year"]) == [1] and phases["dyads needed"].iloc[0] >= 1


def test_hiring_plans_are_compared(tiny):
    at = app("plans").run()
    at.button(key="run-plans").click().run(timeout=120)
    assert not at.exception
    table = at.session_state["plans"].table
    assert "one more dyad in year 2 - as in the scenario" in table.columns
    assert "Net savings" in set(table["KPI"])


def test_bottom_line_sentence_is_the_reports_own():
    """The app's bottom line is the run report's sentences joined, net of the casework credit."""
    from start_sim.outputs import bottom_line as bl

    sc = ss.Scenario(name="s", horizon_years=5, counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2}])
    keys = ["families_started", "share_assigned_within_14d", "net_program_cost", "program_cost", "savings_vs_usual",
            "net_savings"]
    summary = pd.DataFrame({"mean": [120, 0.9, 1_200_000, 2_000_000, 2_000_000, 800_000],
                            "ci_low": [110, 0.8, 1e6, 1.9e6, 1.5e6, -100_000],
                            "ci_high": [130, 1.0, 1.4e6, 2.1e6, 2.5e6, 1_700_000]}, index=keys)
    text = bottom_line(sc, summary)
    assert text == " ".join(bl.run(summary, bl.setting(sc)).sentences)
    assert text.startswith("With 2 dyads, 90% of referred families are assigned to a dyad within 14 days")
    assert "net of the usual casework it replaces" in text and "net savings of $800,000" in text
    losing = summary.copy()
    losing.loc["net_savings"] = [-500_000, -700_000, -300_000]
    assert "a net cost of $500,000" in bottom_line(sc, losing)
    assert p_positive(pd.DataFrame({"net_savings": [1.0, -1.0, 2.0, 3.0]})) == 0.75


def test_saved_scenario_file_reads_back_the_same():
    root = Path(__file__).resolve().parents[1] / "scenarios"
    for name in ("buncombe.toml", "mentor_1_with_caseworkers.toml", "state_rollout.toml"):
        sc = ss.load_scenario(root / name)
        assert validate(tomllib.loads(scenario_toml(sc, "a header")), strict=True) == sc


def test_problems_go_to_the_field_they_name():
    paths = {"dyads": "counties.0.dyads", "lag": "workforce.hiring_lag_days", "d2": "counties.0.dyads_x"}
    placed, other = problems_by_field(["counties.0.dyads (county 'A') = -1 is not allowed",
                                       "workforce.hiring_lag_days.mean = -3 is not allowed", "something else"], paths)
    assert placed == {"dyads": ["counties.0.dyads (county 'A') = -1 is not allowed"],
                      "lag": ["workforce.hiring_lag_days.mean = -3 is not allowed"]}
    assert other == ["something else"]


def test_cli_command_runs_streamlit_headless_on_localhost():
    import argparse

    from start_sim.cli import app as cli_app

    cmd = cli_app.command(argparse.Namespace(port=8600, scenario=None))
    assert cmd[1:4] == ["-m", "streamlit", "run"] and Path(cmd[4]) == MAIN
    assert {"--server.headless=true", "--server.address=localhost", "--server.port=8600"} <= set(cmd)


def test_a_run_on_two_dask_workers_completes(tiny):
    """Dask's worker processes re-run the main module's file; under Streamlit that is the page
    script, so the app hides it while a cluster starts (with 2 workers the run goes through Dask)."""
    at = app("savings")
    at.session_state["settings"] = session.Settings(replications=2, seed=3, workers=2)
    at.run()
    at.button(key="run-scenario").click().run(timeout=180)
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.session_state["run"].results.replications == 2
