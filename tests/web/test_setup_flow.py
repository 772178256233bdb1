"""The App manifest flow: /setup, GitHub's redirect back, and the .env it writes."""

from __future__ import annotations

import json
import logging
import re
import stat
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from github_double import GitHubDouble

from bot.runtime.settings import load_settings
from bot.web.app_manifest import build_manifest
from bot.web.env_file import read_env_file, update_env_file
from bot.web.setup_flow import STATE_COOKIE, TOKEN_COOKIE, setup_blueprint
from tests.conftest import APP_ID, ROOT

APP_YML = yaml.safe_load((ROOT / "app.yml").read_text())


@pytest.fixture
def double(app_key: tuple[str, str]) -> Iterator[GitHubDouble]:
    with GitHubDouble(APP_ID, app_key[1]) as started:
        yield started


@pytest.fixture
def env_path(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text("# local settings\nREDIS_URL=redis://127.0.0.1:6379/0\nLOG_FORMAT=text\n")
    path.chmod(0o644)
    return path


SETUP_TOKEN = "one-time-token-printed-in-the-terminal"


def make_client(env_path: Path, double: GitHubDouble, environ: dict | None = None) -> FlaskClient:
    app = Flask(__name__)
    app.register_blueprint(
        setup_blueprint(
            env_path,
            double.web_url,
            double.base_url,
            environ={} if environ is None else environ,
            token=SETUP_TOKEN,
        )
    )
    client = app.test_client()
    client.set_cookie(TOKEN_COOKIE, SETUP_TOKEN)
    return client


@pytest.fixture
def client(env_path: Path, double: GitHubDouble) -> FlaskClient:
    return make_client(env_path, double)


def form_of(html: str) -> tuple[str, dict]:
    """The registration form's action and the manifest it posts."""
    action = re.search(r'<form id="register" method="post" action="([^"]+)"', html)
    value = re.search(r'name="manifest" id="manifest" value="([^"]+)"', html)
    assert action and value, html
    return unescape(action.group(1)), json.loads(unescape(value.group(1)))


def start(client: FlaskClient, query: str = "") -> tuple[str, dict, str]:
    """GET /setup; (form action, manifest, state nonce from the cookie)."""
    response = client.get(f"/setup{query}")
    assert response.status_code == 200
    action, manifest = form_of(response.get_data(as_text=True))
    cookie = client.get_cookie(STATE_COOKIE, path="/setup")
    assert cookie is not None
    return action, manifest, cookie.value


def test_setup_page_posts_app_yml_as_a_manifest(client: FlaskClient, double: GitHubDouble) -> None:
    action, manifest, state = start(client)
    parts = urlsplit(action)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{double.web_url}/settings/apps/new"
    assert parse_qs(parts.query) == {"state": [state]}
    assert len(state) >= 30
    assert manifest["name"] == APP_YML["name"]
    assert manifest["hook_attributes"]["url"] == "http://localhost/api/github/webhooks"
    assert manifest["redirect_url"] == "http://localhost/setup/callback"
    assert manifest["default_permissions"] == APP_YML["default_permissions"]
    assert manifest["default_events"] == APP_YML["default_events"]
    assert manifest["public"] is False


def test_each_visit_gets_a_fresh_state(client: FlaskClient) -> None:
    _, _, first = start(client)
    _, _, second = start(client)
    assert first != second


def test_organisation_name_and_webhook_url_options(
    client: FlaskClient, double: GitHubDouble
) -> None:
    action, manifest, _ = start(
        client, "?org=octo-org&name=Guard+Staging&webhook_url=https://guard.example/hooks"
    )
    assert action.startswith(f"{double.web_url}/organizations/octo-org/settings/apps/new?state=")
    assert manifest["name"] == "Guard Staging"
    assert manifest["hook_attributes"]["url"] == "https://guard.example/hooks"


def test_bad_options_are_refused_and_escaped(client: FlaskClient, double: GitHubDouble) -> None:
    response = client.get('/setup?org=<script>x</script>&webhook_url=javascript:alert(1)&name="x')
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>" not in html
    assert "That is not an organisation login" in html
    assert "The webhook URL must be an http:// or https:// URL." in html
    action, manifest = form_of(html)
    assert action.startswith(f"{double.web_url}/settings/apps/new?")
    assert manifest["hook_attributes"]["url"] == "http://localhost/api/github/webhooks"
    assert manifest["name"] == APP_YML["name"]


def test_page_headers_lock_it_down(client: FlaskClient, double: GitHubDouble) -> None:
    response = client.get("/setup")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert f"form-action 'self' {double.web_url}" in csp
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/setup" in cookie


def test_callback_writes_the_credentials_and_keeps_other_lines(
    client: FlaskClient,
    double: GitHubDouble,
    env_path: Path,
    app_key: tuple[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    record = double.add_manifest_code("c0de42", pem=app_key[0], webhook_secret="whsec-" + "9" * 30)
    _, _, state = start(client)
    response = client.get(f"/setup/callback?code=c0de42&state={state}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html

    values = read_env_file(env_path)
    assert values["APP_ID"] == str(APP_ID)
    assert values["WEBHOOK_SECRET"] == "whsec-" + "9" * 30
    assert values["GITHUB_CLIENT_ID"] == record["client_id"]
    assert values["GITHUB_CLIENT_SECRET"] == record["client_secret"]
    assert values["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert values["LOG_FORMAT"] == "text"
    text = env_path.read_text()
    assert text.startswith("# local settings\n")
    assert '\nPRIVATE_KEY="-----BEGIN RSA PRIVATE KEY-----\\n' in text
    assert len([line for line in text.splitlines() if line.startswith("PRIVATE_KEY=")]) == 1
    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600
    settings = load_settings(values)
    assert settings.app_id == APP_ID and settings.private_key.strip() == app_key[0].strip()

    install = f"{double.web_url}/apps/codex-guard/installations/new"
    assert f'href="{install}"' in html
    assert "Restart codex-guard" in html
    (call,) = double.calls("POST", r"^/app-manifests/c0de42/conversions$")
    assert call.auth == "none" and call.status == 201
    for secret in (app_key[0].splitlines()[1], record["client_secret"], values["WEBHOOK_SECRET"]):
        assert secret not in caplog.text
        assert secret not in html
    deleted = response.headers["Set-Cookie"]
    assert deleted.startswith(f"{STATE_COOKIE}=;") and "Path=/setup" in deleted
    double.assert_clean()


def test_pages_are_off_once_configured(
    client: FlaskClient, double: GitHubDouble, env_path: Path, app_key: tuple[str, str]
) -> None:
    double.add_manifest_code("first", pem=app_key[0])
    double.add_manifest_code("second", pem=app_key[0])
    _, _, state = start(client)
    assert client.get(f"/setup/callback?code=first&state={state}").status_code == 200
    assert client.get("/setup").status_code == 404
    assert client.get(f"/setup/callback?code=second&state={state}").status_code == 404
    assert len(double.calls("POST", r"^/app-manifests/")) == 1


def test_app_id_in_the_environment_turns_the_pages_off(
    env_path: Path, double: GitHubDouble
) -> None:
    client = make_client(env_path, double, environ={"APP_ID": "12"})
    assert client.get("/setup").status_code == 404
    assert client.get("/setup/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize("with_cookie", [True, False])
def test_state_must_match_the_browser_that_started(
    client: FlaskClient, double: GitHubDouble, env_path: Path, with_cookie: bool
) -> None:
    double.add_manifest_code("c0de")
    if with_cookie:
        start(client)
    response = client.get("/setup/callback?code=c0de&state=forged-state-value")
    assert response.status_code == 400
    assert "Start again" in response.get_data(as_text=True)
    assert double.calls("POST", r"^/app-manifests/") == []
    assert "APP_ID" not in read_env_file(env_path)


def test_expired_or_used_code(client: FlaskClient, double: GitHubDouble, env_path: Path) -> None:
    _, _, state = start(client)
    response = client.get(f"/setup/callback?code=neverissued&state={state}")
    assert response.status_code == 502
    assert "expired or was already used" in response.get_data(as_text=True)
    assert "APP_ID" not in read_env_file(env_path)


def test_malformed_code_is_not_sent_to_github(client: FlaskClient, double: GitHubDouble) -> None:
    _, _, state = start(client)
    response = client.get(f"/setup/callback?code=../../app&state={state}")
    assert response.status_code == 400
    assert double.calls() == []


def test_env_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / ".env"
    update_env_file(path, {"A": "1", "PEM": "line one\nline two"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text(path.read_text() + "export B='two words'\n# A=commented\nA=dup\n")
    assert read_env_file(path) == {"A": "dup", "PEM": "line one\\nline two", "B": "two words"}
    update_env_file(path, {"A": "3", "C": 'say "hi"'})
    text = path.read_text()
    assert text.count("A=") == 2  # the new value, and the comment left alone
    assert read_env_file(path) == {
        "A": "3",
        "PEM": "line one\\nline two",
        "B": "two words",
        "C": 'say "hi"',
    }
    assert [p.name for p in path.parent.iterdir()] == [".env"]  # no temporary file left


def test_manifest_keeps_app_yml_fields(tmp_path: Path) -> None:
    manifest = build_manifest("https://h.example/hook", "https://h.example/setup/callback")
    assert manifest["url"] == APP_YML["url"]
    assert manifest["description"] == APP_YML["description"]
    assert set(manifest) == {
        "name",
        "url",
        "hook_attributes",
        "redirect_url",
        "public",
        "default_permissions",
        "default_events",
        "description",
    }


def test_standalone_setup_app_reads_github_url_from_the_environment(tmp_path: Path) -> None:
    from bot.web.setup_flow import create_setup_app

    environ = {"GITHUB_URL": "https://ghe.example.com", "WEBHOOK_PATH": "/hooks"}
    app = create_setup_app(tmp_path / ".env", environ)
    client = app.test_client()
    assert client.get("/").headers["Location"].endswith("/setup")
    token = app.config["SETUP_TOKEN"]
    action, manifest = form_of(client.get(f"/setup?token={token}").get_data(as_text=True))
    assert action.startswith("https://ghe.example.com/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "http://localhost/hooks"
    environ["APP_ID"] = "5"
    assert client.get("/setup").status_code == 404


# -- issue 11, item 4: DNS rebinding and the one-time token -------------------------------


def test_a_forged_host_is_refused(env_path: Path, double: GitHubDouble) -> None:
    client = make_client(env_path, double)
    for host in ("attacker.example", "attacker.example:3001", "localhost.attacker.example"):
        assert client.get("/setup", headers={"Host": host}).status_code == 421
        assert (
            client.get("/setup/callback?code=abc&state=x", headers={"Host": host}).status_code
            == 421
        )
    assert not env_path.exists() or "APP_ID" not in env_path.read_text()
    loopback = client.get(f"/setup?token={SETUP_TOKEN}", headers={"Host": "127.0.0.1:3001"})
    assert loopback.status_code == 200


def test_without_the_one_time_token_nothing_is_served(env_path: Path, double: GitHubDouble) -> None:
    app = Flask(__name__)
    app.register_blueprint(
        setup_blueprint(env_path, double.web_url, double.base_url, environ={}, token=SETUP_TOKEN)
    )
    client = app.test_client()
    assert client.get("/setup").status_code == 403
    assert client.get("/setup?token=guess").status_code == 403
    assert client.get("/setup/callback?code=abc&state=x").status_code == 403
    first = client.get(f"/setup?token={SETUP_TOKEN}")
    assert first.status_code == 200
    assert client.get("/setup").status_code == 200  # the cookie set by the first link


def test_the_public_url_is_the_only_other_host_and_builds_the_webhook(tmp_path: Path) -> None:
    from bot.web.setup_flow import create_setup_app

    environ = {"PUBLIC_URL": "https://guard.example.com"}
    app = create_setup_app(tmp_path / ".env", environ, token=SETUP_TOKEN)
    client = app.test_client()
    page = client.get(f"/setup?token={SETUP_TOKEN}", headers={"Host": "guard.example.com"})
    _action, manifest = form_of(page.get_data(as_text=True))
    assert manifest["hook_attributes"]["url"] == "https://guard.example.com/api/github/webhooks"
    assert client.get("/setup", headers={"Host": "other.example.com"}).status_code == 421


def test_access_lines_carry_paths_only() -> None:
    from bot.web.setup_flow import PathOnlyLog

    lines: list[str] = []
    handler = PathOnlyLog.__new__(PathOnlyLog)
    handler.path = "/setup/callback?code=one-time-code&state=secret-state"
    handler.command = "GET"
    handler.log = lambda _level, fmt, *args: lines.append(fmt % args)  # type: ignore[method-assign]
    handler.log_request(302)
    assert lines == ['"GET /setup/callback" 302']
