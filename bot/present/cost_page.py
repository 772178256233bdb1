"""The cost section of `codex-guard report --html`: what Codex spent, per team, person,
repository and model, and each team's month-to-date spend against its monthly budget.

Pure over `UsageRecord`s, so the CLI and tests share one rendering. Budgets are per
calendar month (UTC), so the caller passes the records from the first day of the
window's first month: the tables count only the window, the charts count each month
from its first day. Team, person, repository and model names are user text: each is
made one line and escaped. A thread whose model has no price shows its tokens and an
"unknown" cost, never $0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from html import escape
from math import ceil, floor, log10
from typing import Literal

from bot.core.config.costs import Budget, BudgetsConfig
from bot.core.usage.rates import dollars
from bot.core.usage.record import UsageRecord
from bot.present.audit_page import table
from bot.present.audit_summary import one_line
from bot.present.cost_summary import (
    NO_TEAM,
    CostRow,
    GroupBy,
    budget_status,
    summarise_costs,
    total_row,
)

MAX_CHARTS = 12
MAX_ROWS = 50
MAX_DAYS = 366
_W, _H = 760, 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 76, 128, 18, 40
_PLOT_W, _PLOT_H = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
_BLUE, _AMBER, _RED, _GREY, _INK = "#0969da", "#9a6700", "#cf222e", "#d0d7de", "#59636e"
_STATUS = {"none": "under 80 %", "80": "passed 80 %", "100": "passed 100 %"}
_TABLES: tuple[GroupBy, ...] = ("team", "person", "repo", "model")


def _e(text: object, limit: int = 80) -> str:
    return escape(one_line(str(text), limit), quote=True)


def _cost(row: CostRow) -> str:
    """Dollars of the priced threads; "unknown" when none was priced, never $0."""
    if row.threads and row.unpriced_threads == row.threads:
        return "unknown"
    return dollars(row.dollars) + (" + unknown" if row.unpriced_threads else "")


def month_to_date(records: Sequence[UsageRecord], days: Sequence[date]) -> list[Decimal]:
    """Priced dollars spent in each day's calendar month up to the end of that day."""
    daily: dict[date, Decimal] = defaultdict(Decimal)
    for r in records:
        if r.dollars is not None:
            daily[r.recorded_at.date()] += r.dollars
    out: list[Decimal] = []
    running = Decimal(0)
    for i, day in enumerate(days):
        if i == 0 or day.day == 1:
            month_start = day.replace(day=1)
            running = sum((v for d, v in daily.items() if month_start <= d < day), Decimal(0))
        running += daily.get(day, Decimal(0))
        out.append(running)
    return out


def _scale(top: float) -> tuple[float, float]:
    """A round axis maximum above `top` and its tick step (1, 2, 2.5 or 5 x 10^k)."""
    top = max(top * 1.08, 1.0)
    magnitude = 10 ** floor(log10(top / 5))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if top / (m * magnitude) <= 5)
    return ceil(top / step - 1e-9) * step, step


