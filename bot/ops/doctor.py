"""The ``doctor`` subcommand: "is it set up right?" answered from a shell, with a fix
for each problem, GitHub asked only once the settings load.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import redis

from bot.ops.cli import EXIT_FAIL, EXIT_PASS, Subparsers
from bot.ops.cli_audit import DEFAULT_REDIS_URL
from bot.ops.doctor_checks import Report, check_redis, check_settings
from bot.ops.doctor_github import APP_YML, check_github


def doctor(
    env: Mapping[str, str],
    *,
    connect: Callable[[str], redis.Redis] | None = None,
    app_yml: Path = APP_YML,
) -> Report:
    """Run every check; GitHub is only asked once the settings are right."""
    report = Report()
    settings = check_settings(env, report)
    redis_url = (
        settings.redis_url
        if settings is not None
        else env.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    )
    check_redis(
        redis_url,
        report,
        connect
        or (lambda url: redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)),
    )
    if settings is None:
        report.add("warn", "github app", "not checked until the settings above are fixed")
    else:
        check_github(settings, report, app_yml)
    return report


def register_doctor(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check settings, Redis, the App's credentials and its installations",
        description="Check every setting, Redis, the App JWT (GET /app), and each "
        "installation's permissions and events against app.yml. Exit 0 when healthy.",
    )
    parser.add_argument(
        "--env-file",
        default=".env",
        metavar="FILE",
        help="also read settings from this file when it exists; the environment wins "
        "(default: .env)",
    )
    parser.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from bot.web.env_file import read_env_file

    env: dict[str, str] = {}
    path = Path(args.env_file)
    if path.is_file():
        env.update(read_env_file(path))
        print(f"reading {path} (the environment takes precedence)")
    env.update(os.environ)
    report = doctor(env)
    sys.stdout.write(report.text())
    return EXIT_PASS if report.healthy else EXIT_FAIL
