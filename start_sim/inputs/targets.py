"""Reading calibration targets files (``calibration/targets.toml``): free parameters and their
priors, observed targets and the ``[calibration]`` budget. Kept in the inputs layer so that every
command reads input files through one place."""

from __future__ import annotations

import difflib
import math
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Any

from start_sim.core.dotted import show
from start_sim.core.errors import ScenarioError
from start_sim.inputs.reading import read_toml


@dataclass(frozen=True)
class Parameter:
    """A free parameter: a dotted scenario path with a uniform prior on [low, high]."""

    path: str
    low: float
    high: float
    default: float
    drives: str = ""
    split: str = ""  # parameters sharing a split name are parts of one effect (their posterior split is reported)

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
    kind: str  # rate | mean | at_least | interval | check
    value: float
    low: float
    high: float
    n: float = math.nan
    design_effect: float = 1.0
    weight: float = 1.0
    sd: float = math.nan
    population: str = ""
    source: str = ""
    site: str = ""  # a county name: the target is that county's KPI (sites that differ); "" = the whole scenario

    @property
    def key(self) -> str:
        """The simulated quantity: a KPI column (``@county`` for a site's), ``mean_case_days`` or a scenario path."""
        if self.kind in ("check", "mean"):
            return self.kpi
        return f"{self.kpi}_{self.arm}" + (f"@{self.site}" if self.site else "")

    @property
    def label(self) -> str:
        at = f" ({self.site})" if self.site else ""
        return (f"{self.id} {self.arm}" if self.kind not in ("check", "mean") else self.id) + at

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
        v = self.value
        if self.kind == "interval":  # flat inside [low, high], binomial against the nearer end outside
            if self.low <= sim <= self.high:
                return 0.0
            v = self.low if sim < self.low else self.high
        v = min(max(v, 1e-9), 1 - 1e-9)
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
    sensitivity_step: float = 0.1  # share of each prior range for the target x parameter slopes; 0 = skip


@dataclass(frozen=True)
class TargetSet:
    parameters: tuple[Parameter, ...]
    targets: tuple[CalibrationTarget, ...]
    settings: Settings
    source: str = ""

    @property
    def fitted(self) -> tuple[CalibrationTarget, ...]:
        return tuple(t for t in self.targets if t.kind != "check")


TARGETS_FILE = "a calibration targets .toml file, e.g. calibration/targets.toml"
KINDS = ("rate", "mean", "at_least", "interval", "check")
SHARE_KINDS = ("rate", "at_least", "interval")
"""Kinds whose simulated value is a share with a binomial likelihood of effective size n_eff."""
TEXT_KEYS = ("id", "name", "kpi", "arm", "kind", "population", "source", "site")


def quadratic_terms(parameters: int) -> int:
    """Coefficients of a full quadratic in ``parameters`` variables: constant, linear, squares
    and products (the local fit that gives the posterior's proposal its covariance)."""
    return 1 + parameters + parameters * (parameters + 1) // 2


def load_targets(path: str | Path) -> TargetSet:
    """Read a targets file (see ``calibration/targets.toml``); every problem in it is one
    :class:`ScenarioError` naming the file, the key, the value and what is allowed."""
    path = Path(path)
    data = read_toml(path, TARGETS_FILE)
    problems: list[str] = []
    _unknown(data, ("calibration", "parameters", "targets"), "(top level)", problems)
    params = _parameters(data.get("parameters"), problems)
    targets = _targets(data.get("targets"), problems)
    settings = _settings(data.get("calibration", {}), problems)
    terms = quadratic_terms(len(params))
    if params and settings.local_points < terms:
        problems.append(f"calibration.local_points = {settings.local_points} is not allowed with {len(params)} free "
                        f"parameters: the curvature at the optimum is a full quadratic with {terms} coefficients, so "
                        f"it needs at least {terms} points (about twice that for a stable posterior)")
    if problems:
        head = "invalid targets file" if len(problems) == 1 else f"invalid targets file ({len(problems)} problems)"
        raise ScenarioError(f"{head}: " + "; ".join(problems), file=str(path), problems=problems)
    return TargetSet(params, targets, settings, str(path))


def _unknown(table: dict[str, Any], allowed: tuple[str, ...], where: str, problems: list[str]) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            problems.append(f"{where}: {key} is not a known key (allowed here: {', '.join(allowed)}){hint}")


