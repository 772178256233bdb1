"""The event table: which deliveries become which jobs.

Each handler reads only what its job needs from the payload, so the worker can
skip API calls for data GitHub already sent. Events the App causes itself
(its own check run completing) are dropped here to avoid loops.
"""

from __future__ import annotations

from typing import Any

from bot import CHECK_NAME
from bot.core.commands import parse_command
from bot.core.names import (
    COLLECT_USAGE,
    COMMAND,
    CONFIG_CHANGED,
    EVALUATE,
    EVALUATE_SHA,
    INSTALLATION,
    MERGE_GROUP,
    PR_CLOSED,
)
from bot.core.pulls import pr_summary
from bot.core.routing import Job, Payload, PayloadError, RouteContext, Router, need

router = Router()


CONFIG_PATHS = frozenset({".github/codex-guard.yml"})


def installation_id(payload: Payload) -> int:
    return need(payload, "installation", "id", kind=int)


def repo_name(payload: Payload) -> str:
    return need(payload, "repository", "full_name", kind=str)


@router.register(
    "pull_request",
    "opened",
    "reopened",
    "synchronize",
    "edited",
    "labeled",
    "unlabeled",
    "ready_for_review",
    "converted_to_draft",
)
def on_pull_request(payload: Payload, ctx: RouteContext) -> list[Job]:
    return _evaluate_pull(payload, f"pull_request.{payload.get('action')}")


@router.register("pull_request_review", "submitted", "dismissed")
def on_pull_request_review(payload: Payload, ctx: RouteContext) -> list[Job]:
    """An approval can unblock the `scope` practice, and a dismissal take that back."""
    return _evaluate_pull(payload, f"pull_request_review.{payload.get('action')}")


def _evaluate_pull(payload: Payload, reason: str) -> list[Job]:
    pr = pr_summary(need(payload, "pull_request", kind=dict))
    return [
        Job(
            EVALUATE,
            {
                "installation_id": installation_id(payload),
                "repo": repo_name(payload),
                "number": pr["number"],
                "head_sha": pr["head_sha"],
                "reason": reason,
                "pull_request": pr,
            },
        )
    ]


def _is_own_app(app: Any, ctx: RouteContext) -> bool:
    return isinstance(app, dict) and ctx.app_id is not None and app.get("id") == ctx.app_id


def _pull_numbers(prs: Any) -> list[int]:
    if not isinstance(prs, list):
        return []
    return [p["number"] for p in prs if isinstance(p, dict) and isinstance(p.get("number"), int)]


@router.register("check_suite", "completed")
def on_check_suite_completed(payload: Payload, ctx: RouteContext) -> list[Job]:
    suite = need(payload, "check_suite", kind=dict)
    if _is_own_app(suite.get("app"), ctx):
        return []
    return [_sha_job(payload, need(suite, "head_sha", kind=str), suite.get("pull_requests"))]


@router.register("check_run", "completed")
def on_check_run_completed(payload: Payload, ctx: RouteContext) -> list[Job]:
    run = need(payload, "check_run", kind=dict)
    if run.get("name") == CHECK_NAME or _is_own_app(run.get("app"), ctx):
        return []
    return [_sha_job(payload, need(run, "head_sha", kind=str), run.get("pull_requests"))]


@router.register("check_run", "rerequested", "requested_action")
def on_check_run_rerun(payload: Payload, ctx: RouteContext) -> list[Job]:
    run = need(payload, "check_run", kind=dict)
    if run.get("name") != CHECK_NAME:
        return []
    return [
        _sha_job(payload, need(run, "head_sha", kind=str), run.get("pull_requests"), force=True)
    ]


@router.register("check_suite", "rerequested")
def on_check_suite_rerun(payload: Payload, ctx: RouteContext) -> list[Job]:
    suite = need(payload, "check_suite", kind=dict)
    head_sha = need(suite, "head_sha", kind=str)
    return [_sha_job(payload, head_sha, suite.get("pull_requests"), force=True)]


@router.register("status")
def on_status(payload: Payload, ctx: RouteContext) -> list[Job]:
    if payload.get("context") == CHECK_NAME:
        return []
    return [_sha_job(payload, need(payload, "sha", kind=str), None)]


def _sha_job(payload: Payload, sha: str, prs: Any, force: bool = False) -> Job:
    return Job(
        EVALUATE_SHA,
        {
            "installation_id": installation_id(payload),
            "repo": repo_name(payload),
            "head_sha": sha,
            "pull_numbers": _pull_numbers(prs),
            "reason": "rerun" if force else "ci-changed",
            "force": force,
        },
    )


