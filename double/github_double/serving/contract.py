"""Answering a request: every response is checked against the spec before it is sent."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Response

from github_double.endpoints import Reply
from github_double.openapi_check import Operation, check_response
from github_double.serving.base import API_PREFIX
from github_double.serving.recorder import Recorder

# Keys whose URL values come from the app or the webhook config, not from GitHub's hosts.
_FOREIGN_URL_KEYS = {"details_url", "target_url"}


def _foreign_urls(value: Any, host: str, port: int, key: str = "") -> list[tuple[str, str]]:
    """(key, url) pairs of URL fields in `value` that do not point at host:port."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_foreign_urls(v, host, port, k))
    elif isinstance(value, list):
        for item in value:
            found.extend(_foreign_urls(item, host, port, key))
    elif (
        isinstance(value, str)
        and "://" in value
        and key not in _FOREIGN_URL_KEYS
        and (key in ("url", "href") or key.endswith("_url"))
    ):
        parts = urlsplit(value.split("{", 1)[0])
        if parts.hostname != host or parts.port != port:
            found.append((key, value))
    return found


class Contract(Recorder):
    """Builds the HTTP response and checks it against the spec."""

    def _respond(
        self,
        method: str,
        path: str,
        op: Operation | None,
        params: dict[str, str],
        reply: Reply,
        origin: str,
    ) -> Response:
        api_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
        body = reply.body
        if op is not None and body is not None:
            hook = self._take_tamper(method, api_path)
            if hook is not None:
                body = hook.mutate(body)
        data = b"" if body is None or reply.status == 204 else json.dumps(body).encode()
        content_type = "application/json; charset=utf-8"
        if op is not None:
            self._check_reply(
                method, api_path, op, params, reply.status, body, data, origin, reply.headers
            )
        headers = {
            "X-GitHub-Request-Id": f"{secrets.token_hex(2).upper()}:{secrets.token_hex(4).upper()}",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            **reply.headers,
        }
        if not data:
            return Response(b"", status=reply.status, headers=headers)
        return Response(data, status=reply.status, headers=headers, content_type=content_type)

    def _check_reply(
        self,
        method: str,
        api_path: str,
        op: Operation,
        params: dict[str, str],
        status: int,
        body: Any,
        data: bytes,
        origin: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Response contract: documented statuses must match their schema; URLs must be ours."""
        documented = op.documents(status)
        if origin == "fault" and not documented:
            return
        if documented:
            result = check_response(
                op, api_path, params, status, data, "application/json; charset=utf-8", headers or {}
            )
            for line in result.errors:
                self._violation(method, api_path, f"response {status}: {line}")
        elif status < 400:
            self._violation(method, api_path, f"response status {status} is not documented")
        elif not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            self._violation(method, api_path, f"error response {status} lacks a message")
        location = (headers or {}).get("Location")
        if 300 <= status < 400 and location is not None:
            # A redirect (artifact downloads) must lead back to the double's blob host.
            blob = urlsplit(self.blob_url)
            if _foreign_urls({"url": location}, blob.hostname or "", blob.port or 0):
                self._violation(method, api_path, f"redirect points off the double: {location}")
        if status < 400 and not api_path.startswith("/app/hook"):
            for key, url in _foreign_urls(body, self.host, self.port):
                self._violation(
                    method, api_path, f"response field {key} points off the double: {url}"
                )
