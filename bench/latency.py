"""7. Latency: delivery → completed check with the product's default settings (issue 14).

The Procfile's web and worker, one process each, given only what reaching the GitHub double
needs (coalescing, write pacing, concurrency: defaults). Open loop: a signed
`pull_request.opened` for a distinct Codex PR with green CI every 1/rate s from a thread
pool, so a slow answer never delays the next. Completion is the double's own stamp on the
completing check-run write, not a poll. GitHub allows an installation 80 writes a minute
(the product paces to it), so PRs are spread over installations of one repository each,
PER_INSTALLATION_PER_MINUTE each; each phase warms fresh ones first (token, config).
Baselines, same run: the bare Flask app's POST→202 at the same rate and gunicorn settings,
and the double's own server time per evaluation (what GitHub costs).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import os
import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from bench.common import (
    QUICK,
    Sender,
    World,
    _healthy,
    free_port,
    percentile,
    ratio,
    sign_headers,
    table,
    wait_for,
    write_result,
)
from bench.ingest import gunicorn_settings
from bot.ops.procfile import Process

RATE = 10.0
SECONDS = 10.0 if QUICK else 30.0
TARGET_P50 = 0.150
DRAIN = 3.0  # every offered delivery must be completed this long after the last send
LATE = 30.0  # how long stragglers are waited for, so a backlog's latencies are measured
STEPS = (12.5, 15.0, 17.5, 20.0, 25.0, 30.0, 40.0)
STEP_SECONDS = 6.0 if QUICK else 15.0
STEP_BUDGET = 90.0 if QUICK else 400.0
PER_INSTALLATION_PER_MINUTE = 40
"""Half GitHub's 80 writes/min, and under the pacer's steady 60/min after its burst of 20."""
SENDERS = 16
SAMPLE = 0.1
_CHECK_RUNS = "/repos/{owner}/{repo}/check-runs"
_CHECK_RUN = "/repos/{owner}/{repo}/check-runs/{check_run_id}"
_RUNTIME = re.compile(r"evaluate\[[^]]*\] succeeded in ([0-9.]+)s")  # Celery's, per task
_ORGS = itertools.count(1)
_TICK = os.sysconf("SC_CLK_TCK")


class Completions(list):  # type: ignore[type-arg]
    """The double's request list: each record is stamped (``done_at``) as the double appends
    it, having handled it; the first completing write of our check run per head SHA is kept."""

    def __init__(self, world: Any) -> None:
        super().__init__()
        self.world, self.at = world, dict[str, float]()

    def append(self, record: Any) -> None:
        record.done_at = time.monotonic()
        super().append(record)
        body = record.body if isinstance(record.body, dict) else {}
        if record.status >= 300 or not (body.get("status") == "completed" or "conclusion" in body):
            return
        sha = None
        if record.method == "POST" and record.template == _CHECK_RUNS:
            sha = body.get("head_sha") if body.get("name") == "codex-guard" else None
        elif record.method == "PATCH" and record.template == _CHECK_RUN:
            run = self.world.check_runs_by_id.get(int(record.path.rsplit("/", 1)[1]))
            sha = run.head_sha if run is not None and run.name == "codex-guard" else None
        if sha and sha not in self.at:
            self.at[sha] = record.done_at


class Installation:
    """A new installation with one repository, and a factory of Codex PRs in it. It stands in
    for the double when `PullRequests` seeds: each payload is moved to this installation and
    repository first, so the PR, its head and base and the installation agree."""

    def __init__(self, world: World) -> None:
        from tests.e2e_rig import PullRequests

        self._double = world.double
        ids = world.double.world.new_id
        self.installation_id, self._ids = ids(), (ids(), ids())
        self.org = f"bench-org-{next(_ORGS)}"
        self.repo = f"{self.org}/service"
        world.double.add_installation(self.installation_id, self.org, repos=[self.repo])
        self._prs = PullRequests(self, world.examples)

    def seed_from_event(self, payload: dict[str, Any]) -> Any:
        payload["installation"] = {"id": self.installation_id, "node_id": f"I_{self.org}"}
        pr = payload.get("pull_request") or {}
        for repo in [payload["repository"], *(pr[s]["repo"] for s in ("head", "base") if s in pr)]:
            repo.update(id=self._ids[0], full_name=self.repo, name="service")
            repo["owner"] = {**repo["owner"], "login": self.org, "id": self._ids[1],
                             "type": "Organization"}  # fmt: skip
        return self._double.seed_from_event(payload)

    def __getattr__(self, name: str) -> Any:  # everything else is the double's
        return getattr(self._double, name)

    def delivery(self) -> Delivery:
        payload = self._prs.open(repo=self.repo)
        body = json.dumps(payload).encode()
        pr = payload["pull_request"]
        return Delivery(pr["head"]["sha"], self.repo.lower(), pr["number"], body,
                        sign_headers("pull_request", body, str(uuid.uuid4())))  # fmt: skip


@dataclass
class Delivery:
    sha: str
    repo: str
    number: int
    body: bytes
    headers: dict[str, str]
    due: float = 0.0
    sent: float = 0.0
    answered: float = 0.0
    status: int = 0


def offer(
    port: int, deliveries: list[Delivery], rate: float, done: dict[str, float], redis: Any = None
) -> list[tuple[float, int, int]]:
    """Open loop: delivery i is posted at t0 + i/rate by a pool thread. Returns samples of
    (time, Redis queue length, offered but not completed) every SAMPLE s while sending."""
    sender = Sender(port)
    stop, samples = threading.Event(), list[tuple[float, int, int]]()

    def post(d: Delivery) -> None:
        d.sent = time.monotonic()
        try:
            d.status = sender.post_raw(d.body, d.headers)
        except (OSError, HTTPException):
            d.status = 0
        d.answered = time.monotonic()

    def sample() -> None:
        while not stop.wait(SAMPLE):
            waiting = sum(1 for d in deliveries if d.sent and d.sha not in done)
            samples.append((time.monotonic(), redis.queue_length() if redis else 0, waiting))

    (sampler := threading.Thread(target=sample, daemon=True)).start()
    t0 = time.monotonic() + 0.1
    with ThreadPoolExecutor(SENDERS) as pool:
        for i, d in enumerate(deliveries):
            d.due = t0 + i / rate
            time.sleep(max(0.0, d.due - time.monotonic()))
            pool.submit(post, d)
    stop.set()
    sampler.join(timeout=2)
    return samples


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope, per second, of (time, value) points."""
    n = len(points) or 1
    mx, my = sum(t for t, _ in points) / n, sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return sum((t - mx) * (v - my) for t, v in points) / den if den else 0.0


