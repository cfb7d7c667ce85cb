"""Refund endpoints without B2C credentials, and their roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import customer, invoice, pay


def test_refunds_not_configured_answer_the_seed_text(client: TestClient) -> None:
    """Without B2C credentials a refund is 503 with the seed's exact message."""
    cust = customer(client, phone="0722000000")
    inv = invoice(client, cust, 500)
    payment = pay(client, "500.00", inv["invoice_id"])
    answer = client.post(f"/api/payments/{payment['id']}/refund", json={})
    assert answer.status_code == 503
    assert answer.json() == {
        "error": "M-Pesa B2C (refunds) not configured. Contact admin.",
        "code": "b2c_not_configured",
    }
    payout = client.post("/api/payouts", json={"phone": "0712345678", "amount": 100})
    assert payout.status_code == 503
    assert client.get("/api/refunds").json() == {"data": [], "next_cursor": None}


def test_refund_roles(client: TestClient) -> None:
    """Viewers may list refunds but not ask for one; only admins approve or see the audit."""
    viewer = client.post("/api/keys", json={"role": "viewer", "name": "v"}).json()["key"]
    operator = client.post("/api/keys", json={"role": "operator", "name": "o"}).json()["key"]
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    as_operator = {"Authorization": f"Bearer {operator}"}
    assert client.get("/api/refunds", headers=as_viewer).status_code == 200
    assert client.post("/api/payments/X/refund", json={}, headers=as_viewer).status_code == 403
    assert client.post("/api/refunds/RF-1/approve", headers=as_operator).status_code == 403
    assert client.get("/api/audit", headers=as_operator).status_code == 403
    assert client.get("/api/balance", headers=as_operator).status_code == 403
    missing = client.get("/api/refunds/RF-NOPE")
    assert (missing.status_code, missing.json()["code"]) == (404, "refund_not_found")
