"""GitHub Actions workflow runs and their artifacts."""

from __future__ import annotations

from typing import Any

from github_double.models import Artifact, Repo, WorkflowRun
from github_double.render.base import node_id, stable_id
from github_double.render.pulls import PullsRender


class ActionsRender(PullsRender):
    """Renders workflow runs and artifacts."""

    def workflow_run(self, run: WorkflowRun, exclude_pull_requests: bool = False) -> dict[str, Any]:
        r = self.world.repo(run.repo)
        out = self._skel("workflow-run")
        api = f"{self.api}/repos/{r.full_name}"
        url = f"{api}/actions/runs/{run.id}"
        workflow_id = self._workflow_id(r, run)
        actor = self.user(run.actor)
        out.update(
            id=run.id,
            name=run.name,
            node_id=node_id("WorkflowRun", run.id),
            check_suite_id=run.suite_id,
            check_suite_node_id=node_id("CheckSuite", run.suite_id),
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            path=run.path,
            run_number=run.run_number,
            run_attempt=1,
            referenced_workflows=[],
            event=run.event,
            status=run.status,
            conclusion=run.conclusion,
            workflow_id=workflow_id,
            url=url,
            html_url=f"{self.web}/{r.full_name}/actions/runs/{run.id}",
            pull_requests=[] if exclude_pull_requests else self._run_pulls(r, run),
            created_at=run.created_at,
            updated_at=run.updated_at,
            run_started_at=run.created_at,
            actor=actor,
            triggering_actor=actor,
            jobs_url=f"{url}/jobs",
            logs_url=f"{url}/logs",
            check_suite_url=f"{api}/check-suites/{run.suite_id}",
            artifacts_url=f"{url}/artifacts",
            cancel_url=f"{url}/cancel",
            rerun_url=f"{url}/rerun",
            previous_attempt_url=None,
            workflow_url=f"{api}/actions/workflows/{workflow_id}",
            head_commit=self._run_head_commit(r, run),
            repository=self.repo(r, "minimal-repository"),
            head_repository=self.repo(r, "minimal-repository"),
            head_repository_id=r.id,
            repository_id=r.id,
            display_title=self._display_title(r, run),
        )
        return out

    @staticmethod
    def _workflow_id(r: Repo, run: WorkflowRun) -> int:
        return stable_id(f"{r.full_name.lower()}:{run.path}")

    def _run_pulls(self, r: Repo, run: WorkflowRun) -> list[dict[str, Any]]:
        if run.pull_numbers is None:
            pulls = [
                p for p in r.pulls.values() if p.state == "open" and p.head_sha == run.head_sha
            ]
        else:
            pulls = [r.pulls[n] for n in run.pull_numbers if n in r.pulls]
        return [self.pull_minimal(r, p) for p in pulls]

    def _display_title(self, r: Repo, run: WorkflowRun) -> str:
        for number in run.pull_numbers or []:
            if number in r.pulls:
                return r.pulls[number].title
        commit = r.commits.get(run.head_sha)
        if commit is not None and commit.message:
            return commit.message.splitlines()[0]
        return run.name

    def _run_head_commit(self, r: Repo, run: WorkflowRun) -> dict[str, Any]:
        commit = r.commits.get(run.head_sha)
        person = {"name": "octocat", "email": "octocat@users.noreply.example"}
        return {
            "id": run.head_sha,
            "tree_id": self.world.root_tree(r.full_name, run.head_sha) if commit else run.head_sha,
            "message": commit.message if commit else f"Commit {run.head_sha[:7]}",
            "timestamp": commit.date if commit else run.created_at,
            "author": person,
            "committer": person,
        }

    def artifact(self, artifact: Artifact) -> dict[str, Any]:
        r = self.world.repo(artifact.repo)
        run = self.world.workflow_runs_by_id[artifact.run_id]
        out = self._skel("artifact")
        url = f"{self.api}/repos/{r.full_name}/actions/artifacts/{artifact.id}"
        workflow_run: dict[str, Any] = {
            "id": run.id,
            "repository_id": r.id,
            "head_repository_id": r.id,
            "head_sha": run.head_sha,
        }
        if run.head_branch is not None:  # a string in the schema, never null
            workflow_run["head_branch"] = run.head_branch
        out.update(
            id=artifact.id,
            node_id=node_id("Artifact", artifact.id),
            name=artifact.name,
            size_in_bytes=len(artifact.data),
            url=url,
            archive_download_url=f"{url}/zip",
            expired=artifact.expired,
            created_at=artifact.created_at,
            updated_at=artifact.created_at,
            expires_at=artifact.expires_at,
            digest=artifact.digest,
            workflow_run=workflow_run,
        )
        return out
