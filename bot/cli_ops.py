"""Operator subcommands: ``audit``, ``report`` and ``doctor``.

They read the deployment's Redis and GitHub as the running app does, so an
operator can answer "is it set up right?" and "what are our agents doing?"
from a shell. ``register(subparsers)`` adds all three to ``bot.cli``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import yaml

from bot.audit import AuditRecord, read, summarise, summary_text
from bot.cli import EXIT_FAIL, EXIT_PASS, Subparsers, UsageError
from bot.findings import PRACTICE_IDS

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
APP_YML = Path(__file__).resolve().parent.parent / "app.yml"
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([dhm])\s*$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
_LEVELS = ("none", "read", "write", "admin")


# ---------------------------------------------------------------- shared


def parse_since(text: str) -> timedelta:
    """``7d``, ``12h`` or ``30m``; anything else is an argparse error (exit 2)."""
    match = _DURATION.match(text or "")
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 7d, 12h or 30m, got {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _redis(url: str | None) -> redis.Redis:
    chosen = url or os.environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    try:
        return redis.Redis.from_url(chosen, socket_connect_timeout=3, socket_timeout=10)
    except ValueError as exc:
        raise UsageError(f"--redis-url is not a Redis URL: {exc}") from None


def _records(args: argparse.Namespace) -> list[AuditRecord]:
    client = _redis(args.redis_url)
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
        "overrides, per repository and per person. --html also writes a page with charts.",
    )
    _add_source_args(parser, "30d")
    parser.add_argument("--html", metavar="FILE", help="also write an HTML report here")
    parser.set_defaults(handler=run_report)


def run_report(args: argparse.Namespace) -> int:
    from bot.audit_html import render_html

    now = datetime.now(UTC)
    summary = summarise(_records(args), since=now - args.since, until=now)
    sys.stdout.write(summary_text(summary))
    if args.html:
        try:
            Path(args.html).write_text(render_html(summary), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror or exc}") from None
        print(f"wrote {args.html}")
    return EXIT_PASS


# ---------------------------------------------------------------- doctor


@dataclass
class Check:
    """One line of the doctor's verdict; ``fix`` says what to do about it."""

    level: str  # ok, warn, error
    subject: str
    message: str
    fix: str = ""


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, level: str, subject: str, message: str, fix: str = "") -> None:
        self.checks.append(Check(level, subject, message, fix))

    @property
    def healthy(self) -> bool:
        return not any(c.level == "error" for c in self.checks)

    def text(self) -> str:
        marks = {"ok": "ok   ", "warn": "WARN ", "error": "ERROR"}
        lines = []
        for c in self.checks:
            lines.append(f"{marks[c.level]} {c.subject}: {c.message}")
            if c.fix:
                lines.append(f"      fix: {c.fix}")
        errors = sum(c.level == "error" for c in self.checks)
        warnings = sum(c.level == "warn" for c in self.checks)
        verdict = "healthy" if not errors else "not healthy"
        lines.append(f"\n{verdict}: {errors} error(s), {warnings} warning(s)")
        return "\n".join(lines) + "\n"


_PLACEHOLDERS = {"APP_ID": "1", "WEBHOOK_SECRET": "placeholder"}


def _placeholder_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def check_settings(env: Mapping[str, str], report: Report) -> Any:
    """Every setting, not just the first bad one; the Settings, or None if any is wrong.

    ``load_settings`` stops at the first problem, so each bad variable is noted
    and replaced by a harmless stand-in until the rest load too.
    """
    from bot.settings import SettingsError, load_settings

    trial = dict(env)
    failed: list[str] = []
    for _ in range(32):
        try:
            settings = load_settings(trial)
            break
        except SettingsError as exc:
            report.add(
                "error",
                "settings",
                str(exc).removeprefix("codex-guard: "),
                _setting_fix(exc.variable),
            )
            failed.append(exc.variable)
            if exc.variable in ("PRIVATE_KEY", "PRIVATE_KEY_PATH"):
                trial.pop("PRIVATE_KEY_PATH", None)
                trial["PRIVATE_KEY"] = _placeholder_key()
            elif exc.variable in _PLACEHOLDERS:
                trial[exc.variable] = _PLACEHOLDERS[exc.variable]
            else:
                trial.pop(exc.variable, None)
    else:  # pragma: no cover - every variable has a stand-in
        return None
    if failed:
        return None
    report.add("ok", "settings", f"all settings load (APP_ID {settings.app_id})")
    if len(settings.webhook_secret) < 20:
        report.add(
            "warn",
            "settings",
            "WEBHOOK_SECRET is short, so deliveries could be forged by guessing it",
            "use a random secret of 32+ characters (e.g. `openssl rand -hex 32`), set it on "
            "the App's settings page and in WEBHOOK_SECRET",
        )
    api = settings.github_api_url
    if api.startswith("http://") and not re.match(r"^http://(127\.|localhost|\[::1\])", api):
        report.add(
            "warn",
            "settings",
            f"GITHUB_API_URL {api} is plain http: tokens would cross the network unencrypted",
            "use https://",
        )
    if not settings.allowed_owners and not settings.allowed_repos:
        report.add(
            "warn",
            "settings",
            "ALLOWED_OWNERS and ALLOWED_REPOS are empty: every installed repository is checked",
            "start with a narrow allowlist, e.g. ALLOWED_REPOS=your-org/one-repo",
        )
    return settings


