"""Check runs, annotations, check suites and commit statuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from github_double.models import App, CheckRun, Repo, Status, iso
from github_double.render.apps import AppsRender
from github_double.render.base import node_id
from github_double.render.pulls import PullsRender


class ChecksRender(PullsRender, AppsRender):
    """Renders check runs, suites, annotations and statuses."""

    def check_run(self, run: CheckRun) -> dict[str, Any]:
        r = self.world.repo(run.repo)
        out = self._skel("check-run")
        out.pop("deployment", None)
        html = f"{self.web}/{r.full_name}/runs/{run.id}"
        url = f"{self.api}/repos/{r.full_name}/check-runs/{run.id}"
        output = run.output
        out.update(
            id=run.id,
            node_id=node_id("CheckRun", run.id),
            head_sha=run.head_sha,
            external_id=run.external_id or "",
            url=url,
            html_url=html,
            details_url=run.details_url or html,
            status=run.status,
            conclusion=run.conclusion,
            started_at=run.started_at,
            completed_at=run.completed_at,
            name=run.name,
            check_suite={"id": run.suite_id},
            app=self.integration(run.app),
            pull_requests=[
                self.pull_minimal(r, p)
                for p in r.pulls.values()
                if p.state == "open" and p.head_sha == run.head_sha
            ],
            output={
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
        )
        return out

    def annotation(self, r: Repo, run: CheckRun, ann: dict[str, Any]) -> dict[str, Any]:
        out = self._skel("check-annotation")
        out.update(
            path=ann["path"],
            start_line=ann["start_line"],
            end_line=ann["end_line"],
            start_column=ann.get("start_column"),
            end_column=ann.get("end_column"),
            annotation_level=ann.get("annotation_level"),
            title=ann.get("title"),
            message=ann.get("message"),
            raw_details=ann.get("raw_details"),
            blob_href=f"{self.web}/{r.full_name}/blob/{run.head_sha}/{quote(ann['path'])}",
        )
        return out

    def check_suite(self, r: Repo, head_sha: str, app: App, runs: list[CheckRun]) -> dict[str, Any]:
        out = self._skel("check-suite")
        suite_id = self.world.suite_id(r.full_name, head_sha, app)
        statuses = {run.status for run in runs}
        status = (
            "completed"
            if statuses == {"completed"}
            else (
                "in_progress" if "in_progress" in statuses or "completed" in statuses else "queued"
            )
        )
        conclusion = None
        if status == "completed":
            order = [
                "action_required",
                "timed_out",
                "failure",
                "cancelled",
                "stale",
                "neutral",
                "skipped",
                "success",
            ]
            found = [run.conclusion for run in runs if run.conclusion]
            conclusion = next((c for c in order if c in found), "success")
        branch = next((b for b, sha in r.branches.items() if sha == head_sha), None)
        commit = r.commits.get(head_sha)
        message = commit.message if commit else f"Commit {head_sha[:7]}"
        person = {"name": "octocat", "email": "octocat@users.noreply.example"}
        out.update(
            id=suite_id,
            node_id=node_id("CheckSuite", suite_id),
            head_branch=branch,
            head_sha=head_sha,
            status=status,
            conclusion=conclusion,
            url=f"{self.api}/repos/{r.full_name}/check-suites/{suite_id}",
            before=None,
            after=head_sha,
            pull_requests=[
                self.pull_minimal(r, p)
                for p in r.pulls.values()
                if p.state == "open" and p.head_sha == head_sha
            ],
            app=self.integration(app),
            repository=self.repo(r, "minimal-repository"),
            created_at=iso(),
            updated_at=iso(),
            head_commit={
                "id": head_sha,
                "tree_id": self.world.root_tree(r.full_name, head_sha) if commit else head_sha,
                "message": message,
                "timestamp": commit.date if commit else iso(),
                "author": person,
                "committer": person,
            },
            latest_check_runs_count=len(runs),
            check_runs_url=f"{self.api}/repos/{r.full_name}/check-suites/{suite_id}/check-runs",
            rerequestable=True,
            runs_rerequestable=True,
        )
        return out

    def status(self, s: Status, simple: bool = False) -> dict[str, Any]:
        out = self._skel("simple-commit-status" if simple else "status")
        out.update(
            id=s.id,
            node_id=node_id("StatusContext", s.id),
            url=f"{self.api}/repos/{s.repo}/statuses/{s.sha}",
            avatar_url=f"{self.web}/avatars/u/{s.creator.id}?v=4",
            state=s.state,
            description=s.description,
            target_url=s.target_url,
            context=s.context,
            created_at=s.created_at,
            updated_at=s.created_at,
        )
        if simple:
            out["required"] = False
            out.pop("creator", None)
        else:
            out["creator"] = self.user(s.creator)
        return out

    def combined_status(self, r: Repo, sha: str, statuses: list[Status]) -> dict[str, Any]:
        latest: dict[str, Status] = {}
        for s in statuses:  # newest first, so the first per context wins
            latest.setdefault(s.context, s)
        states = {s.state for s in latest.values()}
        if states & {"error", "failure"}:
            state = "failure"
        elif not states or "pending" in states:
            state = "pending"
        else:
            state = "success"
        out = self._skel("combined-commit-status")
        out.update(
            state=state,
            statuses=[self.status(s, simple=True) for s in latest.values()],
            sha=sha,
            total_count=len(latest),
            repository=self.repo(r, "minimal-repository"),
            commit_url=f"{self.api}/repos/{r.full_name}/commits/{sha}",
            url=f"{self.api}/repos/{r.full_name}/commits/{sha}/status",
        )
        return out
