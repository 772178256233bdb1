"""The org-spend job against a real Redis and the OpenAI double over real HTTP: paging,
429s (once, and for ever), a refused key, malformed answers, re-runs that replace a day,
projects and keys mapped to teams, unattributed keys, and the mapping read from the org's
`.github` config through the GitHub double.

Waits are recorded instead of slept (the client takes the clock's `sleep`), so a test
checks how long the job would have waited without waiting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from github_double import GitHubDouble
from openai_double import (
    COSTS_PATH,
    USAGE_PATH,
    OpenAIDouble,
    completions_result,
    costs_result,
)

from bot.core.config.costs import OpenAIConfig
from bot.jobs.config_source import PARSED
from bot.jobs.costs import org_spend
from bot.jobs.costs.openai_api import OpenAIAdmin
from bot.jobs.pipeline import Services
from bot.jobs.store import Store
from tests.receiver_rig import app_settings

pytest_plugins = ["tests.double_fixtures"]

NOW = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)
DAYS = [date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)]
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 11, tzinfo=UTC)
MAPPING = OpenAIConfig(
    projects={"proj_web": "web", "proj_data": "data"},
    api_keys={"key_ci": "data"},  # a key in proj_web that counts for data
)


@pytest.fixture
def double() -> Iterator[OpenAIDouble]:
    with OpenAIDouble() as started:
        yield started


class Clock:
    """The client's sleep, recorded."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def client_for(double: OpenAIDouble, clock: Clock, key: str | None = None) -> OpenAIAdmin:
    return OpenAIAdmin(key or double.admin_key, double.base_url, sleep=clock.sleep)


def seed_day(double: OpenAIDouble, day: date, scale: int = 1) -> None:
    """web: proj_web via key_web; data: key_ci (in proj_web) and proj_data; a stray key."""
    double.seed_usage(
        day,
        *(
            completions_result(
                input_tokens=n * scale, input_cached_tokens=n * scale // 2,
                output_tokens=n * scale // 10, num_model_requests=scale,
                project_id=project, api_key_id=key, model="gpt-5-codex",
            )
            for project, key, n in [
                ("proj_web", "key_web", 1000),
                ("proj_web", "key_ci", 500),
                ("proj_data", "key_etl", 300),
                ("proj_lost", "key_stray", 200),
            ]
        ),
    )  # fmt: skip
    for project, key, amount in [
        ("proj_web", "key_web", "2.00"),
        ("proj_web", "key_ci", "1.00"),
        ("proj_data", "key_etl", "0.50"),
        ("proj_lost", "key_stray", "0.25"),
    ]:
        for item in ("input", "output"):  # two line items a key: added up by the job
            value = Decimal(amount) * scale / 2
            double.seed_costs(
                day, costs_result(value, project_id=project, api_key_id=key, line_item=item)
            )


def run(redis_client: redis.Redis, api: OpenAIAdmin, days: int = 3) -> int:
    return org_spend.run(redis_client, api, MAPPING, days=days, now=NOW)


def teams(redis_client: redis.Redis) -> dict[str | None, tuple[Decimal, int, int]]:
    spend = org_spend.org_spend(redis_client, SINCE, UNTIL)
    return {t.team: (t.billed, t.requests, t.input_tokens) for t in spend.teams}


def test_three_days_across_three_pages_are_stored_and_added_up(redis_client, clock) -> None:
    with OpenAIDouble(page_size=1) as double:
        for day in DAYS:
            seed_day(double, day)
        assert run(redis_client, client_for(double, clock)) == 3
        for path in (USAGE_PATH, COSTS_PATH):
            calls = double.calls(path)
            assert len(calls) == 3 and [c.status for c in calls] == [200, 200, 200]
            assert "page" not in calls[0].query
            assert calls[1].query["page"] != calls[2].query["page"]
    spend = org_spend.org_spend(redis_client, SINCE, UNTIL)
    assert spend.days == tuple(DAYS)
    assert teams(redis_client) == {
        "web": (Decimal("6.00"), 3, 3000),
        "data": (Decimal("4.50"), 6, 2400),
        None: (Decimal("0.75"), 3, 600),
    }
    assert clock.waits == []


def test_the_job_asks_for_the_documented_window_and_groups(redis_client, double, clock) -> None:
    run(redis_client, client_for(double, clock))
    usage, costs = double.calls(USAGE_PATH)[0], double.calls(COSTS_PATH)[0]
    start = int(datetime(2026, 3, 8, tzinfo=UTC).timestamp())
    assert usage.query["start_time"] == [str(start)]
    assert usage.query["end_time"] == [str(start + 3 * 86400)]  # today's bucket included
    assert usage.query["bucket_width"] == ["1d"] and usage.query["limit"] == ["3"]
    assert usage.query["group_by"] == ["project_id", "api_key_id", "model"]
    assert costs.query["group_by"] == ["project_id", "line_item", "api_key_id"]


