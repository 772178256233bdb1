"""Events that evaluate nothing: a closed PR, a merge group, an installation change.

They keep the store tidy and write the fixed check runs GitHub needs to offer
codex-guard as a required check.
"""

from __future__ import annotations

import logging

from github import GithubException

from bot.github.gateway import NotFound, now_iso
from bot.jobs.services import Services, is_allowed

# One logger name for the whole pipeline: operators and the e2e tests filter on it.
log = logging.getLogger("codex_guard.pipeline")


def pull_closed(svc: Services, repo: str, number: int, head_sha: str) -> None:
    """A closed PR frees its task thread, and its check is no longer the sweeper's concern."""
    svc.store.drop_tasks(repo, number)
    if head_sha:
        svc.store.check_settled(repo, head_sha)


def merge_group(svc: Services, installation_id: int, repo: str, sha: str) -> int | None:
    """A passing check on a merge group: its PRs were checked before they queued."""
    if not is_allowed(svc, repo):
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
