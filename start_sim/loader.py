"""Reading scenario files: TOML, ``extends`` chains, overrides and readable errors.

Every problem with the input becomes one :class:`ScenarioError` whose message names the
file, the field path (with the county's name inside ``[[counties]]``), the value given and
what is allowed, with the nearest valid key for a typo. When the bad value came from a file
reached by ``extends``, the message names that file too.
"""

from __future__ import annotations

import copy
import difflib
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .distributions import DIST_NAMES
from .errors import ScenarioError
from .scenario import Scenario

Origin = dict[tuple[Any, ...], str]
"""Which file set each value of a merged scenario: key path -> file name."""

OVERRIDE = "override"


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file.

    Values in a file are checked strictly: a quoted ``"6"`` or ``true`` is not a number.
    """
    path = Path(path)
    origin: Origin = {}
    data = _read_merged(path, chain=(), origin=origin)
    return validate(data, file=str(path), origin=origin, strict=True)


def validate(
    data: dict[str, Any], *, file: str | None = None, origin: Origin | None = None, strict: bool = False
) -> Scenario:
    """Validate plain data as a Scenario, turning pydantic errors into one clear message."""
    if not isinstance(data, dict):
        raise ScenarioError(f"a scenario is a table of keys, not {_show(data)}", file=file)
    try:
        return Scenario.model_validate(data, strict=strict)
    except ValidationError as exc:
        problems = describe_errors(exc, data, origin=origin, file=file)
        raise ScenarioError(_paragraph(problems), file=file, problems=problems) from None


def apply_changes(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied and re-validated.

    A table given as a value merges key by key into the table it replaces (as ``extends``
    does); any other value, a distribution table or a list replaces the old value.
    """
    if not isinstance(changes, dict):
        raise ScenarioError(
            f"changes must be a dict of dotted paths to values, e.g. {{'counties.0.dyads': 6}}, not {_show(changes)}",
            file=OVERRIDE,
        )
    data = scenario.to_dict()
    for dotted, value in changes.items():
        _set_path(data, str(dotted), value)
    return validate(data, file=OVERRIDE)


# --------------------------------------------------------------------------- reading files


def _read_merged(path: Path, chain: tuple[Path, ...], origin: Origin) -> dict[str, Any]:
    """The file's data merged over its ``extends`` chain; fills ``origin`` as it goes."""
    resolved = path.resolve()
    try:
        data = _read_toml(path)
    except ScenarioError as exc:
        if not chain:
            raise
        via = f" (reached by 'extends' from {chain[-1].name})"
        raise ScenarioError(str(exc).removeprefix(f"{exc.file}: ") + via, file=exc.file) from None
    parent = data.pop("extends", None)
    if parent is None:
        origin.update({(key,): str(path) for key in data})
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError(
            f"extends = {_show(parent)} is not allowed: give the name of another scenario file in quotes, "
            'e.g. extends = "kentucky.toml"',
            file=str(path),
        )
    parent_path = Path(os.path.normpath(path.parent / parent))
    if not parent_path.is_file():
        near = _near_files(parent_path)
        raise ScenarioError(
            f'extends = "{parent}" is not allowed: no such file ({parent_path}); give a path relative to the folder '
            f"of this file{near}",
            file=str(path),
        )
    seen = (*chain, resolved)
    if parent_path.resolve() in seen:
        loop = " -> ".join(p.name for p in (*seen, parent_path.resolve()))
        raise ScenarioError(
            f'extends = "{parent}" makes a loop ({loop}); a scenario may not extend itself, directly or through others',
            file=str(path),
        )
    base = _read_merged(parent_path, seen, origin)
    return _merge(base, data, origin, str(path))


def _read_toml(path: Path) -> dict[str, Any]:
    if path.is_dir():
        raise ScenarioError("this is a folder; give a scenario .toml file, e.g. scenarios/kentucky.toml", file=str(path))
    if not path.is_file():
        near = _near_files(path)
        raise ScenarioError(
            f"file not found; give a scenario .toml file, e.g. scenarios/kentucky.toml{near}", file=str(path)
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"not UTF-8 text (byte {exc.start}); a scenario is a TOML text file saved as UTF-8", file=str(path)
        ) from None
    except OSError as exc:
        raise ScenarioError(f"cannot be read: {exc.strerror or exc}", file=str(path)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(
            f"malformed TOML: {exc}; see https://toml.io for the syntax (strings in quotes, one key = value per line, "
            "[table] and [[counties]] headers)",
            file=str(path),
        ) from None


def _near_files(path: Path) -> str:
    """'; did you mean ...?' naming a TOML file in the same folder with a similar name, if any."""
    folder = path.parent
    if not folder.is_dir():
        return ""
    names = sorted(p.name for p in folder.glob("*.toml"))
    near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.8)
    return f"; did you mean '{folder / near[0]}'?" if near else ""


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _merge(
    base: dict[str, Any], over: dict[str, Any], origin: Origin | None = None, file: str = "", prefix: tuple = ()
) -> dict[str, Any]:
    """Tables merge key by key; any other value (arrays included) replaces the base's.

    A table with a ``dist`` key replaces the base distribution whole; one without (e.g.
    ``service_days = {mean = 500}``) changes only the keys it gives.
    """
    out = copy.deepcopy(base)
    for key, value in over.items():
        here = (*prefix, key)
        if _is_table(value) and _is_table(out.get(key)) and "dist" not in value:
            out[key] = _merge(out[key], value, origin, file, here)
        else:
            out[key] = copy.deepcopy(value)
            if origin is not None:
                for k in [k for k in origin if k[: len(here)] == here]:
                    del origin[k]
                origin[here] = file
    return out


