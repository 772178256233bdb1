"""GitHub-style authentication: App JWTs (RS256) and installation tokens.

The double enforces the same rules GitHub documents for App JWTs (issuer, at most ten
minutes of validity, small clock drift) so that clock or signing bugs in the app fail here
the way they would fail against api.github.com.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from github_double.models import Token
from github_double.state import World

MAX_JWT_LIFETIME = 600
CLOCK_DRIFT = 60


@dataclass(frozen=True)
class Caller:
    """Who sent a request: kind is none, jwt, token or invalid (with the reason)."""

    kind: str
    token: Token | None = None
    reason: str = ""

    @property
    def installation_id(self) -> int | None:
        return self.token.installation_id if self.token else None


def verify_app_jwt(raw: str, app_id: int, public_key: bytes, now: float | None = None) -> str:
    """Return "" when the JWT is acceptable for the App, else GitHub-like reason text."""
    now = time.time() if now is None else now
    try:
        claims = jwt.decode(
            raw,
            public_key,
            algorithms=["RS256"],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_aud": False,
                "require": ["iat", "exp", "iss"],
            },
        )
    except jwt.PyJWTError as exc:
        return f"A JSON web token could not be decoded ({type(exc).__name__})"
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        return "'Issued at' and 'Expiration time' claims must be numbers"
    if str(claims.get("iss")) != str(app_id):
        return "'Issuer' claim ('iss') must be the App's id"
    if iat > now + CLOCK_DRIFT:
        return "'Issued at' claim ('iat') must be an Integer representing a time in the past."
    if exp - iat > MAX_JWT_LIFETIME:
        return "'Expiration time' claim ('exp') is too far in the future"
    if exp <= now:
        return (
            "'Expiration time' claim ('exp') must be a numeric value representing the future time"
        )
    return ""


def identify(header: str | None, world: World, public_key: bytes) -> Caller:
    """Classify the Authorization header of a request."""
    if not header:
        return Caller("none")
    scheme, _, value = header.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme not in ("bearer", "token") or not value:
        return Caller("invalid", reason="Bad credentials")
    if value.startswith(("ghs_", "ghp_", "gho_", "ghu_", "github_pat_")):
        token = world.live_token(value)
        if token is None:
            return Caller("invalid", reason="Bad credentials")
        return Caller("token", token=token)
    if value.count(".") == 2:
        reason = verify_app_jwt(value, world.app.id, public_key)
        return Caller("invalid", reason=reason) if reason else Caller("jwt")
    return Caller("invalid", reason="Bad credentials")
