"""Writing to GitHub: the one check run per head SHA and the one comment per PR.

Two jobs for one head may run at once, so creation goes through a short Redis
claim, and what was last written is remembered so an unchanged result costs no
GitHub call.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from github import GithubException

from bot.core.config import GuardConfig
from bot.core.snapshot import PRSnapshot
from bot.github.gateway import ExistingCheck, Gateway, now_iso
from bot.jobs.store import Store
from bot.practices.evaluation import Evaluation
from bot.present.annotations import batches
from bot.present.check_run import RERUN_ACTION, check_run_output
from bot.present.check_run import conclusion as check_conclusion
from bot.present.comment import COMMENT_MARKER, comment_body, should_comment
from bot.present.wording import CostView

# One logger name for the whole pipeline: operators and the e2e tests filter on it.
log = logging.getLogger("codex_guard.pipeline")


CHECK_CLAIM_WAIT_SECONDS = 20.0
IN_PROGRESS_AFTER_SECONDS = 1.0
"""An evaluation still running after this long shows an ``in_progress`` check first."""


class StillBeingCreated(Exception):
    """Another job is creating the check run (or PR comment) and has not finished: retry."""


def create_check_once(
    gw: Gateway, store: Store, repo: str, sha: str, **fields: Any
) -> tuple[int, bool]:
    """codex-guard's one check run on ``sha``: (id, True) if this call created it.

    Two jobs for one head (a PR event and a CI event are coalesced apart) must not
    both create one, so creating takes a short Redis claim; the other job waits for
    the id instead.
    """
    check_id = store.check_id(repo, sha)
    if check_id is not None:
        return check_id, False
    if store.claim_check_creation(repo, sha):
        try:
            check_id = store.check_id(repo, sha)
            if check_id is not None:
                return check_id, False
            check_id = gw.create_check(repo, sha, **fields)
            store.remember_check(repo, sha, check_id)
            return check_id, True
        finally:
            store.release_check_claim(repo, sha)
    deadline = time.monotonic() + CHECK_CLAIM_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        check_id = store.check_id(repo, sha)
        if check_id is not None:
            return check_id, False
    raise StillBeingCreated(f"check run on {repo}@{sha[:12]}")


def _create_comment_once(
    gw: Gateway, store: Store, repo: str, number: int, body: str
) -> tuple[int, bool]:
    """The PR's one comment: (id, True) if this call created it (see `create_check_once`)."""
    if store.claim_comment_creation(repo, number):
        try:
            comment_id = store.comment_id(repo, number)
            if comment_id is not None:
                return comment_id, False
            comment_id = gw.create_comment(repo, number, body)
            store.remember_comment(repo, number, comment_id)
            return comment_id, True
        finally:
            store.release_comment_claim(repo, number)
    deadline = time.monotonic() + CHECK_CLAIM_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.05)
        comment_id = store.comment_id(repo, number)
        if comment_id is not None:
            return comment_id, False
    raise StillBeingCreated(f"comment on {repo}#{number}")


def published_key(repo: str, sha: str) -> str:
    """Cache key of the digest of what the check run on ``sha`` last showed."""
    return f"published:{repo}:{sha}"


def start_check(gw: Gateway, store: Store, repo: str, sha: str) -> ExistingCheck:
    check_id, _ = create_check_once(
        gw,
        store,
        repo,
        sha,
        status="in_progress",
        started_at=now_iso(),
        output={"title": "Evaluating…", "summary": "codex-guard is reading this PR."},
    )
    return ExistingCheck(
        id=check_id, status="in_progress", conclusion=None, summary=None, title=None
    )


