"""Users, Apps and installations, and the App's own records (deliveries, rate limit)."""

from __future__ import annotations

from typing import Any

from github_double.models import Account, App, Delivery, Installation, iso
from github_double.render.base import RenderBase, node_id


class AppsRender(RenderBase):
    """Renders users, Apps, installations, deliveries and the rate limit."""

    def public_user(self, acct: Account) -> dict[str, Any]:
        out = self._skel("public-user")
        out.update(self.user(acct))
        out.update(
            name=acct.login,
            company=None,
            blog="",
            location=None,
            email=None,
            bio=None,
            twitter_username=None,
            hireable=None,
        )
        out.pop("plan", None)
        return out

    def integration(self, app: App) -> dict[str, Any]:
        out = self._skel("integration")
        for secret in ("client_secret", "webhook_secret", "pem"):
            out.pop(secret, None)
        out.update(
            id=app.id,
            slug=app.slug,
            node_id=node_id("App", app.id),
            client_id=app.client_id,
            owner=self.user(app.owner),
            name=app.name,
            description=f"{app.name} (GitHub double)",
            external_url=f"{self.web}/apps/{app.slug}",
            html_url=f"{self.web}/apps/{app.slug}",
            permissions=dict(app.permissions),
            events=list(app.events),
            installations_count=len(self.world.installations),
        )
        return out

    def installation(self, inst: Installation) -> dict[str, Any]:
        app = self.world.app
        out = self._skel("installation")
        out.update(
            id=inst.id,
            account=self._installation_account(inst.account),
            repository_selection=inst.repository_selection,
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=f"{self.web}/organizations/{inst.account.login}/settings/installations/{inst.id}",
            app_id=app.id,
            app_slug=app.slug,
            client_id=app.client_id,
            target_id=inst.account.id,
            target_type=inst.account.type,
            permissions=dict(inst.permissions),
            events=list(inst.events),
            created_at=inst.created_at,
            updated_at=inst.created_at,
            single_file_name=None,
            has_multiple_single_files=False,
            single_file_paths=[],
            suspended_by=None,
            suspended_at=inst.suspended_at,
        )
        return out

    def _installation_account(self, acct: Account) -> dict[str, Any]:
        """The account of an installation.

        `GET /app/installations` describes it as allOf(user, enterprise), so the fields only
        an enterprise has are added too; clients ignore them.
        """
        out = self.user(acct)
        out.update(name=acct.login, slug=acct.login.lower(), created_at=iso(0), updated_at=iso(0))
        return out

    def delivery(self, d: Delivery, full: bool) -> dict[str, Any]:
        out = self._skel("hook-delivery" if full else "hook-delivery-item")
        out.update(
            id=d.id,
            guid=d.guid,
            delivered_at=d.delivered_at,
            redelivery=d.redelivery,
            duration=d.duration,
            status=d.status,
            status_code=d.status_code,
            event=d.event,
            action=d.action,
            installation_id=d.installation_id,
            repository_id=d.repository_id,
            throttled_at=None,
        )
        if full:
            out["url"] = self.world.app.webhook_url
            out["request"] = {
                "headers": {
                    "X-GitHub-Delivery": d.guid,
                    "X-GitHub-Event": d.event,
                    "Content-Type": "application/json",
                    **d.request_headers,
                },
                "payload": d.payload,
            }
            out["response"] = {
                "headers": {"Content-Type": "text/plain"},
                "payload": d.response_body,
            }
        return out

    def rate_limit(self, limit: int, used: int, reset: int) -> dict[str, Any]:
        out = self._skel("rate-limit-overview")
        core = {"limit": limit, "used": used, "remaining": max(0, limit - used), "reset": reset}
        out["resources"]["core"] = dict(core)
        out["rate"] = dict(core)
        return out
