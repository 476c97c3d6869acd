"""How many replications: the confidence-interval method with a look-ahead.

The rule (Hoad, Robinson & Davies 2010, "Automated selection of the number of replications
for a discrete-event simulation", JORS 61:1632-1644; the ``ReplicationsAlgorithm`` of
sim-tools): after ``n`` replications the relative precision of a KPI is the half-width of
its ``confidence`` t-interval divided by the absolute value of its mean. ``n`` is enough
when that is at most ``precision`` for every chosen KPI, and stays so for the next
``look_ahead`` replications (``look_ahead * n / 100`` of them once ``n`` passes 100), so
that one lucky replication does not stop the run early. A run never stops before
``min_replications``.

The answer depends only on the sequence of replications 0, 1, 2, ..., which are the same
whatever executes them, so ``--replications auto`` gives the same number of replications
on one core or fifty.

A KPI whose replications are all equal (half-width 0) is precise at once; one whose mean
is 0 but which varies never is: choose KPIs whose mean is far from zero (a difference
between scenarios near zero, such as net savings, is a poor choice).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from start_sim.core.stats import half_width, t_quantile

DEFAULT_KPIS = (
    "families_started",
    "dyad_utilization",
    "placement_rate_12m_start",
    "placement_rate_12m_usual",
    "placement_cost_usual",
    "savings_vs_usual",
)
"""KPIs the rule watches unless told otherwise: capacity, the main outcome in both arms, and costs."""


@dataclass(frozen=True)
class ReplicationsRule:
    """Stop when every KPI's CI half-width / |mean| <= precision for n .. n + look-ahead."""

    precision: float = 0.05
    kpis: tuple[str, ...] = DEFAULT_KPIS
    confidence: float = 0.95
    min_replications: int = 5
    look_ahead: int = 5
    max_replications: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.precision < 1:
            raise ValueError(f"precision = {self.precision} is not allowed: give a share between 0 and 1, e.g. 0.05")
        if not 0 < self.confidence < 1:
            raise ValueError(f"confidence = {self.confidence} is not allowed: give a share between 0 and 1")
        if self.min_replications < 3:
            raise ValueError("min_replications must be at least 3 (a t-interval needs two degrees of freedom)")
        if self.max_replications < self.min_replications + self.look_ahead:
            raise ValueError("max_replications must be at least min_replications + look_ahead")

    def window(self, n: int) -> int:
        """Replications after ``n`` over which the precision must hold."""
        return self.look_ahead if n <= 100 else math.ceil(self.look_ahead * n / 100)

    @property
    def first_target(self) -> int:
        return self.min_replications + self.window(self.min_replications)

    def solution(self, frames: Sequence[pd.DataFrame]) -> int | None:
        """The smallest ``n`` (at least ``min_replications``) whose precision holds through the
        look-ahead in every frame (one per scenario), or None if the rows do not show one yet."""
        met = None
        for frame in frames:
            ok = self.met(frame)
            met = ok if met is None else met[: len(ok)] & ok[: len(met)]
        if met is None:
            return None
        for n in range(self.min_replications, len(met) + 1):
            last = n + self.window(n)
            if last > len(met):
                return None
            if met[n - 1 : last].all():
                return n
        return None

    def met(self, frame: pd.DataFrame) -> np.ndarray:
        """``met[n - 1]``: every KPI is precise enough after the first ``n`` rows."""
        ok = np.ones(len(frame), dtype=bool)
        for kpi in self.kpis:
            if kpi not in frame.columns:
                raise KeyError(f"unknown KPI {kpi!r} for the replications rule")
            ok &= relative_precision(frame[kpi], self.confidence) <= self.precision
        return ok

    def next_target(self, frames: Sequence[pd.DataFrame], done: int, step: int) -> int:
        """How many replications to have next: the rule's own projection
        ``(t * sd / (precision * mean))^2`` plus the look-ahead, at least ``step`` more than
        ``done``, at most twice ``done`` (a projection from few replications is rough)."""
        need = done + step
        for frame in frames:
            for kpi in self.kpis:
                x = frame[kpi].to_numpy(dtype=float)[:done]
                x = x[~np.isnan(x)]
                if len(x) < 2:
                    continue
                mean, sd = abs(float(x.mean())), float(x.std(ddof=1))
                if sd == 0:
                    continue
                if mean == 0:
                    need = max(need, 2 * done)
                    continue
                t = t_quantile(len(x), self.confidence)
                n = math.ceil((t * sd / (self.precision * mean)) ** 2)
                need = max(need, n + self.window(n))
        return int(min(self.max_replications, max(done + step, min(need, 2 * done))))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kpis"] = list(self.kpis)
        return d

    def verdict(self, frames: Sequence[pd.DataFrame], needed: int | None, used: int) -> dict:
        """Why the run stopped, for the manifest: the rule, ``needed`` and ``used``, ``reached``,
        ``stopped_by`` (``"precision"`` or ``"max_replications"``), each KPI's worst relative
        precision over the scenarios after ``used`` replications, and ``binding_kpi``: the KPI
        that needed the most replications (reached) or is furthest from the precision (not)."""
        worst: dict[str, float] = {}
        for kpi in self.kpis:
            values = [float(relative_precision(f[kpi].to_numpy(dtype=float)[:used], self.confidence)[-1])
                      for f in frames if used]
            worst[kpi] = max(values, default=math.inf)
        shown = {k: (v if math.isfinite(v) else None) for k, v in worst.items()}  # JSON has no inf
        if needed is not None:
            first = {kpi: max(_first_precise(f[kpi], self, used) for f in frames) for kpi in self.kpis}
            binding = max(self.kpis, key=lambda k: first[k])
        else:
            binding = max(self.kpis, key=lambda k: worst[k])
        return {**self.to_dict(), "needed": needed, "used": used, "reached": needed is not None,
                "stopped_by": "precision" if needed is not None else "max_replications",
                "binding_kpi": binding, "precision_at_end": shown}


