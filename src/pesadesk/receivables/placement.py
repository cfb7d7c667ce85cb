"""Placing money that arrived: find what it is for, then spread it and post it.

Lock order, the same everywhere, so two payments cannot deadlock: sale, then
customer (or, for a walk-in sale's invoice, that invoice).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.clock import Clock
from pesadesk.core.statuses import InvoiceStatus, PaymentStatus, SaleStatus, invoice_status
from pesadesk.db.models import Customer, Invoice, PosSale
from pesadesk.db.sql import Sql, db_time
from pesadesk.ledger import posting
from pesadesk.ledger import rules as ledger
from pesadesk.receivables.invoices import issue_invoice
from pesadesk.receivables.matching import Target
from pesadesk.receivables.rules import Allocation, allocate


@dataclass(frozen=True)
class Placement:
    status: PaymentStatus
    customer_pk: int | None
    invoice_pk: int | None
    sale_pk: int | None
    unplaced_cents: int
    invoices: tuple[tuple[int, InvoiceStatus], ...] = ()


_SALE_STATUS = Sql("UPDATE pos_sales SET status = :status, updated_at = :now WHERE id = :id")


def _invoice_for_sale(
    session: Session, sale_pk: int, clock: Clock
) -> tuple[int, list[tuple[int, InvoiceStatus]]]:
    """The sale's invoice, created at its first payment (credit its customer holds may
    pay some of it at once: those invoice changes come back too)."""
    sale = session.execute(
        select(PosSale).where(PosSale.id == sale_pk).with_for_update()
    ).scalar_one()
    existing = session.execute(
        select(Invoice.id).where(Invoice.pos_sale_pk == sale_pk)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, []
    customer = session.get(Customer, sale.customer_pk) if sale.customer_pk else None
    invoice, touched = issue_invoice(
        session,
        customer=customer,
        amount_cents=sale.total_cents,
        description=f"POS sale {sale.pos_id}",
        clock=clock,
        pos_sale_pk=sale.id,
    )
    return invoice.id, touched


@dataclass(frozen=True)
class PlaceRequest:
    payment_id: str
    amount_cents: int
    target: Target | None
    from_suspense: bool = False


def place(
    session: Session,
    *,
    payment_id: str,
    amount_cents: int,
    target: Target | None,
    clock: Clock,
    from_suspense: bool = False,
) -> Placement:
    """Post one payment's money: on the target (invoice, FIFO, credit) or into suspense."""
    request = PlaceRequest(payment_id, amount_cents, target, from_suspense)
    return place_many(session, [request], clock)[0]


def _lock_customers(
    session: Session, requests: Sequence[PlaceRequest], clock: Clock, now: datetime
) -> dict[int, tuple[int, list[tuple[int, InvoiceStatus]]]]:
    """Customers ascending (the lock order), each one's sales just before it: make each
    sale's invoice, then lower the customer's balance by all their payments at once (that
    UPDATE is also their lock); walk-in sales last. Returns the sales' invoices and what
    credit paid of them at once."""
    sales: dict[int, tuple[int, list[tuple[int, InvoiceStatus]]]] = {}
    by_customer: dict[int | None, list[PlaceRequest]] = {}
    for request in requests:
        if request.target is not None:
            by_customer.setdefault(request.target.customer_pk, []).append(request)
    customers = sorted(pk for pk in by_customer if pk is not None)
    waiting: list[tuple[int, int]] = []  # customers with no sale: locked together
    for customer_pk in [*customers, None]:
        requests_of = by_customer.get(customer_pk, [])
        sale_pks = [r.target.sale_pk for r in requests_of if r.target and r.target.sale_pk]
        if sale_pks or customer_pk is None:
            posting.change_balances(session, waiting, now)
            waiting = []
        for sale_pk in sale_pks:
            if sale_pk not in sales:
                sales[sale_pk] = _invoice_for_sale(session, sale_pk, clock)
        if customer_pk is not None:
            waiting.append((customer_pk, -sum(r.amount_cents for r in requests_of)))
    return sales


def place_many(session: Session, requests: Sequence[PlaceRequest], clock: Clock) -> list[Placement]:
    """Post many payments' money with a handful of statements, in the order given (the
    lock order: customers ascending, walk-in invoices, then nothing to lock). Each payment
    sees the invoices as the payments before it left them."""
    now = clock.now()
    sales = _lock_customers(session, requests, clock, now)
    customers = sorted(
        {r.target.customer_pk for r in requests if r.target and r.target.customer_pk is not None}
    )
    dues = posting.open_invoices_of(session, customers)
    walk_ins: dict[int, list[posting.InvoiceDue]] = {}
    journals: list[posting.Journal] = []
    changed: dict[int, posting.InvoiceDue] = {}
    placements = []
    for request in requests:
        sale_pk = request.target.sale_pk if request.target is not None else None
        sale = sales.get(sale_pk) if sale_pk is not None else None
        open_ = _dues_for(session, request.target, sale, dues, walk_ins)
        placed, journal, paid = _allocate(request, sale, open_)
        journals.append(journal)
        for due in paid:
            changed[due.id] = due
        if sale_pk is not None and placed.invoice_pk is not None:
            _settle_sale(session, sale_pk, placed.invoice_pk, paid, now)
        placements.append(placed)
    posting.write_journals(session, journals, now)
    posting.set_invoices_paid(session, list(changed.values()), now)
    return placements


