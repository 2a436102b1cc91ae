"""Command line entry point: ``python -m sandbox.channels --kind shopify --port 8101``."""

from __future__ import annotations

import argparse
import sys

from . import KINDS
from .server import make_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.channels", description="Sales-channel API stand-in"
    )
    parser.add_argument("--kind", required=True, choices=KINDS)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--products", type=int, default=10, help="seed SKU-001..SKU-NNN")
    parser.add_argument(
        "--seed-skus", default="", help="comma-separated extra SKUs to seed, e.g. TSHIRT-BLU-M"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    skus = [s.strip() for s in args.seed_skus.split(",") if s.strip()]
    server = make_server(args.kind, args.host, args.port, args.products, skus, args.verbose)
    host, port = str(server.server_address[0]), int(server.server_address[1])
    creds = server.standin.platform.credentials()
    print(f"{args.kind} stand-in listening on http://{host}:{port} {creds}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
