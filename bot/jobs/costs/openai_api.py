"""A small client for OpenAI's organisation Usage and Costs APIs, read with an Admin key.

Shapes as OpenAI documents them (openai/openai-openapi, `UsageResponse`,
`UsageTimeBucket`, `UsageCompletionsResult`, `CostsResult`): a `page` of daily `bucket`s,
each with `results`, followed with `page=<next_page>` while `has_more`.

Every failure is one `OpenAIError` subclass whose message is safe to log: the key only
ever travels in the Authorization header, and text OpenAI sends back is scrubbed of it.
A 429 waits as long as `retry-after` says, a bounded number of times within a bounded
total, then gives up for this run (the next run tries again).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import requests

USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"
USAGE_GROUPS = ("project_id", "api_key_id", "model")
COSTS_GROUPS = ("project_id", "line_item", "api_key_id")
MAX_PAGES = 100
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_COUNT = 10**15  # more tokens or requests than this in a day is not a real figure
MAX_ID_CHARS = 200
MAX_AMOUNT = Decimal(10**12)
SETTING = "OPENAI_ADMIN_KEY"
_COUNTS = ("input_tokens", "input_cached_tokens", "output_tokens", "num_model_requests")
_RESULT_OBJECTS = {
    USAGE_PATH: "organization.usage.completions.result",
    COSTS_PATH: "organization.costs.result",
}


class OpenAIError(Exception):
    """OpenAI could not give the figures this run; ``str()`` is one loggable line."""


class OpenAIAuthError(OpenAIError):
    """401 or 403: the key is wrong, revoked, or not an organisation Admin key."""


class OpenAIRateLimited(OpenAIError):
    """Still 429 after the retries this run allows."""


class OpenAIBadResponse(OpenAIError):
    """An answer that is not the documented shape (nothing of it is stored)."""


class OpenAIUnavailable(OpenAIError):
    """Unreachable, timing out or answering 5xx after the retries this run allows."""


@dataclass(frozen=True)
class UsageLine:
    """One `organization.usage.completions.result` of one UTC day."""

    day: date
    project_id: str | None
    api_key_id: str | None
    model: str | None
    input_tokens: int
    input_cached_tokens: int
    output_tokens: int
    num_model_requests: int


@dataclass(frozen=True)
class CostLine:
    """One `organization.costs.result` of one UTC day, its amount exact."""

    day: date
    project_id: str | None
    api_key_id: str | None
    line_item: str | None
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class RetryPolicy:
    """`max_wait`: a `retry-after` longer than this ends the run at once (waiting is the
    next run's job); `total_wait`: all waits of one run, inside the task's time limit."""

    attempts: int = 4
    max_wait: float = 30.0
    total_wait: float = 90.0


class OpenAIAdmin:
    """The two organisation endpoints, paged and retried. One instance per run."""

    def __init__(
        self,
        key: str,
        base_url: str,
        *,
        timeout: float = 20.0,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self._key = key
        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.timeout = timeout
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._session = session or requests.Session()
        self.waited = 0.0
        self.days: set[date] = set()  # every day a bucket came back for, empty or not

    def __repr__(self) -> str:  # never the key
        return f"OpenAIAdmin({self.base_url!r})"

    def completions_usage(self, start: datetime, end: datetime) -> list[UsageLine]:
        return [
            UsageLine(day, *(_id(r, k) for k in USAGE_GROUPS), *(_count(r, k) for k in _COUNTS))
            for day, r in self._results(USAGE_PATH, USAGE_GROUPS, start, end, 31)
        ]

    def costs(self, start: datetime, end: datetime) -> list[CostLine]:
        return [
            CostLine(
                day,
                _id(r, "project_id"),
                _id(r, "api_key_id"),
                _id(r, "line_item"),
                *_amount(r.get("amount")),
            )
            for day, r in self._results(COSTS_PATH, COSTS_GROUPS, start, end, 180)
        ]

    def _results(
        self, path: str, groups: tuple[str, ...], start: datetime, end: datetime, limit: int
    ) -> Iterator[tuple[date, dict[str, Any]]]:
        days = max(1, round((end - start).total_seconds() / 86400))
        params: dict[str, Any] = {
            "start_time": int(start.timestamp()),
            "end_time": int(end.timestamp()),
            "bucket_width": "1d",
            "group_by": list(groups),
            "limit": min(days, limit),
        }
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = self._get(path, params)
            if page.get("object") != "page" or not isinstance(page.get("data"), list):
                raise OpenAIBadResponse(f"{path}: expected a `page` with a `data` list")
            for bucket in page["data"]:
                yield from _bucket(path, bucket, self.days)
            if page.get("has_more") is not True:
                return
            cursor = page.get("next_page")
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                raise OpenAIBadResponse(f"{path}: `has_more` without a new `next_page`")
            seen.add(cursor)
            params["page"] = cursor
        raise OpenAIBadResponse(f"{path}: more than {MAX_PAGES} pages")

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._key}", "Accept": "application/json"}
        for attempt in range(1, self.policy.attempts + 1):
            try:
                response = self._session.get(
                    self.base_url + path,
                    params=params,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                )
            except requests.RequestException as exc:
                failure: OpenAIError = OpenAIUnavailable(
                    f"{path}: OpenAI could not be reached ({type(exc).__name__})"
                )
                wait = float(2 ** (attempt - 1))
            else:
                with response:
                    if response.status_code == 200:
                        return self._body(path, response)
                    failure, wait = self._failure(path, response, attempt)
            if attempt == self.policy.attempts or self.waited + wait > self.policy.total_wait:
                raise failure
            self.waited += wait
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _failure(
        self, path: str, response: requests.Response, attempt: int
    ) -> tuple[OpenAIError, float]:
        """A retryable failure and how long to wait first; raises the ones that are not."""
        status = response.status_code
        if status in (401, 403):
            raise OpenAIAuthError(
                f"{path}: OpenAI answered {status}: check {SETTING} (it must be a current "
                "organisation Admin key, not a project key)"
            )
        if status == 429:
            wait = _retry_after(response, attempt)
            if wait > self.policy.max_wait:
                raise OpenAIRateLimited(f"{path}: OpenAI asked to wait {wait:.0f} s")
            return OpenAIRateLimited(f"{path}: OpenAI rate limited {attempt} requests"), wait
        if status >= 500:
            return OpenAIUnavailable(f"{path}: OpenAI answered {status}"), float(2 ** (attempt - 1))
        raise OpenAIError(f"{path}: OpenAI answered {status}: {self._why(response)}")

    def _body(self, path: str, response: requests.Response) -> dict[str, Any]:
        chunks, size = [], 0
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise OpenAIBadResponse(f"{path}: answer larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
        try:
            data = json.loads(b"".join(chunks), parse_float=Decimal, parse_constant=_no_nan)
        except (ValueError, UnicodeDecodeError):
            raise OpenAIBadResponse(f"{path}: the answer is not JSON") from None
        if not isinstance(data, dict):
            raise OpenAIBadResponse(f"{path}: the answer is not a JSON object")
        return data

    def _why(self, response: requests.Response) -> str:
        """OpenAI's own error message, one bounded line, with the key scrubbed out."""
        try:
            message = str(json.loads(response.content[:65536])["error"]["message"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return "no error message"
        message = message.replace(self._key, "***") if self._key else message
        cleaned = " ".join("".join(c if c.isprintable() else " " for c in message).split())
        return cleaned[:200]


def _no_nan(name: str) -> Any:
    raise ValueError(f"{name} is not a number OpenAI sends")


def _retry_after(response: requests.Response, attempt: int) -> float:
    """`retry-after` in seconds (the spec's integer, a decimal tolerated); else backoff."""
    try:
        value = float((response.headers.get("retry-after") or "").strip())
    except ValueError:
        value = -1.0
    return value if 0 <= value < float("inf") else float(2 ** (attempt - 1))


def _bucket(path: str, bucket: Any, days: set[date]) -> Iterator[tuple[date, dict[str, Any]]]:
    if not isinstance(bucket, dict) or bucket.get("object") != "bucket":
        raise OpenAIBadResponse(f"{path}: expected `bucket` objects in `data`")
    start, results = bucket.get("start_time"), bucket.get("results")
    if not isinstance(start, int) or isinstance(start, bool) or not isinstance(results, list):
        raise OpenAIBadResponse(f"{path}: a bucket lacks an integer `start_time` or `results`")
    try:
        day = datetime.fromtimestamp(start, UTC).date()
    except (OverflowError, OSError, ValueError):
        raise OpenAIBadResponse(f"{path}: a bucket's `start_time` is not a time") from None
    expected = _RESULT_OBJECTS[path]
    days.add(day)
    for result in results:
        if not isinstance(result, dict) or result.get("object") != expected:
            raise OpenAIBadResponse(f"{path}: expected `{expected}` objects in `results`")
        yield day, result


def _id(result: dict[str, Any], name: str) -> str | None:
    value = result.get(name)
    if value is not None and not (
        isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and value.isprintable()
    ):
        raise OpenAIBadResponse(f"`{name}` is not a short printable string")
    return value


def _count(result: dict[str, Any], name: str) -> int:
    value = result.get(name, 0 if name == "input_cached_tokens" else None)  # optional in the spec
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNT:
        raise OpenAIBadResponse(f"`{name}` is not a count (got {type(value).__name__})")
    return value


def _amount(amount: Any) -> tuple[Decimal, str]:
    """(value, currency); a result without `amount` (the spec allows it) costs nothing."""
    if amount is None:
        return Decimal(0), "usd"
    if not isinstance(amount, dict):
        raise OpenAIBadResponse("`amount` is not an object")
    value, currency = amount.get("value"), amount.get("currency", "usd")
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise OpenAIBadResponse("`amount.value` is not a number")
    if not isinstance(currency, str) or not currency.isalpha() or len(currency) != 3:
        raise OpenAIBadResponse("`amount.currency` is not an ISO-4217 code")
    if abs(Decimal(value)) > MAX_AMOUNT:
        raise OpenAIBadResponse("`amount.value` is not a plausible amount")
    return Decimal(value), currency.lower()
