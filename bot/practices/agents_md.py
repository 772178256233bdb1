"""Practice `agents-md`: the AGENTS.md files Codex will load are sound.

Codex reads one instruction file per directory from the repo root down to the
directory it works in, and stops at a byte budget without saying so. This
practice rebuilds that chain for every directory the PR touches and checks
what Codex would actually get: the budget, stale paths and build targets,
machine-specific paths, a runnable check, and no committed secrets. Problems
the PR did not introduce are only warnings (except secrets), so a team can
adopt it on an imperfect repo. Pure; the gateway calls `chain_paths` and
`referenced_build_files` first to know what to fetch.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from urllib.parse import unquote

from bot.config import AgentsMdConfig, GuardConfig
from bot.findings import Finding, Level, PracticeResult, outcome_from_findings
from bot.markdown_doc import MAX_PARSE_CHARS, InlineRef, inline_refs, parse
from bot.sanitize import code_untrusted
from bot.snapshot import PRSnapshot

PRACTICE_ID = "agents-md"
OVERRIDE = "AGENTS.override.md"
AGENTS = "AGENTS.md"
ALWAYS_INTRODUCED = frozenset({"agents-md/missing-root"})
"""Rules never softened as "already there": `require_root` asks for the file
outright, and a repo that never had one would otherwise never be held to it.
(Secrets are not softened either; they are reported apart from the others.)"""
MAX_TREE_PATHS = 200_000
"""More paths than this and the tree is read only this far (GitHub truncates too)."""


# --- the chain ------------------------------------------------------------------


def candidate_names(config: GuardConfig) -> list[str]:
    """Per-directory file names in Codex's order of preference."""
    names = [OVERRIDE, AGENTS]
    for name in config.practices.agents_md.fallback_filenames:
        if name and "/" not in name and name not in names:
            names.append(name)
    return names


def _parent(path: str) -> str:
    return posixpath.dirname(path.strip("/"))


def _ancestors(directory: str) -> list[str]:
    """``a/b`` -> ``["", "a", "a/b"]``: the directories Codex walks, root first."""
    parts = [p for p in directory.split("/") if p]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


def _chain(present: Collection[str], leaf: str, names: list[str]) -> list[str]:
    chain = []
    for directory in _ancestors(leaf):
        for name in names:
            path = _join(directory, name)
            if path in present:
                chain.append(path)
                break
    return chain


def _leaves(changed_files: Iterable[str]) -> set[str]:
    leaves = {""}
    for count, path in enumerate(changed_files):
        if count >= MAX_TREE_PATHS:
            break
        leaves.add(_parent(path))
    return leaves


def _bounded(tree: Iterable[str]) -> set[str]:
    present: set[str] = set()
    for count, path in enumerate(tree):
        if count >= MAX_TREE_PATHS:
            break
        present.add(path)
    return present


def chains(
    tree: Iterable[str], changed_files: Iterable[str], config: GuardConfig
) -> dict[str, list[str]]:
    """Leaf directory -> the AGENTS files Codex loads there, root first.

    The root is always a leaf, so the root chain is judged even for a PR that
    touches nothing below it.
    """
    present = _bounded(tree)
    names = candidate_names(config)
    return {leaf: _chain(present, leaf, names) for leaf in sorted(_leaves(changed_files))}


def chain_paths(
    tree: Iterable[str], changed_files: Iterable[str], config: GuardConfig
) -> list[str]:
    """Every AGENTS file some touched directory's chain includes, root first, once each."""
    seen: set[str] = set()
    for chain in chains(tree, changed_files, config).values():
        seen.update(chain)
    return sorted(seen, key=lambda p: (p.count("/"), p))


# --- build files ------------------------------------------------------------------

# `npm run X`, `make X` and friends, read from one command line. Bounded and
# unnested, like every pattern here, since AGENTS text is untrusted.
_CD = re.compile(r"^cd\s{1,8}(\S{1,300})$")
_SCRIPT_RUNNERS = ("npm", "pnpm", "yarn", "bun")


@dataclass(frozen=True)
class _Target:
    tool: str  # "npm" (a package.json script) or "make"
    name: str
    directory: str  # relative to the AGENTS file's directory ("" = same)
    command: str


