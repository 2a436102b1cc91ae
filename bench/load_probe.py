"""What bench/load_bench.py measures besides latency: CPU per process group, the backlog.

CPU is read from the kernel's per-process counters (psutil: user + system time of a process and
all its children), as two snapshots around a measured window; a group's figure is the CPU
seconds it used divided by the window, in % of one core (the machine has 100 % x cores).

PostgreSQL and Redis are the machine's shared servers. "postgres: hub backends" counts only the
sessions connected to the load test's database (pg_stat_activity), "postgres: all" every
postgres process (background writer, WAL writer and other databases' sessions included), and
Redis is one process serving every client on the machine.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import psutil
import psycopg


@dataclass
class Snapshot:
    at: float
    cpu: dict[str, float]  # group -> CPU seconds so far
    backends: dict[int, float]  # pid -> CPU seconds of a postgres session of the hub's database
    shared: dict[str, dict[int, float]]  # server name -> pid -> CPU seconds
    machine_busy: float
    machine_total: float
    connections: int
    load: tuple[float, float, float] = field(default_factory=os.getloadavg)


def _tree_cpu(proc: psutil.Process) -> float:
    total = 0.0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0.0
    for member in members:
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def _named_cpu(name: str) -> dict[int, float]:
    """pid -> CPU seconds of every process with this name (the shared servers)."""
    out: dict[int, float] = {}
    for proc in psutil.process_iter(["name", "cpu_times"]):
        if proc.info["name"] == name and proc.info["cpu_times"] is not None:
            out[proc.pid] = proc.info["cpu_times"].user + proc.info["cpu_times"].system
    return out


def _delta(a: dict[int, float], b: dict[int, float]) -> float:
    """CPU seconds between two per-pid readings; a process that started in between counts
    with all its time, one that ended in between with none."""
    return sum(cpu - a.get(pid, 0.0) for pid, cpu in b.items())


_CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


class Probe:
    """Snapshots of CPU per group; `groups` maps a label to the root pids of that group."""

    def __init__(self, groups: dict[str, list[int]], pg_url: str, db_name: str) -> None:
        self.groups = groups
        self.db_name = db_name
        self.pg = psycopg.connect(pg_url, autocommit=True)

    def snapshot(self) -> Snapshot:
        cpu = {
            label: sum(_tree_cpu(psutil.Process(pid)) for pid in pids if psutil.pid_exists(pid))
            for label, pids in self.groups.items()
        }
        shared = {
            "postgres: all (shared)": _named_cpu("postgres"),
            "redis (shared)": _named_cpu("redis-server"),
        }
        pids = [
            row[0]
            for row in self.pg.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.db_name],
            )
        ]
        backends: dict[int, float] = {}
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            backends[pid] = times.user + times.system
        machine = psutil.cpu_times()
        idle = machine.idle + getattr(machine, "iowait", 0.0)
        # guest time is already inside user time: leave it out of the sum
        total = sum(getattr(machine, f, 0.0) for f in _CPU_FIELDS)
        return Snapshot(time.time(), cpu, backends, shared, total - idle, total, len(pids))

    def backlog(self) -> dict[str, int]:
        """Work the hub accepted and has not finished: ledger events and orders not yet in Odoo."""
        events = self.pg.execute(
            "SELECT count(*) FROM ledger_inboundevent WHERE state IN ('pending', 'running')"
        ).fetchone()
        orders = self.pg.execute(
            "SELECT count(*) FROM orders_channelorder"
            " WHERE state IN ('received', 'ready', 'pushing')"
        ).fetchone()
        return {"events": events[0] if events else 0, "orders": orders[0] if orders else 0}

    def totals(self) -> dict[str, int]:
        row = self.pg.execute(
            "SELECT (SELECT count(*) FROM ledger_inboundevent),"
            " (SELECT count(*) FROM orders_channelorder),"
            " (SELECT count(*) FROM orders_channelorder WHERE state = 'in_odoo'),"
            " (SELECT count(*) FROM orders_channelorder WHERE state = 'held'),"
            " (SELECT count(*) FROM inbox_issue)"
        ).fetchone()
        keys = ("events", "orders", "in_odoo", "held", "inbox issues")
        return dict(zip(keys, row or (0,) * len(keys), strict=True))

    def close(self) -> None:
        self.pg.close()


def cpu_percent(a: Snapshot, b: Snapshot) -> dict[str, float]:
    """% of one core per group between two snapshots, plus the hub's PostgreSQL sessions, the
    machine as a whole (of all cores) and what the rest of the machine used."""
    window = max(b.at - a.at, 1e-6)
    out = {label: 100 * (b.cpu[label] - a.cpu.get(label, 0.0)) / window for label in b.cpu}
    out["postgres: hub backends"] = 100 * _delta(a.backends, b.backends) / window
    for label, pids in b.shared.items():
        out[label] = 100 * _delta(a.shared.get(label, {}), pids) / window
    cores = psutil.cpu_count() or 1
    machine = 100 * cores * (b.machine_busy - a.machine_busy) / (b.machine_total - a.machine_total)
    out["machine (all processes)"] = machine
    ours = sum(
        v
        for k, v in out.items()
        if k not in ("postgres: all (shared)", "redis (shared)", "machine (all processes)")
    )
    out["rest of the machine"] = max(0.0, machine - ours)
    return out
