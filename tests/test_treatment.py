"""Treatment places keep SimPy's ``PriorityResource`` discipline, without its events.

``treatment.Places`` replaced a ``simpy.PriorityResource`` per modality (a free place is
granted at once, a freed place goes to the first in the queue by priority, then by
request time, then first come first served). Driven by the same random script of
requests and releases, both must grant the same places to the same families at the
same times. Operations happen at distinct times: SimPy hands a freed place over through a
zero-delay event, so it could differ only for a request made at exactly the instant of a
release, which continuous event times never produce.
"""

from __future__ import annotations

import random

import pytest
import simpy

from start_sim.sim.treatment import Places


def grants_of_both(seed: int, capacity: int, steps: int = 300) -> tuple[list, list]:
    """(SimPy's grants, Places' grants) as (who, day) in order, for one random script."""
    rng = random.Random(seed)
    env = simpy.Environment()
    res = simpy.PriorityResource(env, capacity=capacity)
    places: Places[int] = Places(capacity)
    s_grants: list[tuple[int, float]] = []
    p_grants: list[tuple[int, float]] = []
    s_held: dict[int, simpy.Event] = {}
    p_held: set[int] = set()
    new = 0
    for step in range(steps):
        env.run(until=float(step + 1))  # one operation a day; SimPy's zero-delay grants have fired
        if p_held and rng.random() < 0.45:
            who = min(p_held)  # the same holder in both, as long as both agree so far
            res.release(s_held.pop(who))
            p_held.remove(who)
            nxt = places.release()
            if nxt is not None:
                p_grants.append((nxt, env.now))
                p_held.add(nxt)
        else:
            who, new = new, new + 1
            priority = rng.randrange(2)
            req = res.request(priority=priority)
            req.callbacks.append(lambda e, w=who: (s_grants.append((w, env.now)), s_held.__setitem__(w, e)))
            if places.request(who, priority, env.now):
                p_grants.append((who, env.now))
                p_held.add(who)
        env.run(until=env.now + 0.5)
        assert set(s_held) == p_held, f"seed {seed}, step {step}: SimPy holders {sorted(s_held)}, Places {sorted(p_held)}"
        assert places.in_use == len(p_held) <= capacity, f"seed {seed}, step {step}: {places.in_use} places in use"
    return s_grants, p_grants


@pytest.mark.parametrize("capacity", [1, 2, 5])
def test_places_grant_like_simpy_priority_resource(capacity):
    for seed in range(20):
        s, p = grants_of_both(seed, capacity)
        first = next((i for i, (a, b) in enumerate(zip(s, p, strict=False)) if a != b), None)
        assert s == p, (
            f"seed {seed}, capacity {capacity}: grants differ from SimPy's at grant {first}: "
            f"SimPy {s[first] if first is not None and first < len(s) else None}, "
            f"Places {p[first] if first is not None and first < len(p) else None} ({len(s)} vs {len(p)} grants)"
        )


GIVE_UP_SCRIPT = """
import json, math, sys
import start_sim as ss
from start_sim.sim.replication import simulate
sc = ss.Scenario(name="give-up", horizon_years=2, runout_years=0.5,
                 counties=[{"name": "C", "referrals_per_year": 80, "dyads": 4,
                            "treatment_slots": {"outpatient": 1, "intensive_outpatient": 1, "residential": 1, "moud": 1}}],
                 treatment={"max_wait_days": 20})
cases = [c for run in simulate(sc, 3, 0) for c in run.start + run.usual]
gave_up = [c for c in cases if not math.isnan(c.tx_request_day) and math.isnan(c.tx_start_day)
           and c.tx_request_day + 20 < sc.end_days]
late = [c for c in cases if c.tx_start_day - c.tx_request_day > 20 + 1e-9]
print(json.dumps({"optimize": sys.flags.optimize, "gave_up": len(gave_up), "late": len(late),
                  "starts": sorted(c.tx_start_day for c in cases if not math.isnan(c.tx_start_day))}))
"""


def test_a_parent_who_gives_up_the_queue_gets_no_place_even_under_python_O():
    """Giving up the treatment queue takes the parent out of it: nobody enters treatment after
    ``treatment.max_wait_days``, and ``python -O`` (which drops asserts) runs the same model."""
    import json
    import subprocess
    import sys

    runs = [json.loads(subprocess.run([sys.executable, *flags, "-c", GIVE_UP_SCRIPT], check=True, capture_output=True,
                                      text=True).stdout) for flags in ([], ["-O"])]
    plain, optimized = runs
    assert (plain["optimize"], optimized["optimize"]) == (0, 1)
    assert plain["gave_up"] > 0, "the scenario should make some parents give up the queue"
    assert plain["late"] == 0, f"{plain['late']} parents entered treatment after giving up the queue"
    assert optimized == {**plain, "optimize": 1}, "python -O changes the treatment queue"
