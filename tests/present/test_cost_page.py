"""The cost section of the HTML report, as rendered: escaping of names from users, where
the budget and 80 % lines sit, the 80 % and 100 % markers, unknown costs, empty data;
and in a real Chromium, that the charts lay out, show their labels and log nothing."""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.core.config.costs import BudgetsConfig
from bot.core.usage.record import UsageRecord
from bot.jobs.audit import summarise
from bot.present.audit_page import render_html
from bot.present.cost_page import render_cost_section
from tests.browser import chromium, needs_chromium
from tests.usage_helpers import usage_record

NOW = datetime(2026, 3, 20, 12, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)  # 2026-02-18 12:00
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_TEAM = "<script>document.title='pwned'</script>"
HOSTILE_PERSON = '"><img\nsrc=x onerror="document.title=1">'
HOSTILE_REPO = "evil/<b>x</b>"
HOSTILE_MODEL = "<svg/onload=alert(1)>"
# Every tag the section itself writes; anything else came from data.
OUR_TAGS = {"section", "h2", "h3", "div", "b", "p", "code", "figure", "figcaption", "ul", "li"}
OUR_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "svg", "line", "text", "rect", "title"}


def rec(
    thread: str,
    dollars: str | None,
    at: datetime,
    *,
    team: str | None = "web",
    person: str = "alice",
    repo: str = "octo-org/app",
    model: str | None = "gpt-5-codex",
    pr: int = 1,
) -> UsageRecord:
    return usage_record(
        thread, recorded_at=at, tokens=(12_345, 2_000, 678, 0), dollars=dollars,
        repo=repo, pr=pr, person=person, team=team, model=model,
    )  # fmt: skip


def day(month: int, d: int, hour: int = 10) -> datetime:
    return datetime(2026, month, d, hour, tzinfo=UTC)


def budgets(**teams: str | tuple[str, str]) -> BudgetsConfig:
    data = {
        name: {"monthly_usd": v} if isinstance(v, str) else {"monthly_usd": v[0], "level": v[1]}
        for name, v in teams.items()
    }
    return BudgetsConfig.model_validate(
        {"teams": data, "repos": {"octo-org/app": {"monthly_usd": 500}}}
    )


def section(records: list[UsageRecord], config: BudgetsConfig | None, **kw: object) -> str:
    return render_cost_section(records, since=SINCE, until=NOW, budgets=config, **kw)  # type: ignore[arg-type]


def charts(page: str) -> dict[str, ET.Element]:
    """Each team chart, parsed as XML, by its figure caption's team name (unescaped)."""
    found = {}
    for caption, svg in re.findall(r"<figcaption>Team (.*?)</figcaption>(<svg.*?</svg>)", page):
        found[ET.fromstring(f"<x>{caption}</x>").text or ""] = ET.fromstring(svg)
    return found


def one(svg: ET.Element, tag: str, cls: str) -> ET.Element:
    hits = [e for e in svg.iter(SVG + tag) if e.get("class") == cls]
    assert len(hits) == 1, (tag, cls, len(hits))
    return hits[0]


def bars(svg: ET.Element) -> dict[str, ET.Element]:
    return {b.get("data-day", ""): b for b in svg.iter(SVG + "rect") if b.get("class") == "spend"}


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs.update(name for name, _ in attrs)


# ---------------------------------------------------------------- escaping


def hostile_records() -> list[UsageRecord]:
    return [
        rec("h1", "40.00", day(3, 2), team=HOSTILE_TEAM, person=HOSTILE_PERSON, repo=HOSTILE_REPO),
        rec("h2", None, day(3, 3), team=HOSTILE_TEAM, person=HOSTILE_PERSON, model=HOSTILE_MODEL),
        rec("h3", "1.00", day(3, 4), team="web"),
    ]


