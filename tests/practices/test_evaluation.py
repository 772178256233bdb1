"""Combining practice results: levels, overrides, detection, crashes, pending CI."""

from __future__ import annotations

import logging

import pytest

from bot.core.config import GuardConfig, load_config
from bot.core.findings import PRACTICE_IDS, Finding, Level, Outcome, PracticeResult
from bot.core.scope_evidence import ScopeEvidence, changed_files_from_api
from bot.core.snapshot import CheckEvidence, PRSnapshot
from bot.practices.evaluation import (
    INTERNAL_ERROR_RULE,
    NOT_CODEX_REASON,
    OFF_REASON,
    Evaluation,
    Override,
    config_error_evaluation,
    evaluate,
)
from tests.snapshots import ACME_WIDGETS, AGENTS_MD, GOOD_BODY, pr_snapshot


def snapshot(**overrides: object) -> PRSnapshot:
    return pr_snapshot(ACME_WIDGETS, **overrides)


def config(yaml_text: str = "") -> GuardConfig:
    return load_config(yaml_text or None)


def passing(pid: str) -> PracticeResult:
    return PracticeResult(pid, Outcome.PASS, "fine")


def failing(pid: str, rule: str | None = None, path: str | None = None) -> PracticeResult:
    finding = Finding(rule or f"{pid}/broken", Level.ERROR, "it is broken", path=path, line=3)
    return PracticeResult(pid, Outcome.FAIL, "broken", (finding,))


def fakes(**results: PracticeResult) -> dict[str, object]:
    """Practice functions by id; ids not given pass."""
    table: dict[str, object] = {}
    for pid in PRACTICE_IDS:
        result = results.get(pid.replace("-", "_"), passing(pid))
        table[pid] = lambda snap, cfg, result=result: result
    return table


def run(cfg: GuardConfig | None = None, overrides=(), snap=None, **results) -> Evaluation:
    return evaluate(
        snap or snapshot(),
        cfg or config(),
        overrides,
        practices=fakes(**results),  # type: ignore[arg-type]
    )


def test_all_pass_is_success_in_practice_order() -> None:
    ev = run()
    assert list(ev.results) == list(PRACTICE_IDS)
    assert ev.conclusion == "success"
    assert not ev.pending
    assert ev.detection.codex_authored


def test_one_failure_fails_the_evaluation() -> None:
    ev = run(done_when=failing("done-when"))
    assert ev.conclusion == "failure"
    assert ev.results["done-when"].outcome is Outcome.FAIL
    assert [r.practice for r in ev.failing()] == ["done-when"]


def test_not_codex_skips_everything_without_running_practices() -> None:
    def boom(snap: PRSnapshot, cfg: GuardConfig) -> PracticeResult:
        raise AssertionError("must not run")

    human = snapshot(body="Fix typo", labels=(), head_ref="fix-typo")
    ev = evaluate(human, config(), practices={pid: boom for pid in PRACTICE_IDS})
    assert not ev.detection.codex_authored
    assert ev.conclusion == "success"
    assert ev.skipped_not_codex
    for result in ev.results.values():
        assert result.outcome is Outcome.SKIP
        assert result.reason == NOT_CODEX_REASON


def test_applies_to_all_checks_human_prs_too() -> None:
    human = snapshot(body="Fix typo", labels=(), head_ref="fix-typo")
    ev = run(config("applies_to: all"), snap=human, tests=failing("tests"))
    assert not ev.detection.codex_authored
    assert not ev.skipped_not_codex
    assert ev.results["tests"].outcome is Outcome.FAIL
    assert ev.conclusion == "failure"


def test_level_off_skips_without_running() -> None:
    calls: list[str] = []

    def spy(snap: PRSnapshot, cfg: GuardConfig) -> PracticeResult:
        calls.append("ran")
        return failing("done-when")

    table = fakes()
    table["done-when"] = spy
    cfg = config('practices:\n  done-when:\n    level: "off"\n')
    ev = evaluate(snapshot(), cfg, practices=table)  # type: ignore[arg-type]
    assert calls == []
    assert ev.results["done-when"].outcome is Outcome.SKIP
    assert ev.results["done-when"].reason == OFF_REASON
    assert ev.conclusion == "success"


def test_level_warning_downgrades_errors_and_passes() -> None:
    cfg = config("practices:\n  task-thread:\n    level: warning\n")
    ev = run(cfg, task_thread=failing("task-thread"))
    result = ev.results["task-thread"]
    assert result.outcome is Outcome.WARN
    assert [f.level for f in result.findings] == [Level.WARNING]
    assert ev.conclusion == "success"


