"""No silent traps (issue 13): each test names one trap a planner fell into, and fails without its fix."""

from __future__ import annotations

import glob
import warnings
from pathlib import Path

import pandas as pd
import pytest

import start_sim as ss
import start_sim.inputs.files as files
from start_sim.cli import main as cli
from start_sim.core.errors import ScenarioError, ScenarioWarning
from start_sim.experiments.results import summary_table
from start_sim.experiments.runner import replicate

ROOT = Path(__file__).resolve().parents[1]
BASE = (
    'name = "base"\nhorizon_years = 2\nrunout_years = 1\n'
    '[[counties]]\nname = "A"\nreferrals_per_year = 10\ndyads = 1\nhiring = [{day = 100, caseworkers = 1}]\n'
    '[[counties]]\nname = "B"\nreferrals_per_year = 20\ndyads = 2\n'
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_variant_counties_merge_by_name_add_and_remove(tmp_path):
    write(tmp_path, "base.toml", BASE)
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[[counties]]\nname = "A"\ndyads = 3\n'
                  '[[counties]]\nname = "B"\nremove = true\n[[counties]]\nname = "C"\nreferrals_per_year = 5\ndyads = 1\n')
    s = ss.load_scenario(child)
    assert [c.name for c in s.counties] == ["A", "C"]
    a = s.counties[0]
    assert a.dyads == 3 and a.referrals_per_year == 10 and len(a.hiring) == 1, "A keeps what the variant leaves out"
    typo = write(tmp_path, "typo.toml", 'extends = "base.toml"\n[[counties]]\nname = "Bb"\nremove = true\n')
    with pytest.raises(ScenarioError, match="no county of that name.*did you mean \"B\""):
        ss.load_scenario(typo)


@pytest.mark.parametrize("path", sorted(p for p in glob.glob(str(ROOT / "scenarios/*.toml"))
                                        + glob.glob(str(ROOT / "calibration/*.toml"))
                                        + glob.glob(str(ROOT / "tests/golden/*.toml")) if "targets" not in p))
