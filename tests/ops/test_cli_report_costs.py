"""`codex-guard report --html` against a real redis-server: the cost section read from
the cost ledger for the report's window, budgets from `--config`, and the audit part of
the page untouched when there is no cost to show."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from bot.jobs import audit
from bot.jobs.audit import AuditRecord
from bot.jobs.costs.ledger import UsageRecord, record_usage
from bot.ops import cli
from tests.conftest import RedisServer
from tests.usage_helpers import usage_record

NOW = datetime.now(UTC).replace(microsecond=0)
CONFIG = """
costs:
  budgets:
    teams:
      web: {monthly_usd: 2, level: error}
    repos:
      octo-org/app: {monthly_usd: 100}
"""


def usage(
    thread: str,
    person: str,
    team: str | None,
    dollars: str | None,
    *,
    pr: int = 1,
    model: str = "gpt-5-codex",
    ago: timedelta = timedelta(hours=1),
) -> UsageRecord:
    return usage_record(
        thread, recorded_at=NOW - ago, tokens=(935_040, 875_306, 11_150, 0), dollars=dollars,
        pr=pr, person=person, team=team, model=model,
    )  # fmt: skip


def evaluation(pr: int = 1) -> AuditRecord:
    return AuditRecord(
        time=NOW - timedelta(hours=2),
        repository="octo-org/app",
        pr=pr,
        head_sha="a" * 40,
        person="alice",
        codex=True,
        signals=("Codex task link",),
        outcomes={"task-thread": "pass", "done-when": "fail", "tests": "pass"},
        findings=("done-when/missing",),
        overrides=(),
        delivery=f"d-{pr}",
        conclusion="failure",
        installation=7,
    )


@pytest.fixture
def ledger(redis_client: redis.Redis) -> redis.Redis:
    audit.append(redis_client, evaluation())
    records = [
        usage("t1", "alice", "web", "0.30"),
        usage("t2", "bob", "web", "2.00", pr=2, ago=timedelta(minutes=30)),
        usage("t3", "carol", None, None, model="mystery"),
        usage("old", "dave", "data", "99.00", ago=timedelta(days=45)),
    ]
    assert record_usage(redis_client, records) == 4
    return redis_client


def report(server: RedisServer, target: Path, *extra: str) -> int:
    args = ["report", "--since", "30d", "--redis-url", server.url, "--html", str(target)]
    return cli.main([*args, *extra])


def test_the_html_report_has_a_cost_section_with_team_budgets(
    redis_server: RedisServer, ledger: redis.Redis, tmp_path: Path, capsys
) -> None:
    config = tmp_path / "codex-guard.yml"
    config.write_text(CONFIG)
    target = tmp_path / "report.html"
    assert report(redis_server, target, "--config", str(config)) == 0
    out = capsys.readouterr().out
    assert f"wrote {target}" in out and "Codex cost" not in out  # the terminal text is as before
    page = target.read_text()
    audit_part, costs = page.split('<section id="costs">')
    assert audit_part.count("<svg") >= 3 and "done-when" in audit_part
    assert "<b>$2.30 + unknown</b>spent" in costs
    assert costs.count('<svg xmlns="http://www.w3.org/2000/svg" class="cost-chart"') == 1
    assert "<figcaption>Team web</figcaption>" in costs
    assert '<line class="budget" data-usd="2.00"' in costs
    assert '<line class="budget-80" data-usd="1.60"' in costs
    assert 'class="marker marker-100"' in costs  # $2.30 of $2.00 this month
    assert re.search(r"<td>team</td><td>web</td>.*?<td>passed 100 %</td><td>error</td>", costs)
    assert "<td>repo</td><td>octo-org/app</td>" in costs
    person = costs.split("<h3>By person</h3>")[1].split("</table>")[0]
    assert [m for m in re.findall(r"<tr><td>([^<]*)</td>", person)] == ["bob", "alice", "carol"]
    assert re.search(
        r"<td>carol</td>(<td class=\"n\">[^<]*</td>){5}<td class=\"n\">unknown", person
    )
    assert "935,040" in person
    assert "dave" not in page  # 45 days ago: outside the window


def test_without_a_config_the_chart_has_no_budget_lines(
    redis_server: RedisServer, ledger: redis.Redis, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    assert report(redis_server, target) == 0
    page = target.read_text()
    assert "No budget configuration was given" in page
    assert "<figcaption>Team web</figcaption>" in page
    assert 'class="budget' not in page and "<h3>Budgets</h3>" not in page


def test_with_no_cost_records_the_section_says_so_and_the_audit_is_unchanged(
    redis_server: RedisServer, redis_client: redis.Redis, tmp_path: Path
) -> None:
    audit.append(redis_client, evaluation())
    with_costs, without = tmp_path / "with.html", tmp_path / "without.html"
    assert report(redis_server, with_costs) == 0
    page = with_costs.read_text()
    section = (
        '<section id="costs"><h2>Codex cost</h2>'
        "<p>No Codex usage recorded in this window.</p></section>"
    )
    assert section in page
    record_usage(redis_client, [usage("t1", "alice", "web", "0.30", ago=timedelta(days=40))])
    assert report(redis_server, without) == 0  # a thread outside the window changes nothing
    strip = re.compile(r"up to \d{4}-\d\d-\d\d \d\d:\d\d UTC|since \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert strip.sub("", page) == strip.sub("", without.read_text())
    assert page.replace(section, "").count("<svg") == page.count("<svg") >= 3


def test_the_report_filtered_to_a_repository_filters_its_costs(
    redis_server: RedisServer, ledger: redis.Redis, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    assert report(redis_server, target, "--repo", "octo-org/other") == 0
    assert "No Codex usage recorded in this window." in target.read_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "costs:\n  budgets:\n    teams:\n      web: {monthly_usd: -1}\n",
            "costs.budgets.teams.web",
        ),
        ("costs: [1, 2", "not valid YAML"),
    ],
)
def test_a_bad_config_is_a_usage_error_and_writes_nothing(
    redis_server: RedisServer, ledger: redis.Redis, tmp_path: Path, capsys, text: str, message: str
) -> None:
    config = tmp_path / "codex-guard.yml"
    config.write_text(text)
    target = tmp_path / "report.html"
    assert report(redis_server, target, "--config", str(config)) == 2
    err = capsys.readouterr().err
    assert "invalid config" in err and message in err and str(config) in err
    assert not target.exists()


def test_a_missing_config_is_a_usage_error(
    redis_server: RedisServer, ledger: redis.Redis, tmp_path: Path, capsys
) -> None:
    target = tmp_path / "report.html"
    assert report(redis_server, target, "--config", str(tmp_path / "nope.yml")) == 2
    assert "cannot read config file" in capsys.readouterr().err
    assert not target.exists()


def test_a_since_before_year_one_is_a_usage_error(
    redis_server: RedisServer, ledger: redis.Redis, capsys
) -> None:
    assert cli.main(["report", "--since", "999999d", "--redis-url", redis_server.url]) == 2
    assert "before the year 1" in capsys.readouterr().err
