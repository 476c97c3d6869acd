"""The parameter reference (``docs/parameters.md``), rendered from the scenario schema.

One table per scenario table: each field's dotted path (as ``scenario.with_changes`` and
``extends`` files take it), unit, default, allowed range (from the pydantic constraints
``ge``, ``gt``, ``le``, ``lt``, lengths and choices), description and source key (the
bracketed keys of the description, resolved in ``calibration/sources.md``). Regenerate with::

    python -m start_sim.inputs.reference > docs/parameters.md

``tests/test_parameters_doc.py`` fails when the committed file is stale.

A field's unit is ``json_schema_extra={"unit": ...}`` when the schema gives one; otherwise it
is read from the field's name (``UNITS``, then the suffix rules of :func:`unit_of`).
"""

from __future__ import annotations

import math
import re
import sys
import types
import typing
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from start_sim.core.dotted import toml_text
from start_sim.inputs.distributions import DIST_NAMES, Empirical, Exponential, Fixed, Gamma, Lognormal, Uniform
from start_sim.inputs.schema import Scenario

REGENERATE = "python -m start_sim.inputs.reference > docs/parameters.md"
DISTRIBUTIONS = (Fixed, Exponential, Lognormal, Gamma, Uniform, Empirical)

UNITS: dict[str, str] = {
    "name": "text", "description": "text", "payer": "text",
    "referrals_per_year": "referrals a year", "referral_growth_per_year": "share a year",
    "dyads": "caseworkers", "mentors": "mentors", "caseworkers": "posts",
    "initial_caseload": "families", "initial_waitlist": "families",
    "caseload_cap": "families per dyad", "solo_caseload_cap": "families per caseworker",
    "usual_ongoing_caseload": "families per caseworker", "max_extensions": "extensions",
    "mentor_fte": "FTE", "children": "children", "youngest_age_years": "years",
    "default_slots": "treatment places", "treatment_slots": "treatment places",
    "substance_shares": "shares adding up to 1", "type_shares": "shares adding up to 1",
    "discount_rate_per_year": "share a year", "cost_escalation_per_year": "share a year",
    "state_per_agency_per_year": "USD a year per agency", "state_per_dyad_per_year": "USD a year per dyad",
    "peer_support_rate_per_hour": "USD per billed hour", "amount": "USD (nominal)", "year": "programme year",
    "training_per_hire": "USD per hire", "casework_per_child_month_in_care": "USD per child-month in care",
    "treatment_per_episode": "USD per episode", "subsidy_end_age": "years of age",
    "supervision_share": "share of dyad cost", "overhead_share": "share of staff cost",
    "waitlist_policy": "choice",
}
"""Units of fields whose name does not say it by a suffix rule."""


def unit_of(name: str, info: FieldInfo) -> str:
    """The unit of field ``name``: the schema's own, ``UNITS``, or a rule on the name's suffix."""
    extra = info.json_schema_extra
    if isinstance(extra, dict) and extra.get("unit"):
        return str(extra["unit"])
    if name in UNITS:
        return UNITS[name]
    ann = _unwrap(info.annotation)
    if ann is bool:
        return "true or false"
    rules = (("_per_fte_year", "USD per FTE-year"), ("_per_child_day", "USD per child-day"),
             ("_per_year", "per year"), ("_days", "days"), ("_years", "years"), ("_multiplier", "multiplier"),
             ("_share", "share (0 to 1)"), ("_probability", "share (0 to 1)"))
    for suffix, unit in rules:
        if name.endswith(suffix):
            return unit
    parts = name.split("_")
    if name == "day" or name.endswith("_day"):
        return "day of the run"
    if "days" in parts:
        return "days"
    if "months" in parts:
        return "months"
    if "multiplier" in parts:
        return "multiplier"
    bounds = _bounds(info)
    if bounds.get("ge") == 0 and bounds.get("le") == 1:
        return "share (0 to 1)"
    if "rate" in parts:
        return "per year"
    return ""


def _unwrap(ann: Any) -> Any:
    """``X | None`` as ``X``."""
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return ann


def _optional(ann: Any) -> bool:
    return typing.get_origin(ann) in (typing.Union, types.UnionType) and type(None) in typing.get_args(ann)


def _is_distribution(ann: Any) -> bool:
    if typing.get_origin(ann) is typing.Annotated:
        ann = typing.get_args(ann)[0]
    args = typing.get_args(ann) if typing.get_origin(ann) in (typing.Union, types.UnionType) else (ann,)
    return bool(args) and all(isinstance(a, type) and a in DISTRIBUTIONS for a in args)


