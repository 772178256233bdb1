"""The webhook receiver over a real Redis: verify, de-duplicate, route, queue."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.web.app import create_app
from tests.conftest import METRICS_AUTH, example
from tests.receiver_rig import app_settings, encode, headers, queued, receiver_client
from worker.celery_app import make_celery


@pytest.fixture
def settings(app_key, redis_server):
    return app_settings(app_key, redis_server)


@pytest.fixture
def client(settings, redis_client):
    return receiver_client(settings, redis_client)


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
    text = client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="queued"} 1.0' in text
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="duplicate"} 1.0' in text
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="rejected"} 1.0' in text
    assert "codex_guard_queue_depth 1.0" in text


# -- coalescing and the one-round-trip publish ---------------------------------------------


def _app(settings, redis_client, seconds=1.0):
    return create_app(settings, make_celery(settings.redis_url), redis_client, seconds)


def _edited(payload, body, second):
    p = json.loads(json.dumps(payload))
    p["action"] = "edited"
    p["pull_request"]["body"] = body
    p["pull_request"]["updated_at"] = f"2030-01-01T00:00:{second:02d}Z"
    return p


def _raw_messages(redis_client):
    return [json.loads(raw) for raw in redis_client.lrange("codex-guard", 0, -1)]


def test_a_burst_for_one_pr_queues_one_job_and_keeps_the_newest_state(
    settings, redis_client, webhook_examples
):
    from bot.jobs.coalesce import Coalescer

    app = _app(settings, redis_client).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    answers = [
        post(app, "pull_request", _edited(payload, f"body {i}", i), delivery=f"b-{i}")
        for i in range(5)
    ]
    assert [a.status_code for a in answers] == [202] * 5
    assert [a.get_json().get("coalesced", 0) for a in answers] == [0, 1, 1, 1, 1]
    [(task, kwargs)] = queued(redis_client)
    [message] = _raw_messages(redis_client)
    # Leading edge: nothing evaluated this PR in the window, so the job runs at once.
    assert task == "codex_guard.evaluate" and message["headers"]["eta"] is None
    key = kwargs["coalesce"]
    assert key == f"pr:{payload['repository']['full_name']}#{payload['pull_request']['number']}"
    state = Coalescer(redis_client).take(key, message["headers"]["id"])
    assert state["task"] == "codex_guard.evaluate"
    assert state["kwargs"]["pull_request"]["body"] == "body 4"
    assert state["kwargs"]["delivery"] == "b-4"


def test_an_event_inside_the_window_of_an_evaluation_waits_out_the_window(
    settings, redis_client, webhook_examples
):
    """The take started an evaluation; the next event's job runs after the window, with an
    ETA in its header, and events after it ride along with that job."""
    from datetime import datetime

    from bot.jobs.coalesce import Coalescer

    app = _app(settings, redis_client).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    post(app, "pull_request", _edited(payload, "first", 1), delivery="w-1")
    [first] = _raw_messages(redis_client)
    key = queued(redis_client)[0][1]["coalesce"]
    redis_client.delete("codex-guard")
    assert Coalescer(redis_client).take(key, first["headers"]["id"])["kwargs"]["delivery"] == "w-1"
    answers = [
        post(app, "pull_request", _edited(payload, f"later {i}", 2 + i), delivery=f"w-{2 + i}")
        for i in range(3)
    ]
    assert [a.get_json().get("coalesced", 0) for a in answers] == [0, 1, 1]
    [message] = _raw_messages(redis_client)
    eta = datetime.fromisoformat(message["headers"]["eta"])
    queued_at = datetime.fromtimestamp(message["headers"]["queued_at"], eta.tzinfo)
    assert 0.5 < (eta - queued_at).total_seconds() < 1.5  # the default 1 s window
    # The rest of the message is intact: Celery reads the same task and kwargs.
    [(task, kwargs)] = queued(redis_client)
    assert task == "codex_guard.evaluate" and kwargs["coalesce"] == key
    state = Coalescer(redis_client).take(key, message["headers"]["id"])
    assert state["kwargs"]["delivery"] == "w-4"


def test_a_coalesced_delivery_is_recorded_as_seen(settings, redis_client, webhook_examples):
    app = _app(settings, redis_client).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    assert post(app, "pull_request", _edited(payload, "a", 1), delivery="c-1").status_code == 202
    second = post(app, "pull_request", _edited(payload, "b", 2), delivery="c-2")
    assert second.status_code == 202 and second.get_json()["coalesced"] == 1
    again = post(app, "pull_request", _edited(payload, "b", 2), delivery="c-2")
    assert again.status_code == 200 and again.get_json()["message"].startswith("duplicate")
    assert len(queued(redis_client)) == 1
    text = app.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="queued"} 2.0' in text
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="duplicate"} 1.0' in text


def test_ci_events_for_the_pr_ride_along_with_its_pull_request_job(
    settings, redis_client, webhook_examples
):
    app = _app(settings, redis_client).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    assert post(app, "pull_request", payload).status_code == 202
    from tests.e2e_helpers import check_suite_completed

    suite = check_suite_completed(webhook_examples, payload)
    assert post(app, "check_suite", suite).get_json()["coalesced"] == 1
    assert [t for t, _ in queued(redis_client)] == ["codex_guard.evaluate"]


def test_forced_jobs_and_commands_are_never_coalesced(settings, redis_client, webhook_examples):
    app = _app(settings, redis_client).test_client()
    payload = example(webhook_examples, "check_run", "rerequested")
    payload["check_run"]["name"] = "codex-guard"
    assert post(app, "check_run", payload).status_code == 202
    assert post(app, "check_run", payload).status_code == 202
    jobs = queued(redis_client)
    assert [t for t, _ in jobs] == ["codex_guard.evaluate_sha"] * 2
    assert all(kw["force"] and "coalesce" not in kw for _, kw in jobs)
    assert all(m["headers"]["eta"] is None for m in _raw_messages(redis_client))


def test_window_zero_turns_coalescing_off(settings, redis_client, webhook_examples):
    app = _app(settings, redis_client, 0).test_client()
    payload = example(webhook_examples, "pull_request", "opened")
    for i in range(3):
        assert post(app, "pull_request", _edited(payload, str(i), i)).status_code == 202
    jobs = queued(redis_client)
    assert len(jobs) == 3 and not any("coalesce" in kw for _, kw in jobs)
    assert redis_client.keys("codex-guard:coalesce:*") == []


def test_a_queue_failure_releases_the_claim_and_the_offer(settings, redis_client, webhook_examples):
    """The script ran but its answer was lost: 503, and a redelivery still queues a job."""
    import redis as redis_lib

    from bot.jobs.coalesce import Coalescer

    app = _app(settings, redis_client)
    publisher = app.extensions["codex_guard.publisher"]
    real = publisher._script

    def lost(*args, **kwargs):
        real(*args, **kwargs)
        raise redis_lib.ConnectionError("connection reset")

    publisher._script = lost
    client = app.test_client()
    payload = _edited(example(webhook_examples, "pull_request", "opened"), "x", 1)
    assert post(client, "pull_request", payload, delivery="lost-1").status_code == 503
    key = f"pr:{payload['repository']['full_name']}#{payload['pull_request']['number']}"
    assert not Coalescer(redis_client).pending(key)
    assert not redis_client.exists("codex-guard:delivery:lost-1")
    publisher._script = real
    again = post(client, "pull_request", payload, delivery="lost-1")
    assert again.status_code == 202 and "coalesced" not in again.get_json()
    assert len(queued(redis_client)) == 2  # one more job than needed, none lost
    text = client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
    assert 'codex_guard_deliveries_total{event="pull_request",outcome="unavailable"} 1.0' in text


def test_queued_message_is_what_celery_itself_would_send(settings, redis_client, webhook_examples):
    """Same envelope as kombu's Redis transport, so the worker and the sweepers read it."""
    from bot.core.routing import Job
    from bot.jobs.queue import enqueue
    from bot.runtime.metrics import queue_state

    app = _app(settings, redis_client, 0).test_client()
    opened = example(webhook_examples, "pull_request", "opened")
    assert post(app, "pull_request", opened).status_code == 202
    enqueue(make_celery(settings.redis_url), [Job("codex_guard.evaluate", {"a": 1})])
    ours, celerys = reversed(_raw_messages(redis_client))
    assert ours.keys() == celerys.keys()
    assert set(celerys["headers"]) <= set(ours["headers"])
    assert set(celerys["properties"]) == set(ours["properties"])
    assert ours["properties"]["delivery_info"] == celerys["properties"]["delivery_info"]
    depth, age = queue_state(redis_client)
    assert depth == 2 and age is not None and age < 60  # the receiver stamps queued_at
