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
import json
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import yaml
from flask import Blueprint, Response, abort, request, url_for
from werkzeug.serving import WSGIRequestHandler

log = logging.getLogger("codex_guard.setup")

ROOT = Path(__file__).resolve().parent.parent
APP_YML = ROOT / "app.yml"
STATE_COOKIE = "codex_guard_setup_state"
DEFAULT_WEBHOOK_PATH = "/api/github/webhooks"

_ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,33}$")
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:44rem;
margin:3rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.5rem}label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input[type=text],input[type=url]{width:100%;padding:.4rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;background:#1f883d;color:#fff;
border:0;border-radius:6px;cursor:pointer}.muted{color:#59636e}
.box{border:1px solid #d0d7de;border-radius:6px;padding:1rem;margin:1rem 0}
.error{color:#cf222e}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
"""

_write_lock = threading.Lock()


# ---------------------------------------------------------------- .env files


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a .env file (comments, ``export`` and outer quotes allowed).

    Values are returned as written: ``\\n`` stays two characters, as the settings expect.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match:
            values[match.group(1)] = _unquote(match.group(2))
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _quote(value: str) -> str:
    """A value on one line, in double quotes (systemd, python-dotenv and us agree on it)."""
    flat = value.replace("\r\n", "\n").replace("\n", "\\n")
    if '"' not in flat:
        return f'"{flat}"'
    if "'" not in flat:
        return f"'{flat}'"
    raise ValueError("a .env value may not contain both kinds of quote")


def update_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in a .env file, keeping every other line; the file ends up mode 0600.

    Written to a private temporary file and renamed over the old one, so a crash
    leaves the old file or the new one, never half of one, and the secrets are
    never readable by other users, not even for a moment.
    """
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        match = _ENV_LINE.match(line) if not line.lstrip().startswith("#") else None
        key = match.group(1) if match else None
        if key is not None and key in values:
            if key in pending:
                out.append(f"{key}={_quote(pending.pop(key))}")
            continue  # a later duplicate of a key just written
        out.append(line)
    out.extend(f"{key}={_quote(value)}" for key, value in pending.items())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".env.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(out) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_configured(env_path: Path, environ: Mapping[str, str] | None = None) -> bool:
    """True once an App ID is set in the environment or in the .env file."""
    environ = os.environ if environ is None else environ
    return bool(environ.get("APP_ID", "").strip() or read_env_file(env_path).get("APP_ID"))


# ---------------------------------------------------------------- the manifest


def build_manifest(
    webhook_url: str,
    redirect_url: str,
    name: str | None = None,
    app_yml: Path = APP_YML,
) -> dict[str, Any]:
    """The manifest GitHub expects, from ``app.yml`` with this server's URLs filled in."""
    spec = yaml.safe_load(app_yml.read_text(encoding="utf-8")) or {}
    manifest: dict[str, Any] = {
        "name": name or spec.get("name") or "codex-guard",
        "url": spec.get("url") or "https://github.com",
        "hook_attributes": {**(spec.get("hook_attributes") or {}), "url": webhook_url},
        "redirect_url": redirect_url,
        "public": bool(spec.get("public", False)),
        "default_permissions": dict(spec.get("default_permissions") or {}),
        "default_events": list(spec.get("default_events") or []),
    }
    if spec.get("description"):
        manifest["description"] = spec["description"]
    return manifest


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 500


# ---------------------------------------------------------------- pages


def _page(title: str, body: str, status: int = 200, form_target: str = "") -> Response:
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>{body}</body></html>\n"
    )
    response = Response(html, status=status, mimetype="text/html")
    targets = " ".join(t for t in ("'self'", form_target) if t)
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; form-action {targets}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
TOKEN_COOKIE = "codex_guard_setup_token"  # noqa: S105 - a cookie name


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
        if not _http_url(webhook_url):
            problems.append("The webhook URL must be an http:// or https:// URL.")
            webhook_url = default_hook
        redirect_url = url_for(".callback", _external=True)
        manifest = build_manifest(webhook_url, redirect_url, name or None, app_yml)
        state = secrets.token_urlsafe(24)
        where = f"/organizations/{quote(org)}" if org else ""
        action = f"{github_url}{where}/settings/apps/new?state={quote(state)}"
        owner = f"the organisation <b>{escape(org)}</b>" if org else "your personal account"
        errors = "".join(f'<p class="error">{escape(p)}</p>' for p in problems)
        body = (
            f"{errors}<p>This registers <b>{escape(manifest['name'])}</b> as a GitHub App on "
            f"{owner}, asking only for the permissions and events in <code>app.yml</code>. "
            "GitHub then sends you back here and codex-guard saves the App's "
            f"credentials to <code>{escape(str(env_path))}</code>.</p>"
            f'<form id="register" method="post" action="{escape(action, quote=True)}">'
            '<input type="hidden" name="manifest" id="manifest" '
            f'value="{escape(json.dumps(manifest), quote=True)}">'
            f'<button type="submit">Register the GitHub App on {owner}</button></form>'
            '<div class="box"><form id="options" method="get" action="">'
            '<p class="muted">Change where and how it is registered:</p>'
            '<label for="org">Organisation (empty for your personal account)</label>'
            f'<input type="text" id="org" name="org" value="{escape(org, quote=True)}" '
            'placeholder="octo-org">'
            '<label for="name">App name (must be unique on GitHub)</label>'
            f'<input type="text" id="name" name="name" '
            f'value="{escape(manifest["name"], quote=True)}">'
            '<label for="webhook_url">Webhook URL (this server, as GitHub reaches it)</label>'
            f'<input type="url" id="webhook_url" name="webhook_url" '
            f'value="{escape(webhook_url, quote=True)}">'
            '<button type="submit">Update</button></form></div>'
        )
        response = _page("Register codex-guard", body, form_target=github_url)
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
            return _page(
                "Setup link expired",
                "<p>This answer from GitHub does not match a registration started in this "
                'browser (or it is over an hour old). <a href="/setup">Start again</a>.</p>',
                status=400,
            )
        if not _CODE_RE.match(code):
            return _page("Setup failed", "<p>GitHub sent no usable code.</p>", status=400)
        try:
            answer = requests.post(
                f"{api_url}/app-manifests/{code}/conversions",
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                },
                timeout=15,
            )
        except requests.RequestException as exc:
            log.error("could not reach GitHub to finish setup: %s", type(exc).__name__)
            return _page(
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
            return _page(
                "Setup failed",
                f'<p>{escape(why)} <a href="/setup">Start again</a>.</p>',
                status=502,
            )
        try:
            app = answer.json()
            values = {
                "APP_ID": str(int(app["id"])),
                "PRIVATE_KEY": str(app["pem"]).strip(),
                "WEBHOOK_SECRET": str(app["webhook_secret"]),
                "GITHUB_CLIENT_ID": str(app["client_id"]),
                "GITHUB_CLIENT_SECRET": str(app["client_secret"]),
            }
        except (ValueError, KeyError, TypeError):
            log.error("manifest conversion answer lacks the App's credentials")
            return _page("Setup failed", "<p>GitHub's answer was incomplete.</p>", status=502)
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
        html_url = str(app.get("html_url") or "")
        install = f"{html_url.rstrip('/')}/installations/new" if _http_url(html_url) else ""
        install_html = (
            f'<p>Then install it on your organisation: <a id="install" '
            f'href="{escape(install, quote=True)}">{escape(install)}</a>. Start with a few '
            "repositories (or set <code>ALLOWED_REPOS</code>) and widen later.</p>"
            if install
            else "<p>Then install it from the App's page on GitHub.</p>"
        )
        body = (
            f"<p>GitHub App <b>{escape(str(app.get('name') or app.get('slug') or ''))}</b> "
            f"(ID {escape(values['APP_ID'])}) is registered, and its credentials are in "
            f"<code>{escape(str(env_path))}</code> (readable only by you).</p>"
            "<p><b>Restart codex-guard</b> so it reads them (stop <code>make run</code> "
            "and start it again, or restart the web and worker services).</p>"
            f"{install_html}<p>Check everything with <code>codex-guard doctor</code>.</p>"
        )
        response = _page("codex-guard is registered", body)
        response.delete_cookie(STATE_COOKIE, path="/setup")
        return response

    return blueprint


# ---------------------------------------------------------------- standalone


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
    """``python -m bot.setup_flow``: serve /setup on loopback until the App is registered."""
    import argparse

    from werkzeug.serving import run_simple

    parser = argparse.ArgumentParser(prog="python -m bot.setup_flow", description=main.__doc__)
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
