"""`codex-guard doctor` against a real Redis and the GitHub API double."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github_double import GitHubDouble

from bot.ops import cli
from bot.ops.cli_ops import compare_access, doctor, wanted_access
from tests.conftest import APP_ID, RedisServer, free_port

SECRET = "a-long-random-webhook-secret-0123456789"
SETTING_NAMES = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "REDIS_URL",
    "GITHUB_API_URL",
    "WEBHOOK_PATH",
    "PORT",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "ALLOWED_OWNERS",
    "ALLOWED_REPOS",
)


@pytest.fixture
def double(app_key: tuple[str, str]) -> Iterator[GitHubDouble]:
    """The double, with the App registered exactly as app.yml asks."""
    permissions, events = wanted_access()
    with GitHubDouble(APP_ID, app_key[1]) as started:
        started.world.app.permissions = dict(permissions)
        started.world.app.events = sorted(events)
        yield started


@pytest.fixture
def env(double: GitHubDouble, redis_server: RedisServer, app_key: tuple[str, str]) -> dict:
    return {
        "APP_ID": str(APP_ID),
        "PRIVATE_KEY": app_key[0].replace("\n", "\\n"),
        "WEBHOOK_SECRET": SECRET,
        "REDIS_URL": redis_server.url,
        "GITHUB_API_URL": double.base_url,
        "ALLOWED_REPOS": "octo-org/app",
    }


def lines(report) -> list[tuple[str, str, str]]:
    return [(c.level, c.subject, c.message) for c in report.checks]


def test_healthy_deployment(double: GitHubDouble, env: dict) -> None:
    double.add_installation(account="octo-org", repos=["octo-org/app"])
    report = doctor(env)
    assert report.healthy, report.text()
    assert [c for c in report.checks if c.level != "ok"] == []
    text = report.text()
    assert "ok    github app: the App JWT works: codex-guard" in text
    assert "permissions and events match app.yml" in text
    assert text.rstrip().endswith("healthy: 0 error(s), 0 warning(s)")
    assert double.calls("GET", r"^/app$")[0].auth == "jwt"
    double.assert_clean()


def test_every_bad_setting_is_reported_in_one_run(env: dict) -> None:
    env.update(APP_ID="abc", PRIVATE_KEY="not a key", LOG_LEVEL="LOUD", PORT="99999")
    report = doctor(env)
    errors = [c for c in report.checks if c.level == "error"]
    assert [c.message.split()[0] for c in errors] == ["APP_ID", "PRIVATE_KEY", "PORT", "LOG_LEVEL"]
    assert all(c.fix for c in errors)
    assert ("warn", "github app", "not checked until the settings above are fixed") in lines(report)
    assert not report.healthy


def test_wrong_private_key_fails_the_jwt_check(env: dict, double: GitHubDouble) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env["PRIVATE_KEY"] = other.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    report = doctor(env)
    (error,) = [c for c in report.checks if c.level == "error"]
    assert error.message == "GET /app was refused (401)"
    assert "APP_ID and PRIVATE_KEY do not belong to the same App" in error.fix
    assert not report.healthy


def test_unreachable_github(env: dict) -> None:
    env["GITHUB_API_URL"] = f"http://127.0.0.1:{free_port()}/api/v3"
    report = doctor(env)
    (error,) = [c for c in report.checks if c.level == "error"]
    assert error.message.startswith("cannot reach http://127.0.0.1:")
    assert "GITHUB_API_URL" in error.fix


def test_redis_down_is_an_error(env: dict) -> None:
    env["REDIS_URL"] = f"redis://user:hunter2@127.0.0.1:{free_port()}/0"
    report = doctor(env)
    (error,) = [c for c in report.checks if c.level == "error"]
    assert error.subject == "redis"
    assert "redis://***@127.0.0.1" in error.message and "hunter2" not in report.text()


def test_installation_missing_and_excess_grants(env: dict, double: GitHubDouble) -> None:
    short = double.add_installation(account="short-org", repos=["short-org/app"])
    short.permissions["pull_requests"] = "read"
    del short.permissions["checks"]
    short.events.remove("merge_group")
    greedy = double.add_installation(account="greedy-org", repos=["greedy-org/app"])
    greedy.permissions["administration"] = "write"
    greedy.permissions["contents"] = "write"
    greedy.events.append("deployment")
    report = doctor(env)
    by_subject = {(c.subject, c.level): c for c in report.checks}
    lacking = by_subject[(f"installation {short.id} (short-org)", "error")]
    assert lacking.message == (
        "lacks what codex-guard needs: checks: write (has none), "
        "pull_requests: write (has read), event merge_group"
    )
    assert "must review and accept" in lacking.fix
    greedy_warnings = [
        c.message
        for c in report.checks
        if c.subject == f"installation {greedy.id} (greedy-org)" and c.level == "warn"
    ]
    assert greedy_warnings == [
        "grants more than codex-guard needs (least privilege): "
        "administration: write (needs none), contents: write (needs read)",
        "receives events codex-guard ignores: deployment",
    ]
    assert not report.healthy


def test_app_asking_for_too_much_is_a_least_privilege_warning(
    env: dict, double: GitHubDouble
) -> None:
    double.world.app.permissions["issues"] = "write"
    double.world.app.permissions["statuses"] = "write"
    double.add_installation(account="octo-org", repos=["octo-org/app"])
    report = doctor(env)
    assert report.healthy
    warning = next(c for c in report.checks if c.subject == "github app" and c.level == "warn")
    assert warning.message == (
        "the App asks for more than app.yml needs (least privilege): "
        "issues: write (needs read), statuses: write (needs read)"
    )
    assert "/apps/codex-guard" in warning.fix


def test_app_missing_a_permission_is_an_error(env: dict, double: GitHubDouble) -> None:
    del double.world.app.permissions["checks"]
    report = doctor(env)
    error = next(c for c in report.checks if c.level == "error")
    assert error.message == "the App does not ask for what app.yml needs: checks: write (has none)"
    assert "Permissions & events" in error.fix


def test_not_installed_and_suspended(env: dict, double: GitHubDouble) -> None:
    report = doctor(env)
    assert report.healthy
    (warning,) = [c for c in report.checks if c.level == "warn"]
    assert warning.message == "the App is not installed anywhere yet"
    assert warning.fix.endswith("/apps/codex-guard/installations/new")

    inst = double.add_installation(account="octo-org", repos=["octo-org/app"])
    inst.suspended_at = "2024-01-01T00:00:00Z"
    report = doctor(env)
    assert (
        "error",
        f"installation {inst.id} (octo-org)",
        "is suspended: no events arrive and no checks are written",
    ) in lines(report)


def test_weak_settings_are_warnings(env: dict, double: GitHubDouble) -> None:
    double.add_installation(account="octo-org", repos=["octo-org/app"])
    env.update(WEBHOOK_SECRET="short", ALLOWED_REPOS="")
    report = doctor(env)
    assert report.healthy
    messages = [c.message for c in report.checks if c.level == "warn"]
    assert any(m.startswith("WEBHOOK_SECRET is short") for m in messages)
    assert any(m.startswith("ALLOWED_OWNERS and ALLOWED_REPOS are empty") for m in messages)


def test_access_comparison_orders_levels() -> None:
    missing, excess, missing_events, extra = compare_access(
        {"checks": "admin", "contents": "read", "metadata": "read"}, ["push", "fork"]
    )
    assert "checks: write" not in " ".join(missing)
    assert excess == ["checks: admin (needs write)"]
    assert "pull_requests: write (has none)" in missing
    assert "pull_request" in missing_events and extra == ["fork"]


def test_cli_exit_codes_and_env_file(
    env: dict, double: GitHubDouble, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ["bot.ops.cli_ops"])
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    double.add_installation(account="octo-org", repos=["octo-org/app"])
    env_file = tmp_path / ".env"
    env_file.write_text("# written by /setup\n" + "".join(f'{k}="{v}"\n' for k, v in env.items()))
    assert cli.main(["doctor", "--env-file", str(env_file)]) == 0
    out = capsys.readouterr().out
    assert f"reading {env_file}" in out and "healthy: 0 error(s)" in out
    assert "PRIVATE KEY" not in out and SECRET not in out

    monkeypatch.setenv("APP_ID", "not-a-number")  # the environment wins over the file
    assert cli.main(["doctor", "--env-file", str(env_file)]) == 1
    out = capsys.readouterr().out
    assert "ERROR settings: APP_ID must be the App's numeric ID" in out
    assert "fix: set APP_ID" in out

    monkeypatch.delenv("APP_ID")
    assert cli.main(["doctor", "--env-file", str(tmp_path / "missing.env")]) == 1
    assert "APP_ID is not set" in capsys.readouterr().out
