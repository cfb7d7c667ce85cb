"""Bad input, at the confirmation webhook (a clear answer, nothing credited, the raw body
kept) and on the API (400/404/409/422 with the right code, phones normalised)."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from pesadesk.db.session import Database
from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice
from tests.integration.api_support import (
    ACK,
    app_client,
    assert_error_body,
    assert_ledger_ok,
    ledger_row_count,
    log_rows,
    logs,
    payment_count,
    settings_with,
)

JSON = {"content-type": "application/json"}


def _valid(ref: str) -> dict[str, Any]:
    return c2b_body("500.00", ref, txn="BADIN00001")


def _with(ref: str, **changes: Any) -> bytes:
    body = _valid(ref)
    for key, value in changes.items():
        if value is _DROP:
            del body[key]
        else:
            body[key] = value
    return json.dumps(body).encode()


_DROP = object()

BAD_BODIES: dict[str, Any] = {
    "malformed_json": lambda ref: b'{"TransID": "BADIN00001", "TransAmount": "500.00", ',
    "not_utf8": lambda ref: b'{"TransID": "\xff\xfe", "TransAmount": "500"}',
    "json_array": lambda ref: json.dumps([_valid(ref)]).encode(),
    "json_string": lambda ref: b'"TransID=BADIN00001"',
    "empty_body": lambda ref: b"",
    "amount_abc": lambda ref: _with(ref, TransAmount="abc"),
    "amount_object": lambda ref: _with(ref, TransAmount={"value": "500.00"}),
    "amount_bool": lambda ref: _with(ref, TransAmount=True),
    "amount_missing": lambda ref: _with(ref, TransAmount=_DROP),
    "trans_id_missing": lambda ref: _with(ref, TransID=_DROP),
    "trans_id_empty": lambda ref: _with(ref, TransID=""),
    "trans_id_object": lambda ref: _with(ref, TransID={"id": "BADIN00001"}),
    "amount_negative": lambda ref: _with(ref, TransAmount="-500.00"),
    "amount_negative_number": lambda ref: _with(ref, TransAmount=-500),
    "amount_zero": lambda ref: _with(ref, TransAmount="0.00"),
    "amount_three_decimals": lambda ref: _with(ref, TransAmount="500.005"),
    "amount_nan": lambda ref: _with(ref, TransAmount="NaN"),
    "amount_infinity": lambda ref: _with(ref, TransAmount="Infinity"),
}


def test_bad_confirmations_are_answered_logged_and_credit_nothing(
    client: TestClient, db: Database
) -> None:
    """Each malformed confirmation (bad JSON, wrong types, missing TransID, amounts <= 0 or with
    3 decimals...) gets 200 with its log entry's error set, keeps its raw body byte for byte
    and credits nothing."""
    cust = customer(client)
    inv = invoice(client, cust, 500)
    ledger_rows = ledger_row_count(db)
    sent: dict[str, bytes] = {}
    for case in sorted(BAD_BODIES):
        raw = BAD_BODIES[case](inv["invoice_id"])
        sent[case] = raw
        answer = client.post(CONFIRMATION, content=raw, headers=JSON)
        assert answer.status_code == 200, (case, answer.text)
        assert answer.json() == ACK, case
    entries = sorted(logs(client, limit=500), key=lambda e: e["id"])
    rows = log_rows(db)
    assert len(entries) == len(rows) == len(sent)
    for case, entry, row in zip(sorted(sent), entries, rows, strict=True):
        assert entry["processed"] is False, case
        assert isinstance(entry["error"], str), case
        assert entry["error"].strip(), case
        assert row.raw_body == sent[case], case
        assert entry["raw_payload"] == sent[case].decode("utf-8", errors="replace"), case
    assert payment_count(db) == 0
    assert ledger_row_count(db) == ledger_rows
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["status"], after["amount_paid"]) == ("UNPAID", 0.0)
    assert client.get(f"/api/customers/{cust}").json()["balance"] == 500.0
    assert_ledger_ok(db)


def test_one_megabyte_body_is_kept_whole_and_credits_nothing(
    client: TestClient, db: Database
) -> None:
    """A ~1,000,000-byte JSON object (under the limit, no TransID) is stored whole, answered 200
    with an error on its entry, and moves no money."""
    cust = customer(client)
    inv = invoice(client, cust, 500)
    body = c2b_body("500.00", inv["invoice_id"])
    del body["TransID"]
    body["Padding"] = ""
    filler = 1_000_000 - len(json.dumps(body).encode())
    body["Padding"] = "x" * filler
    raw = json.dumps(body).encode()
    assert len(raw) == 1_000_000
    answer = client.post(CONFIRMATION, content=raw, headers=JSON)
    assert (answer.status_code, answer.json()) == (200, ACK)
    [entry] = logs(client)
    assert "TransID" in entry["error"]
    assert entry["processed"] is False
    assert len(entry["raw_payload"]) == 1_000_000
    assert entry["raw_payload"].encode() == raw
    assert payment_count(db) == 0
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "UNPAID"
    assert_ledger_ok(db)


def _assert_over_limit_kept(db: Database, client: TestClient, raw: bytes, limit: int) -> None:
    [entry] = logs(client)
    assert (entry["flagged"], entry["processed"]) == (True, False)
    assert str(limit) in entry["error"]
    [row] = log_rows(db)
    assert raw.startswith(row.raw_body), "the kept bytes must be a prefix of what was sent"
    assert len(row.raw_body) >= min(limit, 64 * 1024), (
        f"only {len(row.raw_body)} bytes of a {len(raw)}-byte body were kept"
    )
    assert payment_count(db) == 0
    assert_ledger_ok(db)


def test_body_over_a_configured_limit_is_413_flagged_and_its_prefix_kept(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """With max_webhook_body_bytes=4096 a 10 KB confirmation gets 413, is flagged, credits
    nothing and keeps its first bytes in the log."""
    small = settings_with(db_url, max_webhook_body_bytes=4096)
    with app_client(small, db, clock) as client:
        cust = customer(client)
        inv = invoice(client, cust, 500)
        body = c2b_body("500.00", inv["invoice_id"], txn="HUGE000001")
        body["Padding"] = "y" * 10_000
        raw = json.dumps(body).encode()
        answer = client.post(CONFIRMATION, content=raw, headers=JSON)
        assert answer.status_code == 413, answer.text
        assert_error_body(answer.json(), "payload_too_large")
        _assert_over_limit_kept(db, client, raw, 4096)
        assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "UNPAID"


def test_body_over_the_default_two_mebibytes_is_413(client: TestClient, db: Database) -> None:
    """The default limit is 2 MiB: one byte over it gets 413, flagged, prefix kept, no money."""
    body = c2b_body("500.00", "NOBODY", txn="HUGE000002")
    body["Padding"] = ""
    body["Padding"] = "z" * (2 * 1024 * 1024 + 1 - len(json.dumps(body).encode()))
    raw = json.dumps(body).encode()
    assert len(raw) == 2 * 1024 * 1024 + 1
    answer = client.post(CONFIRMATION, content=raw, headers=JSON)
    assert answer.status_code == 413, answer.text
    assert_error_body(answer.json(), "payload_too_large")
    _assert_over_limit_kept(db, client, raw, 2 * 1024 * 1024)


def test_body_exactly_at_the_limit_is_accepted(
    db_url: str, db: Database, clock: FrozenClock
) -> None:
    """A confirmation of exactly max_webhook_body_bytes is processed normally (the limit is
    inclusive)."""
    small = settings_with(db_url, max_webhook_body_bytes=2048)
    with app_client(small, db, clock) as client:
        body = c2b_body("75.00", "NOBODY", txn="EDGE000001")
        body["Padding"] = ""
        body["Padding"] = "p" * (2048 - len(json.dumps(body).encode()))
        raw = json.dumps(body).encode()
        assert len(raw) == 2048
        answer = client.post(CONFIRMATION, content=raw, headers=JSON)
        assert (answer.status_code, answer.json()) == (200, ACK)
        assert client.get("/api/payments/PAY-C2B-EDGE000001").json()["amount"] == 75.0


# -- the API ----------------------------------------------------------------------------


MALFORMED_PATHS = ["/api/customers", "/api/invoices", "/api/pos/sales", "/api/keys",
                   "/api/payments/PAY-C2B-X/allocate"]  # fmt: skip

WRONG_TYPES: list[tuple[str, Any]] = [
    ("/api/customers", {"name": 123}),
    ("/api/customers", {"name": "A", "phone": 722000000}),
    ("/api/customers", [{"name": "A"}]),
    ("/api/customers", {}),
    ("/api/invoices", {"customer_id": "CUST-001", "amount": "abc"}),
    ("/api/invoices", {"customer_id": "CUST-001", "amount": {"value": 5}}),
    ("/api/invoices", {"customer_id": "CUST-001"}),
    ("/api/pos/sales", {"items": "soda"}),
    ("/api/pos/sales", {"items": []}),
    ("/api/pos/sales", {"items": [{"product_id": "A", "product_name": "A",
                                   "quantity": "two", "unit_price": 5}]}),
    ("/api/keys", {"role": "viewer"}),
]  # fmt: skip


def test_malformed_json_on_the_api_is_400(client: TestClient) -> None:
    """A body that is not JSON at all answers 400 with code malformed_json on every write."""
    for path in MALFORMED_PATHS:
        answer = client.post(path, content=b'{"name": "Wanjiku",', headers=JSON)
        assert answer.status_code == 400, (path, answer.text)
        assert_error_body(answer.json(), "malformed_json")


def test_wrong_types_on_the_api_are_422(client: TestClient) -> None:
    """Fields of the wrong type, or missing, answer 422 validation_error and create nothing."""
    for path, body in WRONG_TYPES:
        answer = client.post(path, json=body)
        assert answer.status_code == 422, (path, body, answer.text)
        assert_error_body(answer.json(), "validation_error")
    assert client.get("/api/customers/CUST-001").status_code == 404
    assert client.get("/api/keys").json()["data"] == []


def test_unknown_ids_are_404_with_their_own_codes(client: TestClient) -> None:
    """Unknown customer, invoice, sale and payment ids answer 404 with a code naming the kind."""
    cust = customer(client)
    inv = invoice(client, cust, 100)
    cases = [
        (client.get("/api/customers/CUST-999"), "customer_not_found"),
        (client.post("/api/invoices", json={"customer_id": "CUST-999", "amount": 5}),
         "customer_not_found"),
        (client.get("/api/invoices?customer_id=CUST-999"), "customer_not_found"),
        (client.get("/api/invoices/INV-20260206-9999"), "invoice_not_found"),
        (client.get("/api/pos/sales/POS-20260206-9999"), "sale_not_found"),
        (client.post("/api/pos/sales", json={"customer_id": "CUST-999", "items": [
            {"product_id": "A", "product_name": "A", "quantity": 1, "unit_price": 5}]}),
         "customer_not_found"),
        (client.get("/api/payments/PAY-C2B-NOPE"), "payment_not_found"),
        (client.post("/api/payments/PAY-C2B-NOPE/allocate",
                     json={"invoice_id": inv["invoice_id"]}), "payment_not_found"),
        (client.delete("/api/keys/9999"), "api_key_not_found"),
    ]  # fmt: skip
    for answer, code in cases:
        assert answer.status_code == 404, (code, answer.text)
        assert_error_body(answer.json(), code)


def test_allocating_to_an_unknown_target_is_404_and_leaves_the_payment(
    client: TestClient, db: Database
) -> None:
    """Placing an unallocated payment on a missing invoice or customer is 404 and changes
    nothing."""
    assert client.post(CONFIRMATION, json=c2b_body("80", "NOBODY", txn="LOST000099")).json() == ACK
    url = "/api/payments/PAY-C2B-LOST000099/allocate"
    missing_invoice = client.post(url, json={"invoice_id": "INV-20260206-9999"})
    assert missing_invoice.status_code == 404
    assert_error_body(missing_invoice.json(), "invoice_not_found")
    missing_customer = client.post(url, json={"customer_id": "CUST-999"})
    assert missing_customer.status_code == 404
    assert_error_body(missing_customer.json(), "customer_not_found")
    for both_or_neither in ({}, {"invoice_id": "INV-1", "customer_id": "CUST-001"}):
        answer = client.post(url, json=both_or_neither)
        assert answer.status_code == 422, answer.text
        assert_error_body(answer.json())
    assert client.get("/api/payments/PAY-C2B-LOST000099").json()["status"] == "unallocated"
    assert_ledger_ok(db)


BAD_AMOUNTS: list[tuple[Any, str]] = [
    (0, "invalid_amount"), (-5, "invalid_amount"), ("-0.01", "invalid_amount"),
    (10.005, "lossy_amount"), ("10.005", "lossy_amount"),
]  # fmt: skip


def test_bad_amounts_on_the_api_are_422(client: TestClient, db: Database) -> None:
    """Invoice amounts and POS prices of zero, below zero or with 3 decimals are 422; nothing is
    made."""
    cust = customer(client)
    for amount, code in BAD_AMOUNTS:
        answer = client.post("/api/invoices", json={"customer_id": cust, "amount": amount})
        assert answer.status_code == 422, (amount, answer.text)
        assert_error_body(answer.json(), code)
        sale = client.post(
            "/api/pos/sales",
            json={"items": [{"product_id": "A", "product_name": "A", "quantity": 1,
                             "unit_price": amount}]},
        )  # fmt: skip
        assert sale.status_code == 422, (amount, sale.text)
        assert_error_body(sale.json())
    assert client.get("/api/invoices").json()["data"] == []
    assert client.get(f"/api/customers/{cust}").json()["balance"] == 0.0
    assert_ledger_ok(db)


GOOD_PHONES = [
    ("0722000126", "254722000126"),
    ("0110000126", "254110000126"),
    ("+254722000126", "254722000126"),
    ("254722000126", "254722000126"),
    ("722000126", "254722000126"),
    ("110000126", "254110000126"),
    (" 0722 000 126 ", "254722000126"),
    ("+254-722-000-126", "254722000126"),
]
BAD_PHONES = ["12345", "+255722000126", "0733 000000 1", "0202000126", "+1 415 555 0100",
              "07220001260", "2547220001", "phone"]  # fmt: skip


def test_phone_numbers_are_stored_as_254(client: TestClient) -> None:
    """Every accepted spelling of a Kenyan mobile number is stored and returned as
    2547…/2541…; another spelling of a number a customer has is that number (409)."""
    seen: set[str] = set()
    for given, stored in GOOD_PHONES:
        created = client.post("/api/customers", json={"name": "Achieng", "phone": given})
        if stored in seen:
            assert created.status_code == 409, (given, created.text)
            assert_error_body(created.json(), "duplicate_phone")
            continue
        seen.add(stored)
        assert created.status_code == 201, (given, created.text)
        assert created.json()["phone"] == stored, given
        fetched = client.get(f"/api/customers/{created.json()['customer_id']}").json()
        assert fetched["phone"] == stored, given
    assert seen == {"254722000126", "254110000126"}


def test_bad_phone_numbers_are_422_invalid_phone(client: TestClient) -> None:
    """Anything that is not a Kenyan mobile number is refused with 422 invalid_phone."""
    for given in BAD_PHONES:
        answer = client.post("/api/customers", json={"name": "Otieno", "phone": given})
        assert answer.status_code == 422, (given, answer.text)
        assert_error_body(answer.json(), "invalid_phone")
    assert client.get("/api/customers/CUST-001").status_code == 404


def test_a_customer_needs_a_phone(client: TestClient) -> None:
    """`POST /api/customers {name, phone}`: no phone, an empty one or null is a 422."""
    for body in ({"name": "Njeri"}, {"name": "Njeri", "phone": ""},
                 {"name": "Njeri", "phone": "   "}, {"name": "Njeri", "phone": None}):  # fmt: skip
        answer = client.post("/api/customers", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert "phone" in answer.json()["error"], body
    assert client.get("/api/customers/CUST-001").status_code == 404


def test_duplicate_explicit_customer_id_is_409(client: TestClient) -> None:
    """A customer_id already taken, in any case or spacing, is 409 duplicate_customer and the first
    customer is unchanged."""
    first = client.post(
        "/api/customers", json={"name": "Kamau", "phone": "0799000000", "customer_id": "SHOP-7"}
    )
    assert first.status_code == 201, first.text
    assert first.json()["customer_id"] == "SHOP-7"
    for again in ("SHOP-7", "shop-7", "  Shop-7 "):
        answer = client.post(
            "/api/customers", json={"name": "Impostor", "phone": "0799000001", "customer_id": again}
        )
        assert answer.status_code == 409, (again, answer.text)
        assert_error_body(answer.json(), "duplicate_customer")
    assert client.get("/api/customers/SHOP-7").json()["name"] == "Kamau"
    auto = client.post("/api/customers", json={"name": "Next", "phone": "0799000002"}).json()
    assert auto["customer_id"] == "CUST-001"
