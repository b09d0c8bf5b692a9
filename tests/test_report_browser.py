"""The HTML report in headless Chromium: it renders, its plots load, the explorer sorts and filters, no script
injected through the data runs.

A probe script is added to a copy of the page: it records alert() calls made by anything (a successful
injection would call it), reads the leaderboard and plots, clicks an explorer header and writes what it saw
into the DOM, which ``--dump-dom`` returns.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from leser_bench.report.browser import chromium_path, dump_dom, full_page_screenshot, screenshot
from report_fixture import IMG, SCRIPT, TEMPLATE, build_run_dir

pytestmark = pytest.mark.skipif(chromium_path() is None,
                                reason="Chromium not found (Debian: apt-get install chromium; or set $CHROMIUM)")

TRAP = '<script id="test-trap">window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };</script>'
PROBE = """<script id="test-probe">
window.addEventListener("load", function () {
  var out = {alerts: window.__alerts};
  var ids = function () {
    return Array.prototype.map.call(document.querySelectorAll("#explorer tbody tr[data-query-id]"),
                                    function (r) { return r.getAttribute("data-query-id"); });
  };
  var board = document.getElementById("leaderboard");
  out.leaderboardRows = board ? board.tBodies[0].rows.length : 0;
  out.plots = Array.prototype.map.call(document.querySelectorAll("figure.plot img"),
                                       function (i) { return [i.parentNode.id, i.complete, i.naturalWidth]; });
  out.before = ids();
  var header = document.querySelector('#explorer th[data-key^="d:"]');
  out.header = header.textContent;
  header.click();
  out.after = ids();
  out.ariaSort = document.querySelector('#explorer th[data-key^="d:"]').getAttribute("aria-sort");
  document.querySelector('#explorer th[data-key^="d:"]').click();
  out.reversed = ids();
  var filter = document.getElementById("explorer-filter");
  filter.value = "query 1";
  filter.dispatchEvent(new Event("input"));
  out.filtered = ids();
  filter.value = "";
  filter.dispatchEvent(new Event("input"));
  document.querySelector("#explorer button.toggle").click();
  out.detail = document.querySelector("#explorer tr.detail").textContent;
  out.alertsAfter = window.__alerts;
  var pre = document.createElement("pre");
  pre.id = "probe-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_run_dir(tmp_path_factory.mktemp("browser_run"))


@pytest.fixture(scope="module")
def probe(run_dir: Path) -> dict:
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    probed = run_dir / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + TRAP, 1).replace("</body>", PROBE + "</body>", 1),
                      encoding="utf-8")
    dom = lxml.html.document_fromstring(dump_dom(probed))
    return json.loads(dom.get_element_by_id("probe-result").text_content())


def test_screenshot_shows_a_rendered_page(run_dir: Path, tmp_path: Path) -> None:
    from PIL import Image

    png = screenshot(run_dir / "report.html", tmp_path / "report.png", width=1200, height=1400)
    image = Image.open(png).convert("L")
    assert image.size == (1200, 1400)
    low, high = image.getextrema()
    assert high - low > 100  # text and tables, not a blank page
    assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 20


def test_full_page_screenshot_holds_the_whole_report(run_dir: Path, tmp_path: Path) -> None:
    """issue 16: the whole page through Playwright (driving the same Chromium), not its first pixels."""
    pytest.importorskip("playwright", reason="needs Playwright (the dev extra)")
    from PIL import Image

    png = full_page_screenshot(run_dir / "report.html", tmp_path / "full.png", width=1200)
    image = Image.open(png).convert("L")
    assert image.size[0] == 1200 and image.size[1] > 3000  # a report is far taller than one window
    bottom = image.crop((0, image.size[1] - 400, 1200, image.size[1]))
    low, high = bottom.getextrema()
    assert high - low > 100  # the page's end is rendered too, not blank


def test_leaderboard_and_plots_render(probe: dict) -> None:
    assert probe["leaderboardRows"] == 3
    plots = {key: (complete, width) for key, complete, width in probe["plots"]}
    assert set(plots) == {"plot-measures", "plot-recall", "plot-diffs", "plot-training"}
    assert all(complete and width > 100 for complete, width in plots.values())


def test_explorer_sorts_on_header_click(probe: dict) -> None:
    assert sorted(probe["before"]) == sorted(probe["after"]) == sorted(probe["reversed"])
    assert len(probe["before"]) == 16
    assert probe["after"] != probe["before"]
    assert probe["ariaSort"] == "descending"
    assert probe["reversed"] != probe["after"]
    assert probe["header"].startswith("Δ prf")


def test_explorer_filters_and_shows_hostile_text_as_text(probe: dict) -> None:
    assert sorted(probe["filtered"]) == ["q01"] + [f"q1{i}" for i in range(6)]
    detail = probe["detail"]
    assert "rewrite" in detail and any(s in detail for s in (SCRIPT, IMG, TEMPLATE))


def test_no_injected_script_ran(probe: dict) -> None:
    assert probe["alerts"] == [] and probe["alertsAfter"] == []
