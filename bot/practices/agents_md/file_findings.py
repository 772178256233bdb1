"""What can be said about one AGENTS file on its own, and the secret findings;
every finding text passes a scrubber so no secret fragment is quoted."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace

from bot.core.config import AgentsMdConfig
from bot.core.findings import Finding, Level
from bot.core.sanitize import code_untrusted
from bot.core.secrets import Secret, mask
from bot.practices.agents_md.chain import (
    line_at_byte,
    parent_dir,
    utf8_size,
)
from bot.practices.agents_md.commands import (
    Target,
    command_lines,
    command_targets,
    doc_refs,
    make_targets,
    package_scripts,
)
from bot.practices.agents_md.paths import absolute_paths, path_reference, resolves

# --- evaluation ------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A finding and what makes it "the same problem" at base, lines aside."""

    finding: Finding
    key: tuple[str, ...]


def shown_paths(paths: Iterable[str]) -> str:
    paths = list(paths)
    shown = ", ".join(code_untrusted(p, limit=120) for p in paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def kib(size: int) -> str:
    value = size / 1024
    return f"{value:.0f} KiB" if value == int(value) else f"{value:.1f} KiB"


def file_findings(
    path: str,
    text: str,
    md: AgentsMdConfig,
    present: Collection[str] | None,
    dirs: frozenset[str],
    basenames: frozenset[str],
    build_files: Callable[[str], str | None],
    secret_lines: set[int],
) -> list[Found]:
    """Everything that can be said about one file on its own."""
    out: list[Found] = []
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > md.max_lines:
        out.append(
            Found(
                Finding(
                    rule="agents-md/too-long",
                    level=Level.WARNING,
                    message=f"{code_untrusted(path, 120)} has {lines} lines, over the "
                    f"{md.max_lines}-line limit; long instructions crowd out the budget "
                    "and get skimmed.",
                    path=path,
                    line=md.max_lines + 1,
                    fix="Move directory-specific guidance into nested AGENTS.md files and "
                    "link to longer docs instead of inlining them.",
                ),
                ("agents-md/too-long", path, "lines"),
            )
        )
    size = utf8_size(text)
    if md.max_file_bytes is not None and size > md.max_file_bytes:
        out.append(
            Found(
                Finding(
                    rule="agents-md/too-long",
                    level=Level.WARNING,
                    message=f"{code_untrusted(path, 120)} is {size} bytes, over the "
                    f"{md.max_file_bytes}-byte limit.",
                    path=path,
                    line=line_at_byte(text, md.max_file_bytes),
                    fix="Trim it, or split guidance into nested AGENTS.md files.",
                ),
                ("agents-md/too-long", path, "bytes"),
            )
        )
    agents_dir = parent_dir(path)
    if present is not None:
        reported: set[str] = set()
        for ref in doc_refs(text):
            if ref.line in secret_lines:
                continue
            target = path_reference(ref.value, ref.kind)
            if target is None or target in reported:
                continue
            ok, _ = resolves(target, agents_dir, present, dirs, basenames)
            if ok:
                continue
            reported.add(target)
            out.append(
                Found(
                    Finding(
                        rule="agents-md/missing-path",
                        level=Level.ERROR,
                        message=f"{code_untrusted(path, 120)} line {ref.line} refers to "
                        f"{code_untrusted(target, 80)}, which is not in the repository.",
                        path=path,
                        line=ref.line,
                        fix="Update or remove the stale path so Codex is not sent looking for it.",
                    ),
                    ("agents-md/missing-path", path, target),
                )
            )
    seen_targets: set[tuple[str, str, str]] = set()
    for line, command in command_lines(text):
        if line in secret_lines:
            continue
        for target in command_targets(command):
            directory = posixpath.normpath(posixpath.join(agents_dir, target.directory))
            directory = "" if directory == "." else directory
            ident = (target.tool, target.name, directory)
            if ident in seen_targets:
                continue
            seen_targets.add(ident)
            finding = target_finding(path, line, target, directory, build_files)
            if finding is not None:
                out.append(Found(finding, ("agents-md/missing-target", path, *ident)))
    for line, found in absolute_paths(text):
        if line in secret_lines:
            continue
        out.append(
            Found(
                Finding(
                    rule="agents-md/absolute-path",
                    level=Level.WARNING,
                    message=f"{code_untrusted(path, 120)} line {line} has a machine-specific "
                    f"path {code_untrusted(found, 80)}; it does not exist in Codex's "
                    "environment or on a teammate's machine.",
                    path=path,
                    line=line,
                    fix="Use a path relative to the repository root.",
                ),
                ("agents-md/absolute-path", path, found),
            )
        )
    return out


def target_finding(
    path: str,
    line: int,
    target: Target,
    directory: str,
    build_files: Callable[[str], str | None],
) -> Finding | None:
    """A finding when the build file that applies was fetched and lacks the target."""
    found = build_files(f"{target.tool}:{directory}")
    if found is None or any(ch in target.name for ch in "`$%<>{}"):
        return None
    if target.tool == "npm":
        names, where, what = package_scripts(found), "package.json", "script"
    else:
        names, where, what = make_targets(found), "Makefile", "target"
    if names is None or target.name in names:
        return None
    name = code_untrusted(target.name, 60)
    return Finding(
        rule="agents-md/missing-target",
        level=Level.ERROR,
        message=f"{code_untrusted(path, 120)} line {line} says to run "
        f"{code_untrusted(target.command, 80)}, but the {where} it would use has no "
        f"{name} {what}.",
        path=path,
        line=line,
        fix=f"Add the {name} {what} to the {where}, or fix the command in the instructions.",
    )


def secret_findings(secrets: list[Secret]) -> list[Finding]:
    findings = []
    seen: set[tuple[str, int, str]] = set()
    for secret in secrets:
        kind, path = secret.kind, secret.path
        ident = (path, secret.line, secret.value)
        if ident in seen:
            continue
        seen.add(ident)
        findings.append(
            Finding(
                rule="agents-md/secret",
                level=Level.ERROR,
                message=f"{code_untrusted(path, 120)} line {secret.line} contains {kind} "
                f"({code_untrusted(mask(secret.value), 10)}).",
                path=path,
                line=secret.line,
                fix="Remove it from the file and from git history, and revoke or rotate it: "
                "anything committed must be treated as leaked. Codex sends this file to "
                "the model with every task.",
            )
        )
    return findings


PROBE_HEAD = 8
"""Shortest secret fragment scrubbed; also the length of the index key in `FindingScrubber`."""


class FindingScrubber:
    """Belt and braces: no finding text may carry a secret, even a truncated one.

    Each secret's value and its first 16 characters (if 8 or longer) are
    replaced with its mask. A file can hold thousands of secret-shaped strings
    and as many findings, so the values are indexed by their first 8
    characters and each text is checked only against the values it contains.
    """

    def __init__(self, values: list[str]) -> None:
        self._values = values
        self._by_head: dict[str, list[int]] = {}
        for index, value in enumerate(values):
            for probe in probes(value):
                self._by_head.setdefault(probe[:PROBE_HEAD], []).append(index)

    def _candidates(self, text: str | None) -> set[int]:
        found: set[int] = set()
        if not text or not self._by_head:
            return found
        for i in range(len(text) - PROBE_HEAD + 1):
            hit = self._by_head.get(text[i : i + PROBE_HEAD])
            if hit:
                found.update(hit)
        return found

    def __call__(self, finding: Finding) -> Finding:
        message, fix = finding.message, finding.fix
        for index in sorted(self._candidates(message) | self._candidates(fix)):
            value = self._values[index]
            for probe in probes(value):
                message = message.replace(probe, mask(value))
                fix = fix.replace(probe, mask(value)) if fix else fix
        if message == finding.message and fix == finding.fix:
            return finding
        return replace(finding, message=message, fix=fix)


def probes(value: str) -> list[str]:
    """What is scrubbed for one secret: the value, then its first 16 characters."""
    return [p for p in dict.fromkeys((value, value[:16])) if len(p) >= PROBE_HEAD]
