"""PR-derived text made inert, and output held to GitHub's size limits.

Finding messages quote the PR, label names become signals and override reasons
are typed by people: all of it passes through here (and `bot.core.sanitize`) so
it can never ping someone, inject HTML or form a link in codex-guard's voice.
"""

from __future__ import annotations

import re
import string

from bot.core.sanitize import code_untrusted, quote_untrusted

MAX_OUTPUT_CHARS = 65_535
"""GitHub's limit for a check run's ``output.summary`` and ``output.text``."""


def _unescape(text: str) -> str:
    """Exactly undo `quote_untrusted`'s entity escaping (``&lt;`` and ``&gt;`` before ``&amp;``)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_PUNCTUATION = frozenset(string.punctuation)
_PROSE_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]"}
"""HTML and entities made literal, and brackets escaped so no link or image can form."""


def _closing_run(text: str, start: int, length: int) -> int | None:
    """Index of the next run of exactly ``length`` backticks, as CommonMark pairs them."""
    match = re.compile("(?<!`)" + "`" * length + "(?!`)").search(text, start)
    return match.start() if match else None


def safe(text: str, limit: int = 500) -> str:
    """PR-derived Markdown made inert, on one line: no @-mentions, HTML, links or images.

    `quote_untrusted` cleans and shortens the whole text and breaks mentions;
    then code spans (practices quote commands with `code_untrusted`) are
    re-emitted as code spans, where GitHub renders neither HTML nor mentions
    and ``&&`` must stay ``&&``, and everything else is entity-escaped with
    stray backticks escaped so nothing can open a span GitHub would pair
    differently. Brackets are escaped too: a quote of ``\\[text](url)`` (whose
    backslash the Markdown reader of a practice consumed) or ``![x](url)`` must not
    become a live link or image in codex-guard's own voice. Idempotent, so
    already-quoted text is not escaped twice.
    """
    cleaned = _unescape(quote_untrusted(_unescape(str(text)), limit=limit))
    out: list[str] = []
    i, end = 0, len(cleaned)
    while i < end:
        ch = cleaned[i]
        if ch == "\\" and i + 1 < end and cleaned[i + 1] in _PUNCTUATION:
            out.append(cleaned[i : i + 2])  # an escaped character is always literal
            i += 2
        elif ch == "`":
            j = i
            while j < end and cleaned[j] == "`":
                j += 1
            close = _closing_run(cleaned, j, j - i)
            if close is None:
                out.append("\\`" * (j - i))
                i = j
            else:
                out.append(code_untrusted(cleaned[j:close], limit=limit))
                i = close + (j - i)
        else:
            out.append(_PROSE_ESCAPES.get(ch, ch))
            i += 1
    return "".join(out)


def plain(text: str, limit: int = 500) -> str:
    """Inert text for places GitHub shows verbatim (annotations): no entities needed."""
    return _unescape(quote_untrusted(_unescape(str(text)), limit=limit))


def cell(text: str, limit: int = 200) -> str:
    """Safe text for a Markdown table cell: pipes would split the cell."""
    return safe(text, limit).replace("|", "\\|")


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Cut at a line boundary with a note saying how much is missing.

    An unclosed code fence is closed so the rest of the page still renders.
    """
    if len(text) <= limit:
        return text
    note_template = (
        "\n\n**Truncated:** {n} more characters not shown (GitHub's limit). "
        "Run `codex-guard check` locally for the full report.\n"
    )
    reserve = len(note_template.format(n=len(text))) + len("\n```")
    cut = text[: max(0, limit - reserve)]
    newline = cut.rfind("\n")
    if newline > len(cut) // 2:
        cut = cut[:newline]
    if cut.count("```") % 2:
        cut += "\n```"
    note = note_template.format(n=len(text) - len(cut))
    return (cut + note)[:limit]
