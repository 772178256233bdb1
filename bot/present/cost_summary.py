"""Cost summaries: Codex usage added up per person, team, repository or model, as a
terminal table, CSV or JSON, and where a month's spend stands against a budget.

Pure over `UsageRecord`s (read from the ledger by the caller), so the CLI, the app's
budget findings and tests share one reading. Sums are exact Decimals; rendering
rounds to the cent, half up, as `bot.core.usage.rates.dollars` does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from bot.core.config.costs import Budget
from bot.core.usage.rates import dollars
from bot.core.usage.record import UsageRecord
from bot.present.audit_summary import one_line

GroupBy = Literal["person", "team", "repo", "model"]
GROUPS: tuple[GroupBy, ...] = ("person", "team", "repo", "model")
NO_TEAM = "(no team)"
UNKNOWN_MODEL = "unknown"
UNKNOWN_PERSON = "(unknown)"
CSV_COLUMNS = (
    "threads",
    "prs",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "dollars",
    "unpriced_threads",
)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CostRow:
    """One group's threads: tokens of all, dollars of those the rate card could price."""

    key: str
    threads: int
    prs: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    dollars: Decimal
    unpriced_threads: int


@dataclass
class _Group:
    key: str
    prs: set[tuple[str, int]] = field(default_factory=set)
    threads: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    dollars: Decimal = Decimal(0)
    unpriced_threads: int = 0

    def add(self, record: UsageRecord) -> None:
        self.threads += 1
        self.prs.add((record.repo.lower(), record.pr))
        self.input_tokens += record.input_tokens
        self.cached_input_tokens += record.cached_input_tokens
        self.output_tokens += record.output_tokens
        if record.dollars is None:
            self.unpriced_threads += 1
        else:
            self.dollars += record.dollars

    def row(self) -> CostRow:
        return CostRow(
            key=self.key,
            threads=self.threads,
            prs=len(self.prs),
            input_tokens=self.input_tokens,
            cached_input_tokens=self.cached_input_tokens,
            output_tokens=self.output_tokens,
            dollars=self.dollars,
            unpriced_threads=self.unpriced_threads,
        )


def _key_of(by: GroupBy) -> Callable[[UsageRecord], tuple[str, str]]:
    """(grouping key, shown name): logins, repositories and models compare case-insensitively."""
    if by == "person":
        return lambda r: (r.person.lower(), r.person) if r.person else ("", UNKNOWN_PERSON)
    if by == "team":
        return lambda r: (r.team, r.team) if r.team is not None else ("\0none", NO_TEAM)
    if by == "repo":
        return lambda r: (r.repo.lower(), r.repo)
    if by == "model":
        return lambda r: (r.model.lower(), r.model) if r.model else ("\0none", UNKNOWN_MODEL)
    raise ValueError(f"cannot group costs by {by!r}; choose one of {', '.join(GROUPS)}")


def summarise_costs(records: Iterable[UsageRecord], by: GroupBy) -> list[CostRow]:
    """One row per person, team, repository or model, most dollars first (then by name).

    Each record is one distinct thread (the ledger keeps each once); `prs` counts the
    distinct pull requests among a group's threads.
    """
    key_of = _key_of(by)
    groups: dict[str, _Group] = {}
    for record in records:
        key, shown = key_of(record)
        groups.setdefault(key, _Group(shown)).add(record)
    rows = [g.row() for g in groups.values()]
    return sorted(rows, key=lambda r: (-r.dollars, r.key.lower(), r.key))


def total_row(rows: Sequence[CostRow], key: str = "total") -> CostRow:
    """The rows added up; `prs` adds each group's, so a PR shared by two groups counts twice."""
    return CostRow(
        key=key,
        threads=sum(r.threads for r in rows),
        prs=sum(r.prs for r in rows),
        input_tokens=sum(r.input_tokens for r in rows),
        cached_input_tokens=sum(r.cached_input_tokens for r in rows),
        output_tokens=sum(r.output_tokens for r in rows),
        dollars=sum((r.dollars for r in rows), Decimal(0)),
        unpriced_threads=sum(r.unpriced_threads for r in rows),
    )