def test_names_from_users_are_escaped_and_no_tag_comes_from_data() -> None:
    page = section(hostile_records(), budgets(**{HOSTILE_TEAM: "50"}))
    parser = Tags()
    parser.feed(page)
    assert parser.tags <= OUR_TAGS
    assert not {a for a in parser.attrs if a.startswith("on")}
    for raw in ("<script", "<img", "<b>x</b>", "<svg/onload"):
        assert raw not in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=&quot;document.title=1&quot;&gt;" in page  # one line
    assert "evil/&lt;b&gt;x&lt;/b&gt;" in page and "&lt;svg/onload=alert(1)&gt;" in page
    assert HOSTILE_TEAM in charts(page)  # its chart, with its budget, under its escaped name
    assert one(charts(page)[HOSTILE_TEAM], "line", "budget").get("data-usd") == "50.00"


# ---------------------------------------------------------------- budget lines and markers


def crossing_records() -> list[UsageRecord]:
    """Team web, budget $100: February reaches 90 %; March passes 80 % on the 5th and 100 %
    on the 9th. The $10 of February 10th is before the window but counts for February."""
    spend = [("feb-10", 2, 10, "10.00"), ("feb-20", 2, 20, "30.00"), ("feb-25", 2, 25, "50.00")]
    spend += [("mar-2", 3, 2, "50.00"), ("mar-5", 3, 5, "35.00"), ("mar-9", 3, 9, "15.00")]
    spend += [("mar-12", 3, 12, "5.00")]
    return [rec(t, usd, day(m, d)) for t, m, d, usd in spend]


def test_budget_and_80_percent_lines_sit_at_their_amounts() -> None:
    svg = charts(section(crossing_records(), budgets(web="100")))["web"]
    base = float(one(svg, "line", "x-axis").get("y1", ""))
    full = one(svg, "line", "budget")
    eighty = one(svg, "line", "budget-80")
    assert (full.get("data-usd"), eighty.get("data-usd")) == ("100.00", "80.00")
    y100, y80 = float(full.get("y1", "")), float(eighty.get("y1", ""))
    assert full.get("y2") == full.get("y1") and eighty.get("y2") == eighty.get("y1")
    assert y100 < y80 < base
    assert base - y80 == pytest.approx(0.8 * (base - y100), abs=0.15)
    at_budget = bars(svg)["2026-03-09"]  # $50 + $35 + $15: exactly the budget
    assert at_budget.get("data-usd") == "100.00"
    assert float(at_budget.get("y", "")) == pytest.approx(y100, abs=0.15)
    assert one(svg, "text", "budget-label").text == "budget $100.00"
    assert one(svg, "text", "budget-80-label").text == "80 %"


def test_months_restart_and_count_from_their_first_day() -> None:
    svg = charts(section(crossing_records(), budgets(web="100")))["web"]
    by_day = {d: b.get("data-usd") for d, b in bars(svg).items()}
    assert min(by_day) == "2026-02-18" and max(by_day) == "2026-03-20"
    assert by_day["2026-02-18"] == "10.00"  # spent on Feb 10th, before the window
    assert by_day["2026-02-28"] == "90.00"
    assert by_day["2026-03-01"] == "0.00"
    assert by_day["2026-03-12"] == "105.00"


def test_80_and_100_percent_markers_mark_the_day_each_was_passed() -> None:
    page = section(crossing_records(), budgets(web="100"))
    svg = charts(page)["web"]
    markers = {
        (e.get("class"), e.findtext(SVG + "title"))
        for e in svg.iter(SVG + "text")
        if (e.get("class") or "").startswith("marker")
    }
    assert markers == {
        ("marker marker-80", "passed 80 % of the budget on 2026-02-25"),
        ("marker marker-80", "passed 80 % of the budget on 2026-03-05"),
        ("marker marker-100", "passed 100 % of the budget on 2026-03-09"),
    }
    fills = {d: b.get("fill") for d, b in bars(svg).items()}
    assert fills["2026-03-04"] != fills["2026-03-05"] != fills["2026-03-09"] != fills["2026-03-04"]
    rows = re.findall(r"<tr><td>team</td><td>web</td>(.*?)</tr>", page)
    assert [re.sub(r"<[^>]+>", "|", r).strip("|").split("||") for r in rows] == [
        ["February 2026", "$90.00", "$100.00", "90 %", "passed 80 %", "warning"],
        ["March 2026", "$105.00", "$100.00", "105 %", "passed 100 %", "warning"],
    ]
    assert '<td>repo</td><td>octo-org/app</td><td>March 2026</td><td class="n">$105.00' in page


