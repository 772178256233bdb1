"""Issue 11 item 7: PR text quoted by codex-guard cannot form links or images.

Rendered through markdown-it-py (CommonMark, as GitHub's renderer is) and read
back as tokens: a link or image token anywhere is a finding against us.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot.core.config import load_config
from bot.practices.evaluation import evaluate
from bot.present.check_run import check_run_output
from bot.present.comment import comment_body
from bot.present.safe_text import safe
from tests.snapshots import OCTO_APP, pr_snapshot

_MD = MarkdownIt("commonmark", {"html": True}).enable("table")

HOSTILE = [
    r"\[codex-guard: click to re-run](https://evil.example/a)",
    "[codex-guard: click to re-run](https://evil.example/b)",
    "![x](https://evil.example/i.png)",
    r"\![x](https://evil.example/j.png)",
    r"\\[double](https://evil.example/c)",
    "[ref][1]\n\n[1]: https://evil.example/d",
    "[ref]\n\n[ref]: https://evil.example/e",
    "[a]( https://evil.example/f 'title')",
    "[![img](https://evil.example/k.png)](https://evil.example/g)",
    "&#91;x&#93;(https://evil.example/h)",
    "[x]&#40;https://evil.example/i)",
    "`code` [x](https://evil.example/j) `more`",
    "<https://evil.example/k>",
    "[x](<https://evil.example/l>)",
    "[x]\\\n(https://evil.example/m)",
]


def links(markdown: str) -> list[str]:
    """Every link or image target markdown-it finds, inline or by reference."""
    found = []
    for token in _MD.parse(markdown):
        for child in token.children or []:
            if child.type in ("link_open", "image"):
                found.append(str(child.attrs.get("href") or child.attrs.get("src")))
    return found


@pytest.mark.parametrize("text", HOSTILE)
def test_safe_quotes_cannot_form_links_or_images(text: str) -> None:
    quoted = safe(text)
    assert links(quoted) == [], quoted
    assert links(f"- **Error** `x`: {quoted}") == [], quoted
    assert safe(quoted) == quoted  # idempotent


@given(st.text(alphabet="[]()!\\`<>&#;: xhttps/evil.e", max_size=60))
def test_no_bracket_soup_forms_a_link(text: str) -> None:
    assert links(safe(text)) == []


def test_brackets_still_read_the_same() -> None:
    assert _MD.renderInline(safe("see [docs] and a[0]")) == "see [docs] and a[0]"


def test_pr_body_links_do_not_come_out_live_in_comment_or_check_run() -> None:
    body = (
        "Codex task: https://chatgpt.com/codex/tasks/task_e_" + "12" * 16 + "\n\n"
        "## Done when\n"
        "- \\[codex-guard: click to re-run](https://evil.example/b)\n"
        "- ![y](https://evil.example/j.png) fails\n\n"
        "## Testing\n"
        "- ❌ `pytest` failed: \\[click](https://evil.example/c) ![z](https://evil.example/k.png)\n"
    )
    snap = pr_snapshot(OCTO_APP, body=body)
    evaluation = evaluate(
        snap, load_config("practices:\n  tests:\n    testing_notes_level: error\n")
    )
    out = check_run_output(evaluation, snap)
    assert "click to re-run" in out.text and "click" in comment_body(evaluation, snap)
    for rendered in (out.summary, out.text, comment_body(evaluation, snap)):
        assert [u for u in links(rendered) if "evil" in u] == [], rendered
