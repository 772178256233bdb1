"""Helpers for the practice-level end-to-end tests: PR seeding and real webhook payloads.

Every delivery is built from GitHub's own example payloads
(`tests/fixtures/github/webhook-examples.json`), adjusted to the repository, head SHA and
PR under test, with an `installation` block as GitHub sends to an App.
"""

from __future__ import annotations

import copy
import itertools
import json
import secrets
from collections.abc import Iterable
from typing import Any

from github_double import GitHubDouble

from bot.present.comment import COMMENT_MARKER
from tests.conftest import example
from tests.e2e_rig import GOOD_BODY, Stack, label_objects, pr_files, wait_for

Examples = dict[str, list[dict[str, Any]]]

_numbers = itertools.count(500)
_repos = itertools.count(1)

CODEX_TRAILER = "Co-authored-by: Codex <noreply@openai.com>"


def task_link() -> str:
    return f"https://chatgpt.com/codex/tasks/task_e_{secrets.token_hex(16)}"


def good_body() -> str:
    return GOOD_BODY.format(task=secrets.token_hex(16))


def fresh_repo(owner: str = "Codertocat") -> str:
    """A repository name no other test uses (its base branch and config are its own)."""
    return f"{owner}/guarded-{next(_repos)}"


class Seeder:
    """Seeds PRs in the double from the real `pull_request.opened` payload, with options the
    skeleton rig does not need: owner/installation, commit messages, base-branch files."""

    def __init__(self, double: GitHubDouble, examples: Examples) -> None:
        self.double = double
        self.examples = examples

    def open(
        self,
        *,
        repo: str = "Codertocat/Hello-World",
        body: str | None = None,
        head_ref: str = "codex/fix-export",
        head_files: dict[str, str] | None = None,
        base_files: dict[str, str] | None = None,
        ci: Iterable[tuple[str, str, str | None]] | None = None,
        labels: tuple[str, ...] = (),
        commit_message: str | None = None,
        owner_type: str = "User",
        installation_id: int = 1,
    ) -> dict[str, Any]:
        payload = example(self.examples, "pull_request", "opened")
        number = next(_numbers)
        owner, name = repo.split("/", 1)
        repository = payload["repository"]
        repository["full_name"], repository["name"] = repo, name
        repository["id"] = 900_000 + number
        repository["owner"]["login"], repository["owner"]["type"] = owner, owner_type
        payload["installation"]["id"] = installation_id
        pr = payload["pull_request"]
        pr["number"], pr["id"] = number, 10_000 + number
        pr["title"] = "Stop double-counting refunds in the nightly export"
        pr["body"] = good_body() if body is None else body
        pr["head"]["ref"] = head_ref
        pr["head"]["sha"] = secrets.token_hex(20)
        pr["base"]["sha"] = secrets.token_hex(20)
        pr["head"]["repo"] = copy.deepcopy(repository)
        pr["base"]["repo"] = copy.deepcopy(repository)
        pr["labels"] = label_objects(labels)
        base, head = pr_files(base_files, head_files)
        self.double.seed_from_event(payload)
        self.double.put_files(repo, pr["base"]["sha"], base)
        self.double.set_branch(repo, pr["base"]["ref"], pr["base"]["sha"])
        self.double.put_files(
            repo, pr["head"]["sha"], head, base=pr["base"]["sha"], message=commit_message
        )
        checks = [("build", "completed", "success")] if ci is None else list(ci)
        for check, status, conclusion in checks:
            self.double.add_check_run(repo, pr["head"]["sha"], check, status, conclusion)
        return payload


# -- reading results back --------------------------------------------------------------------


def ids(payload: dict[str, Any]) -> tuple[str, int, str]:
    pr = payload["pull_request"]
    return payload["repository"]["full_name"], pr["number"], pr["head"]["sha"]


def guard_runs(double: GitHubDouble, repo: str, sha: str) -> list[Any]:
    return double.check_runs(repo, head_sha=sha, name="codex-guard")


def bot_comments(double: GitHubDouble, repo: str, number: int) -> list[Any]:
    return [c for c in double.comments(repo, number) if c.user.type == "Bot"]


def guard_comments(double: GitHubDouble, repo: str, number: int) -> list[Any]:
    return [c for c in bot_comments(double, repo, number) if c.body.startswith(COMMENT_MARKER)]


