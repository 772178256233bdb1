"""4. Burst coalescing: 30 events for one PR within 2 s; how many evaluations ran.

The PR is opened with a body that fails `done-when`, evaluated, then hit with 30
deliveries in 2 s (edits, labels, check_suite.completed). Edits alternate between
two failing bodies; the 28th event is the edit that fixes the body, so the final
check run must be `success`. The double's PR follows every edit (as GitHub's
would). Counted: "evaluated:" log lines and check-run writes at the double.
Baseline (same run): the POST→completed time of one lone event.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from bench.common import (
    Sender,
    World,
    check_suite_completed,
    table,
    wait_for,
    write_result,
)
from tests.e2e_rig import GOOD_BODY

EVENTS = 30
SPREAD = 2.0

BAD_BODY = """## Summary
- stop the nightly export from double-counting refunded orders (draft {n})

## Testing
- ✅ `pytest -q`

------
https://chatgpt.com/codex/tasks/task_e_{task}
"""


def _ts(i: int) -> str:
    return f"2030-01-01T00:{i // 60:02d}:{i % 60:02d}Z"


def run() -> dict[str, Any]:
    world = World()
    try:
        with world.deployment(1, 1, WEB_CONCURRENCY="1") as dep:
            sender = Sender(dep.ports[0])
            task = "0123456789abcdef0123456789abcdef"
            opened = world.prs.open(body=BAD_BODY.format(n=0, task=task))
            repo = opened["repository"]["full_name"]
            pr = opened["pull_request"]
            sha, number = pr["head"]["sha"], pr["number"]
            # warm-up and baseline: one lone event, POST → completed check run
            t0 = time.perf_counter()
            sender.post("pull_request", opened)
            run0 = wait_for(
                lambda: next((r for r in world.double.check_runs(repo, sha, "codex-guard")
                              if r.status == "completed"), None), 60, "first check",
                poll=0.01)  # fmt: skip
            lone = time.perf_counter() - t0
            first_conclusion = run0.conclusion
            wait_for(lambda: len(dep.evaluated()) >= 1, 30, "first evaluation")
            time.sleep(1.0)
            world.double.reset_requests()
            before = len(dep.evaluated())

            events: list[tuple[str, dict[str, Any]]] = []
            labels: list[dict[str, Any]] = []
            for i in range(1, EVENTS + 1):
                kind = i % 3
                if i == EVENTS - 2:  # the fixing edit
                    p = copy.deepcopy(opened)
                    p["action"] = "edited"
                    p["pull_request"]["body"] = GOOD_BODY.format(task=task)
                    events.append(("pull_request", p))
                elif kind == 0 and i < EVENTS - 2:
                    p = copy.deepcopy(opened)
                    p["action"] = "edited"
                    p["pull_request"]["body"] = BAD_BODY.format(n=i, task=task)
                    events.append(("pull_request", p))
                elif kind == 1:
                    p = copy.deepcopy(opened)
                    name = f"bench-{i}"
                    p["action"] = "labeled" if i % 2 else "unlabeled"
                    if p["action"] == "labeled":
                        labels.append({"id": 900 + i, "node_id": f"LB{i}", "url": "",
                                       "name": name, "color": "ededed", "default": False,
                                       "description": None})  # fmt: skip
                    elif labels:
                        labels.pop(0)
                    p["label"] = {
                        "id": 900 + i,
                        "node_id": f"LB{i}",
                        "url": "",
                        "name": name,
                        "color": "ededed",
                        "default": False,
                        "description": None,
                    }
                    events.append(("pull_request", p))
                else:
                    events.append(
                        ("check_suite", check_suite_completed(world.examples, opened, sha))
                    )
            # Every pull_request event carries the PR as it is after it (body, labels, time).
            body = BAD_BODY.format(n=0, task=task)
            for i, (event, p) in enumerate(events, start=1):
                if event == "pull_request":
                    if p["action"] == "edited":
                        body = p["pull_request"]["body"]
                    p["pull_request"]["body"] = body
                    p["pull_request"]["labels"] = list(labels)
                    p["pull_request"]["updated_at"] = _ts(i)
            final_body = body
            started = time.perf_counter()
            for i, (event, p) in enumerate(events):
                due = started + i * SPREAD / EVENTS
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                if event == "pull_request":
                    world.double.seed_from_event(p)
                sender.post(event, p)
            sent_in = time.perf_counter() - started

            def quiet() -> bool:
                n = len(dep.evaluated())
                time.sleep(1.5)
                return len(dep.evaluated()) == n and world.redis.queue_length() == 0

            wait_for(quiet, 90, "the worker to go quiet", poll=0)
            evaluations = len(dep.evaluated()) - before
            writes = world.double.calls("POST", r"/check-runs$") + world.double.calls(
                "PATCH", r"/check-runs/\d+$"
            )
            last_write = max((r for r in writes), key=lambda r: id(r), default=None)
            runs = world.double.check_runs(repo, sha, "codex-guard")
            final = runs[-1]
            settled = time.perf_counter() - started
            world.double.assert_clean()
    finally:
        world.close()
    pull_body_ok = "Done when" in final_body
    result = {
        "events": EVENTS,
        "sent_in_s": sent_in,
        "evaluations": evaluations,
        "check_run_writes": len(writes),
        "first_conclusion": first_conclusion,
        "final_conclusion": final.conclusion,
        "final_status": final.status,
        "final_title": (final.output or {}).get("title"),
        "final_reflects_last_state": pull_body_ok and final.conclusion == "success",
        "lone_event_s": lone,
        "burst_settled_s": settled,
        "last_write": last_write is not None,
        "pr": f"{repo}#{number}",
    }
    rows = [
        ["events sent", f"{EVENTS} in {sent_in:.2f} s", "", ""],
        ["evaluations (worker \"evaluated:\" lines)", str(evaluations), "≤ 3",
         "met" if evaluations <= 3 else f"missed ({evaluations / 3:.1f}x)"],
        ["check-run writes (POST/PATCH)", str(len(writes)), "", ""],
        ["final check run", f"{final.status}/{final.conclusion} “{result['final_title']}”",
         "success (last edit fixed the body)",
         "met" if result["final_reflects_last_state"] else "missed"],
        ["time to settle after the first event", f"{settled:.1f} s "
         f"({settled / lone:.1f}x a lone event's {lone * 1000:.0f} ms)", "", ""],
    ]  # fmt: skip
    md = table(["measure", "value", "target", "verdict"], rows)
    md += (
        "\n\nThe receiver coalesces evaluations of one PR within `COALESCE_SECONDS` "
        "(default 1 s; `bot/jobs/coalesce.py`)."
    )
    write_result("burst", result, md)
    return result


if __name__ == "__main__":
    run()
