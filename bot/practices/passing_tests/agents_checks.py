"""The commands AGENTS.md asks agents to run, and loose matching against the notes.

Matching is by `command_key`, so ``python -m pytest -q`` in the notes counts as
the ``pytest`` AGENTS.md asks for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from bot.core.markdown import parse
from bot.practices.passing_tests.command_spans import (
    KNOWN_TOOLS,
    _code_block_commands,
    _first_word,
    _looks_like_command,
    _split_code,
)

_CHECK_HEADING = re.compile(
    r"test|check|validat|verif|lint|\bci\b|before (?:commit|push|submit|open)|pull request"
    r"|\bprs?\b|quality|programmatic|build|format"
)
_RUN_WORD = re.compile(r"\b(?:run|runs|execute|must pass|make sure|ensure)\b")


@dataclass(frozen=True)
class AgentsCommand:
    """A command the root AGENTS.md tells agents to run, and where it says so."""

    command: str
    line: int


def _split_shell(command: str) -> list[str]:
    """``cd api && pytest -q`` is the check ``pytest -q``; ``cd`` is not a check."""
    parts = re.split(r"&&|\|\||;", command)
    return [p.strip() for p in parts if p.strip() and _first_word(p.strip()) != "cd"]


def agents_commands(agents_md: str) -> list[AgentsCommand]:
    """Commands the AGENTS.md text tells agents to run, deduplicated by `command_key`."""
    doc = parse(agents_md or "")
    found: list[AgentsCommand] = []
    seen: set[tuple[str, ...]] = set()

    def add(command: str, line: int) -> None:
        for part in _split_shell(command):
            key = command_key(part)
            if key and key not in seen and _first_word(part) in KNOWN_TOOLS:
                seen.add(key)
                found.append(AgentsCommand(part, line))

    for section in doc.sections:
        checky = bool(_CHECK_HEADING.search(section.title.casefold()))
        units = [(i.line, i.text, i.code) for i in section.items]
        for line, paragraph in section.paragraphs:
            for offset, text in enumerate(paragraph.split("\n")):
                units.append((line + offset, text, tuple(_split_code(text)[1])))
        for line, text, code in units:
            if checky or _RUN_WORD.search(_split_code(text)[0].casefold()):
                for span in code:
                    if _looks_like_command(span):
                        add(span, line)
        if checky:
            for line, block in section.code_blocks:
                for offset, command in _code_block_commands(block):
                    add(command, line + 1 + offset)
    found.sort(key=lambda c: c.line)
    return found


_UNWRAP = {
    ("python", "-m"),
    ("python3", "-m"),
    ("py", "-m"),
    ("uv", "run"),
    ("poetry", "run"),
    ("pipenv", "run"),
    ("pdm", "run"),
    ("hatch", "run"),
    ("pnpm", "exec"),
    ("yarn", "exec"),
    ("bundle", "exec"),
}


def command_key(command: str) -> tuple[str, ...]:
    """A command reduced to what identifies it: no flags, paths, env or runner wrappers.

    ``python -m pytest -q tests/`` and ``pytest`` share the key ``("pytest",)``;
    ``npm run test`` is ``npm test``.
    """
    tokens = command.casefold().removeprefix("$ ").split()
    while tokens and "=" in tokens[0] and not tokens[0].startswith("-"):
        tokens.pop(0)  # FOO=1 pytest
    while len(tokens) >= 2 and (tokens[0], tokens[1]) in _UNWRAP:
        tokens = tokens[2:]
    if tokens and tokens[0] in ("npx", "bunx", "uvx"):
        tokens = tokens[1:]
    key: list[str] = []
    for word in tokens:
        if word == "--":
            break
        if word.startswith("-"):
            continue
        pathish = word in (".", "..") or "/" in word or "::" in word
        if key and (pathish or word.endswith((".py", ".ts", ".js"))):
            continue
        key.append(word.removeprefix("./") if not key else word)
    scripts = ("npm", "pnpm", "yarn", "bun")
    if len(key) >= 3 and key[0] in scripts and key[1] in ("run", "run-script"):
        if key[2] in ("test", "start"):
            key = [key[0], key[2], *key[3:]]
        else:
            key[1] = "run"
    return tuple(key)


_Trie: TypeAlias = dict[str, "_Trie"]


def _prefix_trie(keys: Iterable[tuple[str, ...]]) -> _Trie:
    """Every key as a path of words, so "is a prefix of some key" is one walk."""
    root: _Trie = {}
    for key in keys:
        node = root
        for word in key:
            node = node.setdefault(word, {})
    return root


def _mentioned(key: tuple[str, ...], note_keys: _Trie, prose: str) -> bool:
    """A note's command starts with ``key``, or the prose names it word for word."""
    node: _Trie | None = note_keys
    for word in key:
        node = node.get(word) if node is not None else None
    if node is not None:
        return True
    return f" {' '.join(key)} " in prose
