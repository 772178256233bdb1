"""One codex-guard check run per head SHA, and a check closed as "could not finish"
is brought back by the next evaluation (review findings; real Redis, a recording
stand-in for the GitHub gateway)."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

from bot.core.config import DEFAULT_CONFIG
from bot.core.snapshot import PRSnapshot
from bot.jobs import pipeline
from bot.jobs.store import Store
from bot.practices.evaluation import evaluate

REPO = "octo-org/app"
SHA = "a" * 40


class RecordingGateway:
    """Records check-run writes; creating one takes a while, like GitHub under load."""

    def __init__(self, create_delay: float = 0.0) -> None:
        self.create_delay = create_delay
        self.created: list[dict[str, Any]] = []
        self.updated: list[tuple[int, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._next = 1000

    def create_check(self, repo: str, sha: str, **fields: Any) -> int:
        time.sleep(self.create_delay)
        with self._lock:
            self._next += 1
            self.created.append({"repo": repo, "sha": sha, **fields})
            return self._next

    def update_check(self, repo: str, check_id: int, **fields: Any) -> None:
        self.updated.append((check_id, fields))


def snapshot() -> PRSnapshot:
    return PRSnapshot(
        repo=REPO,
        number=7,
        title="Tidy the README",
        body="A person's PR.",
        author="octocat",
        head_sha=SHA,
        head_ref="docs/readme",
        base_ref="main",
    )


def test_two_jobs_starting_the_same_head_create_one_check_run(redis_client):
    """A `pull_request` job and a CI (`status`) job are coalesced under different keys, so
    both can reach `_start_check` for one SHA before either has remembered a check id."""
    gw = RecordingGateway(create_delay=0.3)
    store = Store(redis_client)
    ids: list[int] = []

    def start() -> None:
        ids.append(pipeline._start_check(gw, Store(redis_client), REPO, SHA).id)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(gw.created) == 1, gw.created
    assert ids[0] == ids[1] == store.check_id(REPO, SHA)


def test_two_publishes_of_a_new_head_create_one_check_run(redis_client):
    """The not-Codex path publishes without `_start_check`: same guarantee."""
    gw = RecordingGateway(create_delay=0.3)
    snap = snapshot()
    evaluation = evaluate(snap, DEFAULT_CONFIG)

    def publish() -> None:
        pipeline.publish_check(gw, Store(redis_client), snap, evaluation, None)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(gw.created) == 1, gw.created
    # The one that did not create still wrote its (identical) result to that run.
    assert all(check_id == 1001 for check_id, _ in gw.updated)


def test_a_check_closed_as_could_not_finish_is_rewritten_by_the_next_evaluation(redis_client):
    from worker import tasks

    gw = RecordingGateway()
    store = Store(redis_client)
    snap = snapshot()
    evaluation = evaluate(snap, DEFAULT_CONFIG)
    check_id = pipeline.publish_check(gw, store, snap, evaluation, None)
    assert gw.created[-1]["conclusion"] == "success"

    # A later job for the same head gave up after its retries.
    svc = SimpleNamespace(gateway=lambda _installation: gw, store=store)
    job = {"repo": REPO, "head_sha": SHA, "installation_id": 1}
    tasks._mark_unfinished(svc, job, "GitHub answered 502")
    assert gw.updated[-1][1]["conclusion"] == "failure"

    # The next (unforced) evaluation finds the same result: the check must say so again.
    gw.updated.clear()
    pipeline.publish_check(gw, store, snap, evaluation, None)
    assert gw.updated, "the check run was left saying the evaluation could not finish"
    assert gw.updated[0][0] == check_id
    assert gw.updated[0][1]["conclusion"] == "success"


def test_a_check_closed_by_the_stuck_check_sweeper_is_rewritten_by_the_next_evaluation(
    redis_client, monkeypatch
):
    from bot.jobs import sweeper

    gw = RecordingGateway()
    store = Store(redis_client)
    snap = snapshot()
    evaluation = evaluate(snap, DEFAULT_CONFIG)
    check_id = pipeline.publish_check(gw, store, snap, evaluation, None)

    # The sweeper saw the run in progress too often and closed it.
    store.remember_check(REPO, SHA, check_id)
    store.note_installation(REPO, 1)
    for _ in range(sweeper.MAX_SWEEPS_PER_CHECK):
        store.touch_open_check(REPO, SHA, check_id)
    own = pipeline.ExistingCheck(
        id=check_id, status="in_progress", conclusion=None, summary=None, title=None
    )
    gw.ci_evidence = lambda repo, sha: ([], own)  # type: ignore[attr-defined]
    svc = SimpleNamespace(
        gateway=lambda _installation: gw,
        store=store,
        settings=SimpleNamespace(allows=lambda _repo: True),
    )
    monkeypatch.setenv("STUCK_CHECK_SECONDS", "0")
    sweeper.sweep_stuck_checks(svc, celery=object(), now=time.time() + 1)
    assert gw.updated[-1][1]["conclusion"] == "failure"

    gw.updated.clear()
    pipeline.publish_check(gw, store, snap, evaluation, None)
    assert gw.updated and gw.updated[0][1]["conclusion"] == "success"
