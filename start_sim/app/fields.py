"""The inputs the *My county* form edits: dotted path, label, unit, the schema's description as
help (with its sources), and how a validation problem is matched to the field it names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from start_sim.inputs.schema import Scenario
from start_sim.outputs.sources import describe, source_keys, sources


@dataclass(frozen=True)
class Field:
    """One input of the form. ``path`` may hold ``{i}``, the index of the county edited."""

    key: str  # widget key and name of the value in the form
    path: str
    label: str
    unit: str
    kind: str = "float"  # float, int, share, text
    minimum: float | None = None
    step: float | None = None

    def at(self, county: int) -> str:
        return self.path.format(i=county)


COUNTY_FIELDS = (
    Field("name", "counties.{i}.name", "County or region name", "", "text"),
    Field("referrals", "counties.{i}.referrals_per_year", "Referrals screened for START", "families a year",
          minimum=0.0, step=1.0),
    Field("growth", "counties.{i}.referral_growth_per_year", "Referral growth a year", "0.05 = +5%", step=0.01),
    Field("eligible", "counties.{i}.eligible_share", "Eligible share of those referrals", "share, 0 to 1", "share",
          step=0.05),
    Field("dyads", "counties.{i}.dyads", "Dyads at launch", "caseworkers, each paired with a mentor", "int", 0, 1),
    Field("mentors", "counties.{i}.mentors", "Mentors at launch", "at most one per caseworker", "int", 0, 1),
    Field("launch", "counties.{i}.launch_day", "Launch day", "days after day 0", minimum=0.0, step=1.0),
)
PROGRAM_FIELDS = (
    Field("horizon", "horizon_years", "Years of referrals counted", "years", minimum=0.0, step=1.0),
    Field("cap", "program.caseload_cap", "Caseload cap", "families per dyad", "int", 1, 1),
    Field("turnover", "{w}.caseworker_turnover_per_year", "Caseworker turnover", "leavers per post a year",
          step=0.05),
    Field("lag", "{w}.hiring_lag_days", "Hiring lag (mean)", "days from an open post to a hire", step=5.0),
)
HIRING_PATH = "counties.{i}.hiring"


def workforce_path(scenario: Scenario, county: int) -> str:
    """Where the county's staffing dynamics live: its own ``workforce`` table, or the scenario's."""
    return f"counties.{county}.workforce" if scenario.counties[county].workforce else "workforce"


def path_of(field: Field, scenario: Scenario, county: int) -> str:
    return field.path.format(i=county, w=workforce_path(scenario, county))


def help_text(path: str) -> str:
    """The schema's description of the field, then its sources spelled out."""
    desc = describe(path)
    known = sources()
    cited = [f"{k}: {known[k][0]}" if k in known else k for k in source_keys(desc)]
    return desc + ("\n\nSources: " + "; ".join(cited) if cited else "")


def lag_value(scenario: Scenario, county: int) -> tuple[float | None, str]:
    """The hiring lag's mean in days and the dotted key the form changes (``value`` of a fixed
    lag, ``mean`` of a lognormal or gamma); ``None`` when the distribution has no single mean key."""
    dist = scenario.workforce_of(scenario.counties[county]).hiring_lag_days
    if dist.dist == "fixed":
        return float(dist.value), "value"
    if hasattr(dist, "mean") and not callable(dist.mean):
        return float(dist.mean), "mean"
    return None, ""


def value_of(scenario: Scenario, field: Field, county: int) -> Any:
    """The field's current value in the scenario."""
    c = scenario.counties[county]
    wf = scenario.workforce_of(c)
    return {
        "name": c.name, "referrals": float(c.referrals_per_year), "growth": float(c.referral_growth_per_year),
        "eligible": float(c.eligible_share), "dyads": c.dyads, "mentors": c.mentor_count,
        "launch": float(c.launch_day), "horizon": float(scenario.horizon_years), "cap": scenario.program.caseload_cap,
        "turnover": float(wf.caseworker_turnover_per_year), "lag": lag_value(scenario, county)[0],
    }[field.key]


def changes_from(scenario: Scenario, county: int, values: dict[str, Any],
                 hiring: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Dotted-path changes for :meth:`Scenario.with_changes`: only the values the form changed."""
    out: dict[str, Any] = {}
    for f in (*COUNTY_FIELDS, *PROGRAM_FIELDS):
        if f.key not in values or values[f.key] is None:
            continue
        new, old = values[f.key], value_of(scenario, f, county)
        if new == old:
            continue
        path = path_of(f, scenario, county)
        if f.key == "lag":
            path += "." + lag_value(scenario, county)[1]
        out[path] = new
    c = scenario.counties[county]
    mentors_path = COUNTY_FIELDS[5].at(county)
    if c.mentors is None and "mentors" in values:  # none = one mentor per caseworker, following the dyads
        out.pop(mentors_path, None)
        if values["mentors"] != values.get("dyads", c.dyads):
            out[mentors_path] = values["mentors"]
    if hiring is not None:
        old = [h.model_dump() for h in c.hiring]
        if hiring != old:
            out[HIRING_PATH.format(i=county)] = hiring
    return out


def problems_by_field(problems: list[str], paths: dict[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    """Each problem line under the field whose dotted path it names (the longest match), the
    rest apart. ``paths``: form key -> dotted path."""
    placed: dict[str, list[str]] = {}
    other: list[str] = []
    for line in problems:
        hits = [(len(p), k) for k, p in paths.items()
                if line.startswith(p) and line[len(p):len(p) + 1] in ("", " ", ".", ":")]
        if hits:
            placed.setdefault(max(hits)[1], []).append(line)
        else:
            other.append(line)
    return placed, other
