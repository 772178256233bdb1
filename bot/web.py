"""The webhook receiver: verify, de-duplicate, queue, answer fast.

It never calls GitHub. A delivery is answered 2xx only once its jobs are in
Redis; if they cannot be queued the answer is 503, so GitHub records a failed
delivery that can be redelivered (by an operator or the redelivery sweeper).

Hot path, per delivery: the body's HMAC (constant-time compare) before anything
else, one ``json.loads``, routing, then one Redis round trip (``bot.queue``'s
delivery script: ledger check, coalescer offers, queue push, seen mark and the
metrics count, atomically). Evaluations of one PR are coalesced: the first event
in a ``COALESCE_SECONDS`` window queues a job that runs after the window and takes
the newest state; later ones only store theirs.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
import redis
from celery import Celery
from flask import Flask, Response, jsonify, request

from bot import signature
from bot.coalesce import Coalescer, key_for, window_from_env
from bot.deliveries import KEY_PREFIX, SEEN_FOR_SECONDS
from bot.handlers import router
from bot.logs import log_context
from bot.metrics import DELIVERIES_KEY, delivery_field, metrics_blueprint, record_delivery
from bot.queue import DeliveryPublisher, QueueUnavailable
from bot.routing import PayloadError, RouteContext
from bot.settings import Settings, load_settings

log = logging.getLogger("codex_guard.receiver")

MAX_BODY_BYTES = 25 * 1024 * 1024

Reply = tuple[Response, int, str | None]
"""(response, status, outcome to count, or None when the delivery script counted it)."""


def _reply(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"message": message, **extra}), status


def _json_reply(status: int, body: bytes) -> Response:
    return Response(body, status=status, mimetype="application/json")


def _decode(raw: bytes, content_type: str) -> Any:
    """The payload of a delivery in either of GitHub's content types.

    orjson (~4x faster than ``json`` on a 24 KB delivery) is stricter: no NaN/Infinity,
    nesting capped at 1024 levels, integers within 64 bits; none occurs in GitHub's payloads,
    and all are answered 400 like any other malformed body (``orjson.JSONDecodeError`` is a
    ``ValueError``).
    """
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(raw.decode("utf-8"), strict_parsing=False, max_num_fields=10)
        values = form.get("payload")
        if not values:
            raise ValueError("form delivery without a payload field")
        return orjson.loads(values[0])
    return orjson.loads(raw)


def _valid_event(event: str) -> bool:
    return bool(event) and len(event) <= 64 and event.isascii() and event.replace("_", "").isalnum()


_DUPLICATE = json.dumps({"message": "duplicate delivery: already queued"}).encode() + b"\n"


def create_app(
    settings: Settings | None = None,
    celery: Celery | None = None,
    redis_client: redis.Redis | None = None,
    coalesce_seconds: float | None = None,
) -> Flask:
    """The receiver. ``celery`` is accepted for compatibility: jobs go to the Celery queue
    in ``settings.redis_url``'s Redis (the broker the worker reads), one script call each.
    """
    settings = settings or load_settings()
    del celery
    client = redis_client or redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=2
    )
    window = window_from_env() if coalesce_seconds is None else coalesce_seconds
    coalescer = Coalescer(client, window) if window > 0 else None
    publisher = DeliveryPublisher(
        client,
        coalescer,
        ledger_prefix=KEY_PREFIX,
        seen_for=SEEN_FOR_SECONDS,
        metrics_key=DELIVERIES_KEY,
    )
    ctx = RouteContext(app_id=settings.app_id)
    secrets = settings.webhook_secrets()
    debug = log.isEnabledFor(logging.DEBUG)
    app = Flask("codex_guard")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["codex_guard.publisher"] = publisher

    app.register_blueprint(metrics_blueprint(client))

    @app.post(settings.webhook_path)
    def webhook() -> tuple[Response, int]:
        response, status, outcome = _receive()
        if outcome is not None:
            event = request.headers.get("X-GitHub-Event", "").strip()
            record_delivery(client, event, outcome)
        return response, status

    def _receive() -> Reply:
        started = time.perf_counter()
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return (*_reply(413, "payload too large (GitHub caps deliveries at 25 MB)"), "rejected")
        raw = request.get_data(cache=False)
        headers = request.headers
        if not signature.verify(secrets, raw, headers.get("X-Hub-Signature-256")):
            log.warning("rejected delivery: missing or invalid X-Hub-Signature-256")
            return (*_reply(401, "missing or invalid X-Hub-Signature-256"), "rejected")
        event = headers.get("X-GitHub-Event", "").strip()
        delivery = headers.get("X-GitHub-Delivery", "").strip()
        if not _valid_event(event):
            return (*_reply(400, "missing or malformed X-GitHub-Event header"), "rejected")
        if not delivery or len(delivery) > 100 or not delivery.isprintable():
            return (*_reply(400, "missing or malformed X-GitHub-Delivery header"), "rejected")
        try:
            payload = _decode(raw, request.content_type or "")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return (*_reply(400, "body is not valid JSON"), "rejected")
        if not isinstance(payload, dict):
            return (*_reply(400, "body is not a JSON object"), "rejected")
        with log_context(delivery=delivery, event=event):
            return _handle(event, delivery, payload, started)

    def _handle(event: str, delivery: str, payload: dict[str, Any], started: float) -> Reply:
        if event == "ping":
            return (*_reply(200, "pong", zen=payload.get("zen")), "ignored")
        action = payload.get("action")
        installation = payload.get("installation")
        if not isinstance(installation, dict):
            log.info("ignored delivery without an installation (not an App delivery)")
            return (*_reply(202, "ignored: not a GitHub App installation delivery"), "ignored")
        try:
            jobs = router.dispatch(event, payload, ctx)
        except PayloadError as exc:
            log.warning("rejected delivery: %s", exc)
            return (*_reply(400, str(exc)), "rejected")
        if jobs is None:
            what = f"{event}{'.' + action if action else ''}"
            return (*_reply(202, f"ignored: {what} is not handled"), "ignored")
        repo = (payload.get("repository") or {}).get("full_name")
        if isinstance(repo, str) and not settings.allows(repo):
            log.info("ignored delivery for %s: not in ALLOWED_OWNERS/ALLOWED_REPOS", repo)
            return (*_reply(202, "ignored: repository not allowed by this deployment"), "ignored")
        if not jobs:
            return (*_reply(202, "nothing to do"), "ignored")
        planned = []
        for job in jobs:
            found = key_for(job) if coalescer is not None else None
            key, updated_at = found if found else (None, "")
            planned.append(publisher.plan(job, delivery, key, updated_at))
        try:
            result = publisher.publish(
                delivery,
                planned,
                delivery_field(event, "queued"),
                delivery_field(event, "duplicate"),
            )
        except QueueUnavailable:
            publisher.release(delivery, planned)
            log.error("queue unavailable; delivery refused with 503")
            return (*_reply(503, "queue unavailable, redeliver later"), "unavailable")
        if result is None:
            return _json_reply(200, _DUPLICATE), 200, None
        pushed, coalesced = result
        if debug:
            log.debug(
                "queued %d job(s) (%d coalesced) for %s.%s in %.1f ms",
                pushed,
                coalesced,
                event,
                action,
                (time.perf_counter() - started) * 1000,
            )
        body = {"message": "queued", "jobs": len(jobs)}
        if coalesced:
            body["coalesced"] = coalesced
        return _json_reply(202, orjson.dumps(body) + b"\n"), 202, None

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            client.ping()
        except redis.RedisError:
            return _reply(503, "redis unavailable")
        return _reply(200, "ok")

    @app.errorhandler(413)
    def too_large(_: Exception) -> tuple[Response, int]:
        return _reply(413, "payload too large (GitHub caps deliveries at 25 MB)")

    return app
