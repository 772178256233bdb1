"""Hostile and broken input: refused with the right 4xx, nothing queued, never a 5xx;
every parser of PR text and AGENTS.md survives anything (hypothesis)."""

from __future__ import annotations

import json
import string
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.commands import parse_command
from bot.core.config import DEFAULT_CONFIG
from bot.core.findings import PRACTICE_IDS, Outcome
from bot.core.markdown import parse
from bot.core.snapshot import PRSnapshot
from bot.practices import agents_md, done_when, passing_tests, task_thread
from bot.practices.detection import detect
from bot.practices.evaluation import evaluate
from bot.web import signature
from tests.conftest import WEBHOOK_SECRET, example
from tests.receiver_rig import WEBHOOK_URL, app_settings, encode, headers, queued, receiver_client

URL = WEBHOOK_URL


@pytest.fixture
def client(app_key, redis_server, redis_client):
    return receiver_client(app_settings(app_key, redis_server), redis_client)


@pytest.fixture
def pr_payload(webhook_examples):
    return example(webhook_examples, "pull_request", "opened")


def _post(client, body: bytes, h: dict[str, str]):
    return client.post(URL, data=body, headers=h)


# -- each listed case ------------------------------------------------------------------------


def test_no_signature(client, redis_client, pr_payload):
    body = encode(pr_payload)
    h = headers("pull_request", body)
    del h["X-Hub-Signature-256"]
    assert _post(client, body, h).status_code == 401
    assert queued(redis_client) == []


def test_wrong_signature(client, redis_client, pr_payload):
    body = encode(pr_payload)
    assert _post(client, body, headers("pull_request", body, secret="nope")).status_code == 401
    h = headers("pull_request", body)
    h["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    assert _post(client, body, h).status_code == 401
    h["X-Hub-Signature-256"] = "sha256=not-hex-ü"
    assert _post(client, body, h).status_code == 401
    assert queued(redis_client) == []


def test_signature_over_a_different_body(client, redis_client, pr_payload):
    body = encode(pr_payload)
    h = headers("pull_request", body + b" ")
    assert _post(client, body, h).status_code == 401
    assert queued(redis_client) == []


def test_sha1_only_signature_is_refused(client, redis_client, pr_payload):
    import hashlib
    import hmac

    body = encode(pr_payload)
    h = headers("pull_request", body)
    del h["X-Hub-Signature-256"]
    digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha1).hexdigest()
    h["X-Hub-Signature"] = "sha1=" + digest
    assert _post(client, body, h).status_code == 401
    assert queued(redis_client) == []


@pytest.mark.parametrize("event", [None, "", "pull request", "pull_request;rm", "x" * 65, "ü"])
def test_wrong_or_missing_event_header(client, redis_client, pr_payload, event):
    body = encode(pr_payload)
    h = headers("pull_request", body)
    if event is None:
        del h["X-GitHub-Event"]
    else:
        h["X-GitHub-Event"] = event
    assert _post(client, body, h).status_code == 400
    assert queued(redis_client) == []


def test_missing_delivery_header(client, redis_client, pr_payload):
    body = encode(pr_payload)
    h = headers("pull_request", body)
    del h["X-GitHub-Delivery"]
    assert _post(client, body, h).status_code == 400
    assert queued(redis_client) == []


def test_form_encoded_delivery_accepted_when_signed_refused_otherwise(
    client, redis_client, pr_payload
):
    body = urlencode({"payload": json.dumps(pr_payload)}).encode()
    h = headers("pull_request", body)
    h["Content-Type"] = "application/x-www-form-urlencoded"
    assert _post(client, body, h).status_code == 202
    assert len(queued(redis_client)) == 1
    h2 = headers("pull_request", body, secret="nope")
    h2["Content-Type"] = "application/x-www-form-urlencoded"
    assert _post(client, body, h2).status_code == 401
    for bad in (b"payload=%7Bnot-json", b"other=1", b"payload=%5B1%5D", b"%ff%fe=\xff"):
        h3 = headers("pull_request", bad)
        h3["Content-Type"] = "application/x-www-form-urlencoded"
        assert _post(client, bad, h3).status_code == 400, bad
    assert len(queued(redis_client)) == 1


