"""The Redis-backed debouncer: one job per burst, the newest state wins, nothing is lost."""

from __future__ import annotations

import threading
import time

import redis

from bot.jobs.coalesce import Coalescer


def ts(second: int) -> str:
    return f"2025-01-31T10:{second // 60:02d}:{second % 60:02d}Z"


def test_first_offer_asks_for_a_job_later_ones_ride_along(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client, window_seconds=1.0)
    assert c.offer("o/r#1", {"body": "a"}, ts(1)) is True
    assert c.offer("o/r#1", {"body": "b"}, ts(2)) is False
    assert c.offer("o/r#1", {"body": "c"}, ts(3)) is False
    assert c.pending("o/r#1")
    assert c.take("o/r#1") == {"body": "c"}
    assert not c.pending("o/r#1")


def test_keys_are_independent(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client)
    assert c.offer("o/r#1", {"n": 1}, ts(1)) is True
    assert c.offer("o/r#2", {"n": 2}, ts(1)) is True
    assert c.take("o/r#1") == {"n": 1}
    assert c.take("o/r#2") == {"n": 2}


def test_an_older_event_never_replaces_a_newer_state(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client)
    c.offer("k", {"body": "new"}, ts(10))
    c.offer("k", {"body": "old"}, ts(5))
    assert c.take("k") == {"body": "new"}
    # Even after the take, a late older event does not bring the old state back...
    assert c.offer("k", {"body": "older still"}, ts(1)) is True  # ...but it does queue a job
    assert c.take("k") == {"body": "new"}


def test_equal_timestamps_the_later_arrival_wins(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client)
    c.offer("k", {"ci": "pending"}, ts(7))
    c.offer("k", {"ci": "green"}, ts(7))
    assert c.take("k") == {"ci": "green"}


def test_take_without_offer_is_none_and_offer_after_take_queues_again(
    redis_client: redis.Redis,
) -> None:
    c = Coalescer(redis_client)
    assert c.take("nothing") is None
    assert c.offer("k", {"v": 1}, ts(1)) is True
    assert c.take("k") == {"v": 1}
    # An event that arrives while the taken job runs must get a job of its own.
    assert c.offer("k", {"v": 2}, ts(2)) is True
    assert c.take("k") == {"v": 2}


def test_release_lets_a_redelivery_queue_a_job(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client)
    assert c.offer("k", {"v": 1}, ts(1)) is True
    c.release("k")  # the enqueue failed; the receiver answered 503
    assert c.offer("k", {"v": 1}, ts(1)) is True


def test_a_pending_mark_never_taken_expires(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client, window_seconds=0.1, pending_ttl=1)
    assert c.offer("k", {"v": 1}, ts(1)) is True  # the job for this is lost
    assert c.offer("k", {"v": 2}, ts(2)) is False
    assert 0 < redis_client.ttl("codex-guard:coalesce:k:pending") <= 1
    deadline = time.monotonic() + 5
    while c.pending("k") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert c.offer("k", {"v": 3}, ts(3)) is True  # not stuck: the next event queues a job
    assert c.take("k") == {"v": 3}


def test_state_keys_expire_too(redis_client: redis.Redis) -> None:
    c = Coalescer(redis_client, state_ttl=30)
    c.offer("k", {"v": 1}, ts(1))
    assert 0 < redis_client.ttl("codex-guard:coalesce:k:state") <= 30


def test_concurrent_offers_queue_exactly_one_job_and_keep_the_newest(
    redis_client: redis.Redis, redis_server
) -> None:
    c = Coalescer(redis_client)
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(16)

    def offer(i: int) -> None:
        mine = Coalescer(redis_server.client())
        barrier.wait()
        for j in range(10):
            second = j * 16 + i
            got = mine.offer("pr", {"second": second}, ts(second))
            with lock:
                results.append(got)

    threads = [threading.Thread(target=offer, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 160
    assert results.count(True) == 1
    assert c.take("pr") == {"second": 159}


def test_concurrent_producers_and_a_consumer_lose_no_event(
    redis_client: redis.Redis, redis_server
) -> None:
    """Every offer is covered by a take that sees its state or a newer one."""
    redis_client.ping()  # the fixture flushes the keys
    offered: list[int] = []
    jobs: list[int] = []  # one entry per True offer (a queued job)
    taken: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def produce(i: int) -> None:
        mine = Coalescer(redis_server.client())
        for j in range(40):
            second = j * 4 + i
            if mine.offer("pr", {"second": second}, ts(second)):
                with lock:
                    jobs.append(second)
            with lock:
                offered.append(second)
            time.sleep(0.001)

    def consume() -> None:
        mine = Coalescer(redis_server.client())
        while not stop.is_set():
            with lock:
                ready = len(jobs) > len(taken)
            if ready:
                state = mine.take("pr")
                assert state is not None
                with lock:
                    taken.append(state["second"])
            else:
                time.sleep(0.001)

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [threading.Thread(target=produce, args=(i,)) for i in range(4)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if len(taken) == len(jobs):
                break
        time.sleep(0.01)
    stop.set()
    consumer.join(timeout=10)
    assert len(taken) == len(jobs) >= 1
    assert max(taken) == max(offered) == 159  # the last take saw the newest state


def test_leading_edge_a_lone_event_runs_now_and_one_inside_the_window_waits(
    redis_client: redis.Redis,
) -> None:
    c = Coalescer(redis_client, window_seconds=0.3)
    assert c.offer_delay("k", {"v": 1}, ts(1)) == 0.0  # nothing evaluated k lately: at once
    assert c.offer_delay("k", {"v": 2}, ts(2)) is None  # that job is still pending
    assert c.take("k") == {"v": 2}
    # The take started an evaluation: the next event waits out the window.
    assert c.offer_delay("k", {"v": 3}, ts(3)) == 0.3
    assert c.offer_delay("k", {"v": 4}, ts(4)) is None
    assert c.take("k") == {"v": 4}
    deadline = time.monotonic() + 5
    while redis_client.exists(Coalescer.keys("k")[3]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert c.offer_delay("k", {"v": 5}, ts(5)) == 0.0  # quiet again: the leading edge
