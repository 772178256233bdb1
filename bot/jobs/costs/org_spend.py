"""The organisation's spend as OpenAI reports it, day by day, attributed to teams.

The clock's daily job (and once after it starts) reads the last `DEFAULT_DAYS` UTC days,
today included, from the Usage and Costs APIs, maps each project and API key to a team
through `costs.openai` in the org's `.github` config, and stores one document per day.
A day is written whole, replacing what was stored for it: a re-run never counts twice,
and late corrections from OpenAI land on the next run. A run writes nothing until both
APIs have answered in full, so a failure (rate limit, bad key, a malformed answer)
keeps every figure stored before; it is logged and noted for `codex-guard costs`.

An API key's own mapping wins over its project's; spend that maps to neither counts for
no team, and a key among it is listed as unattributed (credential sprawl).
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import redis
import requests
from github import GithubException

from bot.core.config import CONFIG_PATH, ConfigError, load_config
from bot.core.config.costs import OpenAIConfig
from bot.github.gateway import NotFound
from bot.github.tokens import InstallationGone
from bot.jobs.config_source import org_config_text
from bot.jobs.costs.openai_api import OpenAIAdmin, OpenAIAuthError, OpenAIError
from bot.jobs.services import Services
from bot.jobs.store import INSTALLATIONS
from bot.present.org_spend import KeySpend, LastRun, OrgSpend, TeamSpend

log = logging.getLogger("codex_guard.costs")

PREFIX = "codex-guard:org-spend:"
DAY_PREFIX = PREFIX + "day:"
DAYS = PREFIX + "days"
LAST_RUN = PREFIX + "last-run"
DEFAULT_DAYS = 7
MAX_DAYS = 31
MAX_STORED_DAYS = 800
_VERSION = 1


class MappingUnavailable(Exception):
    """An org's `.github` config could not be read this run (not: it is invalid)."""


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def team_for(mapping: OpenAIConfig, project_id: str | None, api_key_id: str | None) -> str | None:
    if api_key_id is not None and api_key_id in mapping.api_keys:
        return mapping.api_keys[api_key_id]
    return mapping.projects.get(project_id) if project_id is not None else None


def collect(
    api: OpenAIAdmin, mapping: OpenAIConfig, start: datetime, end: datetime
) -> dict[date, dict[str, Any]]:
    """One document per day either API answered for; raises `OpenAIError`."""
    usage, costs = api.completions_usage(start, end), api.costs(start, end)
    docs: dict[date, dict[str, Any]] = {}

    def doc(day: date) -> dict[str, Any]:
        return docs.setdefault(
            day, {"v": _VERSION, "day": day.isoformat(), "used": [], "billed": []}
        )

    for day in sorted(api.days):  # a day with no results is stored too: its spend is 0
        doc(day)
    for line in usage:
        row = {k: v for k, v in asdict(line).items() if k != "day"}
        row["team"] = team_for(mapping, line.project_id, line.api_key_id)
        doc(line.day)["used"].append(row)
    for cost in costs:
        row = {k: v for k, v in asdict(cost).items() if k != "day"}
        row["amount"] = str(cost.amount)
        row["team"] = team_for(mapping, cost.project_id, cost.api_key_id)
        doc(cost.day)["billed"].append(row)
    return docs


def store_days(client: redis.Redis, docs: dict[date, dict[str, Any]], fetched_at: datetime) -> None:
    """Write each day whole in one transaction, dropping the oldest beyond `MAX_STORED_DAYS`."""
    pipe = client.pipeline(transaction=True)
    for day, doc in docs.items():
        pipe.set(
            DAY_PREFIX + day.isoformat(), json.dumps({**doc, "fetched_at": fetched_at.isoformat()})
        )
        pipe.zadd(DAYS, {day.isoformat(): _midnight(day).timestamp()})
    pipe.execute()
    excess = client.zcard(DAYS) - MAX_STORED_DAYS
    if excess > 0:
        gone = [m.decode() for m, _ in client.zpopmin(DAYS, excess)]
        client.delete(*(DAY_PREFIX + d for d in gone))


