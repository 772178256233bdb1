"""Cost summaries: grouping, unknown models, the table, CSV and JSON, budget status."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.core.config.costs import Budget
from bot.core.usage.record import UsageRecord
from bot.present.cost_summary import (
    CostRow,
    budget_status,
    costs_csv,
    costs_json,
    costs_text,
    summarise_costs,
    total_row,
)
from tests.usage_helpers import usage_record

AT = datetime(2026, 3, 10, tzinfo=UTC)


def rec(
    thread: str,
    *,
    person: str = "alice",
    team: str | None = "web",
    repo: str = "octo-org/app",
    pr: int = 1,
    model: str | None = "gpt-5-codex",
    tokens: int = 1000,
    dollars: str | None = "0.10",
) -> UsageRecord:
    return usage_record(
        thread, recorded_at=AT, tokens=(tokens, tokens // 4, tokens // 10, 0), dollars=dollars,
        repo=repo, pr=pr, person=person, team=team, model=model,
    )  # fmt: skip


RECORDS = [
    rec("1", person="alice", team="web", pr=1, dollars="0.10"),
    rec("2", person="Alice", team="web", pr=1, dollars="0.20", tokens=2000),
    rec("3", person="alice", team="web", pr=2, model="mystery-model", dollars=None),
    rec("4", person="bob", team=None, repo="octo-org/api", pr=1, dollars="1.005"),
    rec("5", person="carol", team="data", repo="Octo-Org/App", pr=3, model=None, dollars=None),
]


def test_per_person_sums_threads_and_counts_distinct_prs() -> None:
    rows = summarise_costs(RECORDS, "person")
    assert [r.key for r in rows] == ["bob", "alice", "carol"]
    alice = rows[1]
    assert alice == CostRow(
        key="alice",
        threads=3,
        prs=2,
        input_tokens=4000,
        cached_input_tokens=1000,
        output_tokens=400,
        dollars=Decimal("0.30"),
        unpriced_threads=1,
    )
    assert rows[0].dollars == Decimal("1.005") and rows[2].dollars == 0


def test_per_team_shows_no_team() -> None:
    rows = summarise_costs(RECORDS, "team")
    assert [(r.key, r.threads, r.dollars) for r in rows] == [
        ("(no team)", 1, Decimal("1.005")),
        ("web", 3, Decimal("0.30")),
        ("data", 1, Decimal(0)),
    ]


def test_per_repo_is_case_insensitive() -> None:
    rows = summarise_costs(RECORDS, "repo")
    assert [(r.key, r.threads, r.prs) for r in rows] == [
        ("octo-org/api", 1, 1),
        ("octo-org/app", 4, 3),
    ]


def test_unknown_models_have_rows_with_tokens_and_no_dollars() -> None:
    rows = {r.key: r for r in summarise_costs(RECORDS, "model")}
    assert set(rows) == {"gpt-5-codex", "mystery-model", "unknown"}
    assert rows["unknown"].unpriced_threads == 1 and rows["unknown"].dollars == 0
    assert rows["unknown"].input_tokens == 1000
    assert rows["mystery-model"].unpriced_threads == 1
    assert rows["gpt-5-codex"].dollars == Decimal("1.305")
    assert rows["gpt-5-codex"].unpriced_threads == 0


def test_ties_sort_by_name_and_nothing_gives_no_rows() -> None:
    rows = summarise_costs([rec("1", person="zed"), rec("2", person="amy")], "person")
    assert [r.key for r in rows] == ["amy", "zed"]
    assert summarise_costs([], "team") == []
    with pytest.raises(ValueError):
        summarise_costs(RECORDS, "colour")  # type: ignore[arg-type]


def test_text_table() -> None:
    text = costs_text(summarise_costs(RECORDS, "person"), "person")
    lines = text.splitlines()
    assert lines[0].split() == [
        "person",
        "threads",
        "PRs",
        "input",
        "cached",
        "output",
        "cost",
        "unpriced",
    ]
    assert lines[2].split() == ["bob", "1", "1", "1,000", "250", "100", "$1.01", "0"]
    assert lines[3].split() == ["alice", "3", "2", "4,000", "1,000", "400", "$0.30", "1"]
    assert lines[4].split() == ["carol", "1", "1", "1,000", "250", "100", "unknown", "1"]
    assert lines[6].split() == ["total", "5", "6,000", "1,500", "600", "$1.31", "2"]
    assert "2 threads used a model the rate card does not know" in text


def test_text_is_terminal_safe() -> None:
    text = costs_text(summarise_costs([rec("1", person="ev\x1b[2Jil\nline")], "person"), "person")
    assert "\x1b" not in text and "ev [2Jil line" in text


def test_csv_neutralises_formulas_and_gives_cents() -> None:
    records = [rec("1", person="=HYPERLINK(1)", dollars="0.295"), rec("2", person="@x")]
    out = costs_csv(summarise_costs(records, "person"), "person")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "person",
        "threads",
        "prs",
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "dollars",
        "unpriced_threads",
    ]
    assert [(r["person"], r["dollars"]) for r in rows] == [
        ("'=HYPERLINK(1)", "0.30"),
        ("'@x", "0.10"),
    ]
    assert costs_csv([]).splitlines() == [
        "key,threads,prs,input_tokens,cached_input_tokens,output_tokens,dollars,unpriced_threads"
    ]


def test_json_has_dollars_as_cent_strings() -> None:
    data = json.loads(costs_json(summarise_costs(RECORDS, "team")))
    assert data[0] == {
        "key": "(no team)",
        "threads": 1,
        "prs": 1,
        "input_tokens": 1000,
        "cached_input_tokens": 250,
        "output_tokens": 100,
        "dollars": "1.01",
        "unpriced_threads": 0,
    }
    assert [d["dollars"] for d in data] == ["1.01", "0.30", "0.00"]
    assert json.loads(costs_json([])) == []


def test_total_row() -> None:
    total = total_row(summarise_costs(RECORDS, "team"))
    assert (total.threads, total.dollars, total.unpriced_threads) == (5, Decimal("1.305"), 2)


@pytest.mark.parametrize(
    ("spent", "percent", "crossed"),
    [
        ("0", 0, "none"),
        ("79", 79, "none"),
        ("79.999", 79, "none"),
        ("80", 80, "80"),
        ("99.99", 99, "80"),
        ("100", 100, "100"),
        ("150", 150, "100"),
    ],
)
def test_budget_status(spent: str, percent: int, crossed: str) -> None:
    status = budget_status("web", "team", Decimal(spent), Budget(monthly_usd=Decimal(100)))
    assert (status.percent, status.crossed, status.level) == (percent, crossed, "warning")
    assert (status.name, status.kind, status.spent, status.budget) == (
        "web",
        "team",
        Decimal(spent),
        Decimal(100),
    )


def test_budget_status_of_an_odd_budget_and_its_level() -> None:
    budget = Budget(monthly_usd=Decimal("12.50"), level="error")
    assert budget_status("o/r", "repo", Decimal("9.99"), budget).crossed == "none"  # 79.92 %
    at_80 = budget_status("o/r", "repo", Decimal("10.00"), budget)
    assert (at_80.percent, at_80.crossed, at_80.level, at_80.kind) == (80, "80", "error", "repo")
    assert budget_status("o/r", "repo", Decimal("12.50"), budget).crossed == "100"
