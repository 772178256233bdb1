"""Each distinct text is parsed once per evaluation, and never more than MAX_PARSE_CHARS of it.

Behaviour, not timing: parses are counted through a wrapper around the one
function that calls markdown-it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter

import pytest

from bot.core import markdown as markdown_doc
from bot.core.config import DEFAULT_CONFIG
from bot.core.markdown import MAX_PARSE_CHARS, inline_refs, parse, reference_text
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.evaluation import evaluate


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Text -> how many times markdown-it parsed it, from a cold cache."""
    counts: Counter[str] = Counter()
    real = markdown_doc._PARSER.parse

    def counting(source: str, env=None):  # type: ignore[no-untyped-def]
        counts[source] += 1
        return real(source, env)

    markdown_doc.clear_cache()
    monkeypatch.setattr(markdown_doc._PARSER, "parse", counting)
    yield counts
    markdown_doc.clear_cache()


def _unique() -> str:
    return uuid.uuid4().hex  # no other test can have warmed a cache with this text


def test_same_text_same_document(parsed: Counter[str]) -> None:
    text = f"# Title {_unique()}\n\n- item with `code`\n\n[link](docs/x.md)\n"
    first = parse(text)
    assert parse(text) is first
    assert parse(str(text)) is first  # keyed by value, not by object
    assert reference_text(text) == reference_text(text)
    assert inline_refs(text) is inline_refs(text)
    assert parsed == {text: 1}  # document, reference text and refs come from one parse


def test_cached_results_cannot_be_mutated(parsed: Counter[str]) -> None:
    doc = parse(f"## Testing {_unique()}\n\n- `pytest` passed\n\nprose\n")
    section = doc.sections[0]
    assert isinstance(section.items, tuple) and isinstance(section.paragraphs, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        section.title = "other"  # type: ignore[misc]
    assert isinstance(inline_refs("`a` and `b`"), tuple)


def test_uncached_reference_text_parses_without_touching_the_cache(parsed: Counter[str]) -> None:
    text = f"see https://example.com/{_unique()}"
    assert reference_text(text, cache=False) == reference_text(text)
    assert parsed == {text: 2}
    assert markdown_doc._read.cache_info().currsize == 1


def test_only_max_parse_chars_are_parsed(parsed: Counter[str]) -> None:
    line = "- `make test` passed\n"
    text = line * (2 * MAX_PARSE_CHARS // len(line))
    doc = parse(text)
    assert doc.truncated and doc.source is text
    (tokenised,) = parsed
    assert len(tokenised) <= MAX_PARSE_CHARS and tokenised.endswith("\n")
    assert not parse(line).truncated


def test_one_line_longer_than_the_cap_is_cut_at_the_cap(parsed: Counter[str]) -> None:
    parse("a" * (MAX_PARSE_CHARS + 10))
    assert [len(s) for s in parsed] == [MAX_PARSE_CHARS]


def _snapshot(tag: str) -> PRSnapshot:
    root = (
        f"# Agent instructions {tag}\n\n## Checks\n- run `pytest -q` and `make test`\n"
        "- keep `app/x.py` tidy; see [docs](docs/guide.md)\n"
    )
    app = f"# app {tag}\n\n```sh\nnpm run lint\n```\n"
    body = (
        f"## Summary\n- fix {tag}\n\n## Done when\n- [x] export is right\n\n"
        "## Testing\n- ✅ `pytest -q` (3 passed)\n- ❌ `make test` failed: boom\n\n"
        "Closes #12\n\nhttps://chatgpt.com/codex/tasks/task_e_0123456789abcdef0123456789abcdef\n"
    )
    files = {"AGENTS.md": root, "app/AGENTS.md": app, "Makefile": "test:\n\tpytest\n",
             "package.json": '{"scripts": {"lint": "x"}}'}  # fmt: skip
    other = f"https://chatgpt.com/codex/tasks/task_e_{'f' * 32} {tag}"
    return PRSnapshot(
        repo="o/r", number=7, title="t", body=body, author="octocat", head_sha="a" * 40,
        head_ref="codex/x", base_ref="main", changed_files=("app/x.py", "AGENTS.md"),
        head_tree=frozenset({*files, "app/x.py", "docs/guide.md"}), head_files=files,
        base_files={"AGENTS.md": root + "\nolder line\n", "app/AGENTS.md": app},
        issue_bodies={12: f"## Done when\n- it works {tag}\n"}, other_open_prs={8: other},
        checks=(CheckEvidence("build", "check_run", "completed", "success"),),
    )  # fmt: skip


def test_an_evaluation_parses_each_text_once(parsed: Counter[str]) -> None:
    snap = _snapshot(_unique())
    evaluation = evaluate(snap, DEFAULT_CONFIG)
    assert evaluation.detection.codex_authored
    assert all(r.reason for r in evaluation.results.values())
    texts = {
        snap.body,
        snap.head_files["AGENTS.md"],
        snap.head_files["app/AGENTS.md"],
        snap.base_files["AGENTS.md"],  # changed by the PR: a second text
        snap.other_open_prs[8],  # type: ignore[index]
    }
    assert set(parsed) <= texts | set(snap.issue_bodies.values())
    assert texts <= set(parsed)
    assert max(parsed.values()) == 1, parsed


def test_a_second_evaluation_of_the_same_texts_parses_nothing(parsed: Counter[str]) -> None:
    snap = _snapshot(_unique())
    first = evaluate(snap, DEFAULT_CONFIG)
    before = sum(parsed.values())
    assert evaluate(snap, DEFAULT_CONFIG) == first
    assert sum(parsed.values()) == before
