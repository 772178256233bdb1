"""The audit trail: a bounded Redis stream, its filters, summary, exports and HTML report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from bot.core.findings import Finding, Level, Outcome, PracticeResult
from bot.jobs import audit
from bot.jobs.audit import AuditOverride, AuditRecord
from bot.ops import cli
from bot.ops.cli_ops import CSV_COLUMNS, export_csv, export_json
from bot.practices.detection import Detection
from bot.practices.evaluation import Evaluation, Override
from bot.present.audit_page import render_html
from tests.browser import dump_dom, needs_chromium
from tests.conftest import RedisServer, free_port

NOW = datetime.now(UTC).replace(microsecond=0)
ALL_PASS = {"task-thread": "pass", "done-when": "pass", "tests": "pass", "agents-md": "pass"}


def rec(
    repo: str = "octo-org/app",
    pr: int = 1,
    person: str = "alice",
    *,
    ago: timedelta = timedelta(hours=1),
    codex: bool = True,
    outcomes: dict[str, str] | None = None,
    findings: tuple[str, ...] = (),
    overrides: tuple[AuditOverride, ...] = (),
    conclusion: str = "success",
    signals: tuple[str, ...] = ("Codex task link",),
) -> AuditRecord:
    return AuditRecord(
        time=NOW - ago,
        repository=repo,
        pr=pr,
        head_sha="a" * 40,
        person=person,
        codex=codex,
        signals=signals if codex else (),
        outcomes=dict(ALL_PASS if outcomes is None else outcomes),
        findings=findings,
        overrides=overrides,
        delivery=f"d-{repo}-{pr}",
        conclusion=conclusion,
        installation=7,
    )


@pytest.fixture
def cli_ops_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the operator subcommands as the lead wires them in bot/ops/cli.py."""
    monkeypatch.setattr(cli, "SUBCOMMAND_MODULES", ["bot.ops.cli_ops"])


def test_append_and_read_round_trip(redis_client: redis.Redis) -> None:
    record = rec(
        overrides=(AuditOverride("tests", "bob", "flaky CI, tracked in #12"),),
        findings=("done-when/missing", "tests/failed-command"),
        conclusion="failure",
    )
    assert audit.append(redis_client, record) is not None
    assert audit.read(redis_client) == [record]


def test_the_stream_is_bounded_and_keeps_the_newest(redis_client: redis.Redis) -> None:
    for i in range(1000):
        audit.append(redis_client, rec(pr=i), maxlen=50)
    length = redis_client.xlen(audit.STREAM)
    # MAXLEN ~ trims whole stream nodes (100 entries by default), never below the bound.
    assert 50 <= length <= 150
    kept = audit.read(redis_client)
    assert kept[-1].pr == 999
    assert kept[0].pr >= 1000 - length


def test_default_bound_is_applied(redis_client: redis.Redis, monkeypatch) -> None:
    seen = {}
    original = redis_client.xadd

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(redis_client, "xadd", spy)
    audit.append(redis_client, rec())
    assert seen["maxlen"] == 100_000 and seen["approximate"] is True


def test_read_filters_by_age_and_repository(redis_client: redis.Redis) -> None:
    audit.append(redis_client, rec(repo="octo-org/old", ago=timedelta(days=10)))
    audit.append(redis_client, rec(repo="octo-org/app", ago=timedelta(days=2)))
    audit.append(redis_client, rec(repo="octo-org/api", ago=timedelta(minutes=5)))
    assert [r.repository for r in audit.read(redis_client, since=timedelta(days=7))] == [
        "octo-org/app",
        "octo-org/api",
    ]
    assert [r.repository for r in audit.read(redis_client, since=timedelta(hours=1))] == [
        "octo-org/api"
    ]
    only = audit.read(redis_client, repo="OCTO-ORG/App")
    assert [r.repository for r in only] == ["octo-org/app"]
    assert len(audit.read(redis_client)) == 3


def test_read_pages_through_more_than_one_batch(redis_client: redis.Redis) -> None:
    pipe = redis_client.pipeline()
    for i in range(2500):
        payload = json.dumps(rec(pr=i).as_json())
        pipe.xadd(audit.STREAM, {"v": "1", "record": payload})
    pipe.execute()
    records = audit.read(redis_client)
    assert [r.pr for r in records] == list(range(2500))


