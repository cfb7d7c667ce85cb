"""Money changes leave domain events in the transaction that made them, each with the
object as it stood after the change; repeats and failures leave none."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from pesadesk.db.models import Event
from pesadesk.db.session import Database
from tests.helpers import CONFIRMATION, c2b_body, customer, invoice, pay


def _events(db: Database) -> list[tuple[str, str, dict[str, Any]]]:
    with db.read() as session:
        rows = session.execute(select(Event).order_by(Event.id)).scalars()
        return [(e.type, e.subject, json.loads(e.data)) for e in rows]


def test_invoice_paid_in_two_payments_leaves_its_events(client: TestClient, db: Database) -> None:
    """Invoice 10,000 paid 3,000 then 7,000: each payment is `payment.completed` with its
    receipt, the invoice `invoice.partially_paid` then `invoice.paid` with its balance."""
    cust = customer(client)
    inv = invoice(client, cust, 10_000)
    first = pay(client, "3000.00", inv["invoice_id"])
    second = pay(client, "7000.00", inv["invoice_id"])
    events = _events(db)
    assert [kind for kind, _, _ in events] == [
        "payment.completed", "invoice.partially_paid", "payment.completed", "invoice.paid",
    ]  # fmt: skip
    assert events[0][1] == first["id"]
    assert events[0][2]["receipt"] == first["receipt"]
    assert events[0][2]["invoice_id"] == inv["invoice_id"]
    assert (events[1][2]["invoice_id"], events[1][2]["balance"]) == (inv["invoice_id"], 7000.0)
    assert events[2][1] == second["id"]
    assert (events[3][2]["status"], events[3][2]["balance"]) == ("PAID", 0.0)


def test_a_repeated_or_failed_callback_leaves_no_event(client: TestClient, db: Database) -> None:
    """The same confirmation three times is one event; a malformed one is none."""
    body = c2b_body("500.00", "NOBODY")
    for _ in range(3):
        assert client.post(CONFIRMATION, json=body).status_code == 200
    assert client.post(CONFIRMATION, content=b"{broken").status_code == 200
    assert [kind for kind, _, _ in _events(db)] == ["payment.completed"]
    [(_, _, data)] = _events(db)
    assert data["status"] == "unallocated"


def test_placing_money_by_hand_says_which_invoice_it_paid(client: TestClient, db: Database) -> None:
    """An unallocated 1,000 placed on an invoice of 1,000 by a person: `invoice.paid`."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    payment = pay(client, "1000.00", "UNKNOWN-REF")
    placed = client.post(
        f"/api/payments/{payment['id']}/allocate", json={"invoice_id": inv["invoice_id"]}
    )
    assert placed.status_code == 200, placed.text
    assert [kind for kind, _, _ in _events(db)] == ["payment.completed", "invoice.paid"]
