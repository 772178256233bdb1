"""2. End to end: POST → completed check run, and the rate one worker process sustains.

One web and one worker process (Procfile) against the GitHub double; each delivery
is a distinct Codex PR with green CI. Phases (all bounded): a saturating flood to
measure capacity, then steady open-loop rates at 0.5x, 0.9x and 1.3x of it, with
the Redis queue length sampled. Baseline (same run): the double's own server-side
time per evaluation (sum of its request durations), i.e. what GitHub costs.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.common import (
    QUICK,
    Sender,
    World,
    percentile,
    ratio,
    table,
    write_result,
)

FLOOD = 24 if QUICK else 80
PHASE = 6.0 if QUICK else 15.0
DRAIN = 20.0


def _payloads(world: World, n: int) -> list[dict[str, Any]]:
    return [world.prs.open() for _ in range(n)]


def _sha(payload: dict[str, Any]) -> str:
    return payload["pull_request"]["head"]["sha"]


def flood(world: World, sender: Sender, watcher: Any, n: int) -> dict[str, Any]:
    payloads = _payloads(world, n)
    started = time.perf_counter()
    for p in payloads:
        sender.post("pull_request", p)
    shas = [_sha(p) for p in payloads]
    ok = watcher.wait(shas, DRAIN + n)
    last = max((watcher.completed.get(s, time.perf_counter()) for s in shas), default=started)
    seconds = last - started
    return {"n": n, "seconds": seconds, "per_s": n / seconds if seconds else 0.0, "all_done": ok}


def steady(
    world: World, sender: Sender, watcher: Any, rate: float, seconds: float
) -> dict[str, Any]:
    n = max(2, int(rate * seconds))
    payloads = _payloads(world, n)
    sent_at: dict[str, float] = {}
    queue: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            queue.append(world.redis.queue_length())
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    for i, p in enumerate(payloads):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sent_at[_sha(p)] = time.perf_counter()
        sender.post("pull_request", p)
    end_of_phase = time.perf_counter()
    queue_at_end = world.redis.queue_length()
    done_in_phase = sum(1 for s in sent_at if watcher.completed.get(s, 1e18) <= end_of_phase)
    watcher.wait(list(sent_at), DRAIN)
    stop.set()
    sampler.join(timeout=2)
    lat = [watcher.completed[s] - t for s, t in sent_at.items() if s in watcher.completed]
    half = len(queue) // 2
    first, second = queue[:half] or [0], queue[half:] or [0]
    growing = (sum(second) / len(second)) > (sum(first) / len(first)) + 1 and queue_at_end > 2
    return {
        "rate": rate,
        "sent": n,
        "completed": len(lat),
        "p50_s": percentile(lat, 50),
        "p95_s": percentile(lat, 95),
        "queue_max": max(queue or [0]),
        "queue_at_end": queue_at_end,
        "done_in_phase": done_in_phase,
        "growing": growing or len(lat) < n,
    }


def one_config(world: World, concurrency: str | None) -> dict[str, Any]:
    # Every delivery is a distinct PR, so nothing coalesces; the window (COALESCE_SECONDS,
    # default 1 s) would only add its fixed delay to each latency, so it is off here.
    env = {"WEB_CONCURRENCY": "1", "COALESCE_SECONDS": "0"}
    if concurrency:
        env["WORKER_CONCURRENCY"] = concurrency
    repo = world.prs.open()["repository"]["full_name"]
    with world.deployment(1, 1, **env) as dep, world.watcher(repo) as watcher:
        sender = Sender(dep.ports[0])
        warm = flood(world, sender, watcher, 2)  # mints the installation token
        world.double.reset_requests()
        cap = flood(world, sender, watcher, FLOOD)
        reqs = world.double.calls()
        evals = max(1, cap["n"])
        double_s = sum(r.duration for r in reqs) / evals
        calls = len(reqs) / evals
        capacity = cap["per_s"]
        phases = []
        for factor in (0.5, 0.9, 1.3):
            phases.append(steady(world, sender, watcher, max(0.5, capacity * factor), PHASE))
        sustained = max((p["rate"] for p in phases if not p["growing"]), default=0.0)
        return {
            "worker_concurrency": concurrency or "default (2)",
            "warmup": warm,
            "capacity": cap,
            "double_seconds_per_eval": double_s,
            "api_calls_per_eval": calls,
            "phases": phases,
            "sustained_rate": sustained,
        }


def run() -> dict[str, Any]:
    world = World()
    try:
        configs = [one_config(world, "1"), one_config(world, None)]
    finally:
        world.close()
    rows = []
    for c in configs:
        base = c["double_seconds_per_eval"]
        low = c["phases"][0]
        rows.append([
            str(c["worker_concurrency"]),
            f"{c['capacity']['per_s']:.1f}/s",
            f"{low['rate']:.1f}/s",
            f"{low['p50_s'] * 1000:.0f} ms ({ratio(low['p50_s'], base):.1f}x)",
            f"{low['p95_s'] * 1000:.0f} ms ({ratio(low['p95_s'], base):.1f}x)",
            f"{base * 1000:.1f} ms / {c['api_calls_per_eval']:.1f} calls",
            f"{c['sustained_rate']:.1f}/s",
            ", ".join(
                f"{p['rate']:.1f}/s: q≤{p['queue_max']}{' growing' if p['growing'] else ''}"
                for p in c["phases"]
            ),
        ])  # fmt: skip
    md = table(
        ["WORKER_CONCURRENCY", "capacity (flood)", "steady rate", "POST→completed p50 (x baseline)",
         "p95 (x baseline)", "baseline: double time per evaluation",
         "highest steady rate, queue not growing",
         "queue per phase (0.5x, 0.9x, 1.3x capacity)"],
        rows,
    )  # fmt: skip
    md += (
        f"\n\nOne web + one worker process; each delivery a distinct Codex PR with green CI; "
        f"flood of {FLOOD}, {PHASE:.0f} s per steady phase. Latencies at the 0.5x-capacity rate."
    )
    result = {"configs": configs}
    write_result("e2e", result, md)
    return result


if __name__ == "__main__":
    run()
