"""1. Ingest: signed ~24 KB `pull_request` deliveries against the Procfile's gunicorn.

Baseline, same run, same gunicorn workers/threads/worker class: `bench/bare_app.py`,
a Flask app that answers 202 without checking or queueing anything. Max throughput
comes from wrk (closed loop, keep-alive) when it is installed, else from a Python
generator; the fixed-rate run is an open-loop Python generator (latency counted
from each request's scheduled send time, so a stall is not hidden).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import (
    QUICK,
    SECRET,
    Deployment,
    RedisProc,
    Sender,
    _healthy,
    free_port,
    key_pair,
    load_examples,
    percentile,
    ratio,
    sign_headers,
    table,
    wait_for,
    write_result,
)
from bot.ops.procfile import Process
from bot.web import signature

HERE = Path(__file__).resolve().parent
DURATION = 8 if QUICK else 20
RATE = 500
CONNECTIONS = 16
COALESCE = os.environ.get("BENCH_COALESCE_SECONDS", "")
"""Passed to the web process as ``COALESCE_SECONDS`` when set: ``0`` measures the path that
pushes one Celery message per delivery (the benchmark posts the same PR every time, so with
the default window every delivery after the first only stores the newest state). Results go
to ``ingest_coalesce<value>.json`` instead of ``ingest.json``."""


def gunicorn_settings(env: dict[str, str]) -> dict[str, Any]:
    """workers/threads/worker_class as `bot.web.gunicorn_conf` computes them for this env."""
    code = (
        "import json, bot.web.gunicorn_conf as c;"
        "print(json.dumps({'workers': c.workers, 'threads': c.threads,"
        " 'worker_class': c.worker_class, 'timeout': c.timeout}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60,
        cwd=HERE.parent, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(f"bot.web.gunicorn_conf refused the settings: {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def delivery_body() -> bytes:
    examples = load_examples()
    for payload in examples["pull_request"]:
        if payload.get("action") == "opened" and "installation" in payload:
            return json.dumps(payload).encode()
    raise LookupError("no App pull_request.opened example")


def run_wrk(port: int, body: bytes, duration: int, workdir: Path) -> dict[str, Any]:
    body_path = workdir / "body.json"
    body_path.write_bytes(body)
    out = workdir / f"wrk-{port}.json"
    env = {
        **os.environ,
        "BENCH_BODY": str(body_path),
        "BENCH_SIG": signature.sign(SECRET, body),
        "BENCH_OUT": str(out),
    }
    subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "5s",
         "-s", str(HERE / "wrk_post.lua"), f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=duration + 30, check=True,
    )  # fmt: skip
    data = json.loads(out.read_text())
    seconds = data["duration_us"] / 1e6
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors",
                                   "status_errors", "timeouts"))  # fmt: skip
    return {
        "tool": "wrk -t2 -c16",
        "requests": data["requests"],
        "seconds": seconds,
        "rps": data["requests"] / seconds,
        "p50_ms": data["p50_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
        "errors": errors,
    }


def closed_loop(port: int, body: bytes, duration: float) -> dict[str, Any]:
    """Python fallback: CONNECTIONS threads, keep-alive, as fast as answers come."""
    sender = Sender(port)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + duration
    counter = itertools.count()

    def loop() -> None:
        mine: list[float] = []
        for _ in range(1_000_000):
            if time.perf_counter() >= stop_at:
                break
            headers = sign_headers("pull_request", body, f"py-{next(counter)}-{time.time()}")
            t0 = time.perf_counter()
            status = sender.post_raw(body, headers)
            mine.append(time.perf_counter() - t0)
            if status >= 300:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    seconds = time.perf_counter() - started
    return {
        "tool": "python threads (wrk not installed)",
        "requests": len(latencies),
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "errors": errors[0],
    }


def fixed_rate(port: int, body: bytes, rate: float, duration: float) -> dict[str, Any]:
    """Open loop: request i is due at t0 + i/rate; latency is counted from when it was due."""
    total = int(rate * duration)
    sender = Sender(port)
    from_due: list[float] = []
    service: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = itertools.count()
    t0 = time.perf_counter() + 0.2
    # Signatures are computed up front so the generator's own CPU stays small.
    headers = [sign_headers("pull_request", body, f"rate-{i}-{time.time()}") for i in range(total)]

    def loop() -> None:
        while True:
            i = next(counter)
            if i >= total:
                return
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent = time.perf_counter()
            try:
                status = sender.post_raw(body, headers[i])
            except OSError:
                status = 0
            done = time.perf_counter()
            with lock:
                from_due.append(done - due)
                service.append(done - sent)
                if status >= 300 or status == 0:
                    errors[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 60)
    elapsed = time.perf_counter() - t0
    return {
        "rate": rate,
        "sent": len(from_due),
        "achieved_rps": len(from_due) / elapsed,
        "p50_ms": percentile(from_due, 50) * 1000,
        "p99_ms": percentile(from_due, 99) * 1000,
        "service_p99_ms": percentile(service, 99) * 1000,
        "errors": errors[0],
    }


def max_throughput(port: int, body: bytes, workdir: Path) -> dict[str, Any]:
    if shutil.which("wrk"):
        run_wrk(port, body, 1, workdir)  # warm-up
        return run_wrk(port, body, DURATION, workdir)
    closed_loop(port, body, 1)
    return closed_loop(port, body, DURATION)


def run() -> dict[str, Any]:
    body = delivery_body()
    private, _ = key_pair()
    redis_proc = RedisProc()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    extra = {"COALESCE_SECONDS": COALESCE} if COALESCE else {}
    dep = Deployment(redis_proc.url, "http://127.0.0.1:9/api/v3", private, **extra)
    settings = gunicorn_settings({**dep.base_env, "PORT": str(free_port())})
    results: dict[str, Any] = {
        "gunicorn": settings,
        "body_bytes": len(body),
        "coalesce_seconds": COALESCE or "default",
    }
    try:
        # Baseline: the bare app, same gunicorn settings.
        port = free_port()
        bare = Process(
            "bare",
            f"gunicorn --bind 127.0.0.1:{port} --workers {settings['workers']} "
            f"--threads {settings['threads']} --worker-class {settings['worker_class']} "
            f"--timeout {settings['timeout']} 'bench.bare_app:create_app()'",
            dep.base_env,
        )
        try:
            wait_for(lambda: _healthy(port), 30, "the bare app")
            results["bare"] = max_throughput(port, body, workdir)
            results["bare_rate"] = fixed_rate(port, body, RATE, DURATION)
        finally:
            bare.stop()
        # The product: the Procfile's web line, real Redis (no worker: jobs stay queued).
        dep.start(webs=1, workers=0)
        try:
            port = dep.ports[0]
            results["web"] = max_throughput(port, body, workdir)
            results["queued_after_max"] = redis_proc.queue_length()
            redis_proc.client.flushall()
            results["web_rate"] = fixed_rate(port, body, RATE, DURATION)
            results["queued_after_rate"] = redis_proc.queue_length()
        finally:
            dep.stop()
    finally:
        redis_proc.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    bare, web = results["bare"], results["web"]
    br, wr = results["bare_rate"], results["web_rate"]
    share = ratio(web["rps"], bare["rps"])
    results["targets"] = {
        "throughput_share": share,
        "throughput_met": share >= 0.60,
        "p99_at_500_ms": wr["p99_ms"],
        "p99_met": wr["p99_ms"] < 50 and wr["errors"] == 0,
    }
    rows = [
        ["deliveries/s (max, " + web["tool"] + ")", f"{bare['rps']:,.0f}", f"{web['rps']:,.0f}",
         f"{share:.2f}", "≥ 0.60", "met" if share >= 0.6 else "missed"],
        ["p50 latency at max, ms", f"{bare['p50_ms']:.1f}", f"{web['p50_ms']:.1f}",
         f"{ratio(web['p50_ms'], bare['p50_ms']):.2f}", "", ""],
        ["p99 latency at max, ms", f"{bare['p99_ms']:.1f}", f"{web['p99_ms']:.1f}",
         f"{ratio(web['p99_ms'], bare['p99_ms']):.2f}", "", ""],
        ["errors at max (non-2xx, socket)", str(bare["errors"]), str(web["errors"]), "", "0", ""],
        [f"achieved rate at {RATE}/s offered", f"{br['achieved_rps']:,.0f}",
         f"{wr['achieved_rps']:,.0f}", f"{ratio(wr['achieved_rps'], br['achieved_rps']):.2f}",
         "", ""],
        [f"p50 at {RATE}/s, ms", f"{br['p50_ms']:.1f}", f"{wr['p50_ms']:.1f}",
         f"{ratio(wr['p50_ms'], br['p50_ms']):.2f}", "", ""],
        [f"p99 at {RATE}/s, ms", f"{br['p99_ms']:.1f}", f"{wr['p99_ms']:.1f}",
         f"{ratio(wr['p99_ms'], br['p99_ms']):.2f}", "< 50 ms",
         "met" if results["targets"]["p99_met"] else "missed"],
        [f"errors at {RATE}/s", str(br["errors"]), str(wr["errors"]), "", "0", ""],
    ]  # fmt: skip
    md = table(["measure", "bare 202 app (baseline)", "codex-guard web", "ratio", "target",
                "verdict"], rows)  # fmt: skip
    md += (
        f"\n\ngunicorn: {settings['workers']} workers × {settings['threads']} threads "
        f"({settings['worker_class']}); body {len(body):,} bytes; {DURATION} s per phase; "
        f"jobs queued in Redis during the max run: {results['queued_after_max']:,}; "
        f"COALESCE_SECONDS: {COALESCE or 'default'}."
    )
    write_result(f"ingest_coalesce{COALESCE}" if COALESCE else "ingest", results, md)
    return results


if __name__ == "__main__":
    run()
