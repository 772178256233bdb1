"""GitHub Actions workflow runs, their artifacts and the signed URLs artifacts download from."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

from github_double.models import Artifact, NotFound, WorkflowRun, iso
from github_double.state.checks import Checks

# GitHub's artifact download redirect is valid for one minute.
BLOB_URL_TTL = 60


class Actions(Checks):
    """World methods for workflow runs and artifacts."""

    def add_workflow_run(
        self,
        repo: str,
        head_sha: str,
        *,
        name: str = "codex",
        event: str = "pull_request",
        status: str = "completed",
        conclusion: str | None = "success",
        pull_numbers: Iterable[int] | None = None,
        head_branch: str | None = None,
        actor: str | None = None,
    ) -> WorkflowRun:
        """Add a run of workflow `name` on `head_sha`, in the `github-actions` App's suite.

        `pull_numbers=None` lists the open PRs whose head is `head_sha`, as GitHub does;
        pass `()` for a run GitHub links to no PR (e.g. one from a fork).
        """
        with self.lock:
            r = self.repo(repo)
            numbers = None if pull_numbers is None else [int(n) for n in pull_numbers]
            for number in numbers or []:
                if number not in r.pulls:
                    raise NotFound(f"{r.full_name}#{number}")
            if numbers is None:
                linked = [p for p in r.pulls.values() if p.head_sha == head_sha]
            else:
                linked = [r.pulls[n] for n in numbers]
            if head_branch is None:
                head_branch = next(
                    (p.head_ref for p in linked),
                    next((b for b, sha in r.branches.items() if sha == head_sha), None),
                )
            login = actor or (linked[0].user.login if linked else r.owner.login)
            previous = [w for w in self.workflow_runs_by_id.values() if w.repo == r.full_name]
            run = WorkflowRun(
                id=self.new_id(),
                repo=r.full_name,
                name=name,
                head_sha=head_sha,
                head_branch=head_branch,
                event=event,
                status=status,
                conclusion=conclusion if status == "completed" else None,
                run_number=len(previous) + 1,
                suite_id=self.suite_id(r.full_name, head_sha, self.other_app("github-actions")),
                actor=self.user(login),
                pull_numbers=numbers,
                path=f".github/workflows/{name}.yml",
            )
            self.workflow_runs_by_id[run.id] = run
            return run

    def workflow_runs(self, repo: str, head_sha: str | None = None) -> list[WorkflowRun]:
        """Workflow runs of a repo, newest first (GitHub's order)."""
        with self.lock:
            return sorted(
                (
                    w
                    for w in self.workflow_runs_by_id.values()
                    if w.repo.lower() == repo.lower()
                    and (head_sha is None or w.head_sha == head_sha)
                ),
                key=lambda w: w.id,
                reverse=True,
            )

    def add_artifact(
        self, repo: str, run_id: int, name: str, data: bytes, *, expired: bool = False
    ) -> Artifact:
        """Attach an artifact (`data` is its zip archive) to workflow run `run_id`."""
        with self.lock:
            r = self.repo(repo)
            run = self.workflow_runs_by_id.get(run_id)
            if run is None or run.repo != r.full_name:
                raise NotFound(f"workflow run {run_id} in {r.full_name}")
            now = time.time()
            artifact = Artifact(
                id=self.new_id(),
                repo=r.full_name,
                run_id=run_id,
                name=name,
                data=bytes(data),
                expired=expired,
                expires_at=iso(now - 86400 if expired else now + 90 * 86400),
            )
            self.artifacts_by_id[artifact.id] = artifact
            return artifact

    def artifacts(self, repo: str, run_id: int | None = None) -> list[Artifact]:
        """Artifacts of a repo (optionally of one run), oldest first."""
        with self.lock:
            return sorted(
                (
                    a
                    for a in self.artifacts_by_id.values()
                    if a.repo.lower() == repo.lower() and (run_id is None or a.run_id == run_id)
                ),
                key=lambda a: a.id,
            )

    # -- signed download URLs -------------------------------------------------------------

    def _blob_signature(self, artifact_id: int, expires: int) -> str:
        message = f"artifact:{artifact_id}:{expires}".encode()
        return hmac.new(self.blob_key, message, hashlib.sha256).hexdigest()

    def sign_artifact_download(self, artifact_id: int, now: float | None = None) -> str:
        """The query string (`expires=...&sig=...`) of a short-lived download URL."""
        expires = int((time.time() if now is None else now) + BLOB_URL_TTL)
        return f"expires={expires}&sig={self._blob_signature(artifact_id, expires)}"

    def artifact_blob(self, artifact_id: int, expires: str, sig: str) -> bytes | None:
        """The archive behind a signed URL, or None if the URL is forged, stale or gone."""
        with self.lock:
            artifact = self.artifacts_by_id.get(artifact_id)
            if artifact is None or artifact.expired or not expires.isdigit():
                return None
            if int(expires) < time.time():
                return None
            if not hmac.compare_digest(sig, self._blob_signature(artifact_id, int(expires))):
                return None
            return artifact.data
