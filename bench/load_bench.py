"""Mixed traffic: the highest request rate at which the hub keeps p99 <= 200 ms, and what saturates.

Run: ``make load [LOAD_ARGS="--start 20 ..."]`` (or ``.venv/bin/python bench/load_bench.py`` once
requirements-bench.txt is installed). About 6-7 minutes with the defaults.

The topology (bench/load_topology.py): the Procfile's web (gunicorn gthread 2 x 4), worker,
worker_odoo, worker_events and beat, each a real process, on PostgreSQL and Redis; the Odoo
sandbox at 20 ms per call + 2 ms per record; the Shopify and WooCommerce stand-ins. The traffic
(bench/load_locustfile.py): per 100 requests 55 signed webhooks, 15 order API posts with
Idempotency-Key, 20 inventory reads, 5 order reads and 5 admin list views.

The procedure: Locust runs headless for one step at a time at a constant offered rate (users x
--rate-per-user requests a second). The first --warmup seconds of a step are not measured.
A step passes when p99 <= --p99-ms, errors <= 1 %, at least 95 % of the offered rate was
achieved and the workers kept up. The rate grows by --factor until two steps have failed, then
bisects between the best pass and the lowest failure until they are within --resolution.
Each step records CPU per process group (load_probe.py), the hub's PostgreSQL sessions and the
backlog of accepted work not yet done, so the report can say what saturates first.

Environment (bench/hub_topology.py): BENCH_LOAD_DB (default ``hub_bench_load``, dropped and
created on the local PostgreSQL) or BENCH_DATABASE_URL (used as it is);
BENCH_CELERY_BROKER_URL / BENCH_REDIS_URL (default Redis dbs 10 and 9 on 127.0.0.1; both are
flushed at the start, nothing else is).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_probe import Probe, cpu_percent
from load_topology import Topology

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "load_locustfile.py"
GROUPS = {  # report label -> topology roles
    "web": ["web"],
    "worker": ["worker"],
    "worker_odoo": ["worker_odoo"],
    "worker_events": ["worker_events"],
    "beat": ["beat"],
    "Odoo sandbox + stand-ins": ["sandbox", "shopify standin", "woo standin"],
}
CPU_COLUMNS = [
    *GROUPS,
    "postgres: hub backends",
    "redis (shared)",
    "locust",
    "machine (all processes)",
    "rest of the machine",
]
KINDS = {  # request name prefix -> kind in the per-kind table
    "webhook": "webhooks",
    "api POST orders": "order API posts",
    "api GET inventory": "inventory reads",
    "api GET order": "order reads",
    "admin": "admin list views",
}


@dataclass
class Step:
    rate: int
    users: int
    achieved: float = 0.0
    latency: dict[str, float] = field(default_factory=dict)  # p50/p95/p99/max, ms
    errors: float = 0.0  # %
    count: int = 0
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    connections: int = 0
    backlog_growth: int = 0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)
    failures: dict[str, int] = field(default_factory=dict)  # request name -> count
    failure_reasons: dict[str, int] = field(default_factory=dict)  # why -> count
    passed: bool = False
    keeps_up: bool = True
    drained: bool = False
    cost: dict[str, float] = field(default_factory=dict)  # % of a core x seconds, until drained
    cost_requests: int = 0


def quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
    values = sorted(values)

    def q(p: float) -> float:
        return values[min(len(values) - 1, math.ceil(p * len(values)) - 1)]

    return {"p50": q(0.50), "p95": q(0.95), "p99": q(0.99), "max": values[-1]}


def read_samples(path: Path, start: float, end: float) -> list[tuple[float, str, str]]:
    """(ms, "" when it succeeded else why, request name) of the hub's requests in [start, end)."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        at, ms, ok, name = line.split(",", 3)
        if start <= float(at) < end and not name.startswith("standin"):
            out.append((float(ms), "" if ok == "1" else ok[2:] or "failed", name))
    return out