def test_unreadable_entries_are_skipped(redis_client: redis.Redis) -> None:
    redis_client.xadd(audit.STREAM, {"v": "1", "record": "{not json"})
    redis_client.xadd(audit.STREAM, {"other": "field"})
    audit.append(redis_client, rec(pr=5))
    assert [r.pr for r in audit.read(redis_client)] == [5]


def test_append_never_raises_when_redis_is_down() -> None:
    down = redis.Redis(port=free_port(), socket_connect_timeout=0.2)
    assert audit.append(down, rec()) is None


def test_from_evaluation_captures_outcomes_findings_and_overrides() -> None:
    finding = Finding(rule="done-when/missing", level=Level.ERROR, message="no success condition")
    evaluation = Evaluation(
        detection=Detection(codex_authored=True, signals=("Codex task link abc…",)),
        results={
            "task-thread": PracticeResult("task-thread", Outcome.PASS, "linked"),
            "done-when": PracticeResult("done-when", Outcome.FAIL, "missing", (finding,)),
            "tests": PracticeResult("tests", Outcome.SKIP, "skipped by @bob: flaky"),
        },
        conclusion="failure",
        overrides=(Override(practice="tests", by="bob", reason="flaky"),),
    )
    record = audit.from_evaluation(
        evaluation,
        repository="octo-org/app",
        pr=3,
        head_sha="b" * 40,
        person="alice",
        delivery="guid-1",
        installation=9,
        at=NOW,
    )
    assert record.codex and record.signals == ("Codex task link abc…",)
    assert record.outcomes == {"task-thread": "pass", "done-when": "fail", "tests": "skip"}
    assert record.findings == ("done-when/missing",)
    assert record.overrides == (AuditOverride("tests", "bob", "flaky"),)
    assert record.conclusion == "failure" and record.delivery == "guid-1"
    pending = audit.from_evaluation(
        Evaluation(evaluation.detection, evaluation.results, "success", pending=True),
        repository="o/r",
        pr=1,
        head_sha="c" * 40,
        person="alice",
    )
    assert pending.conclusion == "pending"


def sample_records() -> list[AuditRecord]:
    flaky = AuditOverride("tests", "bob", "flaky CI")
    return [
        # octo-org/app#1 by alice: failed done-when first, then fixed.
        rec(
            pr=1,
            ago=timedelta(hours=5),
            outcomes={**ALL_PASS, "done-when": "fail"},
            findings=("done-when/missing",),
            conclusion="failure",
        ),
        rec(pr=1, ago=timedelta(hours=4)),
        # ...and a later push still waits for CI: the settled verdict above counts.
        rec(
            pr=1,
            ago=timedelta(hours=3, minutes=30),
            outcomes={**ALL_PASS, "tests": "pending", "done-when": "fail"},
            conclusion="pending",
        ),
        # octo-org/app#2 by carol: tests fail, overridden by bob.
        rec(
            pr=2,
            person="carol",
            ago=timedelta(hours=3),
            outcomes={**ALL_PASS, "tests": "fail"},
            findings=("tests/failed-command", "done-when/vague"),
            conclusion="failure",
        ),
        rec(
            pr=2,
            person="carol",
            ago=timedelta(hours=2),
            outcomes={**ALL_PASS, "tests": "skip"},
            findings=("tests/failed-command",),
            overrides=(flaky,),
        ),
        # octo-org/app#3: a human PR.
        rec(pr=3, person="dave", codex=False, outcomes={k: "skip" for k in ALL_PASS}),
        # octo-org/api#1 by alice: agents-md warns and the done-when stays vague.
        rec(
            repo="octo-org/api",
            pr=1,
            outcomes={**ALL_PASS, "agents-md": "warn", "done-when": "fail"},
            findings=("agents-md/too-large", "done-when/vague"),
            conclusion="failure",
        ),
    ]


