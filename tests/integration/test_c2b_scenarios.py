"""The seed guide's Paybill scenarios and the allocation rules, through the HTTP API."""

from __future__ import annotations

from fastapi.testclient import TestClient

from pesadesk.core.phone import phone_hash
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from tests.helpers import customer, invoice, pay


def balance(client: TestClient, customer_id: str) -> float:
    value: float = client.get(f"/api/customers/{customer_id}").json()["balance"]
    return value


def assert_ledger_ok(db: Database) -> None:
    with db.read() as session:
        report = verify(session)
    assert report.ok, report.problems


def test_invoice_paid_in_full(client: TestClient, db: Database) -> None:
    """An invoice of 2,500 paid 2,500 with its id is PAID and the customer owes nothing."""
    cust = customer(client)
    inv = invoice(client, cust, 2500)
    assert inv["status"] == "UNPAID"
    assert inv["invoice_id"].startswith("INV-20260206-")
    payment = pay(client, "2500.00", inv["invoice_id"])
    assert payment["status"] == "completed"
    assert payment["invoice_id"] == inv["invoice_id"]
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["status"], after["amount_paid"], after["balance"]) == ("PAID", 2500.0, 0.0)
    assert balance(client, cust) == 0.0
    assert_ledger_ok(db)


def test_partial_payment_leaves_the_rest_owed(client: TestClient, db: Database) -> None:
    """Invoice 10,000, pays 3,000: PARTIALLY_PAID with 7,000 left; then 7,000 makes it PAID."""
    cust = customer(client)
    inv = invoice(client, cust, 10_000)
    pay(client, "3000.00", inv["invoice_id"])
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["status"], after["amount_paid"], after["balance"]) == (
        "PARTIALLY_PAID",
        3000.0,
        7000.0,
    )
    assert balance(client, cust) == 7000.0
    pay(client, "7000.00", inv["invoice_id"])
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    assert balance(client, cust) == 0.0
    assert_ledger_ok(db)


def test_overpayment_becomes_credit(client: TestClient, db: Database) -> None:
    """Invoice 5,000, pays 7,000: PAID and the customer's balance is -2,000 (credit)."""
    cust = customer(client)
    inv = invoice(client, cust, 5000)
    pay(client, "7000.00", inv["invoice_id"])
    after = client.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["status"], after["amount_paid"]) == ("PAID", 5000.0)
    assert balance(client, cust) == -2000.0
    assert_ledger_ok(db)


def test_new_invoice_is_paid_from_credit(client: TestClient, db: Database) -> None:
    """A customer holding 2,000 credit gets a 1,500 invoice: it is PAID at once, 500 credit left."""
    cust = customer(client)
    pay(client, "2000.00", cust)
    assert balance(client, cust) == -2000.0
    inv = invoice(client, cust, 1500)
    assert (inv["status"], inv["amount_paid"]) == ("PAID", 1500.0)
    assert balance(client, cust) == -500.0
    bigger = invoice(client, cust, 1000)
    assert (bigger["status"], bigger["amount_paid"], bigger["balance"]) == (
        "PARTIALLY_PAID",
        500.0,
        500.0,
    )
    assert balance(client, cust) == 500.0
    assert_ledger_ok(db)


def test_pos_sale_paid_with_its_id(client: TestClient, db: Database) -> None:
    """POS sale of 2 x 50 paid 100 with the POS id: PAID, with an invoice made for it."""
    sale = client.post(
        "/api/pos/sales",
        json={
            "items": [
                {"product_id": "SODA", "product_name": "Soda", "quantity": 2, "unit_price": 50}
            ]
        },
    )
    assert sale.status_code == 201, sale.text
    created = sale.json()
    assert (created["status"], created["total"], created["invoice_id"]) == ("PENDING", 100.0, None)
    assert created["pos_id"].startswith("POS-20260206-")
    payment = pay(client, "100.00", created["pos_id"])
    assert payment["status"] == "completed"
    after = client.get(f"/api/pos/sales/{created['pos_id']}").json()
    assert after["status"] == "PAID"
    assert after["invoice_id"] is not None
    made = client.get(f"/api/invoices/{after['invoice_id']}").json()
    assert (made["status"], made["amount"]) == ("PAID", 100.0)
    assert_ledger_ok(db)


def test_pos_sale_overpaid_by_walk_in_keeps_change_aside(client: TestClient, db: Database) -> None:
    """A walk-in pays 150 for a 100 sale: the sale is PAID and 50 is kept unplaced, not lost."""
    sale = client.post(
        "/api/pos/sales",
        json={
            "items": [{"product_id": "A", "product_name": "A", "quantity": 1, "unit_price": 100}]
        },
    ).json()
    payment = pay(client, "150.00", sale["pos_id"])
    assert payment["status"] == "completed"
    assert payment["unplaced_amount"] == 50.0
    assert client.get(f"/api/pos/sales/{sale['pos_id']}").json()["status"] == "PAID"
    assert_ledger_ok(db)


