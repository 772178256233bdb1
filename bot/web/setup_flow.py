"""Registering the GitHub App in a few clicks: GitHub's App manifest flow, as Probot offers it.

``GET /setup`` shows a form that posts ``app.yml`` as a manifest to GitHub;
GitHub creates the App and redirects to ``/setup/callback?code=...&state=...``,
where the code is exchanged for the App's credentials, which are written to
``.env``. The state nonce travels in a cookie, not in server memory, so the
flow works whichever gunicorn worker answers each step. Once ``APP_ID`` is
set the pages answer 404: nobody can re-register a configured deployment.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import threading
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from flask import Blueprint, Response, abort, request, url_for
from werkzeug.serving import WSGIRequestHandler

from bot.web.app_manifest import APP_YML, build_manifest, convert_code, credentials, http_url
from bot.web.env_file import is_configured, update_env_file
from bot.web.setup_pages import page, register_page, registered_page

log = logging.getLogger("codex_guard.setup")

STATE_COOKIE = "codex_guard_setup_state"
TOKEN_COOKIE = "codex_guard_setup_token"  # noqa: S105 - a cookie name
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_WEBHOOK_PATH = "/api/github/webhooks"

_ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,33}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")

_write_lock = threading.Lock()


def setup_blueprint(
    env_path: Path,
    github_url: str,
    api_url: str,
    *,
    webhook_path: str = DEFAULT_WEBHOOK_PATH,
    app_yml: Path = APP_YML,
    environ: Mapping[str, str] | None = None,
    token: str,
    public_url: str | None = None,
) -> Blueprint:
    """``/setup`` and ``/setup/callback``; both 404 once the App is configured.

    ``github_url`` is where people register apps (``https://github.com`` or
    ``https://HOST`` for Enterprise Server); ``api_url`` is the REST API base.
    """
    github_url = github_url.rstrip("/")
    api_url = api_url.rstrip("/")
    blueprint = Blueprint("codex_guard_setup", __name__)

    allowed_hosts = set(LOOPBACK_HOSTS)
    if public_url:
        allowed_hosts.add((urlsplit(public_url).hostname or "").lower())

    def guard() -> None:
        if is_configured(env_path, environ):
            abort(404)
        # A DNS-rebinding page reaches a loopback server under its own host name; only
        # loopback names and the configured public URL are answered.
        if (request.host.rsplit(":", 1)[0].strip("[]").lower()) not in allowed_hosts:
            abort(421)
        # The one-time token printed in the terminal: in the first link, then a cookie.
        given = request.args.get("token") or request.cookies.get(TOKEN_COOKIE, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            abort(403)

    @blueprint.after_app_request
    def remember_token(response: Response) -> Response:
        if request.path.startswith("/setup") and request.args.get("token") == token:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Lax")
        return response

    @blueprint.get("/setup")
    def setup() -> Response:
        guard()
        org = request.args.get("org", "").strip()
        name = request.args.get("name", "").strip()
        root = public_url.rstrip("/") if public_url else request.url_root.rstrip("/")
        default_hook = root + webhook_path
        webhook_url = request.args.get("webhook_url", "").strip() or default_hook
        problems = []
        if org and not _ORG_RE.match(org):
            problems.append("That is not an organisation login (letters, digits and hyphens).")
            org = ""
        if name and not _NAME_RE.match(name):
            problems.append("An App name is 1 to 34 letters, digits, spaces, dots or hyphens.")
            name = ""
        if not http_url(webhook_url):
            problems.append("The webhook URL must be an http:// or https:// URL.")
            webhook_url = default_hook
        redirect_url = url_for(".callback", _external=True)
        manifest = build_manifest(webhook_url, redirect_url, name or None, app_yml)
        state = secrets.token_urlsafe(24)
        where = f"/organizations/{quote(org)}" if org else ""
        action = f"{github_url}{where}/settings/apps/new?state={quote(state)}"
        response = register_page(
            problems=problems,
            manifest=manifest,
            org=org,
            action=action,
            webhook_url=webhook_url,
            env_path=env_path,
            github_url=github_url,
        )
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=3600,
            path="/setup",
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
        return response

    @blueprint.get("/setup/callback")
    def callback() -> Response:
        guard()
        code = request.args.get("code", "")
        state = request.args.get("state", "")
        expected = request.cookies.get(STATE_COOKIE, "")
        if not expected or not state or not hmac.compare_digest(state, expected):
            log.warning("setup callback refused: state does not match")
            return page(
                "Setup link expired",
                "<p>This answer from GitHub does not match a registration started in this "
                'browser (or it is over an hour old). <a href="/setup">Start again</a>.</p>',
                status=400,
            )
        if not _CODE_RE.match(code):
            return page("Setup failed", "<p>GitHub sent no usable code.</p>", status=400)
        try:
            answer = convert_code(api_url, code)
        except requests.RequestException as exc:
            log.error("could not reach GitHub to finish setup: %s", type(exc).__name__)
            return page(
                "Setup failed",
                f"<p>Could not reach {escape(api_url)}. Check the network and "
                '<a href="/setup">start again</a>.</p>',
                status=502,
            )
        if answer.status_code != 201:
            log.warning("manifest conversion answered %s", answer.status_code)
            why = (
                "The code has expired or was already used (codes last one hour)."
                if answer.status_code == 404
                else f"GitHub answered {answer.status_code}."
            )
            return page(
                "Setup failed",
                f'<p>{escape(why)} <a href="/setup">Start again</a>.</p>',
                status=502,
            )
        try:
            app = answer.json()
            values = credentials(app)
        except (ValueError, KeyError, TypeError):
            log.error("manifest conversion answer lacks the App's credentials")
            return page("Setup failed", "<p>GitHub's answer was incomplete.</p>", status=502)
        with _write_lock:
            if is_configured(env_path, environ):
                abort(404)
            update_env_file(env_path, values)
        log.info(
            "registered GitHub App %s (id %s); credentials written to %s",
            app.get("slug"),
            values["APP_ID"],
            env_path,
        )
        response = registered_page(app, values["APP_ID"], env_path)
        response.delete_cookie(STATE_COOKIE, path="/setup")
        return response

    return blueprint


def create_setup_app(
    env_path: Path, environ: Mapping[str, str] | None = None, token: str | None = None
) -> Any:
    """A Flask app serving only the setup pages, for before any credentials exist.

    ``app.config["SETUP_TOKEN"]`` is the one-time token to print in the link."""
    from flask import Flask, redirect

    environ = os.environ if environ is None else environ
    token = token or secrets.token_urlsafe(24)
    app = Flask("codex_guard_setup")
    app.config["SETUP_TOKEN"] = token
    app.register_blueprint(
        setup_blueprint(
            env_path,
            environ.get("GITHUB_URL", "").strip() or "https://github.com",
            environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com",
            webhook_path=environ.get("WEBHOOK_PATH", "").strip() or DEFAULT_WEBHOOK_PATH,
            environ=environ,
            token=token,
            public_url=environ.get("PUBLIC_URL", "").strip() or None,
        )
    )
    app.add_url_rule("/", "index", lambda: redirect("/setup"))
    return app


class PathOnlyLog(WSGIRequestHandler):
    """Access lines without the query: the token, the callback's code and state are secrets."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log("info", '"%s %s" %s', self.command, path, code)


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.web.setup_flow``: serve /setup on loopback until the App is registered."""
    import argparse

    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m bot.web.setup_flow", description=main.__doc__)
    parser.add_argument("--env-file", default=".env", help="where to write (default: .env)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    args = parser.parse_args(argv)
    env_path = Path(args.env_file).resolve()
    if is_configured(env_path):
        print(f"APP_ID is already set (environment or {env_path}); nothing to set up.")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_setup_app(env_path)
    print(
        f"Open http://{args.host}:{args.port}/setup?token={app.config['SETUP_TOKEN']} "
        "to register the GitHub App."
    )
    run_simple(
        args.host,
        args.port,
        app,
        threaded=True,
        request_handler=PathOnlyLog,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
