"""Experiments at scale: executors give identical results, a killed worker loses nothing,
interrupted runs resume to the same files, and the replications rule."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import start_sim as ss
from start_sim import cli
from start_sim.core.errors import RunError
from start_sim.experiments.compare import compare
from start_sim.experiments.grid import simulate_grid
from start_sim.experiments.precision import (
    ReplicationsRule,
    confidence_interval_method,
    relative_precision,
    replications_needed,
)
from start_sim.experiments.records import decode, encode, run_replication, scenario_hash
from start_sim.experiments.workfolder import WorkFolder, work_plan


@pytest.fixture
def medium() -> ss.Scenario:
    """Slow enough (~0.1-0.2 s a replication) that a worker can be killed while it works."""
    return ss.Scenario(
        name="medium", horizon_years=3, runout_years=1,
        counties=[{"name": "A", "referrals_per_year": 120, "dyads": 6},
                  {"name": "B", "referrals_per_year": 80, "dyads": 4}],
    )


def assert_same(a: ss.Results, b: ss.Results, what: str) -> None:
    for name in ("kpis", "timeseries", "families"):
        try:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{what}: the {name} frames differ: {exc}") from None


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- records


def test_record_round_trip_is_exact(small):
    out = run_replication(small, 3, 1)
    rec = decode(encode(out, 3, scenario_hash(small)))
    assert (rec.seed, rec.scenario_sha, rec.replication) == (3, scenario_hash(small), 1)
    assert rec.kpis == out.kpis, "KPIs changed through the record"
    old = pd.DataFrame([{"replication": 1, **row} for row in out.families])
    pd.testing.assert_frame_equal(rec.families, old, check_exact=True)
    pd.testing.assert_frame_equal(rec.timeseries, pd.DataFrame(out.timeseries), check_exact=True)


def test_cumulative_costs_end_at_the_cost_kpis(small):
    res = ss.run(small, replications=2, seed=4)
    ts = res.timeseries
    last = ts[ts["month"] == ts["month"].max()].groupby("replication")[
        ["program_cost_cum", "placement_cost_cum_start", "placement_cost_cum_usual"]].sum()
    k = res.kpis.set_index("replication")
    for col, kpi in (("program_cost_cum", "program_cost"), ("placement_cost_cum_start", "placement_cost_start"),
                     ("placement_cost_cum_usual", "placement_cost_usual")):
        np.testing.assert_allclose(last[col], k[kpi], rtol=1e-9, err_msg=f"last month of {col} != KPI {kpi}")
        steps = ts.groupby(["replication", "month"])[col].sum().groupby("replication").diff().dropna()
        assert (steps >= -1e-6).all(), f"{col} decreases somewhere: {steps.min()}"


# --------------------------------------------------------------------------- executors


@pytest.mark.slow
def test_serial_and_local_clusters_of_one_and_two_workers_agree(small):
    """The Dask path itself (a LocalCluster of 1 and of 2 processes, chunks of 2) against serial."""
    serial = ss.run(small, replications=6, seed=11, workers=1)
    one = ss.run(small, replications=6, seed=11, workers=1, executor="dask")
    two = ss.run(small, replications=6, seed=11, workers=2, chunk=2)
    auto = ss.run(small, replications=6, seed=11, workers=2)  # chunk size from the timing of a first round
    assert_same(serial, one, "serial vs LocalCluster(1)")
    assert_same(serial, two, "serial vs LocalCluster(2), chunks of 2")
    assert_same(serial, auto, "serial vs LocalCluster(2), automatic chunks")


@pytest.mark.slow
def test_a_killed_worker_loses_no_replication(medium):
    """Kill one worker process of two while tasks run; every replication still comes back, identical."""
    from dask.distributed import default_client

    killed: list[int] = []

    def kill_one(done: int, total: int) -> None:
        if done >= 1 and not killed:
            pids = default_client().run(os.getpid)
            pid = sorted(pids.values())[0]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    n = 10
    dask = ss.run(medium, replications=n, seed=5, workers=2, chunk=1, progress=kill_one)
    assert killed, "no worker was killed: the test proved nothing"
    assert list(dask.kpis["replication"]) == list(range(n)), f"replications lost: {list(dask.kpis['replication'])}"
    assert_same(ss.run(medium, replications=n, seed=5), dask, "serial vs Dask with a worker killed")


def test_compare_runs_one_grid_on_one_executor(small, monkeypatch):
    """compare() submits every scenario's replications through one simulate_grid call."""
    import importlib

    mod = importlib.import_module("start_sim.experiments.compare")  # the package's `compare` is the function
    calls = []
    real = mod.simulate_grid

    def spy(scenarios, *args, **kwargs):
        calls.append(list(scenarios))
        return real(scenarios, *args, **kwargs)

    monkeypatch.setattr(mod, "simulate_grid", spy)
    cmp = compare({"a": small, "b": small.with_changes({"program.caseload_cap": 5})}, replications=2, seed=1)
    assert calls == [["a", "b"]], f"expected one grid of both scenarios, got {calls}"
    assert set(cmp.kpis["scenario"]) == {"a", "b"}