def test_level_warning_keeps_a_committed_secret_an_error() -> None:
    cfg = config("practices:\n  agents-md:\n    level: warning\n")
    secret = Finding("agents-md/secret", Level.ERROR, "token in AGENTS.md", "AGENTS.md", 4)
    other = Finding("agents-md/too-long", Level.ERROR, "too long", "AGENTS.md", 1)
    result = PracticeResult("agents-md", Outcome.FAIL, "secret", (secret, other))
    ev = run(cfg, agents_md=result)
    levels = {f.rule: f.level for f in ev.results["agents-md"].findings}
    assert levels == {"agents-md/secret": Level.ERROR, "agents-md/too-long": Level.WARNING}
    assert ev.results["agents-md"].outcome is Outcome.FAIL
    assert ev.conclusion == "failure"


def test_level_error_leaves_results_alone() -> None:
    warn = PracticeResult(
        "tests", Outcome.WARN, "notes", (Finding("tests/x", Level.WARNING, "skipped lint"),)
    )
    ev = run(tests=warn)
    assert ev.results["tests"] == warn
    assert ev.conclusion == "success"


def test_override_skips_with_who_and_why() -> None:
    override = Override("done-when", "bob", "criteria are in the linked design doc")
    ev = run(overrides=[override], done_when=failing("done-when"))
    result = ev.results["done-when"]
    assert result.outcome is Outcome.SKIP
    assert result.reason == "skipped by @bob: criteria are in the linked design doc"
    assert result.findings == ()
    assert ev.overrides == (override,)
    assert ev.conclusion == "success"


def test_override_reason_is_sanitised() -> None:
    override = Override("tests", "bob", "ping @carol <script>alert(1)</script>\n\nok")
    ev = run(overrides=[override], tests=failing("tests"))
    reason = ev.results["tests"].reason
    assert "<script>" not in reason
    assert "@carol" not in reason  # a zero-width space breaks the mention
    assert "\n" not in reason
    assert reason.startswith("skipped by @bob: ping @")


def test_override_with_odd_login_is_neutralised() -> None:
    ev = run(overrides=[Override("tests", "<b>x</b>", "why")], tests=failing("tests"))
    assert "<b>" not in ev.results["tests"].reason


def test_override_for_unknown_practice_is_ignored() -> None:
    ev = run(overrides=[Override("style", "bob", "why")], tests=failing("tests"))
    assert ev.overrides == ()
    assert ev.conclusion == "failure"


def test_override_cannot_waive_a_committed_secret() -> None:
    secret = Finding("agents-md/secret", Level.ERROR, "token", "AGENTS.md", 2)
    result = PracticeResult("agents-md", Outcome.FAIL, "secret", (secret,))
    ev = run(overrides=[Override("agents-md", "bob", "later")], agents_md=result)
    assert ev.results["agents-md"].outcome is Outcome.FAIL
    assert ev.results["agents-md"].findings == (secret,)
    assert ev.conclusion == "failure"


