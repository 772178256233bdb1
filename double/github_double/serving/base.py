"""What every request-handling mixin shares: addresses, records and GitHub's error body."""

from __future__ import annotations

import threading
from typing import Any

from github_double.serving.records import Fault, RequestRecord, Tamper
from github_double.state import World

API_PREFIX = "/api/v3"
REASONS = {
    400: "Bad Request",
    401: "Requires authentication",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Validation Failed",
    429: "Too Many Requests",
    500: "Server Error",
    502: "Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class DoubleBase:
    """The attributes `GitHubDouble.__init__` sets, and what follows from them."""

    world: World
    public_key: bytes
    host: str
    port: int
    requests: list[RequestRecord]
    violations: list[str]
    _faults: list[Fault]
    _tampers: list[Tamper]
    _records_lock: threading.Lock

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def blob_url(self) -> str:
        """Where artifact downloads redirect: the double under another loopback name.

        GitHub redirects to blob storage on another host (`*.blob.core.windows.net`), so
        clients drop the token there, and PyGithub's own 302 following refuses to go: an app
        must take the `Location` and fetch it itself, against the double as against GitHub.
        """
        alias = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(self.host, self.host)
        return f"http://{alias}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.web_url}{API_PREFIX}"

    @property
    def app_id(self) -> int:
        return self.world.app.id

    def _error_body(
        self, status: int, message: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": message or REASONS.get(status, "Error"),
            "documentation_url": f"{self.web_url}/docs/rest",
            "status": str(status),
        }
        if errors:
            body["errors"] = errors
        return body
