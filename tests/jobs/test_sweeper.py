"""The clock's sweeps, unit by unit, against the GitHub double and a real Redis.

- Missed deliveries: which entries of the App's delivery log are asked for again
  (`POST /app/hook/deliveries/{id}/attempts`, recorded in `double.world.redeliveries`).
- Stuck checks: a codex-guard check run left in progress is re-queued a bounded number
  of times, then closed as "could not finish".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from github_double import GitHubDouble
from github_double.models import Delivery

from bot.jobs import sweeper
from bot.jobs.deliveries import DeliveryLedger
from bot.jobs.pipeline import Services
from tests.receiver_rig import app_settings, queued
from worker.celery_app import make_celery

pytest_plugins = ["tests.double_fixtures"]

INSTALLATION = 4321
REPO = "octo-org/app"
DAY = 24 * 3600


@pytest.fixture
def svc(github_double: GitHubDouble, app_key, redis_server, redis_client) -> Iterator[Services]:
    settings = app_settings(
        app_key,
        redis_server,
        GITHUB_API_URL=github_double.base_url,
        GITHUB_SECONDS_BETWEEN_WRITES="0",
    )
    yield Services.from_settings(settings)
    github_double.assert_clean()  # every request and response matched GitHub's contract


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("RETRY_BASE_SECONDS", "0.01")
    for name in ("REDELIVERY_COOLDOWN_SECONDS", "STUCK_CHECK_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def logged(double: GitHubDouble, status_code: int, **kw) -> Delivery:
    """A delivery in the App's log, as GitHub records it."""
    return double.add_delivery(
        "pull_request", "opened", installation_id=INSTALLATION, status_code=status_code, **kw
    )


