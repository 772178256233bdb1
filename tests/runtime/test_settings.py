"""Settings: each required variable missing or malformed gives its one-line message."""

import os
import subprocess
import sys

import pytest

from bot.runtime.settings import SettingsError, load_settings
from tests.conftest import ROOT


@pytest.fixture
def env(app_key):
    return {
        "APP_ID": "12345",
        "PRIVATE_KEY": app_key[0],
        "WEBHOOK_SECRET": "s3cret",
    }


def test_defaults(env):
    s = load_settings(env)
    assert s.app_id == 12345
    assert s.redis_url == "redis://localhost:6379/0"
    assert s.github_api_url == "https://api.github.com"
    assert s.webhook_path == "/api/github/webhooks"
    assert s.webhook_secrets() == ("s3cret",)
    assert s.body_timeout == 10.0
    assert "s3cret" not in repr(s) and "PRIVATE" not in repr(s)


def test_escaped_newlines_and_key_path(env, app_key, tmp_path):
    env["PRIVATE_KEY"] = app_key[0].replace("\n", "\\n")
    assert load_settings(env).private_key == app_key[0]
    key_file = tmp_path / "key.pem"
    key_file.write_text(app_key[0])
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = str(key_file)
    assert load_settings(env).private_key == app_key[0]


def test_enterprise_and_plain_http_api_urls(env):
    env["GITHUB_API_URL"] = "https://ghe.example.com/api/v3/"
    assert load_settings(env).github_api_url == "https://ghe.example.com/api/v3"
    env["GITHUB_API_URL"] = "http://127.0.0.1:8080/api/v3"
    assert load_settings(env).github_api_url == "http://127.0.0.1:8080/api/v3"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("APP_ID", None, "codex-guard: APP_ID is not set"),
        ("APP_ID", "abc", "codex-guard: APP_ID must be the App's numeric ID"),
        ("PRIVATE_KEY", None, "codex-guard: PRIVATE_KEY is not set"),
        ("PRIVATE_KEY", "not a key", "codex-guard: PRIVATE_KEY is not a PEM private key"),
        ("WEBHOOK_SECRET", None, "codex-guard: WEBHOOK_SECRET is not set"),
        ("REDIS_URL", "localhost:6379", "codex-guard: REDIS_URL must be a redis"),
        ("GITHUB_API_URL", "ftp://x", "codex-guard: GITHUB_API_URL must be a https or http URL"),
        ("WEBHOOK_PATH", "hooks", "codex-guard: WEBHOOK_PATH must start with '/'"),
        ("PORT", "eighty", "codex-guard: PORT must be a number"),
        ("PORT", "70000", "codex-guard: PORT must be a TCP port number"),
        ("LOG_LEVEL", "LOUD", "codex-guard: LOG_LEVEL must be one of"),
        ("ALLOWED_REPOS", "justaname", "codex-guard: ALLOWED_REPOS has 'justaname'"),
        ("BODY_TIMEOUT_SECONDS", "0", "codex-guard: BODY_TIMEOUT_SECONDS must be more than 0"),
        ("BODY_TIMEOUT_SECONDS", "600", "codex-guard: BODY_TIMEOUT_SECONDS must be more than 0"),
        ("BODY_TIMEOUT_SECONDS", "soon", "codex-guard: BODY_TIMEOUT_SECONDS must be a number"),
    ],
)
def test_bad_setting_names_the_variable(env, variable, value, expected):
    if value is None:
        env.pop(variable, None)
    else:
        env[variable] = value
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_unreadable_key_path(env):
    del env["PRIVATE_KEY"]
    env["PRIVATE_KEY_PATH"] = "/nonexistent/key.pem"
    with pytest.raises(SettingsError, match="PRIVATE_KEY_PATH cannot be read"):
        load_settings(env)


def _procfile(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(name)


@pytest.mark.parametrize("process", ["web", "worker"])
@pytest.mark.parametrize("missing", ["APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET"])
def test_process_stops_with_one_line(process, missing, env):
    """The Procfile's own commands exit non-zero with one line and no traceback."""
    child_env = {k: v for k, v in os.environ.items() if k not in env}
    child_env.update(env)
    child_env.pop(missing)
    child_env["PORT"] = "0"
    child_env["PATH"] = f"{os.path.dirname(sys.executable)}:{child_env.get('PATH', '')}"
    result = subprocess.run(
        ["sh", "-c", _procfile(process)],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"codex-guard: {missing} is not set"
        + (" (nor PRIVATE_KEY_PATH)" if missing == "PRIVATE_KEY" else "")
    ], result.stderr
