"""The cost ledger on a real Redis: each thread once, larger totals win, time ranges,
month spend per team and repository, bounded, and never failing the caller."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.core import scrub
from bot.core.usage.rates import RateCard, cost_of
from bot.core.usage.record import UsageRecord as CoreUsageRecord
from bot.core.usage.rollout import ThreadUsage
from bot.jobs.costs import ledger as cost_ledger
from bot.jobs.costs.ledger import (
    UsageRecord,
    month_spend,
    pr_usage,
    record_usage,
    usage_records,
)
from tests.conftest import free_port
from tests.usage_helpers import usage_record

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def rec(
    thread: str = "t-1",
    *,
    repo: str = "octo-org/app",
    pr: int = 1,
    person: str = "alice",
    team: str | None = "web",
    model: str | None = "gpt-5-codex",
    tokens: int = 1000,
    dollars: str | None = "0.30",
    at: datetime = T0,
    run_id: int | None = 7,
) -> UsageRecord:
    return usage_record(
        thread, recorded_at=at, tokens=(tokens, tokens // 2, tokens // 10, tokens // 20),
        dollars=dollars, repo=repo, pr=pr, person=person, team=team, model=model, run_id=run_id,
    )  # fmt: skip


def test_the_record_type_is_the_cores() -> None:
    assert UsageRecord is CoreUsageRecord


def test_a_record_round_trips(redis_client: redis.Redis) -> None:
    record = rec(model="gpt-5.3-codex", team=None, run_id=None, dollars="0.123456789")
    assert record_usage(redis_client, [record]) == 1
    assert pr_usage(redis_client, "octo-org/app", 1) == [record]
    assert usage_records(redis_client, T0 - timedelta(days=1)) == [record]


def test_a_redelivered_record_counts_once(redis_client: redis.Redis) -> None:
    record = rec()
    assert record_usage(redis_client, [record]) == 1
    assert record_usage(redis_client, [record]) == 0
    assert record_usage(redis_client, [record, replace(record, run_id=8)]) == 0
    assert usage_records(redis_client, T0 - timedelta(hours=1)) == [record]
    assert month_spend(redis_client, team="web", month=T0.date()) == Decimal("0.30")


def test_two_threads_are_summed(redis_client: redis.Redis) -> None:
    assert record_usage(redis_client, [rec("t-1"), rec("t-2", dollars="0.45")]) == 2
    assert len(pr_usage(redis_client, "octo-org/app", 1)) == 2
    assert month_spend(redis_client, team="web", month=T0.date()) == Decimal("0.75")


def test_the_same_thread_id_in_another_repository_is_another_thread(
    redis_client: redis.Redis,
) -> None:
    assert record_usage(redis_client, [rec("t-1"), rec("t-1", repo="octo-org/api")]) == 2
    assert record_usage(redis_client, [rec("t-1", repo="OCTO-ORG/APP")]) == 0
    assert len(usage_records(redis_client, T0 - timedelta(days=1))) == 2


def test_a_later_larger_total_replaces_the_earlier_and_keeps_its_time(
    redis_client: redis.Redis,
) -> None:
    first = rec(tokens=1000, dollars="0.30", run_id=7)
    later = rec(tokens=5000, dollars="1.50", run_id=9, at=T0 + timedelta(days=2), model=None)
    assert record_usage(redis_client, [first]) == 1
    assert record_usage(redis_client, [later]) == 1
    [stored] = pr_usage(redis_client, "octo-org/app", 1)
    assert stored == replace(later, recorded_at=T0)
    assert stored.model is None  # the whole record is the later one's
    assert usage_records(redis_client, T0 + timedelta(days=1)) == []
    assert month_spend(redis_client, team="web", month=T0.date()) == Decimal("1.50")


def test_a_smaller_or_equal_total_is_ignored(redis_client: redis.Redis) -> None:
    big = rec(tokens=5000, dollars="1.50")
    assert record_usage(redis_client, [big]) == 1
    assert record_usage(redis_client, [rec(tokens=1000, dollars="0.30")]) == 0
    assert record_usage(redis_client, [replace(big, dollars=Decimal("9"), run_id=99)]) == 0
    assert pr_usage(redis_client, "octo-org/app", 1) == [big]


def test_a_count_says_what_changed_in_one_batch(redis_client: redis.Redis) -> None:
    batch = [rec("a", tokens=10), rec("a", tokens=20), rec("a", tokens=5), rec("b")]
    assert record_usage(redis_client, batch) == 3
    totals = {r.thread_id: r.input_tokens for r in pr_usage(redis_client, "octo-org/app", 1)}
    assert totals == {"a": 20, "b": 1000}


def test_time_ranges_include_since_and_exclude_until(redis_client: redis.Redis) -> None:
    records = [rec(f"t-{h}", at=T0 + timedelta(hours=h)) for h in range(5)]
    record_usage(redis_client, reversed(records))
    got = usage_records(redis_client, T0 + timedelta(hours=1), T0 + timedelta(hours=3))
    assert [r.thread_id for r in got] == ["t-1", "t-2"]
    assert [r.thread_id for r in usage_records(redis_client, T0 + timedelta(hours=3))] == [
        "t-3",
        "t-4",
    ]
    assert usage_records(redis_client, T0, T0) == []
    naive = usage_records(redis_client, (T0 + timedelta(hours=4)).replace(tzinfo=None))
    assert [r.thread_id for r in naive] == ["t-4"]


def test_pr_usage_is_per_pr(redis_client: redis.Redis) -> None:
    record_usage(redis_client, [rec("a", pr=1), rec("b", pr=2), rec("c", pr=1, repo="o/other")])
    assert [r.thread_id for r in pr_usage(redis_client, "Octo-Org/App", 1)] == ["a"]
    assert [r.thread_id for r in pr_usage(redis_client, "octo-org/app", 2)] == ["b"]
    assert pr_usage(redis_client, "octo-org/app", 3) == []


def test_month_spend_per_team_and_repo(redis_client: redis.Redis) -> None:
    march, april = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    record_usage(
        redis_client,
        [
            rec("a", at=march, team="web", dollars="1.10"),
            rec("b", at=april - timedelta(microseconds=1), team="web", dollars="2.20"),
            rec("c", at=april, team="web", dollars="40.00"),  # April
            rec("d", at=march - timedelta(microseconds=1), team="web", dollars="80.00"),  # Feb
            rec("e", at=march, team="data", repo="octo-org/api", dollars="3.00"),
            rec("f", at=march, team="web", repo="octo-org/api", model="mystery", dollars=None),
        ],
    )
    assert month_spend(redis_client, team="web", month=date(2026, 3, 31)) == Decimal("3.30")
    assert month_spend(redis_client, team="data", month=date(2026, 3, 1)) == Decimal("3.00")
    assert month_spend(redis_client, repo="OCTO-ORG/API", month=date(2026, 3, 5)) == Decimal(3)
    assert month_spend(redis_client, repo="octo-org/app", month=date(2026, 3, 5)) == Decimal("3.30")
    assert month_spend(redis_client, team="web", month=date(2026, 4, 1)) == Decimal("40.00")
    assert month_spend(redis_client, team="web", month=date(2026, 2, 1)) == Decimal("80.00")
    assert month_spend(redis_client, team="nobody", month=date(2026, 3, 1)) == Decimal(0)
    assert month_spend(redis_client, month=date(2026, 3, 1)) == Decimal("6.30")


def test_month_spend_defaults_to_this_month(redis_client: redis.Redis) -> None:
    now = datetime.now(UTC)
    start, _ = cost_ledger.month_bounds(now.date())
    record_usage(
        redis_client,
        [rec("now", at=now, dollars="2.50"), rec("old", at=start - timedelta(seconds=1))],
    )
    assert month_spend(redis_client, team="web") == Decimal("2.50")


def test_december_rolls_into_january() -> None:
    start, end = cost_ledger.month_bounds(date(2025, 12, 31))
    assert (start, end) == (datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


def test_the_ledger_is_bounded_and_drops_the_oldest(redis_client: redis.Redis) -> None:
    records = [rec(f"t-{i}", pr=i % 2 + 1, at=T0 + timedelta(minutes=i)) for i in range(5)]
    assert record_usage(redis_client, records, max_threads=3) == 5
    kept = usage_records(redis_client, T0 - timedelta(days=1))
    assert [r.thread_id for r in kept] == ["t-2", "t-3", "t-4"]
    assert redis_client.zcard(cost_ledger.BY_TIME) == 3
    assert len(redis_client.keys(cost_ledger.THREAD_PREFIX + "*")) == 3
    # the PR index drops trimmed threads too
    assert [r.thread_id for r in pr_usage(redis_client, "octo-org/app", 1)] == ["t-2", "t-4"]
    members = sum(redis_client.scard(k) for k in redis_client.keys(cost_ledger.PR_PREFIX + "*"))
    assert members == 3


def test_the_default_bound_is_max_threads(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cost_ledger.MAX_THREADS == 200_000
    monkeypatch.setattr(cost_ledger, "MAX_THREADS", 2)
    record_usage(redis_client, [rec(f"t-{i}", at=T0 + timedelta(seconds=i)) for i in range(4)])
    assert redis_client.zcard(cost_ledger.BY_TIME) == 2


def test_a_redis_error_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    with caplog.at_level(logging.WARNING, logger="codex_guard.costs"):
        assert record_usage(dead, [rec()]) == 0
    assert "cost ledger not written" in caplog.text
    with pytest.raises(redis.RedisError):
        usage_records(dead, T0)


def test_an_error_after_some_records_still_returns_zero(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = redis_client.register_script

    def flaky(script: str):
        run = real(script)

        def call(**kwargs):
            calls.append(1)
            if len(calls) > 1:
                raise redis.ConnectionError("gone")
            return run(**kwargs)

        return call

    monkeypatch.setattr(redis_client, "register_script", flaky)
    assert record_usage(redis_client, [rec("a"), rec("b")]) == 0
    assert [r.thread_id for r in usage_records(redis_client, T0)] == ["a"]


def test_texts_are_scrubbed_but_the_thread_still_counts_once(redis_client: redis.Redis) -> None:
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    record = rec(f"thread-{secret}", model=f"model-{secret}")
    with scrub.using(scrub.Scrubber([secret])):
        assert record_usage(redis_client, [record]) == 1
        assert record_usage(redis_client, [record]) == 0
    [stored] = pr_usage(redis_client, "octo-org/app", 1)
    assert secret not in stored.thread_id and secret[:12] not in (stored.model or "")
    assert stored.input_tokens == record.input_tokens


def test_an_entry_that_does_not_parse_is_skipped(redis_client: redis.Redis) -> None:
    record_usage(redis_client, [rec("good"), rec("bad", at=T0 + timedelta(seconds=1))])
    bad_key = cost_ledger.THREAD_PREFIX + cost_ledger._member("octo-org/app", "bad")
    redis_client.hset(bad_key, "input_tokens", "lots")
    assert [r.thread_id for r in usage_records(redis_client, T0)] == ["good"]


def test_a_record_is_built_from_a_priced_thread() -> None:
    usage = ThreadUsage("th", "gpt-5-codex", 100_000, 80_000, 0, 20_000, 5_000)
    cost = cost_of(usage, RateCard())
    record = UsageRecord.of(
        usage, repo="o/r", pr=3, person="bob", team=None, dollars=cost.dollars, recorded_at=T0
    )
    assert record.dollars == Decimal("0.235")
    assert (record.thread_id, record.model, record.total_tokens) == ("th", "gpt-5-codex", 120_000)


@pytest.mark.parametrize(
    "change",
    [
        {"pr": -1},
        {"input_tokens": True},
        {"output_tokens": 1.5},
        {"dollars": Decimal("NaN")},
        {"dollars": Decimal("-1")},
        {"thread_id": ""},
        {"run_id": "7"},
    ],
)
def test_a_bad_record_is_refused(change: dict) -> None:
    with pytest.raises(ValueError):
        replace(rec(), **change)


def test_a_naive_time_is_utc() -> None:
    assert rec(at=T0.replace(tzinfo=None)).recorded_at == T0
