"""The ledger export, read back as an accountant's tool would: every journal sums to
zero, the totals match `ledger verify` and the ledger rows, dates are Nairobi days,
formulas are neutralised; the API and the CLI give the same journal."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from pesadesk.cli import app
from pesadesk.db.models import LedgerEntry
from pesadesk.db.session import Database
from pesadesk.ledger import rules
from pesadesk.ledger.posting import write_legs
from pesadesk.ledger.verify import verify
from pesadesk.testing import FrozenClock
from tests.helpers import customer, invoice, pay


def _activity(client: TestClient, db: Database, clock: FrozenClock) -> None:
    """Invoice 10,000 paid 3,000 then 8,000 (1,000 credit); 500 unplaced then placed on
    an invoice; late in the Nairobi evening, a hand-made journal whose memo is a formula."""
    cust = customer(client)
    inv = invoice(client, cust, 10_000)
    pay(client, "3000.00", inv["invoice_id"])
    pay(client, "8000.00", inv["invoice_id"])
    loose = pay(client, "500.00", "NO-SUCH-REF")
    second = invoice(client, customer(client, "Otieno"), 500)
    placed = client.post(f"/api/payments/{loose['id']}/allocate",
                         json={"invoice_id": second["invoice_id"]})  # fmt: skip
    assert placed.status_code == 200, placed.text
    clock.advance(hours=13, minutes=30)  # 22:30 UTC on the 6th is 01:30 EAT on the 7th
    with db.write() as session:
        legs = [
            rules.Leg("adjustment", rules.CASH, debit_cents=12_345),
            rules.Leg("adjustment", rules.SUSPENSE, credit_cents=12_345),
        ]
        write_legs(session, legs, journal_id="adjustment:late", now=clock.now(),
                   memo="=HYPERLINK(\"http://evil\")")  # fmt: skip


def _journals(rows: list[dict[str, str]]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[row["journal_id"]] += Decimal(row["debit"]) - Decimal(row["credit"])
    return sums


def test_the_csv_balances_per_journal_and_matches_the_ledger(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """Read back: each journal nets to zero, the journal count is `ledger verify`'s and
    the debit total is the ledger's; the late journal is dated the next Nairobi day."""
    _activity(client, db, clock)
    answer = client.get("/api/ledger/export", params={"format": "csv"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == [
        "date", "journal_id", "account", "debit", "credit", "currency", "reference", "memo",
    ]  # fmt: skip
    sums = _journals(rows)
    assert all(total == 0 for total in sums.values()), sums
    with db.read() as session:
        report = verify(session)
        debits = session.execute(select(func.sum(LedgerEntry.debit_cents))).scalar_one()
        legs = session.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    assert report.ok, report.problems
    assert len(sums) == report.journals
    assert len(rows) == legs
    assert sum(Decimal(r["debit"]) for r in rows) * 100 == debits
    assert sum(Decimal(r["credit"]) for r in rows) * 100 == debits
    late = [r for r in rows if r["journal_id"] == "adjustment:late"]
    assert {r["date"] for r in late} == {"2026-02-07"}
    assert {r["memo"] for r in late} == {'\'=HYPERLINK("http://evil")'}
    assert {r["date"] for r in rows if r not in late} == {"2026-02-06"}
    assert {r["currency"] for r in rows} == {"KES"}
    payment_rows = [r for r in rows if r["reference"].startswith("PAY-C2B-")]
    assert payment_rows


def test_the_window_takes_whole_journals_and_json_says_the_same(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """`from`/`to` are Nairobi days: the 7th holds only the late journal; JSON carries
    the same legs as CSV with amounts as numbers."""
    _activity(client, db, clock)
    window = {"from": "2026-02-07", "to": "2026-02-07", "format": "json"}
    late = client.get("/api/ledger/export", params=window)
    assert late.status_code == 200
    assert [(r["account"], r["debit"], r["credit"]) for r in late.json()] == [
        ("cash", 123.45, 0.0), ("suspense", 0.0, 123.45),
    ]  # fmt: skip
    day = client.get("/api/ledger/export", params={"to": "2026-02-06", "format": "json"}).json()
    whole = list(csv.DictReader(io.StringIO(client.get("/api/ledger/export").text)))
    assert len(day) + 2 == len(whole)
    assert all(
        Decimal(str(r["debit"])) == Decimal(w["debit"]) for r, w in zip(day, whole, strict=False)
    )
    assert client.get("/api/ledger/export", params={"format": "xml"}).status_code == 422
    assert client.get("/api/ledger/export", params={"from": "06/02/2026"}).status_code == 422


def test_the_cli_writes_the_same_journal(
    client: TestClient, db: Database, db_url: str, clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """`pesadesk ledger export --format csv` prints what the API serves; bad --format is
    one line and exit 2."""
    _activity(client, db, clock)
    monkeypatch.setenv("PESADESK_DATABASE_URL", db_url)
    monkeypatch.setenv("PESADESK_CONFIG", "")  # empty: no config file
    runner = CliRunner()
    done = runner.invoke(app, ["ledger", "export", "--format", "csv"])
    assert done.exit_code == 0, done.output
    served = client.get("/api/ledger/export").text
    assert list(csv.reader(io.StringIO(done.stdout))) == list(csv.reader(io.StringIO(served)))
    as_json = runner.invoke(app, ["ledger", "export", "--format", "json", "--from", "2026-02-07"])
    assert len(json.loads(as_json.stdout)) == 2
    bad = runner.invoke(app, ["ledger", "export", "--format", "xml"])
    assert bad.exit_code == 2
