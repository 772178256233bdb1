"""Credentials in the lines a PR adds, found with detect-secrets' plugins.

detect-secrets (Yelp) keeps the token shapes (AWS, GitHub, Slack, Stripe,
PyPI, npm, JWT, private keys, ...) and the false-positive heuristics; this
module runs its plugins in memory over added lines only, without its global
settings singleton (so concurrent evaluations cannot disturb each other, and
no plugin's network verification can ever run), and adds what 1.5 lacks:
``github_pat_`` tokens, current OpenAI keys (``sk-proj-...``), any
``BEGIN ... PRIVATE KEY`` block, and high-entropy values assigned to
credential names (``*_TOKEN``, ``*_SECRET``, ``PASSWORD``, ...).

A value is kept only to be masked: nothing here returns more of it than its
first four characters. ``# pragma: allowlist secret`` is deliberately not
honoured: the PR under review could add it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.keyword import QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP as _QUOTED
from detect_secrets.plugins.keyword import REGEX_BY_FILETYPE, KeywordDetector
from detect_secrets.util.filetype import determine_file_type

from bot.core.scope_evidence import ChangedFile

MASK_CHARS = 4
WINDOW = 1024
OVERLAP = 320
"""Long lines are scanned in overlapping windows: some plugin regexes backtrack
quadratically within a window, so a window's size bounds the cost per
character, and any token up to ``OVERLAP`` characters lies whole in one window."""

KEYWORD_MAX_HITS = 4
KEYWORD_MAX_QUOTES = 16
"""detect-secrets' keyword regexes backtrack once per keyword and per quote in a
window; a window with more of either than this (no ordinary line has) gets the
shape and entropy checks only, so hostile lines cost linear time."""
_KEYWORD_WORDS = re.compile(
    r"(?i)api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key"
    r"|private_?key|client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd"
    r"|secret|contrase(?:ñ|n)a"
)

_SKIPPED_PLUGINS = frozenset(
    {
        "IPPublicDetector",  # an address is not a credential
        # Quoted high-entropy strings in general flag hashes, fixtures and lock data;
        # entropy is judged below only where a credential name is assigned.
        "Base64HighEntropyString",
        "HexHighEntropyString",
    }
)

KIND_ASSIGNED = "High-entropy value assigned to a credential name"
_OWN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("GitHub Token", re.compile(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])")),
    ("GitHub Token", re.compile(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{22,255}")),
    (
        "OpenAI Token",
        re.compile(r"(?<![A-Za-z0-9_\-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,255}"),
    ),
    ("Private Key", re.compile(r"-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----")),
)
_ASSIGNMENT = re.compile(
    r"(?<![A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_.\-]{0,80})[\"'\]]{0,2}[ \t]{0,5}"
    r"(?::=|=>|=|:)[ \t]{0,5}[\"'`]?([^\s\"'`,;]{16,256})"
)
_CREDENTIAL_NAMES = (
    "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "APIKEY", "API_KEY", "ACCESS_KEY",
    "PRIVATE_KEY", "SECRET_KEY", "AUTH_KEY", "CREDENTIAL", "CREDENTIALS",
)  # fmt: skip
_PLACEHOLDERS = (
    "example", "sample", "placeholder", "changeme", "change_me", "change-me", "dummy",
    "redacted", "xxxx", "****", "....", "your_", "your-", "<", ">", "{", "}", "$", "%",
    "environ", "getenv", "process.env", "secrets.", "vault", "todo", "fixme", "fake",
    # Self-describing test data (`"bench-secret"`, `"test-password"`) is not a credential.
    "secret", "password", "passwd", "token", "test",
)  # fmt: skip
_SOFT_PLUGINS = frozenset({"KeywordDetector", "BasicAuthDetector"})
"""Plugins that find a value by the name or URL slot it sits in, not by its shape."""
SOFT_MIN_CHARS = 8
SOFT_MIN_ENTROPY = 2.5
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=]{40}")


@dataclass(frozen=True)
class Credential:
    """One credential: where it is and what kind. ``value`` is for masking only."""

    path: str
    line: int
    kind: str
    value: str

    @property
    def masked(self) -> str:
        """At most the first four characters, then an ellipsis."""
        return self.value[:MASK_CHARS] + "…"


@lru_cache(maxsize=1)
def _plugins() -> tuple[BasePlugin, ...]:
    """detect-secrets' built-in plugins, shape detectors first, keyword-based last."""
    found = [
        cls()
        for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in _SKIPPED_PLUGINS
    ]
    return tuple(sorted(found, key=lambda p: isinstance(p, KeywordDetector)))


def _windows(text: str) -> Iterator[str]:
    if len(text) <= WINDOW:
        yield text
        return
    for start in range(0, len(text), WINDOW - OVERLAP):
        yield text[start : start + WINDOW]
        if start + WINDOW >= len(text):
            return


def _looks_placeholder(value: str) -> bool:
    folded = value.casefold()
    if len(value) < SOFT_MIN_CHARS or any(ch.isspace() for ch in value) or value.isupper():
        return True
    if any(word in folded for word in _PLACEHOLDERS):
        return True
    return _entropy(value) < SOFT_MIN_ENTROPY


SHAPE_MIN_ENTROPY = 3.0
"""Issued tokens are random (about 5 bits a character); ``ghp_FAKEFAKE...`` is not."""