def _most_writes_in_a_minute(records: list[Any]) -> int:
    """The most writes one installation made within any 60 s."""
    times: dict[int, list[float]] = {}
    for r in records:
        if r.method != "GET" and r.installation_id is not None:  # not the App's JWT calls
            times.setdefault(r.installation_id, []).append(r.done_at)
    most = 0
    for ts in map(sorted, times.values()):
        most = max([most, *(bisect.bisect_right(ts, t + 60) - i for i, t in enumerate(ts))])
    return most


def _breakdown(records: list[Any], done: Completions, deliveries: list[Delivery]) -> Any:
    """Where each delivery's time went: web (POST→202), queue + job start (202 → the job's
    first API call for the PR), job (first call → completing write), of it the PR's calls."""
    by_key = {k: d for d in deliveries for k in (d.sha, f"{d.repo}#{d.number}")}
    first, api = dict[str, float](), dict[str, float]()
    for r in records:
        parts = r.path.split("/")  # "", "repos", owner, repo, ...
        if len(parts) > 5 and parts[1] == "repos" and parts[4] in ("pulls", "issues"):
            d = by_key.get(f"{parts[2]}/{parts[3]}#{parts[5]}".lower())
        else:
            sha = r.body.get("head_sha") if isinstance(r.body, dict) else None
            d = by_key.get(sha) or next((by_key[p] for p in parts if p in by_key), None)
        if d is not None:
            first[d.sha] = min(first.get(d.sha, math.inf), r.done_at - r.duration)
            api[d.sha] = api.get(d.sha, 0.0) + r.duration
    ok = [d for d in deliveries if d.sha in done.at and d.sha in first]
    spans = {"web": [d.answered - d.sent for d in ok],
             "queue": [first[d.sha] - d.answered for d in ok],
             "job": [done.at[d.sha] - first[d.sha] for d in ok],
             "job_api": [api[d.sha] for d in ok]}  # fmt: skip
    return {k: {f"p{p}_ms": percentile(v, p) * 1000 for p in (50, 95)} for k, v in spans.items()}


