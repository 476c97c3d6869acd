"""The report: every figure present, embedded as a data URI, and the HTML well formed."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

import start_sim as ss
from start_sim import cli
from start_sim.experiments.compare import compare
from start_sim.outputs.report import COMPARE_FIGURES, RUN_FIGURES
from start_sim.outputs.sources import source_keys, sources
from start_sim.outputs.writers import write_comparison, write_run

PNG = b"\x89PNG\r\n\x1a\n"
VOID = {"img", "meta", "br", "hr", "link", "input", "col", "source", "wbr", "area", "base", "embed", "param", "track"}


class Page(HTMLParser):
    """Collects images, figure ids, headings, links to the network, and checks tag nesting."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict] = []
        self.figures: list[str] = []
        self.headings: list[str] = []
        self.external: list[str] = []
        self.stack: list[str] = []
        self.errors: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a)
        if tag == "figure":
            self.figures.append(a.get("id", ""))
        if tag in ("script", "link") and (a.get("src") or a.get("href")):
            self.external.append(a.get("src") or a.get("href"))
        if tag in ("h1", "h2"):
            self._in_heading = True
            self.headings.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("h1", "h2"):
            self._in_heading = False
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self._in_heading:
            self.headings[-1] += data


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_page(folder: Path, specs: tuple) -> Page:
    page = parse(folder / "report.html")
    assert not page.errors, f"badly nested HTML: {page.errors[:5]}"
    assert page.stack == [], f"unclosed tags: {page.stack}"
    assert not page.external, f"the report loads resources from elsewhere: {page.external}"
    stems = [stem for stem, _, _ in specs]
    assert page.figures == [f"fig-{s}" for s in stems], f"figures {page.figures}, expected {stems}"
    assert len(page.images) == len(stems), f"{len(page.images)} images for {len(stems)} figures"
    for img, stem in zip(page.images, stems, strict=True):
        src = img.get("src", "")
        assert src.startswith("data:image/png;base64,"), f"{stem}: image is not an embedded PNG: {src[:60]}"
        data = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert data[:8] == PNG, f"{stem}: embedded data is not a PNG"
        assert data == (folder / f"{stem}.png").read_bytes(), f"{stem}: embedded image differs from {stem}.png"
        assert img.get("alt"), f"{stem}: image has no alt text"
    return page


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    sc = ss.Scenario(name="small", horizon_years=2, runout_years=1,
                     counties=[{"name": "A", "referrals_per_year": 30, "dyads": 2}])
    out = tmp_path_factory.mktemp("rep") / "run"
    write_run(ss.run(sc, replications=3, seed=1), out)
    return out


def test_run_report_has_every_figure_embedded(run_folder):
    page = check_page(run_folder, RUN_FIGURES)
    for heading in ("Capacity, staff and costs", "Outcomes: START vs usual services for the same families",
                    "Figures", "How precise are these estimates?", "Key inputs and their sources", "Manifest"):
        assert heading in page.headings, f"section {heading!r} missing; headings: {page.headings}"
    text = (run_folder / "report.html").read_text()
    assert "program.caseload_cap" in text and "KY-SOP-6.3" in text, "key inputs should carry their source keys"
    assert json.loads((run_folder / "manifest.json").read_text())["scenario_sha256"] in text, "manifest missing"


def test_report_command_rebuilds_the_same_report(run_folder, capsys):
    before = {p.name: p.read_bytes() for p in run_folder.glob("*.png")} | {
        "report.html": (run_folder / "report.html").read_bytes()}
    for p in run_folder.glob("*.png"):
        p.unlink()
    (run_folder / "report.html").unlink()
    assert cli.main(["report", str(run_folder)]) == 0
    after = {p.name: p.read_bytes() for p in run_folder.glob("*.png")} | {
        "report.html": (run_folder / "report.html").read_bytes()}
    assert after.keys() == before.keys(), sorted(after.keys() ^ before.keys())
    assert [k for k in before if before[k] != after[k]] == [], "report from files differs from the run's own"


