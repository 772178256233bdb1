"""`detect` and `needs_commit_messages`: which PRs are Codex's, and the evidence."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.config import DetectionConfig, GuardConfig
from bot.core.snapshot import PRSnapshot
from bot.practices.detection import Detection, detect, has_codex_trailer, needs_commit_messages
from tests.snapshots import BODIES, OCTO_APP, pr_snapshot

TASK = "task_e_68a1c0ffee4b8331a0b8d1b2b0a3f8c1"
TRAILER = "Co-authored-by: Codex <noreply@openai.com>"


def snap(body: str = "", **fields: Any) -> PRSnapshot:
    """octo/app #5 on a branch that does not say Codex."""
    return pr_snapshot(OCTO_APP, body=body, **{"head_ref": "fix-things", **fields})


def config(**data: Any) -> GuardConfig:
    return GuardConfig.model_validate(data)


DEFAULT = GuardConfig()


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in BODIES.glob("codex*.md") if p.name != "codex2026_no_link.md"),
)
def test_every_codex_fixture_with_a_link_is_detected_by_its_link(name: str) -> None:
    found = detect(snap((BODIES / name).read_text()), DEFAULT)
    assert found.codex_authored
    assert found.signals[0].startswith("Codex task link task_")


@pytest.mark.parametrize("name", sorted(p.name for p in BODIES.glob("human_*.md")))
def test_human_fixtures_are_not_codex(name: str) -> None:
    found = detect(snap((BODIES / name).read_text()), DEFAULT)
    assert found == Detection(codex_authored=False, signals=())
    assert not found.applies


def test_summary_and_testing_headings_alone_are_no_signal() -> None:
    body = (BODIES / "codex2026_no_link.md").read_text()
    assert not detect(snap(body), DEFAULT).codex_authored
    assert not detect(snap((BODIES / "human_summary_testing.md").read_text()), DEFAULT).signals


def test_author_is_never_a_signal() -> None:
    for author in ("codex", "chatgpt-codex-connector[bot]", "openai-codex"):
        assert not detect(snap(author=author), DEFAULT).codex_authored


def test_task_link_signal_names_the_task() -> None:
    found = detect(snap(f"------\nhttps://chatgpt.com/codex/tasks/{TASK}"), DEFAULT)
    assert found.signals == ("Codex task link task_e_68a1c0ff…",)


def test_task_link_inside_markdown_link_and_cloud_path() -> None:
    body = f"[Codex Task](https://chatgpt.com/codex/cloud/tasks/{TASK})"
    assert detect(snap(body), DEFAULT).codex_authored


def test_two_task_links_are_one_signal_with_a_count() -> None:
    found = detect(snap((BODIES / "codex2025_two_tasks.md").read_text()), DEFAULT)
    assert found.signals == ("Codex task link task_e_68a1c0ff… (+1 more)",)


def test_task_link_off_ignores_the_link() -> None:
    body = f"https://chatgpt.com/codex/tasks/{TASK}"
    assert not detect(snap(body), config(detection={"task_link": False})).codex_authored


def test_look_alike_hosts_are_not_codex_links() -> None:
    body = f"https://notchatgpt.com/codex/tasks/{TASK} https://chatgpt.com/codex/tasks/task_e_123"
    assert not detect(snap(body), DEFAULT).codex_authored


@pytest.mark.parametrize("label", ["codex", "Codex", " CODEX "])
def test_label_matches_case_insensitively(label: str) -> None:
    found = detect(snap(labels=("bug", label)), DEFAULT)
    assert found.signals == ("label `codex`",)


def test_configured_labels_replace_the_default() -> None:
    cfg = config(detection={"labels": ["ai-generated"]})
    assert detect(snap(labels=("AI-Generated",)), cfg).signals == ("label `ai-generated`",)
    assert not detect(snap(labels=("codex",)), cfg).codex_authored


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("codex/fix-x", True),
        ("jtchyu-codex/fix-x", True),
        ("mycodex/x", False),
        ("fix-codex", False),
        ("feature/codex/x", False),
        ("codex-fix", False),
    ],
)
def test_default_branch_pattern(branch: str, expected: bool) -> None:
    found = detect(snap(head_ref=branch), DEFAULT)
    assert found.codex_authored is expected
    if expected:
        assert found.signals == (f"head branch `{branch}`",)


