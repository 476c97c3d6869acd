"""Speed of start-sim, as a ratio to a bare SimPy loop in the same process (``make bench``).

Absolute speeds depend on the machine and on what else runs on it; the ratio to a bare
SimPy timeout loop with the same number of events, timed in the same process right
after the model, is comparable across machines (docs/requirements.md, section 6).

What is timed, for each replication of the scenario:

- *draw*: the families of every county and their random draws (``county_families``);
- *event loop*: building and running both arms of every county (``CountyModel``);
- *outcomes*: placements, re-reports, costs, KPIs and tables (``metrics.summarise``).

A *family* is one referred or pre-existing family simulated in both arms (START and the
usual-services counterfactual), counted once: the unit of the target (docs/requirements.md, section 6) of
10,000 families per second per core. Times are CPU seconds of this process
(``time.process_time``), so other work on the machine disturbs them less; every
figure is the median over repetitions.

The same run also reports two scalings, as ratios (``--scaling none`` leaves them out):

- *families*: the scenario with every county's referral rate times 1, 2 and 4, each timed as
  above; the CPU time per family relative to 1x (1.00 everywhere = linear in families);
- *workers*: the same replications through ``experiments.executor.Executor`` on a Dask
  cluster of 1 and of 2 worker processes, wall-clock time after the cluster has started
  (a warm-up task on every worker); the speed-up 1-worker time / 2-worker time (2.00 = ideal
  on 2 free cores; on a shared machine other work lowers it), beside the speed-up the machine
  gives two pure-Python processes at that moment (``machine_speedup``).
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import simpy

import start_sim as ss
from start_sim.experiments.executor import Executor
from start_sim.experiments.records import run_replication
from start_sim.metrics.kpis import ReplicationOutput, summarise
from start_sim.sim.replication import county_families, gc_paused, simulate_county, simulate_region

ROOT = Path(__file__).resolve().parents[1]
KENTUCKY = ROOT / "scenarios" / "kentucky.toml"
TARGET_FAMILIES_PER_S = 10_000  # docs/requirements.md, section 6
REFERENCE_BARE_EVENTS_PER_S = 750_000  # docs/requirements.md, section 6: the bare loop on the machines of the target
BARE_PROCESSES = 100  # live processes in the bare loop (reference figure of docs/requirements.md, section 6)


def processed(env: simpy.Environment) -> int:
    """Events an environment has processed: ids handed out minus events still queued."""
    return next(env._eid) - len(env._queue)  # reads SimPy internals; costs nothing in the loop


@dataclass(frozen=True)
class ReplicationTiming:
    """Seconds spent in each phase of one replication, and what it simulated."""

    draw: float
    loop: float
    outcomes: float
    events: int
    families: int
    output: ReplicationOutput


def time_replication(scenario: ss.Scenario, seed: int, replication: int) -> ReplicationTiming:
    """One replication, phase by phase, exactly as ``replication.simulate`` then ``summarise``."""
    with gc_paused():
        t0 = time.process_time()
        families = [county_families(scenario, k, seed, replication) for k in range(len(scenario.counties))]
        t1 = time.process_time()
        runs, events = [], 0
        for plan in scenario.region_plans():  # as replication.simulate: a county alone, or its region
            if plan.trivial:
                k = plan.counties[0]
                run, start, usual = simulate_county(scenario, k, families[k], seed, replication)
                runs.append(run)
                events += processed(start.env) + processed(usual.env)
            else:
                region_runs, arms = simulate_region(scenario, plan, {k: families[k] for k in plan.counties}, seed,
                                                    replication)
                runs += region_runs
                events += sum(processed(arm.env) for arm in arms.values())
        runs.sort(key=lambda r: r.county)
        t2 = time.process_time()
    output = summarise(scenario, runs, replication)
    t3 = time.process_time()
    return ReplicationTiming(t1 - t0, t2 - t1, t3 - t2, events, sum(len(f) for f in families), output)


def bare_loop(events: int, seed: int = 0) -> tuple[float, int]:
    """Seconds and events of a bare SimPy loop: processes yielding exponential timeouts.

    Delays are drawn beforehand so that only the kernel is timed.
    """
    per_process = max(1, events // BARE_PROCESSES - 2)  # each process also starts and ends: 2 events
    rng = random.Random(seed)
    delays = [[rng.expovariate(1.0) for _ in range(per_process)] for _ in range(BARE_PROCESSES)]

    def proc(env: simpy.Environment, ds: list[float]):
        for d in ds:
            yield env.timeout(d)

    t0 = time.process_time()
    env = simpy.Environment()
    for ds in delays:
        env.process(proc(env, ds))
    env.run()
    return time.process_time() - t0, processed(env)


@dataclass(frozen=True)
class Report:
    """Medians over repetitions; ``model/bare`` ratios are per repetition, then the median."""

    scenario: str
    families: float  # per replication
    events: float  # per replication
    seconds: float  # per replication, all phases
    loop_seconds: float
    shares: dict[str, float]  # phase -> share of the replication's time
    bare_seconds: float  # bare loop with the same number of events
    bare_events_per_s: float
    events_ratio: float  # model events/s (event loop) / bare events/s
    time_ratio: float  # model s per replication / bare s for the same events

    @property
    def families_per_s(self) -> float:
        return self.families / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.loop_seconds

    @property
    def bare_events_per_family(self) -> float:
        """A family's time in events of the bare loop: the speed, free of the machine's."""
        return self.bare_events_per_s / self.families_per_s


def measure(scenario: ss.Scenario, replications: int, repeats: int, seed: int) -> Report:
    """Time ``replications`` replications ``repeats`` times, each followed by the bare loop.

    The time of a replication is that of the whole sequence divided by its length, so it
    includes whatever the phases leave to later (garbage collection); the outputs are kept
    until the sequence ends, as ``start_sim.experiments.runner.replicate`` keeps them.
    """
    rows = []
    n = replications
    for _ in range(repeats):
        gc.collect()
        t0 = time.process_time()
        reps = [time_replication(scenario, seed, r) for r in range(n)]
        seconds = (time.process_time() - t0) / n
        events = sum(r.events for r in reps)
        loop = sum(r.loop for r in reps) / n
        draw, outcomes = sum(r.draw for r in reps) / n, sum(r.outcomes for r in reps) / n
        families = sum(r.families for r in reps) / n
        del reps
        gc.collect()
        bare_s, bare_events = bare_loop(events)
        rows.append({
            "families": families,
            "events": events / n,
            "seconds": seconds,
            "loop": loop,
            "draw_share": draw / seconds,
            "loop_share": loop / seconds,
            "outcomes_share": outcomes / seconds,
            "other_share": 1.0 - (draw + loop + outcomes) / seconds,
            "bare_seconds": bare_s / bare_events * (events / n),
            "bare_events_per_s": bare_events / bare_s,
            "events_ratio": (events / n / loop) / (bare_events / bare_s),
            "time_ratio": seconds / (bare_s / bare_events * (events / n)),
        })

    def med(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    return Report(
        scenario=scenario.name,
        families=med("families"),
        events=med("events"),
        seconds=med("seconds"),
        loop_seconds=med("loop"),
        shares={k: med(f"{k}_share") for k in ("draw", "loop", "outcomes", "other")},
        bare_seconds=med("bare_seconds"),
        bare_events_per_s=med("bare_events_per_s"),
        events_ratio=med("events_ratio"),
        time_ratio=med("time_ratio"),
    )


def render(rep: Report, scenario: ss.Scenario, replications: int, repeats: int) -> str:
    """The report as text."""
    bare_fam = rep.families / rep.bare_seconds
    lines = [
        f"start-sim benchmark: {rep.scenario}",
        f"  horizon {scenario.horizon_years:g} y + run-out {scenario.runout_years:g} y; "
        f"{replications} replication(s) x {repeats} repetition(s), medians; "
        f"Python {platform.python_version()}, SimPy {simpy.__version__}",
        f"  per replication: {rep.families:,.0f} families (each in both arms), {rep.events:,.0f} SimPy events "
        f"({rep.events / max(rep.families, 1):.1f} per family)",
        "",
        f"  {'':22}{'model':>12}{'bare SimPy':>14}{'model/bare':>12}",
        f"  {'events per second':22}{rep.events_per_s:>12,.0f}{rep.bare_events_per_s:>14,.0f}{rep.events_ratio:>12.3f}",
        f"  {'families per second':22}{rep.families_per_s:>12,.0f}{bare_fam:>14,.0f}{1 / rep.time_ratio:>12.3f}",
        f"  {'s per replication':22}{rep.seconds:>12.4f}{rep.bare_seconds:>14.4f}{rep.time_ratio:>12.2f}",
        "",
        "  time per replication: "
        + ", ".join(f"{name} {rep.shares[key]:.0%}" for key, name in
                    (("draw", "drawing families"), ("loop", "event loop"), ("outcomes", "outcomes (summarise)"),
                     ("other", "other (deferred garbage collection)"))),
        f"  events per second are over the event loop only; the bare loop runs {BARE_PROCESSES} processes "
        "yielding timeouts, as many events as the model",
        f"  one family takes as long as {rep.bare_events_per_family:,.0f} events of the bare loop "
        f"(the target of docs/requirements.md, section 6: {TARGET_FAMILIES_PER_S:,} families/s where the bare loop runs "
        f"{REFERENCE_BARE_EVENTS_PER_S:,} events/s: {REFERENCE_BARE_EVENTS_PER_S / TARGET_FAMILIES_PER_S:,.0f})",
        "  by phase, in bare-loop events per family: "
        + ", ".join(f"{name} {rep.shares[key] * rep.bare_events_per_family:,.0f}" for key, name in
                    (("draw", "drawing"), ("loop", "event loop"), ("outcomes", "outcomes"), ("other", "other")))
        + f"; the model's own {rep.events / max(rep.families, 1):.1f} SimPy events per family cost as many bare-loop "
        "events at the kernel's speed: the floor of any model that schedules them through SimPy",
        f"  target (docs/requirements.md, section 6): {TARGET_FAMILIES_PER_S:,} families/s per core -> "
        f"{rep.families_per_s / TARGET_FAMILIES_PER_S:.0%} of target on this machine",
    ]
    return "\n".join(lines)


def with_referrals(scenario: ss.Scenario, factor: float) -> ss.Scenario:
    """The scenario with every county's referral rate times ``factor`` (staffing unchanged)."""
    return scenario.with_changes({f"counties.{k}.referrals_per_year": c.referrals_per_year * factor
                                  for k, c in enumerate(scenario.counties)})