def test_a_crashing_practice_fails_alone_without_leaking(caplog) -> None:
    def crash(snap: PRSnapshot, cfg: GuardConfig) -> PracticeResult:
        raise RuntimeError("secret-ish detail from the PR body")

    table = fakes()
    table["done-when"] = crash
    with caplog.at_level(logging.ERROR, logger="bot.practices.evaluation"):
        ev = evaluate(snapshot(), config(), practices=table)  # type: ignore[arg-type]
    result = ev.results["done-when"]
    assert result.outcome is Outcome.FAIL
    assert [f.rule for f in result.findings] == [INTERNAL_ERROR_RULE]
    shown = str(result.as_json())
    assert "secret-ish" not in shown and "Traceback" not in shown and "RuntimeError" not in shown
    assert ev.conclusion == "failure"
    for pid in ("task-thread", "tests", "agents-md"):
        assert ev.results[pid].outcome is Outcome.PASS
    assert any("done-when" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_practice_returning_garbage_is_an_internal_error() -> None:
    table = fakes()
    table["tests"] = lambda snap, cfg: {"outcome": "pass"}
    ev = evaluate(snapshot(), config(), practices=table)  # type: ignore[arg-type]
    assert ev.results["tests"].findings[0].rule == INTERNAL_ERROR_RULE


def test_pending_tests_keep_the_check_in_progress() -> None:
    pending = PracticeResult("tests", Outcome.PENDING, "waiting for 2 checks")
    ev = run(tests=pending)
    assert ev.pending
    assert ev.conclusion == "success"
    ev = run(tests=pending, done_when=failing("done-when"))
    assert ev.pending and ev.conclusion == "failure"


def test_overriding_pending_tests_stops_waiting() -> None:
    pending = PracticeResult("tests", Outcome.PENDING, "waiting")
    ev = run(overrides=[Override("tests", "bob", "CI is down")], tests=pending)
    assert not ev.pending


def test_as_json_has_exactly_the_cli_shape() -> None:
    ev = run(done_when=failing("done-when", path="README.md"))
    data = ev.as_json()
    assert set(data) == {"codex_authored", "signals", "conclusion", "practices"}
    assert data["codex_authored"] is True
    assert isinstance(data["signals"], list) and data["signals"]
    assert data["conclusion"] == "failure"
    assert list(data["practices"]) == list(PRACTICE_IDS)
    done = data["practices"]["done-when"]
    assert done["outcome"] == "fail"
    (finding,) = done["findings"]
    assert {"rule", "level", "message", "path", "line"} <= set(finding)
    assert finding["path"] == "README.md" and finding["line"] == 3
    assert data["practices"]["tests"]["findings"] == []


def test_config_error_evaluation_fails_and_names_the_key() -> None:
    from bot.core.config import ConfigError
    from bot.practices.detection import detect

    with pytest.raises(ConfigError) as info:
        load_config("practices:\n  tests:\n    levle: error\n")
    ev = config_error_evaluation(detect(snapshot(), config()), str(info.value))
    assert ev.conclusion == "failure"
    assert "practices.tests.levle" in (ev.config_error or "")
    assert all(r.outcome is Outcome.SKIP for r in ev.results.values())
    assert set(ev.as_json()) == {"codex_authored", "signals", "conclusion", "practices"}


# ---------------------------------------------------------------- real practices


def real_snapshot(body: str, checks: tuple[CheckEvidence, ...] | None) -> PRSnapshot:
    return snapshot(
        body=body,
        checks=checks,
        changed_files=("widgets/fetch.py",),
        head_tree=frozenset({"AGENTS.md", "widgets/fetch.py"}),
        head_files={"AGENTS.md": AGENTS_MD},
        base_files={"AGENTS.md": AGENTS_MD},
        other_open_prs={},
        # What the gateway reads for `scope`: one ordinary file, its added line scanned.
        scope=ScopeEvidence(
            author="alice",
            head_sha="a" * 40,
            files=changed_files_from_api(
                [{"filename": "widgets/fetch.py", "additions": 1, "patch": "@@ -1 +1 @@\n-x\n+y\n"}]
            ),
        ),
    )


GREEN = (CheckEvidence("ci / test", "check_run", "completed", "success"),)


def _require_practices() -> None:
    # A plain import: a missing or broken practice module must fail, never skip silently.
    import importlib

    for module in ("task_thread", "done_when", "passing_tests", "agents_md", "scope.practice"):
        importlib.import_module(f"bot.practices.{module}")


def test_real_practices_pass_a_good_codex_pr() -> None:
    _require_practices()
    ev = evaluate(real_snapshot(GOOD_BODY, GREEN), config())
    assert {pid: str(r.outcome) for pid, r in ev.results.items()} == {
        pid: "pass" for pid in PRACTICE_IDS
    }, {pid: r.as_json() for pid, r in ev.results.items()}
    assert ev.conclusion == "success"


def test_real_practices_fail_a_body_without_done_when_or_task() -> None:
    _require_practices()
    body = "## Summary\n- Retry the fetcher.\n\n## Testing\n- ✅ `pytest -q`\n"
    ev = evaluate(real_snapshot(body, GREEN), config())
    assert ev.results["done-when"].outcome is Outcome.FAIL
    assert ev.results["task-thread"].outcome is Outcome.FAIL
    assert ev.conclusion == "failure"


def test_real_practices_wait_for_running_ci() -> None:
    _require_practices()
    running = (CheckEvidence("ci / test", "check_run", "in_progress"),)
    ev = evaluate(real_snapshot(GOOD_BODY, running), config())
    assert ev.results["tests"].outcome is Outcome.PENDING
    assert ev.pending
