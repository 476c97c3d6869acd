"""Every report (run, a county without dyads, compare, size, uncertainty, calibrate) fits an A4 page
at print width and shows no code name (KPI keys, dotted parameter paths, ``pv_*``) in its visible text.

The width check renders each page in headless Chromium at the printable width of A4 (210 mm less
two 12 mm margins = 703 CSS px) with the report's print rules applied, and lists every table,
figure or paragraph whose right edge passes the window; it skips if Chromium is not installed."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import start_sim as ss
from start_sim.analyses.calibration import calibrate
from start_sim.analyses.calibration_objective import evaluate
from start_sim.analyses.staffing import size_staffing
from start_sim.analyses.uncertainty import uncertainty
from start_sim.experiments.compare import compare
from start_sim.inputs.schema import Scenario
from start_sim.inputs.targets import CalibrationTarget, Parameter, Settings, TargetSet
from start_sim.metrics.registry import METRICS, kpi_columns
from start_sim.outputs.html import PAGE_MARGIN_MM, PRINT_CSS, page, table
from start_sim.outputs.labels import BCA
from start_sim.outputs.writers import (
    write_calibration_folder,
    write_comparison,
    write_run,
    write_sizing,
    write_uncertainty,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
A4_PRINT_PX = round((210 - 2 * PAGE_MARGIN_MM) / 25.4 * 96)
MEASURE = """<script>
const w = document.documentElement.clientWidth;
const bad = [...document.querySelectorAll('table,figure,img,pre,p,ul,h1,h2,h3,section')]
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().right > w + 0.5)
  .map(e => e.tagName + ' ends at ' + Math.round(e.getBoundingClientRect().right) + 'px: '
            + (e.textContent || '').trim().slice(0, 60));
document.body.setAttribute('data-layout', JSON.stringify({width: w, scroll: document.documentElement.scrollWidth,
                                                          overflowing: bad}));