def test_account_payment_pays_oldest_invoices_first(client: TestClient, db: Database) -> None:
    """Three invoices of 1,000, 2,000 and 3,000; 4,500 to the account pays the first two and
    half of the third... precisely 1,500 of it, oldest first."""
    cust = customer(client)
    first, second, third = (invoice(client, cust, amount) for amount in (1000, 2000, 3000))
    pay(client, "4500.00", cust)
    states = [
        client.get(f"/api/invoices/{inv['invoice_id']}").json() for inv in (first, second, third)
    ]
    assert [(s["status"], s["amount_paid"]) for s in states] == [
        ("PAID", 1000.0),
        ("PAID", 2000.0),
        ("PARTIALLY_PAID", 1500.0),
    ]
    assert balance(client, cust) == 1500.0
    pay(client, "2000.00", cust)
    assert client.get(f"/api/invoices/{third['invoice_id']}").json()["status"] == "PAID"
    assert balance(client, cust) == -500.0
    assert_ledger_ok(db)


def test_invoice_overpayment_spills_onto_other_open_invoices(
    client: TestClient, db: Database
) -> None:
    """Paying 3,000 on a 1,000 invoice while an older 1,500 one is open pays both, 500 credit."""
    cust = customer(client)
    older = invoice(client, cust, 1500)
    newer = invoice(client, cust, 1000)
    pay(client, "3000.00", newer["invoice_id"])
    assert client.get(f"/api/invoices/{newer['invoice_id']}").json()["status"] == "PAID"
    assert client.get(f"/api/invoices/{older['invoice_id']}").json()["status"] == "PAID"
    assert balance(client, cust) == -500.0
    assert_ledger_ok(db)


def test_references_match_ignoring_case_and_spaces(client: TestClient, db: Database) -> None:
    """` inv-…  ` typed in lower case with spaces still pays the invoice."""
    cust = customer(client)
    inv = invoice(client, cust, 800)
    payment = pay(client, "800", f"  {inv['invoice_id'].lower()}  ")
    assert payment["status"] == "completed"
    assert payment["reference"] == f"  {inv['invoice_id'].lower()}  "  # as sent (CONTRACT §4)
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    assert pay(client, "100", cust.lower())["customer_id"] == cust
    assert_ledger_ok(db)


def test_unknown_reference_is_kept_unallocated_then_placed(
    client: TestClient, db: Database
) -> None:
    """Money for `NOSUCH` waits unallocated; placing it pays the invoice; twice is a 409."""
    cust = customer(client)
    inv = invoice(client, cust, 600)
    payment = pay(client, "600", "NOSUCH-REF")
    assert payment["status"] == "unallocated"
    assert payment["customer_id"] is None
    assert_ledger_ok(db)
    placed = client.post(
        f"/api/payments/{payment['id']}/allocate", json={"invoice_id": inv["invoice_id"]}
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["status"] == "completed"
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    again = client.post(f"/api/payments/{payment['id']}/allocate", json={"customer_id": cust})
    assert again.status_code == 409
    assert again.json()["code"] == "already_allocated"
    assert balance(client, cust) == 0.0
    assert_ledger_ok(db)


def test_hashed_msisdn_of_known_customer_credits_their_account(
    client: TestClient, db: Database
) -> None:
    """No matching reference, but the hashed MSISDN is a customer's phone: their account."""
    cust = customer(client, phone="0722000000")
    inv = invoice(client, cust, 300)
    payment = pay(client, "300", "whatever", msisdn=phone_hash("254722000000"))
    assert payment["status"] == "completed"
    assert payment["customer_id"] == cust
    assert payment["msisdn_hash"] == phone_hash("254722000000")
    assert payment["phone"] == phone_hash("254722000000")
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["status"] == "PAID"
    assert_ledger_ok(db)


def test_duplicate_confirmation_counts_once(client: TestClient, db: Database) -> None:
    """The same TransID three times: one payment, the repeats logged as duplicates."""
    cust = customer(client)
    inv = invoice(client, cust, 1000)
    for _ in range(3):
        pay(client, "400", inv["invoice_id"], txn="RKL51ZDR4F")
    assert client.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"] == 400.0
    logs = client.get("/api/webhooks/logs", params={"source": "c2b_confirmation"}).json()["data"]
    assert sorted(entry["is_duplicate"] for entry in logs) == [False, True, True]
    assert all(entry["processed"] for entry in logs)
    assert_ledger_ok(db)
