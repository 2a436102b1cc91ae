"""Business events to partner webhooks: commit-to-delivery latency, with and without a dead
receiver.

Run: ``python bench/events_bench.py [--events 10000] [--rate 200] [--quick]
[--scenarios baseline,refused,hang]`` from the repository root with the project's venv.

The production topology for events on one machine: the ``worker_events`` process of the
Procfile (queue ``events``, ``--pool threads --concurrency 8``, task events on, as ``-E``
there) on PostgreSQL (a throw-away ``hub_bench_ev`` database, dropped, recreated and migrated;
``BENCH_DATABASE_URL`` overrides) and Redis (broker db 3, cache db 2, both flushed before each
scenario; ``BENCH_BROKER_URL`` / ``BENCH_REDIS_URL`` override), ``HUB_VAR_DIR`` defaulting to
``var/bench_ev``. This process plays the publishers and beat: ``--publishers`` threads (4, like
concurrent web requests) record the events with ``event_publish``, each in its own
transaction, open loop at ``--rate`` events/s (an event's clock starts when its commit
returns), and it sends ``events.sweep`` every 5 s as beat would.

Receivers are subprocesses of this script on loopback: two healthy ones (HTTP/1.1 keep-alive,
verify the Standard Webhooks signature, answer 200 with an empty body, record the first arrival
of each webhook-id) and, depending on the scenario, a dead one:

- baseline: the two healthy receivers only;
- refused: plus an endpoint on a port where nothing listens (connection refused);
- hang: plus an endpoint that accepts connections and never answers (each attempt waits for
  ``HUB_WEBHOOK_TIMEOUT_SECONDS``, 15 s).

Every endpoint subscribes to ``order.accepted`` with the default ``max_in_flight`` (4). One
warm-up event goes through first (worker booted, connections open); it is not counted.

Latency is the time from an event's commit to its first arrival at a healthy receiver (same
machine, same clock; joined on webhook-id). Broker messages are counted as task executions by
name from ``hub_tasks_total`` in the prometheus multiprocess directory (the worker's own
counter, read before and after the measured window; the worker is stopped before the second
read, so every message it took is counted). They do not include Celery's task events (-E:
task-received/started/succeeded, three pub/sub publishes per task).

Each scenario's per-event latencies are written to ``$HUB_VAR_DIR/latencies-<scenario>.csv``.
Settings pass through the environment (e.g. ``HUB_EVENTS_DOORBELL_MS``,
``HUB_WEBHOOK_TIMEOUT_SECONDS``, ``HUB_WEBHOOK_RUN_SECONDS``); the header line prints the ones
that shape the result, and the code's ``git describe --dirty``.

Goals (the events issue): p95 <= 1 s at 200 events/s to each healthy receiver, and the healthy
receivers' latency with a dead receiver within 10 % of the baseline.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENT_TYPE = "order.accepted"
LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
SCENARIOS = {
    "baseline": "2 healthy receivers",
    "refused": "2 healthy + 1 refusing connections",
    "hang": "2 healthy + 1 accepting, never answering",
}


# --- receivers (run as subprocesses of this script) ------------------------------------------


def receiver_main(mode: str, port: int, secret: str) -> None:
    """`ok`: a keep-alive HTTP receiver that records arrivals. `hang`: accept, never answer."""
    if mode == "hang":
        held: list[socket.socket] = []
        srv = socket.create_server(("127.0.0.1", port), backlog=1024)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        while True:
            conn, _ = srv.accept()
            held.append(conn)  # never read, never answered, never closed

    sys.path.insert(0, str(ROOT))
    from apps.events.signing import verify  # stdlib only: no Django in the receiver

    lock = threading.Lock()
    arrivals: dict[str, float] = {}
    stats = {"requests": 0, "duplicates": 0, "bad_signature": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            at = time.time()
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            msg_id = self.headers.get("webhook-id", "")
            good = verify(
                secret=secret,
                msg_id=msg_id,
                timestamp=int(self.headers.get("webhook-timestamp") or 0),
                body=body,
                header=self.headers.get("webhook-signature", ""),
            )
            with lock:
                stats["requests"] += 1
                if not good:
                    stats["bad_signature"] += 1
                elif msg_id in arrivals:
                    stats["duplicates"] += 1
                else:
                    arrivals[msg_id] = at
            self.send_response(200 if good else 400)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            with lock:  # "/count": cheap progress; "/": everything
                doc = json.dumps(
                    {"count": len(arrivals)}
                    if self.path == "/count"
                    else {"arrivals": arrivals, **stats}
                ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    Server(("127.0.0.1", port), Handler).serve_forever()


def start_receiver(mode: str, secret: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    from sandbox_proc import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--receiver", mode, "--port", str(port), "--secret", secret],
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{mode} receiver exited: {log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return proc, port
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{mode} receiver did not start")


def receiver_state(port: int, path: str = "/") -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as resp:
        return dict(json.loads(resp.read()))


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the hub side ------------------------------------------------------------------------------


def payload(i: int) -> dict[str, Any]:
    return {
        "channel": "bench",
        "order": {
            "external_id": str(7_000_000 + i),
            "number": f"#{100_000 + i}",
            "reference": f"bench:{7_000_000 + i}",
            "odoo_name": None,
            "state": "received",
            "po_number": "",
            "total": "149.90",
            "currency": "EUR",
            "lines": [{"sku": "SKU-001", "quantity": 1}, {"sku": "SKU-003", "quantity": 2}],
        },
    }


def publish_one(i: int) -> tuple[str, float]:
    """One event in its own transaction; (uid, wall time when the commit returned)."""
    from django.db import transaction

    from apps.events.publish import event_publish

    with transaction.atomic():
        event = event_publish(type=EVENT_TYPE, entity_key=f"order:bench:{i}", payload=payload(i))
    at = time.time()
    assert event is not None
    return event.uid, at


def publish_all(n: int, rate: float, threads: int) -> dict[str, float]:
    """Open loop: event i is due at t0 + i/rate, published by one of `threads` publishers
    (like concurrent web requests, each with its own connection; one thread cannot hold 5 ms
    per transaction when the machine is busy); returns {uid: commit time}."""
    from django.db import connection

    out: dict[str, float] = {}
    lock = threading.Lock()
    state = {"next": 0}
    t0 = time.perf_counter() + 0.1

    def publisher() -> None:
        try:
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= n:
                    return
                delay = t0 + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                uid, at = publish_one(i)
                with lock:
                    out[uid] = at
        finally:
            connection.close()

    workers = [threading.Thread(target=publisher) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    if len(out) != n:
        raise SystemExit(f"only {len(out)} of {n} events were published")
    return out


def task_counts() -> dict[str, float]:
    """From every process's file in the prometheus multiprocess directory: executions by task
    name (`hub_tasks_total`), and their run time (`hub_task_seconds`: `<task>:seconds`, and
    `<task>:>=1s` / `<task>:>=10s`, runs longer than 1 s / 10 s from the histogram buckets)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])  # type: ignore[no-untyped-call]
    counts: dict[str, float] = {}

    def add(key: str, value: float) -> None:
        counts[key] = counts.get(key, 0.0) + value

    for metric in registry.collect():
        for s in metric.samples:
            task = s.labels.get("task", "")
            if s.name == "hub_tasks_total":
                add(task, s.value)
            elif s.name == "hub_task_seconds_sum":
                add(f"{task}:seconds", s.value)
            elif s.name == "hub_task_seconds_count":
                add(f"{task}:runs", s.value)
            elif s.name == "hub_task_seconds_bucket" and s.labels["le"] in ("0.5", "5.0"):
                # cumulative buckets: runs longer than the bucket's bound = count - bucket
                add(f"{task}:le{s.labels['le']}", s.value)
    for task in [k for k in counts if ":" not in k]:
        runs = counts.get(f"{task}:runs", 0.0)
        counts[f"{task}:>=0.5s"] = runs - counts.pop(f"{task}:le0.5", 0.0)
        counts[f"{task}:>=5s"] = runs - counts.pop(f"{task}:le5.0", 0.0)
    return counts