def test_branch_pattern_null_turns_it_off() -> None:
    cfg = config(detection={"branch_pattern": None})
    assert not detect(snap(head_ref="codex/x"), cfg).codex_authored


def test_invalid_branch_pattern_is_refused_when_the_config_loads() -> None:
    with pytest.raises(ValidationError, match="linear time"):
        config(detection={"branch_pattern": "(codex"})


def test_an_unloadable_branch_pattern_never_raises_in_detection() -> None:
    cfg = GuardConfig.model_construct(
        detection=DetectionConfig.model_construct(branch_pattern="(codex")
    )
    assert not detect(snap(head_ref="codex/x"), cfg).codex_authored


def test_hostile_branch_name_is_quoted_safely() -> None:
    found = detect(snap(head_ref="codex/`<img src=x>`@admins"), DEFAULT)
    (signal,) = found.signals
    assert signal == "head branch `` codex/`<img src=x>`@admins ``"


@pytest.mark.parametrize(
    "message",
    [
        f"Fix the thing\n\n{TRAILER}",
        "Fix\n\nco-authored-by: Codex <noreply@openai.com>",
        "Fix\n\nCO-AUTHORED-BY: codex",
        "Fix\n\n  Co-authored-by: Someone <noreply@openai.com>\n",
    ],
)
def test_commit_trailer_variants(message: str) -> None:
    assert has_codex_trailer(message)


@pytest.mark.parametrize(
    "message",
    [
        "Fix\n\nCo-authored-by: Alice <alice@example.com>",
        "Fix\n\nCo-authored-by: Codexter <c@example.com>",
        "Mention Co-authored-by: Codex in prose",
        "",
    ],
)
def test_not_a_codex_trailer(message: str) -> None:
    assert not has_codex_trailer(message)


def test_commit_trailer_in_any_commit_is_a_signal() -> None:
    found = detect(snap(commit_messages=("first", f"second\n\n{TRAILER}")), DEFAULT)
    assert found.signals == ("commit trailer Co-authored-by: Codex",)


def test_commit_trailer_off() -> None:
    cfg = config(detection={"commit_trailer": False})
    assert not detect(snap(commit_messages=(TRAILER,)), cfg).codex_authored


def test_signals_are_strongest_first() -> None:
    found = detect(
        snap(
            f"[Codex Task](https://chatgpt.com/codex/tasks/{TASK})",
            labels=("codex",),
            head_ref="codex/x",
            commit_messages=(TRAILER,),
        ),
        DEFAULT,
    )
    assert [s.split(" ", 1)[0] for s in found.signals] == ["Codex", "label", "head", "commit"]


def test_applies_follows_applies_to() -> None:
    human = snap("just a fix")
    assert not detect(human, DEFAULT).applies
    everything = detect(human, config(applies_to="all"))
    assert everything.applies and not everything.codex_authored
    assert detect(snap(head_ref="codex/x"), DEFAULT).applies


def test_needs_commit_messages_only_when_cheap_signals_are_absent() -> None:
    assert needs_commit_messages(snap("a fix"), DEFAULT)
    assert not needs_commit_messages(snap("a fix", head_ref="codex/x"), DEFAULT)
    assert not needs_commit_messages(snap("a fix", labels=("codex",)), DEFAULT)
    assert not needs_commit_messages(snap(f"https://chatgpt.com/codex/tasks/{TASK}"), DEFAULT)
    assert not needs_commit_messages(snap("a fix", commit_messages=()), DEFAULT)
    assert not needs_commit_messages(snap("a fix"), config(detection={"commit_trailer": False}))


def test_needs_commit_messages_ignores_disabled_link_signal() -> None:
    cfg = config(detection={"task_link": False})
    assert needs_commit_messages(snap(f"https://chatgpt.com/codex/tasks/{TASK}"), cfg)
