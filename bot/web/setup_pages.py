"""The setup flow's HTML: self-contained pages under a CSP that allows no script.

Every value shown comes from a query string or GitHub's answer, so all of it is escaped.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from flask import Response

from bot.web.app_manifest import http_url

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


def page(title: str, body: str, status: int = 200, form_target: str = "") -> Response:
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


def register_page(
    *,
    problems: list[str],
    manifest: dict[str, Any],
    org: str,
    action: str,
    webhook_url: str,
    env_path: Path,
    github_url: str,
) -> Response:
    """The form that posts the manifest to GitHub, and the one that changes its options."""
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
    return page("Register codex-guard", body, form_target=github_url)


def registered_page(app: dict[str, Any], app_id: str, env_path: Path) -> Response:
    """What to do once the credentials are saved: restart, then install the App."""
    html_url = str(app.get("html_url") or "")
    install = f"{html_url.rstrip('/')}/installations/new" if http_url(html_url) else ""
    install_html = (
        f'<p>Then install it on your organisation: <a id="install" '
        f'href="{escape(install, quote=True)}">{escape(install)}</a>. Start with a few '
        "repositories (or set <code>ALLOWED_REPOS</code>) and widen later.</p>"
        if install
        else "<p>Then install it from the App's page on GitHub.</p>"
    )
    body = (
        f"<p>GitHub App <b>{escape(str(app.get('name') or app.get('slug') or ''))}</b> "
        f"(ID {escape(app_id)}) is registered, and its credentials are in "
        f"<code>{escape(str(env_path))}</code> (readable only by you).</p>"
        "<p><b>Restart codex-guard</b> so it reads them (stop <code>make run</code> "
        "and start it again, or restart the web and worker services).</p>"
        f"{install_html}<p>Check everything with <code>codex-guard doctor</code>.</p>"
    )
    return page("codex-guard is registered", body)
