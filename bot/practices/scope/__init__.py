"""Practice `scope`: protected paths need a person's approval; no credentials in the diff.

The engine imports this package and calls ``evaluate``; the parts live in small
modules (`paths`, `approvals`, `credentials`, `evidence`, `patch`, `config`).
Attributes load lazily so that `bot.core.config` can import `ScopeConfig` from
`bot.practices.scope.config` without pulling detect-secrets into every process.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "evaluate": "practice",
    "evaluate_scope": "practice",
    "needs_person": "practice",
    "needs_reviews": "practice",
    "credentials_found": "practice",
    "PRACTICE_ID": "practice",
    "UNSKIPPABLE_RULES": "practice",
    "ScopeConfig": "config",
    "ScopeEvidence": "evidence",
    "ChangedFile": "evidence",
    "Review": "evidence",
    "reviewers_needing_permission": "approvals",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
