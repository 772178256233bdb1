"""The doctor's verdict, and its checks that need no GitHub: the settings and Redis."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import redis


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
    from bot.runtime.settings import SettingsError, load_settings

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
