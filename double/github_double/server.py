"""`GitHubDouble`: a loopback HTTP server that behaves like GitHub's REST API for the bot.

PyGithub reaches it through `base_url` exactly as it would reach GitHub Enterprise Server.
Every request and response is checked against GitHub's OpenAPI description; mismatches
land in `violations` instead of passing silently, and tests can inject faults, tamper with
responses and count calls. Run standalone with `python -m github_double.server`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request

from github_double.serving.base import API_PREFIX
from github_double.serving.blobs import Blobs
from github_double.serving.control import Control
from github_double.serving.dispatch import Dispatch
from github_double.serving.records import Fault, RequestRecord, Tamper
from github_double.state import World

__all__ = ["API_PREFIX", "Fault", "GitHubDouble", "RequestRecord", "Tamper", "main"]

log = logging.getLogger(__name__)

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
    "add_review",
    "comments",
    "add_check_run",
    "check_runs",
    "add_workflow_run",
    "workflow_runs",
    "add_artifact",
    "artifacts",
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


class _QuietHandler(WSGIRequestHandler):
    """Request handler without per-request access log lines (tests make thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class GitHubDouble(Dispatch, Control, Blobs):
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

    def __getattr__(self, name: str) -> Any:
        if name in _WORLD_API:
            return getattr(self.world, name)
        raise AttributeError(name)

    # -- WSGI -----------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        if request.path.startswith("/_double/"):
            response = self._control(request)
        elif request.path.startswith("/_blobs/"):
            response = self._blob(request)
        else:
            response = self._serve(request)
        return response(environ, start_response)


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
