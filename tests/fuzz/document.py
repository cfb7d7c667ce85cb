"""The fuzzer's copy of the app's OpenAPI document, with two additions the app's own lacks:
links for the stateful phase (its answers are plain dicts, so the ids one answer gives and
the next request needs are named here), and the contract's rules on phones, amounts, roles
and statuses (CONTRACT §3-§4), so that "valid" examples are mostly accepted and reach the
code behind validation. Negative examples are drawn against these tighter rules too."""

from __future__ import annotations

import copy
from typing import Any

CUSTOMER = {"customer_id": "$response.body#/customer_id"}
PAYMENT = {"payment_id": "$response.body#/id"}
FIRST_PAYMENT = {"payment_id": "$response.body#/0/id"}
ORDER = {"order_id": "$response.body#/id"}

# (source method, source path, status) -> [(target method, target path, parameters, body)]
LINKS: dict[tuple[str, str, str], list[tuple[str, str, dict[str, str], Any]]] = {
    ("post", "/api/customers", "201"): [
        ("get", "/api/customers/{customer_id}", CUSTOMER, None),
        ("get", "/api/customers/{customer_id}/statement", CUSTOMER, None),
        ("post", "/api/invoices", {}, {"customer_id": "$response.body#/customer_id"}),
        ("post", "/api/pos/sales", {}, {"customer_id": "$response.body#/customer_id"}),
    ],
    ("post", "/api/invoices", "201"): [
        ("get", "/api/invoices/{invoice_id}", {"invoice_id": "$response.body#/invoice_id"}, None),
        ("get", "/api/customers/{customer_id}", CUSTOMER, None),
    ],
    ("post", "/api/pos/sales", "201"): [
        ("get", "/api/pos/sales/{pos_id}", {"pos_id": "$response.body#/pos_id"}, None),
    ],
    ("post", "/api/orders", "201"): [
        ("get", "/api/orders/{order_id}", ORDER, None),
        ("patch", "/api/orders/{order_id}", ORDER, None),
        ("post", "/api/orders/{order_id}/pay", ORDER, None),
    ],
    ("get", "/api/payments", "200"): [
        ("get", "/api/payments/{payment_id}", FIRST_PAYMENT, None),
        ("get", "/api/payments/{payment_id}/ledger", FIRST_PAYMENT, None),
        ("post", "/api/payments/{payment_id}/allocate", FIRST_PAYMENT, None),
        ("post", "/api/payments/{payment_id}/refund", FIRST_PAYMENT, None),
        ("post", "/api/payments/{payment_id}/review", FIRST_PAYMENT, None),
    ],
    ("post", "/api/payments/{payment_id}/allocate", "200"): [
        ("get", "/api/payments/{payment_id}", PAYMENT, None),
        ("post", "/api/payments/{payment_id}/refund", PAYMENT, None),
    ],
    ("post", "/api/keys", "201"): [
        ("delete", "/api/keys/{key_id}", {"key_id": "$response.body#/id"}, None),
    ],
}


PHONE = {"type": "string", "pattern": "^07[0-9]{8}$"}
ACCOUNT = {"type": "string", "pattern": "^[A-Z]{3,5}-[0-9]{1,4}$"}
AMOUNT = {"type": "integer", "minimum": 1, "maximum": 150000}
# component -> property -> the schema the contract gives it
CONTRACT_RULES: dict[str, dict[str, dict[str, Any]]] = {
    "CustomerIn": {"phone": PHONE, "customer_id": {"anyOf": [ACCOUNT, {"type": "null"}]}},
    "InvoiceIn": {"amount": AMOUNT},
    "OrderIn": {"customer_phone": PHONE, "amount": AMOUNT},
    "OrderPatch": {
        "status": {"enum": ["pending", "confirmed", "preparing", "delivered", "cancelled"]}
    },
    "PayIn": {"phone": PHONE},
    "PayoutIn": {"phone": PHONE, "amount": AMOUNT},
    "RefundIn": {"amount": AMOUNT},
    "SaleItemIn": {"unit_price": AMOUNT},
    "KeyIn": {"role": {"enum": ["viewer", "operator", "admin"]}},
}
QUERY_RULES: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 500},
    "format": {"enum": ["json", "csv"]},
}


def contract_document(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` with the contract's rules and LINKS written in."""
    out = copy.deepcopy(document)
    for component, rules in CONTRACT_RULES.items():
        out["components"]["schemas"][component]["properties"].update(rules)
    for item in out["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["name"] in QUERY_RULES:
                    rule = QUERY_RULES[parameter["name"]]
                    parameter["schema"] = {"anyOf": [rule, {"type": "null"}]}
    _add_links(out["paths"])
    return out


def _add_links(paths: dict[str, Any]) -> None:
    for (method, path, status), targets in LINKS.items():
        response = paths[path][method]["responses"].setdefault(status, {"description": "ok"})
        links = response.setdefault("links", {})
        for target_method, target_path, parameters, body in targets:
            link: dict[str, Any] = {"operationId": paths[target_path][target_method]["operationId"]}
            if parameters:
                link["parameters"] = parameters
            if body is not None:
                link["requestBody"] = body
            links[f"{target_method}{target_path}".replace("/", "_")] = link
