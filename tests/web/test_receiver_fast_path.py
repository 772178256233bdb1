"""The receiver's WSGI fast path and its Flask route answer every delivery alike.

``create_app`` puts ``WebhookFastPath`` in front of Flask: ``POST WEBHOOK_PATH`` with a
Content-Length is answered in raw WSGI, everything else goes to Flask, whose webhook route
calls the same ``receive``. Each case below is sent through both (the fast path is
``app.wsgi_app``; Flask alone is ``app.wsgi_app.app``) and must get the same status, the
same JSON answer and the same metrics count.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from bot.runtime.metrics import DELIVERIES_KEY, delivery_field
from bot.runtime.settings import load_settings
from bot.web import signature
from bot.web.app import MAX_BODY_BYTES, WebhookFastPath, create_app
from tests.conftest import APP_ID, METRICS_AUTH, METRICS_TOKEN, WEBHOOK_SECRET, example

PATH = "/api/github/webhooks"
REJECTED = delivery_field("pull_request", "rejected").encode()


@pytest.fixture
def app(app_key, redis_server, redis_client):
    settings = load_settings(
        {
            "APP_ID": str(APP_ID),
            "PRIVATE_KEY": app_key[0],
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REDIS_URL": redis_server.url,
            "METRICS_TOKEN": METRICS_TOKEN,
        }
    )
    # No coalescing window: the same PR is posted once per path and each must queue its job.
    # (Coalescing itself is covered by test_receiver.py, whose client goes through the fast path.)
    return create_app(settings, None, redis_client, 0.0)


def _headers(event: str | None, body: bytes, delivery: str | None, **extra: str) -> dict[str, str]:
    out = {"X-Hub-Signature-256": signature.sign(WEBHOOK_SECRET, body)}
    if event is not None:
        out["X-GitHub-Event"] = event
    if delivery is not None:
        out["X-GitHub-Delivery"] = delivery
    out.update(extra)
    return out


def _call(wsgi: Callable[..., Any], environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    app_iter, status, headers = run_wsgi_app(wsgi, environ, buffered=True)
    body = b"".join(app_iter)
    assert headers["Content-Type"] == "application/json"
    return int(status.split()[0]), json.loads(body)


def _environ(body: bytes, headers: dict[str, str], content_type: str) -> dict[str, Any]:
    return EnvironBuilder(
        path=PATH, method="POST", data=body, headers=headers, content_type=content_type
    ).get_environ()


def _counts(redis_client) -> dict[bytes, int]:
    return {k: int(v) for k, v in redis_client.hgetall(DELIVERIES_KEY).items()}


def _both(app, redis_client, build: Callable[[str], dict[str, Any]]):
    """(answer, metrics delta) through the fast path, then the same through Flask alone."""
    assert isinstance(app.wsgi_app, WebhookFastPath)
    out = []
    for name, wsgi in (("fast", app.wsgi_app), ("flask", app.wsgi_app.app)):
        before = _counts(redis_client)
        answer = _call(wsgi, build(name))
        after = _counts(redis_client)
        delta = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        out.append((answer, delta))
    return out


def _case_body(webhook_examples, case: str) -> tuple[str | None, bytes, str, dict[str, str]]:
    """(event, body, content type, extra headers) for one case."""
    pr = example(webhook_examples, "pull_request", "opened")
    json_type = "application/json"
    if case == "queued":
        return "pull_request", json.dumps(pr).encode(), json_type, {}
    if case == "form":
        body = urlencode({"payload": json.dumps(pr)}).encode()
        return "pull_request", body, "application/x-www-form-urlencoded", {}
    if case == "form_without_payload":
        return "pull_request", b"other=1", "application/x-www-form-urlencoded", {}
    if case == "ping":
        return "ping", json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode(), \
            json_type, {}  # fmt: skip
    if case == "ping_deep_zen":
        zen: Any = "deep"
        for _ in range(400):
            zen = [zen]
        return "ping", json.dumps({"zen": zen}).encode(), json_type, {}
    if case == "no_installation":
        del pr["installation"]
        return "pull_request", json.dumps(pr).encode(), json_type, {}
    if case == "unhandled_event":
        return "star", json.dumps({"action": "created", "installation": {"id": 1}}).encode(), \
            json_type, {}  # fmt: skip
    if case == "missing_fields":
        del pr["pull_request"]
        return "pull_request", json.dumps(pr).encode(), json_type, {}
    if case == "malformed_json":
        return "pull_request", b"{broken", json_type, {}
    if case == "not_an_object":
        return "pull_request", b"[1, 2]", json_type, {}
    if case == "no_event":
        return None, json.dumps(pr).encode(), json_type, {}
    if case == "bad_event":
        return "pull request!", json.dumps(pr).encode(), json_type, {}
    raise AssertionError(case)


CASES = {
    "queued": 202,
    "form": 202,
    "form_without_payload": 400,
    "ping": 200,
    "ping_deep_zen": 200,
    "no_installation": 202,
    "unhandled_event": 202,
    "missing_fields": 400,
    "malformed_json": 400,
    "not_an_object": 400,
    "no_event": 400,
    "bad_event": 400,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_path_and_flask_route_answer_alike(app, redis_client, webhook_examples, case):
    event, body, content_type, extra = _case_body(webhook_examples, case)

    def build(name: str) -> dict[str, Any]:
        headers = _headers(event, body, f"{case}-{name}-{uuid.uuid4()}", **extra)
        return _environ(body, headers, content_type)

    (fast, fast_counts), (flask, flask_counts) = _both(app, redis_client, build)
    assert fast[0] == CASES[case], fast
    assert fast == flask
    assert fast_counts == flask_counts
    assert sum(fast_counts.values()) == 1


@pytest.mark.parametrize(
    "signature_header",
    [None, "sha256=" + "0" * 64, "sha1=abc", signature.sign("not the secret", b"{}")],
)
def test_bad_signatures_are_401_on_both_paths(
    app, redis_client, webhook_examples, signature_header
):
    body = json.dumps(example(webhook_examples, "pull_request", "opened")).encode()

    def build(name: str) -> dict[str, Any]:
        headers = _headers("pull_request", body, f"sig-{name}")
        del headers["X-Hub-Signature-256"]
        if signature_header is not None:
            headers["X-Hub-Signature-256"] = signature_header
        return _environ(body, headers, "application/json")

    (fast, fast_counts), (flask, flask_counts) = _both(app, redis_client, build)
    assert fast[0] == 401
    assert fast == flask
    assert fast_counts == flask_counts == {REJECTED: 1}
    assert redis_client.llen("codex-guard") == 0


def test_missing_delivery_header_is_400_on_both_paths(app, redis_client, webhook_examples):
    body = json.dumps(example(webhook_examples, "pull_request", "opened")).encode()
    (fast, _), (flask, _) = _both(
        app, redis_client, lambda _: _environ(body, _headers("pull_request", body, None), "")
    )
    assert fast[0] == 400
    assert fast == flask


def test_a_duplicate_is_answered_200_on_both_paths(app, redis_client, webhook_examples):
    body = json.dumps(example(webhook_examples, "pull_request", "opened")).encode()

    def build(_: str) -> dict[str, Any]:
        return _environ(body, _headers("pull_request", body, "same-delivery"), "application/json")

    assert _call(app.wsgi_app, build("first")) == (202, {"message": "queued", "jobs": 1})
    (fast, fast_counts), (flask, flask_counts) = _both(app, redis_client, build)
    assert fast == flask == (200, {"message": "duplicate delivery: already queued"})
    assert fast_counts == flask_counts
    assert redis_client.llen("codex-guard") == 1


class _Unreadable(io.RawIOBase):
    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body of an oversized delivery must not be read")

    readline = readinto = read  # type: ignore[assignment]


def test_oversized_is_413_without_reading_on_both_paths(app, redis_client):
    def build(_: str) -> dict[str, Any]:
        environ = _environ(b"{}", _headers("pull_request", b"{}", "big"), "application/json")
        environ["CONTENT_LENGTH"] = str(MAX_BODY_BYTES + 1)
        environ["wsgi.input"] = _Unreadable()
        return environ

    (fast, fast_counts), (flask, flask_counts) = _both(app, redis_client, build)
    assert fast[0] == 413
    assert fast == flask
    assert fast_counts == flask_counts == {REJECTED: 1}


def test_a_body_at_the_cap_is_read(app, redis_client):
    body = b" " * MAX_BODY_BYTES
    environ = _environ(body, _headers("pull_request", body, "at-cap"), "application/json")
    assert _call(app.wsgi_app, environ)[0] == 400  # read, verified, then not JSON


def test_chunked_and_length_less_posts_go_to_flask_and_are_read(
    app, redis_client, webhook_examples
):
    body = json.dumps(example(webhook_examples, "pull_request", "opened")).encode()
    for name, tweak in (
        ("chunked", {"HTTP_TRANSFER_ENCODING": "chunked"}),
        ("no-length", {}),
        ("bad-length", {"CONTENT_LENGTH": "1e3"}),
    ):
        environ = _environ(body, _headers("pull_request", body, name), "application/json")
        environ.pop("CONTENT_LENGTH", None)
        environ.update(tweak)
        environ["wsgi.input_terminated"] = True  # as gunicorn sets it: read to EOF
        assert _call(app.wsgi_app, environ) == (202, {"message": "queued", "jobs": 1}), name


def test_a_short_body_is_refused_401(app, redis_client, webhook_examples):
    body = json.dumps(example(webhook_examples, "pull_request", "opened")).encode()
    environ = _environ(body, _headers("pull_request", body, "short"), "application/json")
    environ["wsgi.input"] = io.BytesIO(body[:100])
    assert _call(app.wsgi_app, environ)[0] == 401
    assert redis_client.llen("codex-guard") == 0


def test_every_other_request_goes_to_flask(app, redis_client):
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get(PATH).status_code == 405
    assert client.get("/metrics", headers=METRICS_AUTH).status_code == 200
    assert client.post(PATH + "/", data=b"{}").status_code in (308, 404, 405)
    assert client.post("/elsewhere", data=b"{}").status_code == 404
