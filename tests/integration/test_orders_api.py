"""Orders over the API: creation rules and PATCHed status moves."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_order_lifecycle_by_patch(client: TestClient) -> None:
    """pending -> confirmed -> preparing -> delivered; then cancelling is a 409."""
    created = client.post(
        "/api/orders",
        json={"customer_phone": "0712345678", "amount": 500, "delivery_location": "CBD"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["customer_phone"], body["amount"]) == (
        "pending",
        "254712345678",
        500.0,
    )
    order_id = body["id"]
    for status in ("confirmed", "preparing", "delivered"):
        moved = client.patch(f"/api/orders/{order_id}", json={"status": status})
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    refused = client.patch(f"/api/orders/{order_id}", json={"status": "cancelled"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert client.get(f"/api/orders/{order_id}").json()["status"] == "delivered"


def test_order_rules(client: TestClient) -> None:
    """Bad phone, fractional or zero amounts and unknown orders get clear errors."""
    base = {"customer_phone": "0712345678", "amount": 500, "delivery_location": "CBD"}
    assert client.post("/api/orders", json={**base, "customer_phone": "12"}).status_code == 422
    lossy = client.post("/api/orders", json={**base, "amount": 10.5})
    assert (lossy.status_code, lossy.json()["code"]) == (422, "lossy_amount")
    assert client.post("/api/orders", json={**base, "amount": 0}).status_code == 422
    missing = client.get("/api/orders/99999")
    assert (missing.status_code, missing.json()["code"]) == (404, "order_not_found")
    bad_status = client.patch("/api/orders/99999", json={"status": "flying"})
    assert bad_status.status_code == 422


def test_paying_a_cancelled_order_is_refused(client: TestClient) -> None:
    """Only pending orders can be paid: a cancelled one answers 409 before any prompt."""
    order_id = client.post(
        "/api/orders",
        json={"customer_phone": "0712345678", "amount": 100, "delivery_location": "CBD"},
    ).json()["id"]
    client.patch(f"/api/orders/{order_id}", json={"status": "cancelled"})
    answer = client.post(f"/api/orders/{order_id}/pay")
    assert (answer.status_code, answer.json()["code"]) == (409, "order_not_payable")
