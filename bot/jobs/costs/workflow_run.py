"""`workflow_run.completed`: read the run's usage artifacts for the PRs it ran for.

The delivery names the run, so no run is listed. Its `pull_requests` is empty for runs
GitHub links to no PR (a fork, some events); the head SHA then finds the PRs codex-guard
evaluated at that head (`Store.index_sha`). A run whose PR is not known yet is left to
the PR's own evaluation, which finds the run among the head's check runs. Usage found
is recorded for each PR; the caller re-evaluates those PRs so the check shows it.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import redis
from celery import Celery

from bot.core.config import ConfigError
from bot.core.names import EVALUATE_SHA
from bot.core.routing import Job
from bot.github.gateway import NotFound
from bot.jobs.coalesce import Coalescer, key_for
from bot.jobs.config_source import load_for
from bot.jobs.costs.attribution import resolve_team
from bot.jobs.costs.collect import Owner, collect_runs, pr_notes
from bot.jobs.services import Services, is_allowed
from bot.runtime.logs import log_context

log = logging.getLogger("codex_guard.costs")


def collect_workflow_run(
    svc: Services,
    installation_id: int,
    repo: str,
    run_id: int,
    head_sha: str,
    pull_numbers: list[int],
) -> list[tuple[int, str]]:
    """Record the run's usage for each open PR it ran for; (PR number, head SHA) of the PRs
    whose cost or notes changed, to evaluate again."""
    if not is_allowed(svc, repo):
        return []
    numbers = sorted(set(pull_numbers)) or svc.store.prs_for_sha(repo, head_sha)
    if not numbers:
        log.info("workflow run %s: no known PR at %s; its PR's evaluation reads it", run_id,
                 head_sha[:12])  # fmt: skip
        return []
    gw = svc.gateway(installation_id)
    changed: list[tuple[int, str]] = []
    for number in numbers:
        with log_context(pr=number):
            try:
                pr = gw.pull(repo, number)
            except NotFound:
                continue
            if pr.get("state", "open") != "open":
                continue
            try:
                config = load_for(gw, svc.store, repo, pr.get("base_ref") or "")
            except ConfigError as exc:
                log.info("workflow run %s: config invalid, usage not read (%s)", run_id, exc)
                continue
            costs = config.costs
            team, _ = resolve_team(gw, svc.redis, costs, repo.split("/")[0], pr["user"])
            before = pr_notes(svc.redis, repo, number)
            owner = Owner(repo, number, pr["user"], team)
            recorded = collect_runs(gw, svc.redis, costs, owner, [run_id])
            if recorded or pr_notes(svc.redis, repo, number) != before:
                changed.append((number, pr["head_sha"]))
    log.info("workflow run %s read: %d PR(s) to evaluate again", run_id, len(changed))
    return changed


def offer_evaluation(
    client: redis.Redis, celery: Celery, window: float, kwargs: dict[str, Any]
) -> None:
    """Queue an `evaluate_sha` job the way the receiver does: offered to the PR's
    coalescer first, so this and a burst of CI events for the PR become one evaluation."""
    job = Job(EVALUATE_SHA, kwargs)
    found = key_for(job)
    if found is None or window <= 0:
        celery.send_task(EVALUATE_SHA, kwargs=kwargs)
        return
    key, updated_at = found
    coalescer = Coalescer(client, window)
    token = str(uuid.uuid4())
    delay = coalescer.offer_delay(key, {"task": EVALUATE_SHA, "kwargs": kwargs}, updated_at, token)
    if delay is None:
        return  # a job already queued takes this state
    try:
        celery.send_task(
            EVALUATE_SHA, kwargs={**kwargs, "coalesce": key}, task_id=token, countdown=delay or None
        )
    except Exception:
        coalescer.release(key)
        raise
