"""Reading calibration targets files (``calibration/targets.toml``): free parameters and their
priors, observed targets and the ``[calibration]`` budget. Kept in the inputs layer so that every
command reads input files through one place."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Parameter:
    """A free parameter: a dotted scenario path with a uniform prior on [low, high]."""

    path: str
    low: float
    high: float
    default: float
    drives: str = ""

    def value(self, u: float) -> float:
        return self.low + float(u) * (self.high - self.low)

    def unit(self, value: float) -> float:
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class CalibrationTarget:
    """One observed figure and how it enters the likelihood."""

    id: str
    name: str
    kpi: str
    arm: str
    kind: str  # rate | mean | at_least | check
    value: float
    low: float
    high: float
    n: float = math.nan
    design_effect: float = 1.0
    weight: float = 1.0
    sd: float = math.nan
    population: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        """The simulated quantity: a KPI column, ``mean_case_days`` or a scenario path (check)."""
        if self.kind in ("check", "mean"):
            return self.kpi
        return f"{self.kpi}_{self.arm}"

    @property
    def label(self) -> str:
        return f"{self.id} {self.arm}" if self.kind not in ("check", "mean") else self.id

    @property
    def n_eff(self) -> float:
        return self.n / self.design_effect * self.weight

    def deviance(self, sim: float) -> float:
        """-2 x log-likelihood ratio against a perfect fit (0 when the simulation hits the value)."""
        if self.kind == "check":
            return 0.0
        if sim is None or not math.isfinite(sim):
            return 1e6
        if self.kind == "mean":
            return self.weight * ((sim - self.value) / self.sd) ** 2
        if self.kind == "at_least" and sim >= self.value:
            return 0.0
        v = min(max(self.value, 1e-9), 1 - 1e-9)
        p = min(max(sim, 1e-9), 1 - 1e-9)
        return 2 * self.n_eff * (v * math.log(v / p) + (1 - v) * math.log((1 - v) / (1 - p)))


@dataclass(frozen=True)
class Settings:
    """The ``[calibration]`` table: calibration scenario and budget."""

    horizon_years: float = 2.0
    replications: int = 2
    seed: int = 20240601
    design_points: int = 64
    starts: int = 3
    maxfev: int = 80
    local_points: int = 64
    posterior_points: int = 512
    posterior_draws: int = 400
    proposal_inflation: float = 1.5
    local_half_width: float = 0.08


@dataclass(frozen=True)
class TargetSet:
    parameters: tuple[Parameter, ...]
    targets: tuple[CalibrationTarget, ...]
    settings: Settings
    source: str = ""

    @property
    def fitted(self) -> tuple[CalibrationTarget, ...]:
        return tuple(t for t in self.targets if t.kind != "check")


def load_targets(path: str | Path) -> TargetSet:
    """Read a targets file (see ``calibration/targets.toml``)."""
    data = tomllib.loads(Path(path).read_text())
    params = tuple(
        Parameter(p, float(v["low"]), float(v["high"]), float(v.get("default", (v["low"] + v["high"]) / 2)),
                  str(v.get("drives", "")))
        for p, v in data.get("parameters", {}).items()
    )
    fields = set(CalibrationTarget.__dataclass_fields__)
    targets = []
    for t in data.get("targets", []):
        unknown = set(t) - fields
        if unknown:
            raise ValueError(f"{path}: target {t.get('id')} has unknown keys {sorted(unknown)}")
        targets.append(CalibrationTarget(**t))
    for t in targets:
        if t.kind not in ("rate", "mean", "at_least", "check"):
            raise ValueError(f"{path}: target {t.id} has kind {t.kind!r}; use rate, mean, at_least or check")
        if t.kind in ("rate", "at_least") and not t.n > 0:
            raise ValueError(f"{path}: target {t.id} ({t.kind}) needs n > 0")
        if t.kind == "mean" and not t.sd > 0:
            raise ValueError(f"{path}: target {t.id} (mean) needs sd > 0")
    sset = {k: v for k, v in data.get("calibration", {}).items() if k in Settings.__dataclass_fields__}
    return TargetSet(params, tuple(targets), Settings(**sset), str(path))
