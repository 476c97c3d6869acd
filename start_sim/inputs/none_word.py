"""The one TOML spelling of "no value": the string ``"none"``.

TOML has no null, so a field whose value may be absent (``program.max_wait_days``: no limit;
``counties[].mentors``: one per caseworker) takes the quoted word ``"none"`` in a file, e.g.
``max_wait_days = "none"``. Every scenario table (:class:`start_sim.inputs.tables.Strict`) reads
it through :func:`none_words`, so every such field accepts it; any other word there is refused
with the allowed values named.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic.fields import FieldInfo

NONE_WORD = "none"
"""The word, written in quotes in TOML, for a field with no value (no limit, or the default rule)."""


def admits_none(annotation: Any) -> bool:
    """Whether a field's type allows None (``float | None`` and the like)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation)
    return (origin is typing.Union or origin is types.UnionType) and type(None) in typing.get_args(annotation)


def admits_text(annotation: Any) -> bool:
    """Whether a field's type takes other words too (``str | None``, a ``Literal`` of words)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation) or (annotation,)
    return any(a is str or typing.get_origin(a) is typing.Literal for a in args)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def none_words(fields: dict[str, FieldInfo], data: Any) -> Any:
    """``data`` with ``"none"`` (any case, surrounding spaces ignored) replaced by None in every
    field that allows None; ``ValueError`` for any other word in such a field unless the field
    also takes words (a number written as text is left to the field's own check)."""
    if not isinstance(data, dict):
        return data
    out = None
    for name, info in fields.items():
        key = info.alias or name
        value = data.get(key, data.get(name)) if key in data or name in data else None
        if not isinstance(value, str) or not admits_none(info.annotation):
            continue
        if value.strip().casefold() == NONE_WORD:
            out = dict(data) if out is None else out
            out[key if key in data else name] = None
        elif not _is_number(value) and not admits_text(info.annotation):
            raise ValueError(
                f"{key} = {value!r} is not allowed: give a value or the word \"{NONE_WORD}\" in quotes "
                f"({key} = \"{NONE_WORD}\"; TOML has no null)"
            )
    return data if out is None else out
