"""Races that must not move money twice or hand out one id twice, with real concurrent
requests through a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.db.models import LedgerEntry, Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.testing import FrozenClock, serve_in_thread
from tests.conftest import ADMIN_KEY
from tests.helpers import CONFIRMATION, c2b_body

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def server(settings: Settings, db: Database, clock: FrozenClock) -> Iterator[str]:
    with serve_in_thread(create_app(settings, db=db, clock=clock, background=False)) as url:
        yield url


def _together(count: int, call: object) -> list[httpx.Response]:
    """Fire `count` calls at once from as many threads, each with its own connection."""
    assert callable(call)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_fifty_copies_of_one_confirmation_credit_once(server: str, db: Database) -> None:
    """50 copies of one confirmation sent at once: all answered 200, one payment, one credit."""
    with httpx.Client(base_url=server, headers=AUTH) as setup:
        cust = setup.post("/api/customers", json={"name": "Racer", "phone": "0799000000"}).json()[
            "customer_id"
        ]
        inv = setup.post("/api/invoices", json={"customer_id": cust, "amount": 5000}).json()
    body = c2b_body("1000.00", inv["invoice_id"], txn="RACE000001")

    def send() -> httpx.Response:
        with httpx.Client(base_url=server, timeout=30) as one:
            return one.post(CONFIRMATION, json=body)

    answers = _together(50, send)
    assert [a.status_code for a in answers] == [200] * 50
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 1
        cash = session.execute(
            select(func.sum(LedgerEntry.debit_cents)).where(LedgerEntry.account == "cash")
        ).scalar_one()
        assert cash == 100_000
        logs = session.execute(
            select(WebhookLog.is_duplicate, func.count()).group_by(WebhookLog.is_duplicate)
        ).all()
        assert dict(logs) == {False: 1, True: 49}
        assert verify(session).ok
    with httpx.Client(base_url=server, headers=AUTH) as check:
        after = check.get(f"/api/invoices/{inv['invoice_id']}").json()
    assert (after["amount_paid"], after["status"]) == (1000.0, "PARTIALLY_PAID")


def test_twenty_invoices_created_at_once_get_distinct_ids(server: str, db: Database) -> None:
    """20 invoices created at the same instant get 20 distinct INV- numbers, 0001 to 0020."""
    with httpx.Client(base_url=server, headers=AUTH) as setup:
        cust = setup.post("/api/customers", json={"name": "Busy", "phone": "0799000000"}).json()[
            "customer_id"
        ]

    def create() -> httpx.Response:
        with httpx.Client(base_url=server, headers=AUTH, timeout=30) as one:
            return one.post("/api/invoices", json={"customer_id": cust, "amount": 100})

    answers = _together(20, create)
    assert [a.status_code for a in answers] == [201] * 20
    ids = sorted(a.json()["invoice_id"] for a in answers)
    assert ids == [f"INV-20260206-{n:04d}" for n in range(1, 21)]
    with db.read() as session:
        assert verify(session).ok


def test_concurrent_payments_for_one_customer_never_overpay_an_invoice(
    server: str, db: Database
) -> None:
    """Ten different 300 payments to one 1,000 invoice at once: PAID at 1,000, 2,000 credit."""
    with httpx.Client(base_url=server, headers=AUTH) as setup:
        cust = setup.post("/api/customers", json={"name": "Crowd", "phone": "0799000000"}).json()[
            "customer_id"
        ]
        inv = setup.post("/api/invoices", json={"customer_id": cust, "amount": 1000}).json()
    bodies = iter([c2b_body("300.00", inv["invoice_id"]) for _ in range(10)])

    def send() -> httpx.Response:
        body = next(bodies)
        with httpx.Client(base_url=server, timeout=30) as one:
            return one.post(CONFIRMATION, json=body)

    answers = _together(10, send)
    assert [a.status_code for a in answers] == [200] * 10
    with httpx.Client(base_url=server, headers=AUTH) as check:
        after = check.get(f"/api/invoices/{inv['invoice_id']}").json()
        customer = check.get(f"/api/customers/{cust}").json()
    assert (after["status"], after["amount_paid"]) == ("PAID", 1000.0)
    assert customer["balance"] == -2000.0
    with db.read() as session:
        assert verify(session).ok