def _cpu_seconds(pid: int, group: bool) -> float:
    """CPU seconds (user + system) of a process, or of the live processes of its group."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat") if group else [Path(f"/proc/{pid}/stat")]:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)"
        except OSError:
            continue
        if not group or int(fields[2]) == pid:  # fields[2]: pgrp; [11], [12]: utime, stime
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def _cpu(world: World, dep: Any) -> dict[str, float]:
    return {"web": sum(_cpu_seconds(p.proc.pid, True) for _, p in dep.webs),
            "worker": sum(_cpu_seconds(p.proc.pid, True) for p in dep.workers),
            "redis": _cpu_seconds(world.redis.proc.pid, False),
            "double_and_load": sum(os.times()[:2])}  # fmt: skip


def phase(world: World, dep: Any, done: Completions, rate: float, seconds: float) -> Any:
    """Warm fresh installations, offer ``rate``/s for ``seconds``, measure."""
    count = max(1, math.ceil(rate * 60 / PER_INSTALLATION_PER_MINUTE))
    installs = [Installation(world) for _ in range(count)]
    warm = [i.delivery() for i in installs]
    offer(dep.ports[0], warm, 50.0, done.at)
    wait_for(lambda: all(d.sha in done.at for d in warm), 60, "the warm-up PRs")
    n = max(2, round(rate * seconds))
    deliveries = [installs[i % count].delivery() for i in range(n)]
    mark, cpu0, logged = len(done), _cpu(world, dep), len(dep.worker_lines())
    samples = offer(dep.ports[0], deliveries, rate, done.at, world.redis)
    deadline = time.monotonic() + LATE
    while time.monotonic() < deadline and not all(d.sha in done.at for d in deliveries):
        time.sleep(0.05)
    cpu1, records = _cpu(world, dep), list(done)[mark:]
    runtimes = [float(x[1]) for x in map(_RUNTIME.search, dep.worker_lines()[logged:]) if x]
    start, end = deliveries[0].sent, max(d.sent for d in deliveries)
    lat = [done.at[d.sha] - d.sent for d in deliveries if d.sha in done.at]
    dones = sorted(done.at[d.sha] for d in deliveries if d.sha in done.at) or [math.nan]
    last = dones[-1]
    evals, per, span = len(lat), max(1, len(lat)), last - start  # per: a divisor
    slope = _slope([(t, w) for t, _, w in samples if t >= start + 1.0])
    web = [d.answered - d.sent for d in deliveries]
    result = {
        "rate": rate, "seconds": seconds, "installations": count, "offered": n, "completed": evals,
        "completed_in_time": sum(done.at.get(d.sha, math.inf) <= end + DRAIN for d in deliveries),
        "rejected": sum(d.status != 202 for d in deliveries),
        **{f"p{p}_s": percentile(lat, p) for p in (50, 95, 99)},
        "max_s": max(lat, default=math.nan),
        "send_lag_p99_ms": percentile([d.sent - d.due for d in deliveries], 99) * 1000,
        **{f"post_202_p{p}_ms": percentile(web, p) * 1000 for p in (50, 99)},
        "evaluations_per_s": (evals - 1) / (last - dones[0]) if evals > 1 else 0.0,
        "drain_s": last - end,
        "queue_max": max((q for _, q, _ in samples), default=0),
        "waiting_max": max((w for _, _, w in samples), default=0),
        "waiting_slope_per_s": slope, "growing": slope > max(0.5, 0.05 * rate),
        "double_ms_per_eval": sum(r.duration for r in records) / per * 1000,
        "calls_per_eval": len(records) / per,
        "rate_limited": sum(r.status in (403, 429) for r in records),
        "max_writes_per_installation_60s": _most_writes_in_a_minute(records),
        "breakdown": _breakdown(records, done, deliveries),
        "task_runtime_ms": {f"p{p}_ms": percentile(runtimes, p) * 1000 for p in (50, 95)},
        "cpu_ms_per_eval": {k: (cpu1[k] - cpu0[k]) / per * 1000 for k in cpu0},
        "cores_busy": sum(cpu1[k] - cpu0[k] for k in cpu0) / span if span > 0 else 0.0,
    }  # fmt: skip
    result["sustained"] = result["completed_in_time"] == n and not result["rejected"] and not (
        result["growing"] or result["p50_s"] >= TARGET_P50)  # fmt: skip
    return result


def bare_baseline(env: dict[str, str], probe: Installation, rate: float) -> Any:
    """POST→202 of the bare Flask app: same gunicorn settings, kind of bodies, rate."""
    deliveries = [probe.delivery() for _ in range(round(rate * SECONDS))]
    settings = gunicorn_settings({**env, "PORT": str(free_port())})
    port = free_port()
    command = "gunicorn --bind 127.0.0.1:{port} --workers {workers} --threads {threads} "
    command += "--worker-class {worker_class} --timeout {timeout} 'bench.bare_app:create_app()'"
    bare = Process("bare", command.format(port=port, **settings), env)
    try:
        wait_for(lambda: _healthy(port), 30, "the bare app")
        offer(port, deliveries, rate, {})
    finally:
        bare.stop()
    lat = [d.answered - d.sent for d in deliveries if d.status == 202]
    return {"gunicorn": settings, "sent": len(deliveries), "answered_202": len(lat),
            **{f"p{p}_ms": percentile(lat, p) * 1000 for p in (50, 95, 99)}}  # fmt: skip


def measure() -> dict[str, Any]:
    world = World()
    done = Completions(world.double.world)
    world.double.requests = done  # the double appends under its own lock; clear() still works
    try:
        with world.deployment(1, 1, product_defaults=True) as dep:
            main = phase(world, dep, done, RATE, SECONDS)
            bare = bare_baseline(dep.base_env, Installation(world), RATE)
            steps, started = [main], time.monotonic()
            for rate in STEPS:  # up until a step is not sustained, within the time budget
                if not steps[-1]["sustained"] or time.monotonic() - started > STEP_BUDGET:
                    break
                steps.append(phase(world, dep, done, rate, STEP_SECONDS))
            env = sorted(k for k in dep.base_env if k not in ("PATH", "HOME"))
    finally:
        world.close()
    top = max((s["rate"] for s in steps if s["sustained"]), default=0.0)
    return {
        "main": main,
        "bare": bare,
        "steps": steps,
        "highest_sustained_rate": top,
        "env_set": env,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _step(s: dict[str, Any]) -> str:
    return (
        f"{s['rate']:g}/s {'✓' if s['sustained'] else '✗'}: p50 {_ms(s['p50_s'])}, "
        f"{s['completed_in_time']}/{s['offered']} in time, {s['evaluations_per_s']:.1f} evals/s"
        + (", backlog growing" if s["growing"] else "")
    )


def _where(b: dict[str, Any], p: str) -> str:
    web, queue, job, api = (b[k][p] for k in ("web", "queue", "job", "job_api"))
    return f"{web:.0f} / {queue:.0f} / {job:.0f} ({api:.0f}) ms"


def report(res: dict[str, Any]) -> str:
    m, bare = res["main"], res["bare"]
    base, p50, web = m["double_ms_per_eval"] / 1e3, m["p50_s"], m["post_202_p50_ms"]
    cpu = m["cpu_ms_per_eval"]
    no_backlog = m["completed_in_time"] == m["offered"] and not m["growing"]
    verdicts = ["met" if ok else "missed" for ok in (p50 < TARGET_P50, no_backlog)]
    rows = [
        ["POST → check completed, p50", _ms(p50), f"< 150 ms: {verdicts[0]}",
         f"{ratio(p50, base):.1f}x the double's time per evaluation"],
        ["p95 / p99 / max", f"{_ms(m['p95_s'])} / {_ms(m['p99_s'])} / {_ms(m['max_s'])}", "",
         f"{ratio(m['p95_s'], base):.1f}x / {ratio(m['p99_s'], base):.1f}x the double's time"],
        [f"deliveries offered / completed (within {DRAIN:g} s of the last send)",
         f"{m['offered']} / {m['completed']} ({m['completed_in_time']})",
         f"all, no backlog: {verdicts[1]}", f"{m['rejected']} not answered 202"],
        ["evaluations completed per second", f"{m['evaluations_per_s']:.1f}/s",
         f"offered {m['rate']:g}/s", f"last completed {_ms(m['drain_s'])} after the last send"],
        ["backlog (offered, not completed): max, trend; Redis queue max",
         f"{m['waiting_max']}, {m['waiting_slope_per_s']:+.2f}/s; {m['queue_max']}",
         "growing" if m["growing"] else "not growing", f"sampled every {SAMPLE:g} s"],
        ["baseline: bare Flask app, POST→202 at the same rate",
         f"p50 {bare['p50_ms']:.1f} ms, p99 {bare['p99_ms']:.1f} ms", "",
         f"codex-guard web POST→202 p50 {web:.1f} ms ({ratio(web, bare['p50_ms']):.1f}x), "
         f"p99 {m['post_202_p99_ms']:.1f} ms"],
        ["baseline: the double's server time per evaluation",
         f"{m['double_ms_per_eval']:.1f} ms, {m['calls_per_eval']:.1f} calls", "",
         "what GitHub costs"],
        ["where the time goes, p50: web / queue + job start / job (its API calls)",
         _where(m["breakdown"], "p50_ms"), "", "p95: " + _where(m["breakdown"], "p95_ms")
         + f"; Celery task runtime p50 {m['task_runtime_ms']['p50_ms']:.0f} ms, "
         f"p95 {m['task_runtime_ms']['p95_ms']:.0f} ms"],
        ["CPU per evaluation: web / worker / Redis / double + load generator",
         " / ".join(f"{cpu[k]:.0f}" for k in ("web", "worker", "redis", "double_and_load"))
         + " ms", "", f"{m['cores_busy']:.2f} of {os.cpu_count()} cores busy"],
        ["highest sustained rate", f"{res['highest_sustained_rate']:g}/s", "recorded",
         "; ".join(_step(s) for s in res["steps"])],
    ]  # fmt: skip
    md = table(["measure", "value", "target (issue 14)", "vs baseline / detail"], rows)
    return md + (
        f"\n\nProcfile web + worker, one process each, product defaults (env: "
        f"{', '.join(res['env_set'])}); {m['rate']:g} distinct Codex PRs/s with green CI for "
        f"{m['seconds']:g} s, open loop, over {m['installations']} installations of one repository "
        f"each (most writes by one in any 60 s: {m['max_writes_per_installation_60s']}; GitHub "
        f"allows 80); {m['rate_limited']} answers 403/429. Steps: {STEP_SECONDS:g} s each, fresh "
        f"installations. Completion = the double's stamp on the completing check-run write."
    )


def run() -> dict[str, Any]:
    result = measure()
    write_result("latency", result, report(result))
    return result


if __name__ == "__main__":
    run()
