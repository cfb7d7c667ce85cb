"""`pesadesk ledger verify` passes on honest data and catches a tampered balance."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from pesadesk.c2b import bulk as c2b
from pesadesk.cli import app
from pesadesk.daraja.callbacks import C2BPayment as C2BTransaction
from pesadesk.db.models import Invoice
from pesadesk.db.session import Database
from pesadesk.receivables import customers, invoices
from pesadesk.testing import FrozenClock


def test_verify_passes_then_catches_an_edited_invoice(
    db: Database, db_url: str, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 0 on data written by pesadesk; exit 1 naming the invoice after a hand edit."""
    with db.write() as session:
        cust = customers.create_customer(session, new=customers.NewCustomer("Ann"), clock=clock)
        inv, _ = invoices.create_invoice(
            session, new=invoices.NewInvoice(cust.customer_id, 100_000), clock=clock
        )
        txn = C2BTransaction("VERIFY0001", 40_000, inv.invoice_id, None, None, None, None, None)
        c2b.record_confirmation(session, txn=txn, clock=clock)
    monkeypatch.setenv("PESADESK_DATABASE_URL", db_url)
    monkeypatch.setenv("PESADESK_CONFIG", "")  # empty: no config file
    runner = CliRunner()
    ok = runner.invoke(app, ["ledger", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "ledger OK" in ok.output
    with db.write() as session:
        session.execute(
            update(Invoice).where(Invoice.id == inv.id).values(amount_paid_cents=100_000)
        )
    bad = runner.invoke(app, ["ledger", "verify"])
    assert bad.exit_code == 1
    assert f"invoice {inv.invoice_id}: paid 100000, ledger 40000" in bad.output
