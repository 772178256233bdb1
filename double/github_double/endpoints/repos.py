"""Repository endpoints: repo metadata, branches, pull requests, contents and git data."""

from __future__ import annotations

from typing import Any

from github_double.endpoints.base import (
    Ctx,
    Reply,
    commit_sha,
    not_found,
    path_int,
    route,
    unprocessable,
)
from github_double.models import Pull, Repo, iso

# -- repository endpoints -----------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.repo(ctx.repo(), "full-repository"))


@route("GET", "/repos/{owner}/{repo}/installation")
def repo_installation(ctx: Ctx) -> Reply:
    inst = ctx.world.installation_for_repo(ctx.repo().full_name)
    if inst is None:
        raise not_found()
    return Reply(200, ctx.render.installation(inst))


@route("GET", "/repos/{owner}/{repo}/branches/{branch}")
def get_branch(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = r.branches.get(ctx.params["branch"])
    if sha is None:
        raise not_found("Branch not found")
    return Reply(200, ctx.render.branch(r, ctx.params["branch"], sha))


@route("GET", "/repos/{owner}/{repo}/branches/{branch}/protection")
def get_protection(ctx: Ctx) -> Reply:
    r = ctx.repo()
    if ctx.params["branch"] not in r.branches:
        raise not_found("Branch not found")
    raise not_found("Branch not protected")


@route("GET", "/repos/{owner}/{repo}/rulesets")
def list_rulesets(ctx: Ctx) -> Reply:
    ctx.repo()
    return Reply(200, [])


@route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_permission(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.permission(ctx.repo(), ctx.params["username"]))


# -- pull requests ------------------------------------------------------------------------------


def _pull(ctx: Ctx) -> Pull:
    pull = ctx.repo().pulls.get(path_int(ctx, "pull_number"))
    if pull is None:
        raise not_found()
    return pull


@route("GET", "/repos/{owner}/{repo}/pulls")
def list_pulls(ctx: Ctx) -> Reply:
    r = ctx.repo()
    state = ctx.q("state", "open")
    pulls = [p for p in r.pulls.values() if state == "all" or p.state == state]
    head, base = ctx.q("head"), ctx.q("base")
    if head:
        owner, _, ref = head.rpartition(":")
        pulls = [
            p
            for p in pulls
            if p.head_ref == ref
            and (not owner or (p.head_repo or r.full_name).split("/")[0].lower() == owner.lower())
        ]
    if base:
        pulls = [p for p in pulls if p.base_ref == base]
    key = "updated_at" if ctx.q("sort") == "updated" else "created_at"
    pulls.sort(
        key=lambda p: (getattr(p, key), p.number), reverse=ctx.q("direction", "desc") == "desc"
    )
    return Reply(200, [ctx.render.pull(r, p, simple=True) for p in ctx.paginate(pulls)])


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
def get_pull(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.pull(ctx.repo(), _pull(ctx)))


@route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}")
def update_pull(ctx: Ctx) -> Reply:
    r, pull = ctx.repo(), _pull(ctx)
    for key in ("title", "body"):
        if ctx.arg(key) is not None:
            setattr(pull, key, ctx.arg(key))
    if ctx.arg("state") in ("open", "closed"):
        pull.state = ctx.arg("state")
        pull.closed_at = iso() if pull.state == "closed" else None
    if ctx.arg("base"):
        pull.base_ref = ctx.arg("base")
    pull.updated_at = iso()
    return Reply(200, ctx.render.pull(r, pull))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files")
def pull_files(ctx: Ctx) -> Reply:
    r, pull = ctx.repo(), _pull(ctx)
    return Reply(200, ctx.paginate(ctx.render.file_changes(r, pull.base_sha, pull.head_sha)))


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits")
def pull_commits(ctx: Ctx) -> Reply:
    r, pull = ctx.repo(), _pull(ctx)
    commits = [
        ctx.render.commit(r, r.commits[sha])
        for sha in ctx.paginate(pull.commits)
        if sha in r.commits
    ]
    return Reply(200, commits)


