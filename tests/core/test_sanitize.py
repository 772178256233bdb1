"""`quote_untrusted` / `code_untrusted`: PR text echoed back must render inertly."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.sanitize import ZERO_WIDTH_SPACE, code_untrusted, quote_untrusted

_MD = MarkdownIt("commonmark", {"html": True})


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_collapses_whitespace() -> None:
    assert quote_untrusted("  fix\tthe\n\n  bug  \r\n") == "fix the bug"


def test_short_text_is_unchanged() -> None:
    assert quote_untrusted("tests pass on staging") == "tests pass on staging"


def test_truncates_with_ellipsis_to_limit() -> None:
    quoted = quote_untrusted("word " * 50, limit=20)
    assert quoted.endswith("…")
    assert len(quoted) <= 20
    assert quoted.startswith("word word")


def test_text_exactly_at_limit_is_not_truncated() -> None:
    assert quote_untrusted("x" * 80) == "x" * 80
    assert quote_untrusted("x" * 81) == "x" * 79 + "…"


def test_breaks_mentions_and_team_mentions() -> None:
    quoted = quote_untrusted("ping @octocat and @octo-org/admins")
    assert "@octocat" not in quoted
    assert f"@{ZERO_WIDTH_SPACE}octocat" in quoted
    assert f"@{ZERO_WIDTH_SPACE}octo-org/admins" in quoted


def test_escapes_html() -> None:
    quoted = quote_untrusted('<img src=x onerror="alert(1)"> & <!-- hidden -->')
    assert "<" not in quoted and ">" not in quoted
    assert quoted.startswith("&lt;img")
    assert "&amp;" in quoted
    assert "&lt;!-- hidden --&gt;" in quoted


def test_escapes_before_truncation_never_cuts_an_entity() -> None:
    quoted = quote_untrusted("<" * 100, limit=10)
    assert quoted == "&lt;" * 9 + "…"


def test_strips_control_and_bidi_characters() -> None:
    quoted = quote_untrusted("safe\x00\x1b[31mred\x7f \u202eevil\u2066 text")
    assert quoted == "safe[31mred evil text"


def test_is_idempotent_after_unescaping() -> None:
    """The report re-sanitises messages that already quote PR text."""
    raw = "@alice wrote <b>bold</b> & " + "long " * 30
    once = quote_untrusted(raw)
    assert quote_untrusted(_unescape(once)) == once


def test_zero_or_negative_limit_still_returns_a_bounded_string() -> None:
    assert quote_untrusted("abc", limit=0) == "…"


def test_code_span_picks_a_longer_fence() -> None:
    assert code_untrusted("codex/fix-x") == "`codex/fix-x`"
    assert code_untrusted("a`b") == "`` a`b ``"
    assert code_untrusted("``x") == "``` ``x ```"
    assert code_untrusted("") == "` `"


def _rendered_code(span: str) -> str:
    html = _MD.render(span)
    assert html.startswith("<p><code>") and html.rstrip().endswith("</code></p>"), html
    return html.strip()[len("<p><code>") : -len("</code></p>")]


def test_code_span_renders_as_one_span_with_the_text() -> None:
    for text in ["a`b", "`edge`", "plain", "<script>", "x``y`"]:
        rendered = _rendered_code(code_untrusted(text))
        expected = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert rendered == expected.replace('"', "&quot;")


@given(st.text(max_size=400), st.integers(min_value=1, max_value=200))
def test_quote_is_always_inert(text: str, limit: int) -> None:
    quoted = quote_untrusted(text, limit=limit)
    assert "<" not in quoted and ">" not in quoted
    assert "\n" not in quoted
    visible = _unescape(quoted).replace(ZERO_WIDTH_SPACE, "")
    assert len(visible) <= limit
    for index, ch in enumerate(quoted):
        assert unicodedata.category(ch) not in ("Cc", "Cs")
        if ch == "@":
            assert quoted[index + 1 : index + 2] == ZERO_WIDTH_SPACE
    html = _MD.render(quoted)
    assert "<a " not in html and "<img" not in html and "<script" not in html


@given(st.text(max_size=200))
def test_code_span_is_always_one_code_span(text: str) -> None:
    html = _MD.render(code_untrusted(text)).strip()
    assert html.startswith("<p><code>") and html.endswith("</code></p>")
    assert html.count("<code>") == 1
