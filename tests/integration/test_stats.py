"""`GET /api/stats` and `/api/stats/daily` against a known set of payments and orders."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pesadesk.testing import FrozenClock
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice, pay


def test_stats_count_what_happened(client: TestClient, clock: FrozenClock) -> None:
    """Two completed C2B payments, one unallocated, a duplicate callback, three orders in
    three states: every seed key and the extras say exactly that."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    pay(client, "1000.00", inv["invoice_id"], txn="ST0000001")
    pay(client, "250.50", cust, txn="ST0000002")
    pay(client, "99.00", "NOBODY", txn="ST0000003")
    client.post(CONFIRMATION, json=c2b_body("1000.00", inv["invoice_id"], txn="ST0000001"))
    ids = []
    for amount in (100, 200, 300):
        answer = client.post(
            "/api/orders",
            json={"customer_phone": "0712345678", "amount": amount, "delivery_location": "x"},
        )
        ids.append(answer.json()["id"])
    client.patch(f"/api/orders/{ids[1]}", json={"status": "confirmed"})
    for status in ("confirmed", "preparing", "delivered"):
        client.patch(f"/api/orders/{ids[2]}", json={"status": status})
    stats = client.get("/api/stats").json()
    expected = {
        "total_orders": 3,
        "pending_orders": 1,
        "delivered_orders": 1,
        "total_revenue": 500.0,
        "total_payments": 3,
        "completed_payments": 2,
        "failed_payments": 0,
        "payment_revenue": 1349.5,
        "refunded_amount": 0.0,
        "unallocated_payments": 1,
        "unallocated_amount": 99.0,
        "duplicate_callbacks": 1,
        "callbacks_received": 4,
        "webhook_success_rate": 1.0,
    }
    assert {key: stats[key] for key in expected} == expected
    daily = client.get("/api/stats/daily").json()["data"]
    assert daily == [
        {
            "date": "2026-02-06",
            "payments": 3,
            "completed_payments": 2,
            "amount_received": 1349.5,
            "failed_payments": 0,
            "stk": 0.0,
            "c2b": 1349.5,
            "refunded": 0.0,
            "net": 1349.5,
            "success_rate": 1.0,
        }
    ]
    later = client.get("/api/stats", params={"from": "2026-02-07"}).json()
    assert (later["total_payments"], later["total_orders"]) == (0, 0)
    same_day = client.get("/api/stats", params={"from": "2026-02-06", "to": "2026-02-06"}).json()
    assert same_day["total_payments"] == 3
