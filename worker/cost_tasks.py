"""Celery tasks of cost attribution: a finished workflow run's Codex usage, and the
organisation's OpenAI spend (scheduled only with `OPENAI_ADMIN_KEY`).

Apart from `worker.tasks` so each stays small; the same `GuardTask` turns GitHub
trouble into the right retry. `worker.main` imports both, which registers them.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.core.names import COLLECT_USAGE
from bot.jobs import pipeline, sweeper
from bot.jobs.costs import org_spend as spend
from bot.jobs.costs.workflow_run import collect_workflow_run, offer_evaluation
from worker.celery_app import celery_app
from worker.tasks import GuardTask, coalesce_window, services

log = logging.getLogger("codex_guard.worker")


@celery_app.task(bind=True, base=GuardTask, name=COLLECT_USAGE)
def collect_usage(self: GuardTask, **kwargs: Any) -> Any:
    """`workflow_run.completed`: record the run's Codex usage, then re-evaluate its PRs.

    The run's head is ``run_head_sha``, not ``head_sha``: a job that gives up must not
    mark any check run as unfinished, since no evaluation ran here."""

    def run(svc: pipeline.Services) -> int:
        repo = kwargs["repo"]
        changed = collect_workflow_run(
            svc,
            int(kwargs["installation_id"]),
            repo,
            int(kwargs["run_id"]),
            kwargs.get("run_head_sha") or "",
            [int(n) for n in kwargs.get("pull_numbers") or []],
        )
        for number, sha in changed:
            offer_evaluation(svc.redis, celery_app, coalesce_window(), {
                "installation_id": int(kwargs["installation_id"]), "repo": repo,
                "head_sha": sha, "pull_numbers": [number], "reason": "codex-usage",
                "force": False, "delivery": kwargs.get("delivery"),
            })  # fmt: skip
        return len(changed)

    return self.run_guarded(kwargs, run)


# -- organisation spend from OpenAI (issue 13; scheduled only with OPENAI_ADMIN_KEY) -----

_org_spend_off_noted = False


@celery_app.task(
    name="codex_guard.org_spend",
    ignore_result=True,
    # Acknowledged on receipt: a long read must not be handed out again after the
    # visibility timeout, and a lost run is repaired by the next (each re-reads a week).
    acks_late=False,
    soft_time_limit=240,
    time_limit=270,
)
def org_spend(days: int | None = None) -> int:
    """Read the OpenAI organisation's usage and costs of the last days into Redis."""
    global _org_spend_off_noted
    svc = services()
    if not svc.settings.openai_admin_key:
        if not _org_spend_off_noted:
            log.info("org spend: OPENAI_ADMIN_KEY is not set; nothing to read")
            _org_spend_off_noted = True
        return 0
    return sweeper.run_locked(
        svc.redis, "org-spend", lambda: spend.run_for(svc, days=days or spend.DEFAULT_DAYS)
    )
