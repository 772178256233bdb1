"""Checks API and commit statuses."""

from __future__ import annotations

from typing import Any

from github_double.endpoints.base import (
    MAX_TEXT,
    ApiError,
    Ctx,
    Reply,
    commit_sha,
    not_found,
    path_int,
    route,
    unprocessable,
)
from github_double.models import CheckRun, iso

# -- checks -------------------------------------------------------------------------------------


def _sha_for_checks(ctx: Ctx) -> str:
    ref = ctx.params["ref"]
    sha = ctx.world.resolve_ref(ctx.repo().full_name, ref)
    if sha is not None:
        return sha
    if len(ref) == 40 and all(c in "0123456789abcdef" for c in ref):
        return ref
    raise ApiError(422, f"No commit found for SHA: {ref}")


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs")
def list_check_runs(ctx: Ctx) -> Reply:
    r = ctx.repo()
    runs = ctx.world.check_runs(r.full_name, head_sha=_sha_for_checks(ctx))
    if ctx.q("check_name"):
        runs = [c for c in runs if c.name == ctx.q("check_name")]
    if ctx.q("status"):
        runs = [c for c in runs if c.status == ctx.q("status")]
    if ctx.q("app_id"):
        runs = [c for c in runs if str(c.app.id) == ctx.q("app_id")]
    if ctx.q("filter", "latest") == "latest":
        newest: dict[tuple[str, int], CheckRun] = {}
        for run in runs:
            newest[(run.name, run.app.id)] = run
        runs = list(newest.values())
    runs.sort(key=lambda c: c.id, reverse=True)
    page = ctx.paginate(runs)
    return Reply(
        200, {"total_count": len(runs), "check_runs": [ctx.render.check_run(c) for c in page]}
    )


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-suites")
def list_check_suites(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = _sha_for_checks(ctx)
    runs = ctx.world.check_runs(r.full_name, head_sha=sha)
    if ctx.q("check_name"):
        runs = [c for c in runs if c.name == ctx.q("check_name")]
    by_app: dict[int, list[CheckRun]] = {}
    for run in runs:
        by_app.setdefault(run.app.id, []).append(run)
    if ctx.q("app_id"):
        by_app = {k: v for k, v in by_app.items() if str(k) == ctx.q("app_id")}
    suites = [ctx.render.check_suite(r, sha, group[0].app, group) for group in by_app.values()]
    return Reply(200, {"total_count": len(suites), "check_suites": ctx.paginate(suites)})


def _check_output(ctx: Ctx, run: CheckRun, output: dict[str, Any] | None) -> None:
    if output is None:
        return
    for key in ("summary", "text"):
        if len(output.get(key) or "") > MAX_TEXT:
            raise unprocessable(
                f"Invalid request.\n\nOnly {MAX_TEXT} characters are allowed; "
                f"{len(output[key])} were supplied.",
                f"output.{key}",
                "CheckRun",
            )
    run.output = {k: output.get(k) for k in ("title", "summary", "text")}
    run.annotations.extend(output.get("annotations") or [])


def _apply_check_fields(ctx: Ctx, run: CheckRun, creating: bool) -> None:
    body = ctx.body or {}
    for key in ("name", "external_id", "details_url", "started_at"):
        if key in body:
            setattr(run, key, body[key])
    if "actions" in body:
        run.actions = list(body["actions"])
    status = body.get("status")
    conclusion = body.get("conclusion")
    if status in ("queued", "in_progress", "completed", "waiting", "requested", "pending"):
        run.status = status
    if conclusion is not None:
        run.status, run.conclusion = "completed", conclusion
        run.completed_at = body.get("completed_at") or run.completed_at or iso()
    elif body.get("completed_at"):
        run.completed_at = body["completed_at"]
        run.status = "completed"
    if run.status == "completed" and run.conclusion is None:
        raise unprocessable(
            "Invalid request.\n\nNo conclusion given for a completed check run.",
            "conclusion",
            "CheckRun",
        )
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = iso()
    if run.status != "completed":
        run.conclusion, run.completed_at = None, None
    if creating and run.status != "queued" and run.started_at is None:
        run.started_at = iso()
    _check_output(ctx, run, body.get("output"))


@route("POST", "/repos/{owner}/{repo}/check-runs")
def create_check_run(ctx: Ctx) -> Reply:
    r = ctx.repo()
    head_sha = ctx.arg("head_sha")
    if ctx.world.resolve_ref(r.full_name, head_sha) != head_sha:
        raise unprocessable(f"No commit found for SHA: {head_sha}", "head_sha", "CheckRun")
    run = CheckRun(
        id=ctx.world.new_id(),
        repo=r.full_name,
        name=ctx.arg("name"),
        head_sha=head_sha,
        app=ctx.world.app,
        suite_id=ctx.world.suite_id(r.full_name, head_sha, ctx.world.app),
    )
    _apply_check_fields(ctx, run, creating=True)
    ctx.world.check_runs_by_id[run.id] = run
    return Reply(201, ctx.render.check_run(run))


def _check_run(ctx: Ctx) -> CheckRun:
    run = ctx.world.check_runs_by_id.get(path_int(ctx, "check_run_id"))
    if run is None or run.repo.lower() != ctx.repo().full_name.lower():
        raise not_found()
    return run


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def get_check_run(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.check_run(_check_run(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")
def update_check_run(ctx: Ctx) -> Reply:
    run = _check_run(ctx)
    if run.app.id != ctx.world.app.id:
        raise ApiError(
            403,
            f"Invalid app_id `{ctx.world.app.id}` - check run can only be modified by the "
            "GitHub App that created it.",
        )
    _apply_check_fields(ctx, run, creating=False)
    return Reply(200, ctx.render.check_run(run))


@route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations")
def list_annotations(ctx: Ctx) -> Reply:
    r, run = ctx.repo(), _check_run(ctx)
    items = [ctx.render.annotation(r, run, a) for a in run.annotations]
    return Reply(200, ctx.paginate(items))


# -- statuses -----------------------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/status")
def combined_status(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = commit_sha(ctx, ctx.params["ref"])
    return Reply(200, ctx.render.combined_status(r, sha, ctx.world.statuses_for(r.full_name, sha)))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}/statuses")
def list_statuses(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = commit_sha(ctx, ctx.params["ref"])
    items = [ctx.render.status(s) for s in ctx.world.statuses_for(r.full_name, sha)]
    return Reply(200, ctx.paginate(items))


@route("POST", "/repos/{owner}/{repo}/statuses/{sha}")
def create_status(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = ctx.params["sha"]
    if sha not in r.commits:
        raise unprocessable(f"No commit found for SHA: {sha}", "sha", "Status")
    status = ctx.world.add_status(
        r.full_name,
        sha,
        ctx.arg("state"),
        context=ctx.arg("context") or "default",
        description=ctx.arg("description"),
        target_url=ctx.arg("target_url"),
    )
    return Reply(201, ctx.render.status(status))
