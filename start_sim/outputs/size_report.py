"""The staffing search's ``report.html``: the bottom line, the answer per county with its service
levels and cost, the hiring schedule, and the scenario's key inputs with their sources."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from start_sim.analyses.service_targets import ServiceTarget
from start_sim.analyses.staffing import Sizing
from start_sim.outputs import bottom_line
from start_sim.outputs.formatting import money, share
from start_sim.outputs.html import escape, page, table
from start_sim.outputs.sources import inputs_html


def target_words(t: ServiceTarget) -> str:
    """A service target as a sentence fragment: "at least 90% of families assigned within 14 days"."""
    if t.metric == "assigned_within_days":
        return f"at least {share(t.level)} of families assigned within {t.days:g} days"
    return f"at most {share(t.level)} of families diverted to usual services"


def _level(m: float, lo: float, hi: float) -> str:
    if not math.isfinite(m):
        return "-"
    return f"{share(m)} <span class=ci>[{share(lo)}, {share(hi)}]</span>"


def render(sizing: Sizing, manifest: dict) -> str:
    """The staffing report as one HTML page."""
    t = sizing.table()
    words = [target_words(x) for x in sizing.targets]
    if "row" in t:
        t = t[t["row"] != "county of region"]  # a region's counties share its dyads: the region row answers
    bl = bottom_line.size(t, words, sizing.replications)
    head = ["county", "dyads needed", "caseworkers", "mentors", "target met",
            *(escape(x.label) for x in sizing.targets), "chance of meeting the target", "utilisation",
            "staff cost a year"]
    rows = [[escape(c.county), str(c.dyads), str(c.caseworkers), str(c.mentors), "yes" if c.reached else "<b>no</b>",
             *(_level(*lv) for lv in c.levels), share(c.p_meets), share(c.utilisation), money(c.annual_cost)]
            for c in sizing.counties]
    skipped = ("<p><b>Not sized:</b> " + escape("; ".join(sizing.skipped)) + "</p>") if sizing.skipped else ""
    measured = sizing.counties[0].window if sizing.counties else None
    where = ""
    if measured is not None and measured.warmup_days > 0:
        where = (f" Measured <b>at maturity</b>: families referred after a warm-up of "
                 f"{measured.warmup_days / 365.25:.1f} years of START, over a window as long as the horizon.")
    body = (f"<h1>Staffing: {escape(sizing.scenario.name)}</h1>"
            f"<p class=meta>Targets: {escape('; '.join(words))}. {sizing.replications} replications per "
            f"staffing level, seed {sizing.seed}; the table is <code>staffing.csv</code>.</p>"
            + bottom_line.as_html(bl)
            + "<h2>Dyads needed, county by county</h2><p class=small>Service levels: mean over replications "
            "[95% confidence interval; simulation noise only; see the uncertainty analysis for parameter "
            "uncertainty]. Staff cost: salary, fringe and overhead of the posts, USD a year.</p>"
            + f"<p class=small>{where}</p>" + table(head, rows) + skipped + _first_year(sizing)
            + "".join(_region(r) for r in sizing.regions)
            + "<h2>Hiring schedule</h2><ul>" + "".join(f"<li>{escape(c.note())}</li>" for c in [*sizing.counties, *sizing.regions])
            + "</ul>" + inputs_html(sizing.scenario)
            + "<h2>Manifest</h2><details><summary>manifest.json</summary>"
            f"<pre>{escape(json.dumps(manifest, indent=2))}</pre></details>")
    return page(f"Staffing: {sizing.scenario.name}", body)


def _first_year(sizing: Sizing) -> str:
    """The first year after launch beside the answer at maturity (empty if not searched)."""
    if not sizing.first_year:
        return ""
    mature = {c.county: c.dyads for c in sizing.counties}
    head = ["county", "dyads at maturity", "dyads in the first year", *(escape(x.label) for x in sizing.targets)]
    rows = [[escape(c.county), str(mature.get(c.county, "-")), str(c.dyads) if c.reached else f"&gt;{c.dyads}",
             *(_level(*lv) for lv in c.levels)] for c in sizing.first_year]
    return ("<h2>First year after launch</h2><p class=small>The same targets for the families referred in each "
            "county's first year, from the scenario's starting state: caseloads are still filling, so fewer dyads "
            "meet them than at maturity.</p>" + table(head, rows))


def _region(r: Any) -> str:
    """A region's shared dyads: its answer, and each county's service level at it."""
    fy = r.first_year
    head = ["", "eligible a year", *(escape(x.label) for x in r.targets), "meets the target"]
    rows = [[escape(c.county), f"{c.arrival_per_year:.1f}", *(_level(*lv) for lv in c.levels), "yes" if c.meets else
             "<b>no</b>"] for c in r.counties]
    rows.append(["<b>region</b>", f"{r.arrival_per_year:.1f}", *(_level(*lv) for lv in r.levels),
                 "yes" if r.reached else "<b>no</b>"])
    needed = str(r.dyads) if r.reached else f"&gt;{r.dyads}"
    first = "" if fy is None else f" In the first year after launch: {fy.dyads if fy.reached else f'&gt;{fy.dyads}'}."
    short = "".join(f"<p><b>{escape(s)}.</b></p>" for s in r.shortfalls())
    return (f"<h2>Region {escape(r.region)}: shared dyads</h2><p>{needed} shared dyads ({r.mentors} mentors) serve "
            f"all its counties {escape(r.window.label)}, caseload cap {r.caps[0]} after a travel share of "
            f"{share(r.travel_share)}; utilisation {share(r.utilisation)}, the target met in {share(r.p_meets)} of "
            f"replications, staff cost {money(r.annual_cost)} a year.{first} The counties' service levels at that "
            "answer (a county's families may wait longer than the region's as a whole):</p>" + table(head, rows) + short)


def write_size_report(sizing: Sizing, manifest: dict, folder: Path) -> Path:
    """``folder``/report.html of a staffing search."""
    path = folder / "report.html"
    path.write_text(render(sizing, manifest), encoding="utf-8")
    return path

