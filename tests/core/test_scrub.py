"""Issue 11 items 3 and 6: no secret (or any 8-character piece of one) leaves codex-guard,
and the `tests` practice holds a PR to the base branch's AGENTS.md commands."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime

import pytest

from bot.core import scrub
from bot.core.config import load_config
from bot.core.findings import Finding, Level, Outcome, PracticeResult
from bot.core.scrub import MIN_FRAGMENT, Scrubber
from bot.core.snapshot import PRSnapshot
from bot.jobs import audit
from bot.ops.cli import main
from bot.practices import passing_tests
from bot.practices.evaluation import evaluate
from bot.present.check_run import check_run_output
from bot.present.comment import comment_body
from bot.runtime.logs import JsonFormatter, TextFormatter
from tests.snapshots import OCTO_APP, pr_snapshot

NOTES_AT_ERROR = "practices:\n  tests:\n    testing_notes_level: error\n"
BODY_WITHOUT_PYTEST = (
    "Fix the export.\n\nhttps://chatgpt.com/codex/tasks/task_e_" + "ab" * 16 + "\n\n"
    "## Done when\n- the export counts refunds once\n\n"
    "## Testing\n- ✅ `ruff check .`\n"
)
BODY_WITHOUT_NOTES = "Fix the export.\n\nhttps://chatgpt.com/codex/tasks/task_e_" + "cd" * 16 + "\n"


def token() -> str:
    return "ghp_" + secrets.token_hex(18)


def middle(secret: str) -> str:
    """The 20 characters the old scrubber left showing when a quote was cut past 16."""
    return secret[12:32]


def agents_with(secret: str) -> str:
    """A root AGENTS.md whose only check carries the token, and a code span broken mid-token."""
    return (
        "# Agent instructions\n\n"
        "## Checks\n"
        f"Run `pytest --token={secret}` before committing.\n\n"
        "## Notes\n"
        f"Or `deploy --key={secret[:18]}\n{secret[18:]}` by hand.\n"
    )


def leaks(secret: str, *outputs: str) -> list[str]:
    needles = (secret, middle(secret), secret[4:24], secret[20:])
    return [o[:200] for o in outputs if any(n in o for n in needles)]


# ---------------------------------------------------------------- the scrubber


def test_masks_the_whole_value_and_every_fragment_of_eight_or_more() -> None:
    secret = token()
    s = Scrubber([secret])
    assert s(f"pytest --token={secret} -q") == "pytest --token=ghp_… -q"
    for start, end in [(0, 8), (16, 31), (12, 32), (30, 40), (5, 13)]:
        piece = secret[start:end]
        assert piece not in s(f"a {piece} b"), (start, end)
    # Seven characters say too little to use, and are left alone.
    assert s(f"a {secret[10:17]} b") == f"a {secret[10:17]} b"
    assert MIN_FRAGMENT == 8


def test_a_fragment_from_the_middle_shows_nothing_of_the_secret() -> None:
    secret = token()
    assert Scrubber([secret])(f"x {secret[16:31]} y") == "x … y"


def test_no_secrets_leaves_text_untouched() -> None:
    assert not scrub.NO_SECRETS
    assert scrub.NO_SECRETS("ghp_" + "a" * 36) == "ghp_" + "a" * 36


def test_scrub_cost_grows_linearly_with_secrets_and_text() -> None:
    """Counted in window lookups: one per text position, however many secrets."""

    class Counting(set[str]):
        lookups = 0

        def __contains__(self, item: object) -> bool:
            Counting.lookups += 1
            return super().__contains__(item)

    def lookups(n_secrets: int, text_len: int) -> int:
        s = Scrubber([token() for _ in range(n_secrets)])
        s._grams = Counting(s._grams)
        Counting.lookups = 0
        s("z" * text_len)
        return Counting.lookups

    assert lookups(200, 10_000) == lookups(1, 10_000)
    assert lookups(1, 20_000) <= 2 * lookups(1, 10_000) + MIN_FRAGMENT


def test_snapshot_secrets_include_a_token_broken_over_two_lines() -> None:
    secret = token()
    snap = pr_snapshot(OCTO_APP, head_files={"AGENTS.md": agents_with(secret)})
    s = scrub.for_snapshot(snap)
    assert secret[18:] not in s(f"`deploy --key={secret[:18]} {secret[18:]}`")


# ---------------------------------------------------------------- the tests practice


def _tests_findings(snap: PRSnapshot, yaml: str = NOTES_AT_ERROR) -> str:
    result = passing_tests.evaluate(snap, load_config(yaml))
    texts = [[f.message, f.fix] for f in result.findings] + [result.reason]
    return json.dumps(texts, ensure_ascii=False)


@pytest.mark.parametrize("body", [BODY_WITHOUT_PYTEST, BODY_WITHOUT_NOTES])
def test_tests_practice_masks_the_commands_it_quotes(body: str) -> None:
    secret = token()
    snap = pr_snapshot(OCTO_APP, body=body, head_files={"AGENTS.md": agents_with(secret)})
    text = _tests_findings(snap)
    assert "pytest --token=ghp_…" in text
    assert leaks(secret, text) == []


def test_tests_practice_holds_the_pr_to_the_base_commands() -> None:
    """A PR that deletes AGENTS.md (or its check) is still asked for the base's check."""
    base_agents = "# Guide\n\n## Checks\nRun `tox -e integration` before committing.\n"
    for head_files in ({}, {"AGENTS.md": "# Guide\n\nNothing to run.\n"}):
        snap = pr_snapshot(
            OCTO_APP,
            body=BODY_WITHOUT_PYTEST,
            head_files=head_files,
            base_files={"AGENTS.md": base_agents},
            base_sha="b" * 40,
        )
        result = passing_tests.evaluate(snap, load_config(NOTES_AT_ERROR))
        assert [f.rule for f in result.findings] == ["tests/agents-check-missing"], head_files
        assert "tox -e integration" in result.findings[0].message


