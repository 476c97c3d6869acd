"""Reading scenario files: TOML, ``extends`` chains, overrides and readable errors."""

from __future__ import annotations

import copy
import difflib
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ScenarioError
from .scenario import Scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file."""
    path = Path(path)
    data = _read_merged(path, chain=())
    return validate(data, file=str(path))


def validate(data: dict[str, Any], *, file: str | None = None) -> Scenario:
    """Validate plain data as a Scenario, turning pydantic errors into one clear message."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, data), file=file) from None


def apply_changes(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated."""
    data = scenario.to_dict()
    for dotted, value in changes.items():
        _set_path(data, dotted, value)
    return validate(data, file="override")


def _read_merged(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    resolved = path.resolve()
    if resolved in chain:
        loop = " -> ".join(str(p) for p in (*chain, resolved))
        raise ScenarioError(f"'extends' makes a loop: {loop}", file=str(path))
    if not path.is_file():
        raise ScenarioError("file not found (a scenario is a .toml file)", file=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"malformed TOML: {exc}", file=str(path)) from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(f"extends = {parent!r} is not allowed: give a file name as a string", file=str(path))
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ScenarioError(
            f"extends = {parent!r}: no such file ({parent_path}); give a path relative to this file", file=str(path)
        )
    return _merge(_read_merged(parent_path, (*chain, resolved)), data)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces the base's."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _set_path(data: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(f"{where}: no item {part!r} (the list has {len(node)} items)", file="override")
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and key not in node:
                raise ScenarioError(f"{where}: no such table", file="override")
        else:
            raise ScenarioError(f"{where}: cannot go inside a value", file="override")
        if last:
            node[key] = copy.deepcopy(value)
        else:
            node = node[key]
            if node is None:
                raise ScenarioError(f"{where} is not set, so {dotted} cannot be changed", file="override")


def format_errors(exc: ValidationError, data: dict[str, Any]) -> str:
    """One line per problem: field path, value, what is allowed (and a near key for a typo)."""
    lines = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not _is_tag(p)]
        path = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(_unknown_key(loc))
            continue
        if err["type"] == "missing":
            lines.append(f"{path} is missing: {_allowed(loc)}")
            continue
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path} = {_show(err.get('input'))} is not allowed: {msg}")
    return "invalid scenario: " + "; ".join(lines)


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part in ("fixed", "exponential", "lognormal", "gamma", "uniform", "empirical")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    """The pydantic model class that holds the fields at ``loc`` (best effort)."""
    model: Any = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for inner in typing.get_args(arg):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _unknown_key(loc: list[Any]) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    path = ".".join(str(p) for p in loc)
    model = _model_at(parent)
    if model is None:
        return f"{path} is not a known key"
    names = _field_names(model)
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"{path} is not a known key (allowed here: {', '.join(names)}){hint}"


def _allowed(loc: list[Any]) -> str:
    model = _model_at(loc[:-1])
    if model is not None:
        field = model.model_fields.get(str(loc[-1]))
        if field is not None and field.description:
            return f"required ({field.description})"
    return "required"
