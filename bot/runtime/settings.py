"""Settings from the environment only, with Probot's names.

A deployer's mistake must surface as one line naming the variable at start,
not a traceback later in a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from cryptography.hazmat.primitives.serialization import load_pem_private_key

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_OWNER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$")


class SettingsError(ValueError):
    """A setting that is missing or malformed; ``str()`` is the one line to print."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"codex-guard: {variable} {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Settings:
    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    webhook_secret_previous: str | None = field(default=None, repr=False)
    redis_url: str = "redis://localhost:6379/0"
    github_api_url: str = "https://api.github.com"
    webhook_path: str = "/api/github/webhooks"
    port: int = 3000
    log_level: str = "INFO"
    log_format: str = "json"
    allowed_owners: frozenset[str] = frozenset()
    allowed_repos: frozenset[str] = frozenset()
    seconds_between_requests: float = 0.0
    # PyGithub's own per-client pause; off by default: writes are paced per installation
    # across processes instead (`bot.github.pacing`), within these two limits.
    seconds_between_writes: float = 0.0
    writes_per_minute: int = 80
    writes_per_hour: int = 500
    github_timeout: int = 15
    metrics_token: str | None = field(default=None, repr=False)
    body_timeout: float = 10.0
    # The OpenAI organisation's Admin key (org spend, issue 13); None turns that job off.
    openai_admin_key: str | None = field(default=None, repr=False)
    openai_api_base: str = "https://api.openai.com"

    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets a delivery may be signed with (two during a rotation)."""
        if self.webhook_secret_previous:
            return (self.webhook_secret, self.webhook_secret_previous)
        return (self.webhook_secret,)

    def allows(self, repo_full_name: str) -> bool:
        """The operator's allowlist; empty lists allow everything."""
        if not self.allowed_owners and not self.allowed_repos:
            return True
        lowered = repo_full_name.lower()
        owner = lowered.split("/", 1)[0]
        return owner in self.allowed_owners or lowered in self.allowed_repos


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(name, "is not set")
    return value


def _private_key(env: Mapping[str, str]) -> str:
    inline = env.get("PRIVATE_KEY", "").strip()
    path = env.get("PRIVATE_KEY_PATH", "").strip()
    if inline:
        name, text = "PRIVATE_KEY", inline.replace("\\n", "\n")
    elif path:
        name = "PRIVATE_KEY_PATH"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(name, f"cannot be read ({exc.strerror or 'unreadable'})") from None
    else:
        raise SettingsError("PRIVATE_KEY", "is not set (nor PRIVATE_KEY_PATH)")
    try:
        load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(name, "is not a PEM private key") from None
    return text


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        raise SettingsError(name, f"must be a {' or '.join(schemes)} URL, got {value!r}")
    return value.rstrip("/")


def _number(env: Mapping[str, str], name: str, default: float, cast: type) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise SettingsError(name, f"must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(name, f"must not be negative, got {raw!r}")
    return value


def _names(env: Mapping[str, str], name: str, with_repo: bool) -> frozenset[str]:
    raw = env.get(name, "")
    names = frozenset(p.strip().lower() for p in raw.replace(" ", ",").split(",") if p.strip())
    for item in names:
        parts = item.split("/")
        ok = (len(parts) == 2 and all(parts)) if with_repo else bool(_OWNER_RE.match(item))
        if not ok:
            expected = "owner/repo" if with_repo else "an owner login"
            raise SettingsError(name, f"has {item!r}, expected {expected} entries")
    return names


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raises SettingsError on the first bad one."""
    env = os.environ if env is None else env
    app_id_raw = _required(env, "APP_ID")
    if not app_id_raw.isdigit():
        raise SettingsError("APP_ID", f"must be the App's numeric ID, got {app_id_raw!r}")
    private_key = _private_key(env)
    secret = _required(env, "WEBHOOK_SECRET")
    path = env.get("WEBHOOK_PATH", "").strip() or "/api/github/webhooks"
    if not path.startswith("/"):
        raise SettingsError("WEBHOOK_PATH", f"must start with '/', got {path!r}")
    port = int(_number(env, "PORT", 3000, int))
    if not 0 < port < 65536:
        raise SettingsError("PORT", f"must be a TCP port number, got {port}")
    level = (env.get("LOG_LEVEL", "").strip() or "INFO").upper()
    if level not in _LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"must be one of {', '.join(_LOG_LEVELS)}")
    log_format = env.get("LOG_FORMAT", "").strip().lower() or "json"
    if log_format not in ("json", "text"):
        raise SettingsError("LOG_FORMAT", "must be json or text")
    return Settings(
        app_id=int(app_id_raw),
        private_key=private_key,
        webhook_secret=secret,
        webhook_secret_previous=env.get("WEBHOOK_SECRET_PREVIOUS", "").strip() or None,
        redis_url=_url(env, "REDIS_URL", "redis://localhost:6379/0", ("redis", "rediss", "unix")),
        github_api_url=_url(env, "GITHUB_API_URL", "https://api.github.com", ("https", "http")),
        webhook_path=path,
        port=port,
        log_level=level,
        log_format=log_format,
        allowed_owners=_names(env, "ALLOWED_OWNERS", with_repo=False),
        allowed_repos=_names(env, "ALLOWED_REPOS", with_repo=True),
        seconds_between_requests=_number(env, "GITHUB_SECONDS_BETWEEN_REQUESTS", 0.0, float),
        seconds_between_writes=_number(env, "GITHUB_SECONDS_BETWEEN_WRITES", 0.0, float),
        writes_per_minute=int(_number(env, "GITHUB_WRITES_PER_MINUTE", 80, int)),
        writes_per_hour=int(_number(env, "GITHUB_WRITES_PER_HOUR", 500, int)),
        github_timeout=int(_number(env, "GITHUB_TIMEOUT_SECONDS", 15, int)) or 15,
        metrics_token=_metrics_token(env),
        body_timeout=_body_timeout(env),
        openai_admin_key=_openai_admin_key(env),
        openai_api_base=_openai_api_base(env),
    )


def _body_timeout(env: Mapping[str, str]) -> float:
    """GitHub gives up on a delivery after 10 s, so a body still arriving later is not one."""
    value = _number(env, "BODY_TIMEOUT_SECONDS", 10.0, float)
    if not 0 < value <= 60:
        problem = f"must be more than 0 and at most 60, got {value:g}"
        raise SettingsError("BODY_TIMEOUT_SECONDS", problem)
    return value


def _metrics_token(env: Mapping[str, str]) -> str | None:
    token = env.get("METRICS_TOKEN", "").strip()
    if token and len(token) < 16:
        raise SettingsError("METRICS_TOKEN", "must be at least 16 characters (or unset: off)")
    return token or None


def _openai_admin_key(env: Mapping[str, str]) -> str | None:
    """The key goes into an HTTP header: refuse one that could break it (never echo it)."""
    key = env.get("OPENAI_ADMIN_KEY", "").strip()
    if key and (any(c.isspace() for c in key) or not key.isprintable() or not key.isascii()):
        raise SettingsError("OPENAI_ADMIN_KEY", "must be one line of printable ASCII (or unset)")
    return key or None


def _openai_api_base(env: Mapping[str, str]) -> str:
    """Without `/v1`: the client adds it, and a base copied with it still works."""
    base = _url(env, "OPENAI_API_BASE", "https://api.openai.com", ("https", "http"))
    return base.removesuffix("/v1")


DEFAULT_WINDOW_SECONDS = 1.0


def window_from_env(env: Mapping[str, str] | None = None) -> float:
    """``COALESCE_SECONDS`` (default 1.0; 0 turns coalescing off). ValueError if malformed."""
    raw = str((os.environ if env is None else env).get("COALESCE_SECONDS", "")).strip()
    if not raw:
        return DEFAULT_WINDOW_SECONDS
    value = float(raw)
    if not value >= 0 or value > 3600:
        raise ValueError(f"COALESCE_SECONDS must be between 0 and 3600, got {raw!r}")
    return value
