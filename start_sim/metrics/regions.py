"""Region totals (region_kpis.csv) and provider KPIs (in county_kpis.csv and region_kpis.csv).

A region's row holds the KPIs of its counties together (as the scenario row does for all);
the provider KPIs (``registry.PROVIDER_METRICS``) of a county are those of the places its
parents use, each pool counted once in a region's row however many counties share it."""

from __future__ import annotations

import math
from collections.abc import Callable

from start_sim.inputs.schema import MODALITIES, Scenario
from start_sim.sim.providers import PlaceUse
from start_sim.sim.replication import CountyRun

Part = tuple[CountyRun, dict]


def provider_kpis(sc: Scenario, runs: list[CountyRun]) -> dict[str, float]:
    """Utilisation and mean wait by modality and arm of the distinct pools the runs' parents use."""
    k: dict[str, float] = {}
    H = sc.horizon_days
    for arm in ("start", "usual"):
        pools: dict[str, PlaceUse] = {}
        for run in runs:
            if arm in run.places:
                pools.setdefault(run.places[arm].key, run.places[arm])
        for m in MODALITIES:
            capacity = sum(p.places[m] for p in pools.values()) * H
            busy = sum(p.busy_days[m] for p in pools.values())
            entries = sum(p.entries[m] for p in pools.values())
            k[f"treatment_utilisation_{m}_{arm}"] = busy / capacity if capacity > 0 else math.nan
            k[f"treatment_wait_days_{m}_{arm}"] = (sum(p.wait_days[m] for p in pools.values()) / entries
                                                   if entries else math.nan)
    return k


def region_rows(sc: Scenario, parts: list[Part], replication: int,
                kpis_of: Callable[[Scenario, list[Part]], dict[str, float]]) -> list[dict]:
    """One row per region of the scenario (``[[regions]]``): its counties together."""
    groups: dict[str, list[Part]] = {}
    for part in parts:
        if part[0].region:
            groups.setdefault(part[0].region, []).append(part)
    return [{"replication": replication, "region": name, **kpis_of(sc, group),
             **provider_kpis(sc, [run for run, _ in group])} for name, group in groups.items()]
