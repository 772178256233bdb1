"""Real GitHub shapes for the scope tests: the REST spec's examples and webhook payloads.

"List pull request files" and "list reviews" entries start from the examples in
GitHub's OpenAPI description (double/github_double/spec/rest-app-subset.json); webhook
reviews from the `pull_request_review` examples GitHub publishes. Tests change
only the fields a case is about.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.core.scope_evidence import (
    ScopeEvidence,
    changed_files_from_api,
    review_from_api,
    reviews_from_api,
)

ROOT = Path(__file__).resolve().parents[2]
HEAD = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
OLD = "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091"
AUTHOR = "codex-user"


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    return json.loads((ROOT / "double/github_double/spec/rest-app-subset.json").read_text())


def _example(name: str) -> list[dict[str, Any]]:
    return copy.deepcopy(_spec()["components"]["examples"][name]["value"])


@lru_cache(maxsize=1)
def _webhooks() -> list[dict[str, Any]]:
    return json.loads((ROOT / "tests/fixtures/github/webhook-examples.json").read_text())


def file_entry(filename: str, patch: str | None = "@@ -1,1 +1,2 @@\n x\n+y", **fields: Any) -> dict:
    """The spec's diff-entry example, renamed and re-patched."""
    entry = _example("diff-entry-items")[0]
    entry["filename"] = filename
    entry["status"] = fields.pop("status", "modified")
    if patch is None:
        entry.pop("patch", None)
    else:
        entry["patch"] = patch
        entry["additions"] = sum(1 for line in patch.split("\n") if line.startswith("+"))
    entry.update(fields)
    return entry


def review_entry(login: str, state: str, commit_id: str = HEAD, user_type: str = "User") -> dict:
    """The spec's pull-request-review example by another person, state and commit."""
    entry = _example("pull-request-review-items")[0]
    entry["user"]["login"] = login
    entry["user"]["type"] = user_type
    entry["state"] = state
    entry["commit_id"] = commit_id
    return entry


def webhook_review(action: str, login: str, commit_id: str = HEAD) -> dict:
    """The `review` object of GitHub's `pull_request_review` example for ``action``."""
    event = next(e for e in _webhooks() if e["name"] == "pull_request_review")
    example = next(x for x in event["examples"] if x["action"] == action)
    review = copy.deepcopy(example["review"])
    review["user"]["login"] = login
    review["commit_id"] = commit_id
    return review


def evidence(
    files: list[dict],
    reviews: list[dict] | None = None,
    permissions: dict[str, str | None] | None = None,
    *,
    author: str = AUTHOR,
    head: str = HEAD,
) -> ScopeEvidence:
    return ScopeEvidence(
        author=author,
        head_sha=head,
        files=changed_files_from_api(files),
        reviews=None if reviews is None else reviews_from_api(reviews),
        permissions={k.lower(): v for k, v in (permissions or {}).items()},
    )


__all__ = ["evidence", "file_entry", "review_entry", "review_from_api", "webhook_review"]
