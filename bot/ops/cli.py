"""`codex-guard` on the command line: the same practices, run against a local checkout.

Lets a team see what the app would say before pushing, and lint AGENTS.md.
Each subcommand is a ``register(subparsers)`` function that sets ``handler``;
to add one (``doctor``, ``audit``, ``report``), append its register function
to `SUBCOMMANDS` or its module path to `SUBCOMMAND_MODULES`.

Exit codes: 0 pass, 1 fail, 2 usage error (bad arguments, unreadable file,
invalid config).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from bot.core import scrub
from bot.core.config import CONFIG_PATH, ConfigError, GuardConfig, json_schema, load_config
from bot.core.findings import Finding, Outcome, PracticeResult

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

Subparsers = Any
"""``argparse._SubParsersAction``, which argparse does not export."""
Register = Callable[[Subparsers], None]
Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """A problem with what the user asked for: reported in one line, exit 2."""


# ---------------------------------------------------------------- shared helpers


def read_text(path: str, what: str, stdin: TextIO | None = None) -> str:
    """File contents, or stdin for ``-``; an unreadable file is a usage error."""
    if path == "-":
        return (stdin or sys.stdin).read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot read {what} {path}: {reason}") from None


def repo_dir(path: str) -> Path:
    directory = Path(path)
    if not directory.is_dir():
        raise UsageError(f"not a directory: {path}")
    return directory


def load_cli_config(directory: Path, config_path: str | None) -> GuardConfig:
    """``--config`` if given, else the checkout's own config, else the defaults.

    Offline there are no org defaults; the app merges them under the repo's.
    """
    if config_path is not None:
        text: str | None = read_text(config_path, "config file")
        source = config_path
    else:
        candidate = directory / CONFIG_PATH
        text = read_text(str(candidate), "config file") if candidate.is_file() else None
        source = str(candidate)
    try:
        return load_config(text, repo_source=source)
    except ConfigError as exc:
        raise UsageError(f"invalid config {exc}") from None


def terminal_safe(text: str) -> str:
    """One line without control characters: PR text must not drive the terminal (ANSI escapes)."""
    return " ".join(
        "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch.isspace()).split()
    )


def format_finding(finding: Finding) -> str:
    """One line: ``path:line: level [rule] message (fix: ...)``."""
    where = ""
    if finding.path:
        path = terminal_safe(finding.path)
        where = f"{path}:{finding.line}: " if finding.line else f"{path}: "
    fix = f" (fix: {terminal_safe(finding.fix)})" if finding.fix else ""
    return f"  {where}{finding.level} [{finding.rule}] {terminal_safe(finding.message)}{fix}"


_MARKS = {
    Outcome.PASS: "PASS",
    Outcome.FAIL: "FAIL",
    Outcome.WARN: "WARN",
    Outcome.SKIP: "SKIP",
    Outcome.PENDING: "WAIT",
}


def format_result(practice_id: str, result: PracticeResult) -> list[str]:
    lines = [f"{_MARKS[result.outcome]:<4}  {practice_id:<11}  {terminal_safe(result.reason)}"]
    lines.extend(format_finding(f) for f in result.findings)
    return lines


def emit_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- check


def register_check(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="evaluate a PR description against a local checkout",
        description="Run the practices the app would run, offline. CI results are not "
        "available, so `tests` is judged from the PR's Testing section only.",
    )
    parser.add_argument("--body", required=True, metavar="FILE", help="PR body; - for stdin")
    parser.add_argument("--title", default="", help="PR title")
    parser.add_argument("--branch", default="", help="head branch name")
    parser.add_argument(
        "--label", action="append", default=[], metavar="LABEL", help="a PR label (repeatable)"
    )
    parser.add_argument("--repo", default=".", metavar="DIR", help="the checkout (default: .)")
    parser.add_argument(
        "--base",
        metavar="REF",
        help="the PR's base (a branch or SHA): `scope` reads `git diff REF...HEAD`; "
        "without it `scope` is skipped",
    )
    parser.add_argument("--config", metavar="FILE", help=f"config (default: DIR/{CONFIG_PATH})")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    directory = repo_dir(args.repo)
    body = read_text(args.body, "PR body file")
    config = load_cli_config(directory, args.config)

    from bot.ops.local_snapshot import snapshot_from_checkout
    from bot.practices.evaluation import evaluate

    snapshot = snapshot_from_checkout(
        directory,
        body,
        title=args.title,
        branch=args.branch,
        labels=tuple(args.label),
        changed_files=None,
        config=config,
    )
    if args.base is not None:
        from bot.ops.local_diff import DiffError, scope_from_checkout

        try:
            snapshot = replace(snapshot, scope=scope_from_checkout(directory, args.base))
        except DiffError as exc:
            raise UsageError(str(exc)) from None
    evaluation = scrub.for_snapshot(snapshot).evaluation(evaluate(snapshot, config))
    if args.format == "json":
        emit_json(evaluation.as_json())
    else:
        detection = evaluation.detection
        if detection.codex_authored:
            signals = terminal_safe(", ".join(detection.signals)) or "none"
            print(f"Codex PR (signals: {signals})")
        else:
            print(f"Not a Codex PR (applies_to: {config.applies_to})")
        for pid, result in evaluation.results.items():
            print("\n".join(format_result(pid, result)))
        if snapshot.checks is None and evaluation.results["tests"].outcome is not Outcome.SKIP:
            print(
                "note: offline, so CI results are unknown; tests was judged from the "
                "Testing section only"
            )
        print(f"conclusion: {evaluation.conclusion}")
    return EXIT_FAIL if evaluation.conclusion == "failure" else EXIT_PASS


# ---------------------------------------------------------------- agents-md


def register_agents_md(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "agents-md",
        help="lint the AGENTS.md files of a checkout",
        description="Run the agents-md practice on a checkout. `level: off` in the config "
        "is ignored here, since you asked; `level: warning` still downgrades errors.",
    )
    parser.add_argument("dir", nargs="?", default=".", metavar="DIR", help="default: .")
    parser.add_argument("--config", metavar="FILE", help=f"config (default: DIR/{CONFIG_PATH})")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(handler=run_agents_md)


def run_agents_md(args: argparse.Namespace) -> int:
    directory = repo_dir(args.dir)
    config = load_cli_config(directory, args.config)

    from bot.core.config import PracticeLevel
    from bot.ops.local_snapshot import snapshot_from_checkout
    from bot.practices.evaluation import apply_level, result_json, run_practice

    snapshot = snapshot_from_checkout(directory, "", config=config)
    result = scrub.for_snapshot(snapshot).result(run_practice("agents-md", snapshot, config))
    level = config.practices.level_of("agents-md")
    if level is not PracticeLevel.OFF:
        result = apply_level(result, level)
    if args.format == "json":
        emit_json(result_json(result))
    else:
        print("\n".join(format_result("agents-md", result)))
    return EXIT_FAIL if result.outcome is Outcome.FAIL else EXIT_PASS


# ---------------------------------------------------------------- schema


def schema_text() -> str:
    """The JSON Schema exactly as committed in ``schema/codex-guard.schema.json``."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def register_schema(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "schema", help="print the JSON Schema of .github/codex-guard.yml"
    )
    parser.set_defaults(handler=run_schema)


def run_schema(args: argparse.Namespace) -> int:
    sys.stdout.write(schema_text())
    return EXIT_PASS


# ---------------------------------------------------------------- wiring

SUBCOMMANDS: list[Register] = [register_check, register_agents_md, register_schema]
"""Built-in subcommands, in the order ``--help`` lists them."""

SUBCOMMAND_MODULES: list[str] = ["bot.ops.cli_ops", "bot.ops.cli_costs"]
"""Modules with a ``register(subparsers)`` function, imported when the CLI starts."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-guard",
        description="Hold Codex-written pull requests to a team's practices.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for register in SUBCOMMANDS:
        register(subparsers)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, dispatch, and map errors to exit codes; never a traceback for a user mistake."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageError as exc:
        print(f"codex-guard: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
