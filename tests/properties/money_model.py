"""What the money state machine expects, kept apart from how it drives the desk.

The model does not re-implement allocation (FIFO, credit applied to new invoices): it
keeps what must hold whatever the allocation chose. Every shilling received is on an
invoice, a customer's credit, in suspense (unallocated, or a walk-in sale's change) or
refunded; per customer, what was placed on them is on their invoices, their credit or
refunded; each TransID is one payment, of its amount, with the status it should have."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

COMPLETED = "completed"
UNALLOCATED = "unallocated"
PAID_STATES = {COMPLETED, "refunded", "partially_refunded"}


def cents(value: Any) -> int:
    """A JSON number of shillings as exact cents (through its text, never float maths)."""
    return int(Decimal(str(value)) * 100)


def phone_hash(phone: str) -> str:
    """How Daraja sends a payer's number since 2023: SHA-256 of 2547XXXXXXXX."""
    return hashlib.sha256(phone.encode()).hexdigest()


@dataclass
class Sale:
    pos_id: str
    total: int
    customer: str | None
    paid_in: int = 0  # only counted for walk-in sales (no customer)


@dataclass
class Model:
    customers: dict[str, str] = field(default_factory=dict)  # customer_id -> phone
    placed: dict[str, int] = field(default_factory=dict)  # customer_id -> cents put on them
    invoices: dict[str, str] = field(default_factory=dict)  # invoice_id -> customer_id
    sales: dict[str, Sale] = field(default_factory=dict)
    payments: dict[str, tuple[int, str]] = field(default_factory=dict)  # id -> (cents, status)
    unallocated: int = 0
    refunded: int = 0
    refunded_by: dict[str, int] = field(default_factory=dict)  # customer_id -> cents
    refunds: dict[str, int] = field(default_factory=dict)  # payment id -> cents refunded

    @property
    def money_in(self) -> int:
        return sum(amount for amount, _ in self.payments.values())

    @property
    def walk_in_change(self) -> int:
        return sum(max(0, s.paid_in - s.total) for s in self.sales.values() if s.customer is None)

    def receive(self, payment_id: str, amount: int, target: tuple[str, str] | None) -> None:
        """A new payment; `target` is (kind, key) of what its reference matched."""
        status = COMPLETED if target is not None else UNALLOCATED
        self.payments[payment_id] = (amount, status)
        if target is None:
            self.unallocated += amount
        else:
            self.place(amount, target)

    def place(self, amount: int, target: tuple[str, str]) -> None:
        kind, key = target
        customer = {
            "customer": key,
            "invoice": self.invoices.get(key),
            "sale": self.sales[key].customer if kind == "sale" else None,
        }[kind]
        if customer is not None:
            self.placed[customer] = self.placed.get(customer, 0) + amount
        elif kind == "sale":
            self.sales[key].paid_in += amount

    def allocate(self, payment_id: str, target: tuple[str, str]) -> None:
        amount, _ = self.payments[payment_id]
        self.payments[payment_id] = (amount, COMPLETED)
        self.unallocated -= amount
        self.place(amount, target)


@dataclass
class Seen:
    """What the API says now."""

    invoices: list[dict[str, Any]]
    customers: dict[str, dict[str, Any]]
    payments: list[dict[str, Any]]
    stats: dict[str, Any]


def _pages(client: TestClient, path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500}
    while True:
        answer = client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        rows.extend(body["data"])
        if not body["next_cursor"]:
            return rows
        params["cursor"] = body["next_cursor"]


def read(client: TestClient, model: Model) -> Seen:
    customers = {}
    for customer_id in model.customers:
        answer = client.get(f"/api/customers/{customer_id}")
        assert answer.status_code == 200, answer.text
        customers[customer_id] = answer.json()
    payments = client.get("/api/payments")  # the seed's shape: every payment, a plain list
    assert payments.status_code == 200, payments.text
    stats = client.get("/api/stats")
    assert stats.status_code == 200, stats.text
    return Seen(_pages(client, "/api/invoices"), customers, payments.json(), stats.json())


def check(model: Model, seen: Seen) -> None:
    """Every rule of the module docstring, against what the API says."""
    ids = [p["id"] for p in seen.payments]
    assert len(ids) == len(set(ids)), "a payment is listed twice"
    assert {p["id"]: (cents(p["amount"]), p["status"]) for p in seen.payments} == model.payments
    for invoice in seen.invoices:
        amount, paid = cents(invoice["amount"]), cents(invoice["amount_paid"])
        assert 0 <= paid <= amount, invoice
        expected = "UNPAID" if paid == 0 else "PAID" if paid == amount else "PARTIALLY_PAID"
        assert invoice["status"] == expected, invoice
    on_invoices = sum(cents(i["amount_paid"]) for i in seen.invoices)
    credit = sum(cents(c["credit"]) for c in seen.customers.values())
    waiting = sum(cents(p["amount"]) for p in seen.payments if p["status"] == UNALLOCATED)
    change = sum(cents(p["unplaced_amount"]) for p in seen.payments if p["status"] != UNALLOCATED)
    assert (waiting, change) == (model.unallocated, model.walk_in_change)
    suspense = waiting + change
    assert model.money_in == on_invoices + credit + suspense + model.refunded
    assert cents(seen.stats["unallocated_amount"]) == model.unallocated
    assert cents(seen.stats["refunded_amount"]) == model.refunded
    for customer_id, view in seen.customers.items():
        theirs = sum(
            cents(i["amount_paid"]) for i in seen.invoices if i["customer_id"] == customer_id
        )
        left = model.placed.get(customer_id, 0) - model.refunded_by.get(customer_id, 0)
        assert theirs + cents(view["credit"]) == left, (customer_id, view)
        if cents(view["credit"]) > 0:  # credit is applied to every invoice as it is issued
            assert all(
                i["status"] == "PAID" for i in seen.invoices if i["customer_id"] == customer_id
            ), customer_id