@pytest.mark.parametrize(
    "body", [b"{not json", b"", b"\xff\xfe", b'{"a": NaN', b"[" * 100_000 + b"]" * 100_000]
)
def test_malformed_json(client, redis_client, body):
    assert _post(client, body, headers("pull_request", body)).status_code == 400
    assert queued(redis_client) == []


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"42", b"null", b"true"])
def test_json_that_is_not_an_object(client, redis_client, body):
    assert _post(client, body, headers("pull_request", body)).status_code == 400
    assert queued(redis_client) == []


@pytest.mark.parametrize(
    "path",
    [("pull_request",), ("pull_request", "head"), ("pull_request", "number"), ("repository",)],
)
def test_signed_payload_missing_needed_fields(client, redis_client, pr_payload, path):
    target = pr_payload
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    response = _post(client, encode(pr_payload), headers("pull_request", encode(pr_payload)))
    assert response.status_code == 400
    assert queued(redis_client) == []


def test_fields_of_the_wrong_type(client, redis_client, pr_payload):
    pr_payload["pull_request"]["number"] = "1; DROP TABLE"
    body = encode(pr_payload)
    assert _post(client, body, headers("pull_request", body)).status_code == 400
    pr_payload["installation"] = {"id": "x"}
    body = encode(pr_payload)
    assert _post(client, body, headers("pull_request", body)).status_code == 400
    assert queued(redis_client) == []


def test_body_over_25_mb_is_413_and_not_read(client, redis_client):
    big = b"{" + b" " * (25 * 1024 * 1024) + b"}"
    response = _post(client, big, headers("pull_request", b"x"))
    assert response.status_code == 413
    assert queued(redis_client) == []


def test_unicode_and_control_characters_everywhere(client, redis_client, pr_payload):
    weird = "\u202e\u0000\x07\ud7ff\ufeff💥\u200b<script>`"
    pr_payload["pull_request"]["title"] = weird * 50
    pr_payload["pull_request"]["body"] = weird * 500
    pr_payload["pull_request"]["head"]["ref"] = "codex/" + weird
    body = json.dumps(pr_payload, ensure_ascii=False).encode("utf-8", "surrogatepass")
    response = _post(client, body, headers("pull_request", body, delivery="d-\u00e9\u202e"))
    assert response.status_code in (202, 400)
    assert response.status_code < 500


# -- property tests over the receiver --------------------------------------------------------

_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.binary(max_size=2000) | _json_values.map(lambda v: json.dumps(v).encode()),
    event=_header_text,
    delivery=_header_text,
    sig=st.none() | _header_text,
    content_type=st.sampled_from(
        ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
    ),
)
def test_random_unsigned_input_is_never_5xx_and_never_queued(
    client, redis_client, body, event, delivery, sig, content_type
):
    h = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": content_type}
    if sig is not None:
        h["X-Hub-Signature-256"] = sig
    response = client.post(URL, data=body, headers=h)
    assert response.status_code < 500
    assert response.status_code in (400, 401, 413)
    assert queued(redis_client) == []


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    value=_json_values,
    event=st.sampled_from(
        ["pull_request", "check_run", "check_suite", "status", "issue_comment", "push",
         "installation", "installation_repositories", "merge_group", "ping", "unknown_event"]
    ),
    action=st.none() | st.sampled_from(["opened", "synchronize", "completed", "created",
                                        "deleted", "rerequested", "added", "removed"]),
)  # fmt: skip
def test_random_signed_payloads_are_never_5xx(client, redis_client, value, event, action):
    payload = value if isinstance(value, dict) else {"value": value}
    if action is not None:
        payload["action"] = action
    payload.setdefault("installation", {"id": 1})
    body = json.dumps(payload).encode()
    h = headers(event, body)
    response = client.post(URL, data=body, headers=h)
    assert response.status_code < 500, response.get_json()
    redis_client.flushall()


# -- property tests over the parsers of PR text and AGENTS.md --------------------------------

_md_alphabet = string.printable + "`#*_[]()<>!|~-=\u00a0\u202eé💥\t"
_md = st.text(alphabet=_md_alphabet, max_size=3000)


