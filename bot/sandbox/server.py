"""`GitHubDouble`: a loopback HTTP server that behaves like GitHub's REST API for the bot.

PyGithub reaches it through `base_url` exactly as it would reach GitHub Enterprise Server.
Every request and response is checked against GitHub's OpenAPI description; mismatches
land in `violations` instead of passing silently, and tests can inject faults, tamper with
responses and count calls. Run standalone with `python -m bot.sandbox.server`.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from bot.sandbox.auth import Caller, identify
from bot.sandbox.endpoints import ROUTES, ApiError, Ctx, Reply
from bot.sandbox.models import NotFound
from bot.sandbox.openapi_check import Operation, check_request, check_response, find_operation
from bot.sandbox.render import Renderer
from bot.sandbox.state import World

log = logging.getLogger(__name__)

API_PREFIX = "/api/v3"
_REASONS = {
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
_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
# Keys whose URL values come from the app or the webhook config, not from GitHub's hosts.
_FOREIGN_URL_KEYS = {"details_url", "target_url"}
# World methods the double exposes directly, so tests can write `double.put_files(...)`.
_WORLD_API = (
    "seed_from_event",
    "put_files",
    "commit_files",
    "set_branch",
    "add_pull",
    "pull",
    "add_issue",
    "add_comment",
    "comments",
    "add_check_run",
    "check_runs",
    "add_status",
    "statuses_for",
    "set_permission",
    "add_delivery",
    "add_manifest_code",
    "add_installation",
    "add_repo",
    "repo",
    "user",
    "add_team_member",
    "issue_token",
)


@dataclass
class RequestRecord:
    """One request the double answered (for counting calls per evaluation)."""

    method: str
    path: str
    template: str | None
    query: dict[str, list[str]]
    status: int
    auth: str
    installation_id: int | None
    injected: bool = False
    body: Any = None
    duration: float = 0.0


@dataclass
class Fault:
    """An injected failure or delay for the next `times` matching requests."""

    method: str
    regex: re.Pattern[str]
    status: int | None
    times: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(self.regex.search(path))


@dataclass
class Tamper:
    """A debug hook that rewrites a response body before it is checked and sent."""

    method: str
    regex: re.Pattern[str]
    mutate: Callable[[Any], Any]
    times: int


class _QuietHandler(WSGIRequestHandler):
    """Request handler without per-request access log lines (tests make thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


def _auth_rule(template: str) -> str:
    """Which credential an operation needs: none, optional, jwt or token (as on GitHub)."""
    if template.startswith("/app-manifests/"):
        return "none"
    if template.startswith("/app") or template == "/repos/{owner}/{repo}/installation":
        return "jwt"
    if template in ("/rate_limit", "/users/{username}"):
        return "optional"
    return "token"


class GitHubDouble:
    """GitHub REST API double for one App, served on loopback in a daemon thread."""

    def __init__(
        self,
        app_id: int,
        public_key_pem: str | bytes,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        app_slug: str = "codex-guard",
        rate_limit: int = 5000,
    ) -> None:
        self.world = World(app_id, app_slug=app_slug, rate_limit=rate_limit)
        self.public_key = (
            public_key_pem.encode() if isinstance(public_key_pem, str) else public_key_pem
        )
        self.host = host
        self.port = port
        self.requests: list[RequestRecord] = []
        self.violations: list[str] = []
        self._faults: list[Fault] = []
        self._tampers: list[Tamper] = []
        self._records_lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> GitHubDouble:
        if self._server is not None:
            return self
        self._server = make_server(
            self.host, self.port, self.wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        self._thread = threading.Thread(
            # A short poll interval keeps stop() fast (the default 0.5 s adds up in tests).
            target=self._server.serve_forever,
            args=(0.02,),
            name="github-double",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> GitHubDouble:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def web_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.web_url}{API_PREFIX}"

    @property
    def app_id(self) -> int:
        return self.world.app.id

    def __getattr__(self, name: str) -> Any:
        if name in _WORLD_API:
            return getattr(self.world, name)
        raise AttributeError(name)

    # -- inspection -----------------------------------------------------------------------

    def assert_clean(self) -> None:
        """Fail with every recorded contract violation (call at the end of a test)."""
        with self._records_lock:
            found = list(self.violations)
        if found:
            listing = "\n".join(f"- {v}" for v in found)
            raise AssertionError(
                f"GitHub double saw {len(found)} contract violation(s):\n{listing}"
            )

    def reset_requests(self) -> None:
        with self._records_lock:
            self.requests.clear()

    def clear_violations(self) -> None:
        with self._records_lock:
            self.violations.clear()

    def calls(
        self, method: str | None = None, path_regex: str | None = None
    ) -> list[RequestRecord]:
        """Recorded requests filtered by method and a regex searched in the API path."""
        pattern = re.compile(path_regex) if path_regex else None
        with self._records_lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper())
                and (pattern is None or pattern.search(r.path))
            ]

    def _violation(self, method: str, path: str, what: str) -> None:
        line = f"{method} {path}: {what}"
        log.warning("github double contract violation: %s", line)
        with self._records_lock:
            self.violations.append(line)

    # -- test hooks -----------------------------------------------------------------------

    def inject(
        self,
        method: str,
        path_regex: str,
        status: int | None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
    ) -> Fault:
        """Make the next `times` matching requests fail with `status` and/or wait `delay` s.

        `path_regex` is searched in the path below /api/v3. A 2xx/3xx status without a body
        only adds `headers` to the real answer; `status=None` only delays.
        """
        fault = Fault(
            method.upper(), re.compile(path_regex), status, times, dict(headers or {}), body, delay
        )
        with self._records_lock:
            self._faults.append(fault)
        return fault

    def tamper(
        self, method: str, path_regex: str, mutate: Callable[[Any], Any], times: int = 1
    ) -> None:
        """Rewrite the next matching response bodies (to prove the response check works)."""
        with self._records_lock:
            self._tampers.append(Tamper(method.upper(), re.compile(path_regex), mutate, times))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._records_lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    def _take_tamper(self, method: str, path: str) -> Tamper | None:
        with self._records_lock:
            for hook in self._tampers:
                if hook.times > 0 and hook.method in ("*", method) and hook.regex.search(path):
                    hook.times -= 1
                    return hook
        return None

    # -- WSGI -----------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_double/"):
            response = self._control(request)
        else:
            response = self._serve(request)
        return response(environ, start_response)

    def _error_body(
        self, status: int, message: str | None = None, errors: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": message or _REASONS.get(status, "Error"),
            "documentation_url": f"{self.web_url}/docs/rest",
            "status": str(status),
        }
        if errors:
            body["errors"] = errors
        return body

    def _serve(self, request: Request) -> Response:
        started = time.monotonic()
        method = request.method.upper()
        path = request.path
        query = {k: request.args.getlist(k) for k in request.args}
        raw = request.get_data()
        record = RequestRecord(method, path, None, query, 0, "none", None)
        reply, origin, op, params = self._dispatch(request, method, path, query, raw, record)
        response = self._respond(method, path, op, params, reply, origin)
        record.status = response.status_code
        record.duration = time.monotonic() - started
        with self._records_lock:
            self.requests.append(record)
        return response

    def _dispatch(
        self,
        request: Request,
        method: str,
        path: str,
        query: dict[str, list[str]],
        raw: bytes,
        record: RequestRecord,
    ) -> tuple[Reply, str, Operation | None, dict[str, str]]:
        """Route, check and answer one API request; returns (reply, origin, op, params)."""
        if not path.startswith(API_PREFIX + "/"):
            self._violation(method, path, "request outside the API prefix /api/v3")
            return Reply(404, self._error_body(404)), "route", None, {}
        api_path = path[len(API_PREFIX) :]
        record.path = api_path
        op, params, path_known = find_operation(method, api_path)
        if op is None:
            why = "method not allowed for this path" if path_known else "no such operation in spec"
            self._violation(method, api_path, f"unknown route ({why})")
            return Reply(404, self._error_body(404)), "route", None, {}
        record.template = op.template

        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self._violation(method, api_path, "request body is not valid JSON")
                return (
                    Reply(400, self._error_body(400, "Problems parsing JSON")),
                    "contract",
                    op,
                    params,
                )
        record.body = body

        result = check_request(
            op,
            api_path,
            params,
            query,
            dict(request.headers),
            raw,
            request.content_type or "application/json",
        )
        if not result.ok:
            for line in result.errors:
                self._violation(method, api_path, f"request: {line}")
            if result.path_invalid:
                return Reply(404, self._error_body(404)), "contract", op, params
            errors = [
                {"resource": op.operation_id, "code": "invalid", "message": e}
                for e in result.errors
            ]
            return (
                Reply(422, self._error_body(422, "Invalid request.", errors)),
                "contract",
                op,
                params,
            )

        fault = self._take_fault(method, api_path)
        if fault is not None:
            record.injected = True
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None and (fault.status >= 300 or fault.body is not None):
                return self._fault_reply(fault), "fault", op, params

        caller = identify(request.headers.get("Authorization"), self.world, self.public_key)
        record.auth = caller.kind
        record.installation_id = caller.installation_id
        denied = self._authorize(op, params, caller)
        if denied is not None:
            return denied, "auth", op, params

        bucket = self._bucket(caller)
        reply_headers: dict[str, str] = {}
        if op.template != "/rate_limit":
            limit, used, reset = self.world.count_request(bucket)
            reply_headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - used)),
                "X-RateLimit-Reset": str(reset),
                "X-RateLimit-Used": str(used),
                "X-RateLimit-Resource": "core",
            }
            if used > limit:
                who = (
                    f"installation ID {caller.installation_id}"
                    if caller.installation_id
                    else "this client"
                )
                reply = Reply(
                    403, self._error_body(403, f"API rate limit exceeded for {who}."), reply_headers
                )
                return reply, "rate", op, params

        reply = self._run_handler(op, params, query, body, caller, api_path, bucket, method)
        reply.headers = {**reply_headers, **reply.headers}
        if fault is not None and fault.headers:
            reply.headers.update(fault.headers)
        return reply, "handler", op, params

    def _fault_reply(self, fault: Fault) -> Reply:
        status = fault.status or 500
        body = fault.body
        if body is None:
            message = _REASONS.get(status, "Error")
            if status in (403, 429):
                message = _SECONDARY
                if fault.headers.get("X-RateLimit-Remaining") == "0":
                    message = "API rate limit exceeded."
            body = self._error_body(status, message)
        return Reply(status, body, dict(fault.headers))

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
        return None

    def _bucket(self, caller: Caller) -> str:
        if caller.installation_id is not None:
            return f"installation:{caller.installation_id}"
        if caller.kind == "jwt":
            return f"app:{self.world.app.id}"
        return "anonymous"

    def _run_handler(
        self,
        op: Operation,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        caller: Caller,
        api_path: str,
        bucket: str,
        method: str,
    ) -> Reply:
        handler = ROUTES.get((op.method, op.template))
        if handler is None:
            self._violation(method, api_path, f"{op.operation_id} is not implemented by the double")
            return Reply(501, self._error_body(501, "Not implemented by the GitHub double"))
        ctx = Ctx(
            world=self.world,
            render=Renderer(self.world, self.base_url, self.web_url),
            op=op,
            params=params,
            query=query,
            body=body,
            caller=caller,
            api_path=api_path,
            api_base=self.base_url,
            bucket=bucket,
        )
        try:
            with self.world.lock:
                reply = handler(ctx)
        except ApiError as exc:
            if exc.violation:
                self._violation(method, api_path, f"rejected like GitHub: {exc.violation}")
            reply = Reply(exc.status, self._error_body(exc.status, exc.message, exc.errors))
        except NotFound:
            reply = Reply(404, self._error_body(404))
        except Exception as exc:  # a bug in the double must be loud, not a silent 500
            log.exception("github double handler crashed")
            tail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self._violation(method, api_path, f"double crashed: {tail}")
            reply = Reply(500, self._error_body(500))
        reply.headers.update(ctx.headers)
        return reply

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
            self._check_reply(method, api_path, op, params, reply.status, body, data, origin)
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
    ) -> None:
        """Response contract: documented statuses must match their schema; URLs must be ours."""
        documented = op.documents(status)
        if origin == "fault" and not documented:
            return
        if documented:
            result = check_response(
                op, api_path, params, status, data, "application/json; charset=utf-8", {}
            )
            for line in result.errors:
                self._violation(method, api_path, f"response {status}: {line}")
        elif status < 400:
            self._violation(method, api_path, f"response status {status} is not documented")
        elif not (isinstance(body, dict) and isinstance(body.get("message"), str)):
            self._violation(method, api_path, f"error response {status} lacks a message")
        if status < 400 and not api_path.startswith("/app/hook"):
            for key, url in _foreign_urls(body, self.host, self.port):
                self._violation(
                    method, api_path, f"response field {key} points off the double: {url}"
                )

    # -- control endpoints for the sandbox demo ---------------------------------------------

    def _control(self, request: Request) -> Response:
        """Tiny non-GitHub API for seeding/inspecting a double running in another process."""
        action = request.path.removeprefix("/_double/")
        payload = request.get_json(silent=True) or {}
        if request.method == "GET" and action == "violations":
            out: Any = list(self.violations)
        elif request.method == "GET" and action == "requests":
            out = [asdict(r) for r in self.calls()]
        elif request.method == "POST" and action == "events":
            out = asdict(self.world.seed_from_event(payload))
        elif request.method == "POST" and action == "files":
            commit = self.world.put_files(
                payload["repo"],
                payload["sha"],
                payload["files"],
                base=payload.get("base"),
                branch=payload.get("branch"),
            )
            out = {"sha": commit.sha, "files": sorted(commit.files)}
        else:
            return Response(
                json.dumps({"message": "Not Found"}), status=404, content_type="application/json"
            )
        return Response(json.dumps(out), content_type="application/json")


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


def main(argv: list[str] | None = None) -> int:
    """Serve a double until interrupted (used by the sandbox demo)."""
    parser = argparse.ArgumentParser(description="GitHub REST API double for codex-guard")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--app-id", type=int, required=True)
    parser.add_argument("--app-slug", default="codex-guard")
    parser.add_argument("--public-key", type=Path, required=True, help="PEM file of the App key")
    parser.add_argument(
        "--seed-event",
        type=Path,
        action="append",
        default=[],
        help="webhook payload JSON file to seed the world from (repeatable)",
    )
    parser.add_argument("--rate-limit", type=int, default=5000)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    double = GitHubDouble(
        args.app_id,
        args.public_key.read_bytes(),
        args.host,
        args.port,
        app_slug=args.app_slug,
        rate_limit=args.rate_limit,
    )
    for path in args.seed_event:
        seeded = double.world.seed_from_event(json.loads(path.read_text(encoding="utf-8")))
        log.info("seeded %s", seeded)
    double.start()
    print(f"GitHub double listening on {double.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        double.stop()
        if double.violations:
            print("\n".join(double.violations), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
