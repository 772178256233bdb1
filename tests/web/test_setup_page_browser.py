"""The /setup page as a real headless Chromium renders it, served by a real werkzeug server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from werkzeug.serving import make_server

from bot.web.setup_flow import setup_blueprint
from tests.browser import chromium, dump_dom, needs_chromium
from tests.conftest import ROOT

TOKEN = "one-time-token-printed-in-the-terminal"
GITHUB_URL = "https://github.example"
PROFILE = "chromium-profile"

pytestmark = needs_chromium


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The setup blueprint on a loopback werkzeug server; yields its base URL."""
    app = Flask(__name__)
    app.register_blueprint(
        setup_blueprint(
            tmp_path / ".env", GITHUB_URL, "https://api.github.example", environ={}, token=TOKEN
        )
    )
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


class FormReader(HTMLParser):
    """Collects forms, their inputs and buttons from the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        data = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {**data, "inputs": {}, "buttons": []}
            self.forms[data.get("id", "")] = self._current
        elif tag == "input" and self._current is not None:
            self._current["inputs"][data.get("name", "")] = data
        elif tag == "button" and self._current is not None:
            self._current["buttons"].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def rendered_forms(tmp_path: Path, url: str) -> tuple[str, dict[str, dict]]:
    dom = dump_dom(url, tmp_path / PROFILE)
    reader = FormReader()
    reader.feed(dom)
    return dom, reader.forms


def test_setup_page_renders_the_manifest_form(server: str, tmp_path: Path) -> None:
    dom, forms = rendered_forms(tmp_path, f"{server}/setup?token={TOKEN}")
    assert "<title>Register codex-guard</title>" in dom
    register = forms["register"]
    assert register["method"] == "post"
    action = urlsplit(register["action"])
    assert f"{action.scheme}://{action.netloc}{action.path}" == f"{GITHUB_URL}/settings/apps/new"
    assert list(parse_qs(action.query)) == ["state"]
    assert register["inputs"]["manifest"]["type"] == "hidden"
    assert register["buttons"][0]["type"] == "submit"
    manifest = json.loads(register["inputs"]["manifest"]["value"])
    spec = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["hook_attributes"]["url"] == f"{server}/api/github/webhooks"
    assert manifest["redirect_url"] == f"{server}/setup/callback"
    assert manifest["default_permissions"] == spec["default_permissions"]
    assert manifest["default_events"] == spec["default_events"]
    assert set(forms["options"]["inputs"]) == {"org", "name", "webhook_url"}


def test_setup_page_for_an_organisation(server: str, tmp_path: Path) -> None:
    dom, forms = rendered_forms(tmp_path, f"{server}/setup?org=octo-org&token={TOKEN}")
    assert forms["register"]["action"].startswith(
        f"{GITHUB_URL}/organizations/octo-org/settings/apps/new?state="
    )
    assert forms["options"]["inputs"]["org"]["value"] == "octo-org"
    assert "Register the GitHub App on the organisation" in dom


def test_setup_page_screenshot(server: str, tmp_path: Path) -> None:
    shot = tmp_path / "setup.png"
    result = chromium(
        tmp_path / PROFILE, f"--screenshot={shot}", "--window-size=1000,800", f"{server}/setup"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5000  # a rendered page, not a blank one