def _snapshot(body: str, agents: str, title: str = "t", messages: tuple[str, ...] = ()):
    return PRSnapshot(
        repo="o/r",
        number=1,
        title=title,
        body=body,
        author="chatgpt-codex-connector[bot]",
        head_sha="a" * 40,
        head_ref="codex/x",
        base_ref="main",
        commit_messages=messages,
        changed_files=("AGENTS.md", "app/x.py"),
        checks=(),
        head_tree=frozenset({"AGENTS.md", "app/x.py"}),
        head_files={"AGENTS.md": agents},
        base_files={"AGENTS.md": agents},
        issue_bodies={2: body},
        other_open_prs={},
    )


def _run_all(body: str, agents: str, title: str = "t") -> None:
    parse(body)
    parse(agents)
    parse_command(body)
    snap = _snapshot(body, agents, title, (body[:500],))
    detect(snap, DEFAULT_CONFIG)
    for module in (agents_md, done_when, passing_tests, task_thread):
        result = module.evaluate(snap, DEFAULT_CONFIG)
        # Cheap properties beyond "no exception": each practice answers for itself, with a
        # one-line reason and findings that point into the text (never line 0).
        assert result.practice in PRACTICE_IDS
        assert isinstance(result.outcome, Outcome)
        assert "\n" not in result.reason
        for finding in result.findings:
            assert finding.line is None or finding.line >= 1
    verdict = evaluate(snap, DEFAULT_CONFIG)
    assert list(verdict.results) == list(PRACTICE_IDS)
    failed = any(r.outcome is Outcome.FAIL for r in verdict.results.values())
    assert verdict.conclusion == ("failure" if failed else "success")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_md, agents=_md, title=st.text(max_size=200))
def test_no_exception_escapes_any_parser(body, agents, title):
    _run_all(body, agents, title)


@settings(max_examples=40, deadline=None)
@given(line=st.text(max_size=300))
def test_command_parser_never_raises(line):
    command = parse_command("/codex-guard " + line)
    # A line that starts with the prefix is always a command, and only one of three kinds.
    assert command is not None
    assert command.name in ("recheck", "skip", "invalid")
    if command.name == "skip":
        assert command.practice and command.reason
    if command.name == "invalid":
        assert command.error
    other = parse_command(line)
    if "/codex-guard" not in line.lower():
        assert other is None


MB = 1024 * 1024


# 1 MB each. Each text is parsed once per evaluation, and at most
# markdown_doc.MAX_PARSE_CHARS (128 KiB) of it, so even the link, emphasis and table
# floods (markdown-it's slowest inputs, ~0.8 s per 128 KiB) take a few seconds.
@pytest.mark.parametrize(
    "name,text,size",
    [
        ("deep nesting", "> " * 50_000 + "x\n" + "- " * 50_000 + "y\n" + "[" * 100_000, MB),
        ("100k backticks", "`" * 100_000 + "\n" + "``a`" * 50_000, MB),
        ("long line", "a" * MB, MB),
        ("pathological links", "[a](" * 60_000 + ")" * 60_000 + "](" * 50_000, MB),
        ("emphasis", "*_" * 200_000 + "\n" + "**a" * 100_000, MB),
        ("headings and tables", "# h\n| a | b |\n|---|---|\n" * 30_000, MB),
    ],
)
def test_adversarial_body_is_processed(name, text, size):
    text = (text * (1 + size // max(1, len(text))))[:size]
    _run_all(text, text[: 64 * 1024])


def test_secret_rotation_previous_secret_accepted_others_not(app_key, redis_server, redis_client,
                                                             pr_payload):  # fmt: skip
    s = app_settings(
        app_key, redis_server, WEBHOOK_SECRET="new-secret", WEBHOOK_SECRET_PREVIOUS=WEBHOOK_SECRET
    )
    c = receiver_client(s, redis_client)
    body = encode(pr_payload)
    assert _post(c, body, headers("pull_request", body, secret="new-secret")).status_code == 202
    assert _post(c, body, headers("pull_request", body, secret=WEBHOOK_SECRET)).status_code == 202
    assert _post(c, body, headers("pull_request", body, secret="older")).status_code == 401
    assert signature.verify(("a",), body, signature.sign("a", body))
