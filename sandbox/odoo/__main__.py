"""Command line entry point: ``python -m sandbox.odoo --port 8069``."""

from __future__ import annotations

import argparse
import sys

from .faults import Faults
from .server import make_server
from .versions import PROFILES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.odoo",
        description="Odoo 17/18/19 sandbox server (JSON-RPC; JSON-2 on 19)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069, help="0 picks a free port")
    parser.add_argument("--db", default="hub", help="database name clients must send")
    parser.add_argument(
        "--data", default=None, help="SQLite file to persist state in (memory only if omitted)"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="baseline latency added to every RPC call"
    )
    parser.add_argument(
        "--per-record-ms",
        type=float,
        default=0.0,
        help="baseline latency per record read or written",
    )
    parser.add_argument(
        "--seed",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="load demo products, stock and customers (--no-seed: base records only)",
    )
    parser.add_argument(
        "--odoo-version",
        type=int,
        choices=sorted(PROFILES),
        default=17,
        help="present itself as this Odoo (19 also serves JSON-2 under /json/2)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="seed this API key for admin (kept across resets; repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    baseline = Faults(latency_ms=args.latency_ms, per_record_ms=args.per_record_ms)
    server = make_server(
        args.host,
        args.port,
        args.db,
        args.data,
        baseline,
        args.verbose,
        args.seed,
        odoo_version=args.odoo_version,
        api_keys=tuple(args.api_key),
    )
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(
        f"Odoo sandbox listening on http://{host}:{port} (db={args.db}, Odoo {args.odoo_version})",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
