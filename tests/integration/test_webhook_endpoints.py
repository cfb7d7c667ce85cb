"""Webhook endpoints and the event list over the API: secrets shown once, bad input
refused, admins only; every event of a payment queued once for each endpoint taking it."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from pesadesk.db.models import OutboxMessage
from pesadesk.db.session import Database
from pesadesk.events.fanout import WEBHOOK_DELIVERY
from tests.helpers import customer, invoice, pay

HOOK = "https://erp.example.com/pesadesk"


def _endpoint(client: TestClient, events: list[str], url: str = HOOK) -> dict[str, object]:
    answer = client.post("/api/webhook-endpoints", json={"url": url, "events": events})
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def _queued(db: Database) -> list[tuple[str, int]]:
    with db.read() as session:
        rows = session.execute(
            select(OutboxMessage.payload).where(OutboxMessage.kind == WEBHOOK_DELIVERY)
        ).scalars()
        return sorted((p["event_id"], p["endpoint_id"]) for p in map(json.loads, rows))


def test_the_secret_is_shown_once(client: TestClient) -> None:
    """201 carries `whsec_` + base64; neither the list nor the endpoint shows it again."""
    created = _endpoint(client, ["payment.completed", "invoice.paid"])
    secret = str(created["secret"])
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert created["events"] == ["invoice.paid", "payment.completed"]
    listed = client.get("/api/webhook-endpoints").json()
    assert [e["id"] for e in listed["data"]] == [created["id"]]
    one = client.get(f"/api/webhook-endpoints/{created['id']}").json()
    assert "secret" not in listed["data"][0]
    assert "secret" not in one
    assert secret not in json.dumps(listed) + json.dumps(one)
    assert one["status"] == "enabled"


def test_bad_endpoints_are_refused(client: TestClient) -> None:
    """A URL that is not http(s), an unknown event type or no types at all: 422."""
    for body in (
        {"url": "ftp://erp.example.com/x", "events": ["*"]},
        {"url": "not a url", "events": ["*"]},
        {"url": HOOK, "events": ["payment.exploded"]},
        {"url": HOOK, "events": []},
    ):
        answer = client.post("/api/webhook-endpoints", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["code"] in ("invalid_webhook_endpoint", "validation_error")


def test_only_admins_manage_endpoints_and_viewers_read_events(client: TestClient) -> None:
    """A viewer key may list events but gets 403 on endpoints and redelivery."""
    made = client.post("/api/keys", json={"role": "viewer", "name": "books", "owner": "Amina"})
    viewer = {"Authorization": f"Bearer {made.json()['key']}"}
    assert client.get("/api/events", headers=viewer).status_code == 200
    assert client.get("/api/webhook-endpoints", headers=viewer).status_code == 403
    denied = client.post("/api/webhook-endpoints", headers=viewer,
                         json={"url": HOOK, "events": ["*"]})  # fmt: skip
    assert denied.status_code == 403
    assert client.post("/api/events/evt_x/redeliver", headers=viewer).status_code == 403


def test_a_payment_queues_its_events_for_the_endpoints_that_take_them(
    client: TestClient, db: Database
) -> None:
    """Invoice 1,000 paid in full: `*` gets both events, an invoice.paid endpoint gets
    one, a refund endpoint and a deleted endpoint none; each pair is queued once."""
    every = _endpoint(client, ["*", "invoice.paid"])
    invoices_only = _endpoint(client, ["invoice.paid"])
    _endpoint(client, ["refund.completed"])
    gone = _endpoint(client, ["*"])
    assert client.delete(f"/api/webhook-endpoints/{gone['id']}").status_code == 204
    assert client.get(f"/api/webhook-endpoints/{gone['id']}").status_code == 404
    inv = invoice(client, customer(client), 1000)
    pay(client, "1000.00", inv["invoice_id"])
    events = client.get("/api/events").json()["data"]
    by_type = {e["type"]: e["id"] for e in events}
    assert set(by_type) == {"payment.completed", "invoice.paid"}
    assert _queued(db) == sorted(
        [
            (by_type["payment.completed"], every["id"]),
            (by_type["invoice.paid"], every["id"]),
            (by_type["invoice.paid"], invoices_only["id"]),
        ]
    )


def test_events_list_filters_and_pages(client: TestClient) -> None:
    """`type` filters, `since` a later day gives none, and a cursor walks the rest."""
    cust = customer(client)
    for _ in range(3):
        pay(client, "100.00", invoice(client, cust, 100)["invoice_id"])
    everything = client.get("/api/events").json()["data"]
    assert len(everything) == 6
    assert everything[0]["created_at"].endswith("+00:00")
    paid = client.get("/api/events", params={"type": "invoice.paid"}).json()["data"]
    assert [e["type"] for e in paid] == ["invoice.paid"] * 3
    assert paid[0]["data"]["status"] == "PAID"
    assert client.get("/api/events", params={"since": "2099-01-01"}).json()["data"] == []
    assert client.get("/api/events", params={"type": "nope"}).status_code == 422
    first = client.get("/api/events", params={"limit": 4}).json()
    rest = client.get("/api/events", params={"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in first["data"] + rest["data"]] == [e["id"] for e in everything]
    one = client.get(f"/api/events/{everything[0]['id']}").json()
    assert one == everything[0]
    assert client.get("/api/events/evt_missing").status_code == 404


def test_redeliver_queues_a_new_delivery_and_refuses_without_endpoint(
    client: TestClient, db: Database
) -> None:
    """No endpoint: 409. With one: 202 and a second delivery of that event is queued."""
    pay(client, "100.00", "NOBODY")
    [event] = client.get("/api/events").json()["data"]
    refused = client.post(f"/api/events/{event['id']}/redeliver")
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_webhook_endpoint"
    hook = _endpoint(client, ["payment.completed"])
    again = client.post(f"/api/events/{event['id']}/redeliver", json={"endpoint_id": hook["id"]})
    assert again.status_code == 202, again.text
    assert again.json()["endpoint_ids"] == [hook["id"]]
    assert _queued(db) == [(event["id"], hook["id"])]
    assert client.post("/api/events/evt_nope/redeliver").status_code == 404
