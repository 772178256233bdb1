"""Paths the instructions name: whether each exists in the tree, and the
machine-specific ones (`/home/alice/...`) that exist nowhere else."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterable
from urllib.parse import unquote

from bot.practices.agents_md.chain import (
    ancestors,
    join_path,
    parent_dir,
)

# --- paths ---------------------------------------------------------------------------

_URLISH = re.compile(r"^[a-z][a-z0-9+.\-]{0,20}:", re.IGNORECASE)
_LINE_SUFFIX = re.compile(r"(?::\d{1,7}){1,2}$|#L\d{1,7}(?:-L?\d{1,7})?$")
_FILE_EXT = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
_NOT_PATH_CHARS = frozenset("*?[]{}<>$%|\"'`=,;()!^~@ \t\\&")
_PLACEHOLDER_PATH = ("path/to", "your", "example", "xxx", "...", "…", "foo/", "/foo",
                     "my-", "my_", "some/", "<", "{")  # fmt: skip
_TECH_NAMES = frozenset(
    "node.js next.js vue.js nuxt.js express.js d3.js three.js chart.js react.js angular.js"
    " ember.js socket.io nest.js svelte.js deno.js bun.js p5.js alpine.js solid.js".split()
)


def path_reference(value: str, kind: str) -> str | None:
    """The repo path a code span or link names, or None if it is not one."""
    value = value.strip()
    if kind == "link":
        if _URLISH.match(value) or value.startswith(("#", "//")):
            return None
        value = unquote(value.split("#", 1)[0].split("?", 1)[0])
    if not value or len(value) > 300 or value.startswith(("/", "~", "-")):
        return None
    value = _LINE_SUFFIX.sub("", value)
    if _URLISH.match(value) or any(ch in _NOT_PATH_CHARS for ch in value):
        return None
    folded = value.casefold()
    if any(p in folded for p in _PLACEHOLDER_PATH) or folded in _TECH_NAMES:
        return None
    if ".." in value.replace("../", "").replace("/..", ""):
        return None  # "a..b", "./..." and friends: ranges and Go patterns, not paths
    if "/" not in value and not _FILE_EXT.search(value):
        return None
    if "/" not in value and kind == "code" and value.count(".") > 1:
        return None  # `bot.core.config.load`: a dotted name, not a file
    return value


def _exists(present: Collection[str], dirs: frozenset[str], path: str) -> bool:
    path = path.rstrip("/")
    return path in present or path in dirs


def directories(present: Iterable[str]) -> frozenset[str]:
    dirs: set[str] = set()
    for path in present:
        parent = parent_dir(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = parent_dir(parent)
    return frozenset(dirs)


def resolves(
    ref: str,
    agents_dir: str,
    present: Collection[str],
    dirs: frozenset[str],
    basenames: frozenset[str],
) -> tuple[bool, list[str]]:
    """Whether ``ref`` exists, and the repo paths it could mean."""
    if "/" not in ref.rstrip("/") and not ref.startswith("."):
        # A bare file name: written loosely, so anywhere in the repo will do.
        return ref.rstrip("/") in basenames or ref.rstrip("/") in dirs, [ref]
    candidates: list[str] = []
    # The file's directory, then each one above it to the root: "src/" in a
    # package's nested AGENTS.md usually means the package's src.
    for base in reversed(ancestors(agents_dir)):
        joined = posixpath.normpath(posixpath.join(base, ref))
        if joined == ".." or joined.startswith("../"):
            continue
        candidates.append("" if joined == "." else joined)
    if any(c == "" or _exists(present, dirs, c) for c in candidates):
        return True, candidates
    if not ref.startswith(".") and not ref.endswith("/") and not _FILE_EXT.search(ref):
        # `owner/repo`, `and/or`: only a path if its first part is a real directory.
        first = ref.split("/", 1)[0]
        if not any(_exists(present, dirs, join_path(b, first)) for b in ancestors(agents_dir)):
            return True, candidates
    return not candidates, candidates


_ABSOLUTE = re.compile(
    r"(?<![\w/.\-])(/(?:Users|home)/([A-Za-z0-9._\-]{1,64})(?:/[^\s`'\"<>)\]]{0,200})?)"
    r"|(?<![\w])([A-Za-z]:\\{1,2}Users\\{1,2}([^\\\s`'\"<>]{1,64})(?:\\[^\s`'\"<>)\]]{0,200})?)"
)
_GENERIC_USERS = frozenset(
    "user username you me runner ubuntu root name your-name yourname someone me <user> $user"
    " vscode node codespace app jovyan admin".split()
)


def absolute_paths(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "/Users/" not in line and "/home/" not in line and ":\\" not in line:
            continue
        for match in _ABSOLUTE.finditer(line):
            user = (match.group(2) or match.group(4) or "").casefold()
            if user in _GENERIC_USERS or user.startswith(("$", "%", "<", "{")):
                continue
            found.append((number, match.group(1) or match.group(3)))
    return found