def test_summary_numbers() -> None:
    summary = audit.summarise(sample_records())
    overall = summary.overall
    assert summary.records == 7
    assert (overall.codex_prs, overall.other_prs, overall.evaluations) == (3, 1, 7)
    assert overall.passing_prs == 2
    # Latest evaluation per PR: done-when passes on app#1 and app#2, fails on api#1.
    assert overall.practices["done-when"].pass_rate == pytest.approx(2 / 3)
    # tests: pass, skip (overridden), pass -> 2 of 2 judged.
    assert overall.practices["tests"].passed == 2
    assert overall.practices["tests"].skipped == 1
    assert overall.practices["tests"].pass_rate == 1.0
    assert overall.practices["agents-md"].warned == 1
    assert overall.practices["agents-md"].pass_rate == pytest.approx(2 / 3)
    # Findings count PRs, once each, from any evaluation in the window.
    assert overall.top_findings() == [
        ("done-when/vague", 2),
        ("agents-md/too-large", 1),
        ("done-when/missing", 1),
        ("tests/failed-command", 1),
    ]
    assert [(o.repository, o.pr, o.practice, o.by) for o in overall.overrides] == [
        ("octo-org/app", 2, "tests", "bob")
    ]

    app = summary.by_repository["octo-org/app"]
    assert (app.codex_prs, app.other_prs, app.passing_prs) == (2, 1, 2)
    api = summary.by_repository["octo-org/api"]
    assert (api.codex_prs, api.passing_prs) == (1, 0)
    assert api.practices["done-when"].pass_rate == 0.0

    assert list(summary.by_person) == ["alice", "carol", "dave"]
    alice = summary.by_person["alice"]
    assert alice.codex_prs == 2 and alice.passing_prs == 1
    assert summary.by_person["carol"].overrides[0].reason == "flaky CI"
    assert summary.by_person["dave"].codex_prs == 0


def test_summary_text_reads_like_a_report() -> None:
    text = audit.summary_text(audit.summarise(sample_records()))
    assert "3 Codex PRs, 67% passing (1 other PRs)" in text
    assert "pass rate: task-thread 100%, done-when 67%, tests 100%, agents-md 67%" in text
    assert "octo-org/api: 1 Codex PRs, 0% passing" in text
    assert "most common findings: done-when/vague (2)" in text
    assert "override: octo-org/app#2 tests by @bob: flaky CI" in text
    empty = audit.summary_text(audit.summarise([rec(codex=False)]))
    assert "No Codex pull requests in this window (1 other PRs evaluated)." in empty


def test_summary_text_strips_control_characters() -> None:
    hostile = rec(
        overrides=(AuditOverride("tests", "bob", "ok\x1b[2J\nfake line"),),
        outcomes={**ALL_PASS, "tests": "skip"},
    )
    text = audit.summary_text(audit.summarise([hostile]))
    assert "\x1b" not in text
    assert "by @bob: ok [2J fake line" in text


# ---------------------------------------------------------------- exports through the CLI


def test_csv_export(
    redis_server: RedisServer, redis_client: redis.Redis, capsys, cli_ops_registered: None
) -> None:
    for record in sample_records():
        audit.append(redis_client, record)
    audit.append(
        redis_client,
        rec(repo="octo-org/other", pr=9, signals=('=HYPERLINK("http://x")',)),
    )
    code = cli.main(
        [
            "audit",
            "--since",
            "7d",
            "--redis-url",
            redis_server.url,
            "--repo",
            "octo-org/app",
            "--format",
            "csv",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["repository"], r["pr"]) for r in rows] == [("octo-org/app", n) for n in "111223"]
    # The header is the product's own column list; the first row pins its order by content.
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert list(rows[0].values())[:8] == [
        (NOW - timedelta(hours=5)).isoformat(timespec="seconds"),
        "octo-org/app",
        "1",
        "a" * 40,
        "alice",
        "yes",
        "Codex task link",
        "failure",
    ]
    assert rows[0]["done-when"] == "fail" and rows[0]["findings"] == "done-when/missing"
    assert rows[4]["overrides"] == "tests by @bob: flaky CI"
    assert rows[5]["codex"] == "no"

    cli.main(["audit", "--redis-url", redis_server.url, "--repo", "octo-org/other"])
    other = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert other[0]["signals"] == '\'=HYPERLINK("http://x")'