def worker_lines(stack: Stack, **match: Any) -> list[dict[str, Any]]:
    """The worker's JSON log records whose fields equal ``match``, oldest first."""
    found = []
    for line in stack.processes["worker"].lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and all(data.get(k) == v for k, v in match.items()):
            found.append(data)
    return found


def log_records(stack: Stack) -> list[dict[str, Any]]:
    out = []
    for line in stack.logs().splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def evaluations(stack: Stack, repo: str, number: int) -> list[dict[str, Any]]:
    """The worker's `evaluated:` log lines for one PR, oldest first."""
    return [
        r
        for r in log_records(stack)
        if r.get("logger") == "codex_guard.pipeline"
        and str(r.get("message", "")).startswith("evaluated:")
        and r.get("repo") == repo
        and r.get("pr") == number
    ]


def wait_evaluations(stack: Stack, repo: str, number: int, count: int = 1) -> list[dict]:
    """Wait until the worker has finished ``count`` evaluations of the PR (job ends after)."""
    return wait_for(
        lambda: (found := evaluations(stack, repo, number)) and len(found) >= count and found,
        45,
        f"{count} evaluation(s) of {repo}#{number}",
    )


def deliver_and_wait(stack: Stack, payload: dict[str, Any]) -> Any:
    """Send `pull_request` and wait for the completed check and the end of the job."""
    repo, number, sha = ids(payload)
    before = len(evaluations(stack, repo, number))
    response = stack.send("pull_request", payload)
    assert response.status_code == 202, response.text
    wait_evaluations(stack, repo, number, before + 1)
    return stack.completed_check(repo, sha)


# -- real example payloads, adjusted ---------------------------------------------------------


def _adjust(event: dict[str, Any], pr_payload: dict[str, Any]) -> dict[str, Any]:
    event["repository"] = copy.deepcopy(pr_payload["repository"])
    event["installation"] = copy.deepcopy(pr_payload["installation"])
    return event


def _first(examples: Examples, event: str, action: str | None) -> dict[str, Any]:
    for payload in examples[event]:
        if action is None or payload.get("action") == action:
            return copy.deepcopy(payload)
    raise LookupError(f"no example for {event}.{action}")


def _pr_ref(pr_payload: dict[str, Any]) -> dict[str, Any]:
    pr = pr_payload["pull_request"]
    repo = {k: pr_payload["repository"][k] for k in ("id", "url", "name")}
    return {
        "url": pr["url"],
        "id": pr["id"],
        "number": pr["number"],
        "head": {"ref": pr["head"]["ref"], "sha": pr["head"]["sha"], "repo": repo},
        "base": {"ref": pr["base"]["ref"], "sha": pr["base"]["sha"], "repo": repo},
    }


def check_suite_completed(examples: Examples, pr_payload: dict[str, Any]) -> dict[str, Any]:
    event = _adjust(_first(examples, "check_suite", "completed"), pr_payload)
    suite = event["check_suite"]
    sha = pr_payload["pull_request"]["head"]["sha"]
    suite["head_sha"] = suite["after"] = sha
    suite["head_branch"] = pr_payload["pull_request"]["head"]["ref"]
    suite["pull_requests"] = [_pr_ref(pr_payload)]
    return event


def check_run_completed(
    examples: Examples, pr_payload: dict[str, Any], name: str = "build"
) -> dict[str, Any]:
    event = _adjust(_first(examples, "check_run", "completed"), pr_payload)
    run = event["check_run"]
    sha = pr_payload["pull_request"]["head"]["sha"]
    run["name"], run["head_sha"] = name, sha
    run["status"], run["conclusion"] = "completed", "success"
    run["pull_requests"] = [_pr_ref(pr_payload)]
    if isinstance(run.get("check_suite"), dict):
        run["check_suite"]["head_sha"] = sha
        run["check_suite"]["pull_requests"] = [_pr_ref(pr_payload)]
    return event


def status_event(
    examples: Examples, pr_payload: dict[str, Any], context: str, state: str
) -> dict[str, Any]:
    event = _adjust(_first(examples, "status", None), pr_payload)
    sha = pr_payload["pull_request"]["head"]["sha"]
    event["sha"], event["context"], event["state"] = sha, context, state
    event["name"] = pr_payload["repository"]["full_name"]
    if isinstance(event.get("commit"), dict):
        event["commit"]["sha"] = sha
    return event


