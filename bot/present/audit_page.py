"""The audit summary as one self-contained HTML page with SVG bar charts.

It is opened from disk or mailed around, so it loads nothing from the network
(no external CSS, JS or fonts) and carries a Content-Security-Policy that
forbids scripts. Repository names, logins, rule ids and override reasons come
from GitHub users: every one of them is escaped.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from html import escape

from bot.present.audit_summary import GroupSummary, Summary, percent, practice_ids

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1f2328}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
.muted{color:#59636e}.kpis{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.kpi{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.kpi b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;margin:.8rem 0}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}
.legend span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
"""
_GREEN = "#1a7f37"
_RED = "#cf222e"
_BLUE = "#0969da"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label and stacked segments of (value, colour, meaning)."""

    label: str
    segments: tuple[tuple[float, str, str], ...]
    note: str


def bar_chart(caption: str, bars: list[Bar], scale: float, label_width: int = 230) -> str:
    """A horizontal (stacked) bar chart as inline SVG, every text escaped."""
    if not bars:
        return ""
    row, width = 24, 760
    bar_width = width - label_width - 160
    height = row * len(bars) + 8
    parts = [
        f"<figure><figcaption>{_e(caption)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{_e(caption)}">'
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">'
            f"<title>{_e(bar.label)}</title>{_e(_short(bar.label))}</text>"
        )
        x = float(label_width)
        for value, colour, meaning in bar.segments:
            w = 0.0 if scale <= 0 else max(0.0, value) / scale * bar_width
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                    f'fill="{colour}"><title>{_e(bar.label)}: {_e(meaning)}</title></rect>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{_e(bar.note)}</text>')
    parts.append("</svg></figure>")
    return "".join(parts)


def table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], numeric: Container[int] = ()
) -> str:
    """A table of plain-text cells, every one escaped (integers grouped by thousands);
    columns in `numeric` align right."""

    def cells(values: Sequence[object], tag: str) -> str:
        out = []
        for i, value in enumerate(values):
            text = _e(f"{value:,}" if type(value) is int else value)
            out.append(
                f'<{tag} class="n">{text}</{tag}>' if i in numeric else f"<{tag}>{text}</{tag}>"
            )
        return "".join(out)

    body = "".join(f"<tr>{cells(row, 'td')}</tr>" for row in rows)
    return f"<table><thead><tr>{cells(columns, 'th')}</tr></thead><tbody>{body}</tbody></table>"


def _legend(*items: tuple[str, str]) -> str:
    spans = "".join(f'<span style="background:{c}"></span>{_e(t)}' for c, t in items)
    return f'<p class="legend muted">{spans}</p>'


def _pr_bars(groups: dict[str, GroupSummary]) -> tuple[list[Bar], float]:
    bars = [
        Bar(
            g.name,
            (
                (g.passing_prs, _GREEN, f"{g.passing_prs} passing"),
                (g.codex_prs - g.passing_prs, _RED, f"{g.codex_prs - g.passing_prs} failing"),
            ),
            f"{g.codex_prs} ({percent(g.passing_prs / g.codex_prs)} passing)",
        )
        for g in sorted(groups.values(), key=lambda g: (-g.codex_prs, g.name.lower()))
        if g.codex_prs
    ][:30]
    return bars, max((g.codex_prs for g in groups.values()), default=0)


def _group_table(title: str, groups: dict[str, GroupSummary], order: list[str]) -> str:
    rows = [g for g in groups.values() if g.codex_prs or g.other_prs]
    if not rows:
        return ""
    head = "".join(f'<th class="n">{_e(p)}</th>' for p in order)
    out = [
        f"<h2>{_e(title)}</h2><table><thead><tr><th>name</th>"
        f'<th class="n">Codex PRs</th><th class="n">passing</th>{head}'
        f'<th>most common findings</th><th class="n">overrides</th></tr></thead><tbody>'
    ]
    for g in rows:
        cells = []
        for practice in order:
            stats = g.practices.get(practice)
            rate = stats.pass_rate if stats else None
            detail = (
                f"{stats.passed} pass, {stats.warned} warn, {stats.failed} fail"
                if stats
                else "not judged"
            )
            cells.append(f'<td class="n" title="{_e(detail)}">{_e(percent(rate))}</td>')
        findings = ", ".join(f"{_e(rule)} ({n})" for rule, n in g.top_findings(3))
        passing = percent(g.passing_prs / g.codex_prs) if g.codex_prs else "n/a"
        out.append(
            f'<tr><td>{_e(g.name)}</td><td class="n">{g.codex_prs}</td>'
            f'<td class="n">{_e(passing)}</td>{"".join(cells)}'
            f'<td>{findings}</td><td class="n">{len(g.overrides)}</td></tr>'
        )
    out.append("</tbody></table>")
    return "".join(out)


def render_html(
    summary: Summary, title: str = "codex-guard audit report", extra_section: str | None = None
) -> str:
    """The whole page; a string of UTF-8 HTML with nothing to fetch.

    `extra_section` is HTML made by another renderer of this package (the cost section of
    `bot.present.cost_page`), placed after the audit; never text from a user.
    """
    order = practice_ids(summary)
    overall = summary.overall
    window = (
        f"since {summary.since:%Y-%m-%d %H:%M} UTC" if summary.since is not None else "all time"
    )
    passing = percent(overall.passing_prs / overall.codex_prs) if overall.codex_prs else "n/a"
    body: list[str] = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">{_e(window)}, up to {summary.until:%Y-%m-%d %H:%M} UTC; '
        f"{summary.records} evaluations.</p>",
        '<div class="kpis">',
        f'<div class="kpi"><b>{overall.codex_prs}</b>Codex PRs</div>',
        f'<div class="kpi"><b>{_e(passing)}</b>passing (latest evaluation)</div>',
        f'<div class="kpi"><b>{len(overall.overrides)}</b>overrides</div>',
        f'<div class="kpi"><b>{overall.other_prs}</b>other PRs</div>',
        "</div>",
    ]
    if not overall.codex_prs:
        body.append("<p>No Codex pull requests in this window.</p>")
    else:
        rate_bars = []
        for practice in order:
            stats = overall.practices.get(practice)
            if not stats or not stats.evaluated:
                continue
            rate = stats.pass_rate or 0.0
            rate_bars.append(
                Bar(
                    practice,
                    (
                        (rate * 100, _GREEN, f"{stats.passed} passed"),
                        (100 - rate * 100, _RED, f"{stats.warned + stats.failed} did not"),
                    ),
                    f"{percent(stats.pass_rate)} of {stats.evaluated}",
                )
            )
        body.append("<h2>Practices</h2>")
        body.append(_legend((_GREEN, "passed"), (_RED, "warned or failed")))
        body.append(bar_chart("Pass rate of each practice (Codex PRs)", rate_bars, 100.0))
        repo_bars, repo_max = _pr_bars(summary.by_repository)
        person_bars, person_max = _pr_bars(summary.by_person)
        body.append("<h2>Codex pull requests</h2>")
        body.append(_legend((_GREEN, "passing"), (_RED, "failing")))
        body.append(bar_chart("Codex PRs by repository", repo_bars, repo_max))
        body.append(bar_chart("Codex PRs by person", person_bars, person_max))
        findings = overall.top_findings(10)
        if findings:
            top = findings[0][1]
            body.append("<h2>Most common findings</h2>")
            body.append(
                bar_chart(
                    "Rules found, by number of Codex PRs",
                    [Bar(rule, ((n, _BLUE, f"{n} PRs"),), str(n)) for rule, n in findings],
                    top,
                )
            )
    body.append(_group_table("By repository", summary.by_repository, order))
    body.append(_group_table("By person", summary.by_person, order))
    if overall.overrides:
        body.append(
            "<h2>Overrides</h2><table><thead><tr><th>pull request</th><th>practice</th>"
            "<th>by</th><th>reason</th></tr></thead><tbody>"
        )
        for o in overall.overrides:
            body.append(
                f"<tr><td>{_e(o.repository)}#{o.pr}</td><td>{_e(o.practice)}</td>"
                f"<td>@{_e(o.by)}</td><td>{_e(o.reason)}</td></tr>"
            )
        body.append("</tbody></table>")
    if extra_section:
        body.append(extra_section)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
