"""GitHub Actions: workflow runs, their artifacts and the artifact download redirect.

The token permission these need (`actions: read`) is enforced in `serving.access`.
"""

from __future__ import annotations

from github_double.endpoints.base import ApiError, Ctx, Reply, not_found, path_int, route
from github_double.models import Artifact, WorkflowRun

# Where the download redirect points (on `blob_url`), outside the API, like GitHub's storage.
BLOB_PREFIX = "/_blobs/artifacts/"


def _run(ctx: Ctx) -> WorkflowRun:
    run = ctx.world.workflow_runs_by_id.get(path_int(ctx, "run_id"))
    if run is None or run.repo.lower() != ctx.repo().full_name.lower():
        raise not_found()
    return run


def _flag(ctx: Ctx, name: str) -> bool:
    return (ctx.q(name) or "").lower() == "true"


@route("GET", "/repos/{owner}/{repo}/actions/runs")
def list_workflow_runs(ctx: Ctx) -> Reply:
    runs = ctx.world.workflow_runs(ctx.repo().full_name, head_sha=ctx.q("head_sha"))
    if ctx.q("event"):
        runs = [w for w in runs if w.event == ctx.q("event")]
    if ctx.q("status"):  # a status or a conclusion, as GitHub documents
        runs = [w for w in runs if ctx.q("status") in (w.status, w.conclusion)]
    if ctx.q("branch"):
        runs = [w for w in runs if w.head_branch == ctx.q("branch")]
    if ctx.q("actor"):
        runs = [w for w in runs if w.actor.login.lower() == (ctx.q("actor") or "").lower()]
    if ctx.q("check_suite_id"):
        runs = [w for w in runs if str(w.suite_id) == ctx.q("check_suite_id")]
    exclude = _flag(ctx, "exclude_pull_requests")
    page = ctx.paginate(runs)
    return Reply(
        200,
        {
            "total_count": len(runs),
            "workflow_runs": [ctx.render.workflow_run(w, exclude) for w in page],
        },
    )


@route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}")
def get_workflow_run(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.workflow_run(_run(ctx), _flag(ctx, "exclude_pull_requests")))


@route("DELETE", "/repos/{owner}/{repo}/actions/runs/{run_id}")
def delete_workflow_run(ctx: Ctx) -> Reply:
    """Comes with the path in the spec; needs `actions: write`, which the App lacks."""
    run = _run(ctx)
    for artifact in ctx.world.artifacts(run.repo, run_id=run.id):
        del ctx.world.artifacts_by_id[artifact.id]
    del ctx.world.workflow_runs_by_id[run.id]
    return Reply(204)


@route("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts")
def list_run_artifacts(ctx: Ctx) -> Reply:
    run = _run(ctx)
    found = ctx.world.artifacts(run.repo, run_id=run.id)
    if ctx.q("name") is not None:
        found = [a for a in found if a.name == ctx.q("name")]
    if ctx.q("direction", "desc") == "desc":
        found.reverse()
    page = ctx.paginate(found)
    return Reply(
        200, {"total_count": len(found), "artifacts": [ctx.render.artifact(a) for a in page]}
    )


def _artifact(ctx: Ctx) -> Artifact:
    artifact = ctx.world.artifacts_by_id.get(path_int(ctx, "artifact_id"))
    if artifact is None or artifact.repo.lower() != ctx.repo().full_name.lower():
        raise not_found()
    return artifact


@route("GET", "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}")
def download_artifact(ctx: Ctx) -> Reply:
    if ctx.params["archive_format"] != "zip":
        raise ApiError(
            404,
            "Not Found",
            violation=f"archive_format must be zip, not {ctx.params['archive_format']!r}",
        )
    artifact = _artifact(ctx)
    if artifact.expired:
        raise ApiError(410, "Artifact has expired")
    query = ctx.world.sign_artifact_download(artifact.id)
    location = f"{ctx.blob_base}{BLOB_PREFIX}{artifact.id}.zip?{query}"
    return Reply(302, None, {"Location": location})