def _command_targets(command: str) -> list[_Target]:
    """Script and make targets one shell line needs, following ``cd X &&``."""
    targets: list[_Target] = []
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
                targets.append(_Target("npm", name, where, part.strip()))
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
                    targets.append(_Target("make", word, where, part.strip()))
    return [t for t in targets if t.directory != ".." and not t.directory.startswith("../")]


@lru_cache(maxsize=64)
def _refs(text: str) -> tuple[InlineRef, ...]:
    """Parsed once per text: head and base, gateway and practice often share files."""
    return tuple(inline_refs(text))


@lru_cache(maxsize=64)
def _commands(text: str) -> tuple[tuple[int, str], ...]:
    """Command lines of a document: code spans and fenced lines, with their lines."""
    commands = [(r.line, r.value.strip()) for r in _refs(text) if r.kind == "code"]
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
        for _, command in _commands(text):
            for target in _command_targets(command):
                npm |= target.tool == "npm"
                make |= target.tool == "make"
        if npm and make:
            break
    return npm, make


PACKAGE_JSON = "package.json"
MAKEFILES = ("GNUmakefile", "makefile", "Makefile")


def _nearest(present: Collection[str], directory: str, names: Iterable[str]) -> str | None:
    """The build file GNU make or npm would use from ``directory``: the nearest one up."""
    names = tuple(names)
    for ancestor in reversed(_ancestors(directory)):
        for name in names:
            path = _join(ancestor, name)
            if path in present:
                return path
    return None


def _nearest_make(present: Collection[str], directory: str) -> str | None:
    # make does not search upwards: only the directory itself counts.
    for name in MAKEFILES:
        path = _join(directory, name)
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
    present = _bounded(tree)
    wanted: set[str] = set()
    if isinstance(texts, Mapping):
        for path, text in texts.items():
            base = _parent(path)
            for _, command in _commands(text):
                for target in _command_targets(command):
                    directory = posixpath.normpath(posixpath.join(base, target.directory))
                    directory = "" if directory == "." else directory
                    found = (
                        _nearest(present, directory, [PACKAGE_JSON])
                        if target.tool == "npm"
                        else _nearest_make(present, directory)
                    )
                    if found:
                        wanted.add(found)
        return wanted
    npm, make = _needs(texts)
    if not (npm or make):
        return wanted
    agents_dirs = {_parent(p) for p in present if posixpath.basename(p) in (AGENTS, OVERRIDE)}
    for directory in agents_dirs | {""}:
        if npm:
            found = _nearest(present, directory, [PACKAGE_JSON])
            if found:
                wanted.add(found)
        if make:
            found = _nearest_make(present, directory)
            if found:
                wanted.add(found)
    return wanted


def _package_scripts(text: str) -> set[str] | None:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    scripts = data.get("scripts") if isinstance(data, dict) else None
    return set(scripts) if isinstance(scripts, dict) else set()


def _make_targets(text: str) -> set[str] | None:
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


# --- secrets -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Secret:
    kind: str
    line: int
    value: str
    path: str = ""


_TOKEN = re.compile(r"[A-Za-z0-9_.\-]{12,}")
_SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an AWS access key ID", re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])")),
    ("a GitHub token", re.compile(r"gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])")),
    ("a GitHub token", re.compile(r"github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])")),
    ("a Stripe secret key", re.compile(r"[sr]k_live_[A-Za-z0-9]{16,255}(?![A-Za-z0-9])")),
    ("a Slack token", re.compile(r"xox[abprs]-[A-Za-z0-9-]{10,255}")),
    ("a Google API key", re.compile(r"AIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])")),
    (
        "an OpenAI API key",
        re.compile(r"sk-(?:proj-|svcacct-|admin-)?(?=[A-Za-z_\-]{0,255}\d)[A-Za-z0-9_\-]{20,255}"),
    ),
    (
        "a JSON Web Token",
        re.compile(r"eyJ[A-Za-z0-9_\-]{8,4096}\.eyJ[A-Za-z0-9_\-]{8,4096}\.[A-Za-z0-9_\-]{8,4096}"),
    ),
)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_ASSIGNMENT = re.compile(
    r"(?i)(?<![a-z0-9])(password|passwd|pwd|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|access[_-]?token|auth[_-]?token|token|private[_-]?key)[\"']?"
    r"[ \t]{0,3}[:=][ \t]{0,3}([\"']?)([^\s\"'`,;]{1,256})"
)
_PLACEHOLDER_WORDS = (
    "xxx", "***", "...", "…", "<", ">", "{", "}", "$", "%", "example", "placeholder",
    "changeme", "change_me", "change-me", "your", "dummy", "redacted", "secret", "password",
    "token", "todo", "fixme", "sample", "fake", "test", "env", "none", "null", "required",
    "optional", "process.", "os.", "getenv", "vault", "secrets.",
)  # fmt: skip


