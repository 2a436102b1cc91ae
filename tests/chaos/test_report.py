"""The chaos report explains an inbox item by its key or by a fault whose window holds its first
sighting; anything else, and any failure nobody classified, fails the run."""

from __future__ import annotations

import datetime as dt

from bench.chaos.faults import Applied
from bench.chaos.observe import InboxItem
from bench.chaos.report import unexplained
from bench.chaos.schedule import Fault

START = dt.datetime(2026, 12, 6, 1, 0, tzinfo=dt.UTC)


def item(key: str, at: float, category: str = "anomaly") -> InboxItem:
    seen = START + dt.timedelta(seconds=at)
    return InboxItem(key, category, key, "open", 1, 1, 1, seen, seen, "")


def test_items_are_explained_by_their_key_or_a_fault_window_and_nothing_else() -> None:
    redis = Applied(Fault(at=100.0, kind="redis_stop", seconds=30.0), began=100.0, ended=130.0)
    items = [
        item("anomaly:unusual:chaos:6100002023", 600.0),  # the traffic's own outliers
        item("order_ack:chaos:1", 900.0),  # a known key, long after every fault
        item("orders:late:chaos:2", 110.0),  # an unknown key inside the Redis stop
        item("orders:late:chaos:3", 900.0),  # an unknown key, no fault near
        item("order_ack:chaos:4", 900.0, category="unknown"),  # nobody classified it
    ]
    assert unexplained(items, [redis], START.timestamp()) == [
        "orders:late:chaos:3 (anomaly): orders:late:chaos:3",
        "order_ack:chaos:4 (unknown): order_ack:chaos:4",
    ]
