"""Operator subcommands: ``audit``, ``report`` and ``doctor``.

They read the deployment's Redis and GitHub as the running app does, so an
operator can answer "is it set up right?" and "what are our agents doing?"
from a shell. ``register(subparsers)`` adds all three to ``bot.ops.cli``; they
live in `bot.ops.cli_audit` and `bot.ops.doctor`, re-exported here.
"""

from __future__ import annotations

from bot.ops.cli import Subparsers
from bot.ops.cli_audit import (
    CSV_COLUMNS,
    DEFAULT_REDIS_URL,
    export_csv,
    export_json,
    parse_since,
    register_audit,
    register_report,
    run_audit,
    run_report,
)
from bot.ops.doctor import doctor, register_doctor, run_doctor
from bot.ops.doctor_checks import Check, Report, check_redis, check_settings
from bot.ops.doctor_github import APP_YML, check_github, compare_access, wanted_access

# What lived here before the subcommands had modules of their own.
__all__ = [
    "APP_YML",
    "CSV_COLUMNS",
    "DEFAULT_REDIS_URL",
    "Check",
    "Report",
    "check_github",
    "check_redis",
    "check_settings",
    "compare_access",
    "doctor",
    "export_csv",
    "export_json",
    "parse_since",
    "register",
    "register_audit",
    "register_doctor",
    "register_report",
    "run_audit",
    "run_doctor",
    "run_report",
    "wanted_access",
]


def register(subparsers: Subparsers) -> None:
    """Add ``audit``, ``report`` and ``doctor`` (for ``bot.ops.cli.SUBCOMMAND_MODULES``)."""
    register_audit(subparsers)
    register_report(subparsers)
    register_doctor(subparsers)