@router.register("workflow_run", "completed")
def on_workflow_run_completed(payload: Payload, ctx: RouteContext) -> list[Job]:
    """A finished workflow run may have uploaded Codex's usage: read it for its PRs."""
    run = need(payload, "workflow_run", kind=dict)
    return [
        Job(
            COLLECT_USAGE,
            {
                "installation_id": installation_id(payload),
                "repo": repo_name(payload),
                "run_id": need(run, "id", kind=int, at="workflow_run"),
                # Not `head_sha`: this job evaluates nothing and marks no check run.
                "run_head_sha": need(run, "head_sha", kind=str, at="workflow_run"),
                "pull_numbers": _pull_numbers(run.get("pull_requests")),
            },
        )
    ]


@router.register("issue_comment", "created")
def on_comment(payload: Payload, ctx: RouteContext) -> list[Job]:
    issue = need(payload, "issue", kind=dict)
    comment = need(payload, "comment", kind=dict)
    if "pull_request" not in issue:
        return []
    if (comment.get("user") or {}).get("type") == "Bot":
        return []
    command = parse_command(comment.get("body") or "")
    if command is None:
        return []
    return [
        Job(
            COMMAND,
            {
                "installation_id": installation_id(payload),
                "repo": repo_name(payload),
                "number": need(issue, "number", kind=int),
                "comment_id": need(comment, "id", kind=int),
                "author": need(comment, "user", "login", kind=str),
                "command": command.as_json(),
            },
        )
    ]


@router.register("merge_group", "checks_requested")
def on_merge_group(payload: Payload, ctx: RouteContext) -> list[Job]:
    group = need(payload, "merge_group", kind=dict)
    return [
        Job(
            MERGE_GROUP,
            {
                "installation_id": installation_id(payload),
                "repo": repo_name(payload),
                "head_sha": need(group, "head_sha", kind=str),
                "head_ref": group.get("head_ref") or "",
            },
        )
    ]


@router.register("push")
def on_push(payload: Payload, ctx: RouteContext) -> list[Job]:
    """A config change on any branch drops the cached config (PRs read their base branch)."""
    need(payload, "repository", kind=dict)
    if not need(payload, "ref", kind=str).startswith("refs/heads/"):
        return []
    touched: set[str] = set()
    for commit in payload.get("commits") or []:
        if isinstance(commit, dict):
            for key in ("added", "modified", "removed"):
                touched.update(p for p in commit.get(key) or [] if isinstance(p, str))
    if not touched & CONFIG_PATHS:
        return []
    job = {"installation_id": installation_id(payload), "repo": repo_name(payload)}
    return [Job(CONFIG_CHANGED, job)]


@router.register("installation", "created", "deleted", "suspend", "unsuspend")
def on_installation(payload: Payload, ctx: RouteContext) -> list[Job]:
    repos = [r for r in payload.get("repositories") or [] if isinstance(r, dict)]
    return [
        Job(
            INSTALLATION,
            {
                "installation_id": installation_id(payload),
                "action": need(payload, "action", kind=str),
                "repos": [r["full_name"] for r in repos if "full_name" in r],
                "removed": [],
            },
        )
    ]


@router.register("installation_repositories", "added", "removed")
def on_installation_repositories(payload: Payload, ctx: RouteContext) -> list[Job]:
    def names(key: str) -> list[str]:
        items = payload.get(key) or []
        return [r["full_name"] for r in items if isinstance(r, dict) and "full_name" in r]

    return [
        Job(
            INSTALLATION,
            {
                "installation_id": installation_id(payload),
                "action": f"repositories_{need(payload, 'action', kind=str)}",
                "repos": names("repositories_added"),
                "removed": names("repositories_removed"),
            },
        )
    ]


@router.register("pull_request", "closed")
def on_pull_request_closed(payload: Payload, ctx: RouteContext) -> list[Job]:
    """A closed PR no longer holds its task thread."""
    pr = need(payload, "pull_request", kind=dict)
    return [
        Job(
            PR_CLOSED,
            {
                "installation_id": installation_id(payload),
                "repo": repo_name(payload),
                "number": need(pr, "number", kind=int, at="pull_request"),
                "head_sha": (pr.get("head") or {}).get("sha") or "",
            },
        )
    ]


__all__ = ["PayloadError", "router"]