def test_without_a_budget_config_the_chart_says_so_and_draws_no_budget() -> None:
    page = section(crossing_records(), None)
    assert "No budget configuration was given" in page
    svg = charts(page)["web"]
    assert not [e for e in svg.iter(SVG + "line") if "budget" in (e.get("class") or "")]
    assert not [e for e in svg.iter(SVG + "text") if "marker" in (e.get("class") or "")]
    assert "<h3>Budgets</h3>" not in page
    with_other = section(crossing_records(), budgets(data="10"))
    assert "No budget is set for this team." in with_other
    assert "No budget configuration was given" not in with_other


# ---------------------------------------------------------------- tables, unknown cost, empty


def test_tables_count_only_the_window_and_unknown_cost_is_never_zero() -> None:
    records = [
        rec("old", "7.00", day(2, 10)),  # this month's budget, but before the window
        rec("a", "0.30", day(3, 1), person="alice"),
        rec("b", None, day(3, 2), person="bob", model="mystery", team=None),
    ]
    page = section(records, budgets(web="100"))
    person = page.split("<h3>By person</h3>")[1].split("</table>")[0]
    assert '<td>alice</td><td class="n">1</td>' in person
    assert '<td>bob</td><td class="n">1</td><td class="n">1</td><td class="n">12,345</td>' in person
    model = page.split("<h3>By model</h3>")[1].split("</table>")[0]
    assert re.search(
        r"<td>mystery</td>(<td class=\"n\">[^<]*</td>){5}<td class=\"n\">unknown</td>", model
    )
    assert "$0.00" not in model
    assert "<b>$0.30 + unknown</b>spent" in page
    assert "their cost is unknown" in page
    assert "<figcaption>Team (no team)</figcaption><p>No priced spend.</p>" in page
    assert "(no team)" not in charts(page)  # nothing priced: no chart of $0
    only_unknown = section([records[2]], None)
    assert "<b>unknown</b>spent" in only_unknown and "<svg" not in only_unknown


def test_no_records_in_the_window_says_so() -> None:
    for records in ([], [rec("old", "7.00", day(2, 10))]):
        page = section(records, budgets(web="100"))
        assert "No Codex usage recorded in this window." in page
        assert "<svg" not in page and "<table" not in page


def test_a_repository_filter_keeps_that_repository_alone() -> None:
    records = [rec("a", "1.00", day(3, 1)), rec("b", "2.00", day(3, 2), repo="octo-org/other")]
    page = section(records, None, repo="OCTO-ORG/app")
    assert "Only OCTO-ORG/app counts here" in page
    assert "octo-org/other" not in page and "<b>$1.00</b>spent" in page


def test_the_report_page_carries_the_section_after_the_audit() -> None:
    summary = summarise([], since=SINCE, until=NOW)
    extra = section(crossing_records(), budgets(web="100"))
    page = render_html(summary, extra_section=extra)
    assert extra in page and page.index("No Codex pull requests") < page.index(extra)
    assert render_html(summary, extra_section=None) == render_html(summary)


# ---------------------------------------------------------------- real browser

