"""The webhook receiver over a real Redis: verify, de-duplicate, route, queue."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.settings import load_settings
from bot.web import create_app
from tests.conftest import APP_ID, WEBHOOK_SECRET, example
from tests.receiver_rig import encode, headers, queued
from worker.celery_app import make_celery


@pytest.fixture
def settings(app_key, redis_server):
    return load_settings(
        {
            "APP_ID": str(APP_ID),
            "PRIVATE_KEY": app_key[0],
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "REDIS_URL": redis_server.url,
        }
    )


@pytest.fixture
def client(settings, redis_client):
    app = create_app(settings, make_celery(settings.redis_url), redis_client)
    return app.test_client()


def post(client, event, payload, **kw):
    body = encode(payload) if isinstance(payload, dict) else payload
    return client.post("/api/github/webhooks", data=body, headers=headers(event, body, **kw))


def test_pull_request_opened_is_queued_with_what_the_worker_needs(
    client, redis_client, webhook_examples
):
    payload = example(webhook_examples, "pull_request", "opened")
    response = post(client, "pull_request", payload)
    assert response.status_code == 202
    [(task, kwargs)] = queued(redis_client)
    assert task == "codex_guard.evaluate"
    assert kwargs["installation_id"] == payload["installation"]["id"]
    assert kwargs["repo"] == payload["repository"]["full_name"]
    assert kwargs["number"] == payload["pull_request"]["number"]
    assert kwargs["head_sha"] == payload["pull_request"]["head"]["sha"]
    assert kwargs["pull_request"]["head_ref"] == payload["pull_request"]["head"]["ref"]
    assert kwargs["delivery"]


def test_same_delivery_twice_is_queued_once(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "synchronize")
    first = post(client, "pull_request", payload, delivery="d-1")
    second = post(client, "pull_request", payload, delivery="d-1")
    assert (first.status_code, second.status_code) == (202, 200)
    assert len(queued(redis_client)) == 1


def test_unsigned_and_wrongly_signed_deliveries_are_refused(client, redis_client, webhook_examples):
    body = encode(example(webhook_examples, "pull_request", "opened"))
    h = headers("pull_request", body)
    del h["X-Hub-Signature-256"]
    assert client.post("/api/github/webhooks", data=body, headers=h).status_code == 401
    h = headers("pull_request", body, secret="wrong")
    assert client.post("/api/github/webhooks", data=body, headers=h).status_code == 401
    h = headers("pull_request", b"{}")
    assert client.post("/api/github/webhooks", data=body, headers=h).status_code == 401
    assert queued(redis_client) == []


def test_ping_is_answered(client, webhook_examples):
    response = post(client, "ping", webhook_examples["ping"][0])
    assert response.status_code == 200
    assert response.get_json()["message"] == "pong"


def test_malformed_bodies_get_400(client, redis_client):
    assert post(client, "pull_request", b"{not json").status_code == 400
    assert post(client, "pull_request", b"[1, 2]").status_code == 400
    assert post(client, "pull_request", b"\xff\xfe").status_code == 400
    assert queued(redis_client) == []


def test_missing_event_header_is_400(client):
    body = b"{}"
    h = headers("x", body)
    del h["X-GitHub-Event"]
    assert client.post("/api/github/webhooks", data=body, headers=h).status_code == 400


def test_payload_missing_handler_fields_is_400(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "opened")
    del payload["pull_request"]["head"]
    response = post(client, "pull_request", payload)
    assert response.status_code == 400
    assert "pull_request.head" in response.get_json()["message"]
    assert queued(redis_client) == []


def test_unhandled_events_are_accepted_and_ignored(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "assigned")
    response = post(client, "pull_request", payload)
    assert response.status_code == 202
    assert "ignored" in response.get_json()["message"]
    assert queued(redis_client) == []


def test_form_encoded_delivery_is_accepted_when_signed(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "opened")
    body = urlencode({"payload": json.dumps(payload)}).encode()
    h = headers("pull_request", body)
    h["Content-Type"] = "application/x-www-form-urlencoded"
    assert client.post("/api/github/webhooks", data=body, headers=h).status_code == 202
    assert [t for t, _ in queued(redis_client)] == ["codex_guard.evaluate"]


def test_own_check_run_events_do_not_loop(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "check_run", "rerequested")
    payload["action"] = "completed"
    payload["check_run"]["name"] = "codex-guard"
    assert post(client, "check_run", payload).status_code == 202
    assert queued(redis_client) == []


def test_queue_down_answers_503_and_a_redelivery_gets_through(
    settings, redis_client, webhook_examples, redis_server
):
    from dataclasses import replace

    import redis as redis_lib

    dead = "redis://127.0.0.1:1/0"
    down = create_app(
        replace(settings, redis_url=dead),
        make_celery(dead),
        redis_lib.Redis.from_url(dead, socket_connect_timeout=0.5),
    ).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    assert post(down, "pull_request", payload, delivery="outage-1").status_code == 503
    assert down.get("/healthz").status_code == 503
    up = create_app(settings, make_celery(settings.redis_url), redis_client).test_client()
    assert post(up, "pull_request", payload, delivery="outage-1").status_code == 202
    assert len(queued(redis_client)) == 1
    assert up.get("/healthz").status_code == 200


def test_oversized_body_is_413(client):
    body = b"{" + b" " * (25 * 1024 * 1024 + 1) + b"}"
    response = client.post("/api/github/webhooks", data=body, headers=headers("push", b"x"))
    assert response.status_code == 413


def test_every_example_event_gets_2xx_never_5xx(client, webhook_examples):
    """Every real payload GitHub documents, signed, is answered 2xx."""
    count = 0
    for event, payloads in webhook_examples.items():
        for payload in payloads:
            response = post(client, event, payload)
            assert 200 <= response.status_code < 300, (event, payload.get("action"), response.json)
            count += 1
    assert count > 300


def test_metrics_count_deliveries_by_event_and_outcome(client, redis_client, webhook_examples):
    payload = example(webhook_examples, "pull_request", "opened")
    post(client, "pull_request", payload, delivery="m-1")
    post(client, "pull_request", payload, delivery="m-1")
    post(client, "pull_request", b"{broken")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="queued"} 1.0' in text
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="duplicate"} 1.0' in text
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="rejected"} 1.0' in text
    assert "codex_guard_queue_depth 1.0" in text