def stamp(seconds_ago: float) -> str:
    return datetime.fromtimestamp(time.time() - seconds_ago, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- missed deliveries -----------------------------------------------------------------------


def test_failed_deliveries_are_redelivered_and_successful_ones_are_not(
    svc, github_double, redis_client
):
    failed = [logged(github_double, code) for code in (0, 400, 404, 500, 502, 503, 504)]
    for code in (200, 201, 202, 204, 301, 302, 304):
        logged(github_double, code)
    assert sweeper.sweep_missed_deliveries(svc) == len(failed)
    assert sorted(github_double.world.redeliveries) == sorted(d.id for d in failed)
    ledger = DeliveryLedger(redis_client)
    assert [ledger.asked_redelivery(d.guid) for d in failed] == [1] * len(failed)


def test_each_ask_is_logged_with_the_event_and_what_github_got(svc, github_double, caplog):
    no_answer = logged(github_double, 0)
    refused = logged(github_double, 503)
    caplog.set_level(logging.INFO, "codex_guard.sweeper")
    assert sweeper.sweep_missed_deliveries(svc) == 2
    assert sorted(caplog.messages) == sorted(
        [
            f"asked GitHub to redeliver {no_answer.guid} (pull_request.opened, answered nothing)",
            f"asked GitHub to redeliver {refused.guid} (pull_request.opened, answered 503)",
        ]
    )


def test_guids_the_receiver_already_queued_are_not_redelivered(svc, github_double, redis_client):
    done = logged(github_double, 503)
    being_queued = logged(github_double, 502)
    missed = logged(github_double, 503)
    ledger = DeliveryLedger(redis_client)
    ledger.confirm(done.guid)  # GitHub timed out, but the jobs were queued
    assert ledger.claim(being_queued.guid)  # a receiver is queuing it right now
    assert sweeper.sweep_missed_deliveries(svc) == 1
    assert github_double.world.redeliveries == [missed.id]
    assert ledger.asked_redelivery(done.guid) == ledger.asked_redelivery(being_queued.guid) == 0


def test_failed_redeliveries_are_not_themselves_redelivered(svc, github_double):
    again = logged(github_double, 503)
    again.redelivery = True  # someone else's redelivery; its original is not in the log
    assert sweeper.sweep_missed_deliveries(svc) == 0
    assert github_double.world.redeliveries == []


def test_deliveries_older_than_three_days_are_left_alone(svc, github_double):
    too_old = logged(github_double, 503)
    too_old.delivered_at = stamp(3 * DAY + 60)
    recent = logged(github_double, 503)
    recent.delivered_at = stamp(3 * DAY - 3600)
    assert sweeper.sweep_missed_deliveries(svc) == 1
    assert github_double.world.redeliveries == [recent.id]


def test_reading_the_log_stops_at_the_first_delivery_older_than_three_days(svc, github_double):
    # Newest first: the old ones sit on the pages after it and are never read.
    for _ in range(150):
        logged(github_double, 503).delivered_at = stamp(4 * DAY)
    for _ in range(3):
        logged(github_double, 200)
    assert sweeper.sweep_missed_deliveries(svc) == 0
    assert len(github_double.calls("GET", r"^/app/hook/deliveries$")) == 1


def test_a_failure_on_a_later_page_is_found(svc, github_double):
    missed = logged(github_double, 502)
    for _ in range(150):
        logged(github_double, 200)
    assert sweeper.sweep_missed_deliveries(svc) == 1
    assert github_double.world.redeliveries == [missed.id]
    assert len(github_double.calls("GET", r"^/app/hook/deliveries$")) == 2


def test_a_guid_with_a_later_successful_attempt_is_not_redelivered(svc, github_double):
    first = logged(github_double, 503)
    later = logged(github_double, 200, guid=first.guid)
    later.redelivery = True  # e.g. an operator pressed "Redeliver"
    still_failing = logged(github_double, 502)
    retried_and_failed = logged(github_double, 503, guid=still_failing.guid)
    retried_and_failed.redelivery = True
    assert sweeper.sweep_missed_deliveries(svc) == 1
    assert github_double.world.redeliveries == [still_failing.id]


def _fail_the_redeliveries(double: GitHubDouble) -> None:
    """Play GitHub: the redelivery it just made failed again (the outage goes on)."""
    for d in list(double.world.deliveries.values()):
        if d.redelivery:
            d.status_code, d.status = 503, "Invalid HTTP Response: 503"


def test_a_guid_is_asked_for_again_only_after_the_cooldown_and_at_most_three_times(
    svc, github_double, redis_client, monkeypatch
):
    monkeypatch.setenv("REDELIVERY_COOLDOWN_SECONDS", "1")
    failing = logged(github_double, 503)
    asked = []
    for _ in range(4):
        asked.append(sweeper.sweep_missed_deliveries(svc))
        _fail_the_redeliveries(github_double)
        asked.append(sweeper.sweep_missed_deliveries(svc))  # within the cooldown
        time.sleep(1.1)
    assert asked == [1, 0, 1, 0, 1, 0, 0, 0]
    assert github_double.world.redeliveries == [failing.id] * 3
    assert DeliveryLedger(redis_client).asked_redelivery(failing.guid) >= 3


def test_default_cooldown_is_an_hour(svc, github_double, redis_client):
    failing = logged(github_double, 503)
    assert sweeper.sweep_missed_deliveries(svc) == 1
    _fail_the_redeliveries(github_double)
    assert sweeper.sweep_missed_deliveries(svc) == 0
    ttl = redis_client.ttl(f"codex-guard:redelivery-asked:{failing.guid}:recent")
    assert 3500 < ttl <= 3600


def test_an_ask_github_did_not_take_is_not_counted(svc, github_double, redis_client, caplog):
    failing = logged(github_double, 503)
    fault = github_double.inject(
        "POST", rf"^/app/hook/deliveries/{failing.id}/attempts$", 502, times=100
    )
    caplog.set_level(logging.WARNING, "codex_guard.sweeper")
    assert sweeper.sweep_missed_deliveries(svc) == 0
    assert [m for m in caplog.messages if m.startswith("could not ask for a redelivery")]
    assert github_double.world.redeliveries == []
    fault.times = 0
    assert sweeper.sweep_missed_deliveries(svc) == 1  # no cooldown for an ask that failed
    assert github_double.world.redeliveries == [failing.id]
    assert DeliveryLedger(redis_client).asked_redelivery(failing.guid) == 1


# -- stuck check runs ------------------------------------------------------------------------


def _stuck_check(svc: Services, double: GitHubDouble, sha: str, number: int = 7) -> int:
    """What a worker host lost right after starting the check run leaves behind."""
    double.add_installation(INSTALLATION, "octo-org", repos=[REPO])
    double.put_files(REPO, sha, {"README.md": "hi\n"})
    check_id = svc.gateway(INSTALLATION).create_check(
        REPO, sha, status="in_progress", output={"title": "Evaluating…", "summary": "…"}
    )
    svc.store.remember_check(REPO, sha, check_id)
    svc.store.index_sha(REPO, sha, number)
    svc.store.note_installation(REPO, INSTALLATION)
    return check_id


def test_stuck_check_is_requeued_three_times_then_closed_as_could_not_finish(
    svc, github_double, redis_client, caplog
):
    sha = "a" * 40
    check_id = _stuck_check(svc, github_double, sha)
    celery = make_celery(svc.settings.redis_url)
    caplog.set_level(logging.INFO, "codex_guard.sweeper")
    assert sweeper.sweep_stuck_checks(svc, celery) == 0  # not in progress long enough yet
    later = [sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 901) for _ in range(4)]
    assert later == [1, 1, 1, 0]
    jobs = queued(redis_client)
    assert [t for t, _ in jobs] == ["codex_guard.evaluate_sha"] * 3
    assert all(
        (k["repo"], k["head_sha"], k["pull_numbers"], k["force"], k["reason"])
        == (REPO, sha, [7], True, "stuck-check")
        for _, k in jobs
    )
    [run] = github_double.check_runs(REPO, head_sha=sha, name="codex-guard")
    assert run.id == check_id
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert run.output["title"] == "Evaluation could not finish"
    assert "Re-run" in run.output["summary"]
    assert "/codex-guard recheck" in run.output["summary"]
    assert [a["identifier"] for a in run.actions] == ["rerun"]
    assert any("closed as could-not-finish" in m for m in caplog.messages)
    # Forgotten: later sweeps neither re-queue nor write it again.
    patches = len(github_double.calls("PATCH"))
    assert svc.store.open_checks(time.time() + 10_000) == []
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 2000) == 0
    assert len(queued(redis_client)) == 3
    assert len(github_double.calls("PATCH")) == patches