# The harness measures the report in a frame of the same origin, so the report itself
# runs as written: its Content-Security-Policy still forbids every script in it.
HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>harness</title><script>
function measure(frame) {
  const doc = frame.contentDocument, view = doc.defaultView;
  const box = (e) => { const r = e.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height}; };
  const shown = (e) => { const s = view.getComputedStyle(e);
    return s.display !== "none" && s.visibility === "visible" && Number(s.opacity) > 0; };
  const texts = (svg, sel) => [...svg.querySelectorAll(sel)].map(
    (t) => ({cls: t.getAttribute("class"), text: t.textContent, box: box(t), shown: shown(t)}));
  const charts = [...doc.querySelectorAll("svg.cost-chart")].map((svg) => ({
    label: svg.getAttribute("aria-label"), box: box(svg), shown: shown(svg),
    labels: texts(svg, "text.axis-label, text.y-tick, text.x-tick, text[class$=label]"),
    lines: [...svg.querySelectorAll("line.budget, line.budget-80")].map(
      (l) => ({cls: l.getAttribute("class"), box: box(l), shown: shown(l)})),
    bars: [...svg.querySelectorAll("rect.spend")].map((b) => ({usd: b.dataset.usd, box: box(b)})),
  }));
  document.getElementById("result").textContent = JSON.stringify(
    {title: doc.title, charts: charts});
}
</script></head><body><iframe src="report.html" width="1200" height="4000"
onload="measure(this)"></iframe><pre id="result"></pre></body></html>"""


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Requests are not worth a line each in the test output."""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`tmp_path/site` on a loopback HTTP server; yields its base URL and the folder."""
    site = tmp_path / "site"
    site.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}", site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@needs_chromium
def test_the_cost_chart_renders_in_a_real_browser(served: tuple[str, Path], tmp_path: Path) -> None:
    base, site = served
    records = [*crossing_records(), *hostile_records()[:2]]  # web reaches $100 on Mar 9
    extra = section(records, budgets(web="100", **{HOSTILE_TEAM: ("50", "error")}))
    (site / "report.html").write_text(render_html(summarise([], until=NOW), extra_section=extra))
    (site / "harness.html").write_text(HARNESS)
    result = chromium(
        tmp_path / "profile",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        f"{base}/harness.html",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no script error, no CSP violation, nothing fetched and refused
    found = re.search(r'<pre id="result">(.*?)</pre>', result.stdout, re.S)
    assert found and found.group(1), result.stdout[-2000:]
    data = json.loads(ET.fromstring(f"<x>{found.group(1)}</x>").text or "")
    assert data["title"] == "codex-guard audit report"  # the hostile team's script never ran
    assert len(data["charts"]) == 2
    web = next(c for c in data["charts"] if c["label"].startswith("web:"))
    for chart in data["charts"]:
        svg = chart["box"]
        assert chart["shown"] and svg["w"] >= 700 and svg["h"] >= 200
        for label in chart["labels"]:
            b = label["box"]
            assert label["shown"] and b["w"] > 0 and b["h"] > 0, label
            assert svg["x"] - 1 <= b["x"] and b["x"] + b["w"] <= svg["x"] + svg["w"] + 1, label
            assert svg["y"] - 1 <= b["y"] and b["y"] + b["h"] <= svg["y"] + svg["h"] + 1, label
        texts = {label["text"] for label in chart["labels"]}
        assert {"day (UTC)", "USD this month", "80 %"} <= texts
        assert "$0" in texts and any(t.startswith("Mar ") for t in texts)
    assert "budget $100.00" in {label["text"] for label in web["labels"]}
    lines = {line["cls"]: line for line in web["lines"]}
    assert set(lines) == {"budget", "budget-80"}
    for line in lines.values():
        assert line["shown"] and line["box"]["w"] > 400
    at_budget = next(b for b in web["bars"] if b["usd"] == "100.00")
    assert at_budget["box"]["y"] == pytest.approx(lines["budget"]["box"]["y"], abs=1.5)
    assert lines["budget"]["box"]["y"] < lines["budget-80"]["box"]["y"]
    assert all(b["box"]["w"] > 5 for b in web["bars"])
