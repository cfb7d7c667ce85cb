"""The object after the change, for every event of a transaction, read in one query per
kind of object: an event's `data` is the payment, invoice or refund as the API shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.core.events import Event, InvoiceEvent, PaymentEvent, RefundEvent
from pesadesk.db.models import Customer, Invoice, Payment, Refund
from pesadesk.payments.export import row_view
from pesadesk.payments.views import invoice_view, payment_select, refund_view


@dataclass(frozen=True)
class Snapshot:
    """`data` for the world; `row` (the table row) for consumers that need cents."""

    data: dict[str, Any]
    row: Any


def _payments(session: Session, ids: set[str]) -> dict[str, Snapshot]:
    if not ids:
        return {}
    rows = session.execute(payment_select().where(Payment.id.in_(ids))).all()
    return {row.id: Snapshot(row_view(row), row) for row in rows}


def _invoices(session: Session, pks: set[int]) -> dict[int, Snapshot]:
    if not pks:
        return {}
    rows = session.execute(  # plain rows, not ORM objects: this runs for every batch
        select(*Invoice.__table__.columns, Customer.customer_id)
        .outerjoin(Customer, Customer.id == Invoice.customer_pk)
        .where(Invoice.id.in_(pks))
    ).all()
    return {row.id: Snapshot(invoice_view(row, row.customer_id), row) for row in rows}


def _refunds(session: Session, ids: set[str]) -> dict[str, Snapshot]:
    if not ids:
        return {}
    rows = session.execute(select(Refund).where(Refund.refund_id.in_(ids))).scalars()
    return {row.refund_id: Snapshot(refund_view(row), row) for row in rows}


def take(session: Session, events: Sequence[Event]) -> list[Snapshot]:
    """One snapshot per event, in order; the rows are read after every write before."""
    session.flush()
    payments = _payments(session, {e.payment_id for e in events if isinstance(e, PaymentEvent)})
    invoices = _invoices(session, {e.invoice_pk for e in events if isinstance(e, InvoiceEvent)})
    refunds = _refunds(session, {e.refund_id for e in events if isinstance(e, RefundEvent)})
    snapshots: list[Snapshot] = []
    for event in events:
        if isinstance(event, PaymentEvent):
            snapshots.append(payments[event.payment_id])
        elif isinstance(event, InvoiceEvent):
            snapshots.append(invoices[event.invoice_pk])
        elif isinstance(event, RefundEvent):
            snapshots.append(refunds[event.refund_id])
        else:  # pragma: no cover - every event kind names one of the three
            raise TypeError(f"no snapshot for {type(event).__name__}")
    return snapshots


def subject_of(event: Event) -> str:
    if isinstance(event, PaymentEvent):
        return event.payment_id
    if isinstance(event, InvoiceEvent):
        return f"invoice:{event.invoice_pk}"
    if isinstance(event, RefundEvent):
        return event.refund_id
    raise TypeError(f"no subject for {type(event).__name__}")  # pragma: no cover
