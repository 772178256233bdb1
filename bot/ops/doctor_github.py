"""The doctor's GitHub checks: the App JWT, then what the App and each installation
are granted, against what ``app.yml`` asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.ops.doctor_checks import Report

APP_YML = Path(__file__).resolve().parents[2] / "app.yml"
_LEVELS = ("none", "read", "write", "admin")


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
