"""The four practices, team config and reporting, end to end.

Real redis-server, the Procfile's gunicorn `web` and Celery `worker`, and the GitHub API
double (which checks every request and response against GitHub's OpenAPI description).
Deliveries are GitHub's real example payloads, adjusted to the PR under test.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path

import pytest
from github_double.models import iso

from bot.practices.evaluation import MAX_FINDINGS_PER_RULE_AND_FILE
from tests.e2e_helpers import (
    CODEX_TRAILER,
    Seeder,
    bot_comments,
    check_run_completed,
    check_suite_completed,
    deliver_and_wait,
    evaluations,
    fresh_repo,
    good_body,
    guard_comments,
    guard_runs,
    ids,
    issue_comment_created,
    log_records,
    merge_group_requested,
    own_check_run_event,
    pull_request_edited,
    push_event,
    status_event,
    task_link,
    wait_evaluations,
)
from tests.e2e_rig import *  # noqa: F403 - fixtures (stack, double, _contract)
from tests.e2e_rig import GOOD_AGENTS_MD, Stack, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def seed(double, webhook_examples) -> Seeder:
    return Seeder(double, webhook_examples)


def test_all_good_codex_pr_passes_without_a_comment(stack: Stack, seed: Seeder):
    payload = seed.open()
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success", (run.output, stack.logs()[-3000:])
    assert run.output["title"] == "All 5 practices pass"
    assert "Codex task link task_e_" in run.output["summary"]
    assert guard_comments(stack.double, repo, number) == []


# -- each practice failing ---------------------------------------------------------------------

BODY_NO_TASK = """## Summary
- stop the nightly export from double-counting refunded orders

## Done when
- the export for 2025-01-31 lists each refunded order once

