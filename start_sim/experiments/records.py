"""One replication as a record: simulate it, and encode or decode its outputs as gzipped JSON
(floats round-trip exactly), so a resumed run and a clean one build the same tables."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from start_sim.core.errors import RunError, ScenarioError
from start_sim.inputs.schema import Scenario
from start_sim.metrics.kpis import ReplicationOutput, summarise
from start_sim.sim.replication import simulate

RECORD_FORMAT = 3  # 2: with county KPIs and the budget view; 3: with the scenario hash
READABLE_FORMATS = (2, RECORD_FORMAT)
"""Formats :func:`decode` reads: a format-2 record has no scenario hash of its own (its work folder's
``work.json`` vouches for the scenario), so work folders of the previous version still resume."""


class ReplicationFailed(Exception):
    """A replication that raised: carries its scenario, replication and seed so that the
    message can say which one (``user`` when the scenario's values caused it, e.g. an overflow)."""

    def __init__(self, scenario: str, replication: int, seed: int, cause: str, user: bool = False):
        self.scenario, self.replication, self.seed, self.cause, self.user = scenario, replication, seed, cause, user
        super().__init__(f"scenario {scenario!r}, replication {replication}, seed {seed}: {cause}")

    def __reduce__(self):  # rebuilt from its fields when a Dask worker sends it back
        return (type(self), (self.scenario, self.replication, self.seed, self.cause, self.user))

def run_replication(scenario: Scenario, seed: int, replication: int) -> ReplicationOutput:
    """Simulate both arms of every county for one replication and summarise it."""
    return summarise(scenario, simulate(scenario, seed, replication), replication)


def encode(out: ReplicationOutput, seed: int, scenario_sha: str) -> bytes:
    """A replication's outputs as gzipped JSON, tables as columns + rows, with the seed and
    scenario hash it was simulated with (checked when a run resumes from it)."""
    doc = {
        "format": RECORD_FORMAT,
        "seed": seed,
        "scenario_sha256": scenario_sha,
        "replication": out.kpis["replication"],
        "kpis": out.kpis,
        "timeseries": _table(out.timeseries),
        "families": _table(out.families),
        "county_kpis": _table(out.county_kpis),
        "budget": _table(out.budget),
        "region_kpis": _table(out.region_kpis),
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
    """One replication, decoded: KPIs and its two tables, and the run it belongs to."""

    replication: int
    seed: int
    scenario_sha: str | None  # None in a format-2 record (its work.json vouches for the scenario)
    kpis: dict[str, float]
    timeseries: pd.DataFrame
    families: pd.DataFrame
    county_kpis: pd.DataFrame
    budget: pd.DataFrame
    region_kpis: pd.DataFrame = field(default_factory=pd.DataFrame)


def decode(data: bytes) -> Record:
    """A record from :func:`encode`; raises ``RunError`` if it is damaged or truncated."""
    try:
        return _decode(data)
    except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise RunError(f"damaged or truncated ({type(exc).__name__}: {exc})") from None


def _decode(data: bytes) -> Record:
    doc = json.loads(gzip.decompress(data))
    if doc.get("format") not in READABLE_FORMATS:
        raise RunError(f"replication record format {doc.get('format')!r} is not one of {READABLE_FORMATS}")
    i = doc["replication"]
    ts = pd.DataFrame(doc["timeseries"]["data"], columns=doc["timeseries"]["columns"])
    fams = pd.DataFrame(doc["families"]["data"], columns=doc["families"]["columns"])
    fams.insert(0, "replication", i)
    counties = pd.DataFrame(doc["county_kpis"]["data"], columns=doc["county_kpis"]["columns"])
    budget = pd.DataFrame(doc["budget"]["data"], columns=doc["budget"]["columns"])
    sha = doc.get("scenario_sha256") if doc["format"] >= 3 else None
    regions = doc.get("region_kpis") or {"columns": [], "data": []}  # none in records written before regions
    return Record(int(i), int(doc["seed"]), None if sha is None else str(sha), doc["kpis"], ts, fams, counties, budget,
                  pd.DataFrame(regions["data"], columns=regions["columns"]))


def simulate_chunk(scenario: Scenario, name: str, seed: int, replications: Sequence[int]) -> list[tuple]:
    """The task run by an executor: ``(name, replication, record, seconds)`` for each replication.

    A replication that raises becomes :class:`ReplicationFailed` naming it (bad input stays
    ``ScenarioError``); numeric overflow comes from extreme values of the scenario."""
    sha = scenario_hash(scenario)
    out = []
    for i in replications:
        t0 = time.perf_counter()
        try:
            data = encode(run_replication(scenario, seed, i), seed, sha)
        except ScenarioError:
            raise
        except ArithmeticError as exc:
            raise ReplicationFailed(scenario.name, i, seed, f"the numbers grew too large or undefined ({type(exc).__name__}: "
                                    f"{exc}); some values of the scenario (rates, means, sds of its distributions) "
                                    f"are too extreme: make them smaller", user=True) from None
        except Exception as exc:
            raise ReplicationFailed(scenario.name, i, seed, f"{type(exc).__name__}: {exc}") from exc
        out.append((name, i, data, time.perf_counter() - t0))
    return out


def scenario_hash(scenario: Scenario) -> str:
    return hashlib.sha256(json.dumps(scenario.to_dict(), sort_keys=True).encode()).hexdigest()


