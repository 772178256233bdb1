"""What OpenAI billed the organisation, per team, beside what codex-guard attributed to
Codex PRs, and the API keys whose spend maps to no team (credential sprawl).

Pure over an `OrgSpend` (read from Redis by `bot.jobs.costs.org_spend`) and the per-team
rows of `bot.present.cost_summary`, so the CLI and tests share one reading. The two
columns answer different questions: OpenAI's figure is everything the team's projects
and keys were billed; the PR figure is what the Codex threads on its PRs cost at the
rate card's prices. A gap between them is the point of showing both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.core.usage.rates import dollars
from bot.present.audit_summary import one_line
from bot.present.cost_summary import NO_TEAM, CostRow, cents


@dataclass(frozen=True)
class TeamSpend:
    """A team's (None: no team's) OpenAI figures over the days read."""

    team: str | None
    billed: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class KeySpend:
    """An API key that maps to no team, by id only (OpenAI never gives the secret)."""

    api_key_id: str
    projects: tuple[str, ...] = ()
    billed: Decimal = Decimal(0)
    requests: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class LastRun:
    at: datetime
    ok: bool
    note: str


@dataclass(frozen=True)
class OrgSpend:
    """The stored days overlapping a window, added up. Dollars are USD only."""

    days: tuple[date, ...] = ()
    teams: tuple[TeamSpend, ...] = ()
    unattributed_keys: tuple[KeySpend, ...] = ()
    other_currencies: tuple[str, ...] = ()
    fetched_at: datetime | None = None
    last_run: LastRun | None = None


@dataclass(frozen=True)
class SpendRow:
    """One team: OpenAI's figures (None: OpenAI billed it nothing) beside the PR ledger's."""

    team: str | None
    billed: Decimal | None
    requests: int
    input_tokens: int
    output_tokens: int
    pr_dollars: Decimal | None
    pr_threads: int
    pr_unpriced: int


def side_by_side(org: OrgSpend, pr_rows: Sequence[CostRow]) -> list[SpendRow]:
    """Every team either source knows, most billed first; PR rows come from
    `summarise_costs(records, "team")`, whose team-less row is `NO_TEAM`."""
    prs = {(None if r.key == NO_TEAM else r.key): r for r in pr_rows}
    billed = {t.team: t for t in org.teams}
    rows = []
    for team in {*billed, *prs}:
        spend, pr = billed.get(team), prs.get(team)
        rows.append(
            SpendRow(
                team=team,
                billed=None if spend is None else spend.billed,
                requests=spend.requests if spend else 0,
                input_tokens=spend.input_tokens if spend else 0,
                output_tokens=spend.output_tokens if spend else 0,
                pr_dollars=None if pr is None else pr.dollars,
                pr_threads=pr.threads if pr else 0,
                pr_unpriced=pr.unpriced_threads if pr else 0,
            )
        )
    zero = Decimal(0)
    return sorted(
        rows,
        key=lambda r: (
            r.team is None,
            -(r.billed or zero),
            -(r.pr_dollars or zero),
            (r.team or "").lower(),
        ),
    )


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _table(header: list[str], body: list[list[str]], left: int = 1) -> list[str]:
    """Aligned columns, the first `left` to the left, the last body line a total."""
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule, *(line(b) for b in body[:-1]), rule, line(body[-1])]


def _pr_cost(row: SpendRow) -> str:
    if row.pr_dollars is None:
        return "-"
    # nothing priced is not free: a sum of no prices is unknown
    return "unknown" if row.pr_threads == row.pr_unpriced else dollars(row.pr_dollars)


def _days_line(org: OrgSpend) -> str:
    if not org.days:
        return "OpenAI: no day of organisation spend is stored for this window"
    span = f"{org.days[0]} to {org.days[-1]}" if len(org.days) > 1 else f"{org.days[0]}"
    n = len(org.days)
    fetched = f", last read {_when(org.fetched_at)}" if org.fetched_at else ""
    return f"OpenAI: {span} ({n} day{'s' if n != 1 else ''}, UTC){fetched}"


def org_spend_text(
    org: OrgSpend, rows: Sequence[SpendRow], since: datetime, until: datetime
) -> str:
    """Two aligned tables (teams, unattributed keys) and notes; names made terminal-safe."""
    lines = [
        f"OpenAI organisation spend beside PR-attributed Codex cost, {_when(since)} to "
        f"{_when(until)}",
        _days_line(org),
        "",
    ]
    if rows:
        body = [
            [
                one_line(r.team, 40) if r.team is not None else NO_TEAM,
                dollars(r.billed) if r.billed is not None else "-",
                f"{r.requests:,}",
                f"{r.input_tokens:,}",
                f"{r.output_tokens:,}",
                _pr_cost(r),
                f"{r.pr_threads:,}",
            ]
            for r in rows
        ]
        billed_total = sum((r.billed or Decimal(0) for r in rows), Decimal(0))
        pr_total = sum((r.pr_dollars or Decimal(0) for r in rows), Decimal(0))
        body.append(
            [
                "total",
                dollars(billed_total),
                f"{sum(r.requests for r in rows):,}",
                f"{sum(r.input_tokens for r in rows):,}",
                f"{sum(r.output_tokens for r in rows):,}",
                dollars(pr_total),
                f"{sum(r.pr_threads for r in rows):,}",
            ]
        )
        header = ["team", "OpenAI billed", "requests", "input", "output", "PR cost", "threads"]
        lines += _table(header, body)
    else:
        lines.append("no spend from OpenAI and no Codex usage on PRs in this window")
    if org.unattributed_keys:
        lines += [
            "",
            "Unattributed API keys: spend on keys that map to no team (credential sprawl).",
            "Map each in `costs.openai.api_keys` (or its project in `costs.openai.projects`),",
            "or revoke it.",
            "",
        ]
        keys = [
            [
                one_line(k.api_key_id, 40),
                one_line(", ".join(k.projects), 40) or "-",
                dollars(k.billed),
                f"{k.requests:,}",
                f"{k.input_tokens:,}",
                f"{k.output_tokens:,}",
            ]
            for k in org.unattributed_keys
        ]
        keys.append(
            [
                "total",
                "",
                dollars(sum((k.billed for k in org.unattributed_keys), Decimal(0))),
                f"{sum(k.requests for k in org.unattributed_keys):,}",
                f"{sum(k.input_tokens for k in org.unattributed_keys):,}",
                f"{sum(k.output_tokens for k in org.unattributed_keys):,}",
            ]
        )
        header = ["api key", "projects", "billed", "requests", "input", "output"]
        lines += _table(header, keys, left=2)
    elif org.days:
        lines += ["", "Unattributed API keys: none (every key with spend maps to a team)"]
    if org.other_currencies:
        shown = ", ".join(one_line(c, 8) for c in org.other_currencies)
        lines += ["", f"Amounts billed in {shown} are not added to the dollar figures."]
    if org.last_run is not None and not org.last_run.ok:
        lines += [
            "",
            f"The last read of OpenAI ({_when(org.last_run.at)}) failed: "
            f"{one_line(org.last_run.note, 200)}. The figures are from earlier reads.",
        ]
    return "\n".join(lines) + "\n"


def _money(amount: Decimal | None) -> str | None:
    return None if amount is None else cents(amount)


def org_spend_json(
    org: OrgSpend, rows: Sequence[SpendRow], since: datetime, until: datetime
) -> str:
    """One JSON object; dollars as strings to the cent, a team-less row as `team: null`."""
    data: dict[str, Any] = {
        "since": since.astimezone(UTC).isoformat(),
        "until": until.astimezone(UTC).isoformat(),
        "openai_days": [d.isoformat() for d in org.days],
        "fetched_at": org.fetched_at.isoformat() if org.fetched_at else None,
        "last_run": None
        if org.last_run is None
        else {"at": org.last_run.at.isoformat(), "ok": org.last_run.ok, "note": org.last_run.note},
        "teams": [
            {
                "team": r.team,
                "openai": None
                if r.billed is None
                else {
                    "dollars": cents(r.billed),
                    "requests": r.requests,
                    "input_tokens": r.input_tokens,
                    "output_tokens": r.output_tokens,
                },
                "pr_attributed": None
                if r.pr_dollars is None
                else {
                    "dollars": _money(r.pr_dollars),
                    "threads": r.pr_threads,
                    "unpriced_threads": r.pr_unpriced,
                },
            }
            for r in rows
        ],
        "unattributed_keys": [
            {
                "api_key_id": k.api_key_id,
                "projects": list(k.projects),
                "dollars": cents(k.billed),
                "requests": k.requests,
                "input_tokens": k.input_tokens,
                "cached_input_tokens": k.cached_input_tokens,
                "output_tokens": k.output_tokens,
            }
            for k in org.unattributed_keys
        ],
        "other_currencies": list(org.other_currencies),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
