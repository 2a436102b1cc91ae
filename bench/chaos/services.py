"""A private PostgreSQL cluster and a private Redis server for one chaos run.

The machine's shared PostgreSQL and Redis serve other work: the run never stops them. It makes
its own under ``<state>/`` on free ports (``initdb`` into ``<state>/pg``, ``redis-server`` with
``--dir <state>/redis``), so it may restart and stop them at will, and removes them at the end.
PostgreSQL refuses to run as root: as root, the cluster belongs to the ``postgres`` user and its
commands run through ``runuser``. When that user cannot reach ``<state>`` (a checkout under a
directory only root may enter, as ``mktemp -d`` makes), the cluster and its log live in a
directory of their own under the system's temporary directory instead, named after the state
directory; ``<state>/logs/postgres.log`` then links to the log.

Without ``initdb`` (or ``redis-server``) the run uses ``DATABASE_URL`` / ``CELERY_BROKER_URL``
from the environment instead and skips the faults that would need to restart them.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from bench.sandbox_proc import free_port


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def postgres_home(root: Path) -> Path:
    """Where the cluster meant for ``root`` lives: ``root`` itself, unless the run is root's and
    the ``postgres`` user could not enter one of ``root``'s existing parents."""
    if os.geteuid() != 0:
        return root
    blocked = any(p.exists() and not os.stat(p).st_mode & 0o001 for p in root.resolve().parents)
    if not blocked:
        return root
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"hub-chaos-pg-{digest}"


class PrivatePostgres:
    """``initdb`` + ``pg_ctl`` on a free port, trust authentication on 127.0.0.1 only."""

    def __init__(self, root: Path, log: Path) -> None:
        self.root, self.log, self.log_link = postgres_home(root), log, None
        if self.root != root:
            self.log, self.log_link = self.root / "postgres.log", log
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "hub"

    @staticmethod
    def available() -> bool:
        return bool(_pg_bin("initdb") and _pg_bin("pg_ctl")) and (
            os.geteuid() != 0 or shutil.which("runuser") is not None
        )

    @property
    def url(self) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/hub"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_owner(list(argv)), check=check, capture_output=True, text=True, timeout=120
        )

    def create(self) -> None:
        self.stop_stale(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        if self.log_link is not None:
            self.log_link.parent.mkdir(parents=True, exist_ok=True)
            self.log_link.unlink(missing_ok=True)
            self.log_link.symlink_to(self.log)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.log, "postgres", "postgres")
        initdb = _pg_bin("initdb")
        assert initdb
        self._run(initdb, "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8")
        self.start()
        psql = _pg_bin("createdb")
        assert psql
        self._run(psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "hub")

    @classmethod
    def stop_stale(cls, root: Path) -> None:
        """Stop the cluster an earlier ``--keep`` run left running under ``root``."""
        pg_ctl = _pg_bin("pg_ctl")
        root = postgres_home(root)
        if pg_ctl and (root / "data" / "postmaster.pid").exists():
            subprocess.run(
                _as_owner([pg_ctl, "-D", str(root / "data"), "stop", "-m", "immediate"]),
                capture_output=True,
                timeout=60,
            )

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        pg_ctl = _pg_bin("pg_ctl")
        assert pg_ctl
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=200 -c shared_buffers=128MB"
        )
        return self._run(
            pg_ctl,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            *args,
            check=check,
        )

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> float:
        """Immediate stop (no checkpoint, connections cut: recovery on start), then start.
        Returns the seconds it was unavailable."""
        started = time.monotonic()
        self._pg_ctl("stop", "-m", "immediate", check=False)
        self._pg_ctl("start")
        return time.monotonic() - started

    def destroy(self) -> None:
        if self.data.exists():
            self._pg_ctl("stop", "-m", "fast", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a free port without persistence: a stop loses what it held."""

    def __init__(self, root: Path, log: Path) -> None:
        self.root, self.log = root, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @staticmethod
    def stop_stale(root: Path) -> None:
        """Stop the server an earlier ``--keep`` run left running under ``root``."""
        try:
            pid = int((root / "redis.pid").read_text())
            if "redis-server" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            pass

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        (self.root / "redis.pid").write_text(str(self.proc.pid))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.ping():
                return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
