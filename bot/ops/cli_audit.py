"""The ``audit`` and ``report`` subcommands: the audit trail, read from Redis, as CSV,
JSON or a summary (with an optional HTML page).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from bot.core.config import ConfigError, load_config
from bot.core.config.costs import BudgetsConfig
from bot.core.findings import PRACTICE_IDS
from bot.jobs.audit import AuditRecord, read, summarise, summary_text
from bot.jobs.costs.ledger import month_bounds, usage_records
from bot.ops.cli import EXIT_PASS, Subparsers, UsageError, read_text

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


# ---------------------------------------------------------------- shared


def parse_since(text: str) -> timedelta:
    """``7d``, ``12h`` or ``30m``; anything else is an argparse error (exit 2)."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 12h or 30m, got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def redis_for(url: str | None) -> redis.Redis:
    chosen = url or os.environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    try:
        return redis.Redis.from_url(chosen, socket_connect_timeout=3, socket_timeout=10)
    except ValueError as exc:
        raise UsageError(f"--redis-url is not a Redis URL: {exc}") from None


def _records(args: argparse.Namespace) -> list[AuditRecord]:
    client = redis_for(args.redis_url)
    try:
        return read(client, since=args.since, repo=args.repo)
    except redis.RedisError as exc:
        raise UsageError(
            f"cannot read the audit trail from Redis ({type(exc).__name__}); "
            "check --redis-url or REDIS_URL"
        ) from None


def _add_source_args(parser: argparse.ArgumentParser, default_since: str) -> None:
    parser.add_argument(
        "--since",
        type=parse_since,
        default=parse_since(default_since),
        metavar="AGE",
        help=f"how far back: 7d, 12h, 30m (default: {default_since})",
    )
    parser.add_argument("--repo", metavar="OWNER/REPO", help="only this repository")
    parser.add_argument("--redis-url", metavar="URL", help="default: $REDIS_URL")


# ---------------------------------------------------------------- audit

CSV_COLUMNS = (
    "time",
    "repository",
    "pr",
    "head_sha",
    "person",
    "codex",
    "signals",
    "conclusion",
    *PRACTICE_IDS,
    "findings",
    "overrides",
    "delivery",
    "installation",
)


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas: override reasons and signals are user text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(records: Iterable[AuditRecord]) -> str:
    """One row per evaluation; one column per practice; lists joined with ``; ``."""
    records = list(records)
    extra = sorted({p for r in records for p in r.outcomes} - set(PRACTICE_IDS))
    columns = [*CSV_COLUMNS[: CSV_COLUMNS.index("findings")], *extra]
    columns += ["findings", "overrides", "delivery", "installation"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for r in records:
        base = {
            "time": r.time.astimezone(UTC).isoformat(timespec="seconds"),
            "repository": r.repository,
            "pr": str(r.pr),
            "head_sha": r.head_sha,
            "person": r.person,
            "codex": "yes" if r.codex else "no",
            "signals": "; ".join(r.signals),
            "conclusion": r.conclusion,
            "findings": "; ".join(r.findings),
            "overrides": "; ".join(
                f"{o.practice} by @{o.by}" + (f": {o.reason}" if o.reason else "")
                for o in r.overrides
            ),
            "delivery": r.delivery or "",
            "installation": "" if r.installation is None else str(r.installation),
        }
        writer.writerow([_cell(base.get(c, r.outcomes.get(c, ""))) for c in columns])
    return buffer.getvalue()


def export_json(records: Iterable[AuditRecord]) -> str:
    """A JSON array, one record per line, so large exports stay greppable."""
    rows = [json.dumps(r.as_json(), ensure_ascii=False, sort_keys=True) for r in records]
    if not rows:
        return "[]\n"
    return "[\n" + ",\n".join(rows) + "\n]\n"


def register_audit(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "audit",
        help="export the audit trail (one record per evaluation)",
        description="Export what codex-guard decided on each evaluation: repository, PR, "
        "head SHA, person, Codex signals, each practice's outcome, overrides, delivery ID.",
    )
    _add_source_args(parser, "7d")
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    records = _records(args)
    text = export_csv(records) if args.format == "csv" else export_json(records)
    sys.stdout.write(text)
    return EXIT_PASS


# ---------------------------------------------------------------- report


def register_report(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="summarise the audit trail per repository and per person",
        description="Codex PRs, each practice's pass rate, the most common findings and "
        "overrides, per repository and per person. --html also writes a page with charts, "
        "and a section on what Codex cost per team, person, repository and model.",
    )
    _add_source_args(parser, "30d")
    parser.add_argument("--html", metavar="FILE", help="also write an HTML report here")
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="the org's codex-guard.yml, for the team budgets in the HTML cost section",
    )
    parser.set_defaults(handler=run_report)


def _budgets(path: str | None) -> BudgetsConfig | None:
    """`costs.budgets` of an org config file, or None without one; bad config exits 2."""
    if path is None:
        return None
    try:
        return load_config(None, read_text(path, "config file"), org_source=path).costs.budgets
    except ConfigError as exc:
        raise UsageError(f"invalid config {exc}") from None


def _cost_section(
    args: argparse.Namespace, budgets: BudgetsConfig | None, since: datetime, until: datetime
) -> str:
    """The HTML cost section; the ledger is read from the first day of `since`'s month, so
    a month counts against its budget from day one."""
    from bot.present.cost_page import render_cost_section

    try:
        records = usage_records(redis_for(args.redis_url), month_bounds(since.date())[0], until)
    except redis.RedisError as exc:
        raise UsageError(
            f"cannot read the cost ledger from Redis ({type(exc).__name__}); "
            "check --redis-url or REDIS_URL"
        ) from None
    return render_cost_section(records, since=since, until=until, budgets=budgets, repo=args.repo)


def run_report(args: argparse.Namespace) -> int:
    from bot.present.audit_page import render_html

    now = datetime.now(UTC)
    try:
        since = now - args.since
    except OverflowError:
        raise UsageError("--since reaches back before the year 1") from None
    budgets = _budgets(args.config)  # a bad --config fails before anything is read
    summary = summarise(_records(args), since=since, until=now)
    costs = _cost_section(args, budgets, since, now) if args.html else None
    sys.stdout.write(summary_text(summary))
    if args.html:
        try:
            Path(args.html).write_text(render_html(summary, extra_section=costs), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror or exc}") from None
        print(f"wrote {args.html}")
    return EXIT_PASS
