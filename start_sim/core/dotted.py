"""Nested tables of plain data: merging (as ``extends`` does), dotted-path changes, and how a
value is shown in a message (as it would be written in TOML)."""

from __future__ import annotations

import copy
import datetime
import difflib
import re
from typing import Any

from start_sim.core.errors import ScenarioError

Origin = dict[tuple[Any, ...], str]
"""Which file set each value of a merged scenario: key path -> file name."""

OVERRIDE = "override"
"""The ``file`` of an error in a change given from Python rather than read from a file."""


def is_table(value: Any) -> bool:
    return isinstance(value, dict)


def merge(
    base: dict[str, Any], over: dict[str, Any], origin: Origin | None = None, file: str = "", prefix: tuple = ()
) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces the base's.

    A table with a ``dist`` key replaces the base distribution whole; one without (e.g.
    ``service_days = {mean = 500}``) changes only the keys it gives.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = (*prefix, key)
        if is_table(value) and is_table(out.get(key)) and "dist" not in value:
            out[key] = merge(out[key], value, origin, file, here)
        else:
            out[key] = copy.deepcopy(value)
            if origin is not None:
                for k in [k for k in origin if k[: len(here)] == here]:
                    del origin[k]
                origin[here] = file
    return out


def set_dotted(data: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(parts[: i + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(
                    f"{where} is not allowed: no item {part!r} (the list has {len(node)} item{'' if len(node) == 1 else 's'}, numbered from 0)",
                    file=OVERRIDE,
                )
            key: Any = int(part)
        elif isinstance(node, dict):
            key = part
            if not last and key not in node:
                names = [str(k) for k in node]
                near = difflib.get_close_matches(key, names, n=1)
                hint = f"; did you mean '{near[0]}'?" if near else ""
                raise ScenarioError(
                    f"{where} is not a known key (allowed here: {', '.join(names)}){hint}", file=OVERRIDE
                )
        else:
            raise ScenarioError(
                f"{where} is not allowed: {'.'.join(parts[:i])} is a value ({show(node)}), not a table", file=OVERRIDE
            )
        if last:
            old = node[key] if isinstance(node, list) or key in node else None
            if is_table(value) and is_table(old) and "dist" not in value:
                node[key] = merge(old, value)
            else:
                node[key] = copy.deepcopy(value)
        else:
            node = node[key]
            if node is None:
                raise ScenarioError(
                    f"{where} is not set (none), so {dotted} cannot be changed; give the whole table for {where}",
                    file=OVERRIDE,
                )




def show(value: Any) -> str:
    """A value as it would be written in TOML, shortened."""
    text = toml_text(value)
    return text if len(text) <= 80 else text[:77] + "..."


BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
"""A TOML bare key; any other key (a county name with a space) is written in quotes."""


def toml_key(key: str) -> str:
    """``key`` as TOML writes it: bare if it can be, else quoted."""
    return key if BARE_KEY.match(key) else toml_text(key)


def toml_text(value: Any) -> str:
    """A value as TOML text (dates and times as TOML writes them, not ``datetime.date(...)``)."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    if isinstance(value, datetime.date | datetime.time):  # as written in TOML: 2024-06-01, 07:30:00
        return value.isoformat()
    return repr(value)


def toml_inline(value: Any, digits: int | None = None) -> str:
    """A value as TOML for a file: tables leave out unset (None) keys; ``digits`` rounds floats."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_inline(v, digits)}" for k, v in value.items()
                               if v is not None) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_inline(v, digits) for v in value) + "]"
    if digits is not None and isinstance(value, float):
        value = round(value, digits)
    return toml_text(value)
