"""Sending jobs to the worker; a broker that cannot take them raises QueueUnavailable."""

from __future__ import annotations

from celery import Celery
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from bot.routing import Job


class QueueUnavailable(RuntimeError):
    """The broker did not accept a job; the delivery must be answered 503."""


def enqueue(celery: Celery, jobs: list[Job], delivery_id: str | None = None) -> None:
    for job in jobs:
        kwargs = dict(job.kwargs)
        if delivery_id:
            kwargs.setdefault("delivery", delivery_id)
        try:
            celery.send_task(job.task, kwargs=kwargs, retry=True)
        except (OperationalError, KombuError, RedisError, OSError) as exc:
            raise QueueUnavailable(f"queue unavailable: {type(exc).__name__}") from exc
