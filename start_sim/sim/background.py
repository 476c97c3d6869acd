"""A provider's places of one modality, shared with background clients processed between events.

Background clients (decision 0021) are three quarters of a loaded region's events, yet what
they do matters to the rest of the model only when a CPS parent asks for, gives back or waits
for one of these places. So their arrivals and departures are kept on the pool's own calendar
and played, in time order, up to the present whenever a CPS parent touches the pool
(``catch_up``); while a CPS parent queues, the pool wakes the environment at each background
departure, since that departure may hand the parent its place at that instant (to the last bit).
The sequence of
requests, grants and hand-overs, and every time in it, is the one the same clients would make as
SimPy events of their own (decision 0055).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import simpy
from simpy.events import URGENT

from start_sim.sim.treatment import USUAL_PRIORITY, Places


@dataclass(slots=True, eq=False)
class BackgroundClient:
    """A provider's client from outside child welfare: asks on ``arrival``, treated for ``episode`` days."""

    modality: str
    arrival: float
    episode: float
    start: float = math.nan

    @property
    def exit(self) -> float:
        return self.start + self.episode


class _Finish(simpy.Event):
    """An event at ``day`` that comes before ``env.run(until=day)`` stops the run (urgent, and made
    first), so that every background event before ``day`` is played; built as SimPy's own
    ``Initialize`` is."""

    def __init__(self, env: simpy.Environment, day: float, callback: Callable[[simpy.Event], None]) -> None:
        self.env, self.callbacks = env, [callback]
        self._value, self._ok = None, True
        env.schedule(self, URGENT, day)


def delay_not_after(now: float, day: float) -> float:
    """The delay that SimPy adds to ``now`` to land nearest ``day`` without passing it: ``day - now``
    rounded can overshoot by a unit in the last place, and no delay at all may land on ``day`` exactly
    when ``now`` is small against it (rounding to even skips it). A second delay from there lands
    exactly (the two days are then within a factor of 2, so the difference and the sum are exact)."""
    d = day - now
    while d > 0 and now + d > day:
        d = math.nextafter(d, -math.inf)
    return d


class BackgroundPlaces(Places[Any]):
    """One modality's places at a provider: CPS parents ask through ``request``, ``cancel`` and
    ``release`` as for any pool; the background clients' own requests and departures are played
    up to the present first. ``hand_over`` starts a CPS parent handed a place by a departing client."""

    __slots__ = ("env", "clients", "_next", "_exits", "_order_exit", "_cps_queued", "_wake_at", "_playing",
                 "hand_over", "on_wake")

    def __init__(self, env: simpy.Environment, capacity: int, clients: Sequence[BackgroundClient], end: float,
                 hand_over: Callable[[Any], None], on_wake: Callable[[], None] | None = None) -> None:
        super().__init__(capacity)
        self.env, self.clients, self.hand_over, self.on_wake = env, list(clients), hand_over, on_wake
        self._next = 0  # index of the next arrival in ``clients`` (sorted by arrival)
        self._exits: list[tuple[float, int, BackgroundClient]] = []  # (exit day, start order, client)
        self._order_exit = 0
        self._cps_queued = 0  # CPS parents in the queue: while any, the pool wakes at each background exit
        self._wake_at = math.inf
        self._playing = False
        _Finish(env, end, lambda _: self.catch_up(end, inclusive=False))

    # -- CPS parents
    def request(self, who: Any, priority: int, day: float) -> bool:
        self.catch_up(day)
        granted = super().request(who, priority, day)
        if not granted:
            self._cps_queued += 1
            self._plan()
        return granted

    def cancel(self, who: Any) -> bool:
        self.catch_up(self.env.now)
        found = super().cancel(who)
        self._cps_queued -= found
        return found

    def release(self) -> Any:
        """A CPS parent gives its place back now: a CPS parent first in the queue is returned for the
        caller to start; a background client first in the queue takes it here (None is returned)."""
        now = self.env.now
        self.catch_up(now)
        nxt = self._pass_on(super().release())
        if isinstance(nxt, BackgroundClient):
            self._begin(nxt, now)
            self._plan()
            return None
        return nxt

    # -- background clients
    def catch_up(self, until: float, inclusive: bool = True) -> None:
        """Play the background clients' arrivals and exits up to ``until`` (arrivals first at a tie,
        as their events were scheduled first)."""
        if self._playing:
            return
        self._playing = True
        clients, exits, i, n = self.clients, self._exits, self._next, len(self.clients)
        arrival = clients[i].arrival if i < n else math.inf
        while True:
            if exits and exits[0][0] < arrival:  # an exit (an arrival first at a tie: its event was older)
                day = exits[0][0]
                if day > until or (day == until and not inclusive):
                    break
                heapq.heappop(exits)
                nxt = self._pass_on(Places.release(self))
                if isinstance(nxt, BackgroundClient):
                    self._begin(nxt, day)
                elif nxt is not None:
                    if day != self.env.now:  # the wake-up at this exit should have come first
                        raise RuntimeError(f"a CPS parent's place was freed on day {day}, played on {self.env.now}")
                    self.hand_over(nxt)
            else:
                if arrival > until or (arrival == until and not inclusive):
                    break
                client = clients[i]
                i += 1
                if Places.request(self, client, USUAL_PRIORITY, arrival):
                    self._begin(client, arrival)
                arrival = clients[i].arrival if i < n else math.inf
        self._next = i
        self._playing = False
        self._plan()

    def _pass_on(self, nxt: Any) -> Any:
        if nxt is not None and not isinstance(nxt, BackgroundClient):
            self._cps_queued -= 1
        return nxt

    def _begin(self, client: BackgroundClient, day: float) -> None:
        client.start = day
        heapq.heappush(self._exits, (client.exit, self._order_exit, client))
        self._order_exit += 1

    def _plan(self) -> None:
        """While a CPS parent queues, wake the environment at the next background exit."""
        if self._playing or not self._cps_queued or not self._exits:
            return
        day = self._exits[0][0]
        if day < self._wake_at:
            self._wake_at = day
            self.env.timeout(delay_not_after(self.env.now, day), day).callbacks.append(self._wake)

    def _wake(self, event: simpy.Event) -> None:
        day = event.value
        if self.env.now < day:  # short of the exit by the last bit: a second step lands on it
            self.env.timeout(day - self.env.now, day).callbacks.append(self._wake)
            return
        if self.env.now >= self._wake_at:
            self._wake_at = math.inf
        self.catch_up(self.env.now)
        if self.on_wake is not None:
            self.on_wake()
