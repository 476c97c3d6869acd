"""The calibrated scenario file: a TOML fragment that extends the calibrated scenario with the
fitted values, its provenance in comments (scenario files reject unknown keys)."""

from __future__ import annotations

from typing import Any

from start_sim.analyses.calibration import CalibrationResult
from start_sim.core.dotted import toml_inline


def fragment_toml(res: CalibrationResult, extends: str, scenario_source: str = "") -> str:
    """A scenario file that ``extends`` the calibrated scenario with the fitted values; metadata as comments."""
    data = res.scenario.to_dict()
    ts = res.target_set
    checked = ", ".join(t.id for t in ts.targets if t.kind == "check") or "none"
    lines = [
        f"# Calibrated parameters of {res.scenario.name}: written by `start-sim calibrate`.",
        f"# Fit date: {res.info.get('date', '')}; targets file: {ts.source}; scenario: {scenario_source}",
        f"# Targets fitted: {', '.join(dict.fromkeys(t.id for t in ts.fitted))} (checked: {checked}); the weighting",
        "# of overlapping studies and the effective sample sizes are documented in the targets file.",
        f"# Method: multi-start Nelder-Mead from a Sobol design (best deviance {res.best_deviance:.2f}); posterior by",
        f"# sampling-importance-resampling on a QMC (Sobol) normal design, ESS {res.ess:.0f};",
        "# draws in posterior.csv of the calibration folder.",
        f"# Calibration scenario: horizon_years = {ts.settings.horizon_years}, replications = "
        f"{res.info.get('replications')}, seed = {res.info.get('seed')}; {res.info.get('evaluations')} evaluations in "
        f"{res.seconds / 60:.1f} min.",
        "# Scenario files reject unknown keys, so all metadata is in these comments.",
        f'extends = "{extends}"',
        f'name = "{res.scenario.name} (calibrated)"',
    ]
    sections: dict[str, dict[str, Any]] = {}
    for p in ts.parameters:
        section, key = p.path.split(".")[:2]
        sections.setdefault(section, {})[key] = data[section][key]
    for section, kv in sections.items():
        lines += ["", f"[{section}]"]
        for key, value in kv.items():
            prior = [p for p in ts.parameters if p.path.split(".")[:2] == [section, key]]
            note = "; ".join(f"{p.path}: prior [{p.low:g}, {p.high:g}], default {p.default:g}" for p in prior)
            lines.append(f"{key} = {toml_inline(value, digits=6)}  # {note}")
    return "\n".join(lines) + "\n"
