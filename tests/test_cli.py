"""The ``start-sim`` command: outputs of a run, exit statuses, and nothing left behind on failure.

Most tests call :func:`start_sim.cli.main` in-process for speed; two run the installed
console script in a subprocess to prove the entry point works end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import start_sim as ss
from start_sim import cli

from .conftest import ROOT
from .test_scenario import BAD

BUNCOMBE = ROOT / "scenarios" / "buncombe.toml"
OUTPUTS = ("kpis.csv", "summary.csv", "timeseries.csv", "families.csv", "manifest.json", "caseload.png", "outcomes.png")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A one-county, one-year scenario file that runs in a fraction of a second."""
    path = tmp_path / "tiny.toml"
    path.write_text(
        'name = "tiny"\nhorizon_years = 1\nrunout_years = 0.5\n'
        '[[counties]]\nname = "A"\nreferrals_per_year = 20\ndyads = 1\n',
        encoding="utf-8",
    )
    return path


def script() -> Path:
    """The installed console script next to this interpreter (the project's .venv)."""
    for folder in (Path(sys.executable).parent, ROOT / ".venv" / "bin"):
        if (folder / "start-sim").is_file():
            return folder / "start-sim"
    found = shutil.which("start-sim")
    if found is None:
        pytest.fail("the start-sim console script is not installed (run `make test`, which installs it)")
    return Path(found)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- a good run


