"""Added lines of one file, read from the unified-diff ``patch`` GitHub sends.

"List pull request files" gives each file's hunks as one string: ``@@ -a,b +c,d @@``
headers followed by lines prefixed ``' '`` (context), ``'+'`` (added), ``'-'``
(removed) or ``'\\'`` (``No newline at end of file``). Only the added lines are
scanned for credentials, and their head-side line numbers place the annotations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Anchored, no nested quantifiers: linear on any header line.
_HUNK = re.compile(r"@@ -\d{1,10}(?:,\d{1,10})? \+(\d{1,10})(?:,\d{1,10})? @@")


@dataclass(frozen=True)
class AddedLine:
    """One line the PR adds, as its number in the head version of the file."""

    line: int
    text: str


def added_lines(patch: str, limit: int | None = None) -> tuple[AddedLine, ...]:
    """The ``+`` lines of ``patch`` with their head line numbers, at most ``limit`` of them.

    Lines before the first hunk header, and hunk headers GitHub sometimes runs
    together on one line, are tolerated: a line is only ever read by its first
    character, so no content can pose as a header (an added ``@@`` line is ``+@@``).
    """
    found: list[AddedLine] = []
    number: int | None = None
    for raw in patch.split("\n"):
        if raw.startswith("@@"):
            header = _HUNK.match(raw)
            number = int(header.group(1)) if header else None
            continue
        if number is None or not raw:
            continue
        mark = raw[0]
        if mark == "+":
            found.append(AddedLine(number, raw[1:].removesuffix("\r")))
            if limit is not None and len(found) >= limit:
                break
            number += 1
        elif mark == " ":
            number += 1
        # '-' lines exist only at base; '\' is "No newline at end of file".
    return tuple(found)


_DIFF_HEADER = re.compile(r"^diff --git a/(\S{1,4096}) b/(\S{1,4096})$")
_STATUS_LINES = (
    ("new file mode", "added"),
    ("deleted file mode", "removed"),
    ("rename from", "renamed"),
)


def git_diff_entries(diff: str) -> list[dict[str, object]]:
    """`git diff` output as "list pull request files" would send it: each file's name,
    status, old name, additions and patch (no patch for a binary file). Lets the CLI
    judge a local branch as the app judges a PR."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] | None = None
    patch: list[str] | None = None

    def close() -> None:
        if entry is None:
            return
        if patch is not None:
            entry["patch"] = "\n".join(patch)
            entry["additions"] = sum(1 for ln in patch if ln.startswith("+"))
        entries.append(entry)

    for line in diff.split("\n"):
        header = _DIFF_HEADER.match(line)
        if header:
            close()
            entry, patch = {"filename": header.group(2), "status": "modified"}, None
            if header.group(1) != header.group(2):
                entry.update(status="renamed", previous_filename=header.group(1))
            continue
        if entry is None:
            continue
        if patch is not None:
            patch.append(line)
        elif line.startswith("@@"):
            patch = [line]
        elif line.startswith("Binary files "):
            entry["additions"] = 1  # something was added that no one can scan as text
        else:
            for prefix, status in _STATUS_LINES:
                if line.startswith(prefix):
                    entry["status"] = status
    close()
    return entries
