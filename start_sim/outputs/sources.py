"""The inputs of a scenario and where each comes from: the source table shipped with the
package (``start_sim/outputs/data/sources.md``, also at ``calibration/sources.md``), the source
keys cited in the schema's descriptions, and the HTML tables of a report that show them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel

from start_sim.inputs.schema import Scenario
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape as _e
from start_sim.outputs.html import table as _table
from start_sim.outputs.labels import humanise, param_label, plain

SOURCES = ("start_sim.outputs", "data/sources.md")
"""Package and resource path of the source table (package data, so an installed wheel has it)."""

KEY_INPUTS = (
    "horizon_years", "runout_years", "program.caseload_cap", "program.solo_caseload_cap", "program.waitlist_policy",
    "program.max_wait_days", "program.service_days", "program.disengagement_probability",
    "workforce.caseworker_turnover_per_year", "workforce.mentor_turnover_per_year", "workforce.hiring_lag_days",
    "treatment.assessment_days_start", "treatment.assessment_days_usual", "treatment.uptake_usual",
    "treatment.uptake_start", "start.mentor_uptake", "start.mentor_recovery_multiplier",
    "start.mentor_relapse_multiplier", "start.safety_planning_casework_multiplier",
    "start.safety_planning_mentor_multiplier", "start.kin_preference", "placement.kin_arrangement_ratio",
    "start.surveillance_report_multiplier", "placement.rate_using", "placement.reunification_rate_in_recovery",
    "costs.caseworker_per_fte_year", "costs.mentor_per_fte_year", "costs.placement_per_child_day",
    "costs.casework_per_child_month_in_care", "costs.discount_rate_per_year",
)
COUNTY_COLUMNS = ("name", "referrals_per_year", "dyads", "mentors", "launch_day", "initial_caseload", "initial_waitlist")


@cache
def sources() -> dict[str, tuple[str, str]]:
    """Source key -> (citation, first web address) from the shipped source table."""
    out: dict[str, tuple[str, str]] = {}
    try:
        text = resources.files(SOURCES[0]).joinpath(SOURCES[1]).read_text(encoding="utf-8")
    except OSError:
        return out
    for line in text.splitlines():
        if not line.startswith("| ") or line.startswith("|---") or line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("key", "") or cells[0] in out:
            continue
        url = re.search(r"https?://\S+", cells[2]) if len(cells) > 2 else None
        out[cells[0]] = (cells[1], url.group(0).rstrip(";,") if url else "")
    return out


def source_keys(description: str) -> list[str]:
    """Source keys cited in square brackets in a parameter description, and 'assumption'."""
    known = sources()
    keys: list[str] = []
    for group in re.findall(r"\[([^\]]+)\]", description or ""):
        for piece in re.split(r"[;,]", group):
            piece = piece.strip()
            hit = next((k for k in sorted(known, key=len, reverse=True) if piece.startswith(k)), None)
            if hit is None and "assumption" in piece:
                hit = "assumption"
            if hit and hit not in keys:
                keys.append(hit)
    if not keys and "assumption" in (description or ""):
        keys.append("assumption")
    return keys


def _sources_html(keys: list[str]) -> str:
    """Source keys as links to their first web address (the citation on hover)."""
    known = sources()
    parts = []
    for k in keys:
        if k in known:
            citation, url = known[k]
            label = f'<a href="{_e(url)}" title="{_e(citation)}">{_e(k)}</a>' if url else f'<span title="{_e(citation)}">{_e(k)}</span>'
            parts.append(label)
        else:
            parts.append(_e(k))
    return ", ".join(parts) or "-"


def describe(path: str) -> str:
    """The schema's description of a dotted parameter path (its deepest documented field)."""
    cls: Any = Scenario
    desc = ""
    for part in path.split("."):
        if part.isdigit() or not (isinstance(cls, type) and issubclass(cls, BaseModel)):
            continue
        f = cls.model_fields.get(part)
        if f is None:
            break
        desc = f.description or desc
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        nxt = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        cls = nxt
    return desc


