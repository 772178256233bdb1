"""Writes are paced per installation across every worker process, within GitHub's secondary
limits, and a `Retry-After` from GitHub holds them everywhere (issue 14)."""

from __future__ import annotations

import itertools
import threading

import pytest
import redis

from bot.github.pacing import Limit, WritePacer, WritesDeferred, github_limits
from bot.github.retry import retry_after_seconds, retry_policy

pytest_plugins = ["tests.double_fixtures"]


def test_any_window_of_a_limit_holds_at_most_its_count() -> None:
    for limit in (Limit(80, 60.0), Limit(500, 3600.0), Limit(3, 1.0)):
        interval_ms, burst = limit.bucket()
        # GCRA admits at most burst + period / interval requests in any window of the period.
        assert burst + limit.period_seconds * 1000 / interval_ms <= limit.count
        assert burst >= 1 and interval_ms >= 1
    assert github_limits(80, 500) == (Limit(80, 60.0), Limit(500, 3600.0))
    assert github_limits(0, 0) == ()


def test_a_burst_goes_at_once_then_writes_are_spaced_across_processes(
    redis_server, redis_client: redis.Redis
) -> None:
    # Two pacers on two connections stand for two worker processes of one installation.
    limits = [Limit(8, 0.6)]  # burst 2, then one write every 100 ms
    one = WritePacer(redis_server.client(), limits)
    two = WritePacer(redis_server.client(), limits)
    waits = [p.reserve(7) for p in (one, two, one, two, one, two)]
    assert waits[:2] == [0.0, 0.0]
    spaced = waits[2:]
    assert spaced == sorted(spaced)  # each later slot is later
    for earlier, later in itertools.pairwise(spaced):
        assert 0.08 <= later - earlier <= 0.12
    # Another installation has its own buckets.
    assert one.reserve(8) == 0.0


def test_concurrent_reservations_never_share_a_slot(redis_server) -> None:
    limits = [Limit(5, 5.0)]  # burst 1, then one per 1.25 s
    waits: list[float] = []
    lock = threading.Lock()

    def grab() -> None:
        pacer = WritePacer(redis_server.client(), limits, sleep_at_most=60)
        w = pacer.reserve(11)
        with lock:
            waits.append(w)

    threads = [threading.Thread(target=grab) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    waits.sort()
    assert waits[0] == 0.0
    assert all(1.2 <= b - a <= 1.3 for a, b in itertools.pairwise(waits)), waits


def test_a_slot_too_far_away_defers_the_job_and_reserves_nothing(redis_server) -> None:
    pacer = WritePacer(redis_server.client(), [Limit(4, 40.0)], sleep_at_most=5)  # 1 per 13 s
    assert pacer.reserve(3) == 0.0
    with pytest.raises(WritesDeferred) as raised:
        pacer.reserve(3)
    assert 12 < raised.value.seconds <= 14
    with pytest.raises(WritesDeferred) as again:  # nothing was reserved by the refusal
        pacer.reserve(3)
    assert abs(again.value.seconds - raised.value.seconds) < 0.5


def test_retry_after_holds_every_process_writes(redis_server) -> None:
    one = WritePacer(redis_server.client(), [Limit(80, 60.0)], sleep_at_most=60)
    two = WritePacer(redis_server.client(), [Limit(80, 60.0)], sleep_at_most=60)
    one.hold(5, 3)
    assert 2.5 < two.reserve(5) <= 3.0
    one.hold(5, 1)  # a shorter hold never shortens a longer one
    assert 2.0 < two.reserve(5) <= 3.0
    assert two.reserve(6) == 0.0


def test_pacing_off_or_redis_gone_never_blocks_a_write(redis_server) -> None:
    assert WritePacer(redis_server.client(), []).reserve(1) == 0.0
    gone = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert WritePacer(gone, [Limit(1, 3600.0)]).reserve(1) == 0.0


def test_the_retry_policy_reports_retry_after_on_403_and_429() -> None:
    assert retry_after_seconds(429, {"Retry-After": "7"}) == 7.0
    assert retry_after_seconds(403, {"retry-after": "30"}) == 30.0
    assert retry_after_seconds(500, {"Retry-After": "7"}) is None
    assert retry_after_seconds(429, {"Retry-After": "soon"}) is None
    heard: list[float] = []
    policy = retry_policy(heard.append).new(total=3)  # urllib3 copies the policy per retry
    assert policy.on_retry_after is not None
    policy.on_retry_after(2.0)
    assert heard == [2.0]
    assert "PATCH" in policy.allowed_methods


def test_a_429_from_github_holds_the_installations_writes_in_every_process(
    github_double, seeded_pr, app_key, redis_client, redis_server
) -> None:
    """Against the double: one process's create is answered 429 with `Retry-After: 2`; while
    it waits, a second process's pacer already holds its writes for that installation."""
    from bot.github.gateway import Gateway
    from bot.github.tokens import TokenStore
    from bot.runtime.settings import load_settings
    from tests.conftest import APP_ID

    settings = load_settings({
        "APP_ID": str(APP_ID), "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": github_double.base_url,
    })  # fmt: skip
    installation = seeded_pr.installation_id
    tokens = TokenStore(settings, redis_client)
    pacer = WritePacer(redis_server.client(), github_limits(80, 500), sleep_at_most=60)
    gw = Gateway(settings, tokens, installation, pacer)
    github_double.inject("POST", r"/check-runs$", 429, headers={"Retry-After": "2"})
    created: list[int] = []
    worker = threading.Thread(
        target=lambda: created.append(gw.create_check(seeded_pr.repo, seeded_pr.head_sha))
    )
    worker.start()
    other = WritePacer(redis_server.client(), github_limits(80, 500), sleep_at_most=60)
    deadline = threading.Event()
    wait = 0.0
    for _ in range(40):  # the 429 arrives within a few ms; look until the hold is seen
        wait = other.reserve(installation)
        if wait > 0.5:
            break
        deadline.wait(0.05)
    worker.join(timeout=10)
    assert 0.5 < wait <= 2.0
    assert created and isinstance(created[0], int)  # the write itself went through on retry
    posts = [r for r in github_double.requests if r.method == "POST" and "check-runs" in r.path]
    assert [r.status for r in posts] == [429, 201]