def _placeholder(value: str) -> bool:
    folded = value.casefold()
    if any(word in folded for word in _PLACEHOLDER_WORDS):
        return True
    if len(set(folded)) <= 2 or value.isupper() or folded in ("true", "false"):
        return True
    return value.endswith("(") or "(" in value


def mask(value: str) -> str:
    """First four characters and an ellipsis: enough to find it, useless to use."""
    return value[:4] + "…"


def find_secrets(text: str, limit: int = MAX_PARSE_CHARS) -> list[_Secret]:
    """Credentials in one file, by line; values are kept only to mask and scrub.

    One pass, linear in the text: an assignment is skipped when its value overlaps
    a shape already found on the line (looked up by position, not by comparing
    with every earlier secret). Only the first ``limit`` characters are read, as
    for paths and commands; `secrets_cut` says when that left some unread.
    """
    found: list[_Secret] = []
    for number, line in enumerate(text[:limit].splitlines(), start=1):
        on_line: list[_Secret] = []
        spans: list[tuple[int, int]] = []  # shape hits, in order of position
        for token in _TOKEN.finditer(line):
            word = token.group()
            for kind, shape in _SECRET_SHAPES:
                start = _shape_start(word, shape)
                if start is not None:
                    hit = shape.match(word, start)
                    if hit:
                        on_line.append(_Secret(kind, number, hit.group()))
                        spans.append((token.start() + hit.start(), token.start() + hit.end()))
                        break
        if "-----BEGIN" in line:
            key = _PRIVATE_KEY.search(line)
            if key:
                on_line.append(_Secret("a private key", number, key.group()))
                spans.append(key.span())
                spans.sort()
        starts = [a for a, _ in spans]
        for assignment in _ASSIGNMENT.finditer(line):
            quote, value = assignment.group(2), assignment.group(3)
            begin, end = assignment.span(3)
            # The only spans that can overlap [begin, end) start before `end`; spans on
            # one line never overlap each other, so the nearest such span decides.
            i = bisect.bisect_left(starts, end) - 1
            if i >= 0 and spans[i][1] > begin:
                continue
            long_enough = len(value) >= 8 and (quote or any(c.isdigit() for c in value))
            if long_enough and not _placeholder(value):
                on_line.append(_Secret("a hard-coded credential", number, value))
        found.extend(on_line)
    return found


def secrets_cut(text: str, limit: int = MAX_PARSE_CHARS) -> bool:
    """True when `find_secrets` left part of ``text`` unread."""
    return len(text) > limit


_SHAPE_PREFIXES = ("AKIA", "ASIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
                   "sk_live_", "rk_live_", "xox", "AIza", "sk-", "eyJ")  # fmt: skip


def _shape_start(word: str, shape: re.Pattern[str]) -> int | None:
    """Where a secret shape may start in a token: its start, or after a separator."""
    if word.startswith(_SHAPE_PREFIXES):
        return 0
    for sep in ("_", "-", "."):
        index = word.find(sep)
        if 0 <= index < len(word) - 1 and word[index + 1 :].startswith(_SHAPE_PREFIXES):
            return index + 1
    return None


# --- paths ---------------------------------------------------------------------------

_URLISH = re.compile(r"^[a-z][a-z0-9+.\-]{0,20}:", re.IGNORECASE)
_LINE_SUFFIX = re.compile(r"(?::\d{1,7}){1,2}$|#L\d{1,7}(?:-L?\d{1,7})?$")
_FILE_EXT = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}$")
_NOT_PATH_CHARS = frozenset("*?[]{}<>$%|\"'`=,;()!^~@ \t\\&")
_PLACEHOLDER_PATH = ("path/to", "your", "example", "xxx", "...", "…", "foo/", "/foo",
                     "my-", "my_", "some/", "<", "{")  # fmt: skip
_TECH_NAMES = frozenset(
    "node.js next.js vue.js nuxt.js express.js d3.js three.js chart.js react.js angular.js"
    " ember.js socket.io nest.js svelte.js deno.js bun.js p5.js alpine.js solid.js".split()
)


