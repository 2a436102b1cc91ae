"""Start the Odoo sandbox as a subprocess for a benchmark, and read its call counter."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sandbox_total(url: str) -> int:
    """Calls the sandbox has answered since its last reset."""
    with urllib.request.urlopen(f"{url}/__sandbox__/stats", timeout=5) as resp:
        return int(json.loads(resp.read())["total"])


def start_sandbox(port: int, *, latency_ms: float, per_record_ms: float) -> subprocess.Popen[bytes]:
    """Start `python -m sandbox.odoo` with the given latency model; wait until it answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox.odoo",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--per-record-ms",
            str(per_record_ms),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"sandbox exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            sandbox_total(f"http://127.0.0.1:{port}")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("sandbox did not start")
