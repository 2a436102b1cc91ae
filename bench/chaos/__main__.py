"""``python -m bench.chaos --orders 10000`` (``make chaos ORDERS=10000``); ``--help`` lists the
options. Exit 0 only when every check of the accounting holds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .runner import Options, run
from .topology import ROOT


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=6.0, help="new orders per second (steady)")
    p.add_argument("--kills", type=int, default=10, help="worker SIGKILLs spread over the run")
    p.add_argument("--seed", type=int, default=17)
    p.add_argument(
        "--settle",
        type=float,
        default=1800.0,
        help="seconds allowed to become consistent, counted from the last planned send",
    )
    p.add_argument("--threads", type=int, default=16, help="concurrent sender threads")
    p.add_argument("--no-redis-fault", dest="redis_fault", action="store_false")
    p.add_argument("--no-postgres-fault", dest="postgres_fault", action="store_false")
    p.add_argument("--no-odoo-faults", dest="odoo_faults", action="store_false")
    p.add_argument("--keep", action="store_true", help="keep the private PostgreSQL and Redis")
    p.add_argument("--state", type=Path, default=ROOT / "var" / "chaos")
    args = p.parse_args(argv)
    command = "python -m bench.chaos " + " ".join(argv if argv is not None else sys.argv[1:])
    return run(
        Options(
            orders=args.orders,
            rate=args.rate,
            kills=args.kills,
            seed=args.seed,
            state=args.state.resolve(),
            settle=args.settle,
            threads=args.threads,
            redis_fault=args.redis_fault,
            postgres_fault=args.postgres_fault,
            odoo_faults=args.odoo_faults,
            keep=args.keep,
            command=command.strip(),
        )
    )


if __name__ == "__main__":
    sys.exit(main())
