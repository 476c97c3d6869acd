"""One replication as a record: simulate it, and encode or decode its outputs as gzipped JSON
(floats round-trip exactly), so a resumed run and a clean one build the same tables."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from start_sim.core.errors import RunError
from start_sim.inputs.schema import Scenario
from start_sim.metrics.kpis import ReplicationOutput, summarise
from start_sim.sim.replication import simulate

RECORD_FORMAT = 2  # 2: with county KPIs and the budget view



def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationOutput:
    """Simulate both arms of every county for one replication and summarise it."""
    return summarise(scenario, simulate(scenario, seed, replication), replication)


def encode(out: ReplicationOutput, seed: int) -> bytes:
    """A replication's outputs as gzipped JSON, tables as columns + rows."""
    doc = {
        "format": RECORD_FORMAT,
        "seed": seed,
        "replication": out.kpis["replication"],
        "kpis": out.kpis,
        "timeseries": _table(out.timeseries),
        "families": _table(out.families),
        "county_kpis": _table(out.county_kpis),
        "budget": _table(out.budget),
    }
    return gzip.compress(json.dumps(doc, default=_plain, separators=(",", ":")).encode(), compresslevel=1)


def _table(rows: list[dict]) -> dict:
    columns = list(rows[0]) if rows else []
    return {"columns": columns, "data": [list(r.values()) for r in rows]}


def _plain(x: Any) -> Any:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    raise TypeError(f"cannot store {type(x).__name__} in a replication record")


@dataclass
class Record:
    """One replication, decoded: KPIs and its two tables."""

    replication: int
    kpis: dict[str, float]
    timeseries: pd.DataFrame
    families: pd.DataFrame
    county_kpis: pd.DataFrame
    budget: pd.DataFrame


def decode(data: bytes) -> Record:
    doc = json.loads(gzip.decompress(data))
    if doc.get("format") != RECORD_FORMAT:
        raise RunError(f"replication record format {doc.get('format')!r} is not {RECORD_FORMAT}")
    i = doc["replication"]
    ts = pd.DataFrame(doc["timeseries"]["data"], columns=doc["timeseries"]["columns"])
    fams = pd.DataFrame(doc["families"]["data"], columns=doc["families"]["columns"])
    fams.insert(0, "replication", i)
    counties = pd.DataFrame(doc["county_kpis"]["data"], columns=doc["county_kpis"]["columns"])
    budget = pd.DataFrame(doc["budget"]["data"], columns=doc["budget"]["columns"])
    return Record(i, doc["kpis"], ts, fams, counties, budget)


def simulate_chunk(scenario: Scenario, name: str, seed: int, replications: Sequence[int]) -> list[tuple]:
    """The task run by an executor: ``(name, replication, record, seconds)`` for each replication."""
    out = []
    for i in replications:
        t0 = time.perf_counter()
        data = encode(run_replication(scenario, seed, i), seed)
        out.append((name, i, data, time.perf_counter() - t0))
    return out



def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(json.dumps(scenario.to_dict(), sort_keys=True).encode()).hexdigest()


