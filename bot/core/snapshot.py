"""The pull request as the practices see it.

Built once per evaluation, by the gateway from the webhook payload and a few
API calls, or by the CLI from a local checkout. Practices read nothing else,
which is what keeps them pure and testable without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from bot.core.scope_evidence import ScopeEvidence

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class CheckEvidence:
    """One CI signal on the head commit: a check run or a commit status.

    ``status`` is ``queued``, ``in_progress`` or ``completed`` for both kinds
    (a commit status in state ``pending`` is ``in_progress``); ``conclusion``
    uses check-run words (a status ``error`` becomes ``failure``).
    """

    name: str
    source: Literal["check_run", "status"]
    status: str
    conclusion: str | None = None
    url: str | None = None
    app_slug: str | None = None
    details_url: str | None = None
    """A check run's own link (GitHub Actions: `.../actions/runs/<run id>/job/<job id>`)."""


@dataclass(frozen=True)
class PRSnapshot:
    """Everything the practices may look at, gathered before they run.

    ``None`` means "not known" (offline, or not fetched), which practices must
    tell apart from "known to be empty".
    """

    repo: str
    number: int
    title: str
    body: str
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    labels: tuple[str, ...] = ()
    draft: bool = False
    commit_messages: tuple[str, ...] | None = None
    changed_files: tuple[str, ...] = ()
    checks: tuple[CheckEvidence, ...] | None = None
    head_tree: frozenset[str] | None = None
    head_files: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    base_files: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    """With ``base_sha`` set: each chain file as at base, and the root ``AGENTS.md`` and
    ``AGENTS.override.md`` whenever the base has them (what `tests` holds a PR to)."""
    base_sha: str = ""
    """The base commit the files were read at; empty when no base is known (the CLI)."""
    issue_bodies: Mapping[int, str] = field(default_factory=dict)
    other_open_prs: Mapping[int, str] | None = None
    scope: ScopeEvidence | None = None
    """The diff and its reviews for the `scope` practice; None when not read (offline)."""

    @property
    def owner(self) -> str:
        return self.repo.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.repo.split("/", 1)[-1]
