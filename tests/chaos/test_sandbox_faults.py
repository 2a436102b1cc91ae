"""The Odoo sandbox's commit-then-drop for a while (``drop_rate``) and on chosen methods
(``drop_methods``), which the chaos run uses for "commit-then-drop on creates"."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.fixtures.sandbox import OdooSandbox


def rpc(sb: OdooSandbox, model: str, method: str, *args: Any) -> Any:
    """One execute_kw; a connection closed without an answer raises OSError."""
    answer = sb.call("object", "execute_kw", sb.db, 2, sb.password, model, method, list(args))
    return answer["result"]


def test_drop_on_creates_loses_their_answers_after_commit_and_spares_other_writes(
    odoo_sandbox: OdooSandbox,
) -> None:
    sb = odoo_sandbox
    partner = sb.execute("res.partner", "create", {"name": "Before"})
    sb.set_faults(drop_rate=1.0, drop_methods=["create"])
    # a write that is not a create is answered
    assert rpc(sb, "res.partner", "write", [partner], {"name": "Renamed"}) is True
    # every create commits, and its answer is lost
    for n in range(3):
        with pytest.raises(OSError):
            rpc(sb, "res.partner", "create", {"name": f"Dropped {n}"})
    found = sb.execute("res.partner", "search", [["name", "=like", "Dropped %"]])
    assert len(found) == 3
    # half the creates, over many: some answered, some not, all committed
    sb.set_faults(drop_rate=0.5, seed=11)
    answered = 0
    for n in range(40):
        try:
            rpc(sb, "res.partner", "create", {"name": f"Half {n}"})
            answered += 1
        except OSError:
            pass
    assert 5 < answered < 35
    assert len(sb.execute("res.partner", "search", [["name", "=like", "Half %"]])) == 40


def test_drop_methods_also_filters_the_counted_drop_and_a_reset_clears_both(
    odoo_sandbox: OdooSandbox,
) -> None:
    sb = odoo_sandbox
    partner = sb.execute("res.partner", "create", {"name": "Kept"})
    sb.set_faults(drop_after_commit=1, drop_methods=["create"])
    assert rpc(sb, "res.partner", "write", [partner], {"name": "Still answered"}) is True
    assert sb.faults()["drop_after_commit"] == 1  # a write did not use it up
    with pytest.raises(OSError):
        rpc(sb, "res.partner", "create", {"name": "Lost answer"})
    assert sb.faults()["drop_after_commit"] == 0
    refused = requests.post(f"{sb.url}/__sandbox__/faults", json={"drop_rate": 2}, timeout=5)
    assert refused.status_code == 400
    sb.set_faults(drop_rate=0.3)
    sb.reset()
    faults = sb.faults()
    assert (faults["drop_rate"], faults["drop_methods"]) == (0.0, [])