def _path_reference(value: str, kind: str) -> str | None:
    """The repo path a code span or link names, or None if it is not one."""
    value = value.strip()
    if kind == "link":
        if _URLISH.match(value) or value.startswith(("#", "//")):
            return None
        value = unquote(value.split("#", 1)[0].split("?", 1)[0])
    if not value or len(value) > 300 or value.startswith(("/", "~", "-")):
        return None
    value = _LINE_SUFFIX.sub("", value)
    if _URLISH.match(value) or any(ch in _NOT_PATH_CHARS for ch in value):
        return None
    folded = value.casefold()
    if any(p in folded for p in _PLACEHOLDER_PATH) or folded in _TECH_NAMES:
        return None
    if ".." in value.replace("../", "").replace("/..", ""):
        return None  # "a..b", "./..." and friends: ranges and Go patterns, not paths
    if "/" not in value and not _FILE_EXT.search(value):
        return None
    if "/" not in value and kind == "code" and value.count(".") > 1:
        return None  # `bot.config.load`: a dotted name, not a file
    return value


def _exists(present: Collection[str], dirs: frozenset[str], path: str) -> bool:
    path = path.rstrip("/")
    return path in present or path in dirs


def _directories(present: Iterable[str]) -> frozenset[str]:
    dirs: set[str] = set()
    for path in present:
        parent = _parent(path)
        while parent and parent not in dirs:
            dirs.add(parent)
            parent = _parent(parent)
    return frozenset(dirs)


def _resolves(
    ref: str,
    agents_dir: str,
    present: Collection[str],
    dirs: frozenset[str],
    basenames: frozenset[str],
) -> tuple[bool, list[str]]:
    """Whether ``ref`` exists, and the repo paths it could mean."""
    if "/" not in ref.rstrip("/") and not ref.startswith("."):
        # A bare file name: written loosely, so anywhere in the repo will do.
        return ref.rstrip("/") in basenames or ref.rstrip("/") in dirs, [ref]
    candidates: list[str] = []
    # The file's directory, then each one above it to the root: "src/" in a
    # package's nested AGENTS.md usually means the package's src.
    for base in reversed(_ancestors(agents_dir)):
        joined = posixpath.normpath(posixpath.join(base, ref))
        if joined == ".." or joined.startswith("../"):
            continue
        candidates.append("" if joined == "." else joined)
    if any(c == "" or _exists(present, dirs, c) for c in candidates):
        return True, candidates
    if not ref.startswith(".") and not ref.endswith("/") and not _FILE_EXT.search(ref):
        # `owner/repo`, `and/or`: only a path if its first part is a real directory.
        first = ref.split("/", 1)[0]
        if not any(_exists(present, dirs, _join(b, first)) for b in _ancestors(agents_dir)):
            return True, candidates
    return not candidates, candidates


_ABSOLUTE = re.compile(
    r"(?<![\w/.\-])(/(?:Users|home)/([A-Za-z0-9._\-]{1,64})(?:/[^\s`'\"<>)\]]{0,200})?)"
    r"|(?<![\w])([A-Za-z]:\\{1,2}Users\\{1,2}([^\\\s`'\"<>]{1,64})(?:\\[^\s`'\"<>)\]]{0,200})?)"
)
_GENERIC_USERS = frozenset(
    "user username you me runner ubuntu root name your-name yourname someone me <user> $user"
    " vscode node codespace app jovyan admin".split()
)


