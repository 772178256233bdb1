"""Practice `scope`: what a Codex PR may change without a person's say-so.

Three checks over `ScopeEvidence`: protected paths (workflows, CODEOWNERS,
Codex's own config, the team's list) need an approval on the head commit; so
do paths outside an optional allowlist and added lines no one could scan; and
a credential in an added line is an error that no approval, level or skip
waives. Pure: the gateway gathers the evidence first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.config.scope import ScopeConfig
from bot.core.findings import Finding, Level, Outcome, PracticeResult, outcome_from_findings
from bot.core.sanitize import code_untrusted
from bot.core.scope_evidence import ScopeEvidence
from bot.practices.scope.approvals import Approval, judge
from bot.practices.scope.credentials import Credential, scan_files
from bot.practices.scope.paths import is_allowed, is_protected, outside_allowed, protected_changes

PRACTICE_ID = "scope"
RULE_PROTECTED = "scope/protected-path"
RULE_OUTSIDE = "scope/outside-allowed"
RULE_UNSCANNED = "scope/unscanned"
RULE_CREDENTIAL = "scope/credential"
UNSKIPPABLE_RULES = frozenset({RULE_CREDENTIAL})
"""For `bot.practices.evaluation.NEVER_DOWNGRADED_RULES`: kept as errors under ``level:
warning`` and through ``/codex-guard skip scope``."""
NOT_EVALUATED_REASON = "not evaluated: the PR's diff was not read"
MAX_NAMED_PATHS = 10
MAX_CREDENTIAL_FINDINGS = 50
UNBLOCK = (
    "A person with write access (not the PR's author, not a bot) approves the PR on "
    "its current head commit; a later push needs a new approval. A maintainer can "
    "instead comment `/codex-guard skip scope <reason>`."
)


@dataclass(frozen=True)
class Blocked:
    """Paths that need a person, grouped by why."""

    protected: list[str]
    outside: list[str]
    unscanned: list[str]

    def __bool__(self) -> bool:
        return bool(self.protected or self.outside or self.unscanned)


def needs_person(evidence: ScopeEvidence, config: ScopeConfig) -> Blocked:
    """What in this PR only an approval can unblock (nothing: no reviews need fetching)."""
    files = evidence.files
    unscanned = [f.filename for f in files if f.unscanned]
    if not evidence.files_complete:
        unscanned.append("(files GitHub did not list)")
    return Blocked(
        protected=protected_changes(files, config.protected_paths),
        outside=outside_allowed(files, config.allowed_paths),
        unscanned=unscanned,
    )


def needs_reviews(evidence: ScopeEvidence, config: ScopeConfig) -> bool:
    """True when the gateway should fetch reviews (and then approvers' permissions)."""
    return bool(needs_person(evidence, config))


def credentials_found(result: PracticeResult) -> bool:
    """The flag that refuses ``/codex-guard skip scope`` for this result."""
    return any(f.rule in UNSKIPPABLE_RULES for f in result.findings)


def _names(paths: Sequence[str]) -> str:
    shown = ", ".join(code_untrusted(p, 120) for p in paths[:MAX_NAMED_PATHS])
    more = len(paths) - MAX_NAMED_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def _who(login: str) -> str:
    return code_untrusted(f"@{login}", 45)


def _why_not(judged: list[Approval], evidence: ScopeEvidence) -> str:
    if evidence.reviews is None:
        return " Reviews were not read."
    if not judged:
        return " No one has approved it yet."
    # In code spans: a finding must not @-mention (and notify) the reviewers it names.
    parts = [f"{_who(a.login)} {a.why_not}" for a in judged[:5]]
    return " Not counted: " + "; ".join(parts) + "."


def _blocked_findings(
    blocked: Blocked, judged: list[Approval], evidence: ScopeEvidence
) -> list[Finding]:
    why = _why_not(judged, evidence)
    found: list[Finding] = []
    groups = (
        (RULE_PROTECTED, blocked.protected, "changes protected paths"),
        (RULE_OUTSIDE, blocked.outside, "changes paths outside `practices.scope.allowed_paths`"),
        (
            RULE_UNSCANNED,
            blocked.unscanned,
            "adds lines that could not be scanned for credentials",
        ),
    )
    for rule, paths, what in groups:
        if not paths:
            continue
        first = paths[0] if not paths[0].startswith("(") else None
        found.append(
            Finding(
                rule=rule,
                level=Level.ERROR,
                message=f"This PR {what}: {_names(paths)}; a person must approve it.{why}",
                path=first,
                fix=UNBLOCK,
            )
        )
    return found


def _credential_findings(credentials: list[Credential]) -> list[Finding]:
    found: list[Finding] = []
    for cred in credentials[:MAX_CREDENTIAL_FINDINGS]:
        found.append(
            Finding(
                rule=RULE_CREDENTIAL,
                level=Level.ERROR,
                message=f"{code_untrusted(cred.path, 120)} line {cred.line} adds a credential "
                f"({cred.kind}, {code_untrusted(cred.masked, 10)}).",
                path=cred.path,
                line=cred.line,
                fix="Remove it from the branch and its history, and revoke or rotate it: a "
                "pushed credential must be treated as leaked. No approval or skip waives this.",
            )
        )
    extra = len(credentials) - MAX_CREDENTIAL_FINDINGS
    if extra > 0:
        found.append(
            Finding(
                rule=RULE_CREDENTIAL,
                level=Level.ERROR,
                message=f"…and {extra} more credentials in the added lines.",
            )
        )
    return found


def evaluate_scope(evidence: ScopeEvidence | None, config: ScopeConfig) -> PracticeResult:
    """The verdict on one PR's evidence; ``None`` evidence (offline, no diff) is a skip."""
    if evidence is None:
        return PracticeResult(PRACTICE_ID, Outcome.SKIP, NOT_EVALUATED_REASON)
    credentials = scan_files(evidence.files)
    findings = _credential_findings(credentials)
    reasons: list[str] = []
    blocked = needs_person(evidence, config)
    if blocked:
        judged = judge(evidence)
        approved = [a.login for a in judged if a.counts]
        if approved:
            reasons.append(
                f"changes that need a person were approved by {_who(approved[0])} on head"
            )
        else:
            findings.extend(_blocked_findings(blocked, judged, evidence))
            reasons.append("changes that need a person's approval on the head commit")
    else:
        reasons.append("changes only paths Codex may change alone")
    if credentials:
        reasons.insert(0, f"{len(credentials)} credential(s) in added lines")
    return PracticeResult(
        practice=PRACTICE_ID,
        outcome=outcome_from_findings(findings),
        reason="; ".join(reasons),
        findings=tuple(findings),
    )


def evaluate(snapshot: object, config: object) -> PracticeResult:
    """The engine's entry point: reads ``snapshot.scope`` and ``config.practices.scope``.

    Until those fields exist (the wiring phase adds them) this skips.
    """
    evidence = getattr(snapshot, "scope", None)
    scope_config = getattr(getattr(config, "practices", None), "scope", None)
    if not isinstance(scope_config, ScopeConfig):
        scope_config = ScopeConfig()
    return evaluate_scope(evidence if isinstance(evidence, ScopeEvidence) else None, scope_config)


__all__ = [
    "PRACTICE_ID",
    "UNSKIPPABLE_RULES",
    "credentials_found",
    "evaluate",
    "evaluate_scope",
    "is_allowed",
    "is_protected",
    "needs_person",
    "needs_reviews",
]
