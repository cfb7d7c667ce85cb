"""Writes ledger legs and keeps the cached balances on invoices and customers in step,
inside the caller's transaction.

Concurrency: every change to a customer's money starts by updating that customer's row
(`change_balance`), which holds its row lock to the end of the transaction; so two
payments for one customer are placed one after the other, and the open invoices read
afterwards are current. Invoices without a customer (walk-in POS sales) are locked
themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pesadesk.core.statuses import InvoiceStatus, invoice_status
from pesadesk.db.sql import Sql, db_time
from pesadesk.ledger import rules as ledger
from pesadesk.receivables.rules import Allocation, OpenInvoice

OPEN_STATUSES = (InvoiceStatus.UNPAID.value, InvoiceStatus.PARTIALLY_PAID.value)


@dataclass(frozen=True)
class InvoiceDue:
    """An open invoice as read under the customer's lock."""

    id: int
    amount_cents: int
    paid_cents: int

    @property
    def open(self) -> OpenInvoice:
        return OpenInvoice(self.id, self.amount_cents - self.paid_cents)


_LEG_COLUMNS = ("kind", "account", "customer_pk", "invoice_pk", "debit_cents", "credit_cents")


@functools.cache
def _insert_legs(count: int) -> Sql:
    """One multi-row INSERT for `count` legs: a single round trip, no executemany."""
    rows = ", ".join(
        f"(:journal_id, :payment_id, :created_at, {', '.join(f':{c}_{i}' for c in _LEG_COLUMNS)})"
        for i in range(count)
    )
    return Sql(
        "INSERT INTO ledger_entries (journal_id, payment_id, created_at, "  # noqa: S608 - fixed column names
        f"{', '.join(_LEG_COLUMNS)}) VALUES {rows}"
    )


_CLOSE_JOURNAL = Sql(
    "INSERT INTO ledger_journals (journal_id, kind, reference, memo, created_at) "
    "VALUES (:journal_id, :kind, :reference, :memo, :created_at)"
)
_CHANGE_BALANCE = Sql(
    "UPDATE customers SET balance_cents = balance_cents + :delta, updated_at = :now WHERE id = :id"
)
_OPEN_INVOICES = Sql(
    "SELECT id, amount_cents, amount_paid_cents FROM invoices "
    "WHERE customer_pk = :customer AND status IN ('UNPAID', 'PARTIALLY_PAID') "
    "ORDER BY created_at, id"
)
_INVOICE_FOR_UPDATE = Sql(
    "SELECT id, amount_cents, amount_paid_cents FROM invoices WHERE id = :id FOR UPDATE"
)
_INVOICE_SQLITE = Sql("SELECT id, amount_cents, amount_paid_cents FROM invoices WHERE id = :id")
_PAY_INVOICE = Sql(
    "UPDATE invoices SET amount_paid_cents = :paid, status = :status, updated_at = :now "
    "WHERE id = :id"
)
_UNAPPLIED_CREDIT = Sql(
    "SELECT COALESCE(SUM(credit_cents - debit_cents), 0) FROM ledger_entries "
    "WHERE customer_pk = :customer AND account = 'receivable' AND invoice_pk IS NULL"
)


def conn_of(session: Session) -> Connection:
    return session.connection()


def write_legs(
    session: Session,
    legs: Sequence[ledger.Leg],
    *,
    journal_id: str,
    now: datetime,
    payment_id: str | None = None,
    memo: str | None = None,
) -> None:
    """Post one journal: its legs, then its header, which the database accepts only if
    the legs balance (and after which it accepts no more legs for it)."""
    if not ledger.is_balanced(legs):
        raise ValueError(f"journal {journal_id} does not balance")
    conn = conn_of(session)
    params: dict[str, object] = {
        "journal_id": journal_id,
        "payment_id": payment_id,
        "created_at": db_time(conn, now),
    }
    for i, leg in enumerate(legs):
        params.update(
            {
                f"kind_{i}": leg.kind,
                f"account_{i}": leg.account,
                f"customer_pk_{i}": leg.customer_key,
                f"invoice_pk_{i}": leg.invoice_key,
                f"debit_cents_{i}": leg.debit_cents,
                f"credit_cents_{i}": leg.credit_cents,
            }
        )
    _insert_legs(len(legs)).run(conn, params)
    kind, _, subject = journal_id.partition(":")
    _CLOSE_JOURNAL.run(
        conn,
        {"journal_id": journal_id, "kind": kind, "reference": payment_id or subject or None,
         "memo": memo, "created_at": params["created_at"]},
    )  # fmt: skip


def change_balance(session: Session, customer_pk: int, delta_cents: int, now: datetime) -> None:
    """Owed goes up with an invoice and down with a payment; below zero is credit.

    Also the customer's lock: call it first in any transaction that moves their money.
    """
    conn = conn_of(session)
    _CHANGE_BALANCE.run(conn, {"delta": delta_cents, "now": db_time(conn, now), "id": customer_pk})


def open_invoices(session: Session, customer_pk: int) -> list[InvoiceDue]:
    """The customer's unpaid invoices, oldest first (read under the customer's lock)."""
    rows = _OPEN_INVOICES.run(conn_of(session), {"customer": customer_pk}).all()
    return [InvoiceDue(*row) for row in rows if row[1] > row[2]]


def lock_invoice(session: Session, invoice_pk: int) -> InvoiceDue:
    """An invoice with no customer to lock (walk-in POS), locked itself."""
    conn = conn_of(session)
    query = _INVOICE_FOR_UPDATE if conn.dialect.name == "postgresql" else _INVOICE_SQLITE
    return InvoiceDue(*query.run(conn, {"id": invoice_pk}).one())


def unapplied_credit(session: Session, customer_pk: int) -> int:
    """Credit the customer holds that no invoice has taken yet."""
    return int(_UNAPPLIED_CREDIT.run(conn_of(session), {"customer": customer_pk}).scalar_one())


def apply_to_invoices(
    session: Session, parts: Sequence[Allocation], dues: Sequence[InvoiceDue], now: datetime
) -> list[tuple[int, InvoiceStatus]]:
    """Raise each invoice's `amount_paid` by its part and move its status along; returns
    each touched invoice with its new status."""
    by_id = {due.id: due for due in dues}
    conn = conn_of(session)
    stamp = db_time(conn, now)
    updates = []
    for part in parts:
        if part.invoice_key is None:
            continue
        due = by_id[part.invoice_key]
        paid = due.paid_cents + part.cents
        updates.append(
            {
                "paid": paid,
                "status": invoice_status(due.amount_cents, paid).value,
                "now": stamp,
                "id": due.id,
            }
        )
    for update in updates:  # almost always one; executemany costs more than it saves
        _PAY_INVOICE.run(conn, update)
    return [(int(u["id"]), InvoiceStatus(u["status"])) for u in updates]
