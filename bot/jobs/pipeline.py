"""One job, from a queued event to a check run and a comment.

The order matters: read the PR (from the payload when possible), read the rules
from the base branch, gather a snapshot, run the pure practices, then write
only what changed. Writes for a head SHA that is no longer the PR's head never
touch the PR comment, so a slow, stale evaluation cannot overwrite a newer one.

The writes live in `bot.jobs.publish` and the events that evaluate nothing in
`bot.jobs.lifecycle`; both are re-exported here, the worker's one entry point.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from github import GithubException

from bot.core import scrub
from bot.core.config import DEFAULT_CONFIG, ConfigError, GuardConfig
from bot.github.gateway import ExistingCheck, Gateway, NotFound, at_least
from bot.jobs import audit
from bot.jobs.config_source import load_for
from bot.jobs.costs.attribution import pr_cost
from bot.jobs.lifecycle import installation_changed, merge_group, pull_closed
from bot.jobs.publish import (
    SlowStart,
    StillBeingCreated,
    create_check_once,
    publish_check,
    publish_comment,
    published_key,
)
from bot.jobs.publish import start_check as _start_check
from bot.jobs.services import Services, is_allowed
from bot.jobs.snapshot_builder import build_snapshot
from bot.jobs.store import Store
from bot.practices.detection import detect
from bot.practices.evaluation import Evaluation, Override, config_error_evaluation, evaluate
from bot.practices.task_thread import codex_task_ids
from bot.present.check_run import RERUN_ACTION
from bot.runtime.logs import log_context
from bot.runtime.metrics import record_evaluation

# The job entry points and what callers (worker tasks, sweeper, tests) reach through here.
__all__ = [
    "RERUN_ACTION",
    "ExistingCheck",
    "Services",
    "StillBeingCreated",
    "_start_check",
    "create_check_once",
    "evaluate_pull",
    "evaluate_sha",
    "installation_changed",
    "merge_group",
    "publish_check",
    "publish_comment",
    "published_key",
    "pull_closed",
    "run_command",
]

log = logging.getLogger("codex_guard.pipeline")


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
    if not is_allowed(svc, repo):
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
        cost = None
        if config_error is not None:
            snapshot, evaluation = probe, config_error_evaluation(detection, config_error)
        elif not applies:
            # Not ours to judge: no CI, tree or file reads, just a passing check.
            snapshot, evaluation = probe, evaluate(probe, config)
        else:
            evidence, own = gw.ci_evidence(repo, sha)
            slow = None
            if own is None:
                slow = SlowStart(
                    lambda: svc.gateway(installation_id),
                    svc.store,
                    repo,
                    sha,
                    held=lambda: svc.pacer.held(installation_id) if svc.pacer else 0.0,
                ).start()
            try:
                snapshot = build_snapshot(
                    gw, svc.store, repo, pr, config, evidence, practices_apply=True, probe=probe
                )
                overrides = tuple(
                    Override(practice=p, by=o["by"], reason=o["reason"])
                    for p, o in svc.store.overrides(repo, number).items()
                )
                evaluation = evaluate(snapshot, config, overrides)
                if detection.codex_authored:  # informational; never raises
                    cost = pr_cost(gw, svc.redis, pr, repo, config, evidence)
            finally:
                early = slow.stop() if slow is not None else None
            own = own or early
        # Every secret in the snapshot is masked in all that leaves from here on.
        scrubber = scrub.for_snapshot(snapshot)
        evaluation = scrubber.evaluation(evaluation)
        with scrub.using(scrubber):
            ids = list(codex_task_ids(snapshot.body)) if detection.codex_authored else []
            svc.store.record_tasks(repo, number, ids)
            publish_check(gw, svc.store, snapshot, evaluation, own, force=force, cost=cost)
            if latest == sha:  # a newer head may have arrived while this one was evaluated
                latest = svc.store.latest_head(repo, number) or latest
            if latest == sha and not evaluation.pending:
                publish_comment(
                    gw,
                    svc.store,
                    snapshot,
                    evaluation,
                    config,
                    lookup=applies,
                    created_at=pr.get("created_at") or "",
                    cost=cost,
                )
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
    if not is_allowed(svc, repo):
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
    from bot.core.commands import Command

    cmd = Command.from_json(command)
    if not is_allowed(svc, repo):
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