def test_projects_and_keys_map_to_teams_a_key_before_its_project(redis_client, double, clock):
    seed_day(double, DAYS[0])
    run(redis_client, client_for(double, clock))
    # key_ci sits in proj_web but is mapped to data itself: its spend is data's.
    assert teams(redis_client) == {
        "web": (Decimal("2.00"), 1, 1000),
        "data": (Decimal("1.50"), 2, 800),
        None: (Decimal("0.25"), 1, 200),
    }


def test_spend_on_keys_no_team_claims_is_listed_as_unattributed(redis_client, double, clock):
    seed_day(double, DAYS[1], scale=2)
    double.seed_costs(DAYS[1], costs_result("0.10", line_item="fine-tuning"))  # no key at all
    run(redis_client, client_for(double, clock))
    spend = org_spend.org_spend(redis_client, SINCE, UNTIL)
    [stray] = spend.unattributed_keys
    assert stray.api_key_id == "key_stray" and stray.projects == ("proj_lost",)
    assert (stray.billed, stray.requests, stray.input_tokens) == (Decimal("0.50"), 2, 400)
    assert (stray.cached_input_tokens, stray.output_tokens) == (200, 40)
    # The team-less row holds the stray key and the key-less line item.
    assert teams(redis_client)[None][0] == Decimal("0.60")
    note = redis_client.hget(org_spend.LAST_RUN, "note").decode()
    assert note == "stored 3 days; 1 API keys map to no team"


def test_a_rerun_of_a_day_replaces_it(redis_client, double, clock) -> None:
    seed_day(double, DAYS[2])
    run(redis_client, client_for(double, clock))
    assert teams(redis_client)["web"] == (Decimal("2.00"), 1, 1000)
    run(redis_client, client_for(double, clock))  # the same figures again: not doubled
    assert teams(redis_client)["web"] == (Decimal("2.00"), 1, 1000)
    double.clear()
    seed_day(double, DAYS[2], scale=3)  # OpenAI's later, corrected figure for the day
    run(redis_client, client_for(double, clock))
    assert teams(redis_client)["web"] == (Decimal("6.00"), 3, 3000)
    assert redis_client.zcard(org_spend.DAYS) == 3


def test_a_429_waits_as_told_then_succeeds(redis_client, double, clock) -> None:
    seed_day(double, DAYS[0])
    double.fail_next(1, status=429, retry_after=7)
    assert run(redis_client, client_for(double, clock)) == 3
    assert clock.waits == [7.0]
    assert [c.status for c in double.calls(USAGE_PATH)] == [429, 200]
    assert teams(redis_client)["web"][0] == Decimal("2.00")


