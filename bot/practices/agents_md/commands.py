"""Commands the instructions ask for, and the build files (`package.json`,
`Makefile`) that must define them. Bounded, unnested patterns: AGENTS text is untrusted."""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.core.markdown import InlineRef, inline_refs, parse
from bot.practices.agents_md.chain import (
    AGENTS,
    OVERRIDE,
    ancestors,
    bounded,
    join_path,
    parent_dir,
)

# --- build files ------------------------------------------------------------------

# `npm run X`, `make X` and friends, read from one command line. Bounded and
# unnested, like every pattern here, since AGENTS text is untrusted.
_CD = re.compile(r"^cd\s{1,8}(\S{1,300})$")
_SCRIPT_RUNNERS = ("npm", "pnpm", "yarn", "bun")


@dataclass(frozen=True)
class Target:
    tool: str  # "npm" (a package.json script) or "make"
    name: str
    directory: str  # relative to the AGENTS file's directory ("" = same)
    command: str


def command_targets(command: str) -> list[Target]:
    """Script and make targets one shell line needs, following ``cd X &&``."""
    targets: list[Target] = []
    directory = ""
    for part in re.split(r"&&|;|\|\|", command):
        words = part.split()
        if not words:
            continue
        cd = _CD.match(" ".join(words))
        if cd:
            directory = posixpath.normpath(posixpath.join(directory, cd.group(1)))
            continue
        tool, rest = words[0], words[1:]
        if tool in _SCRIPT_RUNNERS:
            where = directory
            args: list[str] = []
            skip = False
            for word in rest:
                if skip:
                    where = posixpath.normpath(posixpath.join(directory, word))
                    skip = False
                elif word in ("--prefix", "-C", "--dir"):
                    skip = True
                elif word == "--":
                    break
                elif not word.startswith("-"):
                    args.append(word)
            name = None
            if args[:1] in (["run"], ["run-script"]) and len(args) >= 2:
                name = args[1]
            elif args[:1] == ["test"] and tool != "bun":
                name = "test"
            if name:
                targets.append(Target("npm", name, where, part.strip()))
        elif tool in ("make", "gmake"):
            where = directory
            skip = False
            for word in rest:
                if skip:
                    where = posixpath.normpath(posixpath.join(directory, word))
                    skip = False
                elif word in ("-C", "--directory", "-f", "--file"):
                    skip = word in ("-C", "--directory")
                    if not skip:
                        return targets  # another makefile: not ours to check
                elif word.startswith("-") or "=" in word:
                    continue
                else:
                    targets.append(Target("make", word, where, part.strip()))
    return [t for t in targets if t.directory != ".." and not t.directory.startswith("../")]


@lru_cache(maxsize=64)
def doc_refs(text: str) -> tuple[InlineRef, ...]:
    """Parsed once per text: head and base, gateway and practice often share files."""
    return tuple(inline_refs(text))


@lru_cache(maxsize=64)
def command_lines(text: str) -> tuple[tuple[int, str], ...]:
    """Command lines of a document: code spans and fenced lines, with their lines."""
    commands = [(r.line, r.value.strip()) for r in doc_refs(text) if r.kind == "code"]
    for section in parse(text).sections:
        for line, block in section.code_blocks:
            for offset, raw in enumerate(block.splitlines()):
                stripped = raw.strip().removeprefix("$ ").strip()
                if stripped and not stripped.startswith("#"):
                    commands.append((line + 1 + offset, stripped))
    return tuple(commands)


def _needs(texts: Iterable[str]) -> tuple[bool, bool]:
    """Whether any text runs package scripts, and whether any runs make."""
    npm = make = False
    for text in texts:
        for _, command in command_lines(text):
            for target in command_targets(command):
                npm |= target.tool == "npm"
                make |= target.tool == "make"
        if npm and make:
            break
    return npm, make


PACKAGE_JSON = "package.json"
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")


def nearest(present: Collection[str], directory: str, names: Iterable[str]) -> str | None:
    """The build file GNU make or npm would use from ``directory``: the nearest one up."""
    names = tuple(names)
    for ancestor in reversed(ancestors(directory)):
        for name in names:
            path = join_path(ancestor, name)
            if path in present:
                return path
    return None


