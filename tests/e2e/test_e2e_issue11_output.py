"""Issue 11 items 3, 6 and 7 end to end: real redis-server, gunicorn `web`, Celery `worker`
and the GitHub API double.

3: a credential in AGENTS.md, quoted whole or broken over two lines, leaves in no
output: check run, annotations, comment, worker logs, audit stream, anything cached.
6: a PR that deletes AGENTS.md is still held to the base's commands.
7: a PR body's links and images come out inert.
"""

from __future__ import annotations

import json
import secrets

import pytest
from markdown_it import MarkdownIt

from bot.jobs import audit
from tests.e2e_helpers import Seeder, deliver_and_wait, fresh_repo, guard_comments, ids
from tests.e2e_rig import *  # noqa: F403 - fixtures (stack, double, _contract)
from tests.e2e_rig import Stack

pytestmark = pytest.mark.e2e

NOTES_AT_ERROR = "practices:\n  tests:\n    testing_notes_level: error\n"


def body_without(command: str) -> str:
    """A Codex PR body whose Testing notes do not mention ``command``."""
    return (
        "## Summary\n- stop the nightly export from double-counting refunded orders\n\n"
        "## Done when\n- the export for 2025-01-31 lists each refunded order once\n\n"
        "## Testing\n- ✅ `ruff check .`\n\n"
        f"------\nhttps://chatgpt.com/codex/tasks/task_e_{secrets.token_hex(16)}\n"
    )


@pytest.fixture
def seed(double, webhook_examples) -> Seeder:
    return Seeder(double, webhook_examples)


def _redis_texts(stack: Stack) -> list[str]:
    """Every string value and stream entry codex-guard left in Redis."""
    client = stack.redis.client()
    texts = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            texts.append((client.get(key) or b"").decode("utf-8", "replace"))
        elif kind == b"stream":
            texts.append(
                json.dumps([[v.decode() for v in f.values()] for _, f in client.xrange(key)])
            )
    return texts


def test_a_token_in_agents_md_leaves_in_no_output(stack: Stack, seed: Seeder):
    token = "ghp_" + secrets.token_hex(18)
    agents = (
        "# Agent instructions\n\n"
        "## Layout\n- Application code lives in `app/`; tests in `tests/`.\n\n"
        "## Checks\n"
        f"Run `pytest --token={token}` before committing.\n\n"
        "## Notes\n"
        f"Or `deploy --key={token[:18]}\n{token[18:]}` by hand.\n"
    )
    files = {"AGENTS.md": agents, ".github/codex-guard.yml": NOTES_AT_ERROR}
    payload = seed.open(repo=fresh_repo(), body=body_without("pytest"), base_files=files)
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert "tests/agents-check-missing" in run.output["text"], run.output
    assert "pytest --token=ghp_…" in run.output["text"]
    [comment] = guard_comments(stack.double, repo, number)
    assert "tests/agents-check-missing" in comment.body  # `tests` at error: in the comment too
    audit_entries = stack.redis.client().xrange(audit.STREAM)
    assert audit_entries, "the evaluation wrote an audit record"
    outputs = [
        json.dumps(run.output, ensure_ascii=False),
        json.dumps(run.annotations, ensure_ascii=False),
        comment.body,
        stack.logs(),
        *_redis_texts(stack),
    ]
    for needle in (token, token[12:32], token[20:], token[4:24]):
        hits = [o[:300] for o in outputs if needle in o]
        assert hits == [], needle


def test_a_pr_that_deletes_agents_md_is_held_to_the_base_commands(stack: Stack, seed: Seeder):
    base_agents = "# Agent instructions\n\n## Checks\nRun `tox -e integration` before committing.\n"
    files = {"AGENTS.md": base_agents, ".github/codex-guard.yml": NOTES_AT_ERROR}
    payload = seed.open(repo=fresh_repo(), body=body_without("tox"), base_files=files)
    repo, _number, sha = ids(payload)
    stack.double.put_files(repo, sha, {}, delete=["AGENTS.md"])
    run = deliver_and_wait(stack, payload)
    assert "tests/agents-check-missing" in run.output["text"], run.output
    assert "`tox -e integration`" in run.output["text"]


def test_pr_body_links_and_images_come_out_inert(stack: Stack, seed: Seeder):
    body = (
        "## Summary\n- tweak\n\n"
        "## Done when\n"
        "- \\[codex-guard: click to re-run](https://evil.example/b)\n"
        "- ![y](https://evil.example/j.png) fails\n\n"
        "## Testing\n"
        "- ❌ `pytest -q` failed: \\[click](https://evil.example/c) ![z](https://evil.example/k.png)\n\n"
        f"------\nhttps://chatgpt.com/codex/tasks/task_e_{secrets.token_hex(16)}\n"
    )
    files = {".github/codex-guard.yml": NOTES_AT_ERROR}
    payload = seed.open(repo=fresh_repo(), body=body, base_files=files)
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    [comment] = guard_comments(stack.double, repo, number)
    assert "click" in comment.body and "click to re-run" in run.output["text"]
    md = MarkdownIt("commonmark")
    for rendered in (run.output["summary"], run.output["text"], comment.body):
        targets = [
            str(child.attrs)
            for token in md.parse(rendered)
            for child in token.children or []
            if child.type in ("link_open", "image")
        ]
        assert [t for t in targets if "evil" in t] == [], rendered
