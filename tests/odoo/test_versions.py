"""Version adapters and the small pure helpers of the gateway."""

from __future__ import annotations

import pytest

from apps.core.errors import ConfigurationError
from apps.odoo.gateway import chunked, falsy_none, m2o_id
from apps.odoo.versions import ODOO_16, ODOO_17, ODOO_18, ODOO_19, adapter_for, parse_major

# common.version exactly as the recorded Odoo 17 server answered (transcript 01)
V17 = {
    "server_version": "17.0-20240709",
    "server_version_info": [17, 0, 0, "final", 0, ""],
    "server_serie": "17.0",
    "protocol_version": 1,
}


def test_recorded_17_answer_picks_the_17_adapter() -> None:
    assert adapter_for(V17) is ODOO_17


@pytest.mark.parametrize(
    ("info", "major"),
    [
        ([16, 0, 0, "final", 0, ""], 16),
        ([18, 0, 0, "final", 0, ""], 18),
        (["saas~17", 2, 0, "final", 0, ""], 17),
    ],
)
def test_parse_major(info: list[object], major: int) -> None:
    assert parse_major({"server_version_info": info}) == major


# common.version as the real Odoo 18.0 and 19.0 Community servers answered (transcripts 18/, 19/)
V18 = {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""]}
V19 = {"server_version": "19.0", "server_version_info": [19, 0, 0, "final", 0, ""]}


def test_18_and_19_have_their_own_adapters() -> None:
    assert adapter_for(V18) is ODOO_18
    assert adapter_for(V19) is ODOO_19
    assert ODOO_19.major == 19


def test_old_versions_are_refused_and_newer_fall_back_to_the_newest() -> None:
    with pytest.raises(ConfigurationError):
        adapter_for({"server_version_info": [15, 0, 0, "final", 0, ""]})
    assert adapter_for({"server_version_info": [20, 0, 0, "final", 0, ""]}) is ODOO_19


def test_payment_ref_states_and_clearing_account() -> None:
    # account.payment.ref became memo on 18, with the payment's own states
    assert [a.payment_ref_field for a in (ODOO_16, ODOO_17, ODOO_18, ODOO_19)] == [
        "ref",
        "ref",
        "memo",
        "memo",
    ]
    assert ODOO_17.payment_posted_states == ("posted",)
    assert ODOO_18.payment_posted_states == ODOO_19.payment_posted_states == ("in_process", "paid")
    assert "canceled" in ODOO_18.payment_cancel_states and "cancel" in ODOO_17.payment_cancel_states
    # res.company lost the Outstanding Receipts field on 18: the chart's external id instead
    assert ODOO_17.clearing_account_company_field == "account_journal_payment_debit_account_id"
    assert ODOO_18.clearing_account_company_field is None
    assert ODOO_18.clearing_account_xmlid == ODOO_19.clearing_account_xmlid
    assert ODOO_18.clearing_account_xmlid is not None
    assert ODOO_18.clearing_account_xmlid.format(company=1) == (
        "account.1_account_journal_payment_debit_account_id"
    )


def test_sale_line_fields_renamed_on_19() -> None:
    keys = ["order_id", "product_uom", "tax_id", "price_unit"]
    assert ODOO_18.sale_line_fields(keys) == keys
    assert ODOO_19.sale_line_fields(keys) == ["order_id", "product_uom_id", "tax_ids", "price_unit"]
    row = {"id": 1, "product_uom_id": [1, "Units"], "tax_ids": [4]}
    assert ODOO_19.sale_line_canonical(row) == {"id": 1, "product_uom": [1, "Units"], "tax_id": [4]}
    assert ODOO_18.sale_line_canonical({"tax_id": [4]}) == {"tax_id": [4]}
    assert (ODOO_18.user_groups_field, ODOO_19.user_groups_field) == ("groups_id", "group_ids")


def test_partner_pricelist_and_mobile() -> None:
    # 19 computes no property_product_pricelist while the Pricelists setting is off: the
    # partner's own is its specific_property_product_pricelist (read live on 19.0)
    own = [7, "B2B (EUR)"]
    assert ODOO_18.partner_pricelist_fields == ("property_product_pricelist",)
    assert ODOO_18.partner_pricelist({"property_product_pricelist": own}) == own
    assert ODOO_19.partner_pricelist_fields == (
        "property_product_pricelist",
        "specific_property_product_pricelist",
    )
    row = {"property_product_pricelist": False, "specific_property_product_pricelist": own}
    assert ODOO_19.partner_pricelist(row) == own
    computed = [3, "Default (EUR)"]
    assert ODOO_19.partner_pricelist({**row, "property_product_pricelist": computed}) == computed
    assert ODOO_19.partner_pricelist({"property_product_pricelist": False}) is False
    assert ODOO_17.partner_pricelist({}) is False
    # res.partner.mobile is gone on 19
    assert [a.partner_mobile_fields for a in (ODOO_16, ODOO_17, ODOO_18, ODOO_19)] == [
        ("mobile",),
        ("mobile",),
        ("mobile",),
        (),
    ]


def test_storable_products() -> None:
    assert ODOO_16.product_storable_vals() == {"detailed_type": "product"}
    assert ODOO_17.product_storable_vals() == {"detailed_type": "product"}
    assert ODOO_18.product_storable_vals() == {"type": "consu", "is_storable": True}
    assert ODOO_18.product_storable_domain() == [["is_storable", "=", True]]
    assert ODOO_19.product_storable_vals() == ODOO_18.product_storable_vals()


def test_move_quantities() -> None:
    assert ODOO_16.move_done_vals(3) == {"quantity_done": 3}
    assert ODOO_17.move_done_vals(3) == {"quantity": 3, "picked": True}
    assert ODOO_18.move_done_vals(3) == {"quantity": 3, "picked": True}
    assert ODOO_16.move_fields() == ["quantity_done"]
    assert ODOO_17.move_done_quantity({"quantity": 6.0, "picked": True}) == 6.0


def test_return_method_and_tracking_module() -> None:
    # 17 was recorded calling create_returns (transcript 07)
    assert (ODOO_16.return_method, ODOO_17.return_method, ODOO_18.return_method) == (
        "create_returns",
        "create_returns",
        "action_create_returns",
    )
    # 18's wizard lines start at 0: "everything delivered" is its own button
    assert (ODOO_17.return_all_method, ODOO_18.return_all_method) == (
        None,
        "action_create_returns_all",
    )
    assert ODOO_19.return_method == "action_create_returns"
    # account.move.payment_id became origin_payment_id on 18
    assert (ODOO_17.move_payment_field, ODOO_18.move_payment_field) == (
        "payment_id",
        "origin_payment_id",
    )
    assert ODOO_16.tracking_module == "delivery"
    assert ODOO_17.tracking_module == ODOO_18.tracking_module == "stock_delivery"
    assert "delivery_status" not in ODOO_16.sale_order_status_fields


def test_chunked() -> None:
    assert list(chunked([], 1000)) == []
    parts = list(chunked(list(range(2501))))
    assert [len(p) for p in parts] == [1000, 1000, 501]
    assert sum(parts, []) == list(range(2501))
    with pytest.raises(ValueError):
        list(chunked([1], 0))


def test_odoo_value_helpers() -> None:
    assert m2o_id([8, "WH/Stock"]) == 8
    assert m2o_id(False) is None
    assert m2o_id(5) == 5
    assert falsy_none(False) is None
    assert falsy_none("x") == "x"