def _value(v: Any) -> str:
    """A scenario value as a planner reads it (distributions as ``name(parameters)``)."""
    if isinstance(v, dict) and "dist" in v:
        rest = ", ".join(f"{k}={fmt(x) if not isinstance(x, list) else x}" for k, x in v.items() if k != "dist")
        return f"{v['dist']}({rest})"
    if isinstance(v, dict):
        return ", ".join(f"{k} {_value(x)}" for k, x in v.items())
    if v is None:
        return "none"
    return fmt(v)


def flatten(d: Any, prefix: str = "", whole: bool = True) -> dict[str, Any]:
    """Dotted paths to leaves. Sections and list items are opened; deeper down, a
    distribution or a table of plain numbers (e.g. one per modality) stays one value."""
    depth = prefix.count(".")
    if isinstance(d, list) and d and isinstance(d[0], dict):
        out = {}
        for i, v in enumerate(d):
            out.update(flatten(v, f"{prefix}{i}.", whole=True))
        return out
    if isinstance(d, dict) and "dist" not in d and (
        whole or depth <= 1 or any(isinstance(x, dict | list) for x in d.values())
    ):
        out = {}
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}.", whole=False))
        return out
    return {prefix[:-1]: d}


def _get(d: dict, path: str) -> Any:
    for part in path.split("."):
        d = d[int(part)] if isinstance(d, list) else d[part]
    return d


def _param(path: str) -> str:
    """A parameter in words, its dotted path on hover."""
    return f'<span title="{_e(path)}">{_e(param_label(path))}</span>'


def inputs_html(scenario: Scenario, title: str = "Key inputs and their sources") -> str:
    """The key inputs, the counties and (folded) every parameter, each with its description and sources."""
    d = scenario.to_dict()
    rows = []
    for path in KEY_INPUTS:
        try:
            v = _get(d, path)
        except (KeyError, IndexError, TypeError):
            continue
        desc = describe(path)
        rows.append([_param(path), _e(plain(_value(v))), _e(plain(desc)), _sources_html(source_keys(desc))])
    county_rows = [[_e(_value(c.get(k))) for k in COUNTY_COLUMNS if k in c] for c in d["counties"]]
    county_head = [f'<span title="{_e(describe("counties.0." + k))}">{_e(humanise(k))}</span>' for k in COUNTY_COLUMNS
                   if k in d["counties"][0]]
    every = []
    for path, v in flatten({k: v for k, v in d.items() if k not in ("name", "description", "counties")}).items():
        desc = describe(path)
        every.append([_param(path), _e(plain(_value(v))), _e(plain(desc)), _sources_html(source_keys(desc))])
    return (
        f"<h2>{_e(title)}</h2>"
        "<p class=small>Each parameter's source key resolves in <code>calibration/sources.md</code> (hover for the "
        "citation; links need a network). <i>assumption</i> marks a value without a published source.</p>"
        + _table(["parameter", "value", "what it is", "source"], rows, numeric_from=9, definition_from=2)
        + "<h3>Counties</h3>" + _table(county_head, county_rows, numeric_from=1)
        + "<details><summary>Every parameter of the scenario</summary>"
        + _table(["parameter", "value", "what it is", "source"], every, numeric_from=9, definition_from=2)
        + "</details>"
    )


def differing_inputs_html(scenarios: Mapping[str, Scenario]) -> str:
    """The parameters whose values differ between the scenarios of a comparison."""
    flat = {n: flatten(s.to_dict()) for n, s in scenarios.items()}
    names = list(flat)
    paths = sorted({p for f in flat.values() for p in f})
    rows = []
    for p in paths:
        vals = [flat[n].get(p, "-") for n in names]
        if all(v == vals[0] for v in vals) or p == "name":
            continue
        desc = describe(p)
        rows.append([_param(p), *[_e(plain(_value(v))) for v in vals], _e(plain(desc)), _sources_html(source_keys(desc))])
    if not rows:
        return "<h2>Inputs that differ</h2><p>The scenarios have the same inputs.</p>"
    return ("<h2>Inputs that differ between the scenarios</h2>"
            + _table(["parameter", *[_e(n) for n in names], "what it is", "source"], rows, numeric_from=99,
                     definition_from=1 + len(names)))
