"""`codex-guard costs` against a real Redis: per person and per team, as text, CSV and
JSON; time windows; empty ledgers; bad arguments and an unreachable Redis."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
import redis

from bot.jobs.costs.ledger import UsageRecord, record_usage
from bot.ops import cli
from bot.ops.cli import UsageError
from bot.ops.cli_costs import parse_until
from tests.conftest import RedisServer, free_port
from tests.usage_helpers import usage_record

NOW = datetime.now(UTC).replace(microsecond=0)


def rec(
    thread: str,
    person: str,
    team: str | None,
    dollars: str | None,
    *,
    ago: timedelta = timedelta(days=1),
    pr: int = 1,
    model: str | None = "gpt-5-codex",
    at: datetime | None = None,
) -> UsageRecord:
    return usage_record(
        thread, recorded_at=at or NOW - ago, tokens=(10_000, 4_000, 1_000, 200),
        dollars=dollars, pr=pr, person=person, team=team, model=model,
    )  # fmt: skip


@pytest.fixture
def ledger(redis_client: redis.Redis) -> redis.Redis:
    records = [
        rec("t1", "alice", "web", "0.30"),
        rec("t2", "alice", "web", "0.45", pr=2),
        rec("t3", "bob", "web", "2.00"),
        rec("t4", "carol", None, None, model="mystery"),
        rec("old", "dave", "data", "99.00", ago=timedelta(days=45)),
    ]
    assert record_usage(redis_client, records) == 5
    assert record_usage(redis_client, records) == 0  # redelivered: still once each
    return redis_client


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["costs", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_costs_is_registered_in_the_real_cli(redis_server: RedisServer, ledger, capsys) -> None:
    assert "bot.ops.cli_costs" in cli.SUBCOMMAND_MODULES
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--by {person,team,repo,model}" in out


def _table(out: str) -> list[list[str]]:
    """The table's body rows (between the two rules), split on whitespace."""
    lines = out.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("---")]
    return [line.split() for line in lines[rules[0] + 1 : rules[1]]]