def _dues_for(
    session: Session, target: Target | None, sale: Any, dues: dict[int, list[posting.InvoiceDue]],
    walk_ins: dict[int, list[posting.InvoiceDue]],
) -> list[posting.InvoiceDue]:  # fmt: skip
    """The open invoices this payment may pay, as earlier payments in the batch left them
    (the same list object, so each payment updates it for the next)."""
    if target is None:
        return []
    if target.customer_pk is not None:
        return dues[target.customer_pk]
    invoice_pk = sale[0] if sale is not None else target.invoice_pk
    if invoice_pk is None:
        return []
    if invoice_pk not in walk_ins:  # an invoice with no customer to lock: locked itself
        due = posting.lock_invoice(session, invoice_pk)
        walk_ins[invoice_pk] = [due] if due.amount_cents > due.paid_cents else []
    return walk_ins[invoice_pk]


def _allocate(
    request: PlaceRequest, sale: Any, open_: list[posting.InvoiceDue]
) -> tuple[Placement, posting.Journal, list[posting.InvoiceDue]]:
    """Spread one payment (pure but for updating `open_` in place); its placement, its
    journal, and the invoices it paid as they now stand."""
    amount, target = request.amount_cents, request.target
    first = (
        ledger.released_from_suspense(amount)
        if request.from_suspense
        else ledger.payment_received(amount)
    )
    name = f"{'allocate' if request.from_suspense else 'payment'}:{request.payment_id}"
    if target is None:
        legs = [first, ledger.held_in_suspense(amount)]
        journal = posting.Journal(name, legs, request.payment_id)
        return Placement(PaymentStatus.UNALLOCATED, None, None, None, amount), journal, []
    invoice_pk = sale[0] if sale is not None else target.invoice_pk
    parts = allocate(amount, [d.open for d in open_], target=invoice_pk)
    unplaced = 0
    if target.customer_pk is None:
        unplaced = sum(part.cents for part in parts if part.invoice_key is None)
        parts = [part for part in parts if part.invoice_key is not None]
    legs = [first, *ledger.placed(parts, customer_key=target.customer_pk)]
    if unplaced:
        legs.append(ledger.held_in_suspense(unplaced, kind="unplaced_change"))
    paid = _pay(open_, parts)
    credited = dict(sale[1]) if sale is not None else {}
    statuses = credited | {d.id: invoice_status(d.amount_cents, d.paid_cents) for d in paid}
    placed = Placement(
        PaymentStatus.COMPLETED, target.customer_pk, invoice_pk, target.sale_pk, unplaced,
        tuple(statuses.items()),
    )  # fmt: skip
    return placed, posting.Journal(name, legs, request.payment_id), paid


def _pay(open_: list[posting.InvoiceDue], parts: Sequence[Allocation]) -> list[posting.InvoiceDue]:
    """Raise the paid amounts of `open_` by the parts (in place: fully paid ones leave)."""
    paid = []
    for part in parts:
        if part.invoice_key is None:
            continue
        index = next(i for i, d in enumerate(open_) if d.id == part.invoice_key)
        due = open_[index]
        now_paid = posting.InvoiceDue(due.id, due.amount_cents, due.paid_cents + part.cents)
        paid.append(now_paid)
        if now_paid.paid_cents >= now_paid.amount_cents:
            del open_[index]
        else:
            open_[index] = now_paid
    return paid


def _settle_sale(
    session: Session, sale_pk: int, invoice_pk: int, paid: Sequence[posting.InvoiceDue],
    now: datetime,
) -> None:  # fmt: skip
    """The sale follows its invoice: partly paid, or paid."""
    due = next((d for d in paid if d.id == invoice_pk), None)
    if due is None:
        return  # the sale's invoice was already settled; nothing moves
    status = {
        InvoiceStatus.PAID: SaleStatus.PAID,
        InvoiceStatus.PARTIALLY_PAID: SaleStatus.PARTIALLY_PAID,
    }.get(invoice_status(due.amount_cents, due.paid_cents), SaleStatus.PENDING)
    conn = session.connection()
    _SALE_STATUS.run(conn, {"status": status.value, "now": db_time(conn, now), "id": sale_pk})
