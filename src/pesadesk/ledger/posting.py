"""Writes ledger legs and keeps the cached balances on invoices and customers in step,
inside the caller's transaction.

Concurrency: every change to a customer's money starts by updating that customer's row
(`change_balance`), which holds its row lock to the end of the transaction; so two
payments for one customer are placed one after the other, and the open invoices read
afterwards are current. Invoices without a customer (walk-in POS sales) are locked
themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from pesadesk.core.statuses import InvoiceStatus, invoice_status
from pesadesk.db.sql import ListSql, Sql, db_time, insert_many
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


@dataclass(frozen=True)
class Journal:
    """One balanced money movement: its legs, and what it is about."""

    journal_id: str
    legs: Sequence[ledger.Leg]
    payment_id: str | None = None
    memo: str | None = None


_LEGS = (
    ("journal_id", "text"), ("payment_id", "text"), ("created_at", "timestamptz"),
    ("kind", "text"), ("account", "text"), ("customer_pk", "integer"),
    ("invoice_pk", "integer"), ("debit_cents", "bigint"), ("credit_cents", "bigint"),
)  # fmt: skip
_HEADERS = (
    ("journal_id", "text"), ("kind", "text"), ("reference", "text"), ("memo", "text"),
    ("created_at", "timestamptz"),
)  # fmt: skip


def write_journals(session: Session, journals: Sequence[Journal], now: datetime) -> None:
    """Post journals: all their legs in one statement, then their headers in one, which
    the database accepts only for journals whose legs balance (and after which it
    accepts no more legs for them)."""
    for journal in journals:
        if not ledger.is_balanced(journal.legs):
            raise ValueError(f"journal {journal.journal_id} does not balance")
    conn = conn_of(session)
    at = db_time(conn, now)
    legs = [
        (j.journal_id, j.payment_id, at, leg.kind, leg.account, leg.customer_key,
         leg.invoice_key, leg.debit_cents, leg.credit_cents)
        for j in journals
        for leg in j.legs
    ]  # fmt: skip
    insert_many(conn, "ledger_entries", _LEGS, legs)
    headers = []
    for j in journals:
        kind, _, subject = j.journal_id.partition(":")
        headers.append((j.journal_id, kind, j.payment_id or subject or None, j.memo, at))
    insert_many(conn, "ledger_journals", _HEADERS, headers)


def write_legs(
    session: Session,
    legs: Sequence[ledger.Leg],
    *,
    journal_id: str,
    now: datetime,
    payment_id: str | None = None,
    memo: str | None = None,
) -> None:
    """Post one journal."""
    write_journals(session, [Journal(journal_id, legs, payment_id, memo)], now)


def change_balance(session: Session, customer_pk: int, delta_cents: int, now: datetime) -> None:
    """Owed goes up with an invoice and down with a payment; below zero is credit.

    Also the customer's lock: call it first in any transaction that moves their money.
    """
    conn = conn_of(session)
    _CHANGE_BALANCE.run(conn, {"delta": delta_cents, "now": db_time(conn, now), "id": customer_pk})


# PostgreSQL locks the rows in the ORDER BY's order (the lock sits above the sort), so a
# batch takes its customers' locks ascending, like every other path, in one round trip.
# NO KEY UPDATE is the lock an UPDATE of the balance takes: it leaves alone the KEY SHARE
# locks that inserting payments and ledger legs for these customers holds (FOR UPDATE
# would wait on other batches' and deadlock with them).
_LOCK_CUSTOMERS = "SELECT id FROM customers WHERE id = ANY(%(ids)b) ORDER BY id FOR NO KEY UPDATE"
_CHANGE_BALANCES = (
    "UPDATE customers SET balance_cents = balance_cents + u.delta, updated_at = %(now)s "
    "FROM unnest(CAST(%(ids)b AS integer[]), CAST(%(deltas)b AS bigint[])) AS u(id, delta) "
    "WHERE customers.id = u.id"
)


def change_balances(session: Session, deltas: Sequence[tuple[int, int]], now: datetime) -> None:
    """`change_balance` for many customers (ascending ids), in two statements on
    PostgreSQL whatever their number: lock them in order, then change them all."""
    conn = conn_of(session)
    if conn.dialect.name != "postgresql" or len(deltas) < 2:
        for customer_pk, delta in deltas:
            change_balance(session, customer_pk, delta, now)
        return
    ids = [pk for pk, _ in deltas]
    conn.exec_driver_sql(_LOCK_CUSTOMERS, {"ids": ids}).all()
    conn.exec_driver_sql(
        _CHANGE_BALANCES,
        {"ids": ids, "deltas": [d for _, d in deltas], "now": db_time(conn, now)},
    )


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


_OPEN_INVOICES_OF = ListSql(
    "SELECT customer_pk, id, amount_cents, amount_paid_cents FROM invoices "
    "WHERE customer_pk {customers} AND status IN ('UNPAID', 'PARTIALLY_PAID') "
    "ORDER BY customer_pk, created_at, id",
    customers="integer",
)


def open_invoices_of(session: Session, customer_pks: Sequence[int]) -> dict[int, list[InvoiceDue]]:
    """Each customer's unpaid invoices, oldest first, in one query (read under their locks)."""
    found: dict[int, list[InvoiceDue]] = {pk: [] for pk in customer_pks}
    if not customer_pks:
        return found
    rows = _OPEN_INVOICES_OF.run(conn_of(session), {"customers": list(customer_pks)})
    for customer, pk, amount, paid in rows:
        if amount > paid:
            found[customer].append(InvoiceDue(pk, amount, paid))
    return found


def set_invoices_paid(
    session: Session, totals: Sequence[InvoiceDue], now: datetime
) -> list[tuple[int, InvoiceStatus]]:
    """Store each invoice's new `amount_paid` and the status it makes, in one statement."""
    if not totals:
        return []
    conn = conn_of(session)
    changes = [(d.id, d.paid_cents, invoice_status(d.amount_cents, d.paid_cents)) for d in totals]
    stamp = db_time(conn, now)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "UPDATE invoices SET amount_paid_cents = u.paid, status = u.status, "
            "updated_at = %(now)s FROM unnest(CAST(%(ids)b AS integer[]), "
            "CAST(%(paid)b AS bigint[]), CAST(%(status)b AS text[])) AS u(id, paid, status) "
            "WHERE invoices.id = u.id",
            {"ids": [c[0] for c in changes], "paid": [c[1] for c in changes],
             "status": [c[2].value for c in changes], "now": stamp},
        )  # fmt: skip
    else:
        _PAY_INVOICE.run(
            conn,
            [{"paid": paid, "status": status.value, "now": stamp, "id": pk}
             for pk, paid, status in changes],
        )  # fmt: skip
    return [(pk, status) for pk, _, status in changes]