def _first_precise(values: pd.Series, rule: ReplicationsRule, used: int) -> int:
    """The first ``n`` from which a KPI stays precise enough up to ``used`` replications."""
    ok = relative_precision(values.to_numpy(dtype=float)[:used], rule.confidence) <= rule.precision
    n = used
    while n > 0 and ok[n - 1]:
        n -= 1
    return n + 1


def describe_stop(info: dict) -> str:
    """One sentence: why an ``auto`` run stopped (from :meth:`ReplicationsRule.verdict`)."""
    kpi = info.get("binding_kpi")
    end = info.get("precision_at_end") or {}
    pct = f"{info['precision']:.0%}"
    if info.get("reached"):
        return (f"replications auto: the precision ({pct} of the mean, {info['confidence']:.0%} CI) was reached after "
                f"{info['needed']} replications (the last KPI to reach it: {kpi}), and held for the look-ahead: "
                f"{info['used']} used")
    short = ", ".join(f"{k} {'-' if v is None else f'{v:.1%}'}" for k, v in end.items()
                      if v is None or v > info["precision"])
    return (f"replications auto: stopped at the maximum of {info['used']} replications (--max-replications) "
            f"before the precision of {pct} was reached; not yet precise: {short or kpi}. Raise "
            "--max-replications, ask for a looser --precision, or watch other --precision-kpis")


def relative_precision(values: pd.Series | np.ndarray, confidence: float = 0.95) -> np.ndarray:
    """After each replication, the CI half-width / |mean| of the values so far (NaN values
    skipped; inf while fewer than two; 0 when every value is equal)."""
    x = np.asarray(values, dtype=float)
    out = np.full(len(x), math.inf)
    seen: list[float] = []
    for i, v in enumerate(x):
        if not math.isnan(v):
            seen.append(v)
        if len(seen) < 2:
            continue
        a = np.array(seen)
        mean, sd = abs(float(a.mean())), float(a.std(ddof=1))
        if sd == 0:
            out[i] = 0.0
        elif mean > 0:
            out[i] = half_width(a, confidence) / mean
    return out


def confidence_interval_method(kpis: pd.DataFrame, columns: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """The table behind the rule: for each KPI and each ``n``, the cumulative mean, the
    CI half-width and the relative precision (long format: kpi, n, mean, half_width, precision)."""
    rows = []
    for kpi in columns:
        x = kpis[kpi].to_numpy(dtype=float)
        rel = relative_precision(x, confidence)
        for n in range(1, len(x) + 1):
            v = x[:n][~np.isnan(x[:n])]
            mean = float(v.mean()) if len(v) else math.nan
            half = half_width(v, confidence)
            rows.append({"kpi": kpi, "n": n, "mean": mean, "half_width": half, "precision": rel[n - 1]})
    return pd.DataFrame(rows)


def replications_needed(
    kpis: pd.DataFrame,
    columns: Sequence[str] = DEFAULT_KPIS,
    precision: float = 0.05,
    confidence: float = 0.95,
    min_replications: int = 5,
    look_ahead: int = 5,
) -> pd.DataFrame:
    """For each KPI: its relative precision now, the replications the rule needed (NaN if
    the rows do not reach it yet) and the projection ``(t * sd / (precision * mean))^2``.

    ``kpis`` holds one row per replication in replication order (``Results.kpis``)."""
    rows = {}
    for kpi in columns:
        rule = ReplicationsRule(precision, (kpi,), confidence, min_replications, look_ahead,
                                max(min_replications + look_ahead, len(kpis)))
        x = kpis[kpi].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        rel = relative_precision(kpis[kpi], confidence)
        if len(x) > 1 and x.std(ddof=1) > 0 and x.mean() != 0:
            t = t_quantile(len(x), confidence)
            projected = math.ceil((t * x.std(ddof=1) / (precision * abs(x.mean()))) ** 2)
        else:
            projected = len(x) if len(x) > 1 else math.nan
        n = rule.solution([kpis])
        rows[kpi] = {
            "replications": len(kpis),
            "mean": float(x.mean()) if len(x) else math.nan,
            "precision_now": float(rel[-1]) if len(rel) else math.inf,
            "needed": n if n is not None else math.nan,
            "projected": projected,
        }
    return pd.DataFrame.from_dict(rows, orient="index")