FAMILY_FACTORS = (1, 2, 4)


def family_scaling(scenario: ss.Scenario, replications: int, repeats: int, seed: int) -> dict[int, Report]:
    """The benchmark at 1x, 2x and 4x the referral rate (one report per factor)."""
    out = {}
    for factor in FAMILY_FACTORS:
        sc = with_referrals(scenario, factor)
        time_replication(sc, seed, 0)  # warm-up at this size
        out[factor] = measure(sc, replications, repeats, seed)
    return out


def worker_seconds(scenario: ss.Scenario, workers: int, replications: int, seed: int) -> float:
    """Wall-clock seconds of ``replications`` replications through the Dask executor with
    ``workers`` worker processes, after a warm-up replication on every worker (imports and
    first-call costs are not timed)."""
    with Executor(workers, kind="dask") as ex:
        ex.stream(run_replication, [(f"bench-warm-{workers}", (scenario, seed, 0))], lambda key, out: None)  # starts it
        ex.client.wait_for_workers(workers)
        ex.client.run(run_replication, scenario, seed, 0)  # every worker imports and runs once before the clock
        items = [(f"bench-{workers}-{i}", (scenario, seed, i)) for i in range(replications)]
        t0 = time.perf_counter()
        ex.stream(run_replication, items, lambda key, out: None)
        return time.perf_counter() - t0


