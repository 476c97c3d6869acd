"""Issue 9: --out never deletes what start-sim did not write, two runs never mix, and every
user error exits 2 with a message (an internal one exits 1 naming the replication), never a traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from start_sim import cli
from start_sim.experiments.lock import RunLock, lock_path
from start_sim.experiments.records import encode, run_replication, scenario_hash
from start_sim.experiments.workfolder import WorkFolder, work_plan
from start_sim.inputs.files import load_scenario


@pytest.fixture
def tiny(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text('name = "tiny"\nhorizon_years = 1\nrunout_years = 0.5\n'
                    '[[counties]]\nname = "A"\nreferrals_per_year = 20\ndyads = 1\n', encoding="utf-8")
    return path


def user_folder(folder: Path) -> dict[str, bytes]:
    """A folder of a planner's own files; returns what it holds."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "budget 2025.xlsx").write_bytes(b"PK\x03\x04 not a start-sim file")
    (folder / "notes").mkdir(exist_ok=True)
    (folder / "notes" / "memo.txt").write_text("keep me")
    return snapshot(folder)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {os.fspath(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def err_of(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err


# --------------------------------------------------------------------------- output folders


@pytest.mark.parametrize("command", ["run", "compare", "size"])
def test_a_folder_of_user_files_survives_a_refused_out(command, tiny, tmp_path, capsys):
    out = tmp_path / "My Documents"
    before = user_folder(out)
    other = tmp_path / "other.toml"
    other.write_text(tiny.read_text().replace('"tiny"', '"other"'))
    argv = {"run": ["run", str(tiny), "-n", "1", "-w", "1"],
            "compare": ["compare", str(tiny), str(other), "-n", "1", "-w", "1"],
            "size": ["size", str(tiny), "-n", "1", "--target", "diverted_share<=0.5"]}[command]
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = err_of(capsys)
    assert "holds files that start-sim did not write (budget 2025.xlsx, notes)" in err, err
    assert "give a new folder" in err.lower() and "nothing was changed" in err, err
    assert snapshot(out) == before, "the user's files were touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["My Documents", "other.toml", "tiny.toml"], \
        "a refused run must leave nothing beside the folder (no lock, no partial, no build folder)"


def test_an_empty_folder_and_a_results_folder_are_replaced(tiny, tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 0
    assert json.loads((out / "manifest.json").read_text())["package"] == "start-sim"
    sized = tmp_path / "sized"
    assert cli.main(["size", str(tiny), "-n", "1", "--target", "diverted_share<=0.5", "--out", str(sized)]) == 0
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(sized)]) == 0, \
        "a folder written by size is a start-sim folder too"


@pytest.mark.parametrize("given", [".", "..", "./", "sub/..", "../.."])
def test_dot_and_dotdot_are_refused_and_nothing_is_deleted(given, tiny, tmp_path, monkeypatch, capsys):
    here = tmp_path / "a" / "b"
    here.mkdir(parents=True)
    (here / "sub").mkdir()
    (here / "keep.txt").write_text("x")
    (tmp_path / "a" / "sibling.txt").write_text("y")
    before = snapshot(tmp_path)
    monkeypatch.chdir(here)
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", given]) == 2
    err = err_of(capsys)
    assert "is not allowed" in err or "holds the current folder" in err, err
    assert snapshot(tmp_path) == before


def test_ancestors_home_project_roots_and_mount_points_are_refused(tiny, tmp_path, monkeypatch, capsys):
    here = tmp_path / "work" / "deep"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    cases = {str(tmp_path / "work"): "holds the current folder"}
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    cases[str(home)] = "is your home folder"
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\n")
    cases[str(project)] = "is the root of a project"
    mount = tmp_path / "usb"
    mount.mkdir()
    real = os.path.ismount
    monkeypatch.setattr(os.path, "ismount", lambda p: Path(p) == mount.resolve() or real(p))
    cases[str(mount)] = "is a mount point"
    before = snapshot(tmp_path)
    for out, why in cases.items():
        assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", out]) == 2
        err = err_of(capsys)
        assert why in err and "Nothing was changed" in err, (out, err)
    assert snapshot(tmp_path) == before


def test_files_added_during_the_run_are_not_deleted_at_the_end(tiny, tmp_path, monkeypatch, capsys):
    """The folder is checked again just before it is replaced."""
    import start_sim.experiments.runner as runner

    out = tmp_path / "out"
    real = runner.run

    def user_saves_a_file_meanwhile(*a, **kw):
        out.mkdir(exist_ok=True)
        (out / "draft.docx").write_text("mine")
        return real(*a, **kw)

    monkeypatch.setattr(runner, "run", user_saves_a_file_meanwhile)
    assert cli.main(["run", str(tiny), "-n", "2", "-w", "1", "--out", str(out)]) == 2
    err = err_of(capsys)
    assert "draft.docx" in err and "--resume" in err, err
    assert snapshot(out) == {"draft.docx": b"mine"}
    assert (tmp_path / "out.partial").is_dir(), "the finished replications are kept for --resume"


def test_leftover_build_folders_are_cleaned_and_results_have_normal_permissions(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    for name in (".out.build-dead1", ".out.old-dead2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "kpis.csv").write_text("x")
    (tmp_path / ".out.backup").mkdir()  # not start-sim's: left alone
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.backup", "out", "tiny.toml"]
    umask = os.umask(0)
    os.umask(umask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~umask, oct(out.stat().st_mode)


# --------------------------------------------------------------------------- one run per folder


def test_a_second_concurrent_run_is_refused(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    with RunLock(out, "run"):
        assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 2
        err = err_of(capsys)
        assert f"process {os.getpid()} on {socket.gethostname()}" in err and "another --out" in err, err
        assert not out.exists() and not (tmp_path / "out.partial").exists()
    assert not lock_path(out).exists(), "the lock is removed when its run ends"
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 0


def test_a_stale_lock_is_reported_and_taken_over(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock_path(out).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "command": "run"}))
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"left by process {dead.pid}" in err and "no longer running" in err and "taking it over" in err, err
    assert not lock_path(out).exists()


def test_a_lock_from_another_host_is_not_taken_over(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    lock_path(out).write_text(json.dumps({"pid": 1, "host": "other-machine", "command": "compare"}))
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 2
    err = err_of(capsys)
    assert "process 1 on other-machine" in err and f"delete {lock_path(out)}" in err, err
    assert lock_path(out).exists()


def test_the_lock_is_released_on_ctrl_c(tiny, tmp_path, monkeypatch, capsys):
    def interrupted(*a, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr("start_sim.experiments.runner.run", interrupted)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 130
    assert not lock_path(out).exists()


# --------------------------------------------------------------------------- resume checks every record


def _partial_with(tiny: Path, out: Path, seed: int, records: dict[int, bytes]) -> Path:
    """A work folder of a run of ``tiny`` on ``seed`` holding the given raw records."""
    scenario = load_scenario(tiny)
    work = WorkFolder.open(out.with_name(out.name + ".partial"), work_plan("run", {"run": scenario}, seed), False)
    for i, data in records.items():
        work.save("run", i, data)
    return work.path


def _record(tiny: Path, seed: int, replication: int, sha: str | None = None) -> bytes:
    scenario = load_scenario(tiny)
    return encode(run_replication(scenario, seed, replication), seed, sha or scenario_hash(scenario))


@pytest.mark.parametrize("bad", ["other seed", "truncated", "other scenario", "not gzip"])
def test_a_record_that_does_not_belong_is_re_simulated(bad, tiny, tmp_path, capsys):
    clean = tmp_path / "clean"
    assert cli.main(["run", str(tiny), "-n", "3", "--seed", "3", "-w", "1", "--out", str(clean)]) == 0
    good = _record(tiny, 3, 1)
    broken = {"other seed": _record(tiny, 4, 1), "truncated": good[: len(good) // 2],
              "other scenario": _record(tiny, 3, 1, sha="0" * 64), "not gzip": b"{}"}[bad]
    out = tmp_path / "out"
    partial = _partial_with(tiny, out, 3, {0: _record(tiny, 3, 0), 1: broken})
    capsys.readouterr()
    assert cli.main(["run", str(tiny), "-n", "3", "--seed", "3", "-w", "1", "--out", str(out), "--resume"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert f"replication record {partial / 'replications' / 'run' / '000001.json.gz'} cannot be reused" in captured.err
    if bad == "other seed":
        assert "--seed 4, not 3" in captured.err, captured.err
    assert "resumed: 1 replications" in captured.out and "2 simulated now" in captured.out, captured.out
    assert snapshot(out) == snapshot(clean), "the resumed run must equal the clean one byte for byte"


def test_a_work_folder_of_the_previous_record_format_still_resumes(tiny, tmp_path, capsys):
    """Format-2 records (no scenario hash of their own) in a format-2 work folder are reused."""
    import gzip
    import json

    clean = tmp_path / "clean"
    assert cli.main(["run", str(tiny), "-n", "3", "--seed", "3", "-w", "1", "--out", str(clean)]) == 0
    doc = json.loads(gzip.decompress(_record(tiny, 3, 0)))
    doc["format"] = 2
    del doc["scenario_sha256"]
    out = tmp_path / "out"
    partial = _partial_with(tiny, out, 3, {0: gzip.compress(json.dumps(doc).encode())})
    plan = json.loads((partial / "work.json").read_text())
    plan["record_format"] = 2
    (partial / "work.json").write_text(json.dumps(plan))
    capsys.readouterr()
    assert cli.main(["run", str(tiny), "-n", "3", "--seed", "3", "-w", "1", "--out", str(out), "--resume"]) == 0
    captured = capsys.readouterr()
    assert "resumed: 1 replications" in captured.out and "cannot be reused" not in captured.err, captured
    assert snapshot(out) == snapshot(clean)


def test_a_resume_refusal_says_what_differs_in_words(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    _partial_with(tiny, out, 3, {0: _record(tiny, 3, 0)})
    assert cli.main(["run", str(tiny), "-n", "2", "--seed", "5", "-w", "1", "--out", str(out), "--resume"]) == 2
    err = err_of(capsys)
    assert "--seed 3, this run has --seed 5" in err, err
    tiny.write_text(tiny.read_text().replace("referrals_per_year = 20", "referrals_per_year = 25"))
    assert cli.main(["run", str(tiny), "-n", "2", "--seed", "3", "-w", "1", "--out", str(out), "--resume"]) == 2
    err = err_of(capsys)
    assert f"the scenario file {tiny} has changed" in err, err
    assert scenario_hash(load_scenario(tiny))[:12] not in err and "sha" not in err.lower(), "no hashes in messages"


# --------------------------------------------------------------------------- no tracebacks


def test_a_failing_replication_is_an_internal_error_naming_it(tiny, tmp_path, monkeypatch, capsys):
    def broken(scenario, seed, replication):
        raise RuntimeError("state went wrong")

    monkeypatch.setattr("start_sim.experiments.records.run_replication", broken)
    assert cli.main(["run", str(tiny), "-n", "2", "--seed", "7", "-w", "1", "--out", str(tmp_path / "o")]) == 1
    err = err_of(capsys)
    assert "internal error in start-sim run in scenario 'tiny', replication 0, seed 7: RuntimeError: state went wrong" \
        in err and "please report it" in err, err


def test_numeric_overflow_is_bad_input(tiny, tmp_path, monkeypatch, capsys):
    def overflow(scenario, seed, replication):
        raise OverflowError("math range error")

    monkeypatch.setattr("start_sim.experiments.records.run_replication", overflow)
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(tmp_path / "o")]) == 2
    err = err_of(capsys)
    assert "replication 0, seed 1" in err and "too extreme" in err and "internal error" not in err, err


@pytest.mark.parametrize(("manifest", "says"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "holds a JSON list"),
    ('{"package": "start-sim", "kind": "run"}', "has no 'scenario' entry"),
    ('{"package": "start-sim", "kind": "run", "scenario": {"name": 3}}', "'scenario' entry is not a valid scenario"),
    ('{"package": "start-sim", "kind": "compare"}', "has no 'scenarios' entry"),
])
def test_report_of_a_malformed_manifest_exits_2(manifest, says, tmp_path, capsys):
    folder = tmp_path / "res"
    folder.mkdir()
    (folder / "manifest.json").write_text(manifest)
    assert cli.main(["report", str(folder)]) == 2
    err = err_of(capsys)
    assert says in err and str(folder / "manifest.json") in err and "start-sim run or compare" in err, err


def test_report_of_a_folder_without_tables_exits_2(tiny, tmp_path, capsys):
    out = tmp_path / "res"
    assert cli.main(["run", str(tiny), "-n", "1", "-w", "1", "--out", str(out)]) == 0
    (out / "kpis.csv").unlink()
    assert cli.main(["report", str(out)]) == 2
    assert "has no kpis.csv" in err_of(capsys)


@pytest.mark.parametrize("argv", [
    ["uncertainty", "{s}", "--discount-rate", "inf"],
    ["uncertainty", "{s}", "--discount-rate", "nan"],
    ["uncertainty", "{s}", "--horizon-years", "inf"],
    ["uncertainty", "{s}", "--runout-years", "1e308"],
    ["uncertainty", "{s}", "--cost-sd-scale=-inf"],
    ["uncertainty", "{s}", "--morris-trajectories", "-1"],
    ["uncertainty", "{s}", "--scheduler", "host"],
    ["calibrate", "{s}", "--design-points", "-5"],
    ["calibrate", "{s}", "--design-points", "1000000000000"],
    ["calibrate", "{s}", "--posterior-draws", "0"],
    ["calibrate", "{s}", "--scheduler", "tcp://:8786x"],
    ["run", "{s}", "--workers", "100000"],
    ["compare", "{s}", "{s}", "--seed", "99999999999999999999"],
], ids=lambda a: " ".join(a[0:1] + a[2:]))
def test_impossible_option_values_exit_2(argv, tiny, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([a.format(s=tiny) for a in argv])
    assert info.value.code == 2
    err = err_of(capsys)
    assert "is not allowed" in err or "is not a scheduler address" in err, err


@pytest.mark.parametrize("content", ["", "programme.effect\n", "a,b\n1,\"x\n", "\x00\x01\x02", "a\nx\n"])
def test_malformed_or_empty_posterior_exits_2(content, tiny, tmp_path, capsys):
    post = tmp_path / "posterior.csv"
    post.write_text(content)
    assert cli.main(["uncertainty", str(tiny), "--posterior", str(post), "--out", str(tmp_path / "u")]) == 2
    err = err_of(capsys)
    assert str(post) in err and err.count("\n") == 1, err
    assert not (tmp_path / "u").exists()


@pytest.mark.parametrize("content", ["not = [toml", "[[targets]]\nid = 'x'\nbogus = 1\n", "targets = 3\n"])
def test_malformed_targets_exit_2(content, tiny, tmp_path, capsys):
    targets = tmp_path / "targets.toml"
    targets.write_text(content)
    assert cli.main(["calibrate", str(tiny), "--targets", str(targets), "--out", str(tmp_path / "c")]) == 2
    err = err_of(capsys)
    assert str(targets) in err, err
    assert not (tmp_path / "c").exists()


def test_the_console_script_refuses_dot_without_a_traceback(tiny, tmp_path):
    from .test_cli import script

    done = subprocess.run([str(script()), "run", str(tiny), "-n", "1", "--out", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_compare_results_read_back_after_the_swap(tiny, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(tiny.read_text().replace('"tiny"', '"other"'))
    out = tmp_path / "cmp"
    for _ in range(2):  # the second replaces the first
        assert cli.main(["compare", str(tiny), str(other), "-n", "2", "-w", "1", "--out", str(out)]) == 0
    assert set(pd.read_csv(out / "kpis.csv")["scenario"]) == {"tiny", "other"}
    assert cli.main(["report", str(out)]) == 0


@pytest.mark.parametrize("argv", [["run", "{s}", "-n", "1000"], ["run", "{s}", "-n", "auto", "--max-replications", "1000"],
                                  ["compare", "{s}", "{o}", "-n", "1000"],
                                  ["size", "{s}", "-n", "1000", "--target", "diverted_share<=0.5"]])
def test_a_run_too_large_for_the_machine_is_refused_before_it_starts(argv, tiny, tmp_path, monkeypatch, capsys):
    import start_sim.inputs.feasibility as feasibility

    budget = feasibility.estimate(load_scenario(tiny), 2)[2]
    monkeypatch.setattr(feasibility, "memory_budget", lambda: budget)
    other = tmp_path / "other.toml"
    other.write_text(tiny.read_text().replace('"tiny"', '"other"'))
    out = tmp_path / "out"
    assert cli.main([*(a.format(s=tiny, o=other) for a in argv), "--out", str(out)]) == 2
    assert "GiB of memory" in err_of(capsys)
    assert not out.exists() and not lock_path(out).exists()


@pytest.mark.parametrize("option", ["--fragment", "--posterior-csv"])
def test_calibrate_never_overwrites_a_file_it_did_not_write(option, tmp_path, capsys):
    mine = tmp_path / "notes.txt"
    mine.write_text("my own notes\n")
    assert cli.main(["calibrate", "scenarios/buncombe.toml", option, str(mine), "--out", str(tmp_path / "cal")]) == 2
    assert mine.read_text() == "my own notes\n"
    assert "was not written by start-sim" in err_of(capsys)
    assert not (tmp_path / "cal").exists()


def test_the_shipped_calibration_files_count_as_written_by_start_sim():
    from start_sim.cli.calibrate import is_fragment_header, is_posterior_header
    from start_sim.outputs.folders import check_file

    check_file(Path("calibration/kentucky_calibrated.toml"), "--fragment", is_fragment_header)
    check_file(Path("calibration/kentucky_posterior.csv"), "--posterior-csv", is_posterior_header)


def test_a_scenario_warning_is_one_line_naming_the_field(tmp_path, capsys):
    late = tmp_path / "late.toml"
    late.write_text('name = "late"\nhorizon_years = 1\nrunout_years = 1\n[[counties]]\nname = "A"\n'
                    'referrals_per_year = 5\ndyads = 1\n[[counties]]\nname = "B"\nreferrals_per_year = 5\n'
                    'dyads = 1\nlaunch_day = 500\n')
    assert cli.main(["run", str(late), "-n", "1", "-w", "1", "--out", str(tmp_path / "out")]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if "warning" in x]
    assert len(lines) == 1 and lines[0].startswith("start-sim: warning: counties.1.launch_day (county 'B')"), lines
