"""`make chaos`: the hub's production topology on one machine, orders through the webhook path
at a steady rate while faults are injected on a schedule, then exact accounting.

Run: ``python -m bench.chaos --orders 10000`` (or ``make chaos ORDERS=10000``) from the
repository root with the project's venv. docs/reliability.md, "Chaos run", explains the plan,
the fault schedule, the accounting and the figures.

Modules:

- ``plan``: which orders, edits, cancellations and shipments, their webhook deliveries, and the
  final state each order must reach (pure, seeded);
- ``schedule``: the fault schedule scaled to the run's length (pure);
- ``accounting``: expected versus observed, the table and the verdict (pure);
- ``services``: a private PostgreSQL cluster and Redis server for the run;
- ``topology``: the hub's processes under a supervisor that restarts what dies;
- ``sender``: the signed deliveries, three of each, concurrently, retried like a platform;
- ``faults``: the injector that runs the schedule against the processes and the sandbox;
- ``observe``: reading the hub's database, the Odoo sandbox and the Shopify stand-in;
- ``lifecycle``: pickings validated in Odoo while the faults run (one fulfilment each);
- ``runner``: the whole run, start to verdict.
"""