def segments(committed: dict[str, float], arrivals: dict[int, dict[str, float]]) -> dict[str, Any]:
    """Where an event's time goes, per healthy delivery (first attempt), from the database and
    the receivers' clocks (one machine): commit -> message row (fan-out), row -> attempt start
    (waiting for a delivery run to claim it), attempt start -> arrival (HTTP)."""
    from apps.events.models import DeliveryAttempt, WebhookMessage

    created = {
        (uid, ep): at.timestamp()
        for uid, ep, at in WebhookMessage.objects.filter(endpoint_id__in=arrivals).values_list(
            "event__uid", "endpoint_id", "created_at"
        )
    }
    started = {
        (uid, ep): at.timestamp()
        for uid, ep, at in DeliveryAttempt.objects.filter(
            endpoint_id__in=arrivals, number=1
        ).values_list("message__event__uid", "endpoint_id", "started_at")
    }
    out: dict[str, list[float]] = {"fan-out": [], "wait for a run": [], "HTTP": []}
    for ep, got in arrivals.items():
        for uid, at in committed.items():
            key = (uid, ep)
            if key in created and key in started and uid in got:
                out["fan-out"].append(created[key] - at)
                out["wait for a run"].append(started[key] - created[key])
                out["HTTP"].append(got[uid] - started[key])
    return {k: (pct(sorted(v), 0.5), pct(sorted(v), 0.95)) for k, v in out.items()}


