"""The hub's production topology on one machine, and signed Shopify orders driving it.

Shared by the order benchmarks that go through the real web server and worker processes
(orders_latency_bench.py, odoo_push_real.py):

- ``hub_env``: the environment of a throw-away hub (state directory, production settings, and
  PostgreSQL + Redis when they answer, else the embedded default: SQLite and the filesystem
  broker). BENCH_DATABASE_URL, BENCH_CELERY_BROKER_URL and BENCH_REDIS_URL point it at a
  database and Redis databases of your own (the bench migrates them and flushes the Redis ones).
- ``start_hub``: gunicorn (2 workers x 4 threads), ``worker`` (queues intake, channel_io, batch,
  maintenance, default; 2 processes) and ``worker_odoo`` (queue odoo), each in its own process
  group; ``stop_hub`` stops them and returns their log tails.
- ``ShopifySender``: ``orders/create`` webhooks of the recorded Shopify order (a new id per
  request), signed like Shopify signs, from N connections: open loop at a rate, or N at a time.
  With ``standin`` (the Shopify stand-in's URL) each order is put into the stand-in first, as
  the real shop holds an order before it announces it: the hub's acknowledgement and payment
  read then find it, as in production, instead of failing into the inbox.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox_proc import stop_all
from webhook_bench import database_url, redis_up

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = json.loads((ROOT / "tests" / "data" / "channels" / "shopify_order.json").read_text())
FIRST_ORDER_ID = 5_000_000_000


def order_body(n: int, sku_map: Mapping[str, str] | None = None) -> bytes:
    """The recorded Shopify order as order number n (id FIRST_ORDER_ID + n), SKUs mapped."""
    data = copy.deepcopy(SAMPLE)
    data["id"] = FIRST_ORDER_ID + n
    data["order_number"] = 100_000 + n
    data["name"] = f"#{100_000 + n}"
    for line in data["line_items"]:
        line["sku"] = (sku_map or {}).get(line.get("sku") or "", line.get("sku"))
    return json.dumps(data).encode()


def hub_env(
    state: Path, *, odoo_url: str, db_name: str, embedded: bool = False
) -> tuple[dict[str, str], str]:
    """(environment, backend description) of a throw-away hub whose state lives in ``state``."""
    env = {
        **os.environ,
        "HUB_VAR_DIR": str(state),
        "ODOO_URL": odoo_url,
        "HUB_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "HUB_FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
    }
    (state / "metrics").mkdir(parents=True, exist_ok=True)
    sqlite = (
        f"sqlite:///{state}/bench.sqlite3",
        "embedded default: SQLite + filesystem broker + database cache",
    )
    if embedded:
        env["DATABASE_URL"], backend = sqlite
        for name in ("CELERY_BROKER_URL", "REDIS_URL"):
            env.pop(name, None)
        return env, backend
    try:
        env["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or database_url(db_name)
    except SystemExit:
        return hub_env(state, odoo_url=odoo_url, db_name=db_name, embedded=True)
    if redis_up():
        env["CELERY_BROKER_URL"] = os.environ.get(
            "BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/10"
        )
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
        return env, "PostgreSQL + Redis"
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    return env, "PostgreSQL + filesystem broker"


def prepare_hub(env: Mapping[str, str]) -> None:
    """Set Django up in this process on ``env``; migrate; flush the bench's Redis databases."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    if env.get("CELERY_BROKER_URL", "").startswith("redis"):
        import redis

        for url in (env["CELERY_BROKER_URL"], env["REDIS_URL"]):
            redis.Redis.from_url(url).flushdb()