def cents(amount: Decimal) -> str:
    """`0.30`: to the cent, half up, no currency sign or grouping (for CSV and JSON)."""
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):.2f}"


def _table_cells(row: CostRow) -> list[str]:
    return [
        one_line(row.key, 40),
        f"{row.threads:,}",
        f"{row.prs:,}",
        f"{row.input_tokens:,}",
        f"{row.cached_input_tokens:,}",
        f"{row.output_tokens:,}",
        # nothing priced is not free: a sum of no prices is unknown
        dollars(None if row.threads and row.unpriced_threads == row.threads else row.dollars),
        f"{row.unpriced_threads:,}",
    ]


def costs_text(rows: Sequence[CostRow], by: GroupBy) -> str:
    """An aligned table with a total line; names made safe for a terminal."""
    header = [by, "threads", "PRs", "input", "cached", "output", "cost", "unpriced"]
    body = [_table_cells(r) for r in rows]
    total = _table_cells(total_row(rows))
    total[2] = ""  # a PR can count for several groups: the sum of PRs means nothing
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [line(header), rule, *(line(b) for b in body), rule, line(total)]
    unpriced = sum(r.unpriced_threads for r in rows)
    if unpriced:
        lines.append("")
        lines.append(
            f"{unpriced} thread{'s' if unpriced != 1 else ''} used a model the rate card "
            "does not know: their tokens are counted, their cost is not."
        )
    return "\n".join(lines) + "\n"


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas, as `codex-guard audit` does: names are user text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def costs_csv(rows: Iterable[CostRow], by: str = "key") -> str:
    """A header and one line per row; the first column is named `by`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([by, *CSV_COLUMNS])
    for r in rows:
        data = _row_json(r)
        writer.writerow([_csv_cell(r.key), *(_csv_cell(str(data[c])) for c in CSV_COLUMNS)])
    return buffer.getvalue()


def _row_json(row: CostRow) -> dict[str, str | int]:
    return {
        "key": row.key,
        "threads": row.threads,
        "prs": row.prs,
        "input_tokens": row.input_tokens,
        "cached_input_tokens": row.cached_input_tokens,
        "output_tokens": row.output_tokens,
        "dollars": cents(row.dollars),
        "unpriced_threads": row.unpriced_threads,
    }


def costs_json(rows: Iterable[CostRow]) -> str:
    """A JSON array of rows; dollars as strings to the cent (`"0.30"`), never floats."""
    return json.dumps([_row_json(r) for r in rows], indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class BudgetStatus:
    """A month's spend against a team's or repository's budget."""

    name: str
    kind: Literal["team", "repo"]
    spent: Decimal
    budget: Decimal
    percent: int
    """Whole percent of the budget spent, rounded down: 79.99 % is 79."""
    level: Literal["warning", "error"]
    crossed: Literal["none", "80", "100"]
    """The highest threshold reached: "80" from 80 % of the budget, "100" from all of it."""


def budget_status(
    name: str, kind: Literal["team", "repo"], spent: Decimal, budget: Budget
) -> BudgetStatus:
    """Where `spent` stands against `budget`; thresholds compare exact amounts, not the
    rounded percent."""
    limit = budget.monthly_usd
    crossed: Literal["none", "80", "100"] = "none"
    if spent >= limit:
        crossed = "100"
    elif spent * 100 >= limit * 80:
        crossed = "80"
    percent = int((spent * 100 / limit).to_integral_value(rounding=ROUND_FLOOR))
    return BudgetStatus(
        name=name,
        kind=kind,
        spent=spent,
        budget=limit,
        percent=percent,
        level=budget.level,
        crossed=crossed,
    )