# --------------------------------------------------------------------------- work folder and resume


def test_work_folder_resumes_without_redoing(small, tmp_path):
    work = tmp_path / "w.partial"
    first = ss.run(small, replications=3, seed=2, work=work)
    assert first.info.simulated == 3 and len(WorkFolder(work).finished("run")) == 3
    again = ss.run(small, replications=5, seed=2, work=work, resume=True)
    assert (again.info.simulated, again.info.resumed) == (2, 3), again.info
    assert_same(ss.run(small, replications=5, seed=2), again, "clean run vs resumed run")


def test_work_folder_refuses_another_run_or_no_resume(small, tmp_path):
    work = tmp_path / "w.partial"
    ss.run(small, replications=1, seed=2, work=work)
    with pytest.raises(RunError, match="--resume"):
        WorkFolder.open(work, work_plan("run", {"run": small}, 2), resume=False)
    with pytest.raises(RunError, match="another run"):
        WorkFolder.open(work, work_plan("run", {"run": small}, 3), resume=True)


def test_interrupted_cli_run_resumes_to_the_same_files(tmp_path, monkeypatch, capsys):
    """Ctrl-C after 2 of 4 replications keeps them; --resume simulates only the other 2 and
    ends with byte-identical files to an uninterrupted run."""
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\nhorizon_years = 1\nrunout_years = 0.5\n'
                        '[[counties]]\nname = "A"\nreferrals_per_year = 25\ndyads = 1\n')
    args = ["run", str(scenario), "-n", "4", "--seed", "3", "--workers", "1"]
    clean = tmp_path / "clean"
    assert cli.main([*args, "--out", str(clean)]) == 0

    import start_sim.experiments.grid as experiment

    real = experiment.simulate_chunk
    calls = {"n": 0}

    def interrupting(*a, **kw):
        calls["n"] += 1
        if calls["n"] > 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(experiment, "simulate_chunk", interrupting)
    out = tmp_path / "out"
    capsys.readouterr()
    assert cli.main([*args, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "2 finished replications kept" in err and "--resume" in err, err
    assert not out.exists(), "an interrupted run must not write the results folder"
    partial = tmp_path / "out.partial"
    assert len(list((partial / "replications" / "run").glob("*.json.gz"))) == 2

    assert cli.main([*args, "--out", str(out)]) == 2, "a rerun without --resume must not throw the work away"
    assert "add --resume" in capsys.readouterr().err

    ran: list[tuple] = []

    def counting(scenario, name, seed, reps):
        ran.append(tuple(reps))
        return real(scenario, name, seed, reps)

    monkeypatch.setattr(experiment, "simulate_chunk", counting)
    assert cli.main([*args, "--out", str(out), "--resume"]) == 0
    assert sorted(r for reps in ran for r in reps) == [2, 3], f"resume redid finished replications: {ran}"
    assert not partial.exists(), "the work folder should be gone once the results are written"
    a, b = folder_bytes(clean), folder_bytes(out)
    assert a.keys() == b.keys(), f"files differ: {sorted(a.keys() ^ b.keys())}"
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"resumed run's files differ from the clean run's: {differ}"


@pytest.mark.slow
def test_killed_compare_process_resumes(tmp_path):
    """A compare killed (SIGKILL) mid-run resumes from its finished replications."""
    import subprocess
    import sys
    import time

    from .test_cli import ROOT

    out = tmp_path / "cmp"
    cmd = [sys.executable, "-m", "start_sim.cli", "compare", str(ROOT / "scenarios" / "buncombe.toml"),
           str(ROOT / "scenarios" / "buncombe.toml"), "-n", "30", "--workers", "1", "--out", str(out)]
    # two files with one stem are refused; copy one under another name
    other = tmp_path / "buncombe_more.toml"
    other.write_text(f'extends = "{(ROOT / "scenarios" / "buncombe.toml").as_posix()}"\nname = "more"\n'
                     '[program]\ncaseload_cap = 14\n')
    cmd[5] = str(other)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    partial = tmp_path / "cmp.partial"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(partial.glob("replications/*/*.json.gz"))) >= 10:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = len(list(partial.glob("replications/*/*.json.gz")))
    assert 0 < kept < 60, f"expected a run killed half-way, it kept {kept} replications"
    done = subprocess.run([*cmd, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"resumed: {kept} replications" in done.stdout, done.stdout
    assert not partial.exists() and (out / "report.html").is_file()
    kpis = pd.read_csv(out / "kpis.csv")
    assert len(kpis) == 60 and kpis.groupby("scenario")["replication"].apply(list).map(
        lambda r: r == list(range(30))).all(), "every replication of both scenarios, in order"


# --------------------------------------------------------------------------- how many replications


def test_relative_precision_matches_the_t_interval():
    x = np.array([10.0, 12.0, 11.0, 13.0, 9.0])
    rel = relative_precision(x)
    from scipy import stats

    half = stats.t.ppf(0.975, 4) * x.std(ddof=1) / math.sqrt(5)
    assert rel[0] == math.inf and rel[-1] == pytest.approx(half / x.mean(), rel=1e-12)
    table = confidence_interval_method(pd.DataFrame({"k": x}), ["k"])
    assert table["half_width"].iloc[-1] == pytest.approx(half)


def test_rule_needs_the_look_ahead():
    """Precision reached at n must hold for the next look_ahead replications too."""
    rule = ReplicationsRule(precision=0.05, kpis=("k",), min_replications=3, look_ahead=3, max_replications=100)
    rng = np.random.default_rng(0)
    x = 100 + rng.normal(0, 5, 60)
    frame = pd.DataFrame({"k": x})
    n = rule.solution([frame])
    ok = relative_precision(x) <= 0.05
    assert n is not None and ok[n - 1 : n + 3].all(), f"solution {n} does not hold through the look-ahead"
    earlier = [m for m in range(3, n) if ok[m - 1 : m + 3].all()]
    assert not earlier, f"an earlier n {earlier} also satisfied the rule"
    assert rule.solution([frame.iloc[: n + 2]]) is None, "the look-ahead was not required"


def test_auto_replications_are_executor_independent_and_reach_the_precision(small, tmp_path):
    rule = ReplicationsRule(precision=0.1, kpis=("families_started", "placement_cost_usual"), max_replications=200)
    a = ss.run(small, "auto", seed=3, rule=rule)
    info = a.info.rule
    assert info["reached"] and info["used"] == info["needed"] + 5 == a.replications, info
    need = replications_needed(a.kpis, ["families_started", "placement_cost_usual"], precision=0.1)
    assert (need["needed"] <= info["needed"]).all(), need
    assert (need["precision_now"] <= 0.1).all(), need
    grid = simulate_grid({"x": small}, "auto", 3, rule=rule, chunk=7)  # other batches, same answer
    assert len(grid.records["x"]) == a.replications


def test_cli_auto_replications(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\nhorizon_years = 1\nrunout_years = 0.5\n'
                        '[[counties]]\nname = "A"\nreferrals_per_year = 40\ndyads = 2\n')
    out = tmp_path / "o"
    status = cli.main(["run", str(scenario), "--replications", "auto", "--precision", "0.2", "--precision-kpis",
                       "families_referred", "-w", "1", "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    import json

    m = json.loads((out / "manifest.json").read_text())
    assert m["replications_rule"]["reached"] and m["replications"] == m["replications_rule"]["used"], m
    assert cli.main(["run", str(scenario), "-n", "auto", "--precision-kpis", "families_refered", "--out",
                     str(out)]) == 2
    assert "did you mean 'families_referred'" in capsys.readouterr().err


def test_cli_workers_default_to_all_cores():
    from start_sim.cli import _parser

    args = _parser().parse_args(["run", "x.toml"])
    assert args.workers == (os.cpu_count() or 1), f"--workers defaults to {args.workers}, not every core"
    assert args.replications == 20 and args.precision == 0.05 and not args.resume
    assert _parser().parse_args(["compare", "a.toml", "b.toml", "-n", "auto"]).replications == "auto"