def test_run_writes_every_output(tmp_path, capsys):
    out = tmp_path / "x"
    status = cli.main(["run", str(BUNCOMBE), "--replications", "2", "--seed", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, f"exit status {status}; stderr: {captured.err}"
    missing = [name for name in OUTPUTS if not (out / name).is_file() or (out / name).stat().st_size == 0]
    assert not missing, f"outputs missing or empty: {missing}"
    assert leftovers(tmp_path) == ["x"], f"stray files beside the output folder: {leftovers(tmp_path)}"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["replications"] == 2, manifest
    assert manifest["version"] == ss.__version__
    assert ss.Scenario.model_validate(manifest["scenario"]) == ss.load_scenario(BUNCOMBE), (
        "the manifest's scenario should be the resolved scenario"
    )
    kpis = pd.read_csv(out / "kpis.csv")
    assert list(kpis["replication"]) == [0, 1] and set(kpis["seed"]) == {1}, kpis[["replication", "seed"]]
    assert {"mean", "ci_low", "ci_high"} <= set(pd.read_csv(out / "summary.csv").columns)
    for png in ("caseload.png", "outcomes.png"):
        assert (out / png).read_bytes()[:8] == PNG, f"{png} is not a PNG image"
    assert f"results written to {out}/" in captured.out
    assert captured.err == "", f"a good run should print nothing on stderr, got: {captured.err}"


def test_default_output_folder_is_results_slash_file_stem(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run", str(tiny), "-n", "1"]) == 0
    assert (tmp_path / "results" / "tiny" / "manifest.json").is_file()


def test_rerun_replaces_the_output_folder(tiny, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "-n", "1", "--out", str(out)]) == 0
    (out / "stale.csv").write_text("old")
    assert cli.main(["run", str(tiny), "-n", "2", "--out", str(out)]) == 0
    assert not (out / "stale.csv").exists(), "the old results folder's files should be gone"
    assert len(pd.read_csv(out / "kpis.csv")) == 2
    assert leftovers(tmp_path) == ["out", "tiny.toml"], "no lock, build or retired folder left behind"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_scenario_exits_2_with_the_library_message(path, tmp_path, capsys):
    out = tmp_path / "out"
    status = cli.main(["run", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    with pytest.raises(ss.ScenarioError) as info:
        ss.load_scenario(path)
    assert status == 2, f"{path.name}: exit status {status}"
    assert captured.err == f"start-sim: {info.value}\n", (
        f"{path.name}: stderr should be one paragraph with the library's text, got:\n{captured.err}"
    )
    assert "Traceback" not in captured.err
    assert not out.exists(), f"{path.name}: output folder {out} was created"
    assert leftovers(tmp_path) == [], f"{path.name}: files left behind: {leftovers(tmp_path)}"


def test_nonexistent_scenario_exits_2(tmp_path, capsys):
    out = tmp_path / "out"
    missing = tmp_path / "nowhere.toml"
    assert cli.main(["run", str(missing), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"start-sim: {missing}: file not found") and err.count("\n") == 1, err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--replications", "0"], "argument --replications/-n: 0 is not allowed: give a whole number from 1 to"),
        (["--replications", "two"], "argument --replications/-n: 'two' is not a whole number"),
        (["-n", "1.5"], "'1.5' is not a whole number"),
        (["--workers", "abc"], "argument --workers/-w: 'abc' is not a whole number"),
        (["--workers", "0"], "argument --workers/-w: 0 is not allowed: give a whole number from 1 to 256"),
        (["--seed", "-1"], "argument --seed: -1 is not allowed: give a whole number from 0 to 4,294,967,295"),
        (["--seed", str(2**64)], "is not allowed: give a whole number from 0 to 4,294,967,295"),
        (["--scheduler", "nonsense"], "'nonsense' is not a scheduler address: give tcp://HOST:PORT"),
        (["--scheduler", "tcp://host:99999"], "is not a scheduler address"),
        (["--seed", "x"], "argument --seed: 'x' is not a whole number"),
        (["--replicatons", "3"], "unrecognized arguments: --replicatons 3"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "",
)
def test_bad_arguments_exit_2(args, fragment, tiny, tmp_path, capsys):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        cli.main(["run", str(tiny), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert info.value.code == 2, f"exit status {info.value.code} for {args}"
    assert fragment in err, f"expected {fragment!r} in: {err}"
    assert "Traceback" not in err and not out.exists()


def test_no_command_or_scenario_exits_2(capsys):
    for argv in ([], ["run"]):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2, f"{argv}: exit status {info.value.code}"
        assert "required" in capsys.readouterr().err


def test_out_is_a_file_exits_2(tiny, tmp_path, capsys):
    out = tmp_path / "taken"
    out.write_text("keep me")
    assert cli.main(["run", str(tiny), "-n", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out} is a file, not a folder" in err, err
    assert out.read_text() == "keep me", "the file given as --out must not be touched"


# --------------------------------------------------------------------------- failures during the run


def test_crash_while_writing_leaves_no_output_folder(tiny, tmp_path, monkeypatch, capsys):
    def broken_plot(results):
        raise RuntimeError("plot failed")

    monkeypatch.setattr("start_sim.outputs.plots.outcomes_plot", broken_plot)
    out = tmp_path / "results" / "run"
    assert cli.main(["run", str(tiny), "-n", "1", "--out", str(out)]) == 1
    assert not out.exists(), "a crash while writing must not leave a half-written folder"
    # the finished replications are kept aside for --resume, nothing else (no lock, no build folder)
    assert leftovers(out.parent) == ["run.partial"], f"temporary files left behind: {leftovers(out.parent)}"
    err = capsys.readouterr().err
    assert "rerun with --resume" in err and "internal error in start-sim run RuntimeError: plot failed" in err, err
    assert "please report it" in err and "Traceback" not in err, err


def test_crash_while_writing_keeps_the_previous_results(tiny, tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert cli.main(["run", str(tiny), "-n", "1", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_plot(results):
        raise RuntimeError("plot failed")

    monkeypatch.setattr("start_sim.outputs.plots.caseload_plot", broken_plot)
    assert cli.main(["run", str(tiny), "-n", "2", "--out", str(out)]) == 1
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before, "a failed run must leave the previous results as they were"
    assert leftovers(tmp_path) == ["run", "run.partial", "tiny.toml"], f"temporary files left behind: {leftovers(tmp_path)}"


def test_crash_inside_the_simulation_writes_nothing(tiny, tmp_path, monkeypatch, capsys):
    def broken_run(*args, **kwargs):
        raise RuntimeError("model bug")

    monkeypatch.setattr("start_sim.experiments.runner.run", broken_run)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "--out", str(out)]) == 1
    assert "internal error in start-sim run RuntimeError: model bug" in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.setenv("START_SIM_DEBUG", "1")
    with pytest.raises(RuntimeError, match="model bug"):
        cli.main(["run", str(tiny), "--out", str(out)])


def test_interrupt_exits_130_and_writes_nothing(tiny, tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("start_sim.experiments.runner.run", interrupted)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "--out", str(out)]) == 130
    assert capsys.readouterr().err == "start-sim: interrupted; nothing written\n"
    assert not out.exists()


def test_scenario_error_during_the_run_exits_2(tiny, tmp_path, monkeypatch, capsys):
    def rejects(*args, **kwargs):
        raise ss.ScenarioError("counties.0.dyads = 0 is not allowed: the run needs a dyad", file=str(tiny))

    monkeypatch.setattr("start_sim.experiments.runner.run", rejects)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"start-sim: {tiny}: counties.0.dyads = 0 is not allowed: the run needs a dyad\n"
    assert not out.exists()


def test_unwritable_output_exits_1(tiny, tmp_path, monkeypatch, capsys):
    def refuse(results, out, plots=True):
        raise PermissionError(13, "Permission denied", str(out))

    monkeypatch.setattr("start_sim.outputs.writers.write_run", refuse)
    out = tmp_path / "out"
    assert cli.main(["run", str(tiny), "-n", "1", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    first, kept = err.splitlines()
    assert first == f"start-sim: cannot write results to {out}: Permission denied; nothing written", err
    assert kept.endswith("rerun with --resume to reuse them"), err


# --------------------------------------------------------------------------- the installed console script


def test_console_script_runs(tmp_path):
    out = tmp_path / "x"
    proc = subprocess.run(
        [str(script()), "run", str(BUNCOMBE), "--replications", "1", "--seed", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, f"exit status {proc.returncode}\nstderr:\n{proc.stderr}"
    missing = [name for name in OUTPUTS if not (out / name).is_file()]
    assert not missing, f"outputs missing: {missing}"
    assert json.loads((out / "manifest.json").read_text())["replications"] == 1


def test_console_script_bad_input_has_no_traceback(tmp_path):
    out = tmp_path / "x"
    bad = ROOT / "tests" / "data" / "bad" / "unknown_key.toml"
    proc = subprocess.run(
        [str(script()), "run", str(bad), "--out", str(out)], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 2, f"exit status {proc.returncode}\nstderr:\n{proc.stderr}"
    assert proc.stderr.startswith(f"start-sim: {bad}: invalid scenario") and proc.stderr.count("\n") == 1, proc.stderr
    assert "did you mean 'caseload_cap'?" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
