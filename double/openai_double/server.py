"""`OpenAIDouble`: a loopback HTTP server that answers like OpenAI's organisation Usage and
Costs APIs, for codex-guard's org-spend job and its tests.

It serves daily buckets of seeded results from `start_time` to `end_time`, `limit` (or
`page_size`) buckets a page, with `has_more`/`next_page` and `page`, grouped by the
`group_by` fields asked for; it checks the Admin key as a bearer token, refuses
parameters the API does not document (400, with OpenAI's error body), and records every
request. Tests can force the next N answers: a 429 with `retry-after`, a 401/403/5xx,
or any body at all (malformed JSON). Shapes: see `openai_double.shapes`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from openai_double.shapes import (
    COSTS_PATH,
    DEFAULT_LIMIT,
    ENDPOINTS,
    USAGE_PATH,
    Endpoint,
    check_result,
    error_body,
    grouped,
)

DEFAULT_KEY = "sk-admin-double-0123456789abcdef"
DAY = 86400


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    authorized: bool
    status: int


@dataclass
class Forced:
    """An answer given instead of the real one, `times` more times."""

    times: int
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    after: int = 0
    """Real answers to let through first (to break, say, the second page only)."""


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param  # the `param` of OpenAI's error body


def _json(data: Any) -> bytes:
    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)  # the API sends amounts as JSON numbers
        raise TypeError(type(value).__name__)

    return json.dumps(data, default=default).encode()


class OpenAIDouble:
    """The two endpoints for one organisation and one Admin key, in a daemon thread."""

    def __init__(
        self,
        admin_key: str = DEFAULT_KEY,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        page_size: int | None = None,
    ) -> None:
        self.admin_key = admin_key
        self.host, self.port = host, port
        self.page_size = page_size
        self.requests: list[RecordedRequest] = []
        self._seeded: dict[str, dict[date, list[dict[str, Any]]]] = {
            path: defaultdict(list) for path in ENDPOINTS
        }
        self._forced: list[Forced] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def seed_usage(self, day: date, *results: dict[str, Any]) -> None:
        """Add `UsageCompletionsResult`s (see `shapes.completions_result`) to a UTC day."""
        self._seed(USAGE_PATH, day, results)

    def seed_costs(self, day: date, *results: dict[str, Any]) -> None:
        """Add `CostsResult`s (see `shapes.costs_result`) to a UTC day."""
        self._seed(COSTS_PATH, day, results)

    def _seed(self, path: str, day: date, results: tuple[dict[str, Any], ...]) -> None:
        for result in results:
            check_result(ENDPOINTS[path], result)
        with self._lock:
            self._seeded[path][day].extend(results)

    def clear(self) -> None:
        """Forget every seeded result."""
        with self._lock:
            for seeded in self._seeded.values():
                seeded.clear()

    def fail_next(
        self, times: int, status: int = 429, retry_after: int | None = 1, *, after: int = 0
    ) -> None:
        """The next `times` requests (after `after` real answers) get `status` with OpenAI's
        error body (and, for a 429, a `retry-after` header of that many seconds)."""
        kinds = {401: "invalid_request_error", 403: "invalid_request_error", 429: "requests"}
        body = _json(error_body(f"forced {status}", kinds.get(status, "server_error")))
        headers = {"retry-after": str(retry_after)} if status == 429 and retry_after else {}
        with self._lock:
            self._forced.append(Forced(times, status, body, headers, after))

    def answer_next(self, times: int, body: bytes, status: int = 200, *, after: int = 0) -> None:
        """The next `times` requests (after `after` real ones) get exactly `body`."""
        with self._lock:
            self._forced.append(Forced(times, status, body, after=after))

    def calls(self, path: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> OpenAIDouble:
        if self._server is None:
            self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
            self._server.daemon_threads = True
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, args=(0.02,), name="openai-double", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> OpenAIDouble:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(
        self, method: str, target: str, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        authorized = headers.get("authorization", "") == f"Bearer {self.admin_key}"
        status, body, extra = self._answer(method, parts.path, query, headers, authorized)
        with self._lock:
            self.requests.append(RecordedRequest(method, parts.path, query, authorized, status))
        return status, body, extra

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        authorized: bool,
    ) -> tuple[int, bytes, dict[str, str]]:
        endpoint = ENDPOINTS.get(path)
        if endpoint is None:
            return 404, _json(error_body(f"Invalid URL (GET {path})", "invalid_request_error")), {}
        if method != "GET":
            return 405, _json(error_body(f"{method} is not allowed", "invalid_request_error")), {}
        if not authorized:
            given = headers.get("authorization", "").removeprefix("Bearer ")
            shown = f"{given[:8]}***{given[-4:]}" if len(given) > 12 else "***"
            message = f"Incorrect API key provided: {shown}."
            return 401, _json(error_body(message, "invalid_request_error", "invalid_api_key")), {}
        with self._lock:
            forced = next((f for f in self._forced if f.times > 0), None)
            if forced is not None and forced.after > 0:
                forced.after -= 1
            elif forced is not None:
                forced.times -= 1
                return forced.status, forced.body, dict(forced.headers)
        try:
            return 200, _json(self._page(endpoint, query)), {}
        except _BadRequest as exc:
            body = error_body(str(exc), "invalid_request_error", param=exc.param)
            return 400, _json(body), {}

    def _page(self, endpoint: Endpoint, query: dict[str, list[str]]) -> dict[str, Any]:
        params = {name.removesuffix("[]"): values for name, values in query.items()}
        for name in params:
            if name not in endpoint.params:
                raise _BadRequest(f"Unknown parameter: '{name}'.", name)
        start = _int(params, "start_time", None)
        end = _int(params, "end_time", (datetime.now(UTC).timestamp() // DAY + 1) * DAY)
        if end <= start:
            raise _BadRequest("end_time must be after start_time", "end_time")
        if params.get("bucket_width", ["1d"]) != ["1d"]:
            raise _BadRequest("this double serves bucket_width=1d only", "bucket_width")
        group_by = params.get("group_by", [])
        for name in group_by:
            if name not in endpoint.groups:
                raise _BadRequest(f"Invalid group_by value: '{name}'.", "group_by")
        limit = _int(params, "limit", DEFAULT_LIMIT)
        if not 1 <= limit <= endpoint.max_limit:
            raise _BadRequest(f"limit must be between 1 and {endpoint.max_limit}", "limit")
        offset = _cursor(params.get("page", [None])[-1])
        starts = list(range(start, end, DAY))
        size = min(limit, self.page_size or limit)
        chosen = starts[offset : offset + size]
        with self._lock:
            seeded = self._seeded[endpoint.path]
            days = {s: list(seeded.get(datetime.fromtimestamp(s, UTC).date(), [])) for s in chosen}
        data = [
            {
                "object": "bucket",
                "start_time": s,
                "end_time": min(s + DAY, end),
                "results": grouped(endpoint, days[s], group_by),
            }
            for s in chosen
        ]
        more = offset + size < len(starts)
        token = "page_" + base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return {
            "object": "page",
            "data": data,
            "has_more": more,
            "next_page": token if more else None,
        }


def _int(params: dict[str, list[str]], name: str, default: float | None) -> int:
    values = params.get(name)
    if not values:
        if default is None:
            raise _BadRequest(f"Missing required parameter: '{name}'.", name)
        return int(default)
    try:
        return int(values[-1])
    except ValueError:
        raise _BadRequest(f"Invalid '{name}': expected an integer.", name) from None


def _cursor(page: str | None) -> int:
    if page is None:
        return 0
    try:
        return int(base64.urlsafe_b64decode(page.removeprefix("page_").encode()).decode())
    except ValueError:
        raise _BadRequest("Invalid page cursor.", "page") from None


def _handler(double: OpenAIDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body, extra = double.answer(self.command, self.path, headers)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return  # tests make many requests; the recorded ones are in `double.requests`

    return Handler