def test_json_export(
    redis_server: RedisServer, redis_client: redis.Redis, capsys, cli_ops_registered: None
) -> None:
    records = sample_records()
    audit.append(redis_client, rec(ago=timedelta(days=9)))
    for record in records:
        audit.append(redis_client, record)
    code = cli.main(
        ["audit", "--since", "12h", "--format", "json", "--redis-url", redis_server.url]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data == [r.as_json() for r in records]
    assert [AuditRecord.from_json(d) for d in data] == records


def test_export_functions_handle_no_records() -> None:
    assert export_json([]) == "[]\n"
    assert export_csv([]).startswith("time,repository,pr,")


@pytest.mark.parametrize("bad", ["7", "7x", "-1d", "0d", "1w", "d"])
def test_bad_since_is_a_usage_error(bad: str, capsys, cli_ops_registered: None) -> None:
    assert cli.main(["audit", "--since", bad]) == 2
    assert cli.main(["report", f"--since={bad}"]) == 2
    err = capsys.readouterr().err
    assert "expected a duration like 7d, 12h or 30m" in err


def test_audit_without_redis_is_a_clear_usage_error(capsys, cli_ops_registered: None) -> None:
    code = cli.main(["audit", "--redis-url", f"redis://127.0.0.1:{free_port()}/0"])
    assert code == 2
    assert "cannot read the audit trail from Redis" in capsys.readouterr().err


def test_report_prints_text_and_writes_html(
    redis_server: RedisServer,
    redis_client: redis.Redis,
    tmp_path: Path,
    capsys,
    cli_ops_registered: None,
) -> None:
    for record in sample_records():
        audit.append(redis_client, record)
    target = tmp_path / "report.html"
    code = cli.main(
        ["report", "--since", "30d", "--redis-url", redis_server.url, "--html", str(target)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "By repository" in out and "octo-org/api: 1 Codex PRs" in out
    assert f"wrote {target}" in out
    page = target.read_text()
    assert page.count("<svg") == 4
    assert "octo-org/api" in page


# ---------------------------------------------------------------- HTML

HOSTILE_REPO = "evil/<script>document.title='pwned'</script>"
HOSTILE_PERSON = '"><img src=x onerror="document.title=\'pwned\'">'


def hostile_summary() -> audit.Summary:
    records = [
        rec(
            repo=HOSTILE_REPO,
            person=HOSTILE_PERSON,
            outcomes={**ALL_PASS, "done-when": "fail"},
            findings=("<b>rule</b>",),
            conclusion="failure",
            overrides=(AuditOverride("tests", "bob", "</td><script>alert(1)</script>"),),
        ),
        rec(pr=2),
    ]
    return audit.summarise(records, since=NOW - timedelta(days=30), until=NOW)


def test_html_escapes_everything_from_users() -> None:
    page = render_html(hostile_summary())
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>rule</b>" not in page
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=" in page
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_loads_nothing_and_forbids_scripts() -> None:
    page = render_html(hostile_summary())
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<[^>]*\s(?:src|href)\s*=", page)  # no attribute fetches anything
    assert "@import" not in page and "url(" not in page
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls <= {"http://www.w3.org/2000/svg"}


def test_html_charts_show_the_numbers() -> None:
    page = render_html(audit.summarise(sample_records(), until=NOW))
    assert page.count("<svg") == 4
    assert ">67% of 3</text>" in page  # done-when pass rate bar
    assert ">2 (100% passing)</text>" in page  # octo-org/app PR bar
    assert "<td>@bob</td><td>flaky CI</td>" in page


def test_html_without_codex_prs() -> None:
    page = render_html(audit.summarise([rec(codex=False)]))
    assert "No Codex pull requests in this window." in page
    assert "<svg" not in page


@needs_chromium
def test_report_renders_in_a_real_browser_without_running_injected_code(
    tmp_path: Path,
) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(hostile_summary()))
    dom = dump_dom(page.as_uri(), tmp_path / "profile")
    assert "<title>codex-guard audit report</title>" in dom
    assert "pwned" not in dom.split("</title>")[0]
    assert dom.count("<svg") == 4
    assert "<script" not in dom and "<img" not in dom
    assert "evil/&lt;script&gt;" in dom
