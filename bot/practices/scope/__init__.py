"""Practice `scope`: protected paths need a person's approval; no credentials in the diff.

The engine imports this package and calls ``evaluate``; the parts live in small
modules (`paths`, `approvals`, `credentials`, `practice`); its vocabulary (the evidence,
the diff's added lines, the config model) is in `bot.core` so the snapshot and config
can carry it. Attributes load lazily so that importing the package does not pull
detect-secrets into every process.
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
    "ScopeConfig": "bot.core.config.scope",
    "ScopeEvidence": "bot.core.scope_evidence",
    "ChangedFile": "bot.core.scope_evidence",
    "Review": "bot.core.scope_evidence",
    "reviewers_needing_permission": "approvals",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module if "." in module else f"{__name__}.{module}"), name)
