"""Credentials in a text: known token shapes and hard-coded assignments.

Shared vocabulary because every outgoing text is scrubbed against what this finds
(`bot.core.scrub`), not only the `agents-md` practice's findings. One linear pass;
values are kept only to mask and scrub.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from bot.core.markdown import MAX_PARSE_CHARS


@dataclass(frozen=True)
class Secret:
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


def find_secrets(text: str, limit: int = MAX_PARSE_CHARS) -> list[Secret]:
    """Credentials in one file, by line; values are kept only to mask and scrub.

    One pass, linear in the text: an assignment is skipped when its value overlaps
    a shape already found on the line (looked up by position, not by comparing
    with every earlier secret). Only the first ``limit`` characters are read, as
    for paths and commands; `secrets_cut` says when that left some unread.
    """
    found: list[Secret] = []
    for number, line in enumerate(text[:limit].splitlines(), start=1):
        on_line: list[Secret] = []
        spans: list[tuple[int, int]] = []  # shape hits, in order of position
        for token in _TOKEN.finditer(line):
            word = token.group()
            for kind, shape in _SECRET_SHAPES:
                start = _shape_start(word, shape)
                if start is not None:
                    hit = shape.match(word, start)
                    if hit:
                        on_line.append(Secret(kind, number, hit.group()))
                        spans.append((token.start() + hit.start(), token.start() + hit.end()))
                        break
        if "-----BEGIN" in line:
            key = _PRIVATE_KEY.search(line)
            if key:
                on_line.append(Secret("a private key", number, key.group()))
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
                on_line.append(Secret("a hard-coded credential", number, value))
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
