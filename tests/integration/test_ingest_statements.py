"""The hot path's round trips: a batch of confirmations costs a fixed number of
statements, whatever its size (issue 12), and each payment still lands exactly once."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select

from pesadesk.config import Settings
from pesadesk.db.models import LedgerEntry, Payment, WebhookLog
from pesadesk.db.session import Database
from pesadesk.ledger.verify import verify
from pesadesk.pipeline.run import Job, Pipeline
from pesadesk.testing import FrozenClock
from tests.helpers import c2b_body, customer, invoice


@contextmanager
def counting(db: Database) -> Iterator[list[str]]:
    """Every statement sent to the database while the block runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _batch(refs: list[str], prefix: str) -> list[Job]:
    bodies = [c2b_body("100.00", ref, txn=f"{prefix}{n:06d}") for n, ref in enumerate(refs)]
    return [Job("c2b_confirmation", json.dumps(b).encode(), "127.0.0.1") for b in bodies]


def _statements_for(db: Database, settings: Settings, clock: FrozenClock, jobs: list[Job]) -> int:
    pipeline = Pipeline(db, settings, clock)
    with counting(db) as sent:
        pipeline.run(jobs)
    for job in jobs:
        result = job.future.result(timeout=5)
        assert result.error is None, result.error
    return len(sent)


def test_a_batch_costs_the_same_statements_whatever_its_size(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """8 and 64 confirmations over invoices of 8 customers: the same statement count, and
    small (a fixed handful, not a handful per confirmation)."""
    customers = [customer(client, f"Shop {n}") for n in range(8)]
    invoices = [invoice(client, c, 1_000_000)["invoice_id"] for c in customers for _ in range(2)]
    small = _statements_for(db, settings, clock, _batch(invoices[:8], "SML"))
    large = _statements_for(db, settings, clock, _batch(invoices * 4, "BIG"))
    print(f"statements: batch of 8 -> {small}, batch of 64 -> {large}")
    if db.is_sqlite:  # no round trips to save: a log row and a payment row each, no more
        assert large - small <= 3 * 56, (small, large)
    else:
        assert large == small, (small, large)
        assert large <= 14, large
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 72
        assert session.execute(select(func.count()).select_from(WebhookLog)).scalar_one() == 72
        assert session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() > 72
        assert verify(session).ok


def _sale(client: TestClient, cents_each: int, customer_id: str | None = None) -> str:
    line = {"product_id": "A", "product_name": "A", "quantity": 1, "unit_price": cents_each}
    answer = client.post("/api/pos/sales", json={"items": [line], "customer_id": customer_id})
    assert answer.status_code == 201, answer.text
    pos_id: str = answer.json()["pos_id"]
    return pos_id


def test_a_mixed_batch_places_each_payment_as_it_would_go_alone(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """One batch holding every kind of target (an invoice typed in lower case, a customer
    id, a customer's POS sale, a walk-in sale paid in two halves, a payer known only by
    phone hash, nobody, and a copy): each lands where the rules put it, once."""
    phone = "0722000126"
    wanjiku = client.post("/api/customers", json={"name": "Wanjiku", "phone": phone}).json()
    kamau = customer(client, "Kamau")
    first = invoice(client, wanjiku["customer_id"], 300)["invoice_id"]
    second = invoice(client, wanjiku["customer_id"], 200)["invoice_id"]
    kamau_sale = _sale(client, 150, kamau)
    walk_in = _sale(client, 100)
    paid = [
        c2b_body("300.00", f" {first.lower()} ", txn="MIX000001"),
        c2b_body("150.00", kamau_sale, txn="MIX000002"),
        c2b_body("50.00", walk_in, txn="MIX000003"),
        c2b_body("50.00", walk_in, txn="MIX000004"),
        c2b_body("40.00", kamau, txn="MIX000005"),
        # Daraja's v1 hash of 254722000126, with a reference nobody owns: Wanjiku's
        c2b_body("120.00", "NOT-A-REF", txn="MIX000006", msisdn=_hash("254722000126")),
        c2b_body("10.00", "NOBODY", txn="MIX000007", msisdn=_hash("254799999999")),
        c2b_body("300.00", first, txn="MIX000001"),
    ]
    jobs = [Job("c2b_confirmation", json.dumps(b).encode(), "127.0.0.1") for b in paid]
    Pipeline(db, settings, clock).run(jobs)
    results = [job.future.result(timeout=5) for job in jobs]
    assert [r.error for r in results] == [None] * 8
    assert [bool(r.outcome and r.outcome.duplicate) for r in results] == [False] * 7 + [True]

    def payment(txn: str) -> dict[str, Any]:
        found: dict[str, Any] = client.get(f"/api/payments/PAY-C2B-{txn}").json()
        return found

    assert client.get(f"/api/invoices/{first}").json()["status"] == "PAID"
    assert client.get(f"/api/invoices/{second}").json()["status"] == "PARTIALLY_PAID"
    assert client.get(f"/api/pos/sales/{kamau_sale}").json()["status"] == "PAID"
    assert client.get(f"/api/pos/sales/{walk_in}").json()["status"] == "PAID"
    assert payment("MIX000006")["customer_id"] == wanjiku["customer_id"]
    assert payment("MIX000007")["status"] == "unallocated"
    assert client.get(f"/api/customers/{kamau}").json()["balance"] == -40.0
    assert client.get(f"/api/customers/{wanjiku['customer_id']}").json()["balance"] == 80.0
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 7
        assert verify(session).ok


def _hash(msisdn: str) -> str:
    return hashlib.sha256(msisdn.encode()).hexdigest()


class _CountingPipeline(Pipeline):
    """Counts batches that failed whole (a deadlock among them) before being redone."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.failed: list[str] = []

    def _commit(self, prepared: Any) -> Any:
        try:
            return super()._commit(prepared)
        except Exception as exc:
            self.failed.append(repr(exc.__cause__ or exc)[:300])
            raise


def test_concurrent_batches_over_the_same_customers_never_deadlock(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Four writers commit batches over the same customers at once (PostgreSQL takes
    them in parallel): every batch commits first time, none is rolled back and redone."""
    customers = [customer(client, f"Shop {n}") for n in range(10)]
    refs = [invoice(client, c, 1_000_000)["invoice_id"] for c in customers for _ in range(3)]
    pipeline = _CountingPipeline(db, settings, clock)
    shuffled = random.Random(12)

    def writer(n: int) -> None:
        for batch in range(8):
            picks = [shuffled.choice(refs) for _ in range(16)]
            jobs = _batch(picks, f"W{n}B{batch}X")
            pipeline.run(jobs)
            for job in jobs:
                assert job.future.result(timeout=30).error is None

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert pipeline.failed == []
    with db.read() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 512
        assert verify(session).ok
