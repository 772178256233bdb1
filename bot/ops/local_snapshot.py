"""A PRSnapshot from a local checkout, for the offline CLI.

The same practices run on it as on a webhook, so `codex-guard check` locally
says what the app would say, minus CI (``checks=None``: unknown, not absent).
There is no base branch offline: ``base_files`` is empty, so every problem
counts as introduced and the lint is as strict as a PR that adds the files.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from bot.core.config import DEFAULT_CONFIG, GuardConfig
from bot.core.snapshot import PRSnapshot
from bot.practices import agents_md

SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".nox", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".hypothesis"}
)  # fmt: skip
MAX_FILES = 100_000
"""Walk no further than this many files: a checkout with more is not read whole."""
MAX_FILE_BYTES = 2_000_000
"""AGENTS and build files larger than this are read only this far."""


def walk_tree(repo_dir: Path, limit: int = MAX_FILES) -> frozenset[str]:
    """Every file path under ``repo_dir``, relative and with ``/``, skipping tool dirs."""
    paths: list[str] = []
    for root, dirs, files in os.walk(repo_dir, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        rel = Path(root).relative_to(repo_dir).as_posix()
        prefix = "" if rel == "." else rel + "/"
        for name in sorted(files):
            paths.append(prefix + name)
            if len(paths) >= limit:
                return frozenset(paths)
    return frozenset(paths)


def _read(repo_dir: Path, path: str) -> str | None:
    """The file's text, or None when unreadable or when its real path (after
    symlinks) leaves the checkout: an untrusted checkout must not make the CLI
    quote files elsewhere on disk."""
    try:
        real = (repo_dir / path).resolve(strict=True)
        if not real.is_relative_to(repo_dir.resolve()):
            return None
        with open(real, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES)
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def snapshot_from_checkout(
    repo_dir: Path,
    body: str,
    title: str = "",
    branch: str = "",
    labels: Sequence[str] = (),
    changed_files: Sequence[str] | None = None,
    *,
    config: GuardConfig | None = None,
) -> PRSnapshot:
    """The snapshot the practices would see if this checkout were a PR's head.

    ``changed_files=None`` lints every AGENTS file in the checkout; a list
    restricts it to the chains of those paths, as on GitHub. ``config`` is
    needed only for ``fallback_filenames``.
    """
    repo_dir = Path(repo_dir)
    config = config or DEFAULT_CONFIG
    tree = walk_tree(repo_dir)
    names = set(agents_md.candidate_names(config))
    if changed_files is None:
        touched = [p for p in tree if p.rsplit("/", 1)[-1] in names]
    else:
        touched = list(changed_files)
    files: dict[str, str] = {}
    for path in agents_md.chain_paths(tree, touched, config):
        text = _read(repo_dir, path)
        if text is not None:
            files[path] = text
    for path in sorted(agents_md.referenced_build_files(dict(files), tree)):
        text = _read(repo_dir, path)
        if text is not None:
            files[path] = text
    return PRSnapshot(
        repo=f"local/{repo_dir.resolve().name}",
        number=0,
        title=title,
        body=body,
        author="",
        head_sha="",
        head_ref=branch,
        base_ref="",
        labels=tuple(labels),
        changed_files=tuple(changed_files or ()),
        checks=None,
        head_tree=tree,
        head_files=dict(files),
        base_files={},
    )
