"""Decide whether a pull request was written by Codex, and why.

Only evidence Codex itself leaves counts: its task link, the label and branch
prefix teams configure for it, and its commit trailer. The author never does
(Codex PRs are opened by the human who ran the task), nor do `## Summary` /
`## Testing` headings (humans write those too). Signals are listed strongest
first so the comment can say why the guard applied.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import lru_cache

import re2

from bot.core.config import GuardConfig, compile_linear
from bot.core.sanitize import code_untrusted
from bot.core.snapshot import PRSnapshot
from bot.practices.task_thread import codex_task_ids

TRAILER_SIGNAL = "commit trailer Co-authored-by: Codex"
_TRAILER_KEY = "co-authored-by:"
_CODEX_EMAIL = "noreply@openai.com"


@dataclass(frozen=True)
class Detection:
    """The verdict: Codex-authored or not, the human-readable evidence, and
    whether practices run (``applies_to_all`` comes from ``applies_to: all``)."""

    codex_authored: bool
    signals: tuple[str, ...]
    applies_to_all: bool = False

    @property
    def applies(self) -> bool:
        return self.codex_authored or self.applies_to_all


@lru_cache(maxsize=32)
@functools.lru_cache(maxsize=64)
def _branch_regex(pattern: str) -> re2._Regexp | None:
    """The team's pattern in RE2, linear in the branch name whatever the pattern."""
    try:
        return compile_linear(pattern)
    except re2.error:
        return None


def _task_signals(snapshot: PRSnapshot, config: GuardConfig) -> list[str]:
    if not config.detection.task_link:
        return []
    ids = codex_task_ids(snapshot.body)
    if not ids:
        return []
    more = f" (+{len(ids) - 1} more)" if len(ids) > 1 else ""
    return [f"Codex task link {ids[0][:15]}…{more}"]


def _label_signals(snapshot: PRSnapshot, config: GuardConfig) -> list[str]:
    present = {label.strip().casefold() for label in snapshot.labels}
    return [
        f"label {code_untrusted(wanted, 50)}"
        for wanted in config.detection.labels
        if wanted.strip() and wanted.strip().casefold() in present
    ]


def _branch_signals(snapshot: PRSnapshot, config: GuardConfig) -> list[str]:
    pattern = config.detection.branch_pattern
    if not pattern:
        return []
    regex = _branch_regex(pattern)
    # Git caps ref names well below this; a longer one is not a real branch.
    if regex is None or len(snapshot.head_ref) > 1024 or not regex.search(snapshot.head_ref):
        return []
    return [f"head branch {code_untrusted(snapshot.head_ref, 60)}"]


def has_codex_trailer(message: str) -> bool:
    """A `Co-authored-by:` trailer naming Codex or its noreply address (key in any case)."""
    for line in message.splitlines():
        stripped = line.strip()
        if not stripped[: len(_TRAILER_KEY)].casefold() == _TRAILER_KEY:
            continue
        value = stripped[len(_TRAILER_KEY) :].strip().casefold()
        name = value.split("<", 1)[0].strip()
        if name == "codex" or f"<{_CODEX_EMAIL}>" in value:
            return True
    return False


def _cheap_signals(snapshot: PRSnapshot, config: GuardConfig) -> list[str]:
    return (
        _task_signals(snapshot, config)
        + _label_signals(snapshot, config)
        + _branch_signals(snapshot, config)
    )


def detect(snapshot: PRSnapshot, config: GuardConfig) -> Detection:
    """Every Codex signal present, strongest first; never raises on hostile input."""
    signals = _cheap_signals(snapshot, config)
    if config.detection.commit_trailer and snapshot.commit_messages:
        if any(has_codex_trailer(m) for m in snapshot.commit_messages):
            signals.append(TRAILER_SIGNAL)
    return Detection(
        codex_authored=bool(signals),
        signals=tuple(signals),
        applies_to_all=config.applies_to == "all",
    )


def needs_commit_messages(snapshot: PRSnapshot, config: GuardConfig) -> bool:
    """Whether the gateway should fetch commits: only when nothing cheaper decided."""
    return (
        config.detection.commit_trailer
        and snapshot.commit_messages is None
        and not _cheap_signals(snapshot, config)
    )
