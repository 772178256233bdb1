"""Issues API: issues (and PRs seen as issues), comments, reactions and labels."""

from __future__ import annotations

from typing import Any

from github_double.endpoints.base import (
    MAX_TEXT,
    Ctx,
    Reply,
    not_found,
    path_int,
    route,
    unprocessable,
)
from github_double.models import Issue, Pull, Reaction, iso

# -- issues, comments, labels, reactions -------------------------------------------------------


def _issue_like(ctx: Ctx) -> Issue | Pull:
    r = ctx.repo()
    number = path_int(ctx, "issue_number")
    found = r.issues.get(number) or r.pulls.get(number)
    if found is None:
        raise not_found()
    return found


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.issue(ctx.repo(), _issue_like(ctx)))


def _label_names(raw: Any) -> list[str]:
    if isinstance(raw, dict):
        raw = raw.get("labels", [])
    if isinstance(raw, str):
        raw = [raw]
    return [item["name"] if isinstance(item, dict) else str(item) for item in raw or []]


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(ctx: Ctx) -> Reply:
    item = _issue_like(ctx)
    if ctx.arg("title") is not None:
        item.title = str(ctx.arg("title"))
    if isinstance(ctx.body, dict) and "body" in ctx.body:
        item.body = ctx.body["body"]
    if ctx.arg("state") in ("open", "closed"):
        item.state = ctx.arg("state")
        item.closed_at = iso() if item.state == "closed" else None
    if ctx.arg("labels") is not None:
        item.labels = _label_names(ctx.arg("labels"))
    item.updated_at = iso()
    return Reply(200, ctx.render.issue(ctx.repo(), item))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(ctx: Ctx) -> Reply:
    r, item = ctx.repo(), _issue_like(ctx)
    comments = sorted(ctx.world.comments(r.full_name, item.number), key=lambda c: c.id)
    since = ctx.q("since")
    if since:
        comments = [c for c in comments if c.updated_at >= since]
    return Reply(200, [ctx.render.comment(r, c) for c in ctx.paginate(comments)])


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(ctx: Ctx) -> Reply:
    r, item = ctx.repo(), _issue_like(ctx)
    body = ctx.arg("body")
    if len(body) > MAX_TEXT:
        raise unprocessable(
            f"Body is too long (maximum is {MAX_TEXT} characters)", "body", "IssueComment"
        )
    # Comments posted with an installation token belong to the App's bot user (user=None).
    comment = ctx.world.add_comment(r.full_name, item.number, body, user=None)
    return Reply(201, ctx.render.comment(r, comment))


def _comment(ctx: Ctx) -> Any:
    found = ctx.world.comments_by_id.get(path_int(ctx, "comment_id"))
    if found is None or found.repo.lower() != ctx.repo().full_name.lower():
        raise not_found()
    return found


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.comment(ctx.repo(), _comment(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    body = ctx.arg("body")
    if len(body) > MAX_TEXT:
        raise unprocessable(
            f"Body is too long (maximum is {MAX_TEXT} characters)", "body", "IssueComment"
        )
    comment.body = body
    comment.updated_at = iso()
    return Reply(200, ctx.render.comment(ctx.repo(), comment))


@route("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    del ctx.world.comments_by_id[comment.id]
    return Reply(204)


@route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def list_reactions(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    items = [
        ctx.render.reaction(x) for x in comment.reactions if ctx.q("content") in (None, x.content)
    ]
    return Reply(200, ctx.paginate(items))


@route("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions")
def create_reaction(ctx: Ctx) -> Reply:
    comment = _comment(ctx)
    content = ctx.arg("content")
    me = ctx.world.bot
    for existing in comment.reactions:
        if existing.content == content and existing.user is me:
            return Reply(200, ctx.render.reaction(existing))
    reaction = Reaction(id=ctx.world.new_id(), content=content, user=me)
    comment.reactions.append(reaction)
    return Reply(201, ctx.render.reaction(reaction))


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_labels(ctx: Ctx) -> Reply:
    r, item = ctx.repo(), _issue_like(ctx)
    return Reply(200, ctx.paginate([ctx.render.label(r, n) for n in item.labels]))


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_labels(ctx: Ctx) -> Reply:
    r, item = ctx.repo(), _issue_like(ctx)
    for name in _label_names(ctx.body):
        if name not in item.labels:
            item.labels.append(name)
    return Reply(200, [ctx.render.label(r, n) for n in item.labels])


@route("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def set_labels(ctx: Ctx) -> Reply:
    r, item = ctx.repo(), _issue_like(ctx)
    item.labels = _label_names(ctx.body)
    return Reply(200, [ctx.render.label(r, n) for n in item.labels])


@route("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def clear_labels(ctx: Ctx) -> Reply:
    _issue_like(ctx).labels = []
    return Reply(204)