def reset_state(broker_urls: list[str]) -> None:
    from django.db import connection

    from apps.core.models import JobRun
    from apps.events.models import (
        BusinessEvent,
        DeliveryAttempt,
        EndpointSecret,
        WebhookEndpoint,
        WebhookMessage,
    )

    tables = [
        m._meta.db_table
        for m in (DeliveryAttempt, WebhookMessage, EndpointSecret, WebhookEndpoint, BusinessEvent)
    ]
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    JobRun.objects.all().delete()
    import redis

    for url in broker_urls:
        redis.Redis.from_url(url).flushdb()


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "integration_hub", "worker", "-l", LOG_LEVEL),
            *("-Q", "events", "--pool", "threads", "--concurrency", str(concurrency)),
            *("-n", f"bench-ev-{os.getpid()}@%h", "-E", "--without-gossip", "--without-mingle"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # A delivery run blocked on a hanging receiver keeps a warm shutdown waiting.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def run_scenario(
    name: str, args: argparse.Namespace, env: dict[str, str], state: Path
) -> dict[str, Any]:
    from apps.events import signing
    from apps.events.models import DeliveryAttempt, WebhookMessage
    from apps.events.services import endpoint_create

    reset_state([env["CELERY_BROKER_URL"], env["REDIS_URL"]])
    secret = signing.secret_generate()
    procs: list[subprocess.Popen[bytes]] = []
    worker: subprocess.Popen[bytes] | None = None
    stop_sweep = threading.Event()
    sweeper: threading.Thread | None = None
    result: dict[str, Any] = {"name": name, "load_before": os.getloadavg()[0]}
    try:
        healthy: dict[str, int] = {}
        for label in ("A", "B"):
            proc, port = start_receiver("ok", secret, state / f"receiver-{name}-{label}.log")
            procs.append(proc)
            healthy[label] = port
        endpoints = {}
        for label, port in healthy.items():
            endpoints[label], _ = endpoint_create(
                url=f"http://127.0.0.1:{port}/hook/{label}",
                event_types=[EVENT_TYPE],
                description=f"bench healthy {label}",
                secret=secret,
            )
        dead = None
        if name != "baseline":
            from sandbox_proc import free_port

            if name == "hang":
                proc, dead_port = start_receiver("hang", secret, state / f"receiver-{name}-C.log")
                procs.append(proc)
            else:
                dead_port = free_port()  # nothing listens: connection refused
            dead, _ = endpoint_create(
                url=f"http://127.0.0.1:{dead_port}/hook/C",
                event_types=[EVENT_TYPE],
                description=f"bench dead ({name})",
                secret=secret,
            )
        worker = start_worker(env, args.concurrency, state / f"worker-{name}.log")

        def sweep_loop() -> None:  # beat's role: events.sweep every 5 s
            from celery import current_app

            while not stop_sweep.wait(5.0):
                current_app.send_task("events.sweep")

        # Warm-up: one event all the way to both healthy receivers.
        warm_uid, _ = publish_one(-1)
        deadline = time.monotonic() + 90
        while not all(warm_uid in receiver_state(p)["arrivals"] for p in healthy.values()):
            if time.monotonic() > deadline or worker.poll() is not None:
                tail = (state / f"worker-{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"the warm-up event was not delivered within 90 s\n{tail}")
            time.sleep(0.1)
        sweeper = threading.Thread(target=sweep_loop, daemon=True)
        sweeper.start()
        before = task_counts()
        cpu_before = cpu_seconds(worker.pid), time.process_time()
        committed = publish_all(args.events, args.rate, args.publishers)
        last_commit = max(committed.values())
        first_commit = min(committed.values())
        deadline = time.monotonic() + args.drain_timeout
        want = args.events + 1  # and the warm-up event
        while time.monotonic() < deadline:
            if all(receiver_state(p, "/count")["count"] >= want for p in healthy.values()):
                break
            time.sleep(0.1)
        got = {label: receiver_state(p) for label, p in healthy.items()}
        result["load_after"] = os.getloadavg()[0]
        stop_sweep.set()
        sweeper.join()
        time.sleep(1.0)  # let the worker finish the runs in hand (counted below)
        cpu = cpu_seconds(worker.pid) - cpu_before[0], time.process_time() - cpu_before[1]
        stop_group(worker)
        after = task_counts()
        tasks = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(after) | set(before)}

        per_receiver = {}
        last_arrival = first_commit
        for label, g in got.items():
            lat = sorted(g["arrivals"][u] - at for u, at in committed.items() if u in g["arrivals"])
            if lat:
                last_arrival = max(
                    last_arrival, max(g["arrivals"][u] for u in committed if u in g["arrivals"])
                )
            per_receiver[label] = {
                "delivered": len(lat),
                "p50": pct(lat, 0.50),
                "p95": pct(lat, 0.95),
                "p99": pct(lat, 0.99),
                "max": lat[-1] if lat else float("nan"),
                "duplicates": g["duplicates"],
                "bad_signature": g["bad_signature"],
            }
        with (state / f"latencies-{name}.csv").open("w") as f:  # for a look at the timeline
            f.write("webhook_id,committed_at," + ",".join(got) + "\n")
            for u, at in sorted(committed.items(), key=lambda kv: kv[1]):
                lats = (g["arrivals"].get(u) for g in got.values())
                f.write(
                    f"{u},{at:.6f}," + ",".join("" if a is None else f"{a - at:.6f}" for a in lats)
                )
                f.write("\n")
        delivered = sum(r["delivered"] for r in per_receiver.values())
        result.update(
            events=args.events,
            publish_rate=(args.events - 1) / max(1e-9, last_commit - first_commit),
            receivers=per_receiver,
            delivered=delivered,
            throughput=delivered / max(1e-9, last_arrival - first_commit),
            drain=last_arrival - last_commit,
            tasks=tasks,
            worker_cpu_ms=1000 * cpu[0] / max(1, delivered),
            bench_cpu_ms=1000 * cpu[1] / args.events,
            segments=segments(
                committed, {endpoints[label].pk: g["arrivals"] for label, g in got.items()}
            ),
        )
        if dead is not None:
            dead.refresh_from_db()
            result["dead"] = {
                "attempts": DeliveryAttempt.objects.filter(endpoint=dead).count(),
                "pending": WebhookMessage.objects.filter(endpoint=dead, state="pending").count(),
                "running": WebhookMessage.objects.filter(endpoint=dead, state="running").count(),
                "consecutive_failures": dead.consecutive_failures,
            }
    finally:
        stop_sweep.set()
        if worker is not None:
            stop_group(worker)
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
    return result