class SlowStart:
    """The ``in_progress`` check run, created only when the evaluation turns out slow.

    A quick evaluation (the usual case: milliseconds after the reads) then costs one
    create that is already ``completed``, not a create and a patch. The timer runs in
    its own thread with its own gateway (a client is not shared across threads).
    """

    def __init__(
        self,
        make_gateway: Callable[[], Gateway],
        store: Store,
        repo: str,
        sha: str,
        after: float = IN_PROGRESS_AFTER_SECONDS,
        held: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._make_gateway = make_gateway
        self._held = held
        self._args = (store, repo, sha)
        self._lock = threading.Lock()
        self._stopped = False
        self.check: ExistingCheck | None = None
        context = contextvars.copy_context()  # the job's log fields, in the timer's lines
        self._timer = threading.Timer(after, lambda: context.run(self._fire))
        self._timer.daemon = True

    def start(self) -> SlowStart:
        self._timer.start()
        return self

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._held() > 0:  # GitHub told this installation to wait: no extra write
                log.info("check run not started early: GitHub asked to wait")
                return
            try:
                self.check = start_check(self._make_gateway(), *self._args)
            except Exception as exc:  # the final publish creates the check run anyway
                log.warning("could not start the check run early (%s)", type(exc).__name__)

    def stop(self) -> ExistingCheck | None:
        """No early check from here on; the one created already (waits for one in flight)."""
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            return self.check


def _annotation_key(annotation: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(annotation, sort_keys=True).encode()).hexdigest()[:16]


def publish_check(
    gw: Gateway,
    store: Store,
    snapshot: PRSnapshot,
    evaluation: Evaluation,
    existing: ExistingCheck | None,
    *,
    force: bool = False,
    cost: CostView | None = None,
) -> int | None:
    """Create or update codex-guard's one check run on the head SHA; skip it if unchanged.

    ``cost`` adds the informational `cost` row; a spent `error` budget fails the check."""
    repo, sha = snapshot.repo, snapshot.head_sha
    out = check_run_output(evaluation, snapshot, cost)
    status = "in_progress" if evaluation.pending else "completed"
    conclusion = None if evaluation.pending else check_conclusion(evaluation, cost)
    check_id = existing.id if existing else store.check_id(repo, sha)
    digest = hashlib.sha256(
        json.dumps([status, conclusion, out.title, out.summary, out.text, out.annotations]).encode()
    ).hexdigest()
    published = published_key(repo, sha)
    if check_id is not None and not force and store.cached(published) == digest:
        log.info("check run unchanged; nothing written")
        return check_id
    sent_key = f"annotations:{repo}:{sha}"
    sent = set(json.loads(store.cached(sent_key) or "[]"))
    fresh = [a for a in out.annotations if _annotation_key(a) not in sent]
    groups = batches(fresh) or [[]]
    fields: dict[str, Any] = {
        "status": status,
        "external_id": f"{repo}#{snapshot.number}",
        "output": out.as_payload(groups[0]),
        "actions": [RERUN_ACTION],
    }
    if conclusion is not None:
        fields["conclusion"] = conclusion
        fields["completed_at"] = now_iso()
    created = False
    if check_id is None:
        check_id, created = create_check_once(gw, store, repo, sha, **fields)
    if not created:
        gw.update_check(repo, check_id, **fields)
    for group in groups[1:]:
        gw.update_check(
            repo,
            check_id,
            # The whole output again, so no batch can leave the check without its details.
            output=out.as_payload(group),
        )
    if fresh:
        sent.update(_annotation_key(a) for a in fresh)
        store.cache(sent_key, json.dumps(sorted(sent)), 30 * 24 * 3600)
    store.cache(published, digest, 30 * 24 * 3600)
    return check_id


def publish_comment(
    gw: Gateway,
    store: Store,
    snapshot: PRSnapshot,
    evaluation: Evaluation,
    config: GuardConfig,
    *,
    lookup: bool = True,
    created_at: str = "",
    cost: CostView | None = None,
) -> None:
    """Create, update or leave the one PR comment.

    Whether a comment exists is remembered in Redis; GitHub is asked (one list
    call) only the first time for a PR, and not at all for PRs the practices do
    not apply to (``lookup=False``), which only ever update a comment we know of,
    nor for PRs created (``created_at``) since Redis began remembering.
    """
    repo, number = snapshot.repo, snapshot.number
    known = store.comment_state(repo, number)
    comment_id = known or None
    previous: str | None = None
    if known is None and lookup and store.remembers_comments_of(created_at):
        # Any comment of ours on this PR would be remembered: there is none, no need to ask.
        store.remember_no_comment(repo, number)
        known = store.comment_state(repo, number)  # a job that just created one wins (nx)
        comment_id = known or None
    if known is None and lookup:
        found = gw.find_comment(repo, number, COMMENT_MARKER)
        if found:
            comment_id, previous = found
            store.remember_comment(repo, number, comment_id)
        else:
            store.remember_no_comment(repo, number)
    elif comment_id is not None:
        previous = store.cached(f"comment-body:{repo}#{number}")
    action = should_comment(evaluation, config.comment, comment_id is not None)
    if action == "none":
        return
    body = comment_body(evaluation, snapshot, cost)
    if body == previous:
        return
    try:
        if action == "update" and comment_id is not None:
            gw.edit_comment(repo, comment_id, body)
        else:
            comment_id, created = _create_comment_once(gw, store, repo, number, body)
            if not created:
                gw.edit_comment(repo, comment_id, body)
    except GithubException as exc:
        if exc.status != 404 or action != "update":
            raise
        comment_id = gw.create_comment(repo, number, body)  # deleted by a person: start again
        store.remember_comment(repo, number, comment_id)
    store.cache(f"comment-body:{repo}#{number}", body, 90 * 24 * 3600)
