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
