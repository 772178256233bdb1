"""The documented shapes of OpenAI's organisation Usage and Costs APIs, as the double serves them.

Taken from OpenAI's OpenAPI description (github.com/openai/openai-openapi, `openapi.yaml`,
read 2026-05): the paths `/organization/usage/completions` (operation `usage-completions`)
and `/organization/costs` (`usage-costs`) with their query parameters, the schemas
`UsageResponse` (`object: page`, `data`, `has_more`, `next_page`), `UsageTimeBucket`
(`object: bucket`, `start_time`, `end_time`, `results`), `UsageCompletionsResult`,
`CostsResult` and `ErrorResponse`, and the `TooManyRequests` response (`Retry-After`
in seconds). The examples in those paths' `x-oaiMeta` show the same objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

USAGE_PATH = "/v1/organization/usage/completions"
COSTS_PATH = "/v1/organization/costs"

USAGE_OBJECT = "organization.usage.completions.result"
COSTS_OBJECT = "organization.costs.result"

# Token counts of `UsageCompletionsResult`, all integers; `input_tokens`, `output_tokens`
# and `num_model_requests` are required, the rest optional.
USAGE_COUNTS = (
    "input_tokens",
    "input_cached_tokens",
    "input_cache_write_tokens",
    "input_uncached_tokens",
    "output_tokens",
    "input_text_tokens",
    "output_text_tokens",
    "input_cached_text_tokens",
    "input_audio_tokens",
    "input_cached_audio_tokens",
    "output_audio_tokens",
    "input_image_tokens",
    "input_cached_image_tokens",
    "output_image_tokens",
    "num_model_requests",
)
USAGE_GROUPS = ("project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
COSTS_GROUPS = ("project_id", "line_item", "api_key_id")


class Endpoint:
    """One endpoint's parameters as documented: groupable fields, bucket widths, limits."""

    def __init__(
        self,
        path: str,
        result_object: str,
        groups: tuple[str, ...],
        filters: tuple[str, ...],
        max_limit: int,
    ) -> None:
        self.path = path
        self.result_object = result_object
        self.groups = groups
        self.filters = filters
        self.max_limit = max_limit
        self.params = {"start_time", "end_time", "bucket_width", "group_by", "limit", "page"}
        self.params.update(filters)


ENDPOINTS = {
    USAGE_PATH: Endpoint(
        USAGE_PATH,
        USAGE_OBJECT,
        USAGE_GROUPS,
        ("project_ids", "user_ids", "api_key_ids", "models", "batch"),
        31,  # `bucket_width=1d`: default 7, max 31
    ),
    COSTS_PATH: Endpoint(
        COSTS_PATH, COSTS_OBJECT, COSTS_GROUPS, ("project_ids", "api_key_ids"), 180
    ),
}
DEFAULT_LIMIT = 7


def completions_result(
    *,
    input_tokens: int,
    output_tokens: int,
    num_model_requests: int,
    input_cached_tokens: int = 0,
    input_cache_write_tokens: int = 0,
    project_id: str | None = None,
    user_id: str | None = None,
    api_key_id: str | None = None,
    model: str | None = None,
    batch: bool | None = None,
    service_tier: str | None = None,
) -> dict[str, Any]:
    """A full `UsageCompletionsResult` (text only: the audio and image counts are 0)."""
    if min(input_tokens, output_tokens, num_model_requests, input_cached_tokens) < 0:
        raise ValueError("token counts are never negative")
    uncached = input_tokens - input_cached_tokens - input_cache_write_tokens
    if uncached < 0:
        raise ValueError("cached and cache-write tokens are part of input_tokens")
    counts = dict.fromkeys(USAGE_COUNTS, 0)
    counts.update(
        input_tokens=input_tokens,
        input_cached_tokens=input_cached_tokens,
        input_cache_write_tokens=input_cache_write_tokens,
        input_uncached_tokens=uncached,
        output_tokens=output_tokens,
        input_text_tokens=uncached,
        output_text_tokens=output_tokens,
        input_cached_text_tokens=input_cached_tokens,
        num_model_requests=num_model_requests,
    )
    groups = {
        "project_id": project_id,
        "user_id": user_id,
        "api_key_id": api_key_id,
        "model": model,
        "batch": batch,
        "service_tier": service_tier,
    }
    return {"object": USAGE_OBJECT, **counts, **groups}


def costs_result(
    value: str | int | Decimal,
    *,
    currency: str = "usd",
    project_id: str | None = None,
    api_key_id: str | None = None,
    line_item: str | None = None,
    quantity: int | None = None,
    quantity_unit: str | None = None,
) -> dict[str, Any]:
    """A full `CostsResult`; the amount is kept exact here and sent as a JSON number."""
    return {
        "object": COSTS_OBJECT,
        "amount": {"value": Decimal(value), "currency": currency},
        "line_item": line_item,
        "project_id": project_id,
        "api_key_id": api_key_id,
        "quantity": quantity,
        "quantity_unit": quantity_unit,
    }


def check_result(endpoint: Endpoint, result: Mapping[str, Any]) -> None:
    """Refuse to seed something the real API would never send."""
    if result.get("object") != endpoint.result_object:
        raise ValueError(f"{endpoint.path} serves `{endpoint.result_object}` results")
    if endpoint.path == USAGE_PATH:
        allowed = {"object", *USAGE_COUNTS, *USAGE_GROUPS}
    else:
        allowed = {"object", "amount", "quantity", "quantity_unit", *COSTS_GROUPS}
    unknown = sorted(set(result) - allowed)
    if unknown:
        raise ValueError(f"not documented for {endpoint.result_object}: {', '.join(unknown)}")


def grouped(
    endpoint: Endpoint, results: list[dict[str, Any]], group_by: list[str]
) -> list[dict[str, Any]]:
    """Results added up over the fields not in `group_by`, which read null (as documented:
    "When `group_by=project_id`, this field provides the project ID")."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for result in results:
        key = tuple(result.get(f) if f in group_by else None for f in endpoint.groups)
        into = merged.get(key)
        if into is None:
            into = {**result, **dict(zip(endpoint.groups, key, strict=True))}
            if "amount" in result:
                into["amount"] = dict(result["amount"])
            merged[key] = into
            continue
        if endpoint.path == USAGE_PATH:
            for name in USAGE_COUNTS:
                into[name] = into.get(name, 0) + result.get(name, 0)
        else:
            into["amount"]["value"] += result["amount"]["value"]
            if into.get("quantity") is not None and result.get("quantity") is not None:
                into["quantity"] += result["quantity"]
    return list(merged.values())


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict:
    """`ErrorResponse`: every field of `Error` is required (`code` and `param` nullable)."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