def setup(args: argparse.Namespace) -> tuple[dict[str, str], Path, str]:
    from webhook_bench import database_url, redis_up

    state = Path(os.environ.get("HUB_VAR_DIR") or ROOT / "var" / "bench_ev").resolve()
    metrics = state / "events_bench_metrics"
    shutil.rmtree(metrics, ignore_errors=True)
    metrics.mkdir(parents=True, exist_ok=True)
    if not redis_up():
        raise SystemExit("this benchmark needs Redis on 127.0.0.1:6379 (broker and cache)")
    env = {
        **os.environ,
        "HUB_VAR_DIR": str(state),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or database_url("hub_bench_ev"),
        "CELERY_BROKER_URL": os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/3"),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HUB_FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_OUTBOUND_ALLOW_PRIVATE": "true",
        "HUB_WEBHOOK_REQUIRE_HTTPS": "false",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.conf import settings

    knobs = (
        f"doorbell {settings.HUB_EVENTS_DOORBELL_MS:g} ms, "
        f"timeout {settings.HUB_WEBHOOK_TIMEOUT_SECONDS:g} s, "
        f"breaker {settings.HUB_WEBHOOK_BREAKER_THRESHOLD} failures / "
        f"{settings.HUB_WEBHOOK_BREAKER_SECONDS:g} s"
    )
    try:
        code = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        code = ""
    return env, state, f"{knobs} · code {code or 'unknown'}"


def print_report(args: argparse.Namespace, results: list[dict[str, Any]], knobs: str) -> None:
    print(
        f"\nPostgreSQL + Redis · worker_events --pool threads --concurrency {args.concurrency} · "
        f"{os.cpu_count()} cores · {args.events} events open loop at {args.rate:g}/s · "
        f"endpoints max_in_flight 4 · {knobs}\n"
    )
    print(
        "| scenario | receiver | delivered | p50 s | p95 s | p99 s | max s "
        "| deliveries/s | tasks/event (fanout + deliver + sweep) | load before/after |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for r in results:
        t = r["tasks"]
        fan, dlv, swp = (t.get(f"events.{k}", 0.0) for k in ("fanout", "deliver", "sweep"))
        per = f"{(fan + dlv + swp) / r['events']:.2f} ({fan / r['events']:.2f} + "
        per += f"{dlv / r['events']:.2f} + {swp / r['events']:.3f})"
        for i, (label, v) in enumerate(r["receivers"].items()):
            first = i == 0
            scenario = SCENARIOS[r["name"]] if first else ""
            rate = f"{r['throughput']:.0f}" if first else ""
            load = f"{r['load_before']:.1f} / {r['load_after']:.1f}" if first else ""
            print(
                f"| {scenario} | {label} | {v['delivered']}/{r['events']} | {v['p50']:.3f} | "
                f"{v['p95']:.3f} | {v['p99']:.3f} | {v['max']:.3f} | {rate} | "
                f"{per if first else ''} | {load} |"
            )
    print()
    for r in results:
        extra = ""
        if "dead" in r:
            d = r["dead"]
            extra = (
                f"; dead endpoint: {d['attempts']} attempts, {d['pending']} pending, "
                f"{d['running']} running, {d['consecutive_failures']} consecutive failures"
            )
        dupes = sum(v["duplicates"] for v in r["receivers"].values())
        bad = sum(v["bad_signature"] for v in r["receivers"].values())
        t = r["tasks"]
        runs = ", ".join(
            f"{k} {t.get(f'events.{k}:runs', 0):.0f} runs / {t.get(f'events.{k}:seconds', 0):.1f} s"
            f" ({t.get(f'events.{k}:>=0.5s', 0):.0f} >= 0.5 s, {t.get(f'events.{k}:>=5s', 0):.0f}"
            " >= 5 s)"
            for k in ("fanout", "deliver")
        )
        segs = ", ".join(f"{k} {p50:.3f} / {p95:.3f} s" for k, (p50, p95) in r["segments"].items())
        print(
            f"- {r['name']}: published at {r['publish_rate']:.1f}/s, drained "
            f"{r['drain']:.2f} s after the last commit, {dupes} duplicates, {bad} bad signatures"
            f"{extra}\n  - segments p50 / p95: {segs}\n  - task run time: {runs}\n"
            f"  - CPU: worker {r['worker_cpu_ms']:.2f} ms per healthy delivery, this process "
            f"(publishers) {r['bench_cpu_ms']:.2f} ms per event"
        )
    base = next((r for r in results if r["name"] == "baseline"), None)
    ok = True
    for r in results:
        for v in r["receivers"].values():
            ok = ok and v["delivered"] == r["events"] and v["p95"] <= 1.0
    verdict = "met" if ok else "NOT met"
    print(f"\ngoal p95 <= 1 s at each healthy receiver, all delivered: {verdict}")
    if base is not None:
        for r in results:
            if r is base:
                continue
            for label, v in r["receivers"].items():
                b = base["receivers"][label]
                print(
                    f"- {r['name']} vs baseline, receiver {label}: p50 {v['p50'] / b['p50']:.2f}x, "
                    f"p95 {v['p95'] / b['p95']:.2f}x (goal <= 1.10x)"
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--quick", action="store_true", help="1,000 events per scenario")
    parser.add_argument(
        "--scenarios",
        default="baseline,refused,hang",
        help="comma-separated: " + ",".join(SCENARIOS),
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="worker_events threads (HUB_EVENTS_WORKER_CONCURRENCY)",
    )
    parser.add_argument("--publishers", type=int, default=4, help="publishing threads")
    parser.add_argument("--drain-timeout", type=float, default=120.0)
    parser.add_argument("--receiver", choices=("ok", "hang"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        receiver_main(args.receiver, args.port, args.secret)
        return
    if args.quick:
        args.events = 1_000
    names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    env, state, knobs = setup(args)
    results = []
    try:
        for name in names:
            print(f"scenario {name}: {SCENARIOS[name]} ...", file=sys.stderr, flush=True)
            results.append(run_scenario(name, args, env, state))
    finally:
        if results:  # what was measured is printed even if a later scenario failed
            print_report(args, results, knobs)


if __name__ == "__main__":
    main()
