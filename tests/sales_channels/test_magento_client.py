"""apps.sales_channels.magento against the Magento stand-in: auth modes, classified errors with
Magento's message rendered, searchCriteria paging, exact money; and `channel add --kind magento`."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from apps.core.errors import ChannelAuthError, PermanentError, RateLimited, TransientError
from apps.core.shapes import BadPartnerAnswer, UnreadableAnswer
from apps.sales_channels.magento import MagentoError, magento_client, render_message
from apps.sales_channels.models import Channel
from tests.fixtures.channel_standins import ChannelStandin

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(make_channel: Any, magento_standin: ChannelStandin) -> Channel:
    mg = magento_standin
    made: Channel = make_channel(
        "mg-client", "magento", api_base_url=mg.url, access_token=mg.access_token
    )
    return made


def test_render_message_fills_magento_placeholders() -> None:
    assert render_message({"message": "%1 of %2", "parameters": ["a", "b"]}) == "a of b"
    assert (
        render_message({"message": '"%fieldName" is required.', "parameters": {"fieldName": "x"}})
        == '"x" is required.'
    )
    many = {"message": "%1/%10", "parameters": [str(n) for n in range(1, 11)]}
    assert render_message(many) == "1/10"
    nested = {"message": "Validation Failed", "errors": [{"message": "bad %1", "parameters": [7]}]}
    assert render_message(nested) == "Validation Failed (bad 7)"


def test_get_order_reads_money_exactly(channel: Channel, magento_standin: ChannelStandin) -> None:
    magento_standin.seed_order(lines=[{"sku": "SKU-001", "qty": 3, "price": "0.10"}])
    order = magento_client(channel).request("GET", "/orders/1")
    assert order["subtotal"] == Decimal("0.3")  # 0.1 * 3 in floats would be 0.30000000000000004
    assert isinstance(order["grand_total"], Decimal)
    assert order["entity_id"] == 1


def test_4xx_is_a_magento_error_with_the_rendered_message(channel: Channel) -> None:
    client = magento_client(channel)
    with pytest.raises(MagentoError) as err:
        client.request("GET", "orders")  # no searchCriteria
    assert err.value.status == 400
    assert err.value.magento_message == '"searchCriteria" is required. Enter and try again.'
    assert "answered 400" in str(err.value)
    assert isinstance(err.value, PermanentError)
    with pytest.raises(MagentoError) as missing:
        client.request("GET", "orders/404")
    assert missing.value.status == 404 and "doesn't exist" in missing.value.magento_message


def test_wrong_token_is_channel_auth_error(channel: Channel) -> None:
    channel.access_token = "wrong"
    with pytest.raises(ChannelAuthError, match="isn't authorized to access Magento_Sales"):
        magento_client(channel).request("GET", "orders/1")


def test_5xx_429_and_connection_failures_are_transient(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    client = magento_client(channel)
    magento_standin.set_config(
        fail_next=[
            {"path_contains": "/V1/orders", "status": 503, "body": {"message": "down"}},
            {"path_contains": "/V1/orders", "status": 429, "headers": {"Retry-After": "7"}},
        ]
    )
    with pytest.raises(TransientError):
        client.request("GET", "orders/1")
    with pytest.raises(RateLimited) as limited:
        client.request("GET", "orders/1")
    assert limited.value.retry_after == 7.0
    channel.api_base_url = "http://127.0.0.1:9"
    with pytest.raises(TransientError, match="ConnectionError"):
        magento_client(channel).request("GET", "orders/1")


def test_search_walks_pages_by_total_count(
    channel: Channel, magento_standin: ChannelStandin
) -> None:
    for _ in range(7):
        magento_standin.seed_order(lines=[{"sku": "SKU-001", "qty": 1}])
    client = magento_client(channel)
    pages = list(client.search_pages("orders", [("entity_id", 0, "gt")], 3))
    assert [[o["entity_id"] for o in p] for p in pages] == [[1, 2, 3], [4, 5, 6], [7]]
    # exactly a multiple of the page size: no extra request for a page past the end
    before = magento_standin.stats()["calls"].get("orders_search", 0)
    assert len(list(client.search("orders", [("entity_id", 6, "lteq")], 3))) == 6
    assert magento_standin.stats()["calls"]["orders_search"] - before == 2
    # OR group and sort
    found = client.search(
        "orders",
        [[("entity_id", 2, "eq"), ("entity_id", 5, "eq")]],
        10,
        sort=[("entity_id", "DESC")],
    )
    assert [o["entity_id"] for o in found] == [5, 2]


def test_oauth1_mode_signs_requests(make_channel: Any, magento_standin: ChannelStandin) -> None:
    mg = magento_standin
    c = mg.credentials
    channel = make_channel(
        "mg-oauth",
        "magento",
        api_base_url=mg.url,
        magento_auth="oauth1",
        consumer_key=c["consumer_key"],
        consumer_secret=c["consumer_secret"],
        access_token=c["access_token"],
        access_token_secret=c["access_token_secret"],
    )
    mg.set_config(bearer_allowed=False)  # the 2.4.4+ default for integration tokens
    mg.seed_order(lines=[{"sku": "SKU-001", "qty": 1}])
    client = magento_client(channel)
    assert [o["entity_id"] for o in client.search("orders", [("entity_id", 1, "eq")])] == [1]
    channel.access_token_secret = "wrong"
    with pytest.raises(ChannelAuthError):
        magento_client(channel).request("GET", "orders/1")


def test_urls(channel: Channel) -> None:
    channel.api_base_url = "https://shop.example.com/"
    channel.magento_store_code = "de_store"
    client = magento_client(channel)
    assert client.url("orders/5") == "https://shop.example.com/rest/de_store/V1/orders/5"
    assert client.url("/V1/orders/5") == "https://shop.example.com/rest/de_store/V1/orders/5"
    assert client.url("products", store="all") == "https://shop.example.com/rest/all/V1/products"
    channel.api_base_url = "https://na1.api.commerce.adobe.com/T3NANT"
    assert (
        magento_client(channel).url("orders")
        == "https://na1.api.commerce.adobe.com/T3NANT/V1/orders"
    )


def test_magento_client_refuses_other_kinds(shopify_channel: Channel) -> None:
    with pytest.raises(PermanentError, match="not magento"):
        magento_client(shopify_channel)


def test_channel_add_magento_cli() -> None:
    out = StringIO()
    call_command(
        "channel",
        "add",
        "mg-cli",
        "--kind",
        "magento",
        "--api-base-url",
        "https://shop.example.com",
        "--access-token",
        "tok",
        "--store-code",
        "b2b_en",
        "--client-id",
        "io-client-1",
        stdout=out,
    )
    channel = Channel.objects.get(code="mg-cli")
    assert channel.kind == "magento" and channel.magento_store_code == "b2b_en"
    assert channel.magento_client_id == "io-client-1" and channel.magento_io_events is True
    assert channel.magento_auth == "bearer" and channel.access_token == "tok"
    assert "/webhooks/magento/mg-cli/" in out.getvalue()
    # the token is stored encrypted
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT access_token FROM sales_channels_channel WHERE code = 'mg-cli'")
        assert cur.fetchone()[0] != "tok"
    call_command(
        "channel",
        "add",
        "mg-os",
        "--kind",
        "magento",
        "--api-base-url",
        "https://os.example.com",
        "--auth",
        "oauth1",
        "--consumer-key",
        "ck",
        "--consumer-secret",
        "cs",
        "--access-token",
        "at",
        "--access-token-secret",
        "ats",
        stdout=StringIO(),
    )
    open_source = Channel.objects.get(code="mg-os")
    assert open_source.magento_io_events is False and open_source.magento_store_code == "default"
    assert open_source.access_token_secret == "ats"
    call_command(
        "channel", "set", "mg-os", "--magento-sources", '{"WH": "default"}', stdout=StringIO()
    )
    open_source.refresh_from_db()
    assert open_source.magento_sources == {"WH": "default"}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="MSI sources"):
        call_command("channel", "set", "mg-os", "--magento-sources", "[1]", stdout=StringIO())
    with pytest.raises(CommandError, match="store code"):
        call_command("channel", "set", "mg-os", "--magento-store-code", "a/b", stdout=StringIO())


def test_admin_edits_magento_settings_and_keeps_secrets_write_only(
    admin_client: Any, make_channel: Any
) -> None:
    from tests.sales_channels.test_admin import _channel_post

    channel = make_channel(
        "mg-admin",
        "magento",
        api_base_url="https://shop.example.com",
        magento_auth="oauth1",
        access_token_secret="very-secret-ats",
    )
    url = f"/admin/sales_channels/channel/{channel.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "very-secret-ats" not in page and "magento_client_id" in page
    resp = admin_client.post(
        url,
        _channel_post(
            channel,
            magento_store_code="b2b_en",
            magento_auth="oauth1",
            magento_client_id="io-42",
            magento_io_events="on",
            magento_sources='{"WH": "eu_source"}',
        ),
    )
    assert resp.status_code == 302, resp.content.decode()[:1500]
    channel.refresh_from_db()
    assert (channel.magento_store_code, channel.magento_client_id) == ("b2b_en", "io-42")
    assert channel.magento_io_events is True and channel.magento_sources == {"WH": "eu_source"}
    assert channel.access_token_secret == "very-secret-ats"  # blank kept the stored value
    bad = admin_client.post(url, _channel_post(channel, magento_sources='["WH"]'))
    assert bad.status_code == 200 and "MSI sources" in bad.content.decode()


@pytest.mark.parametrize(
    ("hostile", "error"),
    [
        ("html_page", UnreadableAnswer),
        ("truncated_json", UnreadableAnswer),
        ("empty_object", BadPartnerAnswer),
        ("wrong_type", BadPartnerAnswer),
    ],
)
def test_a_broken_search_answer_is_classified_never_read_as_nothing(
    channel: Channel, magento_standin: ChannelStandin, hostile: str, error: type[Exception]
) -> None:
    """A search that answers a proxy page, half a body or the wrong JSON must not be read as "no
    orders": the shape check classifies it (transient while it may pass, else for the inbox)."""
    magento_standin.seed_order(lines=[{"sku": "SKU-001", "qty": 1, "price": "5.00"}])
    magento_standin.set_config(fail_next=[{"path_contains": "/V1/orders", "hostile": hostile}])
    with pytest.raises(error) as err:
        list(magento_client(channel).search("orders", page_size=10))
    assert err.value.context["partner"] == channel.code
    assert "magento" in err.value.context["operation"]
    # The next answer is healthy again and the order is there.
    assert [o["entity_id"] for o in magento_client(channel).search("orders", page_size=10)] == [1]