def start(args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """A hub process leading its own process group (gunicorn and celery fork children)."""
    return subprocess.Popen(
        list(args),
        cwd=ROOT,
        env=dict(env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_hub(
    env: Mapping[str, str],
    state: Path,
    *,
    web_port: int,
    odoo_concurrency: int,
    log_level: str = "WARNING",
    odoo_log_level: str | None = None,
    odoo_env: Mapping[str, str] | None = None,
) -> list[subprocess.Popen[bytes]]:
    """gunicorn, ``worker`` and ``worker_odoo`` (its own log level and extra variables)."""
    py = sys.executable
    celery = (py, "-m", "celery", "-A", "integration_hub", "worker")
    flags = ("--without-gossip", "--without-mingle", "-P", "prefork")
    web = (
        *(py, "-m", "gunicorn", "integration_hub.wsgi"),
        *("--bind", f"127.0.0.1:{web_port}", "--worker-class", "gthread"),
        *("--workers", "2", "--threads", "4", "--log-level", "warning"),
    )
    queues = ("-Q", "intake,channel_io,batch,maintenance,default", "-c", "2")
    return [
        start(web, env, state / "web.log"),
        start(
            (*celery, "-l", log_level, *queues, "-n", f"bench-w-{os.getpid()}@%h", *flags),
            env,
            state / "worker.log",
        ),
        start(
            (
                *(*celery, "-l", odoo_log_level or log_level),
                *("-Q", "odoo", "-c", str(odoo_concurrency)),
                *("-n", f"bench-o-{os.getpid()}@%h", *flags),
            ),
            {**env, **(odoo_env or {})},
            state / "worker_odoo.log",
        ),
    ]


def stop_hub(procs: Sequence[subprocess.Popen[bytes]], state: Path) -> dict[str, str]:
    """Stop the processes (whole process groups for the hub's); the tails of their logs."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if p.poll() is None and os.getpgid(p.pid) == p.pid:
                os.killpg(p.pid, signal.SIGTERM)
    stop_all(list(reversed(procs)), timeout=20)
    return {log.name: log.read_text(errors="replace")[-2500:] for log in state.glob("*.log")}


@dataclass
class ShopifySender:
    """Signed Shopify ``orders/create`` webhooks to the hub on ``port`` for ``channel``."""

    port: int
    channel: str
    secret: str
    shop: str
    sku_map: Mapping[str, str] = field(default_factory=dict)
    connections: int = 8
    standin: str | None = None

    def seed(self, count: int, *, first: int = 0) -> None:
        """Orders first .. first+count-1 into the Shopify stand-in (``standin``), untimed."""
        if not self.standin:
            return
        conn = http.client.HTTPConnection(self.standin.split("//", 1)[1], timeout=30)
        try:
            for i in range(count):
                data = json.loads(order_body(first + i, self.sku_map))
                for line in data["line_items"]:
                    taxes = sum(float(t["price"]) for t in line.get("tax_lines") or [])
                    line["unit_tax"] = f"{taxes / max(int(line['quantity']), 1):.2f}"
                conn.request(
                    "POST",
                    "/__standin__/orders",
                    body=json.dumps(data),
                    headers={"Content-Type": "application/json"},
                )
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise SystemExit(f"the stand-in refused order {first + i}: {resp.status}")
        finally:
            conn.close()

    def send(self, count: int, *, rate: float | None = None, first: int = 0) -> dict[int, float]:
        """Orders first .. first+count-1 from ``connections`` connections: open loop (order i at
        t0 + i/rate), or as fast as they go (``rate`` None: ``connections`` at a time).
        Returns {Shopify order id: epoch sent}; raises SystemExit if any is refused."""
        self.seed(count, first=first)
        sent: dict[int, float] = {}
        failures: list[str] = []
        lock = threading.Lock()
        state = {"next": 0}
        t0 = time.perf_counter() + 0.2

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            while True:
                with lock:
                    i = state["next"]
                    state["next"] += 1
                if i >= count:
                    break
                body = order_body(first + i, self.sku_map)
                digest = hmac.new(self.secret.encode(), body, hashlib.sha256).digest()
                headers = {
                    "Content-Type": "application/json",
                    "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Shop-Domain": self.shop,
                    "X-Shopify-API-Version": "2025-01",
                    "X-Shopify-Webhook-Id": uuid.uuid4().hex,
                }
                if rate:
                    delay = t0 + i / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                at = time.time()
                conn.request(
                    "POST", f"/webhooks/shopify/{self.channel}/", body=body, headers=headers
                )
                resp = conn.getresponse()
                resp.read()
                with lock:
                    if resp.status == 202:
                        sent[FIRST_ORDER_ID + first + i] = at
                    else:
                        failures.append(str(resp.status))
            conn.close()

        threads = [threading.Thread(target=worker) for _ in range(self.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            raise SystemExit(f"{len(failures)} webhooks refused: {sorted(set(failures))}")
        return sent


def cpu_by_group() -> dict[str, float]:
    """CPU seconds used so far, by kind of process on this machine: Odoo, PostgreSQL per
    database (a backend's title names it), Redis, the stand-ins, the hub's web and workers, and
    ``machine`` (every core's busy time, from /proc/stat, so exited processes count too)."""
    tick = os.sysconf("SC_CLK_TCK")
    groups: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        group = _group(args)
        if group:
            groups[group] = groups.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    groups["machine"] = (sum(int(x) for x in cpu) - int(cpu[3]) - int(cpu[4])) / tick
    return groups


def _group(args: str) -> str:
    if "odoo-bin" in args:
        return "odoo"
    if args.startswith("postgres: "):
        rest = [w for w in args.split()[1:] if not w.endswith(":")]  # "15/main:", a cluster
        client = len(rest) > 2 and ("(" in rest[2] or rest[2] == "[local]")
        return f"postgres {rest[1]}" if client else "postgres (own)"
    if "redis-server" in args:
        return "redis"
    if "sandbox" in args and "channels" in args:
        return "stand-in"
    if "gunicorn" in args:
        return "hub web"
    if "-Q odoo" in args:
        return "hub worker_odoo"
    if "celery" in args:
        return "hub worker"
    return ""


def cpu_seconds(procs: Sequence[subprocess.Popen[bytes]]) -> float:
    """CPU seconds (user + system) used so far by these processes and all their descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, cpu seconds)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    wanted = {p.pid for p in procs}
    grew = True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in wanted} - wanted
        wanted |= more
        grew = bool(more)
    return sum(stats[pid][1] for pid in wanted if pid in stats)


def quantile(values: Sequence[float], p: float) -> float:
    """The p-quantile of sorted ``values`` (0 when empty)."""
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0
