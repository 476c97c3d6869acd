"""A scenario as a TOML file a planner can save, read back with ``start-sim run`` or ``load_scenario``.

Only values that differ from the schema's defaults are written (the file stays short and says
what this county changed); every default, with its source, is in ``start_sim/inputs/schema.py``.
"""

from __future__ import annotations

from typing import Any

from start_sim.core.dotted import toml_inline, toml_key
from start_sim.inputs.none_word import NONE_WORD
from start_sim.inputs.schema import Scenario


def scenario_data(scenario: Scenario) -> dict[str, Any]:
    """The scenario as plain data, defaults left out."""
    return scenario.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def _pairs(table: dict[str, Any]) -> list[str]:
    lines = []
    for k, v in table.items():
        # TOML has no null: a value set to None is written as the schema's word for it, "none"
        lines.append(f'{toml_key(k)} = "{NONE_WORD}"' if v is None else f"{toml_key(k)} = {toml_inline(v)}")
    return lines


def scenario_toml(scenario: Scenario, header: str = "") -> str:
    """The scenario as a TOML document: top-level keys, then one ``[table]`` per section and
    one ``[[counties]]`` per county."""
    data = scenario_data(scenario)
    counties = data.pop("counties", [])
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    lines = [f"# {line}" for line in header.splitlines()] if header else []
    lines += _pairs(top)
    for key, value in data.items():
        if isinstance(value, dict) and value:
            lines += ["", f"[{key}]", *_pairs(value)]
    for county in counties:
        lines += ["", "[[counties]]", *_pairs(county)]
    return "\n".join(lines) + "\n"