def test_text_per_person(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, err = run(capsys, "--redis-url", redis_server.url)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Codex usage by person, ") and lines[0].endswith("(4 threads)")
    assert lines[2].split()[:3] == ["person", "threads", "PRs"]
    rows = _table(out)
    assert [r[0] for r in rows] == ["bob", "alice", "carol"]
    assert rows[0][6] == "$2.00"
    assert rows[1] == ["alice", "2", "2", "20,000", "8,000", "2,000", "$0.75", "0"]
    assert rows[2][6:] == ["unknown", "1"]
    assert "dave" not in out  # 45 days ago, outside the default 30d
    total = next(line for line in lines if line.startswith("total"))
    assert total.split() == ["total", "4", "40,000", "16,000", "4,000", "$2.75", "1"]
    assert "1 thread used a model the rate card does not know" in out


def test_text_per_team(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, _ = run(capsys, "--by", "team", "--since", "60d", "--redis-url", redis_server.url)
    assert code == 0
    assert out.startswith("Codex usage by team, ") and "(5 threads)" in out
    rows = _table(out)
    assert [(" ".join(r[:-7]), r[-2]) for r in rows] == [
        ("data", "$99.00"),
        ("web", "$2.75"),
        ("(no team)", "unknown"),
    ]
    assert rows[1][-7:-2] == ["3", "2", "30,000", "12,000", "3,000"]


def test_csv_per_person(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, err = run(capsys, "--csv", "--redis-url", redis_server.url)
    assert (code, err) == (0, "")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["person"], r["threads"], r["prs"], r["dollars"]) for r in rows] == [
        ("bob", "1", "1", "2.00"),
        ("alice", "2", "2", "0.75"),
        ("carol", "1", "1", "0.00"),
    ]
    assert rows[2]["unpriced_threads"] == "1"


def test_csv_per_team(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, _ = run(capsys, "--csv", "--by", "team", "--redis-url", redis_server.url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["team"], r["threads"], r["dollars"]) for r in rows] == [
        ("web", "3", "2.75"),
        ("(no team)", "1", "0.00"),
    ]


def test_json_per_person_and_per_team(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, _ = run(capsys, "--json", "--redis-url", redis_server.url)
    assert code == 0
    data = json.loads(out)
    assert [(d["key"], d["dollars"]) for d in data] == [
        ("bob", "2.00"),
        ("alice", "0.75"),
        ("carol", "0.00"),
    ]
    assert data[1] == {
        "key": "alice",
        "threads": 2,
        "prs": 2,
        "input_tokens": 20_000,
        "cached_input_tokens": 8_000,
        "output_tokens": 2_000,
        "dollars": "0.75",
        "unpriced_threads": 0,
    }
    code, out, _ = run(capsys, "--json", "--by", "team", "--redis-url", redis_server.url)
    assert [(d["key"], d["threads"]) for d in json.loads(out)] == [("web", 3), ("(no team)", 1)]


def test_by_model(redis_server: RedisServer, ledger, capsys) -> None:
    code, out, _ = run(capsys, "--json", "--by", "model", "--redis-url", redis_server.url)
    assert code == 0
    data = {d["key"]: d for d in json.loads(out)}
    assert data["mystery"]["unpriced_threads"] == 1 and data["gpt-5-codex"]["dollars"] == "2.75"


def test_until_bounds_the_window(redis_server: RedisServer, redis_client, capsys) -> None:
    day = (NOW - timedelta(days=3)).date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    record_usage(
        redis_client,
        [
            rec("in", "alice", "web", "1.00", at=start + timedelta(hours=23, minutes=59)),
            rec("out", "bob", "web", "2.00", at=start + timedelta(days=1)),
        ],
    )
    code, out, _ = run(
        capsys,
        "--json",
        "--since",
        "10d",
        "--until",
        day.isoformat(),
        "--redis-url",
        redis_server.url,
    )
    assert code == 0 and [d["key"] for d in json.loads(out)] == ["alice"]
    until = (start + timedelta(days=1, seconds=1)).isoformat()
    code, out, _ = run(capsys, "--json", "--until", until, "--redis-url", redis_server.url)
    assert sorted(d["key"] for d in json.loads(out)) == ["alice", "bob"]


def test_nothing_recorded_says_so(redis_server: RedisServer, redis_client, capsys) -> None:
    code, out, err = run(capsys, "--since", "7d", "--redis-url", redis_server.url)
    assert code == 0 and err == ""
    assert out.startswith("no Codex usage recorded between ")
    assert out.count(" UTC") == 2 and out.count("\n") == 1
    code, out, err = run(capsys, "--json", "--redis-url", redis_server.url)
    assert (code, json.loads(out)) == (0, [])
    assert err.startswith("no Codex usage recorded between ")
    code, out, err = run(capsys, "--csv", "--by", "team", "--redis-url", redis_server.url)
    assert out.startswith("team,threads,") and len(out.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "7x"], "--since: expected a duration like 7d, 12h or 30m"),
        (["--since", "0d"], "--since: expected a duration"),
        (["--until", "yesterday"], "--until: expected an ISO date"),
        (["--until", "2026-13-01"], "--until: expected an ISO date"),
        (["--until", "2001-01-01"], "is not after --since"),
    ],
)
def test_bad_window_is_a_one_line_usage_error(
    args: list[str], message: str, redis_client, capsys
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("codex-guard: ")


def test_json_and_csv_exclude_each_other(capsys) -> None:
    code, _, err = run(capsys, "--json", "--csv")
    assert code == 2 and "not allowed with argument" in err


def test_unreachable_redis_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys, "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    assert code == 2 and "cannot read the cost ledger from Redis" in err


def test_parse_until() -> None:
    assert parse_until("2026-01-31") == datetime(2026, 2, 1, tzinfo=UTC)
    assert parse_until("2026-01-31T12:00") == datetime(2026, 1, 31, 12, tzinfo=UTC)
    assert parse_until("2026-01-31T12:00+02:00") == datetime(2026, 1, 31, 10, tzinfo=UTC)
    with pytest.raises(UsageError):
        parse_until("")


# -- --org-spend: what OpenAI billed beside the PR-attributed cost ------------------------


@pytest.fixture
def org_spend_stored(ledger: redis.Redis) -> redis.Redis:
    """A week read by the real job from the OpenAI double: web by project, a stray key."""
    from openai_double import OpenAIDouble, completions_result, costs_result

    from bot.core.config.costs import OpenAIConfig
    from bot.jobs.costs import org_spend
    from bot.jobs.costs.openai_api import OpenAIAdmin

    day = NOW.date() - timedelta(days=1)
    with OpenAIDouble() as double:
        double.seed_costs(
            day,
            costs_result("5.00", project_id="proj_web", api_key_id="key_web", line_item="in"),
            costs_result("1.50", project_id="proj_x", api_key_id="key_stray", line_item="in"),
            costs_result("0.20", line_item="fine-tuning"),
        )
        double.seed_usage(
            day,
            completions_result(input_tokens=90_000, output_tokens=9_000, num_model_requests=12,
                               project_id="proj_web", api_key_id="key_web", model="gpt-5-codex"),
            completions_result(input_tokens=7_000, output_tokens=700, num_model_requests=3,
                               project_id="proj_x", api_key_id="key_stray", model="gpt-5-codex"),
        )  # fmt: skip
        mapping = OpenAIConfig(projects={"proj_web": "web"})
        api = OpenAIAdmin(double.admin_key, double.base_url)
        assert org_spend.run(ledger, api, mapping, now=NOW) == org_spend.DEFAULT_DAYS
    return ledger


def test_org_spend_text_shows_openai_beside_the_pr_cost_and_the_stray_key(
    redis_server: RedisServer, org_spend_stored, capsys
) -> None:
    code, out, err = run(capsys, "--org-spend", "--redis-url", redis_server.url)
    assert (code, err) == (0, "")
    assert out.startswith("OpenAI organisation spend beside PR-attributed Codex cost, ")
    assert "(7 days, UTC), last read " in out
    teams, keys = out.split("Unattributed API keys")
    rows = _table(teams)
    assert rows[0] == ["web", "$5.00", "12", "90,000", "9,000", "$2.75", "3"]
    # carol's thread has no team and no price; OpenAI's team-less spend sits beside it.
    assert rows[1] == ["(no", "team)", "$1.70", "3", "7,000", "700", "unknown", "1"]
    total = next(line for line in teams.splitlines() if line.startswith("total"))
    assert total.split() == ["total", "$6.70", "15", "97,000", "9,700", "$2.75", "4"]
    key_rows = _table(keys)
    assert key_rows == [["key_stray", "proj_x", "$1.50", "3", "7,000", "700"]]
    assert "costs.openai.api_keys" in keys


def test_org_spend_json(redis_server: RedisServer, org_spend_stored, capsys) -> None:
    code, out, _ = run(capsys, "--org-spend", "--json", "--redis-url", redis_server.url)
    assert code == 0
    data = json.loads(out)
    assert len(data["openai_days"]) == 7 and data["last_run"]["ok"] is True
    web, none = data["teams"]
    assert web == {
        "team": "web",
        "openai": {"dollars": "5.00", "requests": 12, "input_tokens": 90_000,
                   "output_tokens": 9_000},
        "pr_attributed": {"dollars": "2.75", "threads": 3, "unpriced_threads": 0},
    }  # fmt: skip
    assert none["team"] is None and none["openai"]["dollars"] == "1.70"
    assert none["pr_attributed"]["unpriced_threads"] == 1
    assert data["unattributed_keys"] == [
        {
            "api_key_id": "key_stray",
            "projects": ["proj_x"],
            "dollars": "1.50",
            "requests": 3,
            "input_tokens": 7_000,
            "cached_input_tokens": 0,
            "output_tokens": 700,
        }
    ]


def test_org_spend_says_when_nothing_is_stored_and_when_the_last_read_failed(
    redis_server: RedisServer, ledger, capsys
) -> None:
    from bot.core.config.costs import OpenAIConfig
    from bot.jobs.costs import org_spend
    from bot.jobs.costs.openai_api import OpenAIAdmin

    code, out, _ = run(capsys, "--org-spend", "--redis-url", redis_server.url)
    assert code == 0 and "no day of organisation spend is stored for this window" in out
    assert "web" in out  # the PR-attributed figures still show
    # A refused key: the run is noted, the CLI says the figures are from earlier reads.
    from openai_double import OpenAIDouble

    with OpenAIDouble() as double:
        api = OpenAIAdmin("sk-admin-not-this-one-123456", double.base_url)
        assert org_spend.run(ledger, api, OpenAIConfig(), now=NOW) == 0
    code, out, _ = run(capsys, "--org-spend", "--redis-url", redis_server.url)
    assert "failed: /v1/organization/usage/completions: OpenAI answered 401" in out
    assert "OPENAI_ADMIN_KEY" in out and "sk-admin-not-this-one" not in out


def test_org_spend_has_no_csv(redis_client, capsys) -> None:
    code, out, err = run(capsys, "--org-spend", "--csv")
    assert code == 2 and out == "" and "--org-spend prints a table or --json" in err
