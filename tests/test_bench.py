"""The benchmark (``make bench``) keeps working; its speed is never asserted."""

from __future__ import annotations

import importlib.util
import math
import sys
from types import ModuleType

from start_sim.experiments.records import run_replication

from .conftest import ROOT


def bench() -> ModuleType:
    """benchmarks/bench_model.py, imported as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_model", ROOT / "benchmarks" / "bench_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_benchmark_main_runs_on_a_tiny_configuration(capsys):
    report = bench().main(["--horizon-years", "0.25", "--runout-years", "0", "--replications", "1", "--repeats", "1",
                           "--scaling", "families", "--scaling-replications", "1"])
    out = capsys.readouterr().out
    for text in ("events per second", "families per second", "s per replication", "model/bare", "event loop",
                 "scaling in families", "x4:"):
        assert text in out, f"{text!r} missing from the benchmark report:\n{out}"
    assert report.families > 0 and report.events > report.families, (
        f"{report.families} families and {report.events} events per replication"
    )
    shares = sum(report.shares.values())
    assert math.isclose(shares, 1.0, rel_tol=1e-9), f"time shares add up to {shares}, not 1"


def test_benchmark_times_the_replication_the_package_runs(kentucky):
    """The benchmark re-assembles ``simulate`` phase by phase: it must give the same KPIs."""
    sc = kentucky.with_changes({"horizon_years": 0.5, "runout_years": 0.5})
    timed = bench().time_replication(sc, 3, 1).output.kpis
    ran = run_replication(sc, 3, 1).kpis
    differ = {k: (timed.get(k), v) for k, v in ran.items()
              if not (timed.get(k) == v or (math.isnan(v) and math.isnan(timed.get(k, 0.0))))}
    assert not differ, f"benchmark KPIs differ from run_replication's (benchmark, package): {differ}"


def test_family_scaling_multiplies_every_countys_referral_rate(kentucky):
    sc = bench().with_referrals(kentucky, 4)
    assert [c.referrals_per_year for c in sc.counties] == [4 * c.referrals_per_year for c in kentucky.counties]
    assert [c.dyads for c in sc.counties] == [c.dyads for c in kentucky.counties], "staffing must not change"


def test_machine_speedup_is_a_ratio_of_two_timings():
    assert bench().machine_speedup(10_000) > 0
