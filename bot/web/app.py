"""The webhook receiver: verify, de-duplicate, queue, answer fast.

It never calls GitHub. A delivery is answered 2xx only once its jobs are in
Redis; if they cannot be queued the answer is 503, so GitHub records a failed
delivery that can be redelivered (by an operator or the redelivery sweeper).

Hot path, per delivery: the body's HMAC (constant-time compare) before anything
else, one ``orjson.loads``, routing, then one Redis round trip (``bot.jobs.queue``'s
delivery script: ledger check, coalescer offers, queue push, seen mark and the
metrics count, atomically). Evaluations of one PR are coalesced: the first event
in a ``COALESCE_SECONDS`` window queues a job that runs after the window and takes
the newest state; later ones only store theirs.

All of that is one function, ``receive(headers, body) -> (status, answer)``. Two
ways reach it: ``WebhookFastPath``, a WSGI middleware in front of Flask that answers
``POST WEBHOOK_PATH`` with a Content-Length header in raw WSGI (Flask's per-request
objects cost about as much as everything else a delivery needs), and the Flask route
for the same path, which takes what the fast path hands on (a chunked body, a
missing or malformed Content-Length). Every other request goes to Flask.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

import orjson
import redis
from celery import Celery
from flask import Flask, Response, request
from werkzeug.datastructures import EnvironHeaders

from bot.core.routing import PayloadError, RouteContext
from bot.jobs.coalesce import Coalescer
from bot.jobs.deliveries import KEY_PREFIX, SEEN_FOR_SECONDS
from bot.jobs.queue import DeliveryPublisher, QueueUnavailable
from bot.runtime.logs import log_context
from bot.runtime.metrics import DELIVERIES_KEY, delivery_field, record_delivery
from bot.runtime.settings import Settings, load_settings, window_from_env
from bot.web import signature
from bot.web.body_deadline import BodyTimeout, body_deadline
from bot.web.handlers import router
from bot.web.metrics_endpoint import metrics_blueprint

log = logging.getLogger("codex_guard.receiver")

MAX_BODY_BYTES = 25 * 1024 * 1024

Answer = tuple[int, dict[str, Any]]
"""(HTTP status, JSON answer)."""
Receive = Callable[[Mapping[str, str], bytes | None], Answer]
"""``receive(headers, body)``; ``body`` is None when it is over ``MAX_BODY_BYTES`` and unread."""
_Counted = tuple[int, dict[str, Any], str | None]
"""(status, answer, outcome to count, or None when the delivery script counted it)."""

_TOO_LARGE = "payload too large (GitHub caps deliveries at 25 MB)"
_TIMED_OUT = "request body not received in time"
_STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


def _dump(answer: dict[str, Any]) -> bytes:
    """``answer`` as JSON; never raises (a ping's ``zen`` is unverified-shape input)."""
    try:
        return orjson.dumps(answer) + b"\n"
    except TypeError:  # orjson.JSONEncodeError: e.g. nested deeper than orjson writes
        pass
    try:
        return json.dumps(answer).encode() + b"\n"
    except (TypeError, ValueError, RecursionError):
        return orjson.dumps({"message": str(answer.get("message", ""))}) + b"\n"


def _response(status: int, answer: dict[str, Any]) -> Response:
    return Response(_dump(answer), status=status, mimetype="application/json")


def _reply(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    return _response(status, {"message": message, **extra}), status


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


class WebhookFastPath:
    """WSGI middleware: ``POST path`` with a Content-Length, answered without Flask.

    It reads ``wsgi.input`` up to CONTENT_LENGTH (nothing at all when that is over
    ``MAX_BODY_BYTES``: 413), calls ``receive`` and writes its JSON answer. Anything
    else, including ``POST path`` with a chunked body or no usable Content-Length, goes
    to ``app`` (Flask), whose route for the path calls the same ``receive``.
    """

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        path: str,
        receive: Receive,
        body_timeout: float = 10.0,
        on_timeout: Callable[[Mapping[str, str]], None] | None = None,
    ) -> None:
        self.app = app
        self.path = path
        self.receive = receive
        self.body_timeout = body_timeout
        self.on_timeout = on_timeout

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self.path or environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        length = environ.get("CONTENT_LENGTH") or ""
        if "HTTP_TRANSFER_ENCODING" in environ or not (length.isascii() and length.isdigit()):
            return self.app(environ, start_response)
        size = int(length)
        body: bytes | None = None
        headers = EnvironHeaders(environ)
        if size <= MAX_BODY_BYTES:
            try:
                with body_deadline(self.body_timeout):
                    body = _read(environ["wsgi.input"], size)
            except BodyTimeout:
                if self.on_timeout is not None:
                    self.on_timeout(headers)
                return _write(start_response, 408, {"message": _TIMED_OUT}, close=True)
        status, answer = self.receive(headers, body)
        return _write(start_response, status, answer)


def _read(stream: Any, size: int) -> bytes:
    body = stream.read(size)
    while len(body) < size:
        more = stream.read(size - len(body))
        if not more:
            break  # a short body: its signature cannot match (401)
        body += more
    return body


def _write(
    start_response: Callable[..., Any], status: int, answer: dict[str, Any], close: bool = False
) -> list[bytes]:
    data = _dump(answer)
    head = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if close:  # the rest of the body may still be on its way: do not read it as a request
        head.append(("Connection", "close"))
    start_response(_STATUS_LINES.get(status, f"{status} "), head)
    return [data]


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

    # Off on the public webhook port unless the operator sets a token for the scraper.
    if settings.metrics_token:
        app.register_blueprint(metrics_blueprint(client, token=settings.metrics_token))

    @app.post(settings.webhook_path)
    def webhook() -> Response:
        """What the fast path hands on: a chunked body or no usable Content-Length."""
        length = request.content_length
        too_large = length is not None and length > MAX_BODY_BYTES
        body = None
        if not too_large:
            try:
                with body_deadline(settings.body_timeout):
                    body = request.get_data(cache=False)
            except BodyTimeout:
                timed_out(request.headers)
                response = _response(408, {"message": _TIMED_OUT})
                response.headers["Connection"] = "close"
                return response
        status, answer = receive(request.headers, body)
        return _response(status, answer)

    def timed_out(headers: Mapping[str, str]) -> None:
        log.warning("rejected request: body not received within %g s", settings.body_timeout)
        record_delivery(client, headers.get("X-GitHub-Event", "").strip(), "rejected")

    def receive(headers: Mapping[str, str], body: bytes | None) -> Answer:
        """One delivery: verify, decode, route, queue; the answer and its metrics count."""
        status, answer, outcome = _receive(headers, body)
        if outcome is not None:
            record_delivery(client, headers.get("X-GitHub-Event", "").strip(), outcome)
        return status, answer

    def _receive(headers: Mapping[str, str], body: bytes | None) -> _Counted:
        started = time.perf_counter()
        if body is None:
            return 413, {"message": _TOO_LARGE}, "rejected"
        if not signature.verify(secrets, body, headers.get("X-Hub-Signature-256")):
            log.warning("rejected delivery: missing or invalid X-Hub-Signature-256")
            return 401, {"message": "missing or invalid X-Hub-Signature-256"}, "rejected"
        event = headers.get("X-GitHub-Event", "").strip()
        delivery = headers.get("X-GitHub-Delivery", "").strip()
        if not _valid_event(event):
            return 400, {"message": "missing or malformed X-GitHub-Event header"}, "rejected"
        if not delivery or len(delivery) > 100 or not delivery.isprintable():
            return 400, {"message": "missing or malformed X-GitHub-Delivery header"}, "rejected"
        try:
            payload = _decode(body, headers.get("Content-Type") or "")
        except (ValueError, UnicodeDecodeError, RecursionError):
            return 400, {"message": "body is not valid JSON"}, "rejected"
        if not isinstance(payload, dict):
            return 400, {"message": "body is not a JSON object"}, "rejected"
        with log_context(delivery=delivery, event=event):
            return _handle(event, delivery, payload, started)

    def _handle(event: str, delivery: str, payload: dict[str, Any], started: float) -> _Counted:
        if event == "ping":
            return 200, {"message": "pong", "zen": payload.get("zen")}, "ignored"
        action = payload.get("action")
        installation = payload.get("installation")
        if not isinstance(installation, dict):
            log.info("ignored delivery without an installation (not an App delivery)")
            return 202, {"message": "ignored: not a GitHub App installation delivery"}, "ignored"
        try:
            jobs = router.dispatch(event, payload, ctx)
        except PayloadError as exc:
            log.warning("rejected delivery: %s", exc)
            return 400, {"message": str(exc)}, "rejected"
        if jobs is None:
            what = f"{event}{'.' + action if action else ''}"
            return 202, {"message": f"ignored: {what} is not handled"}, "ignored"
        repo = (payload.get("repository") or {}).get("full_name")
        if isinstance(repo, str) and not settings.allows(repo):
            log.info("ignored delivery for %s: not in ALLOWED_OWNERS/ALLOWED_REPOS", repo)
            return 202, {"message": "ignored: repository not allowed by this deployment"}, "ignored"
        if not jobs:
            return 202, {"message": "nothing to do"}, "ignored"
        planned = [publisher.plan(job, delivery) for job in jobs]
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
            return 503, {"message": "queue unavailable, redeliver later"}, "unavailable"
        if result is None:
            return 200, {"message": "duplicate delivery: already queued"}, None
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
        answer: dict[str, Any] = {"message": "queued", "jobs": len(jobs)}
        if coalesced:
            answer["coalesced"] = coalesced
        return 202, answer, None

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        try:
            client.ping()
        except redis.RedisError:
            return _reply(503, "redis unavailable")
        return _reply(200, "ok")

    @app.errorhandler(413)
    def too_large(_: Exception) -> tuple[Response, int]:
        return _reply(413, _TOO_LARGE)

    app.extensions["codex_guard.receive"] = receive
    app.wsgi_app = WebhookFastPath(  # type: ignore[method-assign]
        app.wsgi_app, settings.webhook_path, receive, settings.body_timeout, timed_out
    )
    return app
