"""Shopify fulfilment: the Admin GraphQL documents the adapter sends, their query costs, and
what it reads of each answer (apps.core.shapes; ``fulfillments`` is required: reading "none"
from a broken answer would fulfil a second time)."""

from __future__ import annotations

FO_PAGE = 5
FO_LINES_PAGE = 30
MORE_LINES_PAGE = 100
FULFILLMENTS_PAGE = 50
MUTATION_COST = 10.0

# Page sizes are literals in the queries below (FO_PAGE, FO_LINES_PAGE, FULFILLMENTS_PAGE,
# MORE_LINES_PAGE): keep them in step.
_FO_FRAGMENT = """
fragment HubFoPage on FulfillmentOrderConnection {
  pageInfo { hasNextPage endCursor }
  nodes {
    id status
    assignedLocation { location { id } }
    lineItems(first: 30) {
      pageInfo { hasNextPage endCursor }
      nodes { id remainingQuantity lineItem { id sku } }
    }
  }
}
"""

READ_QUERY = (
    """
query HubFulfilmentState($id: ID!) {
  order(id: $id) {
    id name
    fulfillmentOrders(first: 5) { ...HubFoPage }
    fulfillments(first: 50) { id name trackingInfo(first: 10) { company number url } }
  }
}
"""
    + _FO_FRAGMENT
)
READ_COST = 2 + FO_PAGE * (1 + 2 + 2 + FO_LINES_PAGE * 2) + 2 + 1

MORE_FO_QUERY = (
    """
query HubMoreFulfillmentOrders($id: ID!, $after: String) {
  order(id: $id) { fulfillmentOrders(first: 5, after: $after) { ...HubFoPage } }
}
"""
    + _FO_FRAGMENT
)

MORE_LINES_QUERY = """
query HubMoreFulfillmentOrderLines($id: ID!, $after: String) {
  node(id: $id) {
    ... on FulfillmentOrder {
      lineItems(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id remainingQuantity lineItem { id sku } }
      }
    }
  }
}
"""
MORE_LINES_COST = 3 + MORE_LINES_PAGE * 2

CANDIDATE_LINES_QUERY = """
query HubFulfillmentLines($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Fulfillment {
      id
      fulfillmentLineItems(first: 100) { nodes { quantity lineItem { id sku } } }
    }
  }
}
"""

# What each call reads of the answer's ``data`` (apps.core.shapes). ``fulfillments`` is
# required: reading "none" from a broken answer would fulfil a second time.
_PAGE_INFO = {"hasNextPage": bool, "endCursor?": (str, None)}
_FO_LINES = {
    "pageInfo": _PAGE_INFO,
    "nodes": [
        {
            "id": str,
            "remainingQuantity?": (int, None),
            "lineItem?": ({"id?": (str, None), "sku?": (str, None)}, None),
        }
    ],
}
_FO_PAGE = {
    "pageInfo": _PAGE_INFO,
    "nodes": [{"id": str, "status?": (str, None), "lineItems": _FO_LINES}],
}
READ_SHAPE = {
    "order": (
        {
            "fulfillmentOrders": _FO_PAGE,
            "fulfillments": [{"id": str, "trackingInfo?": ([dict], None)}],
        },
        None,
    )
}
MORE_FO_SHAPE = {"order": ({"fulfillmentOrders": _FO_PAGE}, None)}
MORE_LINES_SHAPE = {"node": ({"lineItems?": (_FO_LINES, None)}, None)}
CANDIDATE_LINES_SHAPE = {
    "nodes": [
        (
            {
                "id?": str,
                "fulfillmentLineItems?": (
                    {"nodes": [{"quantity?": (int, None), "lineItem?": (dict, None)}]},
                    None,
                ),
            },
            None,
        )
    ]
}

CREATE_MUTATION = """
mutation HubFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id name status trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

TRACKING_MUTATION = """
mutation HubFulfilmentTracking($id: ID!, $tracking: FulfillmentTrackingInput!, $notify: Boolean) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $id, trackingInfoInput: $tracking, notifyCustomer: $notify
  ) {
    fulfillment { id trackingInfo(first: 10) { company number url } }
    userErrors { field message }
  }
}
"""

EVENT_MUTATION = """
mutation HubFulfilmentEvent($event: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $event) {
    fulfillmentEvent { id status happenedAt }
    userErrors { field message }
  }
}
"""
