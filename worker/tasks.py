"""Celery tasks: thin wrappers that turn GitHub trouble into the right retry.

Transient failures (5xx after PyGithub's own retries, timeouts, Redis hiccups)
retry with exponential backoff and jitter a bounded number of times, then the
check run says the evaluation could not finish. Permanent ones (404, a removed
installation) end the job with one log line.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

import redis
import requests
from celery import Task
from celery.exceptions import Retry
from github import BadCredentialsException, GithubException, RateLimitExceededException

from bot.core.backoff import backoff
from bot.github.gateway import NotFound, now_iso
from bot.github.pacing import WritesDeferred
from bot.github.tokens import InstallationGone
from bot.jobs import pipeline
from bot.jobs.coalesce import Coalescer
from bot.runtime.logs import log_context
from bot.runtime.settings import DEFAULT_WINDOW_SECONDS, window_from_env
from worker.celery_app import celery_app

log = logging.getLogger("codex_guard.worker")

MAX_RETRIES = 4
_services: pipeline.Services | None = None


def services() -> pipeline.Services:
    global _services
    if _services is None:
        from bot.runtime.settings import load_settings

        _services = pipeline.Services.from_settings(load_settings())
    return _services


def _rate_limit_wait(exc: GithubException) -> float:
    headers = exc.headers or {}
    after = headers.get("Retry-After") or headers.get("retry-after")
    if after and str(after).isdigit():
        return float(after)
    reset = headers.get("X-RateLimit-Reset") or headers.get("x-ratelimit-reset")
    if reset and str(reset).isdigit():
        return max(1.0, float(reset) - time.time() + 1)
    return 60.0


class GuardTask(Task):
    """Shared failure handling for every codex-guard task."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True

    def run_guarded(self, kwargs: dict[str, Any], fn: Any) -> Any:
        svc = services()
        context = {
            "delivery": kwargs.get("delivery"),
            "installation": kwargs.get("installation_id"),
            "repo": kwargs.get("repo"),
            "pr": kwargs.get("number"),
            "head_sha": kwargs.get("head_sha"),
            "task": self.name,
        }
        with log_context(**context):
            try:
                repo, installation_id = kwargs.get("repo"), kwargs.get("installation_id")
                if isinstance(repo, str) and installation_id is not None:
                    svc.store.note_installation(repo, int(installation_id))
                return fn(svc)
            except Retry:
                raise
            except NotFound as exc:
                log.info("ended: %s is gone", exc)
            except InstallationGone as exc:
                log.info("ended: %s; no retry", exc)
            except BadCredentialsException:
                svc.tokens.forget(int(kwargs["installation_id"]))
                if self.request.retries == 0:
                    raise self.retry(countdown=1) from None
                log.info("ended: the installation no longer accepts tokens")
            except WritesDeferred as exc:
                log.info("deferred: %s", exc)
                raise self.retry(countdown=exc.seconds, max_retries=MAX_RETRIES + 2) from None
            except RateLimitExceededException as exc:
                wait = _rate_limit_wait(exc)
                log.warning("rate limited; job deferred by %.0f s", wait)
                raise self.retry(countdown=wait, max_retries=MAX_RETRIES + 2) from None
            except GithubException as exc:
                if exc.status in (401, 404, 410):
                    log.info("ended: GitHub answered %s", exc.status)
                    return None
                if exc.status in (403, 429) and (exc.headers or {}).get("Retry-After"):
                    raise self.retry(countdown=_rate_limit_wait(exc)) from None
                if exc.status is not None and 400 <= exc.status < 500:
                    log.error("ended: GitHub refused a request (%s)", exc.status)
                    return None
                self._transient(svc, kwargs, f"GitHub answered {exc.status}")
            except (
                requests.RequestException,
                redis.RedisError,
                OSError,
                pipeline.StillBeingCreated,
            ) as exc:
                self._transient(svc, kwargs, type(exc).__name__)
            except Exception:
                # A bug must not leave the check stuck in progress: bounded retries,
                # then the check says the evaluation could not finish.
                log.exception("unexpected error")
                self._transient(svc, kwargs, "an internal error")
        return None

    def _transient(self, svc: pipeline.Services, kwargs: dict[str, Any], why: str) -> None:
        if self.request.retries < MAX_RETRIES:
            wait = backoff(self.request.retries)
            log.warning(
                "transient failure (%s); retry %d in %.1f s", why, self.request.retries + 1, wait
            )
            raise self.retry(countdown=wait, max_retries=MAX_RETRIES) from None
        log.error("gave up after %d retries (%s)", MAX_RETRIES, why)
        _mark_unfinished(svc, kwargs, why)