def test_stuck_check_seconds_sets_how_long_in_progress_is_too_long(
    svc, github_double, redis_client, monkeypatch
):
    _stuck_check(svc, github_double, "b" * 40)
    celery = make_celery(svc.settings.redis_url)
    monkeypatch.setenv("STUCK_CHECK_SECONDS", "60")
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 30) == 0
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 61) == 1


def test_a_check_that_completed_meanwhile_is_dropped_without_a_requeue(
    svc, github_double, redis_client
):
    sha = "c" * 40
    check_id = _stuck_check(svc, github_double, sha)
    svc.gateway(INSTALLATION).update_check(REPO, check_id, status="completed", conclusion="success")
    celery = make_celery(svc.settings.redis_url)
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 901) == 0
    assert queued(redis_client) == []
    assert svc.store.open_checks(time.time() + 10_000) == []


def test_a_stuck_check_in_a_repository_outside_the_allowlist_is_dropped(
    svc, github_double, redis_client
):
    from dataclasses import replace

    sha = "d" * 40
    _stuck_check(svc, github_double, sha)
    svc.settings = replace(svc.settings, allowed_owners=frozenset({"someone-else"}))
    celery = make_celery(svc.settings.redis_url)
    before = len(github_double.requests)
    assert sweeper.sweep_stuck_checks(svc, celery, now=time.time() + 901) == 0
    assert queued(redis_client) == []
    assert svc.store.open_checks(time.time() + 10_000) == []
    assert len(github_double.requests) == before  # not even read


def test_a_failing_sweep_is_logged_and_releases_its_lock(redis_client, caplog):
    from bot.jobs import sweeper as sweeper_module

    def broken() -> int:
        raise RuntimeError("GitHub said no")

    assert sweeper_module.run_locked(redis_client, "demo", broken) == 0
    assert "sweep demo failed" in caplog.text
    assert sweeper_module.run_locked(redis_client, "demo", lambda: 3) == 3
