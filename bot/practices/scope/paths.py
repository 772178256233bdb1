"""Which changed paths are protected, and which fall outside a team's allowlist.

Patterns are gitignore-style, matched by `pathspec` (the library behind many
tools' ``.gitignore`` handling), never by hand-written regexes. The built-in
patterns are a floor: a team's ``protected_paths`` add to them and cannot
negate them (a ``!`` pattern only cancels the team's own patterns).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from pathspec import GitIgnoreSpec

from bot.core.scope_evidence import ChangedFile

DEFAULT_PROTECTED_PATHS: tuple[str, ...] = (
    # What runs with the repository's secrets and tokens, and who must review what.
    ".github/workflows/**",
    ".github/actions/**",
    "/CODEOWNERS",
    "/.github/CODEOWNERS",
    "/docs/CODEOWNERS",
    "**/CODEOWNERS",
    # codex-guard's own rules (read from the base branch, but a change to them is
    # still a change to what holds Codex).
    ".github/codex-guard.yml",
    # Files Codex itself reads as instructions or configuration:
    # - AGENTS.override.md takes precedence over AGENTS.md in every directory
    #   (https://developers.openai.com/codex/guides/agents-md, "How Codex discovers
    #   guidance"). AGENTS.md itself is left to the `agents-md` practice.
    "**/AGENTS.override.md",
    # - `.codex/` folders (config.toml, rules/*.rules, skills/, agents, hooks) are
    #   loaded from the working directory, its parents and the repo root
    #   (https://developers.openai.com/codex/config-basic, "Configuration
    #   precedence"; the Team Config changelog entry lists config.toml, rules/ and
    #   skills/). A project config can set sandbox, approval policy, MCP servers
    #   and `project_doc_fallback_filenames`.
    "**/.codex/",
    # - repo-scoped skills live in `.agents/skills` from the working directory up
    #   to the repo root (https://developers.openai.com/codex/skills).
    "**/.agents/skills/",
)
"""Matched case-insensitively: on a case-insensitive checkout (macOS, Windows)
Codex opens ``agents.override.md`` when it asks for ``AGENTS.override.md``."""


def compile_patterns(patterns: Iterable[str]) -> GitIgnoreSpec:
    """A spec for ``patterns``; raises ValueError on one pathspec cannot read."""
    return GitIgnoreSpec.from_lines(list(patterns))


@lru_cache(maxsize=1)
def _default_spec() -> GitIgnoreSpec:
    return compile_patterns(p.lower() for p in DEFAULT_PROTECTED_PATHS)


@lru_cache(maxsize=64)
def _team_spec(patterns: tuple[str, ...]) -> GitIgnoreSpec:
    return compile_patterns(patterns)


def is_protected(path: str, extra: Sequence[str] = ()) -> bool:
    """A built-in pattern (any case) or one of the team's ``extra`` (exact case) matches."""
    if _default_spec().match_file(path.lower()):
        return True
    return bool(extra) and _team_spec(tuple(extra)).match_file(path)


def is_allowed(path: str, allowed: Sequence[str] | None) -> bool:
    """No allowlist allows everything; an empty one allows nothing."""
    if allowed is None:
        return True
    return _team_spec(tuple(allowed)).match_file(path)


def _each_name(files: Iterable[ChangedFile]) -> list[str]:
    names: dict[str, None] = {}
    for changed in files:
        for name in changed.names:
            names.setdefault(name, None)
    return list(names)


def protected_changes(files: Iterable[ChangedFile], extra: Sequence[str] = ()) -> list[str]:
    """Protected paths the PR touches, old and new names of renames both counted."""
    return [name for name in _each_name(files) if is_protected(name, extra)]


def outside_allowed(files: Iterable[ChangedFile], allowed: Sequence[str] | None) -> list[str]:
    """Paths the PR touches outside ``allowed`` (none when there is no allowlist)."""
    if allowed is None:
        return []
    return [name for name in _each_name(files) if not is_allowed(name, allowed)]