def _documented(value: str) -> bool:
    """Vendors' sample keys (``AKIAIOSFODNN7EXAMPLE``) and patterned fakes are not leaks."""
    if value.startswith("-----BEGIN") or "PRIVATE KEY" in value:
        return False  # a marker, judged by what follows it (`_key_confirmed`)
    return "example" in value.casefold() or _entropy(value) < SHAPE_MIN_ENTROPY


def _value_filtered(value: str, line: str, plugin: BasePlugin | None) -> bool:
    """detect-secrets' default value heuristics (sequences, UUIDs, templates, ...)."""
    return (
        heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
        or heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
        or (plugin is not None and heuristic.is_likely_id_string(value, line, plugin))
    )


def _soft_filtered(value: str, line: str, path: str) -> bool:
    """Extra care for name-based hits, which have no token shape to vouch for them."""
    return (
        _looks_placeholder(value)
        or heuristic.is_indirect_reference(line)
        or heuristic.is_lock_file(path)
        or heuristic.is_swagger_file(path)
    )


def _entropy(value: str) -> float:
    counts: dict[str, int] = {}
    for ch in value:
        counts[ch] = counts.get(ch, 0) + 1
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _credential_name(name: str) -> bool:
    last = re.split(r"[.\-]", name)[-1].upper()
    return last.endswith(_CREDENTIAL_NAMES)


def _own_openai_ok(value: str) -> bool:
    """Real keys are random base62: digits and both cases. Slugs like ``sk-build-2024`` are not."""
    rest = value[3:]
    return (
        any(c.isdigit() for c in rest)
        and any(c.isupper() for c in rest)
        and any(c.islower() for c in rest)
    )


def _hits(window: str, path: str) -> Iterator[tuple[str, str, bool]]:
    """``(kind, value, soft)`` for one window of one line."""
    for kind, shape in _OWN_SHAPES:
        for match in shape.finditer(window):
            value = match.group()
            if (kind != "OpenAI Token" or _own_openai_ok(value)) and not _documented(value):
                yield kind, value, False
    groups = REGEX_BY_FILETYPE.get(determine_file_type(path), _QUOTED)
    keyword_ok = (
        sum(window.count(q) for q in "'\"`") <= KEYWORD_MAX_QUOTES
        and sum(1 for _ in _KEYWORD_WORDS.finditer(window)) <= KEYWORD_MAX_HITS
    )
    for plugin in _plugins():
        soft = type(plugin).__name__ in _SOFT_PLUGINS
        keyword = isinstance(plugin, KeywordDetector)
        if keyword and not keyword_ok:
            continue
        kwargs: dict[str, Any] = {"denylist_regex_to_group": groups} if keyword else {}
        for value in plugin.analyze_string(window, **kwargs):
            if not value or _value_filtered(value, window, plugin):
                continue
            if soft or not _documented(value):
                yield str(plugin.secret_type), value, soft
    for match in _ASSIGNMENT.finditer(window):
        name, value = match.group(1), match.group(2)
        if (
            _credential_name(name)
            and _entropy(value) >= 3.5
            and not _value_filtered(value, window, None)
        ):
            has_letters = any(c.isalpha() for c in value)
            if has_letters and any(c.isdigit() for c in value):
                yield KIND_ASSIGNED, value, True


def scan_line(path: str, line: int, text: str) -> list[Credential]:
    """The credentials on one added line, one per distinct value."""
    found: list[Credential] = []
    for window in _windows(text):
        for kind, value, soft in _hits(window, path):
            if soft and _soft_filtered(value, text if len(text) <= WINDOW else window, path):
                continue
            if any(value in c.value or (soft and c.value in value) for c in found):
                continue
            found.append(Credential(path, line, kind, value))
    return found


def _key_confirmed(cred: Credential, text: str, following: str | None) -> bool:
    """A ``BEGIN ... PRIVATE KEY`` marker counts when key material follows it.

    Docs and tests write the marker alone (``-----BEGIN RSA PRIVATE KEY-----\\n...``);
    a real key has base64 after it, on the same line or the next. When the next
    line is not part of the diff nothing can be told, and the marker counts.
    """
    if cred.kind != "Private Key" or "PRIVATE KEY" not in cred.value:
        return True
    rest = text[text.find(cred.value) + len(cred.value) :]
    if _PEM_BODY.search(rest):
        return True
    if following is None:
        return True
    return bool(_PEM_BODY.search(following)) or following.lstrip().startswith("Proc-Type:")


def _scan_lines(path: str, lines: list[tuple[int, str]]) -> list[Credential]:
    found: list[Credential] = []
    for index, (number, text) in enumerate(lines):
        after = lines[index + 1] if index + 1 < len(lines) else None
        following = after[1] if after is not None and after[0] == number + 1 else None
        for cred in scan_line(path, number, text):
            if _key_confirmed(cred, text, following):
                found.append(cred)
    return found


def scan_files(files: Iterable[ChangedFile]) -> list[Credential]:
    """Every credential in the PR's added lines, in file and line order."""
    found: list[Credential] = []
    for changed in files:
        lines = [(a.line, a.text) for a in changed.added or ()]
        found.extend(_scan_lines(changed.filename, lines))
    return found


def scan_text(path: str, text: str) -> list[Credential]:
    """A whole text as if every line were added (for measuring false positives)."""
    lines = [(n, line.removesuffix("\r")) for n, line in enumerate(text.split("\n"), start=1)]
    return _scan_lines(path, lines)
