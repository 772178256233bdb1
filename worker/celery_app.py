"""The Celery app, shared by the receiver (to send) and the worker (to run).

Late acknowledgement plus reject-on-worker-lost means a job whose worker dies
mid-evaluation is delivered again instead of being lost; evaluations are
idempotent (one check run per head SHA, one comment per PR), so a repeat is safe.
"""

from __future__ import annotations

import logging
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import beat_init

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
QUEUE = "codex-guard"


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


TASK_SOFT_TIME_LIMIT = 90
TASK_TIME_LIMIT = 110
DEFAULT_VISIBILITY_TIMEOUT = 125
"""Just above the hard limit: no live job is handed out twice, and a job held by a
worker that was killed outright (no reject-on-lost possible) is handed out again
within 125 s plus one restore interval (10 s): under 150 s."""
MAX_MEMORY_PER_CHILD_KIB = 512 * 1024


def make_celery(redis_url: str | None = None) -> Celery:
    url = redis_url or os.environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    app = Celery("codex_guard", broker=url)
    visibility = _float_env("VISIBILITY_TIMEOUT", DEFAULT_VISIBILITY_TIMEOUT)
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        # No job may hold a worker slot for ever (a hostile PR must not stall the
        # installation's required checks): the soft limit ends it with an exception
        # the task reports, the hard limit kills the child process.
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT,
        task_time_limit=TASK_TIME_LIMIT,
        # A child that grew past this much memory is replaced after its job.
        worker_max_memory_per_child=MAX_MEMORY_PER_CHILD_KIB,
        worker_concurrency=int(_float_env("WORKER_CONCURRENCY", 2)),
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        broker_transport_options={
            # How long a taken job may stay unacknowledged before Redis hands it
            # to another worker (covers a lost worker host).
            "visibility_timeout": visibility,
            # Look for such jobs every few seconds (kombu's default is ~100 s).
            "unacked_restore_interval": max(1, min(10, int(visibility // 2))),
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 2,
            "socket_timeout": 5,
            "retry_on_timeout": True,
        },
        broker_pool_limit=4,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        beat_schedule=beat_schedule(),
    )
    return app


def beat_schedule() -> dict[str, dict[str, object]]:
    """The sweeps the `clock` process (celery beat) sends; intervals in seconds from env."""
    schedule: dict[str, dict[str, object]] = {}
    for name, task, env, default in (
        ("sweep-stuck-checks", "codex_guard.sweep_stuck_checks", "SWEEP_STUCK_SECONDS", 60),
        (
            "sweep-missed-deliveries",
            "codex_guard.sweep_missed_deliveries",
            "SWEEP_DELIVERIES_SECONDS",
            300,
        ),
        ("sweep-unchecked-prs", "codex_guard.sweep_unchecked_prs", "SWEEP_PRS_SECONDS", 900),
    ):
        every = _float_env(env, default)
        if every > 0:
            # A sweep not started within its interval is dropped: the next one does the work.
            schedule[name] = {"task": task, "schedule": every, "options": {"expires": every}}
    if _org_spend_on():
        # Daily, after the UTC day closed; each run re-reads the last week (see the task).
        schedule["org-spend"] = {
            "task": ORG_SPEND_TASK,
            "schedule": crontab(minute=17, hour=3),
            "options": {"expires": 6 * 3600},
        }
    return schedule


ORG_SPEND_TASK = "codex_guard.org_spend"
ORG_SPEND_START_DELAY = 30
"""Seconds after the clock starts before its first org-spend read (well inside the
visibility timeout, so the delayed message is not handed out twice)."""


def _org_spend_on() -> bool:
    """Org spend is read only with an OpenAI Admin key (issue 13; off by default)."""
    return bool(os.environ.get("OPENAI_ADMIN_KEY", "").strip())


@beat_init.connect
def read_org_spend_at_start(sender: object = None, **_: object) -> None:
    """Beat runs a crontab entry only at its hour: read the org spend once soon after
    the clock starts too, so a fresh deployment shows figures the same day."""
    if not _org_spend_on():
        return
    app = getattr(sender, "app", None) or celery_app
    try:
        app.send_task(ORG_SPEND_TASK, countdown=ORG_SPEND_START_DELAY, expires=3600)
    except Exception as exc:  # the daily entry still runs; the clock must not die of this
        logging.getLogger("codex_guard.clock").warning(
            "org spend: the start-up read was not queued (%s)", type(exc).__name__
        )


celery_app = make_celery()
