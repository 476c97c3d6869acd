"""Treatment providers shared in a region: their places, their clients from outside child welfare,
and what a county model needs to use them.

A provider's places serve everyone who asks: parents of the region's CPS families (through
each county's model) and background clients, people referred from elsewhere, who arrive as a
Poisson stream by modality with their own episode lengths. Background clients join the general
queue (usual priority, first come, first served) and do not give up; their arrivals and episodes
come from the provider's own named streams, the same in both arms (decision 0021), and the places
play them between the model's events (``sim.background``, decision 0055).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from start_sim.core.timebase import DAYS_PER_YEAR
from start_sim.inputs.distributions import Distribution
from start_sim.inputs.regions import Provider
from start_sim.inputs.tables import MODALITIES, ByModality, County
from start_sim.sim.background import BackgroundClient, BackgroundPlaces
from start_sim.sim.streams import stream
from start_sim.sim.treatment import TreatmentSystem


@dataclass
class CountyLink:
    """What one county's model shares with the rest of its region in one arm."""

    env: simpy.Environment
    hand_over: Callable[[Any], None]  # gives a freed place to whoever was first in the queue
    model_of: Callable[[Any], Any]  # the county model of a case
    treatment: TreatmentSystem | None = None  # the provider's places (None: the county's own)
    referral_days: float = 0.0  # assessment to the provider taking the request
    start_priority: bool = True  # the provider puts START parents ahead of the general queue
    staff_host: Any = None  # the model holding the region's shared dyads (None: the county's own staff)
    staff_county: County | None = None  # on the host: the county whose staff plan it runs (the shared dyads)
    caps: tuple[int, int] | None = None  # on the host: the shared dyads' caps, reduced for travel

    def share_staff(self, model: Any, with_start: bool) -> None:
        """Point ``model`` at the host's staff pool, caseloads, waitlist and slot log (shared dyads)."""
        host = self.staff_host
        model.pool, model.caseload, model.unassigned, model.waitlist = host.pool, host.caseload, host.unassigned, host.waitlist
        model.slot_log, model.with_start = host.slot_log, with_start and host.with_start


class ProviderRun:
    """One provider in one arm: its places, shared with its background clients, whose arrivals and
    episodes are drawn here (``retention``: ongoing MOUD, whose clients stay on medication for a
    retention draw instead); the places play the clients' requests and exits (``sim.background``)."""

    def __init__(self, env: simpy.Environment, provider: Provider, episode_days: dict[str, Distribution],
                 end: float, seed: int, replication: int, county_key: int,
                 hand_over: Callable[[Any], None], check: Callable[[], None] | None = None,
                 retention: Distribution | None = None) -> None:
        self.env, self.provider = env, provider
        self.treatment: TreatmentSystem = TreatmentSystem(provider.places)
        self.clients: list[BackgroundClient] = []
        episodes = provider.background_episode_days or episode_days
        for m in MODALITIES:
            rate = getattr(provider.background_clients_per_year, m) / DAYS_PER_YEAR
            clients: list[BackgroundClient] = []
            if rate > 0:
                name = f"background.{provider.name}.{m}"
                days = poisson_days(stream(seed, replication, county_key, name), rate, end)
                u = stream(seed, replication, county_key, f"{name}.episode").random(len(days))
                lengths = episodes[m].ppf_array(u)
                if retention is not None and m == "moud":  # ongoing MOUD: on medication until discontinuation (0053)
                    lengths = retention.ppf_array(stream(seed, replication, county_key, f"{name}.retention").random(len(days)))
                clients = [BackgroundClient(m, day, length) for day, length in zip(days.tolist(), lengths.tolist(), strict=True)]
                self.clients += clients
            places = self.treatment.places[m]
            if places is not None:
                self.treatment.places[m] = BackgroundPlaces(env, places.capacity, clients, end, hand_over, check)

    def catch_up(self) -> None:
        """Play every pool's background clients up to now (before a check reads the places)."""
        for places in self.treatment.places.values():
            if isinstance(places, BackgroundPlaces):
                places.catch_up(self.env.now)


def poisson_days(rng: np.random.Generator, rate: float, end: float) -> np.ndarray:
    """Arrival days of a Poisson stream of ``rate`` a day over [0, end), drawn in blocks from ``rng``."""
    out: list[np.ndarray] = []
    last, block = 0.0, max(16, int(rate * end * 1.1) + 16)
    while True:
        days = last + np.cumsum(rng.exponential(1.0 / rate, block))
        out.append(days[days < end])
        if days[-1] >= end:
            return np.concatenate(out)
        last = float(days[-1])


@dataclass
class PlaceUse:
    """One pool of treatment places in one arm, over the horizon: place-days in use, and the
    entries and waits (request to entry) of every client who asked within the horizon."""

    key: str  # one per pool: the provider, or the county for its own places
    places: dict[str, float]
    busy_days: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0.0))
    entries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0))
    wait_days: dict[str, float] = field(default_factory=lambda: dict.fromkeys(MODALITIES, 0.0))

    def add(self, modality: str, request: float, start: float, exit_: float, horizon: float) -> None:
        if math.isnan(start):
            return
        self.busy_days[modality] += max(0.0, min(exit_, horizon) - min(start, horizon))
        if request < horizon:
            self.entries[modality] += 1
            self.wait_days[modality] += start - request


def place_use(key: str, places: ByModality, cases: Iterable[Any], clients: Iterable[BackgroundClient],
              horizon: float) -> PlaceUse:
    """The use of one pool by CPS parents (``cases``) and background clients."""
    use = PlaceUse(key, {m: float(getattr(places, m)) for m in MODALITIES})
    for c in cases:
        if c.modality:
            use.add(c.modality, c.tx_request_day, c.tx_start_day, c.tx_exit_day, horizon)
            for request, start, exit_ in c.repeats:
                use.add(c.modality, request, start, exit_, horizon)
    for b in clients:
        use.add(b.modality, b.arrival, b.start, b.exit, horizon)
    return use