def _mark_unfinished(svc: pipeline.Services, kwargs: dict[str, Any], why: str) -> None:
    """Never leave a check stuck in progress: say it could not finish and how to re-run."""
    repo, sha = kwargs.get("repo"), kwargs.get("head_sha")
    if not repo or not sha:
        return
    try:
        gw = svc.gateway(int(kwargs["installation_id"]))
        fields: dict[str, Any] = {
            "status": "completed",
            "conclusion": "failure",
            "completed_at": now_iso(),
            "output": {
                "title": "Evaluation could not finish",
                "summary": f"codex-guard could not finish evaluating this commit ({why}). "
                "Press **Re-run** above, or comment `/codex-guard recheck` on the PR.",
            },
            "actions": [pipeline.RERUN_ACTION],
        }
        check_id, created = pipeline.create_check_once(gw, svc.store, repo, sha, **fields)
        if not created:
            gw.update_check(repo, check_id, **fields)
        # What the run showed before is gone: the next evaluation must write it again.
        svc.store.uncache(pipeline.published_key(repo, sha))
        svc.store.check_settled(repo, sha)
    except Exception:  # the API is what failed; the stuck-check sweeper will find it
        log.exception("could not mark the check run as unfinished")


def _evaluate_pull(task: GuardTask, svc: pipeline.Services, kwargs: dict[str, Any]) -> Any:
    from_payload = task.request.retries == 0 and kwargs.get("pull_request")
    result = pipeline.evaluate_pull(
        svc,
        int(kwargs["installation_id"]),
        kwargs["repo"],
        int(kwargs["number"]),
        kwargs.get("pull_request") if from_payload else None,
        force=bool(kwargs.get("force")),
        delivery=kwargs.get("delivery"),
    )
    if from_payload and kwargs.get("head_sha") and (result is None or not result.pending):
        svc.store.check_settled(kwargs["repo"], kwargs["head_sha"])
    return "ok" if result is not None else None


def _evaluate_sha(task: GuardTask, svc: pipeline.Services, kwargs: dict[str, Any]) -> Any:
    return pipeline.evaluate_sha(
        svc,
        int(kwargs["installation_id"]),
        kwargs["repo"],
        kwargs["head_sha"],
        list(kwargs.get("pull_numbers") or []),
        force=bool(kwargs.get("force")),
    )


@functools.cache
def coalesce_window() -> float:
    """The receiver's ``COALESCE_SECONDS``: a take holds off offers for that long."""
    try:
        return window_from_env()
    except ValueError:  # the web process refuses to start with it; keep the default here
        return DEFAULT_WINDOW_SECONDS


_EVALUATIONS = {"codex_guard.evaluate": _evaluate_pull, "codex_guard.evaluate_sha": _evaluate_sha}


