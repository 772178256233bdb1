"""Scheduled nets under the webhook path (run by Celery beat, the Procfile's `clock`).

- Stuck checks: a codex-guard check run noted as started but still `in_progress`
  after `STUCK_CHECK_SECONDS` (a worker host lost, a job dropped) is evaluated
  again; after `MAX_SWEEPS_PER_CHECK` tries it is closed as "could not finish"
  with how to re-run it, so a required check never blocks a PR forever.
- Missed deliveries: GitHub never redelivers by itself. The App's delivery log
  (`GET /app/hook/deliveries`, last 3 days) is read; failed deliveries (HTTP
  status >= 400, or 0 for no answer) that are not redeliveries themselves,
  whose GUID the receiver never queued and that were not asked for recently
  are redelivered (`POST /app/hook/deliveries/{id}/attempts`), and the ask is
  remembered in Redis.
- Unchecked PRs: a second net. Open PRs whose head commit has no codex-guard
  check run (and that did not change in the last `MISSED_PR_GRACE_SECONDS`)
  are queued for evaluation.

Every sweep takes a Redis lock, so two `clock` processes never sweep at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
import requests
from celery import Celery
from github import GithubException

from bot.core.names import EVALUATE, EVALUATE_SHA
from bot.core.routing import Job
from bot.github.gateway import NotFound, now_iso
from bot.github.tokens import InstallationGone
from bot.jobs.deliveries import DeliveryLedger
from bot.jobs.pipeline import published_key
from bot.jobs.queue import enqueue
from bot.present.check_run import RERUN_ACTION

log = logging.getLogger("codex_guard.sweeper")

REDELIVERY_WINDOW_SECONDS = 3 * 24 * 3600
MAX_DELIVERY_PAGES = 10
MAX_SWEEPS_PER_CHECK = 3
MAX_PRS_PER_SWEEP = 200
_LOCK = "codex-guard:sweep-lock:"
_TRANSIENT = (GithubException, requests.RequestException, OSError)


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value >= 0 else default


def stuck_check_seconds() -> float:
    return _seconds("STUCK_CHECK_SECONDS", 900)


def missed_pr_grace_seconds() -> float:
    return _seconds("MISSED_PR_GRACE_SECONDS", 300)


def redelivery_cooldown_seconds() -> float:
    return _seconds("REDELIVERY_COOLDOWN_SECONDS", 3600)


def run_locked(client: redis.Redis, name: str, sweep: Callable[[], int], ttl: int = 600) -> int:
    """Run ``sweep`` unless another process is running the same sweep."""
    token = secrets.token_hex(8)
    try:
        if not client.set(_LOCK + name, token, nx=True, ex=ttl):
            log.info("sweep %s skipped: another one is running", name)
            return 0
    except redis.RedisError:
        log.warning("sweep %s skipped: redis unavailable", name)
        return 0
    try:
        return sweep()
    except Exception:
        # A sweep is a net under the webhook path: the next scheduled run tries again.
        log.exception("sweep %s failed; the next run tries again", name)
        return 0
    finally:
        try:
            if client.get(_LOCK + name) == token.encode():
                client.delete(_LOCK + name)
        except redis.RedisError:
            pass


# -- stuck check runs ------------------------------------------------------------------------


def sweep_stuck_checks(svc: Any, celery: Celery, now: float | None = None) -> int:
    """Re-queue evaluations whose check run stayed in progress too long; returns how many."""
    now = time.time() if now is None else now
    store = svc.store
    store.trim_open_checks()
    requeued = 0
    for repo, sha, check_id in store.open_checks(now - stuck_check_seconds()):
        installation = store.installation_for(repo)
        if installation is None or not svc.settings.allows(repo):
            store.drop_open_check(repo, sha, check_id)
            continue
        try:
            gw = svc.gateway(installation)
            _, own = gw.ci_evidence(repo, sha)
        except (InstallationGone, NotFound):
            store.drop_open_check(repo, sha, check_id)
            continue
        except _TRANSIENT as exc:
            log.warning("stuck-check sweep: could not read %s@%s (%s)", repo, sha[:12], exc)
            continue
        if own is None or own.status == "completed":
            store.drop_open_check(repo, sha, check_id)
            continue
        swept = store.touch_open_check(repo, sha, own.id)
        if swept > MAX_SWEEPS_PER_CHECK:
            _close_unfinished(gw, repo, own.id)
            store.uncache(published_key(repo, sha))
            store.drop_open_check(repo, sha, check_id)
            log.warning(
                "check run %s on %s@%s still in progress after %d re-evaluations; "
                "closed as could-not-finish",
                own.id, repo, sha[:12], swept - 1,
            )  # fmt: skip
            continue
        job = Job(
            EVALUATE_SHA,
            {
                "installation_id": installation,
                "repo": repo,
                "head_sha": sha,
                "pull_numbers": store.prs_for_sha(repo, sha),
                "reason": "stuck-check",
                "force": True,
            },
        )
        enqueue(celery, [job])
        requeued += 1
        log.info(
            "check run %s on %s@%s in progress for too long; evaluation re-queued",
            own.id, repo, sha[:12],
        )  # fmt: skip
    return requeued


def _close_unfinished(gw: Any, repo: str, check_id: int) -> None:
    try:
        gw.update_check(
            repo,
            check_id,
            status="completed",
            conclusion="failure",
            completed_at=now_iso(),
            output={
                "title": "Evaluation could not finish",
                "summary": "codex-guard could not finish evaluating this commit (it was "
                "retried several times). Press **Re-run** above, or comment "
                "`/codex-guard recheck` on the PR.",
            },
            actions=[RERUN_ACTION],
        )
    except _TRANSIENT:
        log.exception("could not close the stuck check run %s", check_id)


# -- missed deliveries -----------------------------------------------------------------------


def _epoch(stamp: str | None) -> float:
    if not stamp:
        return 0.0
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _next_cursor(headers: dict[str, Any]) -> str | None:
    link = next((v for k, v in (headers or {}).items() if k.lower() == "link"), None)
    if not link:
        return None
    for part in str(link).split(","):
        if 'rel="next"' in part:
            url = part.split(";", 1)[0].strip().strip("<>")
            values = parse_qs(urlsplit(url).query).get("cursor")
            return values[0] if values else None
    return None


def failed_deliveries(svc: Any, now: float) -> list[dict[str, Any]]:
    """Failed original deliveries of the last 3 days whose GUID never got through."""
    cutoff = now - REDELIVERY_WINDOW_SECONDS
    ok: set[str] = set()
    failed: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    for _ in range(MAX_DELIVERY_PAGES):
        params: dict[str, Any] = {"per_page": 100}
        if cursor:
            params["cursor"] = cursor
        headers, items = svc.tokens.app_request("GET", "/app/hook/deliveries", parameters=params)
        old = False
        for item in items or []:
            if _epoch(item.get("delivered_at")) < cutoff:
                old = True
                break
            guid = str(item.get("guid") or "")
            code = int(item.get("status_code") or 0)
            if 200 <= code < 400:
                ok.add(guid)
            elif not item.get("redelivery") and guid:
                failed.setdefault(guid, item)
        cursor = _next_cursor(headers)
        if old or not cursor:
            break
    return [item for guid, item in failed.items() if guid not in ok]


def sweep_missed_deliveries(svc: Any, now: float | None = None) -> int:
    """Ask GitHub to redeliver deliveries that failed and were never queued; returns how many."""
    now = time.time() if now is None else now
    ledger = DeliveryLedger(svc.redis)
    asked = 0
    for item in failed_deliveries(svc, now):
        guid = str(item["guid"])
        if ledger.queued(guid):
            continue
        if not ledger.may_ask_redelivery(guid, cooldown=redelivery_cooldown_seconds()):
            continue
        try:
            svc.tokens.app_request("POST", f"/app/hook/deliveries/{int(item['id'])}/attempts")
        except _TRANSIENT as exc:
            ledger.forget_redelivery_ask(guid)
            log.warning("could not ask for a redelivery of %s (%s)", guid, exc)
            continue
        asked += 1
        log.info(
            "asked GitHub to redeliver %s (%s%s, answered %s)",
            guid,
            item.get("event"),
            f".{item['action']}" if item.get("action") else "",
            item.get("status_code") or "nothing",
        )
    return asked


# -- open PRs without a check run ------------------------------------------------------------


def _installations(svc: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in range(1, 11):
        _, batch = svc.tokens.app_request(
            "GET", "/app/installations", parameters={"per_page": 100, "page": page}
        )
        found.extend(batch or [])
        if len(batch or []) < 100:
            break
    return found


def sweep_unchecked_prs(svc: Any, celery: Celery, now: float | None = None) -> int:
    """Queue an evaluation of every open PR whose head has no codex-guard check run."""
    now = time.time() if now is None else now
    grace = missed_pr_grace_seconds()
    queued = 0
    for inst in _installations(svc):
        if inst.get("suspended_at"):
            continue
        installation = int(inst["id"])
        try:
            gw = svc.gateway(installation)
            repos = gw.installation_repos()
        except InstallationGone:
            continue
        except _TRANSIENT as exc:
            log.warning("unchecked-PR sweep: installation %s unreadable (%s)", installation, exc)
            continue
        for repo in repos:
            if not svc.settings.allows(repo):
                continue
            try:
                queued += _sweep_repo(svc, gw, installation, repo, now, grace, celery)
            except (NotFound, *_TRANSIENT) as exc:
                log.warning("unchecked-PR sweep: %s unreadable (%s)", repo, exc)
            if queued >= MAX_PRS_PER_SWEEP:
                return queued
    return queued


def _sweep_repo(
    svc: Any,
    gw: Any,
    installation: int,
    repo: str,
    now: float,
    grace: float,
    celery: Celery | None,
) -> int:
    queued = 0
    for pr in gw.open_pulls(repo):  # paged, bounded (300 PRs)
        sha = pr["head_sha"]
        if now - _epoch(pr.get("updated_at")) < grace:
            continue  # its own delivery is probably being handled right now
        if svc.store.check_id(repo, sha) is not None:
            continue
        try:
            _, own = gw.ci_evidence(repo, sha)
        except (NotFound, *_TRANSIENT) as exc:
            log.warning("unchecked-PR sweep: %s#%s unreadable (%s)", repo, pr["number"], exc)
            continue
        if own is not None:
            continue
        job = Job(
            EVALUATE,
            {
                "installation_id": installation,
                "repo": repo,
                "number": pr["number"],
                "head_sha": sha,
                "reason": "unchecked-sweep",
                "pull_request": pr,
            },
        )
        enqueue(celery, [job])
        queued += 1
        log.info("open PR %s#%s has no codex-guard check run; queued", repo, pr["number"])
    return queued
