"""The calibration report's section on identification: which targets constrain which parameter
(the target x parameter table of :mod:`start_sim.analyses.identification`), which parameters
rest on their prior, and the posterior split of an effect into parts (safety planning's casework
and mentor parts, on which the mentor scenarios' differences rest)."""

from __future__ import annotations

import pandas as pd

from start_sim.analyses.calibration import CalibrationResult
from start_sim.analyses.identification import CONSTRAINS, effects_matrix, identification, split_posterior
from start_sim.analyses.site_spread import site_spreads
from start_sim.outputs.formatting import fmt
from start_sim.outputs.html import escape, frame_table, table
from start_sim.outputs.labels import param_label

ID_LABELS = {"parameter": "parameter", "sd_ratio": "posterior sd / prior sd (linearised)",
             "constrained_by": "constrained by (share of its information)", "most_correlated": "most correlated with",
             "correlation": "correlation"}
SPLIT_LABELS = {"split": "effect", "parameter": "part", "prior": "prior range", "post_mean": "posterior mean",
                "post_2.5%": "2.5%", "post_97.5%": "97.5%", "sd_ratio": "posterior sd / prior sd",
                "share_mean": "share of the log effect", "share_2.5%": "share 2.5%", "share_97.5%": "share 97.5%"}


def identification_html(res: CalibrationResult) -> str:
    """The section, or a line saying it was not computed."""
    sens = res.sensitivity
    if sens is None or sens.empty:
        return "<h2>Which targets constrain which parameter</h2><p>Not computed (sensitivity_step = 0).</p>" + sites_html(res)
    m = effects_matrix(sens)
    cols = list(m.columns)
    label = dict(zip(sens["key"], sens["target"], strict=False))
    rows = [[escape(str(label[k]))] + [_cell(m.loc[k, c]) for c in cols] for k in m.index]
    ident = identification(sens)
    ident["parameter"] = ident["parameter"].map(param_label)
    ident["most_correlated"] = ident["most_correlated"].map(lambda p: param_label(p) if p else "")
    prior_bound = ident[ident["sd_ratio"] > 0.7]["parameter"].tolist()
    verdict = ("Set mostly by their prior (the targets narrow them by less than 30%): " + ", ".join(prior_bound) + "."
               if prior_bound else "Every free parameter is narrowed by the targets by at least 30%.")
    out = f"""<h2>Which targets constrain which parameter</h2>
<p class=small>Each cell: how many observed standard errors the target moves when the parameter sweeps its whole prior
range (central difference of {fmt(res.target_set.settings.sensitivity_step)} of the range at the best fit, common random
numbers). Bold: at least {CONSTRAINS:g} SE, the target constrains the parameter. A parameter with no bold cell is set by
its prior; two parameters correlated near -1 or 1 are identified only as a combination.</p>
{table(["target"] + [escape(param_label(c)) for c in cols], rows)}
<p><b>{escape(verdict)}</b></p>
{frame_table(ident, list(ident.columns), ID_LABELS)}"""
    split = split_posterior(res.posterior, res.target_set.parameters)
    if not split.empty:
        split["parameter"] = split["parameter"].map(lambda p: p if p == "product" else param_label(p))
        out += f"""<h3>Split of an effect into parts</h3>
<p class=small>Parameters given the same <code>split</code> in the targets file multiply one effect (safety planning: a
casework part for any open START case and a mentor part while the case has a mentor). The targets see START families
with a mentor, so they identify the product; the share of the log effect carried by the mentor part is what the mentor
scenarios (<code>scenarios/mentor_*.toml</code>, <code>kentucky_no_mentors.toml</code>) rest on: a posterior sd near the
prior's means that share comes from the prior (calibration/sources.md) and not from the targets.</p>
{frame_table(split, list(split.columns), SPLIT_LABELS)}"""
    return out + sites_html(res)


def _cell(v: float) -> str:
    text = fmt(v)
    return f"<b>{text}</b>" if pd.notna(v) and abs(v) >= CONSTRAINS else text


def sites_html(res: CalibrationResult) -> str:
    """The between-site spread of freed county multipliers, if the targets free them for several sites."""
    spreads = site_spreads(res.posterior, res.target_set.parameters)
    if not spreads:
        return ""
    rows = [[escape(s.multiplier), str(s.sites), fmt(s.tau), fmt(s.mean_log), fmt(s.q)] for s in spreads]
    return ("<h3>Sites that differ</h3><p class=small>Between-site sd (log scale, DerSimonian-Laird) of the county "
            "multipliers freed site by site: the value for <code>[sites] effect_sd</code> at a site not yet "
            "observed.</p>" + table(["multiplier", "sites", "between-site sd", "mean log multiplier", "Cochran's Q"], rows))
