"""One job, from a queued event to a check run and a comment.

The order matters: read the PR (from the payload when possible), read the rules
from the base branch, gather a snapshot, run the pure practices, then write
only what changed. Writes for a head SHA that is no longer the PR's head never
touch the PR comment, so a slow, stale evaluation cannot overwrite a newer one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import redis
from github import GithubException

from bot import audit, scrub
from bot.config import DEFAULT_CONFIG, ConfigError, GuardConfig
from bot.config_source import load_for
from bot.detection import detect
from bot.evaluation import Evaluation, Override, config_error_evaluation, evaluate
from bot.gateway import ExistingCheck, Gateway, NotFound, at_least, now_iso
from bot.logs import log_context
from bot.metrics import observe_github, record_evaluation
from bot.practices.task_thread import codex_task_ids
from bot.report import (
    COMMENT_MARKER,
    RERUN_ACTION,
    batches,
    check_run_output,
    comment_body,
    should_comment,
)
from bot.settings import Settings
from bot.snapshot import PRSnapshot
from bot.snapshot_builder import build_snapshot
from bot.store import Store
from bot.tokens import TokenStore

log = logging.getLogger("codex_guard.pipeline")


@dataclass
class Services:
    """What a worker process holds for its lifetime."""

    settings: Settings
    redis: redis.Redis
    tokens: TokenStore
    store: Store

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=2)
        return cls(settings, client, TokenStore(settings, client), Store(client))

    def gateway(self, installation_id: int) -> Gateway:
        gw = Gateway(self.settings, self.tokens, installation_id)
        observe_github(gw.requester, self.redis, installation_id)
        return gw


def evaluate_pull(
    svc: Services,
    installation_id: int,
    repo: str,
    number: int,
    pr: dict[str, Any] | None = None,
    *,
    force: bool = False,
    delivery: str | None = None,
    gw: Gateway | None = None,
) -> Evaluation | None:
    """Evaluate one PR at its head and publish the result; None when there is nothing to do.

    ``gw``: the job's gateway when the caller already holds one (one per job).
    """
    if not _allowed(svc, repo):
        return None
    started = time.monotonic()
    if gw is None:
        gw = svc.gateway(installation_id)
    if pr is None:
        pr = gw.pull(repo, number)
    sha = pr["head_sha"]
    with log_context(installation=installation_id, repo=repo, pr=number, head_sha=sha):
        if pr.get("state", "open") != "open":
            log.info("skipped: PR is %s", pr.get("state"))
            return None
        latest = svc.store.note_head(repo, number, sha, pr.get("updated_at") or "")
        svc.store.index_sha(repo, sha, number)
        config, config_error = _config(gw, svc.store, repo, pr)
        probe = build_snapshot(gw, svc.store, repo, pr, config, [], practices_apply=False)
        detection = detect(probe, config)
        applies = detection.codex_authored or config.applies_to == "all"
        own: ExistingCheck | None = None
        if config_error is not None:
            snapshot, evaluation = probe, config_error_evaluation(detection, config_error)
        elif not applies:
            # Not ours to judge: no CI, tree or file reads, just a passing check.
            snapshot, evaluation = probe, evaluate(probe, config)
        else:
            evidence, own = gw.ci_evidence(repo, sha)
            if own is None:
                own = _start_check(gw, svc.store, repo, sha)
            snapshot = build_snapshot(
                gw, svc.store, repo, pr, config, evidence, practices_apply=True, probe=probe
            )
            overrides = tuple(
                Override(practice=p, by=o["by"], reason=o["reason"])
                for p, o in svc.store.overrides(repo, number).items()
            )
            evaluation = evaluate(snapshot, config, overrides)
        # Every secret in the snapshot is masked in all that leaves from here on.
        scrubber = scrub.for_snapshot(snapshot)
        evaluation = scrubber.evaluation(evaluation)
        with scrub.using(scrubber):
            ids = list(codex_task_ids(snapshot.body)) if detection.codex_authored else []
            svc.store.record_tasks(repo, number, ids)
            publish_check(gw, svc.store, snapshot, evaluation, own, force=force)
            if latest == sha:  # a newer head may have arrived while this one was evaluated
                latest = svc.store.latest_head(repo, number) or latest
            if latest == sha and not evaluation.pending:
                publish_comment(gw, svc.store, snapshot, evaluation, config, lookup=applies)
            elif latest != sha:
                log.info("head moved on to %s; comment left to the newer evaluation", latest[:12])
            _observe(svc, evaluation, repo, number, sha, pr, installation_id, delivery, started)
            log.info(
                "evaluated: %s%s",
                evaluation.conclusion,
                " (waiting for CI)" if evaluation.pending else "",
                extra={
                    "fields": {
                        "codex": detection.codex_authored,
                        "outcomes": {k: str(v.outcome) for k, v in evaluation.results.items()},
                    }
                },
            )
            return evaluation


def _observe(
    svc: Services,
    evaluation: Evaluation,
    repo: str,
    number: int,
    sha: str,
    pr: dict[str, Any],
    installation_id: int,
    delivery: str | None,
    started: float,
) -> None:
    """Metrics and the audit trail; both best-effort, neither can fail the job."""
    record_evaluation(
        svc.redis,
        "pending" if evaluation.pending else evaluation.conclusion,
        {k: str(v.outcome) for k, v in evaluation.results.items()},
        time.monotonic() - started,
    )
    audit.append(
        svc.redis,
        audit.from_evaluation(
            evaluation,
            repository=repo,
            pr=number,
            head_sha=sha,
            person=pr.get("user") or "",
            delivery=delivery,
            installation=installation_id,
        ),
    )


def _config(
    gw: Gateway, store: Store, repo: str, pr: dict[str, Any]
) -> tuple[GuardConfig, str | None]:
    try:
        return load_for(gw, store, repo, pr.get("base_ref") or ""), None
    except ConfigError as exc:
        log.warning("invalid config: %s", exc)
        return DEFAULT_CONFIG, str(exc)


CHECK_CLAIM_WAIT_SECONDS = 20.0


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


def _start_check(gw: Gateway, store: Store, repo: str, sha: str) -> ExistingCheck:
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
) -> int | None:
    """Create or update codex-guard's one check run on the head SHA; skip it if unchanged."""
    repo, sha = snapshot.repo, snapshot.head_sha
    out = check_run_output(evaluation, snapshot)
    status = "in_progress" if evaluation.pending else "completed"
    conclusion = None if evaluation.pending else evaluation.conclusion
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
) -> None:
    """Create, update or leave the one PR comment.

    Whether a comment exists is remembered in Redis; GitHub is asked (one list
    call) only the first time for a PR, and not at all for PRs the practices do
    not apply to (``lookup=False``), which only ever update a comment we know of.
    """
    repo, number = snapshot.repo, snapshot.number
    known = store.comment_state(repo, number)
    comment_id = known or None
    previous: str | None = None
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
    body = comment_body(evaluation, snapshot)
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


