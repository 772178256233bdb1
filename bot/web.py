"""The webhook receiver: verify, de-duplicate, queue, answer fast.

It never calls GitHub. A delivery is answered 2xx only once its jobs are in
Redis; if they cannot be queued the answer is 503, so GitHub records a failed
delivery that can be redelivered (by an operator or the redelivery sweeper).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

import redis
from celery import Celery
from flask import Flask, Response, jsonify, request

from bot import signature
from bot.deliveries import DeliveryLedger
from bot.handlers import router
from bot.logs import log_context
from bot.metrics import metrics_blueprint, record_delivery
from bot.queue import QueueUnavailable, enqueue
from bot.routing import PayloadError, RouteContext
from bot.settings import Settings, load_settings

log = logging.getLogger("codex_guard.receiver")

MAX_BODY_BYTES = 25 * 1024 * 1024


def _reply(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"message": message, **extra}), status


def _decode(raw: bytes, content_type: str) -> Any:
    """The payload of a delivery in either of GitHub's content types."""
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(raw.decode("utf-8"), strict_parsing=False, max_num_fields=10)
        values = form.get("payload")
        if not values:
            raise ValueError("form delivery without a payload field")
        return json.loads(values[0])
    return json.loads(raw)


def _outcome(response: Response, status: int) -> str:
    """The delivery's fate, as a metrics label."""
    if status == 503:
        return "unavailable"
    if status in (400, 401, 413):
        return "rejected"
    message = str((response.get_json(silent=True) or {}).get("message", ""))
    if message.startswith("duplicate"):
        return "duplicate"
    return "queued" if message == "queued" else "ignored"


def create_app(
    settings: Settings | None = None,
    celery: Celery | None = None,
    redis_client: redis.Redis | None = None,
) -> Flask:
    settings = settings or load_settings()
    if celery is None:
        from worker.celery_app import make_celery

        celery = make_celery(settings.redis_url)
    client = redis_client or redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=1, socket_timeout=2
    )
    ledger = DeliveryLedger(client)
    ctx = RouteContext(app_id=settings.app_id)
    app = Flask("codex_guard")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    app.register_blueprint(metrics_blueprint(client))

    @app.post(settings.webhook_path)
    def webhook() -> tuple[Response, int]:
        response, status = _receive()
        event = request.headers.get("X-GitHub-Event", "").strip()
        record_delivery(client, event, _outcome(response, status))
        return response, status

    def _receive() -> tuple[Response, int]:
        started = time.perf_counter()
        length = request.content_length
        if length is not None and length > MAX_BODY_BYTES:
            return _reply(413, "payload too large (GitHub caps deliveries at 25 MB)")
        raw = request.get_data(cache=False)
        if not signature.verify(
            settings.webhook_secrets(), raw, request.headers.get("X-Hub-Signature-256")
        ):
            log.warning("rejected delivery: missing or invalid X-Hub-Signature-256")
            return _reply(401, "missing or invalid X-Hub-Signature-256")
        event = request.headers.get("X-GitHub-Event", "").strip()
        delivery = request.headers.get("X-GitHub-Delivery", "").strip()
        if (
            not event
            or not event.isascii()
            or not event.replace("_", "").isalnum()
            or len(event) > 64
        ):
            return _reply(400, "missing or malformed X-GitHub-Event header")
        if not delivery or len(delivery) > 100 or not delivery.isprintable():
            return _reply(400, "missing or malformed X-GitHub-Delivery header")
        try:
            payload = _decode(raw, request.content_type or "")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _reply(400, "body is not valid JSON")
        if not isinstance(payload, dict):
            return _reply(400, "body is not a JSON object")
        with log_context(delivery=delivery, event=event):
            return _handle(event, delivery, payload, started)

    def _handle(
        event: str, delivery: str, payload: dict[str, Any], started: float
    ) -> tuple[Response, int]:
        if event == "ping":
            return _reply(200, "pong", zen=payload.get("zen"))
        action = payload.get("action")
        installation = payload.get("installation")
        if not isinstance(installation, dict):
            log.info("ignored delivery without an installation (not an App delivery)")
            return _reply(202, "ignored: not a GitHub App installation delivery")
        try:
            jobs = router.dispatch(event, payload, ctx)
        except PayloadError as exc:
            log.warning("rejected delivery: %s", exc)
            return _reply(400, str(exc))
        if jobs is None:
            return _reply(202, f"ignored: {event}{'.' + action if action else ''} is not handled")
        repo = (payload.get("repository") or {}).get("full_name")
        if isinstance(repo, str) and not settings.allows(repo):
            log.info("ignored delivery for %s: not in ALLOWED_OWNERS/ALLOWED_REPOS", repo)
            return _reply(202, "ignored: repository not allowed by this deployment")
        if not jobs:
            return _reply(202, "nothing to do")
        try:
            if not ledger.claim(delivery):
                return _reply(200, "duplicate delivery: already queued")
        except redis.RedisError:
            log.error("redis unavailable; delivery refused with 503")
            return _reply(503, "queue unavailable, redeliver later")
        try:
            enqueue(celery, jobs, delivery)
        except QueueUnavailable:
            ledger.release(delivery)
            log.error("queue unavailable; delivery refused with 503")
            return _reply(503, "queue unavailable, redeliver later")
        try:
            ledger.confirm(delivery)
        except redis.RedisError:
            log.warning("queued, but could not record the delivery as seen")
        log.info(
            "queued %d job(s) for %s.%s in %.1f ms",
            len(jobs),
            event,
            action,
            (time.perf_counter() - started) * 1000,
        )
        return _reply(202, "queued", jobs=len(jobs))

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
