"""One PR comment even when two evaluations of a PR publish at once (review finding).

A `pull_request` job and a CI job for the same head are coalesced under different
keys, so both can find "no comment yet" and both create one.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.core.config import DEFAULT_CONFIG
from bot.core.snapshot import PRSnapshot
from bot.jobs import pipeline
from bot.jobs.store import Store
from bot.practices.detection import detect
from bot.practices.evaluation import config_error_evaluation

REPO = "octo-org/app"


class CommentGateway:
    def __init__(self) -> None:
        self.created: list[str] = []
        self.edited: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def find_comment(self, repo: str, number: int, marker: str) -> Any:
        return None

    def create_comment(self, repo: str, number: int, body: str) -> int:
        time.sleep(0.3)
        with self._lock:
            self.created.append(body)
            return 500 + len(self.created)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self.edited.append((comment_id, body))


def test_two_evaluations_publishing_at_once_create_one_comment(redis_client):
    snap = PRSnapshot(
        repo=REPO,
        number=3,
        title="t",
        body="b",
        author="octocat",
        head_sha="c" * 40,
        head_ref="codex/x",
        base_ref="main",
    )
    evaluation = config_error_evaluation(detect(snap, DEFAULT_CONFIG), "`x`: not a list")
    gw = CommentGateway()

    def publish() -> None:
        pipeline.publish_comment(gw, Store(redis_client), snap, evaluation, DEFAULT_CONFIG)

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(gw.created) == 1, gw.created
    assert Store(redis_client).comment_id(REPO, 3) == 501


def test_a_late_no_comment_lookup_does_not_forget_a_created_comment(redis_client):
    store = Store(redis_client)
    store.remember_comment(REPO, 4, 777)  # job A created it
    store.remember_no_comment(REPO, 4)  # job B's lookup ran before that and ends now
    assert store.comment_state(REPO, 4) == 777