def issue_comment_created(
    examples: Examples, pr_payload: dict[str, Any], body: str, login: str, comment_id: int
) -> dict[str, Any]:
    event = _adjust(example(examples, "issue_comment", "created"), pr_payload)
    pr = pr_payload["pull_request"]
    issue = event["issue"]
    issue["number"], issue["title"], issue["body"] = pr["number"], pr["title"], pr["body"]
    issue["pull_request"] = {
        "url": pr["url"],
        "html_url": pr["html_url"],
        "diff_url": pr["diff_url"],
        "patch_url": pr["patch_url"],
        "merged_at": None,
    }
    comment = event["comment"]
    comment["id"], comment["body"] = comment_id, body
    comment["user"]["login"], comment["user"]["id"] = login, 70_000 + comment_id % 1000
    comment["user"]["type"] = "User"
    event["sender"]["login"], event["sender"]["id"] = login, comment["user"]["id"]
    return event


def pull_request_edited(pr_payload: dict[str, Any], new_body: str) -> dict[str, Any]:
    """The same PR delivery as `edited`, with GitHub's `changes.body.from`."""
    event = copy.deepcopy(pr_payload)
    event["action"] = "edited"
    event["changes"] = {"body": {"from": pr_payload["pull_request"]["body"]}}
    event["pull_request"]["body"] = new_body
    event["pull_request"]["updated_at"] = "2019-05-15T16:00:00Z"
    return event


def merge_group_requested(
    examples: Examples, pr_payload: dict[str, Any], head_sha: str
) -> dict[str, Any]:
    event = _adjust(example(examples, "merge_group", "checks_requested"), pr_payload)
    group = event["merge_group"]
    pr = pr_payload["pull_request"]
    group["head_sha"], group["base_sha"] = head_sha, pr["base"]["sha"]
    group["head_ref"] = (
        f"refs/heads/gh-readonly-queue/{pr['base']['ref']}/pr-{pr['number']}-{pr['base']['sha']}"
    )
    group["base_ref"] = f"refs/heads/{pr['base']['ref']}"
    group["head_commit"]["id"] = head_sha
    return event


def push_event(
    examples: Examples, repo: str, installation_id: int, head_sha: str, *paths: str
) -> dict[str, Any]:
    """A push to the default branch (`master` in GitHub's example) modifying ``paths``."""
    event = copy.deepcopy(next(p for p in examples["push"] if p["ref"] == "refs/heads/master"))
    owner, name = repo.split("/", 1)
    repository = event["repository"]
    repository["full_name"], repository["name"] = repo, name
    repository["owner"]["login"] = repository["owner"]["name"] = owner
    repository["default_branch"] = repository["master_branch"] = "main"
    event["ref"] = "refs/heads/main"
    event["after"] = head_sha
    event["installation"] = {
        "id": installation_id,
        "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
    }
    for commit in [*event["commits"], event["head_commit"]]:
        commit["id"] = head_sha
        commit["added"], commit["removed"], commit["modified"] = [], [], list(paths)
    return event


def own_check_run_event(
    examples: Examples, pr_payload: dict[str, Any], action: str, run_id: int, app_id: int
) -> dict[str, Any]:
    """`check_run.rerequested` / `.requested_action` for codex-guard's own run."""
    event = _adjust(example(examples, "check_run", action), pr_payload)
    run = event["check_run"]
    sha = pr_payload["pull_request"]["head"]["sha"]
    run["id"], run["name"], run["head_sha"] = run_id, "codex-guard", sha
    run["app"]["id"], run["app"]["slug"] = app_id, "codex-guard"
    run["pull_requests"] = [_pr_ref(pr_payload)]
    if isinstance(run.get("check_suite"), dict):
        run["check_suite"]["head_sha"] = sha
        run["check_suite"]["pull_requests"] = [_pr_ref(pr_payload)]
    if action == "requested_action":
        event["requested_action"] = {"identifier": "rerun"}
    return event


def pull_request_review_event(
    examples: Examples, pr_payload: dict[str, Any], login: str, action: str = "submitted"
) -> dict[str, Any]:
    """GitHub's `pull_request_review` example, by ``login`` on the PR's head commit."""
    event = _adjust(_first(examples, "pull_request_review", action), pr_payload)
    event["pull_request"] = copy.deepcopy(pr_payload["pull_request"])
    review = event["review"]
    review["user"]["login"] = login
    review["commit_id"] = pr_payload["pull_request"]["head"]["sha"]
    review["state"] = "approved" if action == "submitted" else "dismissed"
    return event