</script>"""
KEYS = set(kpi_columns()) | set(METRICS) | set(BCA)
FILE = re.compile(r"[\w./-]+\.(?:png|csv|json|toml|html|md)\b")  # file names beside the report are not code names
CODE = re.compile(r"\b(?:pv_[a-z_]+|(?:" + "|".join(Scenario.model_fields) + r")\.[a-z_][a-z0-9_.]*)\b"
                  r"|\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def layout(report: Path, tmp: Path, width: int = A4_PRINT_PX) -> dict:
    """The rendered width, scroll width and overflowing elements of ``report`` at ``width`` px with print rules."""
    if not Path(CHROMIUM).exists():
        pytest.skip("headless Chromium is not installed: apt-get install chromium")
    text = report.read_text(encoding="utf-8")
    text = text.replace("</head>", f"<style>{PRINT_CSS}</style></head>").replace("</body>", MEASURE + "</body>")
    probe = tmp / f"probe-{report.parent.name}.html"
    probe.write_text(text, encoding="utf-8")
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                          f"--user-data-dir={tmp / 'chromium-profile'}", f"--window-size={width},1123", "--dump-dom",
                          probe.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r'data-layout="([^"]*)"', out.stdout)
    assert found, f"Chromium did not render {report}: {out.stderr[-800:]}"
    return json.loads(html.unescape(found.group(1)))


class Visible(HTMLParser):
    """The text a reader sees: no style, script, title, tooltips or folded details."""

    HIDDEN = {"style", "script", "title", "details"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.HIDDEN

    def handle_endtag(self, tag):
        self.depth -= tag in self.HIDDEN

    def handle_data(self, data):
        if not self.depth:
            self.text.append(data)


def code_names(report: Path) -> list[str]:
    """KPI keys, ``pv_*`` outputs and dotted parameter paths in the visible text of ``report``."""
    v = Visible()
    v.feed(report.read_text(encoding="utf-8"))
    text = FILE.sub(" ", " ".join(v.text))
    return sorted({m.group(0) for m in CODE.finditer(text) if m.group(0) in KEYS or "." in m.group(0)
                   or m.group(0).startswith("pv_")})


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("layout")
    small = ss.Scenario(name="small", horizon_years=2, runout_years=1,
                        counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2}])
    zero = ss.Scenario(name="none", horizon_years=1, runout_years=1,
                       counties=[{"name": "A", "referrals_per_year": 30, "dyads": 0}])
    out = {"run": write_run(ss.run(small, replications=3, seed=1), root / "run") / "report.html",
           "zero dyads": write_run(ss.run(zero, replications=2, seed=1), root / "zero") / "report.html"}
    cmp = compare({"base": small, "tighter": small.with_changes({"program.caseload_cap": 5})}, replications=3, seed=1)
    out["compare"] = write_comparison(cmp, root / "cmp") / "report.html"
    quick = ss.Scenario(name="quick", horizon_years=1, runout_years=1,
                        counties=[{"name": "A", "referrals_per_year": 40, "dyads": 3}])
    unc = uncertainty(quick, None, draws=4, seed=1, morris_trajectories=2, tornado_replications=1)
    out["uncertainty"] = write_uncertainty(unc, root / "unc") / "report.html"
    sizing = size_staffing(small, "assigned_within_days=14@0.8", replications=2, seed=1)
    out["size"] = write_sizing(sizing, root / "size") / "report.html"
    busy = ss.Scenario(name="busy", horizon_years=1, runout_years=1,
                       counties=[{"name": "A", "referrals_per_year": 120, "dyads": 15}])
    params = (Parameter("placement.rate_using", 0.2, 0.8, 0.4),
              Parameter("start.safety_planning_casework_multiplier", 0.3, 1.0, 0.65))
    probe = [CalibrationTarget(id="X", name="x", kpi="placement_rate_12m", arm=a, kind="rate", value=0.3, low=0.25,
                               high=0.35, n=500) for a in ("start", "usual")]
    sim = evaluate(busy, params, probe, [0.5, 0.6], 2, 11)
    targets = TargetSet(params, tuple(CalibrationTarget(id="X", name="x", kpi=k.rsplit("_", 1)[0],
                                                        arm=k.rsplit("_", 1)[1], kind="rate", value=v, low=v - 0.05,
                                                        high=v + 0.05, n=500) for k, v in sim.items()),
                        Settings(horizon_years=0, replications=2, seed=11))
    res = calibrate(busy, targets, budget=dict(design_points=4, starts=1, maxfev=20, local_points=8,
                                                 posterior_points=12, posterior_draws=10))
    src = root / "busy.toml"
    src.write_text('name = "busy"\nhorizon_years = 1\nrunout_years = 1\n[[counties]]\nname = "A"\n'
                   'referrals_per_year = 120\ndyads = 15\n')
    write_calibration_folder(res, root / "cal", src)
    out["calibrate"] = root / "cal" / "report.html"
    return out


KINDS = ("run", "zero dyads", "compare", "size", "uncertainty", "calibrate")


@pytest.mark.parametrize("kind", KINDS)
def test_report_opens_with_a_bottom_line_and_shows_no_code_names(reports, kind):
    text = reports[kind].read_text(encoding="utf-8")
    assert text.index('class="bottom-line"') < text.index("<h2>", text.index("</section>")), "bottom line not first"
    assert code_names(reports[kind]) == [], f"{kind} report shows code names"


@pytest.mark.parametrize("kind", KINDS)
def test_report_fits_an_a4_page_at_print_width(reports, kind, tmp_path):
    got = layout(reports[kind], tmp_path)
    assert got["overflowing"] == [] and got["scroll"] <= got["width"], f"{kind} report overflows the page: {got}"


def test_the_width_check_fails_on_an_overflowing_table(tmp_path):
    wide = table([f"column {i}" for i in range(24)], [[f"{1_000_000 * (i + 1):,}" for i in range(24)]])
    (tmp_path / "wide").mkdir()
    path = tmp_path / "wide" / "report.html"
    path.write_text(page("wide", f"<h1>wide</h1>{wide}"), encoding="utf-8")
    got = layout(path, tmp_path)
    assert got["scroll"] > got["width"] and any(o.startswith("TABLE") for o in got["overflowing"]), got


def test_the_code_name_check_finds_keys_and_paths(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(page("x", "<p>placement_rate_12m_start, costs.casework_per_child_month_in_care and pv_cost; "
                              "budget_by_year.csv is a file</p><details><p>net_savings</p></details>"))
    assert code_names(path) == ["costs.casework_per_child_month_in_care", "placement_rate_12m_start", "pv_cost"]


def test_a_county_without_dyads_gets_a_notice_instead_of_empty_charts(reports):
    text = reports["zero dyads"].read_text(encoding="utf-8")
    assert "<img" not in text and "Nothing to show" in text
    assert not list(reports["zero dyads"].parent.glob("*.png"))
    assert pd.read_csv(reports["zero dyads"].parent / "kpis.csv")["families_started"].eq(0).all()
