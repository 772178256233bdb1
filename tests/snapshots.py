"""PRSnapshot builders and PR text the practice tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core.snapshot import PRSnapshot

BODIES = Path(__file__).parent / "fixtures" / "bodies"
TASK_URL = "https://chatgpt.com/codex/tasks/task_e_0123456789abcdef0123456789abcdef"

# octo/app #5, "Fix things" by alice on a Codex branch: the practice tests' plain PR.
OCTO_APP: dict[str, Any] = {
    "repo": "octo/app",
    "number": 5,
    "title": "Fix things",
    "body": "",
    "author": "alice",
    "head_sha": "a" * 40,
    "head_ref": "codex/x",
    "base_ref": "main",
}

# acme/widgets #7, labelled `codex`, with a task link: the evaluation and report tests' PR.
ACME_WIDGETS: dict[str, Any] = {
    "repo": "acme/widgets",
    "number": 7,
    "title": "Add retry to the fetcher",
    "body": f"Task: {TASK_URL}\n",
    "author": "alice",
    "head_sha": "a" * 40,
    "head_ref": "codex/retry",
    "base_ref": "main",
    "labels": ("codex",),
}

AGENTS_MD = """# AGENTS.md

## Testing
- Run `pytest -q` before committing.
"""

GOOD_BODY = f"""## Summary
- Retry the fetcher up to three times on 503.

Task: {TASK_URL}

## Done when
- [x] `fetch()` retries three times on HTTP 503 and then raises.

## Testing
- ✅ `pytest -q`
"""


def body(name: str) -> str:
    """A PR body from `tests/fixtures/bodies`."""
    return (BODIES / name).read_text()


def pr_snapshot(base: dict[str, Any], /, **fields: Any) -> PRSnapshot:
    """A snapshot of the PR `base` describes, with `fields` in place of its own."""
    return PRSnapshot(**{**base, **fields})


def snap(text: str = "", **fields: Any) -> PRSnapshot:
    """octo/app #5 with `text` as its body."""
    return pr_snapshot(OCTO_APP, body=text, **fields)


def rules(result: Any) -> list[str]:
    """The rule of each finding, in order."""
    return [f.rule for f in result.findings]
