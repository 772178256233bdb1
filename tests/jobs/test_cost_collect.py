"""Collecting Codex usage: which runs are read, how threads are priced and attributed, and
what GitHub's refusals become. Real Redis, real HTTP to the GitHub double, the real gateway.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from github_double import GitHubDouble, Seeded

from bot.core.config import load_config
from bot.core.config.costs import CostsConfig
from bot.core.snapshot import CheckEvidence
from bot.core.usage.artifact import read_usage_zip
from bot.github.actions import ArtifactUnavailable
from bot.github.gateway import Gateway
from bot.github.tokens import TokenStore
from bot.jobs.costs.attribution import MEMBERS_PERMISSION_NOTE, pr_cost, resolve_team
from bot.jobs.costs.collect import (
    ACTIONS_PERMISSION_NOTE,
    Owner,
    actions_run_ids,
    collect_runs,
    pr_notes,
    unscanned,
    usage_records,
)
from bot.jobs.costs.ledger import pr_usage
from bot.runtime.settings import load_settings
from tests.conftest import APP_ID, FIXTURES
from tests.usage_helpers import zipped

pytest_plugins = ["tests.double_fixtures"]

USAGE = FIXTURES / "usage"
WORKED = USAGE / "rollout-2026-01-20T10-04-31-0199a213-81c0-7800-8aa1-bbab2a035a53.jsonl"
NO_COUNTS = USAGE / "rollout-2026-01-21T08-15-00-0199c3d4-0a1b-7c2d-8e3f-405162738495.jsonl"
TWO_THREADS = USAGE / "exec-two-threads.jsonl"


def actions_check(run_id: int, status: str = "completed", slug: str = "github-actions"):
    return CheckEvidence(
        name="build",
        source="check_run",
        status=status,
        conclusion="success" if status == "completed" else None,
        url="https://github.com/o/r/runs/9",
        app_slug=slug,
        details_url=f"https://github.com/o/r/actions/runs/{run_id}/job/{run_id + 1}",
    )


@pytest.fixture
def make_gw(github_double: GitHubDouble, seeded_pr: Seeded, app_key, redis_client, redis_server):
    """A gateway with a freshly minted installation token (the installation's permissions
    as they are now)."""
    settings = load_settings({
        "APP_ID": str(APP_ID), "PRIVATE_KEY": app_key[0], "WEBHOOK_SECRET": "s",
        "REDIS_URL": redis_server.url, "GITHUB_API_URL": github_double.base_url,
        "GITHUB_SECONDS_BETWEEN_WRITES": "0", "RETRY_BASE_SECONDS": "0",
    })  # fmt: skip

    def make() -> Gateway:
        tokens = TokenStore(settings, redis_client)
        tokens.forget(seeded_pr.installation_id)
        return Gateway(settings, tokens, seeded_pr.installation_id)

    return make


@pytest.fixture
def gw(make_gw) -> Gateway:
    return make_gw()


def owner(seeded: Seeded, person: str = "alice", team: str | None = "web") -> Owner:
    return Owner(seeded.repo, seeded.number, person, team)


# -- which runs --------------------------------------------------------------------------


def test_only_finished_github_actions_runs_are_read():
    evidence = [
        actions_check(10),
        actions_check(10),  # a second job of the same run
        actions_check(20),
        actions_check(20, status="in_progress"),  # one job of run 20 still running
        actions_check(30, slug="some-ci"),  # another App's link names nothing of ours
        CheckEvidence("ci/legacy", "status", "completed", "success", url="x/actions/runs/40"),
        CheckEvidence("lint", "check_run", "completed", "success", app_slug="github-actions"),
    ]
    assert actions_run_ids(evidence) == [10]


# -- pricing and attribution ---------------------------------------------------------------


def test_threads_are_priced_and_attributed_with_the_config_default_model():
    read = read_usage_zip(zipped(WORKED, TWO_THREADS))
    costs = CostsConfig(default_model="codex-mini-latest")
    records = usage_records(read, costs, Owner("o/r", 7, "alice", "web"), run_id=99)
    by_model = {r.model for r in records}
    assert len(records) == 3 and by_model == {"gpt-5-codex", "codex-mini-latest"}
    worked = next(r for r in records if r.model == "gpt-5-codex")
    assert (worked.input_tokens, worked.cached_input_tokens, worked.output_tokens) == (
        935_040, 875_306, 11_150,
    )  # fmt: skip
    assert worked.dollars is not None and round(worked.dollars, 2) == Decimal("0.30")
    assert {(r.repo, r.pr, r.person, r.team, r.run_id) for r in records} == {
        ("o/r", 7, "alice", "web", 99)
    }
    unknown = usage_records(read, CostsConfig(), Owner("o/r", 7, "alice", None), None)
    assert [r.dollars for r in unknown if r.model is None] == [None, None]


def test_config_members_come_first_and_cost_no_call(gw, github_double, redis_client):
    costs = CostsConfig.model_validate(
        {"teams": {"web": {"members": ["Alice"]}, "infra": {"github_team": "infra"}}}
    )
    github_double.reset_requests()
    assert resolve_team(gw, redis_client, costs, "octo-org", "alice") == ("web", None)
    assert github_double.calls() == []


def test_a_github_team_membership_is_asked_once_and_cached(gw, github_double, redis_client):
    github_double.world.add_team_member("octo-org", "platform", "bob")
    costs = CostsConfig.model_validate(
        {"teams": {"web": {"members": ["alice"]}, "platform": {"github_team": "platform"}}}
    )
    assert resolve_team(gw, redis_client, costs, "octo-org", "bob") == ("platform", None)
    assert resolve_team(gw, redis_client, costs, "octo-org", "carol") == (None, None)  # 404
    github_double.reset_requests()
    assert resolve_team(gw, redis_client, costs, "octo-org", "bob") == ("platform", None)
    assert github_double.calls() == []  # answered from Redis


def test_without_members_read_the_config_counts_and_a_note_says_so(gw, github_double, redis_client):
    refused = {"message": "Resource not accessible by integration",
               "documentation_url": "https://docs.github.com/rest/teams/members"}  # fmt: skip
    github_double.inject("GET", r"^/orgs/octo-org/teams/platform/memberships/", 403, body=refused)
    costs = CostsConfig.model_validate(
        {"teams": {"web": {"members": ["alice"]}, "platform": {"github_team": "platform"}}}
    )
    assert resolve_team(gw, redis_client, costs, "octo-org", "bob") == (
        None,
        MEMBERS_PERMISSION_NOTE,
    )
    assert resolve_team(gw, redis_client, costs, "octo-org", "alice") == ("web", None)
    assert "`members: read`" in MEMBERS_PERMISSION_NOTE
    github_double.reset_requests()
    assert resolve_team(gw, redis_client, costs, "octo-org", "bob")[1] == MEMBERS_PERMISSION_NOTE
    assert github_double.calls() == []  # the refusal is cached too


# -- reading runs ----------------------------------------------------------------------


def test_a_run_is_read_once_and_each_thread_counts_once(gw, github_double, seeded_pr, redis_client):
    run = github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha)
    github_double.add_artifact(seeded_pr.repo, run.id, "codex-usage", zipped(WORKED))
    github_double.add_artifact(seeded_pr.repo, run.id, "codex-logs", b"not ours")
    costs = CostsConfig()
    assert unscanned(redis_client, seeded_pr.repo, [run.id]) == [run.id]
    assert collect_runs(gw, redis_client, costs, owner(seeded_pr), [run.id]) == 1
    assert unscanned(redis_client, seeded_pr.repo, [run.id]) == []
    # Asked again for the same run (a redelivered workflow_run): the artifact is not
    # downloaded again, and nothing is counted twice.
    github_double.reset_requests()
    assert collect_runs(gw, redis_client, costs, owner(seeded_pr), [run.id]) == 0
    assert [c.path for c in github_double.calls() if "/artifacts/" in c.path] == []
    (record,) = pr_usage(redis_client, seeded_pr.repo, seeded_pr.number)
    assert record.run_id == run.id and record.person == "alice" and record.team == "web"


def test_expired_oversized_and_hostile_artifacts_are_notes(
    gw, github_double, seeded_pr, redis_client
):
    repo = seeded_pr.repo
    run = github_double.add_workflow_run(repo, seeded_pr.head_sha)
    github_double.add_artifact(repo, run.id, "codex-usage", zipped(WORKED), expired=True)
    github_double.add_artifact(
        repo, run.id, "codex-usage", zipped(extra={"../../etc/x.jsonl": b"{}"})
    )
    github_double.add_artifact(repo, run.id, "codex-usage", zipped(NO_COUNTS))
    collect_runs(gw, redis_client, CostsConfig(), owner(seeded_pr), [run.id])
    notes = pr_notes(redis_client, repo, seeded_pr.number)
    assert any("expired before codex-guard read it" in n for n in notes), notes
    assert any("refused" in n and "climbs out with .." in n for n in notes), notes
    assert any("recorded no token counts" in n for n in notes), notes
    assert pr_usage(redis_client, repo, seeded_pr.number) == []
    # The run read again (a re-sent workflow_run): the artifacts are not downloaded again,
    # and what was said about them stays.
    collect_runs(gw, redis_client, CostsConfig(), owner(seeded_pr), [run.id])
    assert pr_notes(redis_client, repo, seeded_pr.number) == notes
    with pytest.raises(ArtifactUnavailable, match="bytes, more than the 100 allowed"):
        big = github_double.add_artifact(repo, run.id, "codex-usage", zipped(WORKED))
        gw.artifact_zip(repo, big.id, 100)


def test_without_actions_read_a_note_and_the_run_is_not_given_up(
    make_gw, github_double, seeded_pr, redis_client
):
    github_double.world.installations[seeded_pr.installation_id].permissions.pop("actions")
    gw = make_gw()
    run = github_double.add_workflow_run(seeded_pr.repo, seeded_pr.head_sha)
    github_double.add_artifact(seeded_pr.repo, run.id, "codex-usage", zipped(WORKED))
    collect_runs(gw, redis_client, CostsConfig(), owner(seeded_pr), [run.id])
    assert pr_notes(redis_client, seeded_pr.repo, seeded_pr.number) == [ACTIONS_PERMISSION_NOTE]
    assert unscanned(redis_client, seeded_pr.repo, [run.id]) == [run.id]


def test_pr_cost_reads_the_heads_runs_and_adds_them_up(gw, github_double, seeded_pr, redis_client):
    repo = seeded_pr.repo
    run = github_double.add_workflow_run(repo, seeded_pr.head_sha)
    github_double.add_artifact(repo, run.id, "codex-usage", zipped(WORKED, TWO_THREADS))
    config = load_config("costs:\n  teams:\n    web: {members: [alice]}\n", None)
    pr = {"number": seeded_pr.number, "user": "alice"}
    view = pr_cost(gw, redis_client, pr, repo, config, [actions_check(run.id)])
    assert view.threads == 3 and view.unpriced_threads == 2  # the exec stream names no model
    assert view.dollars is not None and round(view.dollars, 2) == Decimal("0.30")
    github_double.reset_requests()
    again = pr_cost(gw, redis_client, pr, repo, config, [actions_check(run.id)])
    assert again == view and github_double.calls() == []  # the run was scanned: no call