def nearest_make(present: Collection[str], directory: str) -> str | None:
    # make does not search upwards: only the directory itself counts.
    for name in MAKEFILES:
        path = join_path(directory, name)
        if path in present:
            return path
    return None


def referenced_build_files(
    texts: Iterable[str] | Mapping[str, str], tree: Iterable[str]
) -> set[str]:
    """Build files to fetch so `npm run X` / `make X` in these AGENTS texts can be checked.

    Given a mapping of AGENTS path -> text, exactly the nearest ``package.json``
    and the ``Makefile`` of each file's directory (and of any ``cd``/``-C``
    directory). Given bare texts, whose directories are unknown, the same for
    every AGENTS file in the tree, but only for the tools the texts use.
    """
    present = bounded(tree)
    wanted: set[str] = set()
    if isinstance(texts, Mapping):
        for path, text in texts.items():
            base = parent_dir(path)
            for _, command in command_lines(text):
                for target in command_targets(command):
                    directory = posixpath.normpath(posixpath.join(base, target.directory))
                    directory = "" if directory == "." else directory
                    found = (
                        nearest(present, directory, [PACKAGE_JSON])
                        if target.tool == "npm"
                        else nearest_make(present, directory)
                    )
                    if found:
                        wanted.add(found)
        return wanted
    npm, make = _needs(texts)
    if not (npm or make):
        return wanted
    agents_dirs = {parent_dir(p) for p in present if posixpath.basename(p) in (AGENTS, OVERRIDE)}
    for directory in agents_dirs | {""}:
        if npm:
            found = nearest(present, directory, [PACKAGE_JSON])
            if found:
                wanted.add(found)
        if make:
            found = nearest_make(present, directory)
            if found:
                wanted.add(found)
    return wanted


def package_scripts(text: str) -> set[str] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return set(scripts) if isinstance(scripts, dict) else set()


def make_targets(text: str) -> set[str] | None:
    """Targets a Makefile defines; None when it can't be told (includes, pattern rules)."""
    targets: set[str] = set()
    for raw in text.splitlines():
        if not raw or raw[0] in " \t#":
            continue
        line = raw.split("#", 1)[0]
        if line.startswith(("include ", "-include ", "sinclude ")):
            return None
        colon = line.find(":")
        if colon <= 0 or line[colon + 1 : colon + 2] == "=":
            continue
        head = line[:colon]
        if "=" in head:
            continue
        names = head.split()
        if any("%" in n or "$" in n for n in names):
            return None
        targets.update(names)
        if names == [".PHONY"]:
            targets.update(line[colon + 1 :].split())
    return targets


# --- test commands -------------------------------------------------------------------

_TEST_COMMAND = re.compile(
    r"(?i)(?<![\w\-])(?:pytest|py\.test|tox|nox|ruff|mypy|pyright|flake8|pylint|eslint|jest"
    r"|vitest|mocha|phpunit|rspec|ctest|golangci-lint|shellcheck|pre-commit run|tsc\b"
    r"|(?:npm|pnpm|yarn|bun)(?: run)? (?:test|lint|check|typecheck|type-check|verify|ci)\b"
    r"|(?:make|just|task) (?:test|check|lint|ci|verify|tests)\b"
    r"|cargo (?:test|clippy|check|nextest)|go (?:test|vet)\b"
    r"|(?:\./)?gradlew? (?:test|check|build)|mvnw? (?:test|verify)|dotnet test|swift test"
    r"|mix test|rake test|bazel test|python3? -m (?:pytest|unittest)|unittest)"
)


def has_test_command(text: str) -> bool:
    return _TEST_COMMAND.search(text) is not None


def build_lookup(
    present: Collection[str] | None, files: Mapping[str, str]
) -> Callable[[str], str | None]:
    """``"npm:<dir>"``/``"make:<dir>"`` -> the text of the build file that applies, if fetched."""
    known: Collection[str] = present if present is not None else set(files)

    def lookup(key: str) -> str | None:
        tool, _, directory = key.partition(":")
        if tool == "npm":
            path = nearest(known, directory, [PACKAGE_JSON])
        else:
            path = nearest_make(known, directory)
        return files.get(path) if path is not None else None

    return lookup