def _setting_fix(variable: str) -> str:
    fixes = {
        "APP_ID": "set APP_ID to the number on the App's settings page (About → App ID), "
        "or register the App at /setup",
        "PRIVATE_KEY": "set PRIVATE_KEY to the PEM text of a key generated on the App's "
        "settings page (newlines as \\n), or PRIVATE_KEY_PATH to its file",
        "PRIVATE_KEY_PATH": "point PRIVATE_KEY_PATH at a readable PEM file",
        "WEBHOOK_SECRET": "set WEBHOOK_SECRET to the App's webhook secret",
    }
    return fixes.get(variable, f"correct {variable}, or unset it to use the default")


def check_redis(url: str, report: Report, connect: Callable[[str], redis.Redis]) -> None:
    try:
        client = connect(url)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        report.add(
            "error",
            "redis",
            f"no answer from {_redact(url)} ({type(exc).__name__})",
            "start Redis or correct REDIS_URL; webhooks are refused with 503 without it",
        )
        return
    report.add("ok", "redis", f"{_redact(url)} answers")
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError:  # managed Redis often forbids CONFIG
        return
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy and str(policy).startswith("allkeys-"):
        report.add(
            "warn",
            "redis",
            f"maxmemory-policy is {policy}: under memory pressure Redis may evict queued jobs",
            "use noeviction (or a volatile-* policy) for codex-guard's Redis",
        )


