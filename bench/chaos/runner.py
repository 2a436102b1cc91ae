"""The whole chaos run, start to verdict (the package docstring lists the parts).

1. A private PostgreSQL and Redis (services.py), the hub migrated on them, a Shopify channel
   ``chaos`` on the Shopify stand-in with its SKUs bound to the Odoo sandbox's products
   (untaxed, well stocked), then every process of the topology under the supervisor.
2. The sender, the fault injector and the shipper run together.
3. Once the last delivery is accepted and the last fault is over, the runner waits until the
   hub has settled (every order in its expected state, no event or sync pending), then accounts
   exactly; it looks again until ``--settle`` seconds have passed.
4. The report, the secrets scan hook, teardown. Exit 0 only when every check holds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.sandbox_proc import free_port, http

from . import lifecycle, observe, report
from .accounting import Accounting, account
from .faults import Injector
from .plan import PRICES, Plan, expected, make_plan
from .schedule import Durations, make_schedule
from .sender import Sender
from .services import PrivatePostgres, PrivateRedis
from .topology import PY, ROOT, RUN_SETTINGS, Supervisor, commands, hub_env

CHANNEL = "chaos"
HUB_PROCESSES = ("web", "worker1", "worker2", "worker_odoo", "worker_events", "beat")


@dataclass
class Options:
    orders: int
    rate: float
    kills: int
    seed: int
    state: Path
    settle: float
    threads: int
    redis_fault: bool
    postgres_fault: bool
    odoo_faults: bool
    keep: bool
    command: str


def _wait(what: str, ok: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise SystemExit(f"chaos: {what} not ready within {timeout:.0f} s")
        time.sleep(0.2)


def _answers(url: str) -> bool:
    try:
        http("GET", url)
        return True
    except OSError:
        return False


def _prepare_odoo(odoo: observe.OdooRpc) -> dict[str, int]:
    """The run's products untaxed (the orders carry no tax) and stocked for every shipment."""
    products = observe.product_ids(odoo, [*PRICES, "SHIP"])
    goods = [products[s] for s in PRICES]
    odoo.execute("product.product", "write", goods, {"taxes_id": [[6, 0, []]]})
    [wh] = odoo.execute("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1)
    for pid in goods:
        odoo.execute(
            "stock.quant",
            "create",
            {
                "product_id": pid,
                "location_id": wh["lot_stock_id"][0],
                "inventory_quantity_auto_apply": 1_000_000,
            },
            context={"inventory_mode": True},
        )
    return products


def _prepare_hub(env: dict[str, str], shop_url: str, secret: str, token: str) -> None:
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    from apps.sales_channels.services import channel_create

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("sync_schedules", verbosity=0)
    channel_create(
        code=CHANNEL, kind="shopify", secret=secret, api_base_url=shop_url, access_token=token
    )
    call_command("mappings", "automap", "--channel", CHANNEL, verbosity=0)


def _settled(plan: Plan, accepted: dict[int, set[int]], shipped: dict[int, int]) -> str:
    """'' when the hub holds every order in its expected state with nothing pending."""
    hub = observe.hub_orders(CHANNEL)
    for order in plan.orders:
        want = expected(order, accepted.get(order.n, set()), shipped.get(order.n, 0))
        if want is None:
            continue
        row = hub.get(order.ref)
        if row is None or row.state != want.state or (row.edit_pending and not want.cancelled):
            return f"order {order.ref}: {row.state if row else 'no row'}, expected {want.state}"
    busy = {k: v for k, v in observe.hub_backlog(CHANNEL).items() if v}
    if busy:
        return f"pending work {busy}"
    acks = observe.ack_states(CHANNEL)
    waiting = sum(n for state, n in acks.items() if state != "done")
    return f"{waiting} orders not acknowledged on the channel yet: {acks}" if waiting else ""


def run(opts: Options) -> int:
    state = opts.state
    PrivatePostgres.stop_stale(state / "pg")
    PrivateRedis.stop_stale(state / "redis")
    shutil.rmtree(state, ignore_errors=True)
    logs = state / "logs"
    logs.mkdir(parents=True)
    print(f"chaos: state and logs under {state.relative_to(ROOT)}", flush=True)
    pg = redis = None
    private = PrivatePostgres.available() and PrivateRedis.available()
    if private:
        pg = PrivatePostgres(state / "pg", logs / "postgres.log")
        pg.create()
        redis = PrivateRedis(state / "redis", logs / "redis.log")
        redis.start()
        database, broker, cache = pg.url, redis.url(0), redis.url(1)
    else:
        database = os.environ.get("DATABASE_URL", "")
        broker = os.environ.get("CELERY_BROKER_URL", "")
        cache = os.environ.get("REDIS_URL", "")
        if not database.startswith("postgres") or not broker.startswith("redis"):
            print("chaos: needs initdb + redis-server, or DATABASE_URL and CELERY_BROKER_URL")
            return 2
        print(
            "chaos: no initdb/redis-server: using DATABASE_URL and CELERY_BROKER_URL; the "
            "PostgreSQL restart and the Redis stop are skipped (they are shared)"
        )
    web_port, odoo_port, shop_port = free_port(), free_port(), free_port()
    odoo_url, shop_url = f"http://127.0.0.1:{odoo_port}", f"http://127.0.0.1:{shop_port}"
    env = hub_env(state, database=database, broker=broker, cache=cache, odoo_url=odoo_url)
    sup = Supervisor(env, logs)
    cmds = commands(web_port, odoo_port, shop_port)
    try:
        return _run(opts, sup, cmds, env, pg, redis, odoo_url, shop_url, web_port)
    finally:
        sup.stop_all()
        if not opts.keep:
            for svc in (pg, redis):
                if svc is not None:
                    svc.destroy()


def _run(
    opts: Options,
    sup: Supervisor,
    cmds: dict[str, list[str]],
    env: dict[str, str],
    pg: PrivatePostgres | None,
    redis: PrivateRedis | None,
    odoo_url: str,
    shop_url: str,
    web_port: int,
) -> int:
    for name in ("sandbox", "shopify"):  # the outside world: their logs are not the hub's
        sup.add(name, cmds[name], restart=False, logs=opts.state / "doubles")
    _wait("Odoo sandbox", lambda: _answers(f"{odoo_url}/__sandbox__/health"))
    _wait("Shopify stand-in", lambda: _answers(f"{shop_url}/__standin__/health"))
    # Shopify Plus limits: the acknowledgements of 10,000 orders are 10,000 tagsAdd calls.
    http("POST", f"{shop_url}/__standin__/config", {"bucket_size": 20000, "restore_rate": 1000})
    odoo = observe.OdooRpc(odoo_url)
    products = _prepare_odoo(odoo)
    secret = "chaos-" + uuid.uuid4().hex
    token = http("GET", f"{shop_url}/__standin__/credentials")["access_token"]
    _prepare_hub(env, shop_url, secret, token)
    for name in HUB_PROCESSES:
        sup.add(name, cmds[name])
    sup.watch()
    _wait("web", lambda: _answers(f"http://127.0.0.1:{web_port}/healthz"))
    for name in ("worker1", "worker2", "worker_odoo"):
        log = sup.procs[name].log
        _wait(name, lambda log=log: " ready." in log.read_text(errors="replace"))

    plan = make_plan(opts.orders, opts.rate, seed=opts.seed)
    faults = make_schedule(
        plan.send_seconds,
        kills=opts.kills,
        redis=opts.redis_fault and redis is not None,
        postgres=opts.postgres_fault and pg is not None,
        odoo=opts.odoo_faults,
        durations=Durations(),
        seed=opts.seed,
    )
    t0, start = int(time.time()), time.monotonic()
    start_wall = time.time()
    sender = Sender(
        plan,
        t0=t0,
        start=start,
        web_port=web_port,
        shop_url=shop_url,
        channel=CHANNEL,
        secret=secret,
        shop_domain=shop_url.split("//", 1)[1],
        run_id=uuid.uuid4().hex[:8],
        threads=opts.threads,
    )
    injector = Injector(
        faults, start=start, supervisor=sup, postgres=pg, redis=redis, odoo_url=odoo_url
    )
    # The warehouse ships what reaches Odoo, however late: until the settling time runs out.
    shipper = lifecycle.Shipper(
        plan, odoo, CHANNEL, start, deadline=plan.send_seconds + opts.settle
    )
    print(f"chaos: {plan.counts()} over {plan.send_seconds:.0f} s; faults:", flush=True)
    for f in faults:
        print(f"  {f.at:7.1f} s  {f.describe()}", flush=True)
    injector.run()
    shipper.run()
    sender.run(give_up_after=600)
    sent_done = time.monotonic() - start
    print(f"chaos: sending done at {sent_done:.0f} s: {sender.summary()}", flush=True)
    injector.join()
    shipper.join()
    last_fault = injector.last_end()
    accepted = sender.accepted_versions()
    acc, consistent_at, why = _settle(
        opts, plan, odoo, products, accepted, shipper, shop_url, start
    )
    verdict = _verdict(acc, consistent_at, why, sender, injector, shipper, sup)
    partner_dups = observe.partner_duplicates(odoo, CHANNEL)
    if partner_dups:
        verdict.append(f"FAIL: {len(partner_dups)} customers created twice in Odoo")
    inbox = observe.inbox_items()
    acks = observe.ack_states(CHANNEL)
    verdict += [
        f"FAIL: inbox item not explained: {x}"
        for x in report.unexplained(inbox, injector.applied, start_wall)
    ]
    consistency = {
        "last fault ended": f"{last_fault:.0f} s",
        "last delivery accepted": f"{sent_done:.0f} s",
        "consistent at": f"{consistent_at:.0f} s" if consistent_at else "never",
        "time to consistency after the last fault": (
            f"{max(0.0, consistent_at - last_fault):.0f} s" if consistent_at else "—"
        ),
        "events": observe.event_states(CHANNEL),
        "acknowledgements": acks,
    }
    unacked = sum(n for state, n in acks.items() if state != "done")
    if unacked:
        verdict.append(f"FAIL: {unacked} orders in Odoo the channel was not told about")
    extra = [
        ("orders in Odoo the channel was not told about (acknowledgement)", str(unacked), "0"),
        ("customers created twice in Odoo", str(len(partner_dups)), "0"),
        ("deliveries never accepted", str(sender.summary()["never_accepted"]), "0"),
        (
            "pickings validated → one channel fulfilment each",
            f"{sum(shipper.validated.values())} pickings, {len(shipper.validated)} orders",
            "",
        ),
    ]
    text = report.render(
        args={"command": opts.command},
        counts=plan.counts(),
        applied=injector.applied,
        sent=sender.summary(),
        acc=acc,
        consistency=consistency,
        restarts=sup.restarts(),
        inbox=inbox,
        start_wall=start_wall,
        extra=extra,
        verdict=verdict,
    )
    sup.stop_all()
    scan = secrets_scan(
        env, opts.state / "logs", {"webhook_secret": secret, "channel_access_token": token}
    )
    if scan:
        verdict.append(scan)
        text += "\n" + scan
    print(text, flush=True)
    (opts.state / "report.md").write_text(text + "\n")
    (opts.state / "report.json").write_text(
        json.dumps(
            {"settings": RUN_SETTINGS, "consistency": consistency, "rows": acc.rows() + extra},
            default=str,
            indent=1,
        )
    )
    return 0 if not verdict else 1


def _settle(
    opts: Options,
    plan: Plan,
    odoo: observe.OdooRpc,
    products: dict[str, int],
    accepted: dict[int, set[int]],
    shipper: lifecycle.Shipper,
    shop_url: str,
    start: float,
) -> tuple[Accounting, float | None, str]:
    """Wait until the hub has settled and the accounting holds; (accounting, when, why not)."""
    deadline = start + plan.send_seconds + opts.settle
    ignore = {products["SHIP"]}
    token = http("GET", f"{shop_url}/__standin__/credentials")["access_token"]
    shipped_ids = {n: plan.orders[n].order_id for n in shipper.validated}
    acc, why = Accounting(), "not settled"

    def observed() -> Accounting:
        odoo.faults(latency_ms=0, per_record_ms=0)  # the runner's own reads are not timed
        try:
            return account(
                plan,
                channel=CHANNEL,
                accepted_versions=accepted,
                sale_orders=observe.sale_orders(odoo, CHANNEL, ignore),
                hub=observe.hub_orders(CHANNEL),
                products=products,
                shipped=shipper.validated,
                fulfilments=observe.fulfilments(shop_url, token, shipped_ids),
            )
        finally:
            odoo.faults(latency_ms=20, per_record_ms=2)

    said = 0.0
    while time.monotonic() < deadline:
        why = _settled(plan, accepted, shipper.validated)
        if why:
            if time.monotonic() - said > 30:
                print(f"chaos: {time.monotonic() - start:.0f} s, waiting: {why}", flush=True)
                said = time.monotonic()
            time.sleep(2.0)
            continue
        at = time.monotonic() - start
        acc = observed()
        if acc.ok:
            return acc, at, ""
        why = "accounting does not hold yet"
        time.sleep(10.0)
    if not acc.accepted:  # never settled: account what there is, for the report
        acc = observed()
    return acc, None, why


def _verdict(
    acc: Accounting,
    consistent_at: float | None,
    why: str,
    sender: Sender,
    injector: Injector,
    shipper: lifecycle.Shipper,
    sup: Supervisor,
) -> list[str]:
    out = []
    if not acc.ok:
        out.append(
            f"FAIL: accounting: {len(acc.duplicates)} duplicates, {len(acc.lost)} lost, "
            f"{len(acc.wrong)} wrong, {len(acc.phantoms)} phantoms"
        )
    if consistent_at is None:
        out.append(f"FAIL: the hub did not become consistent ({why})")
    never = sender.summary()["never_accepted"]
    if never:
        out.append(f"FAIL: {never} deliveries never accepted: {sender.summary()['statuses']}")
    out += [f"FAIL: fault not applied: {e}" for e in injector.errors()]
    out += [f"FAIL: shipping order #{n}: {e}" for n, e in shipper.failures.items()]
    dead = sup.dead_without_restart()
    if dead:
        out.append(f"FAIL: died during the run: {', '.join(dead)}")
    return out


# --- secrets and personal data scan (issue 17) -------------------------------------------------


def secrets_scan(env: dict[str, str], logs: Path, planted: dict[str, str]) -> str:
    """HOOK for the secrets / PII scanner (issue 17; ``manage.py secrets_scan``, built
    separately): after the run it scans the chaos database (``DATABASE_URL`` in ``env``) and
    every log under ``logs``, knowing the secrets the run planted (``planted``: kind -> value,
    written as the scanner's JSON lines). Skipped with a message when the command does not
    exist. Returns '' when clean or skipped, else the failure line."""
    probe = subprocess.run(
        [PY, "manage.py", "help", "secrets_scan"], cwd=ROOT, env=env, capture_output=True
    )
    if probe.returncode != 0:
        print("chaos: secrets scan skipped: no `manage.py secrets_scan` command")
        return ""
    path = logs.parent / "planted.jsonl"
    path.write_text(
        "".join(
            json.dumps({"kind": kind, "value": value, "source": "chaos run"}) + "\n"
            for kind, value in planted.items()
        )
    )
    argv = [PY, "manage.py", "secrets_scan", "--logs", str(logs), "--planted", str(path)]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", flush=True)
    return "" if done.returncode == 0 else f"FAIL: secrets scan exited {done.returncode}"