def pull_closed(svc: Services, repo: str, number: int, head_sha: str) -> None:
    """A closed PR frees its task thread, and its check is no longer the sweeper's concern."""
    svc.store.drop_tasks(repo, number)
    if head_sha:
        svc.store.check_settled(repo, head_sha)


def _allowed(svc: Services, repo: str) -> bool:
    """The operator's allowlist, checked before any GitHub call for a repository."""
    if svc.settings.allows(repo):
        return True
    log.info("skipped: %s is not in the allowlist", repo)
    return False


def evaluate_sha(
    svc: Services,
    installation_id: int,
    repo: str,
    sha: str,
    pull_numbers: list[int],
    *,
    force: bool = False,
) -> int:
    """Re-evaluate the open PRs whose head is ``sha`` (CI moved, or a re-run was asked)."""
    if not _allowed(svc, repo):
        return 0
    numbers = pull_numbers or svc.store.prs_for_sha(repo, sha)
    done = 0
    gw = svc.gateway(installation_id)
    for number in numbers:
        try:
            pr = gw.pull(repo, number)
        except NotFound:
            continue
        if pr["head_sha"] != sha:
            continue
        if evaluate_pull(svc, installation_id, repo, number, pr, force=force, gw=gw) is not None:
            done += 1
    return done


