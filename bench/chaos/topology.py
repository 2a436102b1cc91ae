"""The hub's production topology as real processes, under a supervisor that restarts what dies.

Processes (the Procfile's commands): ``web`` (gunicorn, 2 x 4 threads), ``worker1`` and
``worker2`` (queues intake, channel_io, batch, maintenance, default; 2 processes each),
``worker_odoo`` (queue odoo, 2 processes), ``worker_events`` (partner webhooks, threads),
``beat`` (DatabaseScheduler), the Odoo sandbox (20 ms per call + 2 ms per record, as in the
benchmarks) and the Shopify stand-in (acknowledgements, fulfilments, stock). Each leads its own
process group, so a SIGKILL takes a worker's pool children with it, as a crash of the machine's
container would. Every process appends to ``<state>/logs/<name>.log``.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
WORKER_QUEUES = "intake,channel_io,batch,maintenance,default"
# Set for the run (docs/reliability.md, "Chaos run"): a push killed mid-batch is retaken after
# one minute instead of five; everything else is the production default.
RUN_SETTINGS = {"HUB_ORDER_PUSH_LEASE_SECONDS": "60"}


def hub_env(
    state: Path, *, database: str, broker: str, cache: str, odoo_url: str
) -> dict[str, str]:
    """The environment of every hub process: production settings (DEBUG off, JSON logs)."""
    env = {
        **os.environ,
        "HUB_VAR_DIR": str(state / "var"),
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": cache,
        "ODOO_URL": odoo_url,
        "ODOO_DB": "hub",
        "ODOO_USER": "admin",
        "ODOO_PASSWORD": "admin",
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "HUB_FIELD_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HUB_LOG_FORMAT": "json",
        "HUB_LOG_LEVEL": "INFO",
        "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
        "PYTHONUNBUFFERED": "1",
        **RUN_SETTINGS,
    }
    (state / "var").mkdir(parents=True, exist_ok=True)
    (state / "metrics").mkdir(parents=True, exist_ok=True)
    return env


def commands(web_port: int, odoo_port: int, shop_port: int) -> dict[str, list[str]]:
    celery = [PY, "-m", "celery", "-A", "integration_hub"]

    def worker(name: str, queues: str, *extra: str) -> list[str]:
        return [*celery, "worker", "-Q", queues, "-n", f"{name}@%h", "-E", *extra]

    return {
        "sandbox": [
            *(PY, "-m", "sandbox.odoo", "--port", str(odoo_port)),
            *("--latency-ms", "20", "--per-record-ms", "2"),
        ],
        "shopify": [PY, "-m", "sandbox.channels", "--kind", "shopify", "--port", str(shop_port)],
        "web": [
            *(PY, "-m", "gunicorn", "integration_hub.wsgi", "--bind", f"127.0.0.1:{web_port}"),
            *("--worker-class", "gthread", "--workers", "2", "--threads", "4"),
            *("--timeout", "30", "--access-logfile", "-"),
        ],
        "worker1": worker("worker1", WORKER_QUEUES, "--concurrency", "2"),
        "worker2": worker("worker2", WORKER_QUEUES, "--concurrency", "2"),
        "worker_odoo": worker("odoo", "odoo", "--concurrency", "2"),
        "worker_events": worker("events", "events", "--pool", "threads", "--concurrency", "8"),
        "beat": [
            *(*celery, "beat", "--scheduler"),
            *("django_celery_beat.schedulers:DatabaseScheduler", "--pidfile="),
        ],
    }


@dataclass
class Managed:
    name: str
    argv: list[str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)
    exits: list[tuple[float, int]] = field(default_factory=list)
    restart: bool = True

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Starts the processes and restarts any that exits, like systemd or Kubernetes would;
    ``kill`` is the fault (SIGKILL to the whole process group)."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, Managed] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def add(
        self, name: str, argv: list[str], *, restart: bool = True, logs: Path | None = None
    ) -> Managed:
        folder = logs or self.logs
        folder.mkdir(parents=True, exist_ok=True)
        managed = Managed(name, argv, folder / f"{name}.log", restart=restart)
        self.procs[name] = managed
        self._spawn(managed)
        return managed

    def _spawn(self, m: Managed) -> None:
        with m.log.open("ab") as log:
            log.write(f"\n--- chaos supervisor: start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            m.proc = subprocess.Popen(
                m.argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        m.starts.append(time.time())

    def watch(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for m in self.procs.values():
                    if m.proc is None or m.proc.poll() is None:
                        continue
                    m.exits.append((time.time(), m.proc.returncode))
                    if m.restart:
                        self._spawn(m)
                    else:
                        m.proc = None

    def kill(self, name: str) -> int:
        """SIGKILL the process group (main process and pool children); returns the pid."""
        with self._lock:
            m = self.procs[name]
            assert m.proc is not None
            pid = m.proc.pid
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return pid

    def dead_without_restart(self) -> list[str]:
        return [n for n, m in self.procs.items() if not m.restart and not m.alive()]

    def restarts(self) -> dict[str, int]:
        return {n: len(m.starts) - 1 for n, m in self.procs.items()}

    def stop_all(self, timeout: float = 20.0) -> None:
        self._stop.set()
        with self._lock:
            live = [m for m in self.procs.values() if m.alive()]
            for m in live:
                assert m.proc is not None
                try:
                    os.killpg(m.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + timeout
            for m in live:
                assert m.proc is not None
                try:
                    m.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(m.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    m.proc.wait(10)