def team_chart(
    team: str, days: Sequence[date], spend: Sequence[Decimal], budget: Budget | None
) -> str:
    """Stepped bars of one team's month-to-date spend per day, with its budget and 80 % lines.

    Bars past 80 % and 100 % change colour and carry a text marker on the day the line
    was passed, so the chart reads without colour too.
    """
    limit = float(budget.monthly_usd) if budget is not None else None
    top, step = _scale(max([float(max(spend, default=0)), limit or 0.0]))
    base = _TOP + _PLOT_H

    def y(value: float) -> float:
        return base - value / top * _PLOT_H

    bar = _PLOT_W / max(1, len(days))
    label = f"{team}: spend this month to date, per day" + (
        f", against a budget of {dollars(budget.monthly_usd)}" if budget else ", no budget"
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="cost-chart" role="img" width="{_W}" '
        f'height="{_H}" viewBox="0 0 {_W} {_H}" aria-label="{_e(label, 240)}">'
    ]
    for i in range(round(top / step) + 1):
        ty, tick = y(i * step), f"${i * step:,.2f}" if step % 1 else f"${i * step:,.0f}"
        parts.append(
            f'<line x1="{_LEFT}" y1="{ty:.1f}" x2="{_LEFT + _PLOT_W}" y2="{ty:.1f}" '
            f'stroke="{_GREY}"/><text class="y-tick" x="{_LEFT - 6}" y="{ty + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    every = max(1, ceil(len(days) / 8))
    passed: set[tuple[int, int, str]] = set()
    for i, (day, value) in enumerate(zip(days, spend, strict=True)):
        x = _LEFT + i * bar
        if day.day == 1 or i == 0:
            parts.append(
                f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{base}" stroke="{_INK}" '
                f'stroke-dasharray="1 3"/><text class="month" x="{x + 3:.1f}" y="{_TOP - 5}">'
                f"{day:%b %Y}</text>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="x-tick" x="{x + bar / 2:.1f}" y="{base + 15}" '
                f'text-anchor="middle">{day:%b %d}</text>'
            )
        crossed = "none" if budget is None else budget_status(team, "team", value, budget).crossed
        colour = {"none": _BLUE, "80": _AMBER, "100": _RED}[crossed]
        height = float(value) / top * _PLOT_H
        gap = 1.0 if bar > 3 else 0.0
        parts.append(
            f'<rect class="spend" data-day="{day.isoformat()}" data-usd="{value:.2f}" '
            f'x="{x + gap / 2:.1f}" y="{base - height:.1f}" width="{bar - gap:.1f}" '
            f'height="{height:.1f}" fill="{colour}"><title>{day.isoformat()}: '
            f"{dollars(value)} spent this month</title></rect>"
        )
        if crossed != "none" and (day.year, day.month, crossed) not in passed:
            passed.add((day.year, day.month, crossed))
            parts.append(
                f'<text class="marker marker-{crossed}" x="{x + bar / 2:.1f}" '
                f'y="{base - height - 4:.1f}" text-anchor="middle"><title>passed {crossed} % '
                f"of the budget on {day.isoformat()}</title>▲{crossed} %</text>"
            )
    parts.append(
        f'<line class="x-axis" x1="{_LEFT}" y1="{base}" x2="{_LEFT + _PLOT_W}" y2="{base}" '
        f'stroke="{_INK}"/><line class="y-axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" '
        f'y2="{base}" stroke="{_INK}"/>'
        f'<text class="axis-label" x="{_LEFT + _PLOT_W / 2:.1f}" y="{_H - 4}" '
        f'text-anchor="middle">day (UTC)</text><text class="axis-label" '
        f'transform="translate(14 {_TOP + _PLOT_H / 2:.1f}) rotate(-90)" '
        f'text-anchor="middle">USD this month</text>'
    )
    if budget is not None and limit is not None:
        full, eighty = y(limit), y(limit * 0.8)
        lines = (
            ("budget", full, full, _RED, "8 4", f"budget {dollars(budget.monthly_usd)}"),
            ("budget-80", eighty, max(eighty, full + 13), _AMBER, "2 3", "80 %"),
        )
        for cls, ly, text_y, colour, dash, text in lines:
            usd = budget.monthly_usd * (1 if cls == "budget" else Decimal("0.8"))
            parts.append(
                f'<line class="{cls}" data-usd="{usd:.2f}" x1="{_LEFT}" y1="{ly:.1f}" '
                f'x2="{_LEFT + _PLOT_W}" y2="{ly:.1f}" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}"/><text class="{cls}-label" '
                f'x="{_LEFT + _PLOT_W + 6}" y="{text_y + 4:.1f}">{text}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _budget_table(
    records: Sequence[UsageRecord], budgets: BudgetsConfig, months: Sequence[date]
) -> str:
    """Each budgeted team and repository in each month of the window, spent so far."""
    spent: dict[tuple[str, str | None, date], Decimal] = defaultdict(Decimal)
    for r in records:
        if r.dollars is not None:
            month = r.recorded_at.date().replace(day=1)
            spent["team", r.team, month] += r.dollars
            spent["repo", r.repo.lower(), month] += r.dollars
    named: list[tuple[Literal["team", "repo"], str, Budget]] = [
        *(("team", n, b) for n, b in budgets.teams.items()),
        *(("repo", n, b) for n, b in budgets.repos.items()),
    ]
    rows = []
    for kind, name, budget in named:
        for month in months:
            key = name if kind == "team" else name.lower()
            s = budget_status(name, kind, spent[kind, key, month], budget)
            rows.append([kind, one_line(name), f"{month:%B %Y}", dollars(s.spent)])
            rows[-1] += [dollars(s.budget), f"{s.percent} %", _STATUS[s.crossed], s.level]
    if not rows:
        return "<p>The configuration sets no team or repository budgets.</p>"
    columns = ("kind", "name", "month", "spent", "budget", "used", "status", "level")
    return "<h3>Budgets</h3>" + table(columns, rows, {3, 4, 5})


def _teams(records: Sequence[UsageRecord]) -> list[str | None]:
    """Teams of the records (None: no team), most priced dollars first, then by name."""
    spent: dict[str | None, Decimal] = defaultdict(Decimal)
    for r in records:
        spent[r.team] += r.dollars or Decimal(0)
    return sorted(spent, key=lambda t: (-spent[t], t is None, (t or "").lower(), t or ""))


def _figures(
    upto: Sequence[UsageRecord],
    window: Sequence[UsageRecord],
    days: Sequence[date],
    budgets: BudgetsConfig | None,
) -> list[str]:
    """A chart per team with priced spend in the window, most dollars first."""
    out = []
    teams = _teams(window)
    for team in teams[:MAX_CHARTS]:
        shown = NO_TEAM if team is None else team
        spend = month_to_date([r for r in upto if r.team == team], days)
        budget = budgets.teams.get(team) if budgets is not None and team is not None else None
        notes = ["No budget is set for this team."] if budgets and budget is None else []
        unpriced = sum(1 for r in window if r.team == team and r.dollars is None)
        if unpriced:
            notes.append(f"{unpriced:,} thread(s) with an unknown cost are not in the bars.")
        chart = team_chart(shown, days, spend, budget) if any(spend) else ""
        items = "".join(f'<li class="note">{_e(n, 200)}</li>' for n in notes)
        out.append(
            f'<figure class="team-cost"><figcaption>Team {_e(shown)}</figcaption>'
            f"{chart or '<p>No priced spend.</p>'}<ul>{items}</ul></figure>"
        )
    if len(teams) > MAX_CHARTS:
        out.append(f'<p class="muted">{len(teams) - MAX_CHARTS} more teams are in the table.</p>')
    return out


def _cost_table(by: GroupBy, rows: Sequence[CostRow]) -> str:
    columns = (by, "threads", "PRs", "input", "cached", "output", "cost", "unpriced")
    fields = ("threads", "prs", "input_tokens", "cached_input_tokens", "output_tokens")
    cells = [
        [one_line(r.key), *(getattr(r, f) for f in fields), _cost(r), r.unpriced_threads]
        for r in rows[:MAX_ROWS]
    ]
    more = len(rows) - MAX_ROWS
    note = f'<p class="muted">and {more} more not shown.</p>' if more > 0 else ""
    title = "repository" if by == "repo" else by
    return f"<h3>By {title}</h3>" + table(columns, cells, range(1, 8)) + note


def render_cost_section(
    records: Sequence[UsageRecord],
    *,
    since: datetime,
    until: datetime,
    budgets: BudgetsConfig | None,
    repo: str | None = None,
) -> str:
    """The section's HTML: totals, a budget chart per team, budget status and tables.

    `records` may start before `since` (at the first day of its month) so that month
    counts against its budget from day one; only `[since, until)` fills the tables.
    `repo` keeps only that repository's threads (case-insensitive), and says so.
    """
    upto = [r for r in records if r.recorded_at < until]
    upto = [r for r in upto if repo is None or r.repo.lower() == repo.lower()]
    window = [r for r in upto if r.recorded_at >= since]
    out = ['<section id="costs"><h2>Codex cost</h2>']
    if not window:
        out.append("<p>No Codex usage recorded in this window.</p></section>")
        return "".join(out)
    total = total_row(summarise_costs(window, "team"))
    out.append(
        '<div class="kpis">'
        f'<div class="kpi"><b>{_cost(total)}</b>spent</div>'
        f'<div class="kpi"><b>{total.threads:,}</b>Codex threads</div>'
        f'<div class="kpi"><b>{total.input_tokens:,}</b>input tokens '
        f"({total.cached_input_tokens:,} cached)</div>"
        f'<div class="kpi"><b>{total.output_tokens:,}</b>output tokens</div></div>'
    )
    if total.unpriced_threads:
        out.append(
            f"<p>{total.unpriced_threads:,} thread(s) used a model the rate card does not "
            "know: their tokens are counted, their cost is unknown.</p>"
        )
    last = (until - timedelta(microseconds=1)).date()
    first = max(since.date(), last - timedelta(days=MAX_DAYS - 1))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    out.append("<h3>Spend against monthly budgets</h3>")
    if repo is not None:
        out.append(f"<p>Only {_e(repo)} counts here, for team budgets too.</p>")
    if budgets is None:
        out.append(
            "<p>No budget configuration was given (pass <code>--config</code> with the "
            "org's codex-guard.yml): the charts show spend without budget lines.</p>"
        )
    out.extend(_figures(upto, window, days, budgets))
    if budgets is not None:
        out.append(_budget_table(upto, budgets, sorted({d.replace(day=1) for d in days})))
    out.extend(_cost_table(by, summarise_costs(window, by)) for by in _TABLES)
    return "".join(out) + "</section>"
