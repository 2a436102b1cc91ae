"""Benchmark processes: the Odoo sandbox and the channel stand-ins as subprocesses, and the small
HTTP helper the benchmarks share to drive them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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


def jsonrpc_body(model: str, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """The JSON-RPC ``execute_kw`` request of admin on the sandbox's ``hub`` database."""
    return {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": ["hub", 2, "admin", model, method, args, kwargs],
        },
    }


def http(method: str, url: str, payload: Any = None) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        body = resp.read()
        return json.loads(body) if body else None


def start_standin(
    kind: str, *, port: int | None = None, products: int = 0, seed_skus: Iterable[str] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `python -m sandbox.channels --kind KIND`; wait until it answers. (process, URL)"""
    port = port or free_port()
    args = [sys.executable, "-m", "sandbox.channels", "--kind", kind, "--port", str(port)]
    args += ["--products", str(products)]
    if seed_skus:
        args += ["--seed-skus", ",".join(seed_skus)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"{kind} stand-in exited: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            http("GET", f"{url}/__standin__/health")
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{kind} stand-in did not start")


def stop_all(procs: Iterable[subprocess.Popen[bytes]], timeout: float = 5) -> None:
    """Terminate every process, then kill the ones that do not exit within `timeout`."""
    procs = list(procs)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def bind_standin_skus(channel: Any, url: str, by_sku: dict[str, int]) -> None:
    """Create the SKUs (stock 0) on the stand-in at `url` and bind each to its Odoo product.

    Needs Django set up (the caller's process is the hub's)."""
    from apps.mappings.models import Binding

    added = http("POST", f"{url}/__standin__/products", [{"sku": s, "stock": 0} for s in by_sku])
    Binding.objects.bulk_create(
        Binding(
            channel=channel,
            kind=Binding.Kind.PRODUCT,
            external_id=str(row["variant_id"]),
            external_code=row["sku"],
            odoo_model="product.product",
            odoo_id=by_sku[row["sku"]],
        )
        for row in added
    )
