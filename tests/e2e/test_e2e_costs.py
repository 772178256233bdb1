"""Issue 13, cost per PR, end to end: real redis-server, gunicorn `web`, Celery `worker` and
the GitHub API double serving Actions runs, artifacts and the signed download.

A Codex workflow uploads its rollout files as the `codex-usage` artifact; codex-guard finds
the run among the head's GitHub Actions check runs (or from `workflow_run.completed`),
reads it once, prices it, records it against the PR's author and team, and shows an
informational `cost` row in the check run. Budgets past 80 % and 100 % show there too; a
spent `error` budget fails the check. Bad artifacts are notes; the practices still report.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.core.usage.rates import RateCard, cost_of, dollars
from bot.core.usage.rollout import merge_threads, parse_jsonl
from bot.jobs.costs.ledger import pr_usage
from bot.web.handlers import router
from tests.conftest import FIXTURES
from tests.e2e_helpers import (
    Seeder,
    deliver_and_wait,
    evaluations,
    fresh_repo,
    guard_comments,
    ids,
    log_records,
    wait_evaluations,
)
from tests.e2e_rig import *  # noqa: F403 - fixtures (stack, double, _contract)
from tests.e2e_rig import Stack, wait_for
from tests.usage_helpers import zipped

pytestmark = pytest.mark.e2e

USAGE = FIXTURES / "usage"
WORKED = USAGE / "rollout-2026-01-20T10-04-31-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
NO_COUNTS = USAGE / "rollout-2026-01-21T08-15-00-0199c3d4-0a1b-7c2d-8e3f-405162738495.jsonl"
TWO_THREADS = USAGE / "exec-two-threads.jsonl"
TRUNCATED = USAGE / "exec-truncated.jsonl"
WORKFLOW_RUN = json.loads((FIXTURES / "github" / "workflow_run.completed.json").read_text())
AUTHOR = "Codertocat"  # the author of GitHub's example pull_request payload


@pytest.fixture
def seed(double, webhook_examples) -> Seeder:
    return Seeder(double, webhook_examples)


def team_name() -> str:
    """A team no other test spends for (the ledger outlives a test within the module)."""
    return f"team-{secrets.token_hex(4)}"


def codex_run(stack: Stack, payload: dict[str, Any], artifact: bytes | None, **kw: Any) -> Any:
    """A finished `codex` workflow run on the PR head: its job's check run (as GitHub Actions
    links it) and, if given, its `codex-usage` artifact."""
    repo, _, sha = ids(payload)
    run = stack.double.add_workflow_run(repo, sha, **kw)
    stack.double.add_check_run(
        repo, sha, "codex", "completed", "success",
        details_url=f"https://github.com/{repo}/actions/runs/{run.id}/job/{run.id + 7}",
    )  # fmt: skip
    if artifact is not None:
        stack.double.add_artifact(repo, run.id, "codex-usage", artifact)
    return run


def cost_row(run: Any) -> str:
    rows = [line for line in run.output["summary"].splitlines() if "(`cost`" in line]
    assert len(rows) == 1, run.output["summary"]
    return rows[0]


def practice_rows(run: Any) -> list[str]:
    return [
        line.split("(`")[1].split("`")[0]
        for line in run.output["summary"].splitlines()
        if line.startswith("| ") and "(`" in line and "(`cost`" not in line
    ]


def config(team: str, extra: str = "") -> dict[str, str]:
    return {".github/codex-guard.yml": f"costs:\n  teams:\n    {team}: {{members: [{AUTHOR}]}}\n"
            + extra}  # fmt: skip


def workflow_run_event(payload: dict[str, Any], run: Any, with_prs: bool = True) -> dict[str, Any]:
    """GitHub's `workflow_run.completed` example, for this run on this PR's head."""
    event = copy.deepcopy(WORKFLOW_RUN)
    event["repository"] = copy.deepcopy(payload["repository"])
    event["installation"] = copy.deepcopy(payload["installation"])
    wr = event["workflow_run"]
    pr = payload["pull_request"]
    wr["id"], wr["head_sha"], wr["head_branch"] = run.id, pr["head"]["sha"], pr["head"]["ref"]
    if with_prs:
        wr["pull_requests"][0]["number"] = pr["number"]
        wr["pull_requests"][0]["head"]["sha"] = pr["head"]["sha"]
    else:
        wr["pull_requests"] = []
    return event


def run_reads(stack: Stack, run_id: int) -> list[dict[str, Any]]:
    """The worker's "workflow run <id> read" lines: one per finished `collect_usage` job."""
    return [r for r in log_records(stack)
            if str(r.get("message", "")).startswith(f"workflow run {run_id} read:")]  # fmt: skip


