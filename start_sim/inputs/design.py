"""Design files of scenario discovery (``start-sim discover --design``): the levers a planner
controls and the uncertainties nobody controls, each a range over one or more dotted scenario
paths, and optionally the calibrated posterior (effect parameters drawn as joint rows).

A factor's value is *set* on its paths, or with ``scale = true`` multiplies each path's value
in the scenario, or with ``relative_to = "KEY"`` multiplies the sibling ``KEY`` (e.g. mentors
as a share of the county's dyads). ``*`` in a path stands for every item of a list
(``counties.*.dyads``). Paths are generic, so a parameter added to the scenario later can be a
lever without a change here. Unknown keys are errors; every problem names the file and field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from start_sim.core.dotted import set_dotted, show
from start_sim.core.errors import ScenarioError
from start_sim.inputs.messages import validate_as
from start_sim.inputs.reading import read_toml
from start_sim.inputs.tables import Strict

DESIGN_FILE = "a design .toml file, e.g. scenarios/designs/kentucky_design.toml"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Target(Strict):
    """Where a value goes: dotted paths, set, scaling the scenario's value or relative to a sibling key."""

    paths: list[str] = Field(min_length=1, description="dotted scenario paths; '*' = every item of a list")
    integer: bool = Field(False, description="round the value written on each path to a whole number")
    scale: bool = Field(False, description="multiply each path's scenario value instead of setting it")
    relative_to: str | None = Field(None, description="multiply this sibling key's value (e.g. dyads)")

    @model_validator(mode="after")
    def _one_way(self) -> Target:
        if self.scale and self.relative_to:
            raise ValueError("give scale = true or relative_to, not both")
        return self


class Factor(Target):
    """One lever or uncertainty: a uniform range over ``[low, high]`` (a Latin hypercube column)."""

    name: str = Field(pattern=NAME.pattern, description="short id, a column of designs.csv (lower case, digits, _)")
    label: str = Field(min_length=1, description="what it is in planners' words, e.g. 'the usual ongoing caseload'")
    low: float
    high: float
    unit: str = Field("", description="'share' shows values as percentages; else a word after the number")

    @model_validator(mode="after")
    def _range(self) -> Factor:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        return self


class Setting(Target):
    """A value written into every design after its factors (e.g. the day-0 caseload as families per dyad)."""

    value: float


class PosteriorDraws(Strict):
    """The calibrated posterior: one Latin hypercube column picks a joint row (effects move together)."""

    file: str = Field(min_length=1, description="posterior draws CSV, relative to the design file")
    label: str = "the effect parameters (posterior draw)"


class Design(Strict):
    """A scenario-discovery design: levers, uncertainties, the service target and replications."""

    description: str = ""
    replications: int = Field(5, ge=1, le=1000, description="replications per design (common random numbers)")
    service_target: float = Field(0.9, gt=0, le=1, description="share of families assigned within 14 days to reach")
    levers: list[Factor] = Field(default_factory=list)
    uncertainties: list[Factor] = Field(default_factory=list)
    posterior: PosteriorDraws | None = None
    settings: list[Setting] = Field(default_factory=list, description="applied to every design after the factors")

    @model_validator(mode="after")
    def _names(self) -> Design:
        names = [f.name for f in self.factors]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"factor names must be unique; repeated: {', '.join(dup)}")
        if not names and self.posterior is None:
            raise ValueError("the design has no factor: give [[levers]], [[uncertainties]] or [posterior]")
        return self

    @property
    def factors(self) -> list[Factor]:
        return [*self.levers, *self.uncertainties]


def load_design(path: str | Path) -> tuple[Design, Path | None]:
    """The design and its posterior file's path (resolved against the design's folder), or None."""
    path = Path(path)
    design = validate_as(Design, read_toml(path, DESIGN_FILE), file=str(path))
    post = None
    if design.posterior is not None:
        post = (path.parent / design.posterior.file).resolve()
    return design, post


def apply(data: dict[str, Any], factor: Target, value: float) -> None:
    """Write ``factor`` (a factor or setting) at ``value`` into scenario data (``Scenario.to_dict()``) in place."""
    for path in factor.paths:
        for concrete in _expand(data, path):
            if factor.scale:
                value_here = _get(data, concrete) * value
            elif factor.relative_to:
                parent = concrete.rsplit(".", 1)[0] if "." in concrete else ""
                base = f"{parent}.{factor.relative_to}" if parent else factor.relative_to
                value_here = _get(data, base) * value
            else:
                value_here = value
            set_dotted(data, concrete, round(value_here) if factor.integer else float(value_here))


def _expand(data: Any, path: str) -> list[str]:
    """Concrete paths of ``path``, with ``*`` replaced by each list index."""
    head, star, tail = path.partition("*")
    if not star:
        return [path]
    node = _node(data, head.rstrip(".")) if head else data
    if not isinstance(node, list):
        raise ScenarioError(f"design path {path!r} is not allowed: {head.rstrip('.')} is not a list (* needs one)",
                            file="design")
    return [q for i in range(len(node)) for q in _expand(data, f"{head}{i}{tail}")]


def _get(data: Any, path: str) -> float:
    """The number at ``path`` (a factor scales it, or is relative to it)."""
    node = _node(data, path)
    if isinstance(node, bool) or not isinstance(node, int | float) or math.isnan(node):
        raise ScenarioError(f"design path {path!r} has no number in the scenario ({show(node)}) to scale; set one "
                            f"in the scenario or use a plain range", file="design")
    return float(node)


def _node(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ScenarioError(f"design path {path!r} is not allowed: no {part!r} in the scenario there", file="design")
    return node