def _note_run(client: redis.Redis, ok: bool, note: str, at: datetime) -> None:
    fields = {"at": at.isoformat(), "ok": "1" if ok else "0", "note": note}
    try:
        client.hset(LAST_RUN, mapping=fields)
    except redis.RedisError:
        log.warning("org spend: could not note the run in Redis")


def run(
    client: redis.Redis,
    api: OpenAIAdmin,
    mapping: OpenAIConfig,
    *,
    days: int = DEFAULT_DAYS,
    now: datetime | None = None,
) -> int:
    """Read the last `days` UTC days into Redis; how many days were stored (0 on failure)."""
    now = now or datetime.now(UTC)
    days = max(1, min(MAX_DAYS, days))
    end = _midnight(now.astimezone(UTC).date()) + timedelta(days=1)
    start = end - timedelta(days=days)
    try:
        docs = collect(api, mapping, start, end)
    except OpenAIAuthError as exc:
        log.error("org spend not read: %s", exc)
        _note_run(client, False, str(exc), now)
        return 0
    except OpenAIError as exc:
        log.warning("org spend not read this run: %s; the figures stored before are kept", exc)
        _note_run(client, False, str(exc), now)
        return 0
    store_days(client, docs, now)
    unattributed = {
        r["api_key_id"]
        for d in docs.values()
        for r in d["billed"]
        if r["team"] is None and r["api_key_id"] is not None
    }
    note = f"stored {len(docs)} days; {len(unattributed)} API keys map to no team"
    log.info("org spend: %s", note)
    _note_run(client, True, note, now)
    return len(docs)


def org_mapping(svc: Services) -> OpenAIConfig:
    """`costs.openai` of every installed org's `.github` config; the first org (by name)
    to map an id wins. An invalid config is logged and skipped; an unreadable one raises
    `MappingUnavailable` (storing its spend as unattributed would be wrong)."""
    owners: dict[str, int] = {}
    for raw, inst in sorted(svc.redis.hgetall(INSTALLATIONS).items()):
        if svc.settings.allows(repo := raw.decode()):  # the operator's allowlist, as ever
            owners.setdefault(repo.split("/", 1)[0], int(inst))
    projects: dict[str, str] = {}
    keys: dict[str, str] = {}
    for owner, installation in sorted(owners.items()):
        try:
            text = org_config_text(svc.gateway(installation), svc.store, owner)
            config = load_config(None, text, org_source=f"`{owner}/.github:{CONFIG_PATH}`")
        except (InstallationGone, NotFound):
            continue
        except ConfigError as exc:
            log.warning(
                "org spend: %s's config is invalid (%s); its ids map to no team", owner, exc
            )
            continue
        except (GithubException, requests.RequestException, OSError) as exc:
            raise MappingUnavailable(f"{owner}/.github unreadable ({type(exc).__name__})") from None
        for key, team in config.costs.openai.projects.items():
            projects.setdefault(key, team)
        for key, team in config.costs.openai.api_keys.items():
            keys.setdefault(key, team)
    return OpenAIConfig(projects=projects, api_keys=keys)


def run_for(
    svc: Services,
    *,
    days: int = DEFAULT_DAYS,
    sleep: Callable[[float], None] = time.sleep,
    now: datetime | None = None,
) -> int:
    """The clock task's entry: the key and base URL from settings, teams from org config."""
    if not (key := svc.settings.openai_admin_key):
        return 0
    try:
        mapping = org_mapping(svc)
    except MappingUnavailable as exc:
        log.warning("org spend not read this run: %s; the figures stored before are kept", exc)
        _note_run(svc.redis, False, str(exc), datetime.now(UTC))
        return 0
    api = OpenAIAdmin(key, svc.settings.openai_api_base, sleep=sleep)
    return run(svc.redis, api, mapping, days=days, now=now)


