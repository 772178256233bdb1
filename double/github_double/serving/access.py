"""Who may call an operation, and which rate-limit bucket a caller counts against."""

from __future__ import annotations

from github_double.auth import Caller
from github_double.endpoints import Reply
from github_double.openapi_check import Operation
from github_double.serving.base import DoubleBase


def _auth_rule(template: str) -> str:
    """Which credential an operation needs: none, optional, jwt or token (as on GitHub)."""
    if template.startswith("/app-manifests/"):
        return "none"
    if template.startswith("/app") or template == "/repos/{owner}/{repo}/installation":
        return "jwt"
    if template in ("/rate_limit", "/users/{username}"):
        return "optional"
    return "token"


# Installation-token permissions, by path prefix: (prefix, permission name). A token that
# lacks one gets GitHub's 403. Only Actions is enforced so far: the other endpoints check
# repository access alone.
_PERMISSIONS = (("/repos/{owner}/{repo}/actions/", "actions"),)
_LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}


def required_permission(op: Operation) -> tuple[str, str] | None:
    """(permission, level) an installation token needs for `op`, if the double enforces one."""
    for prefix, name in _PERMISSIONS:
        if op.template.startswith(prefix):
            return name, "read" if op.method in ("GET", "HEAD") else "write"
    return None


class Access(DoubleBase):
    """Auth rules and rate-limit buckets of the double."""

    def _authorize(self, op: Operation, params: dict[str, str], caller: Caller) -> Reply | None:
        with self.world.lock:
            return self._authorize_locked(op, params, caller)

    def _authorize_locked(
        self, op: Operation, params: dict[str, str], caller: Caller
    ) -> Reply | None:
        rule = _auth_rule(op.template)
        if caller.kind == "invalid" and rule != "none":
            return Reply(401, self._error_body(401, caller.reason or "Bad credentials"))
        if rule == "jwt" and caller.kind != "jwt":
            return Reply(
                401,
                self._error_body(
                    401,
                    "A JSON web token could not be decoded"
                    if caller.kind == "token"
                    else "Requires authentication",
                ),
            )
        if rule == "token" and caller.kind != "token":
            return Reply(
                401,
                self._error_body(
                    401,
                    "Apps must use an installation access token for this endpoint"
                    if caller.kind == "jwt"
                    else "Requires authentication",
                ),
            )
        if "owner" in params and "repo" in params:
            full = f"{params['owner']}/{params['repo']}"
            if full.lower() not in self.world.repos:
                return Reply(404, self._error_body(404))
            if caller.token is not None:
                inst = self.world.installations.get(caller.token.installation_id)
                allowed = (
                    caller.token.repositories
                    if caller.token.repositories is not None
                    else (inst.repos if inst else [])
                )
                if full.lower() not in {r.lower() for r in allowed}:
                    return Reply(404, self._error_body(404))
        needed = required_permission(op)
        if needed is not None and caller.token is not None:
            name, level = needed
            granted = caller.token.permissions.get(name, "none")
            if _LEVELS.get(granted, 0) < _LEVELS[level]:
                return Reply(
                    403,
                    self._error_body(403, "Resource not accessible by integration"),
                    {"X-Accepted-GitHub-Permissions": f"{name}={level}"},
                )
        return None

    def _bucket(self, caller: Caller) -> str:
        if caller.installation_id is not None:
            return f"installation:{caller.installation_id}"
        if caller.kind == "jwt":
            return f"app:{self.world.app.id}"
        return "anonymous"
