"""Whose approval unblocks protected changes, from "list reviews" and webhook shapes."""

from __future__ import annotations

import pytest

from bot.core.config.scope import ScopeConfig
from bot.core.findings import Outcome
from bot.core.scope_evidence import review_from_api
from bot.practices.scope.approvals import approvers, latest_decisions, reviewers_needing_permission
from bot.practices.scope.practice import RULE_PROTECTED, evaluate_scope, needs_reviews
from tests.practices.scope_payloads import (
    AUTHOR,
    HEAD,
    OLD,
    evidence,
    file_entry,
    review_entry,
    webhook_review,
)

WORKFLOW = [file_entry(".github/workflows/ci.yml")]
CONFIG = ScopeConfig()


def _verdict(reviews: list[dict], permissions: dict[str, str | None] | None = None):
    return evaluate_scope(evidence(WORKFLOW, reviews, permissions), CONFIG)


def test_a_workflow_edit_needs_reviews_fetched() -> None:
    assert needs_reviews(evidence(WORKFLOW), CONFIG)


def test_no_reviews_read_blocks() -> None:
    result = evaluate_scope(evidence(WORKFLOW, reviews=None), CONFIG)
    assert result.outcome is Outcome.FAIL
    assert "Reviews were not read" in result.findings[0].message


def test_approved_by_a_maintainer_on_head_passes() -> None:
    result = _verdict([review_entry("octocat", "APPROVED")], {"octocat": "maintain"})
    assert result.outcome is Outcome.PASS
    assert result.findings == ()
    assert "`@octocat`" in result.reason


@pytest.mark.parametrize("permission", ["write", "admin"])
def test_write_and_admin_approvals_count(permission: str) -> None:
    assert _verdict([review_entry("octocat", "APPROVED")], {"octocat": permission}).outcome is (
        Outcome.PASS
    )


def test_an_approval_on_an_older_commit_does_not_count() -> None:
    result = _verdict([review_entry("octocat", "APPROVED", commit_id=OLD)], {"octocat": "admin"})
    assert result.outcome is Outcome.FAIL
    (finding,) = result.findings
    assert finding.rule == RULE_PROTECTED
    assert "older commit (ecdd80b)" in finding.message
    # Blocked again after a new push: the same approval, a new head.
    ev = evidence(WORKFLOW, [review_entry("octocat", "APPROVED")], {"octocat": "admin"})
    assert evaluate_scope(ev, CONFIG).outcome is Outcome.PASS
    pushed = evidence(
        WORKFLOW, [review_entry("octocat", "APPROVED")], {"octocat": "admin"}, head="f" * 40
    )
    assert evaluate_scope(pushed, CONFIG).outcome is Outcome.FAIL


@pytest.mark.parametrize("permission", ["read", "triage", "none"])
def test_a_read_only_approval_does_not_count(permission: str) -> None:
    result = _verdict([review_entry("reader", "APPROVED")], {"reader": permission})
    assert result.outcome is Outcome.FAIL
    assert f"has {permission} access" in result.findings[0].message


def test_an_unconfirmed_permission_does_not_count() -> None:
    result = _verdict([review_entry("someone", "APPROVED")])
    assert result.outcome is Outcome.FAIL
    assert "could not be confirmed" in result.findings[0].message


@pytest.mark.parametrize(
    ("login", "user_type"), [("renovate[bot]", "Bot"), ("helper", "Bot"), ("ci[bot]", "User")]
)
def test_a_bot_approval_does_not_count(login: str, user_type: str) -> None:
    review = review_entry(login, "APPROVED", user_type=user_type)
    result = _verdict([review], {login: "admin"})
    assert result.outcome is Outcome.FAIL
    assert "is a bot" in result.findings[0].message
    assert reviewers_needing_permission(evidence(WORKFLOW, [review])) == []


def test_the_authors_own_approval_does_not_count() -> None:
    result = _verdict([review_entry(AUTHOR.upper(), "APPROVED")], {AUTHOR: "admin"})
    assert result.outcome is Outcome.FAIL
    assert "opened the PR" in result.findings[0].message


def test_a_later_changes_requested_cancels_the_approval() -> None:
    reviews = [review_entry("octocat", "APPROVED"), review_entry("octocat", "CHANGES_REQUESTED")]
    result = _verdict(reviews, {"octocat": "admin"})
    assert result.outcome is Outcome.FAIL
    assert "requested changes" in result.findings[0].message


def test_a_later_comment_does_not_cancel_the_approval() -> None:
    reviews = [review_entry("octocat", "APPROVED"), review_entry("octocat", "COMMENTED")]
    assert _verdict(reviews, {"octocat": "admin"}).outcome is Outcome.PASS


def test_an_approval_after_changes_requested_counts() -> None:
    reviews = [review_entry("octocat", "CHANGES_REQUESTED"), review_entry("octocat", "APPROVED")]
    assert _verdict(reviews, {"octocat": "write"}).outcome is Outcome.PASS


def test_a_dismissed_approval_does_not_count() -> None:
    # Once dismissed, "list reviews" reports the approval itself as DISMISSED.
    result = _verdict([review_entry("octocat", "DISMISSED")], {"octocat": "admin"})
    assert result.outcome is Outcome.FAIL
    assert "dismissed" in result.findings[0].message


def test_webhook_review_states_are_read_like_rest_ones() -> None:
    dismissed = review_from_api(webhook_review("dismissed", "octocat"))
    commented = review_from_api(webhook_review("submitted", "octocat"))
    assert (dismissed.state, commented.state) == ("DISMISSED", "COMMENTED")
    assert dismissed.commit_id == HEAD and dismissed.login == "octocat"
    approved = review_from_api(review_entry("octocat", "APPROVED"))
    assert latest_decisions((approved, commented)) == {"octocat": approved}
    assert latest_decisions((approved, commented, dismissed)) == {"octocat": dismissed}


def test_one_qualifying_approval_among_others_is_enough() -> None:
    reviews = [
        review_entry("reader", "APPROVED"),
        review_entry("octocat", "APPROVED"),
        review_entry("stale", "APPROVED", commit_id=OLD),
    ]
    perms = {"reader": "read", "octocat": "write", "stale": "admin"}
    assert approvers(evidence(WORKFLOW, reviews, perms)) == ["octocat"]
    assert _verdict(reviews, perms).outcome is Outcome.PASS


def test_reviewers_needing_permission_are_only_those_who_could_unblock() -> None:
    reviews = [
        review_entry("early", "APPROVED"),
        review_entry("bot[bot]", "APPROVED", user_type="Bot"),
        review_entry("stale", "APPROVED", commit_id=OLD),
        review_entry(AUTHOR, "APPROVED"),
        review_entry("changed-mind", "APPROVED"),
        review_entry("changed-mind", "CHANGES_REQUESTED"),
        review_entry("commenter", "COMMENTED"),
        review_entry("known", "APPROVED"),
        review_entry("late", "APPROVED"),
    ]
    ev = evidence(WORKFLOW, reviews, {"known": "read"})
    # Most recent first, so a gateway can stop at the first with write access.
    assert reviewers_needing_permission(ev) == ["late", "early"]