def _redact(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//***@", url)


def _level(value: str | None) -> int:
    return _LEVELS.index(value) if value in _LEVELS else 0


def wanted_access(app_yml: Path = APP_YML) -> tuple[dict[str, str], set[str]]:
    """The permissions and events ``app.yml`` asks for."""
    spec = yaml.safe_load(app_yml.read_text(encoding="utf-8")) or {}
    return dict(spec.get("default_permissions") or {}), set(spec.get("default_events") or [])


def compare_access(
    granted: Mapping[str, str], events: Iterable[str], app_yml: Path = APP_YML
) -> tuple[list[str], list[str], list[str], list[str]]:
    """(missing permissions, excess permissions, missing events, extra events)."""
    wanted, wanted_events = wanted_access(app_yml)
    missing = [
        f"{name}: {level} (has {granted.get(name) or 'none'})"
        for name, level in sorted(wanted.items())
        if _level(granted.get(name)) < _level(level)
    ]
    excess = [
        f"{name}: {level} (needs {wanted.get(name) or 'none'})"
        for name, level in sorted(granted.items())
        if _level(level) > _level(wanted.get(name))
    ]
    have = set(events)
    return missing, excess, sorted(wanted_events - have), sorted(have - wanted_events)


def check_github(settings: Any, report: Report, app_yml: Path = APP_YML) -> None:
    """The App JWT (``GET /app``), then each installation's grants against app.yml."""
    from github import Auth, GithubException, GithubIntegration

    integration = GithubIntegration(
        auth=Auth.AppAuth(settings.app_id, settings.private_key),
        base_url=settings.github_api_url,
        timeout=15,
        retry=0,
    )
    try:
        app = integration.get_app()
    except GithubException as exc:
        fix = (
            "APP_ID and PRIVATE_KEY do not belong to the same App, the key was revoked, "
            "or this machine's clock is off by more than a minute: check all three"
            if exc.status == 401
            else f"GitHub answered {exc.status}; check GITHUB_API_URL"
        )
        report.add("error", "github app", f"GET /app was refused ({exc.status})", fix)
        return
    except Exception as exc:  # network trouble of any kind
        report.add(
            "error",
            "github app",
            f"cannot reach {settings.github_api_url} ({type(exc).__name__})",
            "check GITHUB_API_URL and the network (proxy, firewall, DNS)",
        )
        return
    report.add("ok", "github app", f"the App JWT works: {app.slug} (id {app.id})")
    app_page = f"{app.html_url}" if app.html_url else "the App's settings page"
    missing, excess, missing_events, extra_events = compare_access(
        app.permissions or {}, app.events or [], app_yml
    )
    if missing or missing_events:
        report.add(
            "error",
            "github app",
            "the App does not ask for what app.yml needs: "
            + ", ".join(missing + [f"event {e}" for e in missing_events]),
            f"edit Permissions & events at {app_page} to match app.yml",
        )
    if excess:
        report.add(
            "warn",
            "github app",
            "the App asks for more than app.yml needs (least privilege): " + ", ".join(excess),
            f"lower these permissions at {app_page}",
        )
    if extra_events:
        report.add(
            "warn",
            "github app",
            "the App subscribes to events codex-guard ignores: " + ", ".join(extra_events),
            f"untick them at {app_page} (each costs a delivery)",
        )
    try:
        installations = list(integration.get_installations())
    except GithubException as exc:
        report.add("error", "installations", f"GET /app/installations failed ({exc.status})")
        return
    if not installations:
        report.add(
            "warn",
            "installations",
            "the App is not installed anywhere yet",
            f"install it at {app.html_url}/installations/new",
        )
    for inst in installations:
        _check_installation(inst, report, app_yml)


def _check_installation(inst: Any, report: Report, app_yml: Path) -> None:
    account = getattr(getattr(inst, "account", None), "login", None) or str(inst.id)
    subject = f"installation {inst.id} ({account})"
    where = inst.html_url or "the installation's settings page"
    if inst.suspended_at:
        report.add(
            "error",
            subject,
            "is suspended: no events arrive and no checks are written",
            f"an owner of {account} can unsuspend it at {where}",
        )
    missing, excess, missing_events, extra_events = compare_access(
        inst.permissions or {}, inst.events or [], app_yml
    )
    if missing or missing_events:
        report.add(
            "error",
            subject,
            "lacks what codex-guard needs: "
            + ", ".join(missing + [f"event {e}" for e in missing_events]),
            f"an owner of {account} must review and accept the App's requested "
            f"permissions at {where}",
        )
    if excess:
        report.add(
            "warn",
            subject,
            "grants more than codex-guard needs (least privilege): " + ", ".join(excess),
            "lower the App's permissions to app.yml's; installations follow once accepted",
        )
    if extra_events:
        report.add(
            "warn",
            subject,
            "receives events codex-guard ignores: " + ", ".join(extra_events),
        )
    if not (missing or missing_events or excess or extra_events or inst.suspended_at):
        report.add("ok", subject, "permissions and events match app.yml")


def doctor(
    env: Mapping[str, str],
    *,
    connect: Callable[[str], redis.Redis] | None = None,
    app_yml: Path = APP_YML,
) -> Report:
    """Run every check; GitHub is only asked once the settings are right."""
    report = Report()
    settings = check_settings(env, report)
    redis_url = (
        settings.redis_url
        if settings is not None
        else env.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    )
    check_redis(
        redis_url,
        report,
        connect
        or (lambda url: redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)),
    )
    if settings is None:
        report.add("warn", "github app", "not checked until the settings above are fixed")
    else:
        check_github(settings, report, app_yml)
    return report


def register_doctor(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check settings, Redis, the App's credentials and its installations",
        description="Check every setting, Redis, the App JWT (GET /app), and each "
        "installation's permissions and events against app.yml. Exit 0 when healthy.",
    )
    parser.add_argument(
        "--env-file",
        default=".env",
        metavar="FILE",
        help="also read settings from this file when it exists; the environment wins "
        "(default: .env)",
    )
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from bot.setup_flow import read_env_file

    env: dict[str, str] = {}
    path = Path(args.env_file)
    if path.is_file():
        env.update(read_env_file(path))
        print(f"reading {path} (the environment takes precedence)")
    env.update(os.environ)
    report = doctor(env)
    sys.stdout.write(report.text())
    return EXIT_PASS if report.healthy else EXIT_FAIL


# ---------------------------------------------------------------- wiring


def register(subparsers: Subparsers) -> None:
    """Add ``audit``, ``report`` and ``doctor`` (for ``bot.cli.SUBCOMMAND_MODULES``)."""
    register_audit(subparsers)
    register_report(subparsers)
    register_doctor(subparsers)