def _burn(n: int) -> int:
    """Pure-Python CPU work for ``machine_speedup``."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_speedup(n: int = 4_000_000) -> float:
    """What the machine gives two processes now: serial time of two equal CPU-bound jobs over
    their time on a pool of 2 processes (2.00 on 2 free cores; less when others use them)."""
    import multiprocessing

    t0 = time.perf_counter()
    _burn(n)
    _burn(n)
    serial = time.perf_counter() - t0
    with multiprocessing.Pool(2) as pool:
        pool.map(_burn, [1, 1])  # workers started
        t0 = time.perf_counter()
        pool.map(_burn, [n, n])
        return serial / (time.perf_counter() - t0)


def render_scaling(by_factor: dict[int, Report], workers: tuple[float, float, float] | None) -> str:
    """The scalings as text: time per family relative to 1x; 1-worker / 2-worker time."""
    per_family = {f: rep.seconds / rep.families for f, rep in by_factor.items()}
    lines = ["", "  scaling in families (referral rate x1, x2, x4; CPU time per family relative to x1, 1.00 = linear):"]
    for f, rep in by_factor.items():
        lines.append(f"    x{f}: {rep.families:,.0f} families, {rep.events / max(rep.families, 1):.1f} events and "
                     f"{rep.bare_events_per_family:,.0f} bare-loop events per family, "
                     f"time per family {per_family[f] / per_family[FAMILY_FACTORS[0]]:.2f}")
    if workers is not None:
        one, two, machine = workers
        lines.append(f"  scaling in workers (Dask executor, wall clock): 1 worker {one:.2f} s, 2 workers {two:.2f} s, "
                     f"speed-up {one / two:.2f} (2.00 = ideal); the machine itself gives 2 processes a speed-up "
                     f"of {machine:.2f} now (pure-Python jobs), so the executor reaches {one / two / machine:.0%} of it")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> Report:
    """Run the benchmark and print its report; returns the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=KENTUCKY)
    ap.add_argument("--horizon-years", type=float, default=5.0)
    ap.add_argument("--runout-years", type=float, default=None, help="default: the scenario's")
    ap.add_argument("--replications", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scaling", choices=("all", "families", "none"), default="all",
                    help="also measure the scaling in families and (all) in Dask workers")
    ap.add_argument("--scaling-replications", type=int, default=2, help="replications per size in the family scaling")
    ap.add_argument("--worker-replications", type=int, default=8, help="replications in each worker run")
    args = ap.parse_args(argv)
    scenario = ss.load_scenario(args.scenario)
    changes: dict[str, float] = {"horizon_years": args.horizon_years}
    if args.runout_years is not None:
        changes["runout_years"] = args.runout_years
    scenario = scenario.with_changes(changes)
    time_replication(scenario, args.seed, 0)  # warm-up: imports, caches
    report = measure(scenario, args.replications, args.repeats, args.seed)
    print(render(report, scenario, args.replications, args.repeats))
    if args.scaling != "none":
        by_factor = family_scaling(scenario, args.scaling_replications, args.repeats, args.seed)
        workers = None
        if args.scaling == "all":
            one, two = (worker_seconds(scenario, w, args.worker_replications, args.seed) for w in (1, 2))
            workers = (one, two, machine_speedup())
        print(render_scaling(by_factor, workers))
    return report


if __name__ == "__main__":
    main()
