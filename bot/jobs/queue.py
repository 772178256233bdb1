"""Sending jobs to the worker; a broker that cannot take them raises QueueUnavailable.

Two ways in:

- ``enqueue`` publishes through Celery/kombu (the sweepers; anything off the hot path).
- ``DeliveryPublisher`` is the receiver's hot path: one Lua script per delivery, one
  Redis round trip, that checks the delivery ledger, offers coalesced jobs' state to the
  coalescer, pushes the Celery messages that must run, records the delivery as seen and
  counts it in the metrics, atomically. Nothing is recorded unless the jobs are queued,
  and a delivery is never queued twice. The messages are Celery protocol 2 messages in
  the JSON form kombu's Redis transport stores (``LPUSH`` on the queue's list; the worker
  ``BRPOP``s it), built directly to skip kombu's per-message cost (~1-2 ms of CPU: the
  argument ``saferepr``, a pool checkout, a pipeline object per publish).
"""

from __future__ import annotations

import base64
import os
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis
from celery import Celery
from kombu.exceptions import KombuError, OperationalError
from redis.exceptions import RedisError

from bot.core.names import QUEUE
from bot.core.routing import Job
from bot.jobs.coalesce import OFFER_FUNCTION, Coalescer, key_for


class QueueUnavailable(RuntimeError):
    """The broker did not accept a job; the delivery must be answered 503."""


def enqueue(celery: Celery, jobs: list[Job], delivery_id: str | None = None) -> None:
    for job in jobs:
        kwargs = dict(job.kwargs)
        if delivery_id:
            kwargs.setdefault("delivery", delivery_id)
        options: dict[str, Any] = {}
        if job.countdown:
            options["countdown"] = job.countdown
        try:
            celery.send_task(job.task, kwargs=kwargs, retry=True, **options)
        except (OperationalError, KombuError, RedisError, OSError) as exc:
            raise QueueUnavailable(f"queue unavailable: {type(exc).__name__}") from exc


# -- the receiver's one-round-trip publish --------------------------------------------------

_EMBED_JSON = orjson.dumps({"callbacks": None, "errbacks": None, "chain": None, "chord": None})
_ORIGIN = f"gen{os.getpid()}@{socket.gethostname()}"
_REPR_SKIP = frozenset({"pull_request", "command"})

# KEYS[1] delivery ledger key, KEYS[2] queue list, KEYS[3] metrics deliveries hash,
# then (state key, pending key, recent key) per coalesced job, in order.
# ARGV[1] seen ttl, ARGV[2] metrics field "queued", ARGV[3] metrics field "duplicate",
# ARGV[4] job count, then per job: 'p', message | 'c', message, state json, updated_at,
# state ttl, pending ttl, token, window ms, eta. A coalesced job's message has no ETA; on the
# leading edge it is pushed as it is, inside the window with the ETA put in its header (the
# first '"eta":null' of the message: the body before it is base64).
# Returns -1 for a duplicate, else {jobs pushed, jobs coalesced}.
_DELIVER = (
    OFFER_FUNCTION
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
  return -1
end
local pushed, coalesced = 0, 0
local k, a = 4, 5
for _ = 1, tonumber(ARGV[4]) do
  if ARGV[a] == 'c' then
    local when = offer(KEYS[k], KEYS[k + 1], KEYS[k + 2], ARGV[a + 2], ARGV[a + 3],
                       ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7])
    if when == 0 then
      coalesced = coalesced + 1
    else
      local message = ARGV[a + 1]
      if when == 2 then
        local at = string.find(message, '"eta":null', 1, true)
        if at then
          message = string.sub(message, 1, at - 1) .. '"eta":"' .. ARGV[a + 8] .. '"'
                    .. string.sub(message, at + 10)
        end
      end
      redis.call('LPUSH', KEYS[2], message)
      pushed = pushed + 1
    end
    k, a = k + 3, a + 9
  else
    redis.call('LPUSH', KEYS[2], ARGV[a + 1])
    pushed = pushed + 1
    a = a + 2
  end