def priced(*files: Path, model: str | None = None) -> tuple[int, int, int, Decimal]:
    """(input, cached, output, dollars) of the files' threads, read by the core itself."""
    usages = []
    for path in files:
        usages.extend(parse_jsonl(path.name, path.read_text()).usages)
    threads = merge_threads(usages)
    card = RateCard()
    total = Decimal(0)
    for usage in threads:
        usage = usage if usage.model or model is None else replace(usage, model=model)
        total += cost_of(usage, card).dollars or Decimal(0)
    return (
        sum(u.input_tokens for u in threads),
        sum(u.cached_input_tokens for u in threads),
        sum(u.output_tokens for u in threads),
        total,
    )


# -- the worked example, and the route ------------------------------------------------------


def test_the_worked_example_shows_thirty_cents_in_the_check_run(stack: Stack, seed: Seeder):
    team = team_name()
    payload = seed.open(repo=fresh_repo(), base_files=config(team))
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    row = cost_row(run)
    assert "1 thread, 935,040 tokens in (875,306 cached), 11,150 out: **$0.30**" in row, row
    assert "rates of 2026-01-15" in row
    assert run.conclusion == "success" and run.output["title"] == "All 5 practices pass"
    assert practice_rows(run) == ["task-thread", "done-when", "tests", "agents-md", "scope"]
    repo, number, _ = ids(payload)
    (record,) = pr_usage(stack.redis.client(), repo, number)
    assert (record.person, record.team, record.model) == (AUTHOR, team, "gpt-5-codex")
    # A passing PR gets no comment for its cost.
    assert guard_comments(stack.double, repo, number) == []


def test_a_failing_pr_comment_carries_one_cost_line(stack: Stack, seed: Seeder):
    task = f"https://chatgpt.com/codex/tasks/task_e_{secrets.token_hex(16)}"
    payload = seed.open(repo=fresh_repo(), body=f"Refactor the exporter.\n\n------\n{task}\n")
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    repo, number, _ = ids(payload)
    (comment,) = wait_for(lambda: guard_comments(stack.double, repo, number), 10, "the comment")
    lines = [x for x in comment.body.splitlines() if "Codex usage on this PR" in x]
    assert len(lines) == 1 and "**$0.30**" in lines[0]


def test_the_workflow_run_route_names_the_run_and_its_prs():
    event = copy.deepcopy(WORKFLOW_RUN)
    event["installation"] = {"id": 1}
    (job,) = router.dispatch("workflow_run", event)
    assert job.task == "codex_guard.collect_usage"
    assert job.kwargs["run_id"] == WORKFLOW_RUN["workflow_run"]["id"]
    assert job.kwargs["pull_numbers"] == [2]
    assert "head_sha" not in job.kwargs  # this job marks no check run as unfinished
    event["action"] = "requested"
    assert router.dispatch("workflow_run", event) is None


def test_workflow_run_completed_brings_the_cost_and_a_redelivery_counts_once(
    stack: Stack, seed: Seeder
):
    payload = seed.open(repo=fresh_repo())
    repo, number, sha = ids(payload)
    first = deliver_and_wait(stack, payload)  # before the Codex run finished: no cost yet
    assert "(`cost`" not in first.output["summary"]
    run = stack.double.add_workflow_run(repo, sha)
    stack.double.add_artifact(repo, run.id, "codex-usage", zipped(WORKED))
    event = workflow_run_event(payload, run, with_prs=False)  # the head SHA finds the PR
    delivery = f"wr-{secrets.token_hex(8)}"
    assert stack.send("workflow_run", event, delivery).status_code == 202
    shown = wait_for(
        lambda: (
            "$0.30" in (stack.completed_check(repo, sha).output["summary"] or "")
            and stack.completed_check(repo, sha)
        ),
        45,
        "the cost in the check run",
    )
    assert "1 thread, 935,040 tokens in" in cost_row(shown)
    # The same delivery again (GitHub's Redeliver keeps X-GitHub-Delivery): not queued.
    again = stack.send("workflow_run", event, delivery)
    assert again.status_code == 200 and "duplicate" in again.json()["message"]
    # A new delivery for the same run (a re-sent event): read again, counted once.
    before = len(evaluations(stack, repo, number))
    stack.double.reset_requests()
    assert stack.send("workflow_run", workflow_run_event(payload, run)).status_code == 202
    wait_for(lambda: len(run_reads(stack, run.id)) == 2, 30, "the second read of the run")
    assert stack.double.calls("GET", rf"/actions/runs/{run.id}/artifacts")  # listed again
    assert stack.double.calls("GET", r"/actions/artifacts/") == []  # not downloaded twice
    assert len(pr_usage(stack.redis.client(), repo, number)) == 1
    assert len(evaluations(stack, repo, number)) == before  # nothing changed: no re-evaluation
    assert "1 thread, 935,040 tokens in" in cost_row(stack.completed_check(repo, sha))


