"""The chain Codex loads: one instruction file per directory from the root down,
read in order against one shared byte budget that cuts the file crossing it."""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.core.config import GuardConfig

OVERRIDE = "AGENTS.override.md"
AGENTS = "AGENTS.md"
MAX_TREE_PATHS = 200_000
"""More paths than this and the tree is read only this far (GitHub truncates too)."""


# --- the chain ------------------------------------------------------------------


def candidate_names(config: GuardConfig) -> list[str]:
    """Per-directory file names in Codex's order of preference."""
    names = [OVERRIDE, AGENTS]
    for name in config.practices.agents_md.fallback_filenames:
        if name and "/" not in name and name not in names:
            names.append(name)
    return names


def parent_dir(path: str) -> str:
    return posixpath.dirname(path.strip("/"))


def ancestors(directory: str) -> list[str]:
    """``a/b`` -> ``["", "a", "a/b"]``: the directories Codex walks, root first."""
    parts = [p for p in directory.split("/") if p]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def join_path(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def chain_of(present: Collection[str], leaf: str, names: list[str]) -> list[str]:
    chain = []
    for directory in ancestors(leaf):
        for name in names:
            path = join_path(directory, name)
            if path in present:
                chain.append(path)
                break
    return chain


def leaf_dirs(changed_files: Iterable[str]) -> set[str]:
    leaves = {""}
    for count, path in enumerate(changed_files):
        if count >= MAX_TREE_PATHS:
            break
        leaves.add(parent_dir(path))
    return leaves


def bounded(tree: Iterable[str]) -> set[str]:
    present: set[str] = set()
    for count, path in enumerate(tree):
        if count >= MAX_TREE_PATHS:
            break
        present.add(path)
    return present


def chains(
    tree: Iterable[str], changed_files: Iterable[str], config: GuardConfig
) -> dict[str, list[str]]:
    """Leaf directory -> the AGENTS files Codex loads there, root first.

    The root is always a leaf, so the root chain is judged even for a PR that
    touches nothing below it.
    """
    present = bounded(tree)
    names = candidate_names(config)
    return {leaf: chain_of(present, leaf, names) for leaf in sorted(leaf_dirs(changed_files))}


def chain_paths(
    tree: Iterable[str], changed_files: Iterable[str], config: GuardConfig
) -> list[str]:
    """Every AGENTS file some touched directory's chain includes, root first, once each."""
    seen: set[str] = set()
    for chain in chains(tree, changed_files, config).values():
        seen.update(chain)
    return sorted(seen, key=lambda p: (p.count("/"), p))


@lru_cache(maxsize=64)
def utf8_size(text: str) -> int:
    """UTF-8 size, once per text: every chain that holds a file (the root: all) asks."""
    return len(text.encode("utf-8"))


def line_at_byte(text: str, offset: int) -> int:
    return text.encode("utf-8")[:offset].count(b"\n") + 1


@dataclass
class ChainBudget:
    loaded: list[tuple[str, int]]  # path, bytes Codex reads
    cut: tuple[str, int] | None  # path, byte at which it is cut
    dropped: list[str]
    total: int  # bytes the chain holds on disk (known files)


def budget_of(chain: list[str], files: Mapping[str, str], limit: int) -> ChainBudget:
    """Codex's loader: files in order, one shared budget, the crossing file cut."""
    remaining = limit
    state = ChainBudget([], None, [], 0)
    for path in chain:
        text = files.get(path)
        if text is None or not text.strip():
            continue  # not fetched, or empty: Codex skips empty files
        size = utf8_size(text)
        state.total += size
        if state.cut is not None or remaining <= 0:
            state.dropped.append(path)
            continue
        if size > remaining:
            state.cut = (path, remaining)
            state.loaded.append((path, remaining))
            remaining = 0
        else:
            state.loaded.append((path, size))
            remaining -= size
    return state


def visible_text(path: str, text: str, budget: ChainBudget) -> str:
    for loaded, size in budget.loaded:
        if loaded == path:
            return text.encode("utf-8")[:size].decode("utf-8", "ignore")
    return ""


def is_agents_file(path: str, names: list[str]) -> bool:
    return posixpath.basename(path) in names
