"""The OpenAPI document a developer wires against: typed answers for every operation, the
bearer scheme with the role each operation needs (and the API enforcing exactly that),
the one `{error, code}` error shape with the codes each operation answers, examples
that fit their schemas, the Safaricom callbacks, and real answers that match it all."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from pesadesk.api.app import create_app
from pesadesk.api.webhooks import ROUTES
from pesadesk.config import Settings
from tests.helpers import c2b_body
from tests.integration.api_support import bearer, make_key

SUCCESS = ("200", "201", "202", "204")
PUBLIC = {("post", "/api/refund-requests")}
# Typed (answers, and example bodies) by the work that owns them; until then they are held
# to all the rest (the bearer role, the Problem errors).
AWAITING_MODELS = {
    ("post", "/api/reconciliation/statements"),
    ("get", "/api/reconciliation/statements"),
    ("get", "/api/reconciliation/statements/{statement_id}"),
    ("post", "/api/reconciliation/statements/{statement_id}/import-missing"),
    ("get", "/api/events"),
    ("get", "/api/events/{event_id}"),
    ("post", "/api/events/{event_id}/redeliver"),
    ("post", "/api/webhook-endpoints"),
    ("get", "/api/webhook-endpoints"),
    ("get", "/api/webhook-endpoints/{endpoint_id}"),
    ("post", "/api/webhook-endpoints/{endpoint_id}/enable"),
    ("get", "/api/webhook-endpoints/{endpoint_id}/deliveries"),
    ("get", "/api/ledger/export"),
}
Operation = tuple[str, str, dict[str, Any]]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The app's own document (building it opens no database)."""
    app = create_app(Settings(database_url="sqlite:///never-opened.db"), background=False)
    try:
        return app.openapi()
    finally:
        app.state.pesadesk.db.dispose()


