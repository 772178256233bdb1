"""Codex usage from a PR's workflow runs: found, read once, priced, recorded.

The runs come from what the evaluation already fetched (GitHub Actions check runs on
the head link `.../actions/runs/<run id>/job/<job id>`) or from a `workflow_run`
delivery, so finding them costs no listing of runs. Each run is scanned once (its id
remembered per repository), each artifact downloaded once, and each thread counts once
(the ledger's own rule). A bad artifact, a refused download or a GitHub error gives a
note kept with the PR, never an exception: cost bookkeeping must not fail or block the
evaluation it rides on, and it never deletes what was recorded before.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import redis
import requests
from github import GithubException

from bot.core.config.costs import CostsConfig, rate_card
from bot.core.snapshot import CheckEvidence
from bot.core.usage.artifact import MAX_UNPACKED, ArtifactRead, read_usage_zip
from bot.core.usage.rates import cost_of
from bot.core.usage.record import UsageRecord
from bot.core.usage.rollout import merge_threads
from bot.github.actions import ArtifactInfo, ArtifactUnavailable
from bot.github.gateway import Gateway
from bot.jobs.costs.ledger import PREFIX, record_usage

log = logging.getLogger("codex_guard.costs")

ACTIONS_SLUG = "github-actions"
_RUN_IN_URL = re.compile(r"/actions/runs/(\d{1,19})(?:[/?#]|$)")
MAX_RUNS_PER_SCAN = 10
MAX_ARTIFACTS_PER_RUN = 5
MAX_DOWNLOAD_BYTES = MAX_UNPACKED + 1024 * 1024
"""A zip is its members plus small headers: one larger than this unpacks past the limit."""
MAX_NOTES_PER_RUN = 20
SCANNED_DAYS = 90
DENIED_SECONDS = 3600
"""How long a repository whose artifacts GitHub refused (no `actions: read`) is left alone."""

ACTIONS_PERMISSION_NOTE = (
    "codex-guard cannot read this repository's workflow artifacts: it needs the "
    "`actions: read` permission (accept the App's updated permissions in the org's "
    "installation settings)"
)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _repo_key(repo: str) -> str:
    return repo.lower()


def scanned_key(repo: str) -> str:
    return f"{PREFIX}scanned-runs:{_repo_key(repo)}"


def read_key(repo: str) -> str:
    return f"{PREFIX}read-artifacts:{_repo_key(repo)}"


def notes_key(repo: str, pr: int) -> str:
    return f"{PREFIX}notes:{_repo_key(repo)}#{pr}"


def denied_key(repo: str) -> str:
    return f"{PREFIX}actions-denied:{_repo_key(repo)}"


def actions_run_ids(evidence: Iterable[CheckEvidence]) -> list[int]:
    """Workflow runs on the head whose every job has completed, in first-seen order.

    Only GitHub Actions' own check runs count (`app.slug == "github-actions"`): another
    App's link that happens to contain `/actions/runs/` names nothing of ours to read.
    """
    jobs: dict[int, bool] = {}
    for check in evidence:
        if check.source != "check_run" or check.app_slug != ACTIONS_SLUG:
            continue
        found = _RUN_IN_URL.search(check.details_url or "")
        if found is None:
            continue
        run_id = int(found.group(1))
        jobs[run_id] = jobs.get(run_id, True) and check.status == "completed"
    return [run_id for run_id, done in jobs.items() if done]


@dataclass(frozen=True)
class Owner:
    """Whom a PR's usage is attributed to: the repository, PR, person and their team."""

    repo: str
    pr: int
    person: str
    team: str | None


def usage_records(
    read: ArtifactRead, costs: CostsConfig, owner: Owner, run_id: int | None
) -> list[UsageRecord]:
    """The artifact's threads, each once, priced with the config's rate card.

    A thread whose files never name the model takes `costs.default_model`; without one
    it stays unknown (its tokens count, its cost does not)."""
    card = rate_card(costs)
    records = []
    for usage in merge_threads(read.usages):
        if usage.model is None and costs.default_model:
            usage = replace(usage, model=costs.default_model)
        records.append(
            UsageRecord.of(
                usage,
                repo=owner.repo,
                pr=owner.pr,
                person=owner.person,
                team=owner.team,
                dollars=cost_of(usage, card).dollars,
                run_id=run_id,
            )
        )
    return records


@dataclass
class RunScan:
    """One run's scan: notes on the run and per artifact read, whether the run is finished
    with, and how many threads were new or changed."""

    notes: list[str] = field(default_factory=list)
    done: bool = True
    recorded: int = 0
    artifact_notes: dict[int, list[str]] = field(default_factory=dict)

    def all_notes(self) -> list[str]:
        return [*self.notes, *(n for notes in self.artifact_notes.values() for n in notes)]


def _transient(exc: Exception) -> bool:
    if isinstance(exc, GithubException):
        return exc.status is None or exc.status >= 500 or exc.status == 429
    return isinstance(exc, requests.RequestException | OSError)


def _read_artifact(
    gw: Gateway,
    client: redis.Redis,
    costs: CostsConfig,
    owner: Owner,
    run_id: int,
    artifact: ArtifactInfo,
    scan: RunScan,
) -> None:
    where = f"run {run_id}, artifact `{artifact.name}`"
    notes = scan.artifact_notes.setdefault(artifact.id, [])
    if artifact.expired:
        notes.append(f"{where}: expired before codex-guard read it; its usage is not known")
        return
    if artifact.size_in_bytes > MAX_DOWNLOAD_BYTES:
        notes.append(
            f"{where}: refused, {artifact.size_in_bytes} bytes is more than the "
            f"{MAX_DOWNLOAD_BYTES} allowed"
        )
        return
    try:
        data = gw.artifact_zip(owner.repo, artifact.id, MAX_DOWNLOAD_BYTES)
    except ArtifactUnavailable as exc:
        notes.append(f"{where}: {exc}")
        return
    read = read_usage_zip(data)
    notes.extend(f"{where}: {note}" for note in read.notes)
    notes.extend(
        f"{where}: thread {thread[:40]} recorded no token counts (no `token_count` line)"
        for thread in read.without_usage
    )
    records = usage_records(read, costs, owner, run_id)
    scan.recorded += record_usage(client, records)


