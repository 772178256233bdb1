"""CI evidence beyond GitHub's first page (review finding).

`GET /commits/{sha}/status` returns 30 statuses a page by default and
`GET /commits/{sha}/check-runs` at most 100: a failure past the first page must
still reach the `tests` practice, or a red commit passes.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from bot.github.gateway import Gateway

REPO = "octo-org/app"
SHA = "b" * 40
APP_ID = 424242


def run(i: int, conclusion: str = "success") -> dict[str, Any]:
    return {
        "id": i,
        "name": f"job-{i}",
        "status": "completed",
        "conclusion": conclusion,
        "app": {"id": 1, "slug": "ci"},
    }


def status(i: int, state: str = "success") -> dict[str, Any]:
    return {"context": f"ci/{i}", "state": state, "target_url": None}


class PagedGitHub:
    """Answers the two list endpoints the way GitHub pages them."""

    def __init__(self, runs: list[dict[str, Any]], statuses: list[dict[str, Any]]) -> None:
        self.runs, self.statuses = runs, statuses
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        params = dict(params or {})
        self.calls.append((path, params))
        per_page = min(int(params.get("per_page", 30)), 100)
        page = int(params.get("page", 1))
        window = slice((page - 1) * per_page, page * per_page)
        if path.endswith("/check-runs"):
            return {"total_count": len(self.runs), "check_runs": self.runs[window]}
        if path.endswith("/status"):
            return {
                "state": "failure",
                "total_count": len(self.statuses),
                "statuses": self.statuses[window],
            }
        raise AssertionError(path)


def gateway(github: PagedGitHub) -> Gateway:
    gw = Gateway.__new__(Gateway)
    gw._settings = SimpleNamespace(app_id=APP_ID)  # type: ignore[assignment]
    gw._get = github.get  # type: ignore[method-assign]
    return gw


def test_a_failing_status_past_the_first_page_is_seen():
    statuses = [status(i) for i in range(40)] + [status(40, "failure")]
    evidence, _ = gateway(PagedGitHub([], statuses)).ci_evidence(REPO, SHA)
    assert len([e for e in evidence if e.source == "status"]) == 41
    assert any(e.name == "ci/40" and e.conclusion == "failure" for e in evidence)


def test_a_failing_check_run_past_the_first_page_is_seen():
    runs = [run(i) for i in range(1, 121)] + [run(121, "failure")]
    evidence, _ = gateway(PagedGitHub(runs, [])).ci_evidence(REPO, SHA)
    assert len([e for e in evidence if e.source == "check_run"]) == 121
    assert any(e.name == "job-121" and e.conclusion == "failure" for e in evidence)


def test_one_page_is_one_call_and_paging_is_bounded():
    small = PagedGitHub([run(1)], [status(1)])
    gateway(small).ci_evidence(REPO, SHA)
    assert len(small.calls) == 2

    huge = PagedGitHub([run(i) for i in range(1, 5001)], [status(i) for i in range(5000)])
    gateway(huge).ci_evidence(REPO, SHA)
    assert len(huge.calls) <= 20