## Testing
- ✅ `pytest -q`
"""


def _finding_rules(run) -> str:
    return run.output["text"]


def test_no_task_link_fails_task_thread(stack: Stack, seed: Seeder):
    payload = seed.open(body=BODY_NO_TASK)
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "4 of 5 practices pass — task-thread fails"
    assert "`task-thread/missing`" in run.output["text"]
    assert "matched: head branch `codex/fix-export`" in run.output["summary"]
    [comment] = guard_comments(stack.double, repo, number)
    assert "**Task thread**" in comment.body and "task-thread/missing" in comment.body


def test_two_task_links_fail_one_thread_per_task(stack: Stack, seed: Seeder):
    body = BODY_NO_TASK + f"\n------\n{task_link()}\n\nAlso continues {task_link()}\n"
    payload = seed.open(body=body)
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert "task-thread fails" in run.output["title"]
    assert "`task-thread/multiple`" in run.output["text"]
    assert "(+1 more)" in run.output["summary"]  # both links seen as Codex signals
    assert len(guard_comments(stack.double, repo, number)) == 1


def test_missing_done_when_fails(stack: Stack, seed: Seeder):
    body = f"## Summary\n- fix refunds\n\n## Testing\n- ✅ `pytest -q`\n\n------\n{task_link()}\n"
    payload = seed.open(body=body)
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "4 of 5 practices pass — done-when fails"
    assert "`done-when/missing`" in run.output["text"]
    [comment] = guard_comments(stack.double, repo, number)
    assert "**Done when**" in comment.body


def test_failing_ci_and_failed_testing_note_fail_tests(stack: Stack, seed: Seeder):
    body = good_body().replace(
        "- ✅ `pytest -q`", "- ❌ `pytest -q` *(fails: 2 tests in tests/test_export.py)*"
    )
    payload = seed.open(
        body=body, ci=[("build", "completed", "success"), ("lint", "completed", "failure")]
    )
    repo, number, sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "4 of 5 practices pass — tests fails"
    text = run.output["text"]
    lint = next(r for r in stack.double.check_runs(repo, head_sha=sha) if r.name == "lint")
    assert "`tests/ci-failed`" in text and "CI check lint completed with failure" in text
    assert f"/runs/{lint.id}" in text  # the failing check is linked
    assert "build completed" not in text
    assert "`tests/command-failed`" in text and "`pytest -q` failed" in text
    [comment] = guard_comments(stack.double, repo, number)
    assert "CI check lint completed with failure" in comment.body


def test_agents_md_secret_and_stale_path(stack: Stack, seed: Seeder):
    secret = "ghp_" + secrets.token_hex(18)
    agents = (
        "# Agent instructions\n"
        "\n"
        "## Layout\n"
        "- Application code lives in `app/`; tests in `tests/`.\n"
        "- Release steps are in `docs/runbook.md`.\n"
        "\n"
        "## Checks\n"
        "Run `pytest -q` before committing.\n"
        "\n"
        "## Access\n"
        f"GITHUB_TOKEN={secret}\n"
    )
    payload = seed.open(head_files={"AGENTS.md": agents})
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    # The token is in the diff too: `scope` fails on it as well, masked the same way.
    assert run.output["title"] == "3 of 5 practices pass — agents-md, scope fail"
    assert "scope/credential" in run.output["text"] and secret not in run.output["text"]
    assert "| 2 errors: a secret, a stale path — 1 file in the chain" in run.output["summary"]
    by_line = {(a["path"], a["start_line"]): a for a in run.annotations}
    stale = by_line[("AGENTS.md", 5)]
    assert stale["annotation_level"] == "failure"
    assert "docs/runbook.md" in stale["message"]
    leaks = [a for a in run.annotations if (a["path"], a["start_line"]) == ("AGENTS.md", 11)]
    assert sorted(a["title"].rsplit(" ", 1)[-1] for a in leaks) == [
        "agents-md/secret",
        "scope/credential",
    ]
    assert all(a["annotation_level"] == "failure" and "ghp_…" in a["message"] for a in leaks)
    [comment] = guard_comments(stack.double, repo, number)
    assert "agents-md/secret" in comment.body
    # The secret itself is echoed nowhere: output, annotations, comment, logs.
    shown = [
        json.dumps(run.output),
        json.dumps(run.annotations),
        comment.body,
        stack.logs(),
    ]
    for where in shown:
        assert secret not in where and secret[4:20] not in where


# -- CI in progress, then completing -------------------------------------------------------------


def _finish_ci(double, repo: str, sha: str, name: str = "build") -> None:
    with double.world.lock:
        run = next(r for r in double.check_runs(repo, head_sha=sha) if r.name == name)
        run.status, run.conclusion, run.completed_at = "completed", "success", iso()


@pytest.mark.parametrize("event", ["check_suite", "check_run", "status"])
def test_ci_in_progress_then_completing(stack: Stack, seed: Seeder, webhook_examples, event):
    ci = [] if event == "status" else [("build", "in_progress", None)]
    payload = seed.open(ci=ci)
    repo, number, sha = ids(payload)
    if event == "status":
        stack.double.add_status(repo, sha, "pending", context="ci/jenkins", creator="jenkins")
    response = stack.send("pull_request", payload)
    assert response.status_code == 202
    wait_evaluations(stack, repo, number, 1)
    [run] = guard_runs(stack.double, repo, sha)
    assert run.status == "in_progress" and run.conclusion is None
    assert run.output["title"].startswith("Waiting for CI")
    assert guard_comments(stack.double, repo, number) == []  # nothing to say yet

    if event == "status":
        stack.double.add_status(repo, sha, "success", context="ci/jenkins", creator="jenkins")
        delivery = status_event(webhook_examples, payload, "ci/jenkins", "success")
    elif event == "check_suite":
        _finish_ci(stack.double, repo, sha)
        delivery = check_suite_completed(webhook_examples, payload)
    else:
        _finish_ci(stack.double, repo, sha)
        delivery = check_run_completed(webhook_examples, payload)
    assert stack.send(event, delivery).status_code == 202
    done = stack.completed_check(repo, sha)
    assert done.id == run.id  # the same check run, completed
    assert done.conclusion == "success", done.output
    assert len(guard_runs(stack.double, repo, sha)) == 1


# -- configuration ---------------------------------------------------------------------------

RELAXED = "practices:\n  done-when:\n    level: off\n  task-thread: {level: off}\n"


def no_done_when() -> str:
    return f"## Summary\n- fix refunds\n\n## Testing\n- ✅ `pytest -q`\n\n{task_link()}\n"


def test_config_on_the_pr_head_is_ignored(stack: Stack, seed: Seeder):
    payload = seed.open(
        repo=fresh_repo(),
        body=no_done_when(),
        head_files={".github/codex-guard.yml": RELAXED},
    )
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    # The config itself is a protected path: changing it needs a person (scope).
    assert run.output["title"].endswith("done-when, scope fail")
    assert "turned off in config" not in run.output["summary"]


def test_pr_that_weakens_agents_md_and_its_own_rules_cannot_pass_itself(stack: Stack, seed: Seeder):
    """Deleting the root AGENTS.md while turning agents-md off at the head still fails."""
    payload = seed.open(
        repo=fresh_repo(),
        head_files={".github/codex-guard.yml": "practices:\n  agents-md: {level: off}\n"},
    )
    repo, _, sha = ids(payload)
    stack.double.put_files(repo, sha, {}, delete=["AGENTS.md"])
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert "agents-md/missing-root" in run.output["text"]
    assert "turned off in config" not in run.output["summary"]


def test_config_on_the_base_branch_is_honoured(stack: Stack, seed: Seeder):
    payload = seed.open(
        repo=fresh_repo(),
        body=no_done_when(),
        base_files={".github/codex-guard.yml": RELAXED},
    )
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success", run.output
    assert "| ⏭️ | Done when (`done-when`) | turned off in config |" in run.output["summary"]


def test_invalid_base_config_fails_naming_the_key(stack: Stack, seed: Seeder):
    bad = "practices:\n  done-when:\n    levle: error\n"
    payload = seed.open(repo=fresh_repo(), base_files={".github/codex-guard.yml": bad})
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert run.output["title"] == "Invalid codex-guard config — nothing checked"
    assert "practices.done-when.levle" in run.output["summary"]
    assert f"`{repo}@master:.github/codex-guard.yml`" in run.output["summary"]
    [comment] = guard_comments(stack.double, repo, number)
    assert "practices.done-when.levle" in comment.body


def test_org_defaults_from_the_org_dot_github_repo(stack: Stack, seed: Seeder, webhook_examples):
    owner = "octo-guild"
    org_repo = stack.double.add_repo(
        f"{owner}/.github", installation_id=77, owner_type="Organization"
    )
    stack.double.put_files(
        org_repo.full_name, secrets.token_hex(20),
        {".github/codex-guard.yml": "practices:\n  done-when: {level: off}\n"},
        branch="main",
    )  # fmt: skip
    relaxed = seed.open(
        repo=f"{owner}/exports", body=no_done_when(), owner_type="Organization",
        installation_id=77,
    )  # fmt: skip
    run = deliver_and_wait(stack, relaxed)
    assert run.conclusion == "success", run.output
    assert "| ⏭️ | Done when (`done-when`) | turned off in config |" in run.output["summary"]
    # A repository's own config is merged over the org defaults.
    strict = seed.open(
        repo=f"{owner}/billing", body=no_done_when(), owner_type="Organization",
        installation_id=77,
        base_files={".github/codex-guard.yml": "practices:\n  done-when: {level: error}\n"},
    )  # fmt: skip
    run = deliver_and_wait(stack, strict)
    assert run.conclusion == "failure"
    assert "done-when fails" in run.output["title"]

    # The org tightens its defaults; the push to its `.github` repo drops the cached copy.
    org_head = stack.double.commit_files(
        org_repo.full_name, {".github/codex-guard.yml": "comment: always\n"},
        base=stack.double.world.resolve_ref(org_repo.full_name, "main"), branch="main",
        message="Enforce done-when again",
    )  # fmt: skip
    push = push_event(webhook_examples, org_repo.full_name, 77, org_head, ".github/codex-guard.yml")
    finished = _tasks_done(stack, "codex_guard.config_changed")
    assert stack.send("push", push).status_code == 202
    wait_for(lambda: _tasks_done(stack, "codex_guard.config_changed") > finished, 20, "the push")
    again = seed.open(
        repo=f"{owner}/exports", body=no_done_when(), owner_type="Organization",
        installation_id=77,
    )  # fmt: skip
    run = deliver_and_wait(stack, again)
    assert run.conclusion == "failure", run.output
    assert "done-when fails" in run.output["title"]


def _tasks_done(stack: Stack, task: str) -> int:
    return sum(
        1
        for r in log_records(stack)
        if task in str(r.get("message")) and "succeeded" in str(r.get("message"))
    )


# -- the one PR comment ----------------------------------------------------------------------


def test_comment_is_edited_in_place_not_duplicated(stack: Stack, seed: Seeder):
    body = no_done_when()
    payload = seed.open(body=body)
    repo, number, sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    [first] = guard_comments(stack.double, repo, number)
    assert "done-when" in first.body
    # Forget where the comment is: the worker must find it again by its hidden marker.
    stack.redis.client().delete(f"codex-guard:comment:{repo}#{number}")

    fixed = body.replace(
        "## Testing", "## Done when\n- the January export lists each refund once\n\n## Testing"
    )
    stack.double.pull(repo, number).body = fixed
    edited = pull_request_edited(payload, fixed)
    assert stack.send("pull_request", edited).status_code == 202
    wait_evaluations(stack, repo, number, 2)
    run = stack.completed_check(repo, sha)
    assert run.conclusion == "success", run.output
    [comment] = guard_comments(stack.double, repo, number)
    assert comment.id == first.id
    assert "All practices pass" in comment.body and "done-when" not in comment.body
    assert len(bot_comments(stack.double, repo, number)) == 1
    assert len(guard_runs(stack.double, repo, sha)) == 1


# -- slash commands --------------------------------------------------------------------------

_comment_ids = iter(range(880_001, 890_000))


def _command(stack: Stack, examples, payload, login: str, text: str) -> int:
    """Post `text` as `login` on the PR (in the double and as a real issue_comment delivery)."""
    event = issue_comment_created(examples, payload, text, login, next(_comment_ids))
    stack.double.seed_from_event(event)
    assert stack.send("issue_comment", event).status_code == 202
    return event["comment"]["id"]


def _reply(stack: Stack, repo: str, number: int, contains: str):
    return wait_for(
        lambda: next(
            (c for c in bot_comments(stack.double, repo, number) if contains in c.body), None
        ),
        30,
        f"a reply saying {contains!r}",
    )


def test_recheck_by_a_writer_re_evaluates_and_reacts(stack: Stack, seed: Seeder, webhook_examples):
    payload = seed.open(ci=[("build", "completed", "failure")])
    repo, number, sha = ids(payload)
    assert deliver_and_wait(stack, payload).conclusion == "failure"
    _finish_ci(stack.double, repo, sha)  # CI re-ran green, but no event reached us
    stack.double.set_permission(repo, "wanda-writer", "write")
    comment_id = _command(stack, webhook_examples, payload, "wanda-writer", "/codex-guard recheck")
    wait_evaluations(stack, repo, number, 2)
    run = stack.completed_check(repo, sha)
    assert run.conclusion == "success", run.output
    reactions = wait_for(
        lambda: stack.double.world.comments_by_id[comment_id].reactions, 10, "a reaction"
    )
    assert [r.content for r in reactions] == ["+1"]
    assert reactions[0].user.type == "Bot"
    [comment] = guard_comments(stack.double, repo, number)
    assert "All practices pass" in comment.body


def test_recheck_by_a_reader_is_refused(stack: Stack, seed: Seeder, webhook_examples):
    payload = seed.open(ci=[("build", "completed", "failure")])
    repo, number, sha = ids(payload)
    assert deliver_and_wait(stack, payload).conclusion == "failure"
    _finish_ci(stack.double, repo, sha)
    stack.double.set_permission(repo, "rita-reader", "read")
    comment_id = _command(stack, webhook_examples, payload, "rita-reader", "/codex-guard recheck")
    reply = _reply(stack, repo, number, "needs write access")
    assert "the commenter has read" in reply.body
    wait_for(lambda: _log_has(stack, "refused recheck", repo, number), 10, "the refusal log")
    assert len(evaluations(stack, repo, number)) == 1  # not re-evaluated
    [run] = guard_runs(stack.double, repo, sha)
    assert run.conclusion == "failure"
    assert stack.double.world.comments_by_id[comment_id].reactions == []


def test_a_reader_repeating_a_command_gets_one_reply_then_reactions(
    stack: Stack, seed: Seeder, webhook_examples
):
    """Issue 11, item 8: 5 refused commands make 1 bot comment, not 5."""
    payload = seed.open(ci=[("build", "completed", "failure")])
    repo, number, _sha = ids(payload)
    deliver_and_wait(stack, payload)
    stack.double.set_permission(repo, "rita-reader", "read")
    before = len(bot_comments(stack.double, repo, number))
    comment_ids = [
        _command(stack, webhook_examples, payload, "rita-reader", "/codex-guard recheck")
        for _ in range(5)
    ]
    wait_for(
        lambda: all(stack.double.world.comments_by_id[c].reactions for c in comment_ids[1:]),
        30,
        "a reaction on every repeated command",
    )
    replies = [c for c in bot_comments(stack.double, repo, number)[before:]
               if "needs write access" in c.body]  # fmt: skip
    assert len(replies) == 1
    assert stack.double.world.comments_by_id[comment_ids[0]].reactions == []
    assert all(
        [r.content for r in stack.double.world.comments_by_id[c].reactions] == ["-1"]
        for c in comment_ids[1:]
    )


@pytest.mark.parametrize("role", ["maintain", "admin"])
def test_skip_by_a_maintainer_passes_and_shows_who_and_why(
    stack: Stack, seed: Seeder, webhook_examples, role: str
):
    payload = seed.open(body=no_done_when())
    repo, number, sha = ids(payload)
    assert deliver_and_wait(stack, payload).conclusion == "failure"
    stack.double.set_permission(repo, "mo-maintainer", role)
    _command(
        stack, webhook_examples, payload, "mo-maintainer",
        "/codex-guard skip done-when criteria live in the linked design doc",
    )  # fmt: skip
    wait_evaluations(stack, repo, number, 2)
    run = stack.completed_check(repo, sha)
    assert run.conclusion == "success", run.output
    summary = run.output["summary"]
    assert "skipped by @mo-maintainer: criteria live in the linked design doc" in summary
    assert "| ⏭️ | Done when (`done-when`) |" in summary
    [comment] = guard_comments(stack.double, repo, number)
    assert "All practices pass" in comment.body


def test_skip_by_a_writer_is_refused(stack: Stack, seed: Seeder, webhook_examples):
    payload = seed.open(body=no_done_when())
    repo, number, sha = ids(payload)
    assert deliver_and_wait(stack, payload).conclusion == "failure"
    stack.double.set_permission(repo, "wanda-writer", "write")
    _command(
        stack, webhook_examples, payload, "wanda-writer", "/codex-guard skip done-when trust me"
    )
    reply = _reply(stack, repo, number, "needs maintain access")
    assert "the commenter has write" in reply.body
    wait_for(lambda: _log_has(stack, "refused skip", repo, number), 10, "the refusal log")
    assert len(evaluations(stack, repo, number)) == 1
    [run] = guard_runs(stack.double, repo, sha)
    assert run.conclusion == "failure" and "skipped by" not in run.output["summary"]


def _log_has(stack: Stack, text: str, repo: str, number: int) -> bool:
    return any(
        text in str(r.get("message")) and r.get("repo") == repo and r.get("pr") == number
        for r in log_records(stack)
    )


# -- merge queue -----------------------------------------------------------------------------


def test_merge_group_gets_a_passing_check_on_its_head(stack: Stack, seed: Seeder, webhook_examples):
    payload = seed.open()
    repo, _, _ = ids(payload)
    group_sha = secrets.token_hex(20)
    stack.double.put_files(repo, group_sha, {"app/export.py": "x = 2\n"})
    event = merge_group_requested(webhook_examples, payload, group_sha)
    assert stack.send("merge_group", event).status_code == 202
    run = stack.completed_check(repo, group_sha)
    assert run.conclusion == "success"
    assert run.output["title"].startswith("Merge group")
    assert len(guard_runs(stack.double, repo, group_sha)) == 1


# -- who counts as Codex ---------------------------------------------------------------------

HUMAN_BODY = "## Summary\n- bump the export batch size\n\n## Testing\n- `pytest -q`\n"


def test_non_codex_pr_passes_quickly_without_a_comment(stack: Stack, seed: Seeder):
    payload = seed.open(body=HUMAN_BODY, head_ref="bump-batch-size")
    repo, number, _sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success"
    assert run.output["title"] == "Not a Codex PR — passing"
    assert "no Codex signal matched" in run.output["summary"]
    assert "`applies_to: codex`" in run.output["summary"]
    assert bot_comments(stack.double, repo, number) == []
    # Only what detection needs was read: no tree, no files, no blobs.
    assert not stack.double.calls("GET", rf"/repos/{repo}/pulls/{number}/files")


def test_applies_to_all_enforces_on_a_non_codex_pr(stack: Stack, seed: Seeder):
    payload = seed.open(
        repo=fresh_repo(),
        body=HUMAN_BODY,
        head_ref="bump-batch-size",
        base_files={".github/codex-guard.yml": "applies_to: all\n"},
    )
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert "checked anyway because the config says `applies_to: all`" in run.output["summary"]
    assert "task-thread, done-when fail" in run.output["title"]
    assert len(guard_comments(stack.double, repo, number)) == 1


@pytest.mark.parametrize(
    ("signal", "options"),
    [
        ("label `codex`", {"labels": ("codex",), "head_ref": "fix-refunds"}),
        ("head branch `jtchyu-codex/x`", {"head_ref": "jtchyu-codex/x"}),
        (
            "commit trailer Co-authored-by: Codex",
            {
                "head_ref": "fix-refunds",
                "commit_message": f"Stop double-counting refunds\n\n{CODEX_TRAILER}\n",
            },
        ),
    ],
    ids=["label", "branch", "trailer"],
)
def test_codex_signals(stack: Stack, seed: Seeder, signal: str, options):
    body = BODY_NO_TASK.replace("## Testing", "Closes #7\n\n## Testing")
    payload = seed.open(body=body, **options)
    repo, number, _ = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert f"**Codex PR** — matched: {signal}." in run.output["summary"], run.output["summary"]
    assert run.conclusion == "success", run.output
    commits_read = stack.double.calls("GET", rf"/repos/{repo}/pulls/{number}/commits")
    assert bool(commits_read) == ("trailer" in signal)  # the API call only when needed


# -- annotations -----------------------------------------------------------------------------


def test_sixty_stale_paths_are_summarised_not_annotated_one_by_one(stack: Stack, seed: Seeder):
    """Issue 11, item 2: a few findings per rule and file, then one "and N more"."""
    stale = "".join(f"- Module {i} lives in `app/module_{i}.py`.\n" for i in range(60))
    agents = GOOD_AGENTS_MD + "\n## Modules\n" + stale
    payload = seed.open(head_files={"AGENTS.md": agents})
    repo, _, sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "failure"
    assert 0 < len(run.annotations) <= MAX_FINDINGS_PER_RULE_AND_FILE
    assert {a["path"] for a in run.annotations} == {"AGENTS.md"}
    assert "55 more `agents-md/missing-path` findings in `AGENTS.md`" in run.output["text"]
    writes = [
        r
        for r in stack.double.calls(None, rf"/repos/{repo}/check-runs")
        if (r.method == "POST" and (r.body or {}).get("head_sha") == sha)
        or (r.method == "PATCH" and r.path.endswith(f"/check-runs/{run.id}"))
    ]
    assert len(writes) <= 2, [(r.method, r.path) for r in writes]


def test_stale_path_the_pr_did_not_introduce_only_warns(stack: Stack, seed: Seeder):
    agents = GOOD_AGENTS_MD + "\nRelease steps are in `docs/runbook.md`.\n"
    payload = seed.open(base_files={"AGENTS.md": agents})
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success", run.output
    assert run.output["title"] == "All 5 practices pass — agents-md with warnings"
    [note] = [a for a in run.annotations if "docs/runbook.md" in a["message"]]
    assert note["annotation_level"] == "warning"
    assert "already so before this PR" in note["message"]


@pytest.mark.parametrize("action", ["rerequested", "requested_action"])
def test_re_run_button_and_re_request_re_evaluate(
    stack: Stack, seed: Seeder, webhook_examples, action: str
):
    payload = seed.open(ci=[("build", "completed", "failure")])
    repo, number, sha = ids(payload)
    first = deliver_and_wait(stack, payload)
    assert first.conclusion == "failure"
    assert first.actions == [{"label": "Re-run", "description": "Evaluate this PR again",
                              "identifier": "rerun"}]  # fmt: skip
    _finish_ci(stack.double, repo, sha)
    event = own_check_run_event(webhook_examples, payload, action, first.id, stack.double.app_id)
    assert stack.send("check_run", event).status_code == 202
    wait_evaluations(stack, repo, number, 2)
    [run] = guard_runs(stack.double, repo, sha)
    assert run.conclusion == "success", run.output


# -- the README shows what this run produces -------------------------------------------------

README_BODY = """## Summary
- stop the nightly export from double-counting refunded orders
- add a regression test for partially refunded orders