@route("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(ctx: Ctx) -> Reply:
    r, pull = ctx.repo(), _pull(ctx)
    stored = ctx.world.reviews.get((r.full_name.lower(), pull.number), [])
    reviews = [
        _review(
            ctx,
            r,
            pull,
            ctx.world.user(rev["_author"]),
            rev["state"],
            rev["commit_id"],
            ident=rev["id"],
        )
        if "_author" in rev
        else rev
        for rev in stored
    ]
    return Reply(200, ctx.paginate(reviews))


def _review(
    ctx: Ctx,
    r: Repo,
    pull: Pull,
    author: Any,
    state: str,
    commit_id: str,
    body: str = "",
    ident: int | None = None,
) -> dict[str, Any]:
    review = ctx.render._skel("pull-request-review")
    ident = ident or ctx.world.new_id()
    html = f"{ctx.render.web}/{r.full_name}/pull/{pull.number}"
    review.update(
        id=ident,
        node_id=f"PRR_{ident}",
        user=ctx.render.user(author),
        body=body,
        state=state,
        commit_id=commit_id,
        html_url=f"{html}#pullrequestreview-{ident}",
        pull_request_url=f"{ctx.api_base}/repos/{r.full_name}/pulls/{pull.number}",
        submitted_at=iso(),
        author_association="NONE",
    )
    review["_links"] = {
        "html": {"href": review["html_url"]},
        "pull_request": {"href": review["pull_request_url"]},
    }
    return review


@route("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(ctx: Ctx) -> Reply:
    r, pull = ctx.repo(), _pull(ctx)
    event = ctx.arg("event") or "PENDING"
    if event in ("REQUEST_CHANGES", "COMMENT") and not ctx.arg("body"):
        raise unprocessable(f"Review body is required for {event}", "body", "PullRequestReview")
    state = {
        "APPROVE": "APPROVED",
        "REQUEST_CHANGES": "CHANGES_REQUESTED",
        "COMMENT": "COMMENTED",
    }.get(event, "PENDING")
    commit = ctx.arg("commit_id") or pull.head_sha
    review = _review(ctx, r, pull, ctx.world.bot, state, commit, ctx.arg("body") or "")
    ctx.world.reviews.setdefault((r.full_name.lower(), pull.number), []).append(review)
    return Reply(200, review)


@route("GET", "/repos/{owner}/{repo}/compare/{basehead}")
def compare(ctx: Ctx) -> Reply:
    r = ctx.repo()
    base_ref, sep, head_ref = ctx.params["basehead"].partition("...")
    base = ctx.world.resolve_ref(r.full_name, base_ref) if sep else None
    head = ctx.world.resolve_ref(r.full_name, head_ref) if sep else None
    if base is None or head is None:
        raise not_found()
    out = ctx.render._skel("commit-comparison")
    files = ctx.render.file_changes(r, base, head)
    chain = _ancestry(r, head, base)
    commits = [ctx.render.commit(r, r.commits[sha]) for sha in chain]
    api = f"{ctx.api_base}/repos/{r.full_name}"
    web = f"{ctx.render.web}/{r.full_name}"
    out.update(
        url=f"{api}/compare/{base}...{head}",
        html_url=f"{web}/compare/{base}...{head}",
        permalink_url=f"{web}/compare/{base}...{head}",
        diff_url=f"{web}/compare/{base}...{head}.diff",
        patch_url=f"{web}/compare/{base}...{head}.patch",
        base_commit=ctx.render.commit(r, r.commits[base]),
        merge_base_commit=ctx.render.commit(r, r.commits[base]),
        status="identical" if base == head else "ahead",
        ahead_by=len(chain),
        behind_by=0,
        total_commits=len(chain),
        commits=ctx.paginate(commits),
        files=files,
    )
    return Reply(200, out)


def _ancestry(r: Repo, head: str, base: str) -> list[str]:
    """Commits reachable from head down to (excluding) base, oldest first."""
    chain, cursor = [], head
    while cursor and cursor != base and cursor in r.commits and len(chain) < 250:
        chain.append(cursor)
        parents = r.commits[cursor].parents
        cursor = parents[0] if parents else ""
    return list(reversed(chain))


# -- contents and git data ----------------------------------------------------------------------


@route("GET", "/repos/{owner}/{repo}/contents/{path}")
def get_contents(ctx: Ctx) -> Reply:
    r = ctx.repo()
    ref = ctx.q("ref") or r.default_branch
    sha = ctx.world.resolve_ref(r.full_name, ref)
    if sha is None:
        raise not_found(f"No commit found for the ref {ref}")
    files = r.commits[sha].files
    path = ctx.params["path"].strip("/")
    if path in files:
        return Reply(200, ctx.render.content_entry(r, path, ref, files[path]))
    prefix = path + "/"
    children: dict[str, bytes | None] = {}
    for name, data in files.items():
        if name.startswith(prefix):
            head, sep, _ = name[len(prefix) :].partition("/")
            children[head] = None if sep else data
    if not children:
        raise not_found()
    items = [
        ctx.render.content_entry(r, prefix + name, ref, data)
        for name, data in sorted(children.items())
    ]
    for item in items:
        if item["type"] == "file":
            item.pop("content", None)
            item.pop("encoding", None)
    return Reply(200, items)


@route("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")
def get_tree(ctx: Ctx) -> Reply:
    r = ctx.repo()
    for sha in list(r.commits):
        ctx.world.root_tree(r.full_name, sha)
    wanted = ctx.params["tree_sha"]
    if wanted not in r.trees:
        commit = ctx.world.resolve_ref(r.full_name, wanted)
        if commit is None:
            raise not_found()
        wanted = ctx.world.root_tree(r.full_name, commit)
    recursive = ctx.q("recursive") not in (None, "", "0", "false")
    return Reply(200, ctx.render.tree(r, wanted, recursive))


@route("GET", "/repos/{owner}/{repo}/git/blobs/{file_sha}")
def get_blob(ctx: Ctx) -> Reply:
    r = ctx.repo()
    if ctx.params["file_sha"] not in r.blobs:
        raise not_found()
    return Reply(200, ctx.render.blob(r, ctx.params["file_sha"]))


@route("GET", "/repos/{owner}/{repo}/commits/{ref}")
def get_commit(ctx: Ctx) -> Reply:
    r = ctx.repo()
    sha = commit_sha(ctx, ctx.params["ref"], status=422)
    return Reply(200, ctx.render.commit(r, r.commits[sha], with_files=True))
