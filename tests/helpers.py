"""Small builders for test requests."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient

_ids = itertools.count(1)

CONFIRMATION = "/api/webhooks/c2b/confirmation"


def trans_id() -> str:
    return f"TX{next(_ids):08d}"


def c2b_body(
    amount: str | int | float,
    ref: str,
    *,
    txn: str | None = None,
    msisdn: str = "2547 ***** 126",
    trans_time: str = "20260206121325",
) -> dict[str, Any]:
    """A C2B confirmation shaped like Daraja's (reference §4, sample S7); `trans_time` is
    when M-Pesa says the customer paid (EAT), the time the payment is counted at."""
    return {
        "TransactionType": "Pay Bill",
        "TransID": txn or trans_id(),
        "TransTime": trans_time,
        "TransAmount": str(amount) if not isinstance(amount, str) else amount,
        "BusinessShortCode": "600000",
        "BillRefNumber": ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": "25.00",
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": "NICHOLAS",
        "MiddleName": "",
        "LastName": "",
    }


def pay(client: TestClient, amount: str | int, ref: str, **kw: Any) -> dict[str, Any]:
    """Send one confirmation and return the payment it created."""
    body = c2b_body(amount, ref, **kw)
    answer = client.post(CONFIRMATION, json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    payment = client.get(f"/api/payments/PAY-C2B-{body['TransID']}")
    assert payment.status_code == 200, payment.text
    result: dict[str, Any] = payment.json()
    return result


_PHONES = itertools.count(1)


def customer(client: TestClient, name: str = "Wanjiku", phone: str | None = None) -> str:
    """A new customer; without a phone, a number of its own (0799000001, 0799000002, ...)."""
    body: dict[str, Any] = {"name": name, "phone": phone or f"0799{next(_PHONES):06d}"}
    answer = client.post("/api/customers", json=body)
    assert answer.status_code == 201, answer.text
    customer_id: str = answer.json()["customer_id"]
    return customer_id


def invoice(client: TestClient, customer_id: str, amount: int | str) -> dict[str, Any]:
    answer = client.post("/api/invoices", json={"customer_id": customer_id, "amount": amount})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result
