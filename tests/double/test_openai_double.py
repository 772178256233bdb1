"""The OpenAI organisation Usage and Costs double on its own, over real HTTP: the
documented page and bucket shapes, grouping, paging, the bearer check, parameter
checks, forced answers and the request record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import requests
from openai_double import (
    COSTS_PATH,
    USAGE_PATH,
    OpenAIDouble,
    completions_result,
    costs_result,
)

DAY = date(2026, 3, 8)
START = int(datetime(2026, 3, 8, tzinfo=UTC).timestamp())
END = START + 3 * 86400


@pytest.fixture
def double() -> Iterator[OpenAIDouble]:
    with OpenAIDouble() as started:
        yield started


def get(double: OpenAIDouble, path: str, key: str | None = None, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {key or double.admin_key}"}
    return requests.get(double.base_url + path, params=params, headers=headers, timeout=5)


def usage(project: str, key: str, model: str, tokens: int, user: str | None = None) -> dict:
    return completions_result(
        input_tokens=tokens,
        input_cached_tokens=tokens // 2,
        output_tokens=tokens // 10,
        num_model_requests=1,
        project_id=project,
        api_key_id=key,
        model=model,
        user_id=user,
    )


def test_a_page_of_daily_buckets_in_the_documented_shape(double) -> None:
    double.seed_usage(DAY, usage("proj_a", "key_1", "gpt-5-codex", 1000))
    answer = get(double, USAGE_PATH, start_time=START, end_time=END, group_by=["project_id"])
    assert answer.status_code == 200
    page = answer.json()
    assert set(page) == {"object", "data", "has_more", "next_page"}
    assert (page["object"], page["has_more"], page["next_page"]) == ("page", False, None)
    assert [(b["object"], b["start_time"], b["end_time"]) for b in page["data"]] == [
        ("bucket", START + i * 86400, START + (i + 1) * 86400) for i in range(3)
    ]
    [result] = page["data"][0]["results"]
    assert page["data"][1]["results"] == page["data"][2]["results"] == []
    assert result["object"] == "organization.usage.completions.result"
    assert (result["input_tokens"], result["input_cached_tokens"]) == (1000, 500)
    assert result["input_uncached_tokens"] == 500 and result["num_model_requests"] == 1
    # Only the grouped field is filled in; the others read null, as documented.
    assert (result["project_id"], result["api_key_id"], result["model"]) == ("proj_a", None, None)


def test_results_are_added_up_over_the_fields_not_grouped_by(double) -> None:
    double.seed_usage(
        DAY,
        usage("proj_a", "key_1", "gpt-5-codex", 1000, user="user_1"),
        usage("proj_a", "key_1", "gpt-5-codex", 200, user="user_2"),
        usage("proj_a", "key_2", "gpt-5-codex", 30),
    )
    page = get(
        double, USAGE_PATH, start_time=START, end_time=START + 86400,
        group_by=["project_id", "api_key_id"],
    ).json()  # fmt: skip
    results = sorted(page["data"][0]["results"], key=lambda r: r["api_key_id"])
    assert [(r["api_key_id"], r["input_tokens"], r["num_model_requests"]) for r in results] == [
        ("key_1", 1200, 2),
        ("key_2", 30, 1),
    ]
    assert all(r["user_id"] is None for r in results)


def test_costs_carry_an_amount_with_its_currency(double) -> None:
    double.seed_costs(
        DAY,
        costs_result("1.25", project_id="proj_a", api_key_id="key_1", line_item="in"),
        costs_result("0.50", project_id="proj_a", api_key_id="key_1", line_item="out"),
    )
    page = get(
        double, COSTS_PATH, start_time=START, end_time=START + 86400, group_by=["api_key_id"]
    ).json()
    [result] = page["data"][0]["results"]
    assert result["object"] == "organization.costs.result"
    assert result["amount"] == {"value": 1.75, "currency": "usd"}
    assert (result["api_key_id"], result["project_id"], result["line_item"]) == (
        "key_1",
        None,
        None,
    )


def test_pages_follow_next_page_until_has_more_is_false() -> None:
    with OpenAIDouble(page_size=2) as double:
        for offset in range(5):
            double.seed_costs(date(2026, 3, 8 + offset), costs_result(offset + 1))
        seen, params = [], {"start_time": START, "end_time": START + 5 * 86400, "limit": 31}
        while True:
            page = get(double, COSTS_PATH, **params).json()
            seen.append([b["results"][0]["amount"]["value"] for b in page["data"]])
            if not page["has_more"]:
                break
            params["page"] = page["next_page"]
    assert seen == [[1, 2], [3, 4], [5]]


def test_the_limit_bounds_a_page(double) -> None:
    page = get(double, USAGE_PATH, start_time=START, end_time=END, limit=2).json()
    assert len(page["data"]) == 2 and page["has_more"] is True
    assert page["next_page"].startswith("page_")


@pytest.mark.parametrize(
    "auth", [None, "Bearer sk-admin-wrong-key-000000", "Basic c2stYWRtaW4="], ids=str
)
def test_a_missing_or_wrong_key_is_401_with_the_error_body(double, auth) -> None:
    headers = {} if auth is None else {"Authorization": auth}
    answer = requests.get(
        double.base_url + USAGE_PATH, params={"start_time": START}, headers=headers, timeout=5
    )
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == "invalid_api_key"
    assert "wrong-key" not in error["message"]  # masked, as OpenAI does
    assert double.requests[-1].authorized is False


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "start_time"),
        ({"start_time": "soon"}, "start_time"),
        ({"start_time": START, "bucket_width": "1h"}, "bucket_width"),
        ({"start_time": START, "group_by": ["line_item"]}, "group_by"),
        ({"start_time": START, "limit": 32}, "limit"),
        ({"start_time": START, "colour": "red"}, "colour"),
        ({"start_time": START, "page": "not-a-cursor!"}, "page"),
    ],
)
def test_undocumented_parameters_are_a_400(double, params, param) -> None:
    answer = get(double, USAGE_PATH, **params)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_array_parameters_may_use_brackets(double) -> None:
    answer = get(double, COSTS_PATH, start_time=START, **{"group_by[]": ["line_item"]})
    assert answer.status_code == 200


def test_forced_429s_carry_retry_after_then_the_real_answer_returns(double) -> None:
    double.fail_next(2, status=429, retry_after=7)
    answers = [get(double, COSTS_PATH, start_time=START, end_time=END) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert [a.headers.get("retry-after") for a in answers] == ["7", "7", None]
    assert answers[0].json()["error"]["type"] == "requests"


def test_a_forced_body_is_served_as_is(double) -> None:
    double.answer_next(1, b'{"object": "page", "data": [')
    answer = get(double, USAGE_PATH, start_time=START)
    assert answer.status_code == 200 and answer.content == b'{"object": "page", "data": ['
    assert get(double, USAGE_PATH, start_time=START).json()["object"] == "page"


def test_every_request_is_recorded(double) -> None:
    get(double, USAGE_PATH, start_time=START, group_by=["model", "project_id"])
    get(double, "/v1/models")
    first, second = double.requests
    assert (first.path, first.status, first.authorized) == (USAGE_PATH, 200, True)
    assert first.query["group_by"] == ["model", "project_id"]
    assert (second.path, second.status) == ("/v1/models", 404)
    assert double.calls(USAGE_PATH) == [first]


def test_seeding_refuses_what_the_api_never_sends(double) -> None:
    with pytest.raises(ValueError, match=r"serves `organization\.costs\.result`"):
        double.seed_costs(DAY, usage("proj_a", "key_1", "m", 10))
    with pytest.raises(ValueError, match="not documented"):
        double.seed_usage(DAY, {**usage("proj_a", "key_1", "m", 10), "dollars": 1})
    with pytest.raises(ValueError, match="part of input_tokens"):
        completions_result(input_tokens=5, input_cached_tokens=9, output_tokens=0,
                           num_model_requests=1)  # fmt: skip
