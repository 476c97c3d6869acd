"""Readable messages for invalid input: one line per problem naming the field path (with the
county's name inside ``[[counties]]``), the value given and what is allowed, with the nearest
valid key for a typo and the file that set the value."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from start_sim.core.dotted import Origin, show
from start_sim.core.errors import ScenarioError
from start_sim.inputs.distributions import DIST_NAMES

M = TypeVar("M", bound=BaseModel)


def validate_as(
    model: type[M], data: Any, *, file: str | None = None, origin: Origin | None = None, strict: bool = False
) -> M:
    """Validate plain data as ``model``, turning pydantic errors into one clear :class:`ScenarioError`."""
    if not isinstance(data, dict):
        raise ScenarioError(f"a scenario is a table of keys, not {show(data)}", file=file)
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as exc:
        problems = describe_errors(exc, data, model, origin=origin, file=file)
        raise ScenarioError(_paragraph(problems), file=file, problems=problems) from None


def _paragraph(problems: list[str]) -> str:
    head = "invalid scenario" if len(problems) == 1 else f"invalid scenario ({len(problems)} problems)"
    return f"{head}: " + "; ".join(problems)


def describe_errors(
    exc: ValidationError, data: dict[str, Any], root: type[BaseModel], origin: Origin | None = None,
    file: str | None = None,
) -> list[str]:
    """One line per problem: field path, value, what is allowed (and a near key for a typo)."""
    lines: list[str] = []
    for err in exc.errors(include_url=False):
        raw = list(err["loc"])
        loc = _strip_tags(raw, root)
        where = _where(loc, data) + _from(loc, origin, file)
        kind = err["type"]
        ctx = err.get("ctx") or {}
        value = err.get("input")
        if kind == "extra_forbidden":
            line = _unknown_key(raw, loc, data, root) + _from(loc, origin, file)
        elif kind == "missing":
            line = f"{where} is missing: {_required(raw, root)}"
        elif kind == "value_error" and isinstance(value, dict):
            # A check across several fields of one table (e.g. shares that must add up to 1).
            line = f"{where}: {_reason(err, root)}" if loc else _reason(err, root)
        elif kind == "union_tag_invalid":
            tag = str(ctx.get("tag", value.get("dist") if isinstance(value, dict) else value))
            near = difflib.get_close_matches(tag, DIST_NAMES, n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            line = (
                f"{where}.dist = {show(tag)} is not a known distribution (allowed: {', '.join(DIST_NAMES)}){hint}"
            )
        else:
            line = f"{where} = {show(value)} is not allowed: {_reason(err, root, raw)}" + _percent(kind, ctx, value)
        lines.append(line)
    return lines


def _percent(kind: str, ctx: dict[str, Any], value: Any) -> str:
    """A hint for a share or rate written as a percentage (``eligible_share = 30`` for 30%)."""
    limit = ctx.get("le", ctx.get("lt"))
    if not kind.startswith("less_than") or not isinstance(value, int | float) or not isinstance(limit, int | float):
        return ""
    if limit <= 5 and 1 < value <= 100:
        return f"; {show(value)} looks like a percentage: {value:g}% is written {value / 100:g}"
    return ""


_DIST_EXAMPLE = '{dist = "lognormal", mean = 426, sd = 150} or {dist = "fixed", value = 90}'


def _reason(err: dict[str, Any], root: type[BaseModel], raw: list[Any] | None = None) -> str:
    """What is allowed, in words, for one pydantic error."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bounds = _bounds(raw, root) if raw is not None else {}
        bounds = bounds or {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")}
        why = _why(raw, root) if raw is not None else ""
        if not why:
            return "must be " + _range_words(bounds)
        # a field with a domain limit: name the side that was crossed, and the limit's reason
        side = ("le", "lt") if kind.startswith("less") else ("ge", "gt")
        return "must be " + _range_words({k: v for k, v in bounds.items() if k in side}) + (why if side[0] == "le" else "")
    is_dist = raw is not None and _is_dist_field(raw, root)
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


def _bounds(raw: list[Any], root: type[BaseModel]) -> dict[str, Any]:
    """The ge/gt/le/lt bounds declared on the field at ``raw``."""
    model = _type_at(raw[:-1], root)
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


def _why(raw: list[Any], root: type[BaseModel]) -> str:
    """' (reason)' from the field's description: the clause that states its upper limit, if any."""
    model = _type_at(raw[:-1], root)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return ""
    field = model.model_fields.get(str(raw[-1])) or next(
        (f for f in model.model_fields.values() if f.alias == raw[-1]), None
    )
    clauses = (field.description or "").split("; ") if field is not None else []
    reason = next((c for c in clauses if c.startswith("at most") and ":" in c), "")
    return f" ({reason.split(':', 1)[1].strip()})" if reason else ""


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part in DIST_NAMES


def _strip_tags(raw: list[Any], root: type[BaseModel]) -> list[Any]:
    """The loc without the discriminator tags pydantic inserts inside distribution tables."""
    out: list[Any] = []
    for i, part in enumerate(raw):
        if _is_tag(part) and i > 0 and _is_dist_field(raw[:i], root):
            continue
        out.append(part)
    return out


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


def _type_at(raw: list[Any], root: type[BaseModel]) -> Any:
    """The schema type that holds the value at the pydantic ``loc`` ``raw`` (best effort)."""
    ann: Any = root
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


def _is_dist_field(raw: list[Any], root: type[BaseModel]) -> bool:
    ann = _type_at(raw, root)
    return _is_union(ann) and _dist_member(ann, "fixed") is not None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _unknown_key(raw: list[Any], loc: list[Any], data: dict[str, Any], root: type[BaseModel]) -> str:
    key = str(loc[-1])
    where = _where(loc, data)
    model = _type_at(raw[:-1], root)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return f"{where} is not a known key"
    names = _field_names(model)
    near = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean '{near[0]}'?" if near else ""
    return f"{where} is not a known key (allowed here: {', '.join(names)}){hint}"


def _required(raw: list[Any], root: type[BaseModel]) -> str:
    model = _type_at(raw[:-1], root)
    if isinstance(model, type) and issubclass(model, BaseModel):
        if "dist" in model.model_fields:
            needed = [n for n, f in zip(_field_names(model), model.model_fields.values(), strict=True)
                      if f.is_required() and n != "dist"]
            return f"a {model.__name__.lower()} distribution needs {', '.join(needed)}"
        field = model.model_fields.get(str(raw[-1]))
        if field is not None and field.description:
            return f"required ({field.description})"
    return "required"