def test_two_threads_add_up(stack: Stack, seed: Seeder):
    extra = "  default_model: gpt-5-codex\n"
    payload = seed.open(repo=fresh_repo(), base_files=config(team_name(), extra))
    codex_run(stack, payload, zipped(WORKED, TWO_THREADS))
    row = cost_row(deliver_and_wait(stack, payload))
    tokens_in, cached, tokens_out, total = priced(WORKED, TWO_THREADS, model="gpt-5-codex")
    assert f"3 threads, {tokens_in:,} tokens in ({cached:,} cached), {tokens_out:,} out" in row
    assert f"**{dollars(total)}**" in row and total > Decimal("0.30")
    repo, number, _ = ids(payload)
    assert len(pr_usage(stack.redis.client(), repo, number)) == 3


# -- bad input ---------------------------------------------------------------------------------


def test_a_rollout_without_token_counts_is_a_note_not_a_failure(stack: Stack, seed: Seeder):
    payload = seed.open(repo=fresh_repo())
    codex_run(stack, payload, zipped(NO_COUNTS))
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success"
    assert "no Codex usage recorded yet" in cost_row(run)
    assert "recorded no token counts" in run.output["summary"]


def exec_stream(input_tokens: int) -> bytes:
    """`codex exec --json` output whose one turn reports ``input_tokens``."""
    lines = [
        {"type": "thread.started", "thread_id": f"0199ffff-{secrets.token_hex(2)}-7000-8000-"
                                                f"{secrets.token_hex(6)}"},
        {"type": "turn.completed", "usage": {"input_tokens": input_tokens,
                                             "cached_input_tokens": 0, "output_tokens": 10}},
    ]  # fmt: skip
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


@pytest.mark.parametrize(
    ("artifact", "note"),
    [
        (zipped(extra={"big.jsonl": b"\n" * (21 * 1024 * 1024)}), "more than the 20971520"),
        (zipped(WORKED, extra={"../../outside.jsonl": b"{}\n"}), "climbs out with .."),
        (zipped(TRUNCATED), "exec-truncated.jsonl: line"),
        (zipped(extra={"neg.jsonl": exec_stream(-5)}), "is negative (-5)"),
        (zipped(extra={"huge.jsonl": exec_stream(10**15)}), "implausibly large"),
    ],
    ids=["oversized", "path-escape", "truncated-line", "negative-count", "absurd-count"],
)
def test_a_bad_artifact_is_a_note_and_the_practices_still_report(
    stack: Stack, seed: Seeder, artifact: bytes, note: str
):
    payload = seed.open(repo=fresh_repo())
    codex_run(stack, payload, artifact)
    run = deliver_and_wait(stack, payload)
    assert note in run.output["summary"], run.output["summary"]
    assert practice_rows(run) == ["task-thread", "done-when", "tests", "agents-md", "scope"]
    assert run.conclusion == "success" and run.output["title"] == "All 5 practices pass"
    repo, number, _ = ids(payload)
    threads = pr_usage(stack.redis.client(), repo, number)
    # A refused archive earns no partial trust; a truncated stream keeps its good lines.
    assert len(threads) == (1 if "truncated" in note else 0)


def test_an_unknown_model_shows_its_tokens_and_an_unknown_cost(stack: Stack, seed: Seeder):
    payload = seed.open(repo=fresh_repo())
    renamed = WORKED.read_text().replace('"model":"gpt-5-codex"', '"model":"gpt-9-imaginary"')
    assert "gpt-9-imaginary" in renamed
    codex_run(stack, payload, zipped(extra={WORKED.name: renamed.encode()}))
    run = deliver_and_wait(stack, payload)
    row = cost_row(run)
    assert "935,040 tokens in (875,306 cached), 11,150 out" in row, row
    assert "unknown" in row and "$0.00" not in row
    assert run.conclusion == "success"


def test_a_bad_artifact_later_loses_nothing_already_recorded(stack: Stack, seed: Seeder):
    payload = seed.open(repo=fresh_repo())
    codex_run(stack, payload, zipped(WORKED))
    first = deliver_and_wait(stack, payload)
    assert "**$0.30**" in cost_row(first)
    repo, number, sha = ids(payload)
    # A re-run of the workflow uploads a bad archive; its workflow_run event arrives.
    bad = stack.double.add_workflow_run(repo, sha)
    stack.double.add_artifact(repo, bad.id, "codex-usage",
                              zipped(WORKED, extra={"../../x.jsonl": b"{}\n"}))  # fmt: skip
    event = workflow_run_event(payload, bad)
    assert stack.send("workflow_run", event).status_code == 202
    run = wait_for(
        lambda: (
            "climbs out with .." in (stack.completed_check(repo, sha).output["summary"] or "")
            and stack.completed_check(repo, sha)
        ),
        45,
        "the bad archive's note in the check run",
    )
    assert "**$0.30**" in cost_row(run)
    assert len(pr_usage(stack.redis.client(), repo, number)) == 1


