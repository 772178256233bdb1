"""The `scope` practice's evidence from a local checkout: `git diff BASE...HEAD`, the
changes a PR from this branch would show, read without GitHub."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.core.diff_patch import git_diff_entries
from bot.core.scope_evidence import ScopeEvidence, changed_files_from_api

GIT_TIMEOUT_SECONDS = 60
MAX_DIFF_BYTES = 64 * 1024 * 1024


class DiffError(Exception):
    """The diff could not be read: not a git checkout, an unknown ref, git missing."""


def scope_from_checkout(repo_dir: Path, base: str, author: str = "") -> ScopeEvidence:
    """The changed files since ``base`` (a ref or SHA), their patches parsed; offline
    there are no reviews, so what needs a person's approval is reported as such."""
    if not base or base.startswith("-") or any(c.isspace() for c in base):
        raise DiffError(f"not a git ref: {base!r}")
    command = ["git", "-C", str(repo_dir), "diff", "--no-color", "--no-ext-diff", "-M",
               f"{base}...HEAD", "--"]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            command, capture_output=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiffError(f"git diff {base}...HEAD failed: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git diff {base}...HEAD failed: {reason[0] if reason else 'no output'}")
    output = done.stdout[:MAX_DIFF_BYTES].decode("utf-8", "replace")
    entries = git_diff_entries(output)
    return ScopeEvidence(
        author=author,
        head_sha="",
        files=changed_files_from_api(entries),
        files_complete=len(done.stdout) <= MAX_DIFF_BYTES,
    )
