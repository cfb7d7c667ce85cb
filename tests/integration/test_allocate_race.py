"""Two people placing the same unallocated payment at the same moment: exactly one wins
(200) and the other gets 409, through a real server, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from pesadesk.api.app import create_app
from pesadesk.config import Settings
from pesadesk.db.models import LedgerEntry
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.testing import FrozenClock, serve_in_thread
from tests.helpers import CONFIRMATION, c2b_body
from tests.integration.api_support import ACK, AUTH

ROUNDS = 6


@pytest.fixture
def server(settings: Settings, db: Database, clock: FrozenClock) -> Iterator[str]:
    with serve_in_thread(create_app(settings, db=db, clock=clock, background=False)) as url:
        yield url


def test_concurrent_allocations_of_one_payment_one_wins_one_409(server: str, db: Database) -> None:
    """Two simultaneous POST /allocate calls for one unallocated payment (to an invoice and to
    an account) give exactly one 200 and one 409 already_allocated, and move the money once."""
    with httpx.Client(base_url=server, headers=AUTH, timeout=30) as setup:
        cust = setup.post("/api/customers", json={"name": "Racer", "phone": "0799000000"}).json()[
            "customer_id"
        ]
        invoices = [
            setup.post("/api/invoices", json={"customer_id": cust, "amount": 1000}).json()
            for _ in range(ROUNDS)
        ]
        for n in range(ROUNDS):
            sent = setup.post(CONFIRMATION, json=c2b_body("250.00", "UNKNOWN", txn=f"ALLOC{n:05d}"))
            assert sent.json() == ACK
    with db.read() as session:
        ledger_before = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()

    outcomes: list[list[int]] = []
    for n in range(ROUNDS):
        url = f"/api/payments/PAY-C2B-ALLOC{n:05d}/allocate"
        targets: list[dict[str, Any]] = [
            {"invoice_id": invoices[n]["invoice_id"]},
            {"customer_id": cust} if n % 2 else {"invoice_id": invoices[n]["invoice_id"]},
        ]
        start = threading.Barrier(len(targets))

        def place(target: dict[str, Any], url: str = url, start: Any = start) -> httpx.Response:
            with httpx.Client(base_url=server, headers=AUTH, timeout=30) as one:
                start.wait()
                return one.post(url, json=target)

        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            answers = list(pool.map(place, targets))
        codes = sorted(a.status_code for a in answers)
        outcomes.append(codes)
        loser = next((a for a in answers if a.status_code == 409), None)
        if loser is not None:
            assert loser.json()["code"] == "already_allocated"
        winner = next((a for a in answers if a.status_code == 200), None)
        if winner is not None:
            assert winner.json()["status"] == "completed"
    assert outcomes == [[200, 409]] * ROUNDS

    with httpx.Client(base_url=server, headers=AUTH, timeout=30) as check:
        paid = [
            check.get(f"/api/invoices/{inv['invoice_id']}").json()["amount_paid"]
            for inv in invoices
        ]
        balance = check.get(f"/api/customers/{cust}").json()["balance"]
        statuses = {p["status"] for p in check.get("/api/payments").json()}
    assert sum(paid) == 250.0 * ROUNDS
    assert all(amount <= 1000.0 for amount in paid)
    assert balance == 1000.0 * ROUNDS - 250.0 * ROUNDS
    assert statuses == {"completed"}
    with db.read() as session:
        report = verify(session)
        ledger_after = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    assert report.ok, report.problems
    assert ledger_after > ledger_before