def _run_evaluation(task: GuardTask, kwargs: dict[str, Any]) -> Any:
    """Run an evaluation job; a coalesced one first takes the newest state of its PR.

    The receiver queued the job (with a countdown) for the first event of a burst and
    stored each event's state under the job's ``coalesce`` key. On its first run the job
    takes the newest state atomically and evaluates that (the newest event's task and
    kwargs); it ends at once when another job will take the state or an earlier job already
    took it and nothing changed since. A PR snapshot some earlier job already evaluated is
    not reused: the PR is then read from GitHub (a CI event brought this job here). A retry
    does not take again; it re-runs the job's own kwargs, reading the PR from GitHub.
    """
    key = kwargs.get("coalesce")

    def run(svc: pipeline.Services) -> Any:
        name, job = task.name, kwargs
        if isinstance(key, str) and task.request.retries == 0:
            state, fresh = Coalescer(svc.redis, coalesce_window()).take_entry(key, task.request.id)
            if state is None or state.get("task") not in _EVALUATIONS:
                log.info("coalesced: a newer job evaluates %s, or one already did", key)
                return None
            name, job = state["task"], dict(state.get("kwargs") or {})
            if not fresh:
                job.pop("pull_request", None)
        context = {"delivery": job.get("delivery"), "pr": job.get("number"),
                   "head_sha": job.get("head_sha")}  # fmt: skip
        with log_context(**context):
            return _EVALUATIONS[name](task, svc, job)

    return task.run_guarded(kwargs, run)


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.evaluate")
def evaluate(self: GuardTask, **kwargs: Any) -> Any:
    return _run_evaluation(self, kwargs)


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.evaluate_sha")
def evaluate_sha(self: GuardTask, **kwargs: Any) -> Any:
    return _run_evaluation(self, kwargs)


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.command")
def command(self: GuardTask, **kwargs: Any) -> Any:
    return self.run_guarded(
        kwargs,
        lambda svc: pipeline.run_command(
            svc,
            int(kwargs["installation_id"]),
            kwargs["repo"],
            int(kwargs["number"]),
            int(kwargs["comment_id"]),
            kwargs["author"],
            kwargs["command"],
        ),
    )


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.merge_group")
def merge_group(self: GuardTask, **kwargs: Any) -> Any:
    return self.run_guarded(
        kwargs,
        lambda svc: pipeline.merge_group(
            svc, int(kwargs["installation_id"]), kwargs["repo"], kwargs["head_sha"]
        ),
    )


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.installation")
def installation(self: GuardTask, **kwargs: Any) -> Any:
    return self.run_guarded(
        kwargs,
        lambda svc: pipeline.installation_changed(
            svc,
            int(kwargs["installation_id"]),
            kwargs["action"],
            list(kwargs.get("repos") or []),
            list(kwargs.get("removed") or []),
        ),
    )


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.pr_closed")
def pr_closed(self: GuardTask, **kwargs: Any) -> Any:
    return self.run_guarded(
        kwargs,
        lambda svc: pipeline.pull_closed(
            svc, kwargs["repo"], int(kwargs["number"]), kwargs.get("head_sha") or ""
        ),
    )


@celery_app.task(bind=True, base=GuardTask, name="codex_guard.config_changed")
def config_changed(self: GuardTask, **kwargs: Any) -> Any:
    return self.run_guarded(kwargs, lambda svc: svc.store.forget_cache(f"config:{kwargs['repo']}"))


# -- scheduled sweeps (Celery beat: the Procfile's `clock` process) ---------------------


@celery_app.task(name="codex_guard.sweep_stuck_checks", ignore_result=True)
def sweep_stuck_checks() -> int:
    from bot.jobs import sweeper

    svc = services()
    return sweeper.run_locked(
        svc.redis, "stuck-checks", lambda: sweeper.sweep_stuck_checks(svc, celery_app)
    )


@celery_app.task(name="codex_guard.sweep_missed_deliveries", ignore_result=True)
def sweep_missed_deliveries() -> int:
    from bot.jobs import sweeper

    svc = services()
    return sweeper.run_locked(
        svc.redis, "missed-deliveries", lambda: sweeper.sweep_missed_deliveries(svc)
    )


@celery_app.task(name="codex_guard.sweep_unchecked_prs", ignore_result=True)
def sweep_unchecked_prs() -> int:
    from bot.jobs import sweeper

    svc = services()
    return sweeper.run_locked(
        svc.redis, "unchecked-prs", lambda: sweeper.sweep_unchecked_prs(svc, celery_app)
    )