def grouped(cpu: dict[str, float]) -> dict[str, float]:
    """CPU per report column: the roles summed into their groups, the rest as measured."""
    out = {label: sum(cpu.get(role, 0.0) for role in roles) for label, roles in GROUPS.items()}
    for label in CPU_COLUMNS:
        out.setdefault(label, cpu.get(label, 0.0))
    return out


def run_step(
    topo: Topology, probe: Probe, config: Path, rate: int, index: int, args: argparse.Namespace
) -> Step:
    users = max(1, math.ceil(rate / args.rate_per_user))
    step = Step(rate=rate, users=users)
    samples = topo.state / f"samples-{index}.csv"
    log = (topo.state / f"locust-{index}.log").open("wb")
    env = {
        **topo.env,
        "LOAD_CONFIG": str(config),
        "LOAD_SAMPLES": str(samples),
        "LOAD_STEP": str(index + 1),
        "LOAD_RATE_PER_USER": str(args.rate_per_user),
    }
    started = time.time()
    locust = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "locust"),
            *("-f", str(LOCUSTFILE), "--headless", "--only-summary"),
            *("-u", str(users), "-r", str(max(1, users // 3)), "-t", f"{args.step_seconds}s"),
            *("--host", f"http://127.0.0.1:{topo.web_port}", "--stop-timeout", "5"),
            *("--loglevel", "WARNING", "--exit-code-on-error", "0"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    probe.groups["locust"] = [locust.pid]
    before = probe.backlog()
    time.sleep(max(0.0, started + args.warmup - time.time()))
    a = probe.snapshot()
    time.sleep(max(0.0, started + args.step_seconds - 1 - time.time()))
    b = probe.snapshot()
    after = probe.backlog()
    locust.wait(args.step_seconds + 60)
    # The work those requests caused, finished: CPU from the window's start until the backlog is
    # worked off, for every request sent from the window's start on.
    step.drained = drain(probe, before, args.drain_seconds)
    c = probe.snapshot()
    step.cost = {k: v * (c.at - a.at) for k, v in grouped(cpu_percent(a, c)).items()}
    step.cost["seconds"] = c.at - a.at
    step.cost_requests = len(read_samples(samples, a.at, c.at))
    window = b.at - a.at
    rows = read_samples(samples, a.at, b.at)
    step.count = len(rows)
    step.achieved = len(rows) / window
    step.latency = quantiles([ms for ms, _, _ in rows])
    bad = [(name, why) for _, why, name in rows if why]
    step.errors = 100 * len(bad) / max(1, len(rows))
    for name, why in bad:
        step.failures[name] = step.failures.get(name, 0) + 1
        step.failure_reasons[why] = step.failure_reasons.get(why, 0) + 1
    for prefix, kind in KINDS.items():
        mine = [(ms, why) for ms, why, name in rows if name.startswith(prefix)]
        step.by_kind[kind] = {
            **quantiles([ms for ms, _ in mine]),
            "count": len(mine),
            "errors": sum(1 for _, why in mine if why),
        }
    step.cpu = grouped(cpu_percent(a, b))
    step.connections = b.connections
    step.load = b.load
    # Accepted work (ledger events + orders short of Odoo) that piled up during the step, against
    # what 3 seconds of arrivals bring: more than that and the workers are falling behind.
    step.backlog_growth = (after["events"] + after["orders"]) - (
        before["events"] + before["orders"]
    )
    step.keeps_up = step.backlog_growth <= 3 * rate * 0.7
    step.passed = (
        step.latency["p99"] <= args.p99_ms
        and step.errors <= 1.0
        and step.achieved >= 0.95 * rate
        and step.keeps_up
    )
    return step


_TASK_DONE = re.compile(r"'name': '([^']+)', 'return_value'.*?'runtime': ([0-9.e-]+)")


def task_time(state: Path) -> dict[str, dict[str, tuple[int, float]]]:
    """Per worker process: task name -> (runs, seconds), from the workers' own INFO log lines
    ("Task ... succeeded in ..."), over the whole run. Wall time inside the task, not CPU."""
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for role in ("worker", "worker_odoo", "worker_events"):
        log = state / f"{role}.log"
        tasks: dict[str, tuple[int, float]] = {}
        for match in _TASK_DONE.finditer(log.read_text(errors="replace") if log.exists() else ""):
            runs, seconds = tasks.get(match[1], (0, 0.0))
            tasks[match[1]] = (runs + 1, seconds + float(match[2]))
        out[role] = tasks
    return out


def drain(probe: Probe, before: dict[str, int], seconds: float) -> bool:
    """Wait (bounded) until the backlog is back where the step found it; True if it got there."""
    deadline = time.monotonic() + seconds
    while True:
        left = probe.backlog()
        if left["events"] + left["orders"] <= before["events"] + before["orders"] + 2:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def next_rate(steps: list[Step], args: argparse.Namespace) -> int | None:
    """The next offered rate, or None when done.

    Upward by --factor until two steps have failed (one failure may be noise from elsewhere on
    the machine), then bisect between the best pass and the lowest failure above it until they
    are within --resolution; with no pass at all, halve the lowest failure."""
    if len(steps) >= args.max_steps:
        return None
    best = max((s.rate for s in steps if s.passed), default=0)
    above = [s.rate for s in steps if not s.passed and s.rate > best]
    if not above or sum(1 for s in steps if not s.passed) < 2:
        return round(max(s.rate for s in steps) * args.factor)
    worst = min(above)
    if not best:
        return worst // 2 if worst > 1 else None
    middle = round((best + worst) / 2)
    if (worst - best) / best <= args.resolution or middle in {s.rate for s in steps}:
        return None
    return middle


def saturation(steps: list[Step], cores: int) -> str:
    """Which resource runs out first, read from the lowest failing step (else the highest)."""
    failing = [s for s in steps if not s.passed]
    step = min(failing, key=lambda s: s.rate) if failing else max(steps, key=lambda s: s.rate)
    ours = {label: step.cpu[label] for label in [*GROUPS, "postgres: hub backends", "locust"]}
    top = sorted(ours.items(), key=lambda kv: -kv[1])[:3]
    shares = ", ".join(f"{label} {pct:.0f} %" for label, pct in top)
    machine = step.cpu["machine (all processes)"]
    rest = step.cpu["rest of the machine"]
    where = f"at {step.rate} req/s offered"
    if machine >= 0.9 * 100 * cores:
        verdict = (
            f"the {cores} cores {where}: the machine was {machine:.0f} % busy of "
            f"{100 * cores} % ({rest:.0f} % outside the hub); the biggest users: {shares}"
        )
        if rest >= 25 * cores:
            verdict += (
                "; other work held much of the machine, so this rate is the machine's that day: "
                "the CPU cost per request above carries over to idle cores"
            )
    elif step.cpu["web"] >= 0.9 * 200:
        verdict = f"gunicorn's 2 processes {where} (web {step.cpu['web']:.0f} % of 200 %)"
    elif not step.keeps_up:
        verdict = f"the workers {where}: the backlog grew by {step.backlog_growth}; {shares}"
    else:
        verdict = (
            f"no CPU ceiling {where} (machine {machine:.0f} % of {100 * cores} %): the time goes "
            f"to waiting (gunicorn's 8 threads, locks, PostgreSQL); the biggest users: {shares}"
        )
    return verdict


def projection(steps: list[Step], idle: dict[str, float], cores: int) -> str:
    """CPU cost per request, and the CPU-bound ceiling it implies on idle cores.

    A shared machine inflates latency, not (much) the CPU a request costs: this is the figure
    that carries over to a quiet machine. A step's cost is the CPU above the idle baseline
    (beat's schedule, the workers' polling) from its measured window's start until the work its
    requests caused was done (the backlog back where the step found it), per request sent in
    that time; taken from the busiest step that drained. The ceiling is where the cores would be
    100 % busy; p99 breaks somewhat before it, from queueing."""
    drained = [s for s in steps if s.drained and s.cost_requests] or steps
    step = max(drained, key=lambda s: s.achieved)
    hub = [g for g in GROUPS if g != "Odoo sandbox + stand-ins"] + ["postgres: hub backends"]
    rig = ["Odoo sandbox + stand-ins", "locust", "redis (shared)"]
    span = step.cost.get("seconds", 0.0)
    ms = {
        c: 10 * max(0.0, step.cost.get(c, 0.0) - idle[c] * span) / max(step.cost_requests, 1)
        for c in hub + rig
    }
    hub_ms, rig_ms = sum(ms[c] for c in hub), sum(ms[c] for c in rig)
    hub_idle, rig_idle = 10 * sum(idle[c] for c in hub), 10 * sum(idle[c] for c in rig)
    both = (1000 * cores - hub_idle - rig_idle) / max(hub_ms + rig_ms, 1e-6)
    alone = (1000 * cores - hub_idle) / max(hub_ms, 1e-6)
    return (
        f"CPU ms per request above idle, until its work was done, at {step.rate} req/s offered "
        f"({step.achieved:.1f} achieved{'' if step.drained else ', NOT drained'}): "
        + ", ".join(f"{c} {ms[c]:.1f}" for c in hub + rig if ms[c] >= 0.05)
        + f"; hub {hub_ms:.1f} ms, test rig {rig_ms:.1f} ms (idle: hub {hub_idle:.0f} ms/s, rig "
        f"{rig_idle:.0f} ms/s). CPU-bound ceiling on {cores} idle cores: {both:.0f} req/s with "
        f"the rig on the same cores, {alone:.0f} req/s for the hub alone."
    )


def report(steps: list[Step], args: argparse.Namespace, meta: dict[str, Any]) -> None:
    cores = os.cpu_count() or 1
    print(
        f"\n{meta['date']} · {cores} cores · load average before {meta['load_before']} · "
        f"steps of {args.step_seconds} s ({args.warmup} s warm-up not measured) · "
        f"{args.rate_per_user:g} req/s per Locust user · run took {meta['took']:.0f} s\n"
    )
    print(
        "| offered req/s | achieved | p50 ms | p95 ms | p99 ms | errors % | "
        "backlog Δ | PG sessions | load avg (1 min) | p99 ≤ "
        f"{args.p99_ms:g} ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for s in sorted(steps, key=lambda s: s.rate):
        lat = s.latency
        print(
            f"| {s.rate} | {s.achieved:.1f} | {lat['p50']:.0f} | {lat['p95']:.0f} | "
            f"{lat['p99']:.0f} | {s.errors:.2f} | {s.backlog_growth:+d} | {s.connections} | "
            f"{s.load[0]:.1f} | {'pass' if s.passed else 'FAIL'} |"
        )
    print(f"\nCPU per process group, % of one core (the machine has {100 * cores} %):\n")
    print("| offered req/s | " + " | ".join(CPU_COLUMNS) + " |")
    print("|---:|" + "---:|" * len(CPU_COLUMNS))
    for s in sorted(steps, key=lambda s: s.rate):
        print(f"| {s.rate} | " + " | ".join(f"{s.cpu[c]:.0f}" for c in CPU_COLUMNS) + " |")
    passed = [s for s in steps if s.passed]
    best = max(passed, key=lambda s: s.rate) if passed else None
    shown = [best] if best else []
    failing = [s for s in steps if not s.passed]
    if failing:
        shown.append(min(failing, key=lambda s: s.rate))
    for s in shown:
        print(f"\nBy request kind at {s.rate} req/s offered ({s.count} requests measured):\n")
        print("| kind | requests | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind, k in s.by_kind.items():
            print(
                f"| {kind} | {k['count']:.0f} | {k['p50']:.0f} | {k['p95']:.0f} | "
                f"{k['p99']:.0f} | {k['errors']:.0f} |"
            )
        if s.failures:
            print("failures: " + ", ".join(f"{n}: {c}" for n, c in s.failures.items()))
            print("why: " + ", ".join(f"{w}: {c}" for w, c in s.failure_reasons.items()))
    print(
        "\nIdle baseline, % of one core: "
        + ", ".join(f"{c} {v:.0f}" for c, v in meta["idle"].items() if v >= 0.5)
    )
    print(f"\n{projection(steps, meta['idle'], cores)}")
    print(f"\ntotals after the run: {meta['totals']}")
    for role, tasks in meta.get("tasks", {}).items():
        top = sorted(tasks.items(), key=lambda kv: -kv[1][1])[:6]
        print(
            f"{role}, time in tasks over the run (runs, s): "
            + ", ".join(f"{name} {runs} / {sec:.1f}" for name, (runs, sec) in top)
        )
    print(
        f"\nsustainable rate (p99 ≤ {args.p99_ms:g} ms, errors ≤ 1 %, workers keeping up): "
        f"{best.rate if best else 'none'} req/s"
        + (f" (achieved {best.achieved:.1f}, p99 {best.latency['p99']:.0f} ms)" if best else "")
    )
    print(f"saturates first: {saturation(steps, cores)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=int, default=10, help="first offered rate, req/s")
    parser.add_argument("--factor", type=float, default=1.5, help="growth while steps pass")
    parser.add_argument("--rates", default="", help="explicit rates, comma-separated (no search)")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument("--resolution", type=float, default=0.15)
    parser.add_argument("--step-seconds", type=int, default=45)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--p99-ms", type=float, default=200.0)
    parser.add_argument("--rate-per-user", type=float, default=1.0)
    parser.add_argument("--drain-seconds", type=float, default=30.0)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        raise SystemExit("locust is not installed: pip install -r requirements-bench.txt")

    t0 = time.monotonic()
    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    state = Path(tempfile.mkdtemp(prefix="hub-load-"))
    topo = Topology(state=state, db_name=os.environ.get("BENCH_LOAD_DB", "hub_bench_load"))
    steps: list[Step] = []
    probe: Probe | None = None
    try:
        topo.start()
        config = topo.write_config(topo.seed([f"LOAD-UNKNOWN-{i}" for i in range(30)]))
        topo.start_hub()
        pg_url = topo.db_url.replace("postgres://", "postgresql://", 1)
        db_name = pg_url.rsplit("/", 1)[-1].split("?", 1)[0]
        probe = Probe({role: [topo.procs[role].pid] for role in topo.procs}, pg_url, db_name)
        # The idle baseline: every process up, no traffic.
        a = probe.snapshot()
        time.sleep(args.idle_seconds)
        meta["idle"] = grouped(cpu_percent(a, probe.snapshot()))
        print(f"setup took {time.monotonic() - t0:.0f} s", file=sys.stderr)
        plan = [int(r) for r in args.rates.split(",") if r.strip()]
        rate: int | None = plan[0] if plan else args.start
        while rate is not None:
            step = run_step(topo, probe, config, rate, len(steps), args)
            steps.append(step)
            print(
                f"step {len(steps)}: {rate} req/s offered, {step.achieved:.1f} achieved, "
                f"p99 {step.latency['p99']:.0f} ms, errors {step.errors:.2f} %, backlog "
                f"{step.backlog_growth:+d}, machine {step.cpu['machine (all processes)']:.0f} %"
                f" -> {'pass' if step.passed else 'FAIL'}"
                + (f"; failed: {step.failures} {step.failure_reasons}" if step.failures else ""),
                file=sys.stderr,
            )
            if plan:
                rate = plan[len(steps)] if len(steps) < len(plan) else None
            else:
                rate = next_rate(steps, args)
        meta["totals"] = probe.totals()
        meta["tasks"] = task_time(state)
    finally:
        if probe is not None:
            probe.close()
        topo.stop()
        if not steps or any(s.errors > 50 for s in steps):
            print(topo.log_tails(), file=sys.stderr)
        if os.environ.get("BENCH_KEEP"):
            print(f"state kept in {state}", file=sys.stderr)
        else:
            shutil.rmtree(state, ignore_errors=True)
    meta["took"] = time.monotonic() - t0
    report(steps, args, meta)


if __name__ == "__main__":
    main()