def _is_table(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _per_key(ann: Any) -> bool:
    """A table of one number per modality, substance or placement type (shown on one row)."""
    return _is_table(ann) and ann.__name__.startswith("By")


def _bounds(info: FieldInfo) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in info.metadata:
        for cls, key in ((Ge, "ge"), (Gt, "gt"), (Le, "le"), (Lt, "lt"), (MinLen, "min_length"),
                         (MaxLen, "max_length")):
            if isinstance(m, cls):
                out[key] = getattr(m, key)
    return out


def number(v: Any) -> str:
    """A number as a planner would type it in TOML: 75000, 0.358, 1e+09."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return toml_text(v)
    if isinstance(v, float) and math.isfinite(v) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _words(v: float) -> str:
    """A bound as prose: 250,000 with thousands separators."""
    text = number(v)
    return f"{int(v):,}" if text.lstrip("-").isdigit() else text


def _plain(value: Any) -> Any:
    """A default as plain data, numbers kept (a distribution with its ``dist`` first and its defaults left out)."""
    if isinstance(value, BaseModel):
        data = value.model_dump(by_alias=True, exclude_defaults=True)
        if hasattr(value, "dist"):
            data = {"dist": value.dist, **{k: v for k, v in data.items() if k != "dist"}}
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return number(value)


def default_of(info: FieldInfo) -> str:
    """The default as TOML text; ``required`` if the field has none."""
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "required"
    else:
        value = info.default
    if value is None:
        return "none"
    return _text(_plain(value))


def allowed_of(info: FieldInfo) -> str:
    """The allowed values in words, from the field's type and constraints."""
    ann = _unwrap(info.annotation)
    b = _bounds(info)
    none = '; or "none" (in quotes)' if _optional(info.annotation) else ""
    if typing.get_origin(ann) is Literal:
        return "one of " + ", ".join(toml_text(a) for a in typing.get_args(ann)) + none
    if ann is bool:
        return "true or false"
    if ann is str:
        return ("text, not empty" if b.get("min_length") else "text") + none
    if _is_distribution(ann):
        return "a distribution table (see Distributions)" + none
    if typing.get_origin(ann) is dict and typing.get_args(ann)[1] is float:
        return "a table of numbers by county name"
    if typing.get_origin(ann) is dict:
        return "a distribution table per modality (see Distributions)" + none
    if _per_key(ann):
        keys = ", ".join(ann.model_fields)
        return f"a table of {keys}; each at least 0" + none
    if typing.get_origin(ann) is list and typing.get_args(ann)[0] is str:
        return "a list of county names" + none
    if typing.get_origin(ann) is list and not _is_table(typing.get_args(ann)[0]):
        return "a list of numbers" + none
    if typing.get_origin(ann) is list:
        most = b.get("max_length")
        return (f"a list of up to {most:,} tables" if most is not None else "a list of tables") + \
            f" (see {_section_name(typing.get_args(ann)[0])})" + none
    if _is_table(ann):
        return f"a table (see {_section_name(ann)})" + none
    if "ge" in b and "le" in b:
        words = [f"{_words(b['ge'])} to {_words(b['le'])}"]
    else:
        names = (("ge", "at least"), ("gt", "more than"), ("le", "at most"), ("lt", "less than"))
        words = [f"{w} {_words(b[k])}" for k, w in names if k in b]
    kind = "a whole number" if ann is int else "a number"
    return (kind + (" " + ", ".join(words) if words else "")) + none


SOURCE = re.compile(r"\s*\[([^\[\]]+)\]")


def split_source(description: str) -> tuple[str, str]:
    """The description without its bracketed source keys, and the keys joined by ``; ``."""
    keys: list[str] = []
    for k in (k.strip() for k in SOURCE.findall(description or "")):
        if not any(k == old or old.startswith(k + ":") for old in keys):
            keys.append(k)
    text = SOURCE.sub("", description or "")
    text = re.sub(r"\s+([;,.])", r"\1", text).strip().strip(";").strip()
    return text, "; ".join(keys)


def _section_name(model: type[BaseModel]) -> str:
    for path, m in _sections():
        if m is model:
            return f"`{path}`" if path else "Scenario"
    return model.__name__


def _children(path: str, model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """The tables a table holds, with their paths (a list's entries as ``<i>``, ``<j>``)."""
    out = []
    for name, info in model.model_fields.items():
        ann = _unwrap(info.annotation)
        sub = path + "." + name if path else name
        if typing.get_origin(ann) is list and _is_table(typing.get_args(ann)[0]):
            out.append((sub + (".<j>" if "<i>" in sub else ".<i>"), typing.get_args(ann)[0]))
        elif _is_table(ann) and not _per_key(ann) and not _is_distribution(ann):
            out.append((sub, ann))
    return out


def _sections() -> list[tuple[str, type[BaseModel]]]:
    """Every table of the scenario once, at its shortest path (``workforce``, not a county's
    own ``counties.<i>.workforce``), each followed by the tables it holds."""
    claimed: dict[type[BaseModel], str] = {Scenario: ""}
    queue = [("", Scenario)]
    while queue:
        path, model = queue.pop(0)
        for sub, child in _children(path, model):
            if child not in claimed:
                claimed[child] = sub
                queue.append((sub, child))
    out: list[tuple[str, type[BaseModel]]] = []

    def walk(path: str, model: type[BaseModel]) -> None:
        out.append((path, model))
        for sub, child in _children(path, model):
            if claimed.get(child) == sub:
                walk(sub, child)

    walk("", Scenario)
    return out


def rows_of(path: str, model: type[BaseModel]) -> list[dict[str, str]]:
    """One row per field of a table that is not itself a table of its own section."""
    rows = []
    for name, info in model.model_fields.items():
        ann = _unwrap(info.annotation)
        if typing.get_origin(ann) is list and _is_table(typing.get_args(ann)[0]) and path == "" or (
                _is_table(ann) and not _per_key(ann) and not _is_distribution(ann) and path == ""):
            continue  # top-level tables have their own sections
        key = info.alias or name
        desc, source = split_source(info.description or "")
        rows.append({"field": f"{path}.{key}" if path else key, "unit": unit_of(name, info),
                     "default": default_of(info), "allowed": allowed_of(info), "description": desc,
                     "source": source})
    return rows


def label(path: str) -> str:
    """A short plain label for the input at a dotted path (``placement.rate_using``: "placement
    hazard while the parent uses, per year"), from its description; the path if unknown."""
    model: Any = Scenario
    words, key = path, ""
    for part in path.split("."):
        if part.isdigit() or part == "<i>":
            continue
        if _per_key(model) or _is_distribution(model):
            key = part
            break
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return path
        info = fields[part]
        words = split_source(info.description or "")[0] or part.replace("_", " ")
        ann = _unwrap(info.annotation)
        model = typing.get_args(ann)[0] if typing.get_origin(ann) is list else ann
        words = re.split(r"[;:](?= )| \(", words)[0].strip()
        if len(words) < 20 or words.startswith(("on ", "per ")):  # "salary + fringe": say whose
            words = f"{part.replace('_', ' ')}: {words}"
    words = words if len(words) <= 70 else words[:70].rsplit(" ", 1)[0] + " …"
    return f"{words} ({key})" if key else words


def _table(rows: list[dict[str, str]], columns: tuple[str, ...]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r[c].replace("|", "\\|").replace("\n", " ")
            cells.append(f"`{v}`" if c in ("field", "default") and v else (v or "-"))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


HEADER = f"""# Parameter reference

Every input of a scenario file, generated from the schema (`start_sim/inputs/schema.py` and
its tables). **Do not edit by hand**: regenerate with

    {REGENERATE}

(the test `tests/test_parameters_doc.py` fails when this file is stale).

How to read it:

- **field**: the dotted path of the input, as a scenario file nests it (`[program]` then
  `caseload_cap = 13`) and as a variant changes it (`scenario.with_changes({{"program.caseload_cap": 12}})`).
  `counties.<i>` is the i-th `[[counties]]` table, counting from 0.
- **unit**: time inside the model is in days; rates in the files are per year and durations in
  days unless the name says otherwise. Money is US dollars of the base year (present values are
  discounted at `costs.discount_rate_per_year`; budgets and the fiscal note are nominal).
- **default**: the value used when the file leaves the field out; `required` means the file
  must give it.
- **allowed**: the range the scenario is checked against; a value outside it stops the run
  with a message naming the field, the value and this range.
- **source**: the key of the source in `calibration/sources.md` (in brackets in the schema),
  or *assumption* (a planning assumption to replace with local data), or *gap N* (a known gap in
  the evidence, `docs/evidence.md`).
"""


def _distributions() -> list[str]:
    lines = ["## Distributions", "",
             "A field whose allowed value is *a distribution table* takes one of these tables, e.g. "
             '`{dist = "lognormal", mean = 426, sd = 150}`. Values are days unless the field says otherwise.', ""]
    rows = []
    for cls in DISTRIBUTIONS:
        tag = typing.get_args(cls.model_fields["dist"].annotation)[0]
        for name, info in cls.model_fields.items():
            if name == "dist":
                continue
            default = "required" if info.is_required() else default_of(info)
            rows.append({"field": f"{tag}.{info.alias or name}", "default": default, "allowed": allowed_of(info),
                         "description": _doc(cls) if not rows or
                         not rows[-1]["field"].startswith(tag + ".") else ""})
    lines += _table(rows, ("field", "default", "allowed", "description"))
    lines += ["", f"`dist` is one of {', '.join(DIST_NAMES)}. A lognormal or gamma sd must lie within 1/1,000 "
              "and 1,000 times its mean; a uniform's high must be at least its low.", ""]
    return lines


def _doc(cls: type) -> str:
    """The first line of a class's docstring, with reST literals as Markdown code."""
    return (cls.__doc__ or "").strip().splitlines()[0].replace("``", "`") if cls.__doc__ else ""


def render() -> str:
    """The whole of ``docs/parameters.md``."""
    lines = [HEADER]
    for path, model in _sections():
        title = "Scenario (top level)" if not path else f"`{path}`"
        doc = _doc(model)
        lines += [f"## {title}", "", doc, ""] if doc else [f"## {title}", ""]
        lines += _table(rows_of(path, model), ("field", "unit", "default", "allowed", "description", "source"))
        lines.append("")
    lines += _distributions()
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
