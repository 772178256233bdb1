"""Whose approval unblocks a Codex PR that touches protected paths.

An approval counts only when it is the reviewer's latest decision, was given on
the PR's current head commit, and comes from a person with write access who did
not open the PR. GitHub's own "latest review per reviewer" rule is followed:
``COMMENTED`` (and ``PENDING``) reviews leave a reviewer's decision as it was;
``CHANGES_REQUESTED`` and ``DISMISSED`` replace it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.scope_evidence import Review, ScopeEvidence

APPROVER_PERMISSIONS = frozenset({"write", "maintain", "admin"})
"""What "get repository permissions for a user" returns for people who can push
(``permission`` is ``write``/``admin``; ``role_name`` may say ``maintain``)."""

_DECISIONS = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


def latest_decisions(reviews: tuple[Review, ...]) -> dict[str, Review]:
    """Lower-cased login -> that reviewer's last deciding review, in submission order."""
    latest: dict[str, Review] = {}
    for review in reviews:
        if review.state in _DECISIONS and review.login:
            key = review.login.lower()
            latest.pop(key, None)  # re-inserted: the dict is ordered by latest decision
            latest[key] = review
    return latest


@dataclass(frozen=True)
class Approval:
    """One reviewer's latest decision and whether it unblocks the PR; ``why_not`` if not."""

    login: str
    counts: bool
    why_not: str = ""


def _candidate(review: Review, evidence: ScopeEvidence) -> str:
    """Why this latest review cannot count whatever the reviewer's permission ("" if it can)."""
    if review.state != "APPROVED":
        return "dismissed" if review.state == "DISMISSED" else "requested changes since"
    if review.is_bot:
        return "is a bot"
    if review.login.lower() == evidence.author.lower():
        return "opened the PR"
    if review.commit_id != evidence.head_sha:
        short = (review.commit_id or "an unknown commit")[:7]
        return f"approved an older commit ({short}), not the current head"
    return ""


def judge(evidence: ScopeEvidence) -> list[Approval]:
    """Every reviewer's latest decision, judged; most recent first."""
    judged: list[Approval] = []
    for review in reversed(list(latest_decisions(evidence.reviews or ()).values())):
        why_not = _candidate(review, evidence)
        if not why_not:
            permission = evidence.permission_of(review.login)
            if permission is None:
                why_not = "could not be confirmed to have write access"
            elif permission not in APPROVER_PERMISSIONS:
                why_not = f"has {permission} access, not write"
        judged.append(Approval(review.login, not why_not, why_not))
    return judged


def approvers(evidence: ScopeEvidence) -> list[str]:
    """Logins whose approval on the head commit unblocks the PR, most recent first."""
    return [a.login for a in judge(evidence) if a.counts]


def reviewers_needing_permission(evidence: ScopeEvidence) -> list[str]:
    """Logins whose permission decides the outcome and has not been looked up.

    Only reviewers whose latest review approves the head commit and who are
    neither the author nor a bot; most recent first, so a caller can look them
    up one at a time and stop at the first with write access.
    """
    wanted: list[str] = []
    for review in reversed(list(latest_decisions(evidence.reviews or ()).values())):
        if not _candidate(review, evidence) and evidence.permission_of(review.login) is None:
            wanted.append(review.login)
    return wanted