def test_report_command_on_a_folder_without_results_exits_2(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_compare_report_has_every_figure_embedded(small, tmp_path):
    cmp = compare({"base": small, "tighter": small.with_changes({"program.caseload_cap": 5})}, replications=3, seed=1)
    out = write_comparison(cmp, tmp_path / "cmp")
    page = check_page(out, COMPARE_FIGURES)
    assert "Inputs that differ between the scenarios" in page.headings, page.headings
    text = (out / "report.html").read_text()
    assert "program.caseload_cap" in text
    for name in ("base", "tighter"):
        check_page(out / "scenarios" / name, RUN_FIGURES)
    assert json.loads((out / "manifest.json").read_text())["kind"] == "compare"


def test_source_keys_resolve_in_sources_md():
    known = sources()
    assert "KY-SOP-6.3" in known and known["KY-SOP-6.3"][1].startswith("https://"), "sources.md table not parsed"
    assert source_keys("families per dyad [KY-SOP-6.3: 12-15]") == ["KY-SOP-6.3"]
    assert source_keys("share [gap 5: assumption]") == ["gap 5"]
    assert source_keys("rate [assumption; hand-tuned toward T6]") == ["assumption"]


# The bottom line, on small fabricated summaries ----------------------------------------------------------------

from start_sim.outputs import bottom_line as bl  # noqa: E402

SETTING = bl.Setting(dyads=10, counties=1, horizon_years=5, runout_years=3, discount_rate=0.03)


def fabricated(net: float):
    import pandas as pd

    means = {"families_started": 400, "families_diverted": 0, "share_assigned_within_14d": 0.9,
             "mean_days_to_assignment": 6.2, "placement_rate_12m_start": 0.2, "placement_rate_12m_usual": 0.3,
             "sobriety_rate_at_closure_start": 0.6, "sobriety_rate_at_closure_usual": 0.35, "program_cost": 5e6,
             "net_program_cost": 4e6, "savings_vs_usual": 4e6 + net, "net_savings": net}
    return pd.DataFrame({"mean": means, "ci_low": {k: v - 1e6 for k, v in means.items()},
                         "ci_high": {k: v + 1e6 for k, v in means.items()}})


def test_bottom_line_of_a_start_that_saves():
    text = " ".join(bl.run(fabricated(2.5e6), SETTING).sentences)
    assert "With 10 dyads, 90% of referred families are assigned to a dyad within 14 days" in text
    assert "net savings of $2.50 million" in text and "$4.00 million net of the usual casework" in text
    assert "simulation noise only; see the uncertainty analysis for parameter uncertainty" in text
    assert "needs the uncertainty analysis" in text, "without a PSA the chance must not be guessed"


def test_bottom_line_of_a_start_that_loses_money_says_so():
    out = bl.run(fabricated(-1.2e6), SETTING)
    text = " ".join(out.sentences)
    assert "a net cost of $1.20 million, as it costs more than it avoids" in text and "net savings of" not in text
    assert "families referred over 5 years, followed for 3 years more" in out.scope
    assert "Not counted: treatment costs" in out.scope


def test_bottom_line_uses_the_uncertainty_result_when_there_is_one():
    psa = bl.Psa(mean=2e6, low=-0.5e6, high=6e6, p_positive=0.87, draws=200)
    text = " ".join(bl.run(fabricated(2.5e6), SETTING, psa).sentences)
    assert "95% interval -$500,000 to $6.00 million over 200 draws" in text
    assert "The chance it saves more than it costs is 87%." in text and "simulation noise only" not in text


def test_bottom_line_without_dyads_says_nothing_is_served():
    text = " ".join(bl.run(fabricated(0).assign(mean=0.0), bl.Setting(0, 1, 2, 1, 0.03)).sentences)
    assert "no family is served by START" in text and "$" not in text


def test_bottom_line_of_the_uncertainty_analysis():
    import pandas as pd

    s = pd.DataFrame([{"output": "net_savings", "point": 1e6, "mean": -3e5, "p2.5": -2e6, "median": -2e5,
                       "p97.5": 1.5e6}, {"output": "pv_cost", "point": 4e6, "mean": 4e6, "p2.5": 3e6, "median": 4e6,
                                         "p97.5": 5e6},
                      {"output": "pv_placement_cost_avoided", "point": 5e6, "mean": 3.7e6, "p2.5": 2e6,
                       "median": 3.8e6, "p97.5": 6e6},
                      {"output": "savings_per_dollar", "point": 1.2, "mean": 0.9, "p2.5": 0.5, "median": 0.95,
                       "p97.5": 1.4},
                      {"output": "savings_per_dollar_gross", "point": 1, "mean": 0.8, "p2.5": 0.4, "median": 0.8,
                       "p97.5": 1.2}])
    text = " ".join(bl.uncertainty(s, 0.41, 200, "agency", 5, 0.03).sentences)
    assert "a net cost of $300,000" in text and "95% interval -$2.00 million to $1.50 million over 200 draws" in text
    assert "The chance it saves more than it costs is 41%." in text and "$0.95 (median" in text


def test_bottom_line_of_a_comparison_puts_outcomes_beside_savings():
    import pandas as pd

    rows = []
    for name, fam, net in (("base", 400, 1e6), ("fewer", 200, 1.5e6)):
        for k, v in {"families_started": fam, "share_assigned_within_14d": 0.9, "placement_rate_12m_start": 0.2,
                     "placement_rate_12m_usual": 0.3, "net_savings": net, "net_program_cost": 2e6}.items():
            d = {} if name == "base" else {"diff_mean": v - {"families_started": 400, "net_savings": 1e6}.get(k, v),
                                           "diff_ci_low": -1.0, "diff_ci_high": 1.0}
            rows.append({"scenario": name, "kpi": k, "mean": v, **d})
    text = " ".join(bl.compare(pd.DataFrame(rows), ["base", "fewer"], {"base": SETTING, "fewer": SETTING}).sentences)
    assert "serves 200 fewer families" in text and "net cost of $10,000 per family served" in text
    assert "a plan that serves fewer families can show larger savings while doing less" in text


def test_tornado_ticks_carry_the_decimals_their_spacing_needs():
    import matplotlib.pyplot as plt

    from start_sim.outputs.plots import money_axis

    fig, ax = plt.subplots()
    ax.set_xlim(-12.5e6, 2.5e6)
    ax.set_xticks([-12.5e6, -10e6, -7.5e6, -5e6, -2.5e6, 0, 2.5e6])
    money_axis(ax.xaxis)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    plt.close(fig)
    assert labels == ["-$12.5M", "-$10.0M", "-$7.5M", "-$5.0M", "-$2.5M", "$0.0M", "$2.5M"], labels


def test_report_with_an_uncertainty_folder_quotes_it_in_the_bottom_line(run_folder, tmp_path, capsys):
    """`start-sim report RUN --uncertainty UNC` puts the PSA interval and P(net savings > 0) in the
    run's bottom line; an uncertainty folder of another scenario is refused (exit 2)."""
    from start_sim.analyses.uncertainty import uncertainty
    from start_sim.outputs.writers import write_uncertainty

    sc = ss.Results.read(run_folder).scenario
    unc = write_uncertainty(uncertainty(sc, None, draws=4, seed=1, morris_trajectories=0, tornado_replications=1),
                            tmp_path / "unc")
    assert cli.main(["report", str(run_folder), "--uncertainty", str(unc)]) == 0
    text = (run_folder / "report.html").read_text()
    assert "over 4 draws of the effects and unit costs in the uncertainty analysis" in text
    assert "The chance it saves more than it costs is" in text
    assert "P(paid for itself)" in text, "the fiscal note shows the PSA by year"
    other = write_uncertainty(uncertainty(sc.model_copy(update={"name": "other"}), None, draws=2, seed=1,
                                          morris_trajectories=0, tornado_replications=1), tmp_path / "other")
    capsys.readouterr()
    assert cli.main(["report", str(run_folder), "--uncertainty", str(other)]) == 2
    assert "analysed the scenario 'other', not 'small'" in capsys.readouterr().err
    assert cli.main(["report", str(run_folder)]) == 0  # and back to the noise-only bottom line