## Testing
- ✅ `pytest -q tests/test_export.py`
- ⚠️ `make lint` *(fails: ruff is not installed in the environment)*


------
https://chatgpt.com/codex/tasks/task_e_68a1f0c2b9d48191a6f4c3e2d1b0a9f8
"""


def _quoted(markdown: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in markdown.strip().splitlines())


def test_readme_shows_a_real_check_run_and_comment(stack: Stack, seed: Seeder):
    agents = GOOD_AGENTS_MD + "\n## Release\nFollow `docs/release.md` before tagging.\n"
    payload = seed.open(repo=fresh_repo(), body=README_BODY, head_files={"AGENTS.md": agents})
    repo, number, sha = ids(payload)
    run = deliver_and_wait(stack, payload)
    [comment] = guard_comments(stack.double, repo, number)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## What a team sees") :]
    assert f"titled **{run.output['title']}**" in section
    assert _quoted(run.output["summary"]) in section
    shown = re.sub(r"checked at `[0-9a-f]{7}`", f"checked at `{sha[:7]}`", section)
    assert _quoted(comment.body) in shown
    [note] = run.annotations
    assert f"annotation on `{note['path']}` line {note['start_line']}" in section


def test_the_same_codex_task_in_two_open_prs_is_reported(stack: Stack, seed: Seeder):
    repo = fresh_repo()
    link = task_link()
    body = (
        "## Summary\n- fix refunds\n\n## Done when\n- refunds are counted once\n\n"
        f"## Testing\n- ✅ `pytest -q`\n\n------\n{link}\n"
    )
    first = seed.open(repo=repo, body=body)
    assert deliver_and_wait(stack, first).conclusion == "success"
    second = seed.open(repo=repo, body=body)
    run = deliver_and_wait(stack, second)
    first_number = first["pull_request"]["number"]
    assert "task-thread/shared" in run.output["text"]
    assert f"#{first_number}" in run.output["text"]
    assert run.conclusion == "success"  # a warning by default (shared_thread_level)


def test_done_when_is_read_from_the_linked_issue(stack: Stack, seed: Seeder):
    repo = fresh_repo()
    body = (
        "## Summary\n- fix refunds\n- Closes #7\n\n## Testing\n- ✅ `pytest -q`\n\n"
        f"------\n{task_link()}\n"
    )
    payload = seed.open(repo=repo, body=body)
    stack.double.add_issue(
        repo, number=7, title="Refunds counted twice",
        body="The export counts refunds twice.\n\n## Done when\n- each refund is listed once\n",
    )  # fmt: skip
    run = deliver_and_wait(stack, payload)
    assert run.conclusion == "success", run.output["summary"]
    assert "#7" in run.output["summary"]