def test_bundled_scenarios_read_as_before_the_counties_merge(path, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        now = ss.load_scenario(path).to_dict()
        monkeypatch.setattr(files, "merge_counties", lambda base, over, origin=None, file="": over)  # lists replace
        before = ss.load_scenario(path).to_dict()
    assert now == before


def test_new_county_writes_a_scenario_extending_the_calibrated_one(tmp_path, capsys):
    assert cli(["new-county", "Buncombe Co.", "--folder", str(tmp_path)]) == 0
    path = tmp_path / "Buncombe_Co.toml"
    text = path.read_text()
    assert "kentucky_calibrated.toml" in text and "replace with your county's figure" in text
    s = ss.load_scenario(path)
    assert [c.name for c in s.counties] == ["Buncombe Co."]
    assert "size" in capsys.readouterr().out
    assert cli(["new-county", "Buncombe Co.", "--folder", str(tmp_path)]) == 2, "never overwrites"
    assert path.read_text() == text


def test_percent_like_and_far_out_values_warn_or_say_percent():
    s = ss.load_scenario(ROOT / "tests/golden/divert.toml")
    with pytest.warns(ScenarioWarning, match="caseworker_turnover_per_year = 3 is far outside.*write 0.03"):
        s.with_changes({"workforce.caseworker_turnover_per_year": 3})
    with pytest.raises(ScenarioError, match="30 looks like a percentage: 30% is written 0.3"):
        s.with_changes({"workforce.caseworker_turnover_per_year": 30})
    with pytest.raises(ScenarioError, match="looks like a percentage"):
        s.with_changes({"counties.0.eligible_share": 40})


def test_a_county_with_no_dyads_warns():
    s = ss.load_scenario(ROOT / "tests/golden/divert.toml")
    with pytest.warns(ScenarioWarning, match="dyads .* = 0 and no caseworkers are hired later"):
        s.with_changes({"counties.0.dyads": 0})


def test_hiring_steps_can_count_from_launch():
    s = ss.load_scenario(ROOT / "tests/golden/divert.toml")
    v = s.with_changes({"counties.0.launch_day": 200, "counties.0.hiring": [{"days_after_launch": 30, "caseworkers": 1}]})
    assert v.counties[0].hiring[0].open_day(v.counties[0].launch_day) == 230
    with pytest.raises(ScenarioError, match="exactly one of day"):
        s.with_changes({"counties.0.hiring": [{"day": 1, "days_after_launch": 30, "caseworkers": 1}]})


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("start-sim ")


def test_size_needs_no_dyads_uses_turnover_and_aims_at_a_confidence(tmp_path, capsys):
    path = write(tmp_path, "c.toml", 'name = "c"\nhorizon_years = 2\n[[counties]]\nname = "A"\nreferrals_per_year = 40\n')
    assert cli(["size", str(path), "-t", "assigned_within_days=14@0.9", "-n", "6", "--confidence", "0.8"]) == 0
    captured = capsys.readouterr()
    assert "caseworker_turnover_per_year = 0.3" in captured.err
    assert "at least 80% of replications" in captured.out


def test_calibrate_and_uncertainty_use_the_progress_bar():
    from start_sim.cli import calibrate, uncertainty

    for module in (calibrate, uncertainty):
        assert "PhaseProgress" in Path(module.__file__).read_text()


def test_auto_run_says_why_it_stopped():
    s = ss.load_scenario(ROOT / "tests/golden/divert.toml")
    from start_sim.experiments.precision import ReplicationsRule, describe_stop

    r = ss.run(s, "auto", seed=1, workers=1, rule=ReplicationsRule(precision=0.01, max_replications=10))
    assert r.info.rule["stopped_by"] == "max_replications" and r.info.rule["binding_kpi"]
    assert "maximum of 10" in describe_stop(r.info.rule)


def test_summary_intervals_stay_within_a_kpis_range():
    kpis = pd.DataFrame({"share_assigned_within_14d": [1.0, 0.98, 1.0], "mean_days_to_assignment": [0.0, 0.0, 2.0],
                         "placement_rate_12m_start": [0.0, 0.0, 0.1], "net_savings": [-5.0, 0.0, 1.0]})
    t = summary_table(kpis)
    assert t.loc["share_assigned_within_14d", "ci_high"] == 1.0
    assert t.loc["mean_days_to_assignment", "ci_low"] == 0.0 and t.loc["placement_rate_12m_start", "ci_low"] == 0.0
    assert t.loc["net_savings", "ci_low"] < -5.0, "a KPI without a limit keeps its t-interval"


PARTS = ("families_started", "families_diverted", "families_waiting_at_end", "families_before_launch")


def assert_referred_add_up(k: dict, where: str) -> None:
    """families_referred is the sum of the four KPIs that split it."""
    parts = {key: k[key] for key in PARTS}
    assert k["families_referred"] == sum(parts.values()), f"{where}: referred {k['families_referred']} vs {parts}"


MID_RUN = {"counties.0.launch_day": 300, "counties.0.initial_caseload": 0, "counties.0.initial_waitlist": 0,
           "counties.0.hiring": []}


@pytest.mark.parametrize("scenario, changes", [
    ("workforce", {}), ("workforce", {"counties.1.dyads": 0}), ("workforce", MID_RUN),
    ("divert", {"program.waitlist_policy": "waitlist", "counties.0.dyads": 0}),
    ("divert", {"program.waitlist_policy": "waitlist", "counties.0.dyads": 1}),
    ("divert", {"program.waitlist_policy": "waitlist", "program.max_wait_days": None}),
], ids=["golden-workforce", "zero-dyad-county", "launch-mid-run", "divert-zero-dyads", "divert-one-dyad", "no-renege"])
def test_referred_is_started_diverted_waiting_or_before_launch(scenario, changes):
    """A county launching after day 0 once had referred families counted in no part (69 vs 64 + 4 in the golden run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        s = ss.load_scenario(ROOT / f"tests/golden/{scenario}.toml").with_changes(changes)
    for out in replicate(s, 2, seed=7):
        assert_referred_add_up(out.kpis, "overall")
        for ck in out.county_kpis:
            assert_referred_add_up(ck, f"county {ck['county']}")
        for key in ("families_referred", *PARTS):
            assert out.kpis[key] == sum(ck[key] for ck in out.county_kpis), f"{key}: counties do not add up"
        rows = out.families
        assert out.kpis["families_waiting_at_end"] == sum(r["state"] == "waiting" for r in rows)
        assert out.kpis["families_before_launch"] == sum(r["route"] == "before_launch" for r in rows)
    if any(c.launch_day > 0 for c in s.counties):
        assert any(ck["families_before_launch"] > 0 for ck in out.county_kpis), "no family referred before launch"