def _set_path(data: Any, dotted: str, value: Any) -> None:
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
                f"{where} is not allowed: {'.'.join(parts[:i])} is a value ({_show(node)}), not a table", file=OVERRIDE
            )
        if last:
            old = node[key] if isinstance(node, list) or key in node else None
            if _is_table(value) and _is_table(old) and "dist" not in value:
                node[key] = _merge(old, value)
            else:
                node[key] = copy.deepcopy(value)
        else:
            node = node[key]
            if node is None:
                raise ScenarioError(
                    f"{where} is not set (none), so {dotted} cannot be changed; give the whole table for {where}",
                    file=OVERRIDE,
                )


# --------------------------------------------------------------------------- messages


def format_errors(exc: ValidationError, data: dict[str, Any], origin: Origin | None = None, file: str | None = None) -> str:
    """All problems of ``exc`` as one paragraph (see :func:`describe_errors`)."""
    return _paragraph(describe_errors(exc, data, origin=origin, file=file))


def _paragraph(problems: list[str]) -> str:
    head = "invalid scenario" if len(problems) == 1 else f"invalid scenario ({len(problems)} problems)"
    return f"{head}: " + "; ".join(problems)


def describe_errors(
    exc: ValidationError, data: dict[str, Any], origin: Origin | None = None, file: str | None = None
) -> list[str]:
    """One line per problem: field path, value, what is allowed (and a near key for a typo)."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        raw = list(err["loc"])
        loc = _strip_tags(raw)
        where = _where(loc, data) + _from(loc, origin, file)
        kind = err["type"]
        ctx = err.get("ctx") or {}
        value = err.get("input")
        if kind == "extra_forbidden":
            line = _unknown_key(raw, loc, data) + _from(loc, origin, file)
        elif kind == "missing":
            line = f"{where} is missing: {_required(raw)}"
        elif kind == "value_error" and isinstance(value, dict):
            # A check across several fields of one table (e.g. shares that must add up to 1).
            line = f"{where}: {_reason(err)}" if loc else _reason(err)
        elif kind == "union_tag_invalid":
            tag = str(ctx.get("tag", value.get("dist") if isinstance(value, dict) else value))
            near = difflib.get_close_matches(tag, DIST_NAMES, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            line = (
                f"{where}.dist = {_show(tag)} is not a known distribution (allowed: {', '.join(DIST_NAMES)}){hint}"
            )
        else:
            line = f"{where} = {_show(value)} is not allowed: {_reason(err, raw)}"
        lines.append(line)
    return lines


_DIST_EXAMPLE = '{dist = "lognormal", mean = 426, sd = 150} or {dist = "fixed", value = 90}'


def _reason(err: dict[str, Any], raw: list[Any] | None = None) -> str:
    """What is allowed, in words, for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = _bounds(raw) if raw is not None else {}
        bounds = bounds or {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")}
        return "must be " + _range_words(bounds)
    is_dist = raw is not None and _is_dist_field(raw)
    simple = {
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "int_type": "must be a whole number",
        "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be text in quotes",
        "list_type": "must be a list, [a, b, ...] (counties are [[counties]] tables)",
        "finite_number": "must be a finite number",
        "union_tag_not_found": f"a distribution table needs a 'dist' key, one of {', '.join(DIST_NAMES)}; "
        f"e.g. {_DIST_EXAMPLE}",
    }
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        if is_dist:
            return f"give a distribution table, e.g. {_DIST_EXAMPLE}"
        return "must be a table of keys ([name] or {key = value, ...})"
    if kind == "literal_error":
        return f"allowed: {ctx.get('expected', '')}"
    if kind == "too_short":
        what = "item" if ctx.get("field_type") == "List" else "character"
        n = ctx.get("min_length", 1)
        return f"needs at least {n} {what}{'' if n == 1 else 's'}"
    if kind in simple:
        value = err.get("input")
        if kind in ("float_type", "float_parsing", "int_type", "int_parsing") and isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return simple[kind]
            return simple[kind] + ", written without quotes"
        return simple[kind]
    return str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _range_words(bounds: dict[str, Any]) -> str:
    """'from 0 to 1', '1 or more', 'more than -1', ... for a field's numeric bounds."""
    low = f"{_num(bounds['ge'])}" if "ge" in bounds else f"more than {_num(bounds['gt'])}" if "gt" in bounds else ""
    high = f"{_num(bounds['le'])}" if "le" in bounds else f"less than {_num(bounds['lt'])}" if "lt" in bounds else ""
    if "ge" in bounds and "le" in bounds:
        return f"from {low} to {high}"
    if low and high:
        return f"{low} and {'at most ' + high if 'le' in bounds else high}"
    if low:
        return f"{low} or more" if "ge" in bounds else low
    return f"{high} or less" if "le" in bounds else high


def _bounds(raw: list[Any]) -> dict[str, Any]:
    """The ge/gt/le/lt bounds declared on the field at ``raw``."""
    model = _type_at(raw[:-1])
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return {}
    field = model.model_fields.get(str(raw[-1])) or next(
        (f for f in model.model_fields.values() if f.alias == raw[-1]), None
    )
    out: dict[str, Any] = {}
    for meta in field.metadata if field is not None else ():
        for key in ("ge", "gt", "le", "lt"):
            if getattr(meta, key, None) is not None:
                out[key] = getattr(meta, key)
    return out


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part in DIST_NAMES


def _strip_tags(raw: list[Any]) -> list[Any]:
    """The loc without the discriminator tags pydantic inserts inside distribution tables."""
    out: list[Any] = []
    for i, part in enumerate(raw):
        if _is_tag(part) and i > 0 and _is_dist_field(raw[:i]):
            continue
        out.append(part)
    return out


def _show(value: Any) -> str:
    """A value as it would be written in TOML, shortened."""
    text = _toml(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _toml(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _where(loc: list[Any], data: dict[str, Any]) -> str:
    """The dotted field path, with the county's name after its index."""
    if not loc:
        return "(top level)"
    text = ".".join(str(p) for p in loc)
    if len(loc) >= 2 and loc[0] == "counties" and isinstance(loc[1], int):
        counties = data.get("counties")
        if isinstance(counties, list) and loc[1] < len(counties) and isinstance(counties[loc[1]], dict):
            name = counties[loc[1]].get("name")
            if isinstance(name, str) and name:
                text += f" (county {name!r})"
    return text


def _from(loc: list[Any], origin: Origin | None, file: str | None) -> str:
    """' (set in base.toml)' when the value came from another file of the extends chain."""
    if not origin:
        return ""
    files: set[str] = set()
    for n in range(len(loc), 0, -1):
        key = tuple(loc[:n])
        if key in origin:
            files = {origin[key]}
            break
    else:
        files = {f for k, f in origin.items() if k[: len(loc)] == tuple(loc)}
    if len(files) == 1:
        (src,) = files
        if src != file:
            return f" (set in {src}, reached by 'extends')"
    return ""


# --------------------------------------------------------------------------- schema look-up


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and Optional[...] down to the type that holds the value."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _dist_member(annotation: Any, tag: Any) -> Any:
    """The member of a discriminated distribution union whose ``dist`` is ``tag``."""
    for member in typing.get_args(annotation):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel) and "dist" in member.model_fields:
            if tag in typing.get_args(member.model_fields["dist"].annotation):
                return member
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _type_at(raw: list[Any]) -> Any:
    """The schema type that holds the value at the pydantic ``loc`` ``raw`` (best effort)."""
    ann: Any = Scenario
    for part in raw:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            field = ann.model_fields.get(str(part)) or next(
                (f for f in ann.model_fields.values() if f.alias == part), None
            )
            if field is None:
                return None
            ann = field.annotation
        elif typing.get_origin(ann) is list and isinstance(part, int):
            ann = typing.get_args(ann)[0]
        elif typing.get_origin(ann) is dict:
            ann = typing.get_args(ann)[1]
        elif _is_union(ann):
            ann = _dist_member(ann, part)
            if ann is None:
                return None
        else:
            return None
    return _unwrap(ann)


def _is_dist_field(raw: list[Any]) -> bool:
    ann = _type_at(raw)
    return _is_union(ann) and _dist_member(ann, "fixed") is not None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _unknown_key(raw: list[Any], loc: list[Any], data: dict[str, Any]) -> str:
    key = str(loc[-1])
    where = _where(loc, data)
    model = _type_at(raw[:-1])
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return f"{where} is not a known key"
    names = _field_names(model)
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"{where} is not a known key (allowed here: {', '.join(names)}){hint}"


def _required(raw: list[Any]) -> str:
    model = _type_at(raw[:-1])
    if isinstance(model, type) and issubclass(model, BaseModel):
        if "dist" in model.model_fields:
            needed = [n for n, f in zip(_field_names(model), model.model_fields.values(), strict=True)
                      if f.is_required() and n != "dist"]
            return f"a {model.__name__.lower()} distribution needs {', '.join(needed)}"
        field = model.model_fields.get(str(raw[-1]))
        if field is not None and field.description:
            return f"required ({field.description})"
    return "required"