def test_429_for_ever_gives_up_and_keeps_what_was_stored(
    redis_client, double, clock, caplog
) -> None:
    seed_day(double, DAYS[0])
    run(redis_client, client_for(double, clock))
    double.clear()
    seed_day(double, DAYS[0], scale=5)
    double.fail_next(1000, status=429, retry_after=2)
    double.requests.clear()
    with caplog.at_level(logging.WARNING, logger="codex_guard.costs"):
        assert run(redis_client, client_for(double, clock)) == 0
    assert clock.waits == [2.0, 2.0, 2.0]  # three retries, then this run gives up
    assert len(double.calls(USAGE_PATH)) == 4 and double.calls(COSTS_PATH) == []
    assert teams(redis_client)["web"] == (Decimal("2.00"), 1, 1000)  # the earlier figures
    assert any("rate limited" in r.getMessage() and "kept" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    last = org_spend.org_spend(redis_client, SINCE, UNTIL).last_run
    assert last is not None and not last.ok and "rate limited" in last.note


def test_a_retry_after_beyond_the_limit_ends_the_run_without_waiting(redis_client, double, clock):
    double.fail_next(1, status=429, retry_after=3600)
    assert run(redis_client, client_for(double, clock)) == 0
    assert clock.waits == [] and len(double.calls()) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_a_clear_error_naming_the_setting_never_the_key(
    redis_client, double, clock, caplog, status
) -> None:
    seed_day(double, DAYS[0])
    run(redis_client, client_for(double, clock))
    wrong = "sk-admin-this-is-not-the-key-9f8e7d"
    api = client_for(double, clock, key=wrong if status == 401 else None)
    if status == 403:
        double.fail_next(1, status=403)
    with caplog.at_level(logging.DEBUG):
        assert run(redis_client, api) == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "OPENAI_ADMIN_KEY" in errors[0].getMessage()
    assert f"answered {status}" in errors[0].getMessage()
    assert clock.waits == []  # no retry: waiting does not fix a key
    for secret in (wrong, double.admin_key):
        assert secret not in caplog.text and secret not in repr(api)
    assert teams(redis_client)["web"][0] == Decimal("2.00")


@pytest.mark.parametrize(
    "body",
    [
        b'{"object": "page", "data": [',  # truncated
        b"<html>Bad gateway</html>",
        b'{"object": "page", "data": [{"object": "bucket", "start_time": 1}], '
        b'"has_more": false, "next_page": null}',  # a bucket without results
        b'{"object": "page", "data": [{"object": "bucket", "start_time": 1772928000, '
        b'"results": [{"object": "organization.usage.completions.result", '
        b'"input_tokens": -5, "output_tokens": 1, "num_model_requests": 1}]}], '
        b'"has_more": false, "next_page": null}',  # a negative count
        b'{"object": "page", "data": [], "has_more": true, "next_page": null}',
    ],
    ids=["truncated", "html", "no-results", "negative", "more-without-cursor"],
)
def test_a_malformed_answer_is_a_clear_error_and_loses_nothing(
    redis_client, double, clock, caplog, body
) -> None:
    seed_day(double, DAYS[0])
    run(redis_client, client_for(double, clock))
    before = {k: redis_client.get(k) for k in redis_client.keys(org_spend.DAY_PREFIX + "*")}
    double.answer_next(1, body)
    with caplog.at_level(logging.WARNING, logger="codex_guard.costs"):
        assert run(redis_client, client_for(double, clock)) == 0
    assert "org spend not read this run" in caplog.text
    assert {k: redis_client.get(k) for k in before} == before


def test_a_malformed_second_page_stores_nothing_of_the_first(redis_client, clock) -> None:
    with OpenAIDouble(page_size=1) as double:
        for day in DAYS:
            seed_day(double, day)
        double.answer_next(1, b'{"object": "page"', after=1)
        assert run(redis_client, client_for(double, clock)) == 0
        assert [c.status for c in double.calls(USAGE_PATH)] == [200, 200]
    assert redis_client.keys(org_spend.DAY_PREFIX + "*") == []


def test_org_spend_reads_the_mapping_from_the_org_github_config(
    github_double: GitHubDouble, app_key, redis_server, redis_client, double, clock
) -> None:
    """The clock task's path: installed org → its `.github` config → `costs.openai`."""
    PARSED.clear()
    github_double.add_installation(4321, account="octo-org", repos=["octo-org/app"])
    github_double.add_repo("octo-org/.github", installation_id=4321)
    config = (
        "costs:\n  openai:\n    projects: {proj_web: web}\n    api_keys: {key_stray: platform}\n"
    )
    github_double.put_files("octo-org/.github", "c0ffee" * 6 + "abcd",
                            {".github/codex-guard.yml": config}, branch="main")  # fmt: skip
    settings = app_settings(
        app_key,
        redis_server,
        GITHUB_API_URL=github_double.base_url,
        OPENAI_ADMIN_KEY=double.admin_key,
        OPENAI_API_BASE=double.base_url + "/v1",
    )
    svc = Services.from_settings(settings)
    Store(redis_client).note_installation("octo-org/app", 4321)
    seed_day(double, DAYS[0])
    assert org_spend.run_for(svc, days=3, sleep=clock.sleep, now=NOW) == 3
    spend = org_spend.org_spend(redis_client, SINCE, UNTIL)
    got = {t.team: t.billed for t in spend.teams}
    # key_ci's own mapping is gone here: it counts for web through its project.
    assert got == {"web": Decimal("3.00"), "platform": Decimal("0.25"), None: Decimal("0.50")}
    assert [k.api_key_id for k in spend.unattributed_keys] == ["key_etl"]
    github_double.assert_clean()
    PARSED.clear()


def test_without_a_key_the_job_reads_nothing(app_key, redis_server, redis_client, double):
    svc = Services.from_settings(app_settings(app_key, redis_server))
    assert svc.settings.openai_admin_key is None
    assert org_spend.run_for(svc) == 0
    assert double.requests == [] and redis_client.keys(org_spend.PREFIX + "*") == []


# -- the clock's task and schedule ------------------------------------------------------


@pytest.fixture
def worker_env(monkeypatch, app_key, redis_server):
    """The worker's settings from the environment, as `worker.main` reads them."""
    from worker import cost_tasks, tasks

    for name, value in {
        "APP_ID": "424242",
        "PRIVATE_KEY": app_key[0],
        "WEBHOOK_SECRET": "secret",
        "REDIS_URL": redis_server.url,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.setattr(tasks, "_services", None)  # settings are read once per process
    monkeypatch.setattr(cost_tasks, "_org_spend_off_noted", False)
    return monkeypatch


def test_without_a_key_the_task_returns_at_once_and_says_so_once(
    worker_env, redis_client, double, caplog
) -> None:
    from worker import cost_tasks

    with caplog.at_level(logging.INFO, logger="codex_guard.worker"):
        assert cost_tasks.org_spend.run() == 0
        assert cost_tasks.org_spend.run() == 0
    notes = [r for r in caplog.records if "OPENAI_ADMIN_KEY is not set" in r.getMessage()]
    assert len(notes) == 1 and double.requests == []


def test_with_a_key_the_task_reads_the_last_week(worker_env, redis_client, double) -> None:
    from worker import cost_tasks

    worker_env.setenv("OPENAI_ADMIN_KEY", double.admin_key)
    worker_env.setenv("OPENAI_API_BASE", double.base_url)
    today = datetime.now(UTC).date()
    double.seed_costs(today, costs_result("4.20", project_id="proj_x", api_key_id="key_x"))
    assert cost_tasks.org_spend.run() == org_spend.DEFAULT_DAYS
    spend = org_spend.org_spend(redis_client, datetime.now(UTC) - timedelta(days=7),
                                datetime.now(UTC))  # fmt: skip
    assert [(k.api_key_id, k.billed) for k in spend.unattributed_keys] == [
        ("key_x", Decimal("4.20"))
    ]
    assert not redis_client.exists("codex-guard:sweep-lock:org-spend")  # released


def test_the_daily_entry_is_scheduled_only_with_a_key(monkeypatch) -> None:
    from celery.schedules import crontab

    from worker.celery_app import ORG_SPEND_TASK, beat_schedule

    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    assert "org-spend" not in beat_schedule()
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-anything")
    entry = beat_schedule()["org-spend"]
    assert entry["task"] == ORG_SPEND_TASK
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == {3}


def test_the_clock_queues_one_read_soon_after_it_starts(monkeypatch, redis_server, redis_client):
    from types import SimpleNamespace

    from tests.receiver_rig import queued
    from worker.celery_app import ORG_SPEND_TASK, make_celery, read_org_spend_at_start

    beat = SimpleNamespace(app=make_celery(redis_server.url))
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    read_org_spend_at_start(sender=beat)
    assert queued(redis_client) == []
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-anything")
    read_org_spend_at_start(sender=beat)
    [(task, _)] = queued(redis_client)
    assert task == ORG_SPEND_TASK
    headers = json.loads(redis_client.lindex("codex-guard", 0))["headers"]
    assert headers["eta"] is not None and headers["expires"] is not None


def test_the_settings_keep_the_key_out_of_sight(app_key, redis_server) -> None:
    from bot.runtime.settings import SettingsError

    key = "sk-admin-secret-value-0042"
    settings = app_settings(app_key, redis_server, OPENAI_ADMIN_KEY=key,
                            OPENAI_API_BASE="https://proxy.example/v1/")  # fmt: skip
    assert settings.openai_admin_key == key and key not in repr(settings)
    assert settings.openai_api_base == "https://proxy.example"
    assert app_settings(app_key, redis_server).openai_api_base == "https://api.openai.com"
    with pytest.raises(SettingsError) as bad:
        app_settings(app_key, redis_server, OPENAI_ADMIN_KEY="sk-admin-two\nlines")
    assert "OPENAI_ADMIN_KEY" in str(bad.value) and "lines" not in str(bad.value)
    with pytest.raises(SettingsError, match="OPENAI_API_BASE"):
        app_settings(app_key, redis_server, OPENAI_ADMIN_KEY=key, OPENAI_API_BASE="api.openai")


def test_openai_s_own_error_text_is_logged_without_the_key(redis_client, double, clock, caplog):
    message = f"bad group_by for key {double.admin_key}\n\x1b!"
    echo = {"error": {"message": message, "type": "invalid_request_error", "param": None,
                      "code": None}}  # fmt: skip
    double.answer_next(1, json.dumps(echo).encode(), status=400)
    with caplog.at_level(logging.WARNING, logger="codex_guard.costs"):
        assert run(redis_client, client_for(double, clock)) == 0
    assert "OpenAI answered 400: bad group_by for key *** !" in caplog.text
    assert double.admin_key not in caplog.text and "\x1b" not in caplog.text
    assert clock.waits == []  # a 400 is not retried