def test_commands_added_only_at_head_do_not_count_when_the_base_is_known() -> None:
    snap = pr_snapshot(
        OCTO_APP,
        body=BODY_WITHOUT_PYTEST,
        head_files={"AGENTS.md": "## Checks\nRun `tox -e lint` before committing.\n"},
        base_files={},
        base_sha="b" * 40,
    )
    assert passing_tests.evaluate(snap, load_config(NOTES_AT_ERROR)).findings == ()


def test_offline_without_a_base_the_checkout_is_read() -> None:
    snap = pr_snapshot(
        OCTO_APP,
        body=BODY_WITHOUT_PYTEST,
        head_files={"AGENTS.md": "## Checks\nRun `tox -e lint` before committing.\n"},
    )
    rules = [f.rule for f in passing_tests.evaluate(snap, load_config(NOTES_AT_ERROR)).findings]
    assert rules == ["tests/agents-check-missing"]


# ---------------------------------------------------------------- every output


def _evaluated(secret: str) -> tuple[PRSnapshot, object]:
    snap = pr_snapshot(
        OCTO_APP,
        body=BODY_WITHOUT_PYTEST,
        head_files={"AGENTS.md": agents_with(secret)},
        changed_files=("AGENTS.md",),
        checks=(),
    )
    return snap, evaluate(snap, load_config(NOTES_AT_ERROR))


def test_check_run_and_comment_are_scrubbed_in_the_job() -> None:
    secret = token()
    snap, evaluation = _evaluated(secret)
    scrubber = scrub.for_snapshot(snap)
    with scrub.using(scrubber):
        out = check_run_output(scrubber.evaluation(evaluation), snap)
        comment = comment_body(scrubber.evaluation(evaluation), snap)
    rendered = [out.title, out.summary, out.text, json.dumps(out.annotations), comment]
    assert leaks(secret, *rendered) == []
    assert "tests/agents-check-missing" in out.text and "ghp_…" in comment


def test_rendering_in_a_job_masks_what_a_practice_left_unmasked() -> None:
    """The net behind the practices: a quote cut mid-token by any practice is masked."""
    secret = token()
    snap = pr_snapshot(
        OCTO_APP, body=BODY_WITHOUT_NOTES, head_files={"AGENTS.md": agents_with(secret)}
    )
    careless = PracticeResult(
        "done-when",
        Outcome.FAIL,
        f"quoted `{secret[:31]}…`",
        (
            Finding(
                "done-when/missing", Level.ERROR, f"see {secret[16:31]}", path="AGENTS.md", line=3
            ),
        ),
    )
    evaluation = evaluate(snap, load_config(None), practices={"done-when": lambda s, c: careless})
    outside = check_run_output(evaluation, snap)
    assert leaks(secret, outside.text) != []  # what the scrub below must catch
    with scrub.using(scrub.for_snapshot(snap)):
        out = check_run_output(evaluation, snap)
        comment = comment_body(evaluation, snap)
    assert leaks(secret, out.summary, out.text, json.dumps(out.annotations), comment) == []


def test_audit_records_are_scrubbed(redis_client) -> None:
    secret = token()
    snap, evaluation = _evaluated(secret)
    record = audit.from_evaluation(
        evaluation,  # type: ignore[arg-type]
        repository=snap.repo,
        pr=snap.number,
        head_sha="a" * 40,
        person="dev",
        at=datetime.now(UTC),
    )
    record = audit.AuditRecord(**{**record.__dict__, "signals": (f"label {secret}",)})
    with scrub.using(scrub.for_snapshot(snap)):
        audit.append(redis_client, record)
    stored = json.dumps(
        [v.decode() for _, f in redis_client.xrange(audit.STREAM) for v in f.values()]
    )
    assert leaks(secret, stored) == []


@pytest.mark.parametrize("formatter", [JsonFormatter(), TextFormatter()])
def test_log_lines_are_scrubbed(formatter: logging.Formatter) -> None:
    secret = token()
    snap = pr_snapshot(OCTO_APP, head_files={"AGENTS.md": agents_with(secret)})
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "quoted %s", (secret[5:30],), None)
    record.fields = {"detail": f"pytest --token={secret}"}
    with scrub.using(scrub.for_snapshot(snap)):
        line = formatter.format(record)
    assert leaks(secret, line) == []
    assert secret[5:30] in formatter.format(record)  # outside a job nothing is known


def test_cli_check_and_agents_md_never_print_the_token(tmp_path, capsys) -> None:
    secret = token()
    (tmp_path / "AGENTS.md").write_text(agents_with(secret))
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "codex-guard.yml").write_text(NOTES_AT_ERROR)
    body = tmp_path / "body.md"
    body.write_text(BODY_WITHOUT_PYTEST)
    printed = []
    for args in (
        ["check", "--body", str(body), "--repo", str(tmp_path)],
        ["check", "--body", str(body), "--repo", str(tmp_path), "--format", "json"],
        ["agents-md", str(tmp_path)],
        ["agents-md", str(tmp_path), "--format", "json"],
    ):
        main(args)
        out, err = capsys.readouterr()
        printed += [out, err]
    assert "agents-check-missing" in printed[0] and "ghp_…" in printed[0]
    assert leaks(secret, *printed) == []