def scan_run(
    gw: Gateway, client: redis.Redis, costs: CostsConfig, owner: Owner, run_id: int
) -> RunScan:
    """Read the run's usage artifacts not read before; never raises for GitHub trouble."""
    scan = RunScan()
    try:
        artifacts = gw.run_artifacts(owner.repo, run_id, costs.artifact_name)
    except GithubException as exc:
        if exc.status == 403:
            client.set(denied_key(owner.repo), 1, ex=DENIED_SECONDS)
            return RunScan([ACTIONS_PERMISSION_NOTE], done=False)
        if exc.status == 404:
            return scan  # the run is gone (deleted): nothing to read, ever
        if not _transient(exc):
            return RunScan([f"run {run_id}: GitHub refused the artifact list ({exc.status})"])
        return RunScan([f"run {run_id}: artifacts not read yet (GitHub answered {exc.status})"],
                       done=False)  # fmt: skip
    except (requests.RequestException, OSError) as exc:
        note = f"run {run_id}: artifacts not read yet ({type(exc).__name__})"
        return RunScan([note], done=False)
    done_before = {int(i) for i in client.smembers(read_key(owner.repo))}
    for artifact in artifacts[:MAX_ARTIFACTS_PER_RUN]:
        if artifact.id in done_before:
            continue
        try:
            _read_artifact(gw, client, costs, owner, run_id, artifact, scan)
        except Exception as exc:
            where = f"run {run_id}, artifact `{artifact.name}`"
            if _transient(exc):
                scan.artifact_notes[artifact.id] = [f"{where}: not read yet ({type(exc).__name__})"]
                scan.done = False
                continue
            # A bug, not the artifact: say so once rather than fail on every evaluation.
            log.exception("could not read a usage artifact")
            scan.artifact_notes[artifact.id] = [f"{where}: could not be read (internal error)"]
        client.sadd(read_key(owner.repo), artifact.id)
        client.expire(read_key(owner.repo), SCANNED_DAYS * 86400)
    if len(artifacts) > MAX_ARTIFACTS_PER_RUN:
        scan.notes.append(
            f"run {run_id}: {len(artifacts)} artifacts named `{costs.artifact_name}`; "
            f"only the first {MAX_ARTIFACTS_PER_RUN} were read"
        )
    return scan


def unscanned(client: redis.Redis, repo: str, run_ids: Sequence[int]) -> list[int]:
    """The runs of ``run_ids`` not scanned yet, at most `MAX_RUNS_PER_SCAN`."""
    if not run_ids:
        return []
    seen = client.smismember(scanned_key(repo), [str(r) for r in run_ids])
    return [r for r, s in zip(run_ids, seen, strict=True) if not s][:MAX_RUNS_PER_SCAN]


def actions_denied(client: redis.Redis, repo: str) -> bool:
    return bool(client.exists(denied_key(repo)))


def collect_runs(
    gw: Gateway, client: redis.Redis, costs: CostsConfig, owner: Owner, run_ids: Sequence[int]
) -> int:
    """Scan each run (the caller picked them: `unscanned`, or a `workflow_run` delivery's
    own run) and keep its notes with the PR; how many threads were new or changed."""
    recorded = 0
    for run_id in run_ids:
        scan = scan_run(gw, client, costs, owner, run_id)
        recorded += scan.recorded
        keep_notes(client, owner.repo, owner.pr, f"{run_id}:run", scan.notes)
        for artifact_id, notes in scan.artifact_notes.items():
            keep_notes(client, owner.repo, owner.pr, f"{run_id}:{artifact_id}", notes)
        if scan.done:
            client.sadd(scanned_key(owner.repo), run_id)
            client.expire(scanned_key(owner.repo), SCANNED_DAYS * 86400)
        if not scan.done and ACTIONS_PERMISSION_NOTE in scan.notes:
            break  # the other runs would be refused alike
    if recorded:
        log.info("recorded Codex usage: %d thread(s) new or changed", recorded)
    return recorded


def keep_notes(client: redis.Redis, repo: str, pr: int, where: str, notes: list[str]) -> None:
    """Notes on a run (``<run id>:run``) or on one artifact read (``<run id>:<artifact
    id>``) replace what was said of it before: a run listed again may now be readable,
    while an artifact read once keeps its notes, since it is never read again."""
    key = notes_key(repo, pr)
    if notes:
        client.hset(key, where, json.dumps(notes[:MAX_NOTES_PER_RUN]))
        client.expire(key, SCANNED_DAYS * 86400)
    else:
        client.hdel(key, where)


def _note_order(where: str) -> tuple[int, int]:
    run, _, part = where.partition(":")
    return (int(run) if run.isdigit() else 0, int(part) if part.isdigit() else -1)


def pr_notes(client: redis.Redis, repo: str, pr: int) -> list[str]:
    """Every note kept for the PR's runs and artifacts, oldest run first."""
    raw = {_text(k): v for k, v in client.hgetall(notes_key(repo, pr)).items()}
    notes: list[str] = []
    for where in sorted(raw, key=_note_order):
        try:
            found = json.loads(raw[where])
        except ValueError:
            continue
        notes.extend(str(n) for n in found if isinstance(n, str))
    return notes
