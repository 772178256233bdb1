"""GitHub's side of the App manifest flow: the manifest sent, and the code redeemed.

The manifest is built from ``app.yml`` so the registered App asks for exactly
the permissions and events the repository declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_YML = ROOT / "app.yml"


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


def http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and len(value) <= 500


def convert_code(api_url: str, code: str) -> requests.Response:
    """Redeem the code GitHub redirected back with (valid one hour, once) for the new App."""
    return requests.post(
        f"{api_url}/app-manifests/{code}/conversions",
        headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
        timeout=15,
    )


def credentials(app: Mapping[str, Any]) -> dict[str, str]:
    """The settings a conversion answer provides; KeyError, TypeError or ValueError if any lacks."""
    return {
        "APP_ID": str(int(app["id"])),
        "PRIVATE_KEY": str(app["pem"]).strip(),
        "WEBHOOK_SECRET": str(app["webhook_secret"]),
        "GITHUB_CLIENT_ID": str(app["client_id"]),
        "GITHUB_CLIENT_SECRET": str(app["client_secret"]),
    }
