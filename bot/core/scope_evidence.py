"""What the `scope` practice reads that `PRSnapshot` does not carry yet.

Filled by the gateway from three REST calls (see ``from_api``): "list pull
request files" (``GET /repos/{o}/{r}/pulls/{n}/files``: names, status,
``previous_filename``, ``additions`` and ``patch``), "list reviews for a pull
request" (``GET .../pulls/{n}/reviews``, read only when a person's approval is
needed) and, per reviewer who could unblock, "get repository permissions for a
user" (``GET /repos/{o}/{r}/collaborators/{u}/permission``). Pure data: the
builders below parse JSON already fetched and do no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from bot.core.diff_patch import AddedLine, added_lines

MAX_ADDED_LINES = 50_000
MAX_PATCH_CHARS = 4_000_000
"""Patch text read for one PR. Past either budget the rest of the diff counts as
unscanned (a person must read it), which bounds the credential scan's time."""

_NO_PERMISSIONS: Mapping[str, str | None] = MappingProxyType({})


@dataclass(frozen=True)
class ChangedFile:
    """One entry of "list pull request files".

    ``added`` is ``None`` when GitHub sent no ``patch`` (binary files, diffs too
    large to show) or when the PR's added-line budget ran out before this file.
    """

    filename: str
    status: str = "modified"
    previous_filename: str | None = None
    additions: int = 0
    added: tuple[AddedLine, ...] | None = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every path this change touches: a rename leaves one path and enters another."""
        if self.previous_filename and self.previous_filename != self.filename:
            return (self.filename, self.previous_filename)
        return (self.filename,)

    @property
    def unscanned(self) -> bool:
        """Lines were added that no one but a person can now read for credentials."""
        return self.added is None and self.additions > 0


@dataclass(frozen=True)
class Review:
    """One entry of "list reviews" (or a ``pull_request_review`` webhook's ``review``).

    ``state`` is upper case as the REST API spells it (the webhook's lower-case
    states are normalised by `review_from_api`).
    """

    login: str
    state: str
    commit_id: str | None
    author_type: str = "User"
    submitted_at: str | None = None

    @property
    def is_bot(self) -> bool:
        return self.author_type == "Bot" or self.login.lower().endswith("[bot]")


@dataclass(frozen=True)
class ScopeEvidence:
    """The PR's changes and the people who reviewed them.

    ``reviews`` is in submission order (as the API lists them); ``None`` means not
    fetched, which the practice treats as "no approval". ``permissions`` maps a
    lower-cased login to the ``permission``/``role_name`` the permission endpoint
    returned; a missing login was not looked up. ``files_complete`` is False when
    the file list was cut short (GitHub lists at most 3000 files).
    """

    author: str
    head_sha: str
    files: tuple[ChangedFile, ...] = ()
    files_complete: bool = True
    reviews: tuple[Review, ...] | None = None
    permissions: Mapping[str, str | None] = field(default_factory=lambda: _NO_PERMISSIONS)

    def permission_of(self, login: str) -> str | None:
        return self.permissions.get(login.lower())


# --- builders from REST JSON ----------------------------------------------------------


def _login(user: Any) -> tuple[str, str]:
    if not isinstance(user, Mapping):
        return "", "User"
    return str(user.get("login") or ""), str(user.get("type") or "User")


def changed_file_from_api(entry: Mapping[str, Any], line_budget: int | None = None) -> ChangedFile:
    """A "list pull request files" entry, its ``patch`` parsed into added lines."""
    patch = entry.get("patch")
    additions = entry.get("additions")
    added: tuple[AddedLine, ...] | None = None
    if isinstance(patch, str):
        added = added_lines(patch, limit=line_budget)
        cut = line_budget is not None and len(added) >= line_budget
        if cut and (not isinstance(additions, int) or additions > len(added)):
            added = None  # the budget ran out inside this file: unscanned, not half-scanned
    previous = entry.get("previous_filename")
    return ChangedFile(
        filename=str(entry.get("filename") or ""),
        status=str(entry.get("status") or "modified"),
        previous_filename=str(previous) if previous else None,
        # Unknown counts: as many as were read, or "some" when none could be.
        additions=additions
        if isinstance(additions, int)
        else (len(added) if added is not None else 1),
        added=added,
    )


def changed_files_from_api(entries: Iterable[Mapping[str, Any]]) -> tuple[ChangedFile, ...]:
    """Every entry, sharing the PR's budgets (`MAX_ADDED_LINES`, `MAX_PATCH_CHARS`)."""
    files: list[ChangedFile] = []
    budget = MAX_ADDED_LINES
    chars = MAX_PATCH_CHARS
    for entry in entries:
        patch = entry.get("patch")
        size = len(patch) if isinstance(patch, str) else 0
        if budget <= 0 or size > chars:
            parsed = changed_file_from_api({**entry, "patch": None})
        else:
            parsed = changed_file_from_api(entry, line_budget=budget)
            chars -= size
        budget -= len(parsed.added or ())
        files.append(parsed)
    return tuple(files)


def review_from_api(entry: Mapping[str, Any]) -> Review:
    login, kind = _login(entry.get("user"))
    commit = entry.get("commit_id")
    submitted = entry.get("submitted_at")
    return Review(
        login=login,
        state=str(entry.get("state") or "").upper(),
        commit_id=str(commit) if commit else None,
        author_type=kind,
        submitted_at=str(submitted) if submitted else None,
    )


def reviews_from_api(entries: Iterable[Mapping[str, Any]]) -> tuple[Review, ...]:
    return tuple(review_from_api(e) for e in entries)