def run_command(
    svc: Services,
    installation_id: int,
    repo: str,
    number: int,
    comment_id: int,
    author: str,
    command: dict[str, Any],
) -> str:
    """`/codex-guard recheck` (write access) and `/codex-guard skip` (maintain or admin)."""
    from bot.commands import Command

    cmd = Command.from_json(command)
    if not _allowed(svc, repo):
        return "not allowed"
    gw = svc.gateway(installation_id)
    with log_context(installation=installation_id, repo=repo, pr=number):
        if cmd.name == "invalid":
            _reply_or_react(svc, gw, repo, number, comment_id, author, f"codex-guard: {cmd.error}")
            return "invalid"
        needed = "write" if cmd.name == "recheck" else "maintain"
        role = gw.permission(repo, author)
        if not at_least(role, needed):
            _reply_or_react(
                svc,
                gw,
                repo,
                number,
                comment_id,
                author,
                f"codex-guard: `/codex-guard {cmd.name}` needs {needed} access to this "
                f"repository; the commenter has {role}.",
            )
            log.info("refused %s by a user with %s access", cmd.name, role)
            return "refused"
        if cmd.name == "skip" and cmd.practice and cmd.reason:
            svc.store.add_override(repo, number, cmd.practice, author, cmd.reason)
        _react(gw, repo, comment_id, "+1")
        evaluate_pull(svc, installation_id, repo, number, None, force=True, gw=gw)
        return cmd.name


def _reply_or_react(
    svc: Services, gw: Gateway, repo: str, number: int, comment_id: int, author: str, text: str
) -> None:
    """A comment the first time in the window, a 👎 reaction on the command after that."""
    if svc.store.first_reply(repo, number, author):
        gw.create_comment(repo, number, text)
        return
    _react(gw, repo, comment_id, "-1")


def _react(gw: Gateway, repo: str, comment_id: int, content: str) -> None:
    """A courtesy only: the comment may be deleted already; the command still runs."""
    try:
        gw.react(repo, comment_id, content)
    except GithubException as exc:
        if exc.status is None or exc.status >= 500:
            raise
        log.info("could not react to the command comment (GitHub answered %s)", exc.status)


def merge_group(svc: Services, installation_id: int, repo: str, sha: str) -> int | None:
    """A passing check on a merge group: its PRs were checked before they queued."""
    if not _allowed(svc, repo):
        return None
    gw = svc.gateway(installation_id)
    return gw.create_check(
        repo,
        sha,
        status="completed",
        conclusion="success",
        completed_at=now_iso(),
        output={
            "title": "Merge group: PRs were checked before queueing",
            "summary": "codex-guard checks each pull request on its own head; a merge "
            "group only combines PRs that already passed, so this check passes.",
        },
    )


def installation_changed(
    svc: Services, installation_id: int, action: str, repos: list[str], removed: list[str]
) -> None:
    if action in ("deleted", "suspend"):
        svc.tokens.forget(installation_id)
        # GitHub's `suspend` payload lists no repositories: add those noted for it.
        for repo in sorted({*repos, *svc.store.repos_of(installation_id)}):
            svc.store.forget_repo(repo)
        svc.store.forget_installation(installation_id)
        log.info("installation %s %s: cached data dropped", installation_id, action)
        return
    for repo in removed:
        svc.store.forget_repo(repo)
    if action in ("created", "repositories_added", "unsuspend"):
        outside = [repo for repo in repos if not svc.settings.allows(repo)]
        if outside:
            verb = "is" if len(outside) == 1 else "are"
            log.info("skipped: %s %s not in the allowlist", ", ".join(outside), verb)
        allowed = [repo for repo in repos if svc.settings.allows(repo)]
        if not allowed:
            return  # not even a token for an installation outside the allowlist
        gw = svc.gateway(installation_id)
        for repo in allowed:
            try:
                branch, sha = gw.default_branch_head(repo)
            except (NotFound, GithubException):
                continue
            gw.create_check(
                repo,
                sha,
                status="completed",
                conclusion="success",
                completed_at=now_iso(),
                output={
                    "title": "codex-guard is installed",
                    "summary": f"codex-guard will check pull requests into `{branch}`. "
                    "This run makes the check selectable as a required status check.",
                },
            )
