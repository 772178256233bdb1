"""Make hostile pull-request text safe to echo back on GitHub.

PR bodies, branch names and issue text are written by whoever opens the PR.
When a finding quotes them, the quote lands in a check run or a comment that
GitHub renders as Markdown: an ``@user`` would notify someone, raw HTML would
render, and bidi or control characters could disguise what is shown. Every
piece of untrusted text goes through one of these functions first.
"""

from __future__ import annotations

import unicodedata

ELLIPSIS = "…"
ZERO_WIDTH_SPACE = "\u200b"

# Format characters that reorder or hide text (Trojan Source); stripped like controls.
_BIDI_AND_INVISIBLE = frozenset(
    "\u061c\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def _clean(text: str) -> str:
    """Drop control, surrogate and bidi characters; whitespace becomes single spaces."""
    kept = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif ch in _BIDI_AND_INVISIBLE or unicodedata.category(ch) in ("Cc", "Cs"):
            continue
        else:
            kept.append(ch)
    return " ".join("".join(kept).split())


def _shorten(text: str, limit: int) -> str:
    limit = max(limit, 1)
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def _clean_short(text: str, limit: int) -> str:
    """``_shorten(_clean(text), limit)``, cleaning only as much of ``text`` as is shown.

    A cleaned prefix is a prefix of the cleaned whole, so once it is longer than
    ``limit`` the rest cannot change the result: a quote of a 1 MB line costs
    as much as a quote of a short one.
    """
    window = 4 * max(limit, 1) + 64
    if len(text) > window:
        head = _clean(text[:window])
        if len(head) > max(limit, 1):
            return _shorten(head, limit)
    return _shorten(_clean(text), limit)


def quote_untrusted(text: str, limit: int = 80) -> str:
    """Untrusted text as one short line of Markdown prose that renders inertly.

    Collapses whitespace, strips control and bidi characters, truncates to
    ``limit`` visible characters with "…", breaks @-mentions with a zero-width
    space and escapes ``&``, ``<`` and ``>`` so no HTML renders. Meant for
    prose; inside a code span use :func:`code_untrusted`, since entities are
    shown literally there.
    """
    short = _clean_short(text, limit)
    escaped = short.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("@", "@" + ZERO_WIDTH_SPACE)


def code_untrusted(text: str, limit: int = 80) -> str:
    """Untrusted text as a Markdown code span, delimiters included.

    GitHub renders neither HTML nor mentions inside a code span, so only
    backticks need care: the delimiter is one backtick longer than the longest
    run inside, padded with spaces so an edge backtick cannot merge with it.
    """
    short = _clean_short(text, limit)
    if not short:
        return "` `"
    longest = run = 0
    for ch in short:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if longest or short.startswith(" ") or short.endswith(" ") else ""
    return f"{fence}{pad}{short}{pad}{fence}"
