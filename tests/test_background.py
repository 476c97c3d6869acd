"""Background clients played between events (sim.background) make the same queue, to the last bit,
as one SimPy event per arrival and per exit; a parent queued behind them starts the instant a
place is freed."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from start_sim.sim.background import BackgroundClient, BackgroundPlaces, delay_not_after
from start_sim.sim.treatment import START_PRIORITY, USUAL_PRIORITY, Places

END = 400.0


@dataclass(eq=False)
class Parent:
    """A CPS parent asking for a place on ``day`` with ``priority``, holding it ``hold`` days."""

    day: float
    priority: int
    hold: float
    start: float = math.nan


def population(seed: int, load: float) -> tuple[list[BackgroundClient], list[Parent]]:
    rng = random.Random(seed)
    clients, day = [], 0.0
    while True:
        day += rng.expovariate(load / 10.0)
        if day >= END:
            break
        clients.append(BackgroundClient("outpatient", day, rng.expovariate(1 / 30.0)))
    parents = [Parent(rng.uniform(0, END), rng.choice((START_PRIORITY, USUAL_PRIORITY)), rng.expovariate(1 / 40.0))
               for _ in range(rng.randint(1, 30))]
    return clients, parents


def run(clients: list[BackgroundClient], parents: list[Parent], capacity: int, lazy: bool) -> tuple[list, list]:
    """Copies of the clients and parents after a run, the background played lazily or as events of
    their own (the parents always as events)."""
    env = simpy.Environment()
    clients = [BackgroundClient(c.modality, c.arrival, c.episode) for c in clients]
    parents = [Parent(p.day, p.priority, p.hold) for p in parents]

    def begin(who: BackgroundClient | Parent) -> None:
        who.start = env.now
        env.timeout(who.hold if isinstance(who, Parent) else who.episode).callbacks.append(lambda _: leave())

    def leave() -> None:
        nxt = places.release()
        if nxt is not None:
            begin(nxt)

    def ask(who: BackgroundClient | Parent, priority: int) -> None:
        if places.request(who, priority, env.now):
            begin(who)

    places: Places
    if lazy:  # the pool starts background clients itself: ``begin`` sees parents only
        places = BackgroundPlaces(env, capacity, clients, END, begin)
    else:
        places = Places(capacity)
        for c in clients:
            env.timeout(c.arrival, c).callbacks.append(lambda e: ask(e.value, USUAL_PRIORITY))
    for p in parents:
        env.timeout(p.day, p).callbacks.append(lambda e: ask(e.value, e.value.priority))
    env.run(until=END)
    return clients, parents


def starts(people: list) -> list[str]:
    return [repr(x.start) for x in people]  # bit for bit, nan where never started


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), capacity=st.integers(1, 6), load=st.floats(0.3, 1.2))
def test_lazy_background_clients_give_the_queue_of_one_event_each(seed, capacity, load):
    clients, parents = population(seed, load * capacity)
    eager_c, eager_p = run(clients, parents, capacity, lazy=False)
    lazy_c, lazy_p = run(clients, parents, capacity, lazy=True)
    assert starts(lazy_c) == starts(eager_c)
    assert starts(lazy_p) == starts(eager_p)


def test_a_queued_parent_starts_the_instant_a_client_or_parent_leaves():
    clients, parents = run(*population(5, 4.0), 4, lazy=True)
    exits = {c.exit for c in clients if not math.isnan(c.start)} | {p.start + p.hold for p in parents}
    queued = [p for p in parents if p.start != p.day and not math.isnan(p.start)]
    assert len(queued) >= 3, "too few parents queued: the test would check little"
    assert all(p.start in exits for p in queued)


@settings(max_examples=500, deadline=None)
@given(now=st.floats(0, 1e4), ahead=st.floats(1e-9, 1e4))
def test_a_wake_up_lands_on_the_day_to_the_last_bit_in_at_most_two_steps(now, ahead):
    day = now + ahead
    first = now + delay_not_after(now, day)
    assert first <= day
    assert first == day or first + (day - first) == day


def test_the_case_where_no_single_delay_lands_on_the_day():
    """Found by the equivalence test: rounding to even skips this day from this ``now``."""
    now, day = 6.676252046223841, 57.847598603713855
    assert now + (day - now) != day
    first = now + delay_not_after(now, day)
    assert first < day and first + (day - first) == day
