"""App-level endpoints: the App, installations, tokens, webhook deliveries, manifests."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from github_double.endpoints.base import (
    ApiError,
    Ctx,
    Reply,
    not_found,
    path_int,
    route,
    unprocessable,
)
from github_double.models import iso

# -- app endpoints ------------------------------------------------------------------------------


@route("GET", "/app")
def get_app(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.integration(ctx.world.app))


@route("GET", "/app/installations")
def list_installations(ctx: Ctx) -> Reply:
    items = [ctx.render.installation(i) for i in ctx.world.installations.values()]
    return Reply(200, ctx.paginate(items))


def _installation(ctx: Ctx) -> Any:
    inst = ctx.world.installations.get(path_int(ctx, "installation_id"))
    if inst is None:
        raise not_found()
    return inst


@route("GET", "/app/installations/{installation_id}")
def get_installation(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.installation(_installation(ctx)))


@route("DELETE", "/app/installations/{installation_id}")
def delete_installation(ctx: Ctx) -> Reply:
    inst = _installation(ctx)
    del ctx.world.installations[inst.id]
    return Reply(204)


_LEVEL = {"read": 1, "write": 2, "admin": 3}


@route("POST", "/app/installations/{installation_id}/access_tokens")
def create_token(ctx: Ctx) -> Reply:
    inst = _installation(ctx)
    if inst.suspended_at:
        raise ApiError(403, "This installation has been suspended")
    wanted = ctx.arg("permissions") or {}
    for name, level in wanted.items():
        granted = inst.permissions.get(name)
        if granted is None or _LEVEL.get(level, 9) > _LEVEL.get(granted, 0):
            raise unprocessable(
                "The permissions requested are not granted to this installation.",
                "permissions",
                "Installation",
            )
    names = ctx.arg("repositories")
    ids = ctx.arg("repository_ids")
    repos: list[str] | None = None
    if names is not None or ids is not None:
        repos = []
        installed = [ctx.world.repo(full) for full in inst.repos]
        for want in names or []:
            hit = next((r for r in installed if r.name.lower() == str(want).lower()), None)
            if hit is None:
                raise unprocessable(
                    f"There is at least one repository that does not exist or is "
                    f"not accessible to the parent installation: {want}"
                )
            repos.append(hit.full_name)
        for want_id in ids or []:
            hit = next((r for r in installed if r.id == want_id), None)
            if hit is None:
                raise unprocessable(
                    "There is at least one repository that does not exist or is "
                    "not accessible to the parent installation."
                )
            repos.append(hit.full_name)
    token = ctx.world.issue_token(inst.id, wanted or None, repos)
    body: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected" if repos is not None else inst.repository_selection,
    }
    if repos is not None:
        body["repositories"] = [ctx.render.repo(ctx.world.repo(full)) for full in repos]
    return Reply(201, body)


@route("GET", "/app/hook/config")
def get_hook_config(ctx: Ctx) -> Reply:
    return Reply(200, dict(ctx.world.hook_config))


@route("PATCH", "/app/hook/config")
def update_hook_config(ctx: Ctx) -> Reply:
    for key in ("url", "content_type", "secret", "insecure_ssl"):
        if ctx.arg(key) is not None:
            ctx.world.hook_config[key] = ctx.arg(key)
    shown = {k: v for k, v in ctx.world.hook_config.items() if k != "secret"}
    if "secret" in ctx.world.hook_config:
        shown["secret"] = "*" * 8  # GitHub masks the secret
    return Reply(200, shown)


@route("GET", "/app/hook/deliveries")
def list_deliveries(ctx: Ctx) -> Reply:
    items = sorted(ctx.world.deliveries.values(), key=lambda d: d.id, reverse=True)
    wanted = ctx.q("status")
    if wanted:
        items = [d for d in items if (d.status == "OK") == (wanted == "success")]
    cursor = ctx.q("cursor")
    if cursor:
        items = [d for d in items if d.id < int(cursor)] if cursor.isdigit() else []
    per_page = max(1, min(100, ctx.q_int("per_page", 30)))
    page, rest = items[:per_page], items[per_page:]
    if rest:
        query = {k: v[-1] for k, v in ctx.query.items() if k != "cursor"}
        query["cursor"] = str(page[-1].id)
        ctx.headers["Link"] = f'<{ctx.api_base}{ctx.api_path}?{urlencode(query)}>; rel="next"'
    return Reply(200, [ctx.render.delivery(d, full=False) for d in page])


def _delivery(ctx: Ctx) -> Any:
    found = ctx.world.deliveries.get(path_int(ctx, "delivery_id"))
    if found is None:
        raise not_found()
    return found


@route("GET", "/app/hook/deliveries/{delivery_id}")
def get_delivery(ctx: Ctx) -> Reply:
    return Reply(200, ctx.render.delivery(_delivery(ctx), full=True))


@route("POST", "/app/hook/deliveries/{delivery_id}/attempts")
def redeliver(ctx: Ctx) -> Reply:
    original = _delivery(ctx)
    ctx.world.redeliveries.append(original.id)
    again = ctx.world.add_delivery(
        original.event,
        original.action,
        installation_id=original.installation_id,
        repository_id=original.repository_id,
        payload=original.payload,
        guid=original.guid,
    )
    again.redelivery = True
    return Reply(202, {})


@route("POST", "/app-manifests/{code}/conversions")
def convert_manifest(ctx: Ctx) -> Reply:
    record = ctx.world.manifests.pop(ctx.params["code"], None)
    if record is None:
        raise not_found()
    body = ctx.render.integration(ctx.world.app)
    body.update(record)
    body["node_id"] = body.get("node_id") or "MDM6QXBw"
    return Reply(201, body)


@route("GET", "/rate_limit")
def rate_limit(ctx: Ctx) -> Reply:
    limit = ctx.world.rate_limit
    start, used = ctx.world.rate_usage.get(ctx.bucket, (time.time(), 0))
    return Reply(200, ctx.render.rate_limit(limit, used, int(start + 3600)))


@route("GET", "/installation/repositories")
def installation_repos(ctx: Ctx) -> Reply:
    token = ctx.caller.token
    assert token is not None
    inst = ctx.world.installations[token.installation_id]
    names = token.repositories if token.repositories is not None else inst.repos
    repos = [ctx.render.repo(ctx.world.repo(n)) for n in names]
    return Reply(
        200,
        {
            "total_count": len(repos),
            "repository_selection": inst.repository_selection,
            "repositories": ctx.paginate(repos),
        },
    )


@route("GET", "/users/{username}")
def get_user(ctx: Ctx) -> Reply:
    acct = ctx.world.users.get(ctx.params["username"].lower())
    if acct is None:
        raise not_found()
    return Reply(200, ctx.render.public_user(acct))


@route("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}")
def team_membership(ctx: Ctx) -> Reply:
    key = (ctx.params["org"].lower(), ctx.params["team_slug"].lower())
    role = ctx.world.team_members.get(key, {}).get(ctx.params["username"].lower())
    if role is None:
        raise not_found()
    url = f"{ctx.api_base}{ctx.api_path}"
    return Reply(200, {"url": url, "role": role, "state": "active"})
