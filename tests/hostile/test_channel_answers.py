"""Hostile channel answers: every client call, fed broken answers by the stand-ins over HTTP,
ends in a classified error (apps.core.errors) that names the partner and the operation, never in
a bare exception and never in a silent "nothing there".

Two tests per client call (``cases.CASES``):

- every named hostile answer (sandbox/channels/hostile.py: an empty object, ``{"data": {}}``, an
  HTML page, truncated JSON, a wrong type, a 200 with an error body, an empty body) is a
  classified error carrying the partner, the operation and an excerpt;
- a property test (Hypothesis) answers arbitrary JSON, JSON under ``data``, and arbitrary bytes:
  the call either reads a fitting answer or raises a HubError, nothing else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import HubError, PermanentError
from apps.core.shapes import BadPartnerAnswer, UnreadableAnswer
from sandbox.channels.hostile import KINDS
from tests.fixtures.channel_standins import ChannelStandin
from tests.inventory.publish_helpers import channel_for, seed

from .cases import CASES, Case

pytestmark = [pytest.mark.django_db]

STANDINS = {
    "shopify": "shopify_standin",
    "woocommerce": "woo_standin",
    "bigcommerce": "bigcommerce_standin",
}

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["data", "errors", "id", "nodes", "orders", "locations", "x"])
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
ANSWERS = st.one_of(
    st.sampled_from(KINDS).map(lambda k: {"hostile": k}),
    JSON.map(lambda v: {"raw": json.dumps(v)}),
    JSON.map(lambda v: {"raw": json.dumps({"data": v})}),
    st.binary(max_size=80).map(lambda b: {"raw_b64": base64.b64encode(b).decode()}),
)


@pytest.fixture
def on_standin(
    request: pytest.FixtureRequest, make_channel: Callable[..., Any]
) -> Callable[[Case], tuple[Any, ChannelStandin, dict[str, str]]]:
    """A channel on the case's stand-in with three products; resolved ids and budgets cleared."""

    def make(case: Case) -> tuple[Any, ChannelStandin, dict[str, str]]:
        standin: ChannelStandin = request.getfixturevalue(STANDINS[case.kind])
        cache.clear()
        ids = seed(standin, 3)
        return channel_for(make_channel, standin, f"h-{case.kind[:4]}"), standin, ids

    return make


def answer_once(standin: ChannelStandin, case: Case, item: dict[str, Any]) -> None:
    standin.set_config(fail_next=[{**case.match, **case.extra, **item}])


def consumed(standin: ChannelStandin) -> bool:
    return not standin.set_config()["fail_next"]


def run(case: Case, channel: Any, standin: ChannelStandin, ids: dict[str, str]) -> Any:
    """The client call; a HubError is returned (classified), anything else fails the test."""
    try:
        return case.run(channel, standin, ids)
    except HubError as exc:
        return exc
    except Exception as exc:  # the defect this file exists for
        pytest.fail(f"{case}: bare {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_hostile_answer_is_a_classified_error(
    case: Case, on_standin: Callable[[Case], Any]
) -> None:
    channel, standin, ids = on_standin(case)
    for kind in KINDS:
        cache.clear()  # resolved ids and locations: every call is made again
        answer_once(standin, case, {"hostile": kind})
        got = run(case, channel, standin, ids)
        assert consumed(standin), f"{case}: the {kind} answer was never asked for"
        if kind == "empty_body" and case.empty_ok:
            # An empty v2 list is "none": read as such (the flow may then refuse on its own).
            assert not isinstance(got, (BadPartnerAnswer, UnreadableAnswer)), f"{case}: {got}"
            continue
        assert isinstance(got, HubError), f"{case}: {kind} was read as an answer: {got!r}"
        if isinstance(got, (BadPartnerAnswer, UnreadableAnswer)):
            ctx = got.context
            assert ctx["partner"] == channel.code and ctx["operation"], ctx
            assert ctx["channel"] == channel.code and "excerpt" in ctx, ctx
        else:
            # Only the platform's own error object may surface as its own error (a GraphQL
            # ``errors`` member), classified all the same.
            assert kind == "error_body" and isinstance(got, PermanentError), (kind, got)
        if kind in ("html_page", "truncated_json", "empty_body"):
            assert isinstance(got, (UnreadableAnswer, BadPartnerAnswer)), (kind, got)
    standin.set_config(fail_next=[])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_arbitrary_answers_never_raise_a_bare_exception(
    case: Case, on_standin: Callable[[Case], Any]
) -> None:
    channel, standin, ids = on_standin(case)

    @settings(
        max_examples=12,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(item=ANSWERS)
    def prop(item: dict[str, Any]) -> None:
        cache.clear()
        answer_once(standin, case, item)
        run(case, channel, standin, ids)  # fails the test on anything but a HubError
        standin.set_config(fail_next=[])

    prop()