def _parse_day(raw: bytes | None) -> dict[str, Any] | None:
    try:
        doc = json.loads(raw or b"")
        if doc.get("v") == _VERSION:
            return doc
    except (ValueError, AttributeError):
        pass
    log.warning("skipped a stored org spend day that does not parse")
    return None


def stored_days(client: redis.Redis, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The day documents overlapping [since, until), oldest first. Raises `redis.RedisError`."""
    low = repr(since.timestamp() - 86400)
    names = [m.decode() for m in client.zrangebyscore(DAYS, f"({low}", f"({until.timestamp()!r}")]
    raws = client.mget([DAY_PREFIX + n for n in names]) if names else []
    return [d for d in (_parse_day(r) for r in raws) if d is not None]


def _last_run(client: redis.Redis) -> LastRun | None:
    raw = {k.decode(): v.decode("utf-8", "replace") for k, v in client.hgetall(LAST_RUN).items()}
    try:
        return LastRun(datetime.fromisoformat(raw["at"]), raw["ok"] == "1", raw.get("note", ""))
    except (KeyError, ValueError):
        return None


_USED = ("num_model_requests", "input_tokens", "input_cached_tokens", "output_tokens")
_AS = {"num_model_requests": "requests", "input_cached_tokens": "cached_input_tokens"}


def _checked(doc: dict[str, Any]) -> tuple[date, datetime, list[tuple[Any, ...]]]:
    """A stored day as (day, fetched_at, rows of (team, key, project, currency, amount,
    counts)); raises on anything that does not parse, before a figure is added."""
    rows = []
    for row in doc["billed"]:
        amount = Decimal(row["amount"])
        rows.append(
            (row["team"], row["api_key_id"], row["project_id"], row["currency"], amount, {})
        )
    for row in doc["used"]:
        counts = {_AS.get(name, name): int(row[name]) for name in _USED}
        rows.append((row["team"], row["api_key_id"], row["project_id"], "usd", Decimal(0), counts))
    return date.fromisoformat(doc["day"]), datetime.fromisoformat(doc["fetched_at"]), rows


def summarise(docs: Iterable[dict[str, Any]], last_run: LastRun | None = None) -> OrgSpend:
    """Add the days up: dollars (USD) per team and per unattributed key, tokens beside."""
    teams: dict[str | None, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    keys: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(int))
    projects: dict[str, set[str]] = defaultdict(set)
    others: set[str] = set()
    days, fetched = set(), []
    for doc in docs:
        try:
            day, at, rows = _checked(doc)
        except (KeyError, TypeError, ValueError, InvalidOperation):
            log.warning("skipped a stored org spend day that does not parse")
            continue
        days.add(day)
        fetched.append(at)
        for team, key, project, currency, amount, counts in rows:
            if currency != "usd":
                others.add(currency)
                continue
            targets = [teams[team]]
            if team is None and key is not None:
                targets.append(keys[key])
                if project:
                    projects[key].add(project)
            for target in targets:
                target["billed"] += amount
                for name, value in counts.items():
                    target[name] += value
    return OrgSpend(
        days=tuple(sorted(days)),
        teams=tuple(TeamSpend(team=t, **_figures(v)) for t, v in teams.items()),
        unattributed_keys=tuple(
            sorted(
                (
                    KeySpend(api_key_id=k, projects=tuple(sorted(projects[k])), **_figures(v))
                    for k, v in keys.items()
                ),
                key=lambda k: (-k.billed, k.api_key_id),
            )
        ),
        other_currencies=tuple(sorted(others)),
        fetched_at=max(fetched) if fetched else None,
        last_run=last_run,
    )


def _figures(sums: dict[str, Any]) -> dict[str, Any]:
    return {**sums, "billed": Decimal(sums["billed"])}


def org_spend(client: redis.Redis, since: datetime, until: datetime) -> OrgSpend:
    """The stored days overlapping [since, until), added up. Raises `redis.RedisError`."""
    return summarise(stored_days(client, since, until), _last_run(client))