end
redis.call('SET', KEYS[1], 'queued', 'EX', ARGV[1])
redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
return {pushed, coalesced}
"""
)


@dataclass(frozen=True)
class Planned:
    """One job of a delivery, ready for the script: its message and, if coalesced, its key."""

    message: str
    coalesce_key: str | None = None
    state: str = ""
    updated_at: str = ""
    token: str = ""


def celery_message(
    task: str,
    kwargs: dict[str, Any],
    kwargs_json: bytes,
    task_id: str | None = None,
    countdown: float | None = None,
    queue: str = QUEUE,
) -> str:
    """A Celery protocol 2 message as kombu's Redis transport stores it (JSON, base64 body).

    The one place messages are built by hand; ``kwargs_json`` is ``orjson.dumps(kwargs)``,
    passed in so a coalesced job's kwargs are serialised once.
    """
    task_id = task_id or str(uuid.uuid4())
    now = time.time()
    eta = None
    if countdown:
        eta = (datetime.fromtimestamp(now, UTC) + timedelta(seconds=countdown)).isoformat()
    body = b"[[]," + kwargs_json + b"," + _EMBED_JSON + b"]"
    slim = {k: v for k, v in kwargs.items() if k not in _REPR_SKIP}
    return orjson.dumps(
        {
            "body": base64.b64encode(body).decode("ascii"),
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": {
                "lang": "py",
                "task": task,
                "id": task_id,
                "shadow": None,
                "eta": eta,
                "expires": None,
                "group": None,
                "group_index": None,
                "retries": 0,
                "timelimit": [None, None],
                "root_id": task_id,
                "parent_id": None,
                "argsrepr": "()",
                "kwargsrepr": repr(slim)[:1024],
                "origin": _ORIGIN,
                "ignore_result": True,
                "replaced_task_nesting": 0,
                "stamped_headers": None,
                "stamps": {},
                "queued_at": now,
            },
            "properties": {
                "correlation_id": task_id,
                "reply_to": "",
                "delivery_mode": 2,
                "delivery_info": {"exchange": "", "routing_key": queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        },
    ).decode()


class DeliveryPublisher:
    """The receiver's queueing: ledger + coalescer + queue + metrics in one script call."""

    def __init__(
        self,
        client: redis.Redis,
        coalescer: Coalescer | None,
        *,
        ledger_prefix: str,
        seen_for: int,
        metrics_key: str,
        queue: str = QUEUE,
    ) -> None:
        self.redis = client
        self.coalescer = coalescer
        self.ledger_prefix = ledger_prefix
        self.seen_for = seen_for
        self.metrics_key = metrics_key
        self.queue = queue
        self._script = client.register_script(_DELIVER)

    def plan(self, job: Job, delivery: str) -> Planned:
        """``job``'s message for ``delivery``; with a coalescer, its offer when it may coalesce."""
        kwargs = dict(job.kwargs)
        kwargs.setdefault("delivery", delivery)
        encoded = orjson.dumps(kwargs)  # once: for the message, and the coalescer's state
        found = key_for(job) if self.coalescer is not None else None
        if found is None or self.coalescer is None:
            return Planned(
                celery_message(job.task, kwargs, encoded, None, job.countdown, self.queue)
            )
        coalesce_key, updated_at = found
        task_id = str(uuid.uuid4())
        task = orjson.dumps(job.task)
        state = (b'{"task":' + task + b',"kwargs":' + encoded + b"}").decode()
        kwargs["coalesce"] = coalesce_key
        encoded = encoded[:-1] + b',"coalesce":' + orjson.dumps(coalesce_key) + b"}"
        # No ETA: the script adds one when the offer lands inside the window (see _DELIVER).
        message = celery_message(job.task, kwargs, encoded, task_id, job.countdown, self.queue)
        return Planned(message, coalesce_key, state, updated_at, task_id)

    def publish(
        self, delivery: str, planned: Sequence[Planned], queued_field: str, duplicate_field: str
    ) -> tuple[int, int] | None:
        """(jobs pushed, jobs coalesced), or None for a delivery already queued.

        Raises QueueUnavailable when Redis did not answer; the caller then calls
        ``release``, since the script may or may not have run.
        """
        keys = [self.ledger_prefix + delivery, self.queue, self.metrics_key]
        args: list[Any] = [self.seen_for, queued_field, duplicate_field, len(planned)]
        eta = ""
        for job in planned:
            if job.coalesce_key is not None and self.coalescer is not None:
                c = self.coalescer
                if not eta:
                    eta = (datetime.now(UTC) + timedelta(seconds=c.window)).isoformat()
                keys.extend(c.offer_keys(job.coalesce_key))
                args += ["c", job.message, job.state, job.updated_at, c.state_ttl,
                         c.pending_ttl, job.token, c.window_ms, eta]  # fmt: skip
            else:
                args += ["p", job.message]
        try:
            result = self._script(keys=keys, args=args)
        except RedisError as exc:
            raise QueueUnavailable(f"queue unavailable: {type(exc).__name__}") from exc
        if result == -1:
            return None
        pushed, coalesced = result
        return int(pushed), int(coalesced)

    def release(self, delivery: str, planned: Sequence[Planned]) -> None:
        """After a failed publish: forget the ledger entry and the offers (best effort).

        The script is atomic, so usually none of it happened; if it did (the answer was
        lost), a redelivery queues the delivery again, which is safe (evaluations are
        idempotent), and a released pending mark only means a later offer queues one more
        job. Whatever cannot be released expires (ledger: never set; pending marks: TTL).
        """
        keys = [self.ledger_prefix + delivery]
        if self.coalescer is not None:
            for p in planned:
                if p.coalesce_key:
                    keys += self.coalescer.offer_keys(p.coalesce_key)[1:]
        try:
            self.redis.delete(*keys)
        except RedisError:
            pass