def _absolute_paths(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if "/Users/" not in line and "/home/" not in line and ":\\" not in line:
            continue
        for match in _ABSOLUTE.finditer(line):
            user = (match.group(2) or match.group(4) or "").casefold()
            if user in _GENERIC_USERS or user.startswith(("$", "%", "<", "{")):
                continue
            found.append((number, match.group(1) or match.group(3)))
    return found


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


def _has_test_command(text: str) -> bool:
    return _TEST_COMMAND.search(text) is not None


# --- evaluation ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    """A finding and what makes it "the same problem" at base, lines aside."""

    finding: Finding
    key: tuple[str, ...]


@lru_cache(maxsize=64)
def _size(text: str) -> int:
    """UTF-8 size, once per text: every chain that holds a file (the root: all) asks."""
    return len(text.encode("utf-8"))


def _line_at_byte(text: str, offset: int) -> int:
    return text.encode("utf-8")[:offset].count(b"\n") + 1


def _names(paths: Iterable[str]) -> str:
    paths = list(paths)
    shown = ", ".join(code_untrusted(p, limit=120) for p in paths[:5])
    return shown + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _kib(size: int) -> str:
    value = size / 1024
    return f"{value:.0f} KiB" if value == int(value) else f"{value:.1f} KiB"


@dataclass
class _ChainBudget:
    loaded: list[tuple[str, int]]  # path, bytes Codex reads
    cut: tuple[str, int] | None  # path, byte at which it is cut
    dropped: list[str]
    total: int  # bytes the chain holds on disk (known files)


def _budget(chain: list[str], files: Mapping[str, str], limit: int) -> _ChainBudget:
    """Codex's loader: files in order, one shared budget, the crossing file cut."""
    remaining = limit
    state = _ChainBudget([], None, [], 0)
    for path in chain:
        text = files.get(path)
        if text is None or not text.strip():
            continue  # not fetched, or empty: Codex skips empty files
        size = _size(text)
        state.total += size
        if state.cut is not None or remaining <= 0:
            state.dropped.append(path)
            continue
        if size > remaining:
            state.cut = (path, remaining)
            state.loaded.append((path, remaining))
            remaining = 0
        else:
            state.loaded.append((path, size))
            remaining -= size
    return state


def _visible_text(path: str, text: str, budget: _ChainBudget) -> str:
    for loaded, size in budget.loaded:
        if loaded == path:
            return text.encode("utf-8")[:size].decode("utf-8", "ignore")
    return ""


def _is_agents_file(path: str, names: list[str]) -> bool:
    return posixpath.basename(path) in names


def _file_findings(
    path: str,
    text: str,
    md: AgentsMdConfig,
    present: Collection[str] | None,
    dirs: frozenset[str],
    basenames: frozenset[str],
    build_files: Callable[[str], str | None],
    secret_lines: set[int],
) -> list[_Found]:
    """Everything that can be said about one file on its own."""
    out: list[_Found] = []
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines > md.max_lines:
        out.append(
            _Found(
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
    size = _size(text)
    if md.max_file_bytes is not None and size > md.max_file_bytes:
        out.append(
            _Found(
                Finding(
                    rule="agents-md/too-long",
                    level=Level.WARNING,
                    message=f"{code_untrusted(path, 120)} is {size} bytes, over the "
                    f"{md.max_file_bytes}-byte limit.",
                    path=path,
                    line=_line_at_byte(text, md.max_file_bytes),
                    fix="Trim it, or split guidance into nested AGENTS.md files.",
                ),
                ("agents-md/too-long", path, "bytes"),
            )
        )
    agents_dir = _parent(path)
    if present is not None:
        reported: set[str] = set()
        for ref in _refs(text):
            if ref.line in secret_lines:
                continue
            target = _path_reference(ref.value, ref.kind)
            if target is None or target in reported:
                continue
            ok, _ = _resolves(target, agents_dir, present, dirs, basenames)
            if ok:
                continue
            reported.add(target)
            out.append(
                _Found(
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
    for line, command in _commands(text):
        if line in secret_lines:
            continue
        for target in _command_targets(command):
            directory = posixpath.normpath(posixpath.join(agents_dir, target.directory))
            directory = "" if directory == "." else directory
            ident = (target.tool, target.name, directory)
            if ident in seen_targets:
                continue
            seen_targets.add(ident)
            finding = _target_finding(path, line, target, directory, build_files)
            if finding is not None:
                out.append(_Found(finding, ("agents-md/missing-target", path, *ident)))
    for line, found in _absolute_paths(text):
        if line in secret_lines:
            continue
        out.append(
            _Found(
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


def _target_finding(
    path: str,
    line: int,
    target: _Target,
    directory: str,
    build_files: Callable[[str], str | None],
) -> Finding | None:
    """A finding when the build file that applies was fetched and lacks the target."""
    found = build_files(f"{target.tool}:{directory}")
    if found is None or any(ch in target.name for ch in "`$%<>{}"):
        return None
    if target.tool == "npm":
        names, where, what = _package_scripts(found), "package.json", "script"
    else:
        names, where, what = _make_targets(found), "Makefile", "target"
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


def _build_lookup(
    present: Collection[str] | None, files: Mapping[str, str]
) -> Callable[[str], str | None]:
    """``"npm:<dir>"``/``"make:<dir>"`` -> the text of the build file that applies, if fetched."""
    known: Collection[str] = present if present is not None else set(files)

    def lookup(key: str) -> str | None:
        tool, _, directory = key.partition(":")
        if tool == "npm":
            path = _nearest(known, directory, [PACKAGE_JSON])
        else:
            path = _nearest_make(known, directory)
        return files.get(path) if path is not None else None

    return lookup


def _judge(
    snapshot: PRSnapshot,
    config: GuardConfig,
    files: Mapping[str, str],
    build_files: Mapping[str, str],
    *,
    at_base: bool = False,
) -> tuple[list[_Found], dict[str, list[str]], dict[str, _ChainBudget], list[_Secret]]:
    """All findings for one version of the files (head, or base for comparison)."""
    md = config.practices.agents_md
    names = candidate_names(config)
    tree = snapshot.head_tree
    present: Collection[str] = (
        _bounded(tree) if tree is not None else {p for p in files if files[p] is not None}
    )
    if at_base:
        # What the chain was at base: files the PR added were not there.
        present = {p for p in present if not _is_agents_file(p, names) or p in files}
    leaves = _leaves(snapshot.changed_files) | {
        _parent(p) for p in files if _is_agents_file(p, names)
    }
    chain_map = {leaf: _chain(present, leaf, names) for leaf in sorted(leaves)}
    found: list[_Found] = []
    root_known = tree is not None or bool(files)
    if md.require_root and root_known and not any(n in present for n in names):
        found.append(
            _Found(
                Finding(
                    rule="agents-md/missing-root",
                    level=Level.ERROR,
                    message="The repository has no root AGENTS.md, so Codex starts every task "
                    "without the team's instructions.",
                    fix="Add an AGENTS.md at the repository root with how to build, test and "
                    "lint, and the conventions Codex should follow.",
                ),
                ("agents-md/missing-root",),
            )
        )
    budgets: dict[str, _ChainBudget] = {}
    for leaf, chain in chain_map.items():
        budgets[leaf] = _budget(chain, files, md.project_doc_max_bytes)
    found.extend(_over_budget(chain_map, budgets, files, md.project_doc_max_bytes))
    in_chain = sorted({p for chain in chain_map.values() for p in chain if p in files})
    secrets: list[_Secret] = []
    dirs = _directories(present) if tree is not None else frozenset()
    basenames = (
        frozenset(posixpath.basename(p) for p in present) if tree is not None else (frozenset())
    )
    lookup = _build_lookup(present if tree is not None else None, build_files)
    for path in in_chain:
        text = files[path]
        file_secrets = [replace(s, path=path) for s in find_secrets(text)]
        secrets.extend(file_secrets)
        found.extend(
            _file_findings(
                path,
                text,
                md,
                present if tree is not None else None,
                dirs,
                basenames,
                lookup,
                {s.line for s in file_secrets},
            )
        )
    judged: set[tuple[str, ...]] = set()
    for leaf, chain in chain_map.items():
        budget = budgets[leaf]
        readable = [p for p in chain if p in files]
        if not readable or len(readable) < len(chain) or tuple(chain) in judged:
            continue  # nothing fetched to judge, part of it unknown, or already judged
        judged.add(tuple(chain))
        visible = [_visible_text(p, files[p], budget) for p, _ in budget.loaded]
        if any(_has_test_command(v) for v in visible):
            continue
        last = readable[-1]
        loads = _names(p for p, _ in budget.loaded) or _names(readable)
        found.append(
            _Found(
                Finding(
                    rule="agents-md/no-test-command",
                    level=Level.WARNING,
                    message=f"The instructions Codex loads from {loads} name no test or "
                    "check command it can run (such as `pytest`, `npm test` or `make check`).",
                    path=last,
                    line=1,
                    fix="Add a Testing section with the exact commands that must pass "
                    "before a change is done.",
                ),
                ("agents-md/no-test-command", last),
            )
        )
    return found, chain_map, budgets, secrets


def _over_budget(
    chain_map: Mapping[str, list[str]],
    budgets: Mapping[str, _ChainBudget],
    files: Mapping[str, str],
    limit: int,
) -> list[_Found]:
    """One finding per file where the budget runs out, naming every file lost after it."""
    groups: dict[str, list[str]] = {}
    for leaf in chain_map:
        budget = budgets[leaf]
        if budget.cut is not None or budget.dropped:
            where = budget.cut[0] if budget.cut is not None else budget.dropped[0]
            groups.setdefault(where, []).append(leaf)
    found = []
    for where, leaves in groups.items():
        worst = max(leaves, key=lambda leaf: (budgets[leaf].total, len(budgets[leaf].dropped)))
        budget = budgets[worst]
        dropped: list[str] = []
        for leaf in leaves:
            dropped.extend(p for p in budgets[leaf].dropped if p not in dropped)
        if budget.cut is not None:
            at = budget.cut[1]
            line = _line_at_byte(files[where], at)
            what = f"Codex cuts {code_untrusted(where, 120)} at byte {at} (line {line})"
            lost = f" and never reads {_names(dropped)}" if dropped else ""
        else:
            line = 1
            what = "the files before it use the whole budget"
            lost = f", so Codex never reads {_names(dropped)}"
        directory = code_untrusted(worst or "/", 120)
        found.append(
            _Found(
                Finding(
                    rule="agents-md/over-budget",
                    level=Level.ERROR,
                    message=f"The AGENTS chain for {directory} is {budget.total} bytes, over "
                    f"the {limit}-byte `project_doc_max_bytes` budget: {what}{lost}, "
                    "without telling anyone.",
                    path=where,
                    line=line,
                    fix="Shorten the files earlier in the chain (the root most of all) or "
                    "move guidance closer to the code it is about.",
                ),
                ("agents-md/over-budget", where),
            )
        )
    return found


def _secret_findings(secrets: list[_Secret]) -> list[Finding]:
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


_PROBE_HEAD = 8
"""Shortest secret fragment scrubbed; also the length of the index key in `_Scrubber`."""


class _Scrubber:
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
            for probe in _probes(value):
                self._by_head.setdefault(probe[:_PROBE_HEAD], []).append(index)

    def _candidates(self, text: str | None) -> set[int]:
        found: set[int] = set()
        if not text or not self._by_head:
            return found
        for i in range(len(text) - _PROBE_HEAD + 1):
            hit = self._by_head.get(text[i : i + _PROBE_HEAD])
            if hit:
                found.update(hit)
        return found

    def __call__(self, finding: Finding) -> Finding:
        message, fix = finding.message, finding.fix
        for index in sorted(self._candidates(message) | self._candidates(fix)):
            value = self._values[index]
            for probe in _probes(value):
                message = message.replace(probe, mask(value))
                fix = fix.replace(probe, mask(value)) if fix else fix
        if message == finding.message and fix == finding.fix:
            return finding
        return replace(finding, message=message, fix=fix)


def _probes(value: str) -> list[str]:
    """What is scrubbed for one secret: the value, then its first 16 characters."""
    return [p for p in dict.fromkeys((value, value[:16])) if len(p) >= _PROBE_HEAD]


def _base_build_files(snapshot: PRSnapshot) -> dict[str, str]:
    """Build files as at base: the base copy if fetched, else the head copy if untouched."""
    changed = set(snapshot.changed_files)
    files = dict(snapshot.base_files)
    for path, text in snapshot.head_files.items():
        if path not in files and path not in changed:
            files[path] = text
    return files


@dataclass(frozen=True)
class _Changed:
    """The PR's changed files, indexed once for the per-finding questions below."""

    paths: frozenset[str]
    prefixes: frozenset[str]  # every ``x`` such that some changed path starts with ``x/``
    basenames: frozenset[str]

    @classmethod
    def of(cls, changed_files: Iterable[str]) -> _Changed:
        paths = frozenset(changed_files)
        prefixes = {p[:i] for p in paths for i, ch in enumerate(p) if ch == "/"}
        return cls(paths, frozenset(prefixes), frozenset(posixpath.basename(p) for p in paths))


def _paths_changed(changed: _Changed, found: _Found, names: list[str]) -> bool:
    """Did the PR touch what a finding is about (the referenced path, the build file)?"""
    rule = found.key[0]
    if rule == "agents-md/missing-root":
        return any(name in changed.paths for name in names)
    if rule == "agents-md/missing-path":
        path, target = found.key[1], found.key[2]
        bases = _ancestors(_parent(path))
        candidates = {posixpath.normpath(posixpath.join(b, target)) for b in bases}
        return (
            any(c in changed.paths or c.rstrip("/") in changed.prefixes for c in candidates)
            or target in changed.basenames
        )
    return False


def evaluate(snapshot: PRSnapshot, config: GuardConfig) -> PracticeResult:
    """Judge the AGENTS chain of every touched directory as Codex would load it."""
    md = config.practices.agents_md
    names = candidate_names(config)
    head_agents = {p: t for p, t in snapshot.head_files.items() if _is_agents_file(p, names)}
    head, chain_map, budgets, secrets = _judge(snapshot, config, head_agents, snapshot.head_files)
    base_agents = {p: t for p, t in snapshot.base_files.items() if _is_agents_file(p, names)}
    base, *_ = _judge(snapshot, config, base_agents, _base_build_files(snapshot), at_base=True)
    base_keys = {f.key for f in base}
    changed = _Changed.of(snapshot.changed_files)
    findings: list[Finding] = []
    seen: set[tuple[object, ...]] = set()
    for item in head:
        finding = item.finding
        if (
            item.key in base_keys
            and item.key[0] not in ALWAYS_INTRODUCED
            and not _paths_changed(changed, item, names)
        ):
            finding = replace(
                finding,
                level=Level.WARNING,
                message=finding.message + " (already so before this PR)",
            )
        ident = (finding.rule, finding.path, finding.line, finding.message)
        if ident not in seen:
            seen.add(ident)
            findings.append(finding)
    scrub = _Scrubber([s.value for s in secrets])
    findings = [scrub(f) for f in _secret_findings(secrets) + findings]
    reason = _reason(chain_map, budgets, md.project_doc_max_bytes)
    reason += _cut_note(chain_map, head_agents)
    return PracticeResult(
        practice=PRACTICE_ID,
        outcome=outcome_from_findings(findings),
        reason=_with_problems(reason, findings),
        findings=tuple(findings),
    )


_PROBLEM_NAMES = {
    "agents-md/secret": "a secret",
    "agents-md/over-budget": "over Codex's budget",
    "agents-md/missing-root": "no root AGENTS.md",
    "agents-md/missing-path": "a stale path",
    "agents-md/missing-target": "a missing build target",
    "agents-md/absolute-path": "a machine-specific path",
    "agents-md/no-test-command": "no test command",
    "agents-md/too-long": "too long",
}


def _with_problems(reason: str, findings: list[Finding]) -> str:
    """The one-line reason names what is wrong, not only the chain's size."""
    for level, word in ((Level.ERROR, "error"), (Level.WARNING, "warning")):
        hits = [f for f in findings if f.level is level]
        if not hits:
            continue
        kinds = list(dict.fromkeys(_PROBLEM_NAMES.get(f.rule, f.rule) for f in hits))
        plural = "" if len(hits) == 1 else "s"
        return f"{len(hits)} {word}{plural}: {', '.join(kinds)} — {reason}"
    return reason


def _cut_note(chain_map: Mapping[str, list[str]], files: Mapping[str, str]) -> str:
    """Said when a file is too long to read whole for paths and commands."""
    cut = sorted({p for chain in chain_map.values() for p in chain if p in files
                  and len(files[p]) > MAX_PARSE_CHARS})  # fmt: skip
    if not cut:
        return ""
    return (
        f"; only the first {_kib(MAX_PARSE_CHARS)} of {_names(cut)} read for paths, commands"
        " and secrets; the rest was not read"
    )


def _reason(
    chain_map: Mapping[str, list[str]], budgets: Mapping[str, _ChainBudget], limit: int
) -> str:
    files = {p for chain in chain_map.values() for p in chain}
    if not files:
        return "no AGENTS.md in the chain"
    largest = max(chain_map, key=lambda leaf: (budgets[leaf].total, len(chain_map[leaf])))
    chain, size = chain_map[largest], budgets[largest].total
    plural = "file" if len(chain) == 1 else "files"
    if len([c for c in chain_map.values() if c]) <= 1 or len(files) == len(chain):
        return f"{len(chain)} {plural} in the chain, {_kib(size)} of {_kib(limit)}"
    return (
        f"{len(files)} AGENTS files in {len(chain_map)} chains; the largest has "
        f"{len(chain)} {plural}, {_kib(size)} of {_kib(limit)}"
    )