def operations(document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def api_operations(document: dict[str, Any]) -> list[Operation]:
    """The `/api/` operations a developer calls (the Safaricom callbacks aside)."""
    return [
        (m, p, op)
        for m, p, op in operations(document)
        if p.startswith("/api/") and "safaricom" not in op["tags"]
    ]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
    return schema


def validate(document: dict[str, Any], schema: dict[str, Any], value: Any) -> None:
    """`value` fits `schema` (refs into the document's components), formats checked."""
    jsonschema.Draft202012Validator(
        {**schema, "components": document["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    ).validate(value)


def undeclared(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Keys of `value` that its schema does not name (the docs must list every field)."""
    schema = resolve(document, schema)
    if "anyOf" in schema:
        for branch in schema["anyOf"]:
            try:
                validate(document, branch, value)
            except jsonschema.ValidationError:
                continue
            return undeclared(document, branch, value)
    if isinstance(value, list) and "items" in schema:
        return [k for item in value for k in undeclared(document, schema["items"], item)]
    if isinstance(value, dict) and "properties" in schema:
        found = [k for k in value if k not in schema["properties"]]
        for key, inner in schema["properties"].items():
            if key in value:
                found += [f"{key}.{k}" for k in undeclared(document, inner, value[key])]
        return found
    return []


def operation_for(document: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    """The documented operation a request went to (the fewest path parameters wins)."""
    path = url.partition("?")[0]
    found = [
        (p.count("{"), op)
        for m, p, op in operations(document)
        if m == method and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path)
    ]
    assert found, f"{method} {path} is not documented"
    return min(found, key=lambda f: f[0])[1]


def check(document: dict[str, Any], method: str, url: str, answer: Any) -> Any:
    """A real answer: its status documented, its body fitting that status's schema with no
    field the schema leaves out, an error's code among those listed; returns the body."""
    operation = operation_for(document, method, url)
    response = operation["responses"].get(str(answer.status_code))
    assert response is not None, (method, url, answer.status_code, answer.text)
    if answer.status_code == 204:
        return None
    kind = answer.headers["content-type"].split(";")[0]
    assert kind in response["content"], (method, url, kind)
    media = response["content"][kind]
    if kind != "application/json":
        return answer.content
    body = answer.json()
    validate(document, media["schema"], body)
    assert undeclared(document, media["schema"], body) == [], (method, url)
    if answer.status_code >= 400:
        assert body["code"] in media["examples"], (method, url, body)
    return body


def test_every_operation_has_a_typed_success_answer(document: dict[str, Any]) -> None:
    """Each /api/ operation documents a success answer whose schema says what comes back
    (an object with properties, a list of them, a PNG, CSV), never `{}` or a bare object."""
    untyped = set()
    for method, path, operation in api_operations(document):
        successes = [s for s in SUCCESS if s in operation["responses"]]
        assert successes, (method, path)
        for status in successes:
            content = operation["responses"][status].get("content", {})
            if status == "204":
                assert content == {}, (method, path)
                continue
            for media in content.values():
                schema = resolve(document, media.get("schema", {}))
                if not ({"properties", "anyOf", "items"} & set(schema) or ("type" in schema
                        and schema["type"] != "object")):  # fmt: skip
                    untyped.add((method, path))
    assert untyped <= AWAITING_MODELS, sorted(untyped - AWAITING_MODELS)


def test_keyed_operations_carry_the_bearer_scheme_with_their_role(
    document: dict[str, Any],
) -> None:
    """The bearer scheme is declared and every /api/ operation but the public ones needs
    it, naming the role; the public ones and the callbacks need none."""
    scheme = document["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for method, path, operation in api_operations(document):
        if (method, path) in PUBLIC:
            assert "security" not in operation, (method, path)
            continue
        [requirement] = operation["security"]
        assert requirement["bearer"] in (["viewer"], ["operator"], ["admin"]), (method, path)
        assert "401" in operation["responses"], (method, path)
        if requirement["bearer"] != ["viewer"]:
            assert "forbidden" in str(operation["responses"]["403"]), (method, path)
    keyed = {p for m, p, op in operations(document) if op.get("security")}
    assert not keyed & set(ROUTES)


def test_the_api_enforces_the_roles_the_document_states(
    document: dict[str, Any], client: TestClient
) -> None:
    """Without a key every keyed operation is 401; a viewer key is refused (403) exactly
    where the document asks for more, an operator key exactly where it asks for admin."""
    viewer, operator = make_key(client, "viewer"), make_key(client, "operator")
    for method, path, operation in api_operations(document):
        if (method, path) in PUBLIC:
            continue
        role = operation["security"][0]["bearer"][0]
        url = re.sub(r"\{[^}]+\}", "1", path)
        keyless = client.request(method, url, headers={"Authorization": ""})
        assert keyless.status_code == 401, (method, path, keyless.text)
        as_viewer = client.request(method, url, headers=bearer(viewer))
        assert (as_viewer.status_code == 403) == (role != "viewer"), (method, path)
        if role != "viewer":
            as_operator = client.request(method, url, headers=bearer(operator))
            assert (as_operator.status_code == 403) == (role == "admin"), (method, path)


def test_errors_are_the_problem_shape_with_their_codes(document: dict[str, Any]) -> None:
    """Every 4xx/5xx of every operation is `{error, code}` (Problem, or a Problem with the
    ids a failed payment or refund left), lists its codes with an example each that fits
    the schema, and FastAPI's `HTTPValidationError` appears nowhere."""
    assert "HTTPValidationError" not in json.dumps(document)
    assert "ValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            media = response["content"]["application/json"]
            schema = resolve(document, media["schema"])
            assert {"error", "code"} <= set(schema["required"]), (method, path, status)
            assert media["examples"], (method, path, status)
            for code, example in media["examples"].items():
                assert example["value"]["code"] == code
                assert f"`{code}`" in response["description"], (method, path, status)
                validate(document, media["schema"], example["value"])
        if "429" in operation["responses"]:
            assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_each_operation_lists_the_errors_its_kind_can_answer(document: dict[str, Any]) -> None:
    """A JSON body can be malformed (400), too large (413) or invalid (422
    `validation_error`); a list's cursor can be foreign (400 `invalid_cursor`); a keyed
    operation can meet a database that is down (503 `storage_unavailable`)."""
    for method, path, operation in api_operations(document):
        codes = json.dumps(operation["responses"])
        if "application/json" in operation.get("requestBody", {}).get("content", {}):
            for code in ("malformed_json", "payload_too_large", "validation_error"):
                assert code in codes, (method, path, code)
        if any(p["name"] == "cursor" for p in operation.get("parameters", [])):
            assert "invalid_cursor" in codes, (method, path)
        if operation.get("security"):
            assert "storage_unavailable" in codes, (method, path)


def test_request_bodies_and_answers_carry_examples_that_fit(document: dict[str, Any]) -> None:
    """Every JSON request body has an example valid against its own schema, and the answer
    models' examples (Problem, the callback answers) fit theirs."""
    for method, path, operation in operations(document):
        media = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None or (method, path) in AWAITING_MODELS:
            continue
        schema = media["schema"]
        named = [resolve(document, s) for s in [schema, *schema.get("anyOf", [])]]
        examples = [e["value"] for e in media.get("examples", {}).values()]
        examples += [x for s in named for x in s.get("examples", [])]
        assert examples, (method, path)
        for example in examples:
            validate(document, schema, example)
    for name, schema in document["components"]["schemas"].items():
        if not name.endswith("In"):
            for example in schema.get("examples", []):
                validate(document, {"$ref": f"#/components/schemas/{name}"}, example)


def test_the_safaricom_callbacks_are_listed_with_samples_and_answers(
    document: dict[str, Any],
) -> None:
    """Each path Safaricom posts to is a `safaricom` operation with no key, Daraja's
    samples as request examples, and pesadesk's answers: the acknowledgement (C2B
    validation: Accepted or a C2B000xx rejection), 403, 413 and 503."""
    for path in ROUTES:
        operation = document["paths"][path]["post"]
        assert operation["tags"] == ["safaricom"]
        assert operation["security"] == []
        assert f"https://<your host>{path}" in operation["description"]
        media = operation["requestBody"]["content"]["application/json"]
        assert media["examples"]
        for example in media["examples"].values():
            validate(document, media["schema"], example["value"])
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert sorted(operation["responses"]) == ["200", "403", "413", "503"]
        ack = {"ResultCode": 0, "ResultDesc": "Accepted"}
        if path.endswith("/validation"):
            validate(document, answer, {"ResultCode": "0", "ResultDesc": "Accepted"})
            validate(document, answer, {"ResultCode": "C2B00012", "ResultDesc": "Rejected"})
        else:
            validate(document, answer, ack)
    assert {e["value"]["Body"]["stkCallback"]["ResultCode"] for e in document["paths"][
        "/api/mpesa/callback"]["post"]["requestBody"]["content"]["application/json"][
        "examples"].values()} == {0, 1032}  # fmt: skip


def test_real_answers_match_their_documented_schemas(
    document: dict[str, Any], client: TestClient
) -> None:
    """A shop's morning through the API (a customer, an invoice paid by C2B, a sale, an
    order, an unplaced payment placed by hand, keys, callbacks, stats, a customer's
    refund request, and errors on the way): every answer is documented and fits."""

    def call(method: str, url: str, **kwargs: Any) -> Any:
        return check(document, method, url, client.request(method.upper(), url, **kwargs))

    customer = call("post", "/api/customers", json={"name": "Wanjiku", "phone": "0722000001"})
    invoice = call("post", "/api/invoices",
                   json={"customer_id": customer["customer_id"], "amount": 1000})  # fmt: skip
    paid = c2b_body("400.00", invoice["invoice_id"], txn="RKL51ZDR4F")
    assert call("post", "/api/webhooks/c2b/confirmation", json=paid)["ResultCode"] == 0
    stray = c2b_body("250.50", "NOBODY", txn="RKL51ZDR5G")
    call("post", "/api/webhooks/mpesa", json=stray)
    validation = c2b_body("100.00", "ANY", txn="RKL51ZDR6H")
    assert call("post", "/api/webhooks/c2b/validation", json=validation)["ResultCode"] == "0"
    placed = call("post", "/api/payments/PAY-C2B-RKL51ZDR5G/allocate",
                  json={"customer_id": customer["customer_id"]})  # fmt: skip
    assert placed["status"] == "completed"
    sale = call(
        "post",
        "/api/pos/sales",
        json={
            "items": [
                {"product_id": "SKU-1", "product_name": "Milk", "quantity": 2, "unit_price": 65}
            ]
        },
    )
    order = call("post", "/api/orders", json={"customer_phone": "0722000002", "amount": 500,
                                              "delivery_location": "Kilimani"})  # fmt: skip
    urls = [
        f"/api/customers/{customer['customer_id']}",
        f"/api/customers/{customer['customer_id']}/statement", "/api/customers?q=wan",
        f"/api/invoices/{invoice['invoice_id']}", "/api/invoices?status=PARTIALLY_PAID",
        f"/api/pos/sales/{sale['pos_id']}", f"/api/orders/{order['id']}", "/api/orders",
        "/api/payments", "/api/payments?limit=1", "/api/payments?format=csv",
        "/api/payments/PAY-C2B-RKL51ZDR4F", "/api/payments/PAY-C2B-RKL51ZDR4F/ledger",
        "/api/webhooks/logs", "/api/stats", "/api/stats/daily", "/api/me", "/api/keys",
        "/api/refunds", "/api/balance", "/api/audit", "/healthz", "/readyz", "/metrics",
    ]  # fmt: skip
    for url in urls:
        call("get", url)
    call("patch", f"/api/orders/{order['id']}", json={"status": "cancelled"})
    log = call("get", "/api/webhooks/logs?limit=1")["data"][0]
    assert call("post", f"/api/webhooks/logs/{log['id']}/reprocess")["reprocessed"] is False
    key = call("post", "/api/keys", json={"role": "viewer", "name": "till-2"})
    call("delete", f"/api/keys/{key['id']}")
    asked = {"receipt": "RKL51ZDR4F", "phone": "0722000001", "reason": "Paid twice"}
    call("post", "/api/refund-requests", json=asked)
    call("get", "/api/refund-requests")
    # Errors, each with a documented code.
    call("get", "/api/customers/CUST-999")
    call("post", "/api/invoices", json={"customer_id": "CUST-001", "amount": "lots"})
    json_type = {"content-type": "application/json"}
    for broken in (b"{not json", b"\xff\xfe{"):  # truncated; not even UTF-8
        refused = call("post", "/api/customers", content=broken, headers=json_type)
        assert refused["code"] == "malformed_json"
    call("get", "/api/invoices?cursor=bogus")
    call("post", "/api/payments/PAY-C2B-RKL51ZDR4F/allocate", json={"customer_id": "CUST-001"})
    call("post", "/api/payments/PAY-C2B-RKL51ZDR4F/refund", json={"amount": 100})
    call("get", "/api/stats", headers={"Authorization": "Bearer nope"})
    call("post", "/api/keys", json={"role": "viewer", "name": "x"},
         headers=bearer(make_key(client, "operator")))  # fmt: skip


def test_operations_are_named_for_what_they_do(document: dict[str, Any]) -> None:
    """Operation ids are unique and read as the method a generated client gets
    (`create_customer`, `pay_order`), not FastAPI's path-mangled default."""
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    assert document["paths"]["/api/customers"]["post"]["operationId"] == "create_customer"
    assert document["paths"]["/api/orders/{order_id}/pay"]["post"]["operationId"] == "pay_order"
    assert not [i for i in ids if i.endswith(("_get", "_post", "_patch", "_delete"))]