# -- budgets and teams ------------------------------------------------------------------


def test_a_team_budget_at_80_percent_warns(stack: Stack, seed: Seeder):
    team = team_name()
    budget = f"  budgets:\n    teams:\n      {team}: {{monthly_usd: 0.35}}\n"
    payload = seed.open(repo=fresh_repo(), base_files=config(team, budget))
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    assert (
        f"**Budget at 80 %:** team `{team}` has spent $0.30 of its $0.35" in run.output["summary"]
    )
    assert run.conclusion == "success" and run.output["title"] == "All 5 practices pass"


def test_a_repo_budget_spent_with_level_warning_does_not_fail(stack: Stack, seed: Seeder):
    repo = fresh_repo()
    budget = f"  budgets:\n    repos:\n      {repo}: {{monthly_usd: 0.25}}\n"
    payload = seed.open(repo=repo, base_files=config(team_name(), budget))
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    assert (
        f"repo `{repo}` has spent $0.30 of its $0.25 monthly budget (118 %)"
        in (run.output["summary"])
    )
    assert "level `warning`, so the check does not fail" in run.output["summary"]
    assert run.conclusion == "success"


def test_a_team_budget_spent_with_level_error_fails_the_check(stack: Stack, seed: Seeder):
    team = team_name()
    budget = f"  budgets:\n    teams:\n      {team}: {{monthly_usd: 0.25, level: error}}\n"
    payload = seed.open(repo=fresh_repo(), base_files=config(team, budget))
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "All 5 practices pass — monthly budget spent"
    assert f"❌ **Budget spent:** team `{team}` has spent $0.30" in run.output["summary"]
    assert "Its level is `error`, so this check fails" in run.output["summary"]
    repo, number, _ = ids(payload)
    assert guard_comments(stack.double, repo, number) == []  # no comment only for cost


def test_a_team_from_github_team_membership(stack: Stack, seed: Seeder):
    org = f"org-{secrets.token_hex(3)}"
    stack.double.world.add_team_member(org, "platform", AUTHOR)
    team = team_name()
    cfg = f"costs:\n  teams:\n    {team}: {{github_team: platform}}\n"
    payload = seed.open(repo=fresh_repo(org), owner_type="Organization",
                        base_files={".github/codex-guard.yml": cfg})  # fmt: skip
    codex_run(stack, payload, zipped(WORKED))
    deliver_and_wait(stack, payload)
    repo, number, _ = ids(payload)
    (record,) = pr_usage(stack.redis.client(), repo, number)
    assert record.team == team
    assert stack.double.calls("GET", rf"^/orgs/{org}/teams/platform/memberships/{AUTHOR}$")


def test_without_members_read_the_config_mapping_counts_and_the_check_says_so(
    stack: Stack, seed: Seeder
):
    org = f"org-{secrets.token_hex(3)}"
    stack.double.inject("GET", rf"^/orgs/{org}/teams/", 403, times=5, body={
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/teams/members",
    })  # fmt: skip
    cfg = "costs:\n  teams:\n    platform: {github_team: platform}\n"
    payload = seed.open(repo=fresh_repo(org), owner_type="Organization",
                        base_files={".github/codex-guard.yml": cfg})  # fmt: skip
    codex_run(stack, payload, zipped(WORKED))
    run = deliver_and_wait(stack, payload)
    assert "organisation permission `members: read`" in run.output["summary"]
    assert "**$0.30**" in cost_row(run) and run.conclusion == "success"
    repo, number, _ = ids(payload)
    (record,) = pr_usage(stack.redis.client(), repo, number)
    assert record.team is None


def test_the_api_budget_holds_on_a_rerun_of_a_scanned_head(stack: Stack, seed: Seeder):
    """A head whose runs were read costs no Actions call on its next evaluation."""
    payload = seed.open(repo=fresh_repo())
    codex_run(stack, payload, zipped(WORKED))
    deliver_and_wait(stack, payload)
    stack.double.reset_requests()
    repo, number, _ = ids(payload)
    edited = copy.deepcopy(payload)
    edited["action"] = "edited"
    edited["pull_request"]["updated_at"] = "2030-01-01T00:00:00Z"
    stack.send("pull_request", edited)
    wait_evaluations(stack, repo, number, 2)
    assert stack.double.calls("GET", r"/actions/") == []