def _number(value: Any, where: str, problems: list[str], whole: bool = False) -> float | None:
    """A finite number (a whole one if ``whole``), or None with a problem noted."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (not whole or float(value).is_integer()):
        return value
    problems.append(f"{where} = {show(value)} is not allowed: must be a {'whole' if whole else 'finite'} number")
    return None


def _parameters(table: Any, problems: list[str]) -> tuple[Parameter, ...]:
    if not isinstance(table, dict) or not table:
        problems.append('[parameters] is missing or empty: give at least one free parameter, e.g. '
                        '[parameters."placement.rate_using"] with low = 0.2 and high = 0.8')
        return ()
    out = []
    for name, spec in table.items():
        where = f"parameters.{show(name)}"
        if not isinstance(spec, dict):
            problems.append(f"{where} = {show(spec)} is not allowed: must be a table with low and high")
            continue
        _unknown(spec, ("low", "high", "default", "drives", "split"), where, problems)
        missing = [k for k in ("low", "high") if k not in spec]
        if missing:
            problems.append(f"{where}.{missing[0]} is missing: a parameter needs low and high (its uniform prior)")
            continue
        low, high = _number(spec["low"], f"{where}.low", problems), _number(spec["high"], f"{where}.high", problems)
        if low is None or high is None:
            continue
        if not low < high:
            problems.append(f"{where}: low = {show(low)} and high = {show(high)} are not allowed: low must be below high")
            continue
        default = _number(spec.get("default", (low + high) / 2), f"{where}.default", problems)
        if default is not None and not low <= default <= high:
            problems.append(f"{where}.default = {show(default)} is not allowed: must be from {low:g} to {high:g}")
        out.append(Parameter(str(name), float(low), float(high), float(default or low), str(spec.get("drives", "")),
                             str(spec.get("split", ""))))
    return tuple(out)


def _targets(items: Any, problems: list[str]) -> tuple[CalibrationTarget, ...]:
    if not isinstance(items, list) or not items:
        problems.append("[[targets]] is missing or empty: give at least one target table")
        return ()
    fields = CalibrationTarget.__dataclass_fields__
    required = [k for k, f in fields.items() if f.default is MISSING]
    out = []
    for i, t in enumerate(items):
        where = f"targets.{i}" + (f" (id {show(t.get('id'))})" if isinstance(t, dict) and "id" in t else "")
        if not isinstance(t, dict):
            problems.append(f"{where} = {show(t)} is not allowed: must be a [[targets]] table")
            continue
        before = len(problems)
        _unknown(t, tuple(fields), where, problems)
        problems += [f"{where}.{k} is missing: required" for k in required if k not in t]
        for k, v in t.items():
            if k in TEXT_KEYS and not isinstance(v, str):
                problems.append(f"{where}.{k} = {show(v)} is not allowed: must be text in quotes")
            elif k in fields and k not in TEXT_KEYS:
                _number(v, f"{where}.{k}", problems)
        if len(problems) > before:
            continue
        target = CalibrationTarget(**t)
        if target.kind not in KINDS:
            problems.append(f"{where}.kind = {show(target.kind)} is not allowed: allowed: {', '.join(KINDS)}")
        elif target.kind == "interval" and not 0 <= target.low < target.high <= 1:
            problems.append(f"{where}: low = {show(target.low)} and high = {show(target.high)} are not allowed: an "
                            "interval target needs 0 <= low < high <= 1")
        elif target.kind in SHARE_KINDS and not target.n > 0:
            problems.append(f"{where}.n = {show(target.n)} is not allowed: a {target.kind} target needs n more than 0")
        elif target.kind == "mean" and not target.sd > 0:
            problems.append(f"{where}.sd = {show(target.sd)} is not allowed: a mean target needs sd more than 0")
        else:
            out.append(target)
    return tuple(out)


def _settings(table: Any, problems: list[str]) -> Settings:
    if not isinstance(table, dict):
        problems.append(f"calibration = {show(table)} is not allowed: must be a [calibration] table")
        return Settings()
    fields = Settings.__dataclass_fields__
    _unknown(table, tuple(fields), "calibration", problems)
    values = {}
    for k, v in table.items():
        if k in fields:
            whole = fields[k].type == "int"
            x = _number(v, f"calibration.{k}", problems, whole=whole)
            if x is not None and x < 0:
                problems.append(f"calibration.{k} = {show(v)} is not allowed: must be 0 or more")
            elif x is not None:
                values[k] = int(x) if whole else float(x)
    return Settings(**values)
