"""The ``costs`` subcommand: Codex usage from the cost ledger in Redis, added up per
person, team, repository or model, as a table, CSV or JSON; with ``--org-spend``, what
OpenAI billed the organisation per team beside it, and the unattributed API keys.

Registered through ``bot.ops.cli.SUBCOMMAND_MODULES`` (this module's ``register``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta

import redis

from bot.jobs.costs.ledger import UsageRecord, usage_records
from bot.jobs.costs.org_spend import org_spend
from bot.ops.cli import EXIT_PASS, Subparsers, UsageError
from bot.ops.cli_audit import parse_since, redis_for
from bot.present.cost_summary import GROUPS, costs_csv, costs_json, costs_text, summarise_costs
from bot.present.org_spend import org_spend_json, org_spend_text, side_by_side

DEFAULT_SINCE = "30d"


def parse_until(text: str) -> datetime:
    """An ISO date or time; a bare date means the end of that UTC day, a naive time UTC."""
    value = (text or "").strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--until: expected an ISO date like 2026-01-31 or a time like "
            f"2026-01-31T12:00Z, got {text!r}"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def window(args: argparse.Namespace, now: datetime | None = None) -> tuple[datetime, datetime]:
    """[since, until) in UTC from the arguments; a bad one is a one-line usage error."""
    now = now or datetime.now(UTC)
    try:
        age = parse_since(args.since)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"--since: {exc}") from None
    since = now - age
    until = now if args.until is None else parse_until(args.until)
    if until <= since:
        raise UsageError(f"--until {_when(until)} is not after --since {_when(since)}")
    return since, until


def _when(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _records(url: str | None, since: datetime, until: datetime) -> list[UsageRecord]:
    client = redis_for(url)
    try:
        return usage_records(client, since, until)
    except redis.RedisError as exc:
        raise UsageError(
            f"cannot read the cost ledger from Redis ({type(exc).__name__}); "
            "check --redis-url or REDIS_URL"
        ) from None


def register_costs(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "costs",
        help="summarise Codex usage and its cost per person, team, repository or model",
        description="Codex threads recorded in the cost ledger, each counted once, with "
        "their tokens and dollars. Threads whose model the rate card does not know count "
        "their tokens but no dollars, and are listed as unpriced.",
    )
    parser.add_argument(
        "--since",
        default=DEFAULT_SINCE,
        metavar="AGE",
        help=f"how far back: 30d, 12h, 30m (default: {DEFAULT_SINCE})",
    )
    parser.add_argument(
        "--until",
        metavar="ISO",
        help="up to this time (a bare date includes that whole UTC day; default: now)",
    )
    parser.add_argument("--by", choices=GROUPS, default="person", help="default: person")
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json", dest="format", action="store_const", const="json", help="print JSON"
    )
    output.add_argument("--csv", dest="format", action="store_const", const="csv", help="print CSV")
    parser.add_argument(
        "--org-spend",
        action="store_true",
        help="per team, what OpenAI billed the organisation (read daily by the clock with "
        "OPENAI_ADMIN_KEY) beside the PR-attributed cost, and API keys that map to no team "
        "(text or --json)",
    )
    parser.add_argument("--redis-url", metavar="URL", help="default: $REDIS_URL")
    parser.set_defaults(handler=run_costs, format="text")


def run_org_spend(args: argparse.Namespace, since: datetime, until: datetime) -> int:
    """OpenAI's stored days overlapping the window beside the ledger's per-team figures."""
    if args.format == "csv":
        raise UsageError("--org-spend prints a table or --json, not --csv")
    records = _records(args.redis_url, since, until)
    try:
        org = org_spend(redis_for(args.redis_url), since, until)
    except redis.RedisError as exc:
        raise UsageError(
            f"cannot read the org spend from Redis ({type(exc).__name__}); "
            "check --redis-url or REDIS_URL"
        ) from None
    rows = side_by_side(org, summarise_costs(records, "team"))
    render = org_spend_json if args.format == "json" else org_spend_text
    sys.stdout.write(render(org, rows, since, until))
    return EXIT_PASS


def run_costs(args: argparse.Namespace) -> int:
    since, until = window(args)
    if args.org_spend:
        return run_org_spend(args, since, until)
    records = _records(args.redis_url, since, until)
    rows = summarise_costs(records, args.by)
    if args.format == "json":
        sys.stdout.write(costs_json(rows))
    elif args.format == "csv":
        sys.stdout.write(costs_csv(rows, args.by))
    if not records:
        empty = f"no Codex usage recorded between {_when(since)} and {_when(until)}"
        print(empty, file=sys.stderr if args.format != "text" else sys.stdout)
        return EXIT_PASS
    if args.format == "text":
        print(
            f"Codex usage by {args.by}, {_when(since)} to {_when(until)} "
            f"({len(records)} thread{'s' if len(records) != 1 else ''})"
        )
        print()
        sys.stdout.write(costs_text(rows, args.by))
    return EXIT_PASS


def register(subparsers: Subparsers) -> None:
    """Add ``costs`` (for ``bot.ops.cli.SUBCOMMAND_MODULES``)."""
    register_costs(subparsers)
