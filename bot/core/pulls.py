"""The slice of a GitHub pull request codex-guard works with, as a plain dict.

Built from a webhook's `pull_request` (the receiver) or from the REST API's
pull object (the gateway): both have the same shape, so one builder serves both.
"""

from __future__ import annotations

from typing import Any

from bot.core.routing import Payload, need


def pr_summary(pr: Payload, at: str = "pull_request") -> dict[str, Any]:
    """The slice of a webhook's pull_request the worker uses, so it need not fetch it."""
    labels = pr.get("labels") or []
    return {
        "number": need(pr, "number", kind=int, at=at),
        "title": pr.get("title") or "",
        "body": pr.get("body") or "",
        "user": (pr.get("user") or {}).get("login") or "",
        "head_ref": need(pr, "head", "ref", kind=str, at=at),
        "head_sha": need(pr, "head", "sha", kind=str, at=at),
        "base_ref": need(pr, "base", "ref", kind=str, at=at),
        "base_sha": (pr.get("base") or {}).get("sha") or "",
        "labels": [lb.get("name", "") for lb in labels if isinstance(lb, dict)],
        "draft": bool(pr.get("draft")),
        "state": pr.get("state") or "open",
        "updated_at": pr.get("updated_at") or "",
        "created_at": pr.get("created_at") or "",
    }
