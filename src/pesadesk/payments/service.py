"""Payments as the API and CLI read and place them: each function is one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from pesadesk.c2b import service as c2b
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import PaymentNotFound
from pesadesk.db.models import Customer, Invoice, LedgerEntry, Payment
from pesadesk.db.session import Database
from pesadesk.events.publish import publish
from pesadesk.payments import export, review
from pesadesk.payments.views import payment_select
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.pages import Page, PageRequest, newest_first


def filtered(
    *, status: str | None = None, method: str | None = None, source: str | None = None,
    start: datetime | None = None, end: datetime | None = None,
    needs_review: bool | None = None, q: str | None = None, account: str | None = None,
) -> Any:  # fmt: skip
    """The payments query for the filters a list takes; `q` finds a receipt, phone,
    payer name or reference (any part, any case)."""
    query = export.filtered(
        status=status, method=method, source=source, start=start, end=end,
        needs_review=needs_review, account=account,
    )  # fmt: skip
    if q and q.strip():
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Payment.receipt).contains(needle, autoescape=True),
                Payment.phone.contains(needle, autoescape=True),
                func.lower(Payment.payer_name).contains(needle, autoescape=True),
                func.lower(Payment.reference).contains(needle, autoescape=True),
                func.lower(Payment.id).contains(needle, autoescape=True),
            )
        )
    return query


def page(db: Database, query: Any, request: PageRequest) -> Page:
    with db.read() as session:
        return newest_first(
            session, query, request,
            keys=[(Payment.created_at, datetime), (Payment.id, str)], view=export.row_view,
        )  # fmt: skip


def stream(db: Database, query: Any, fmt: str) -> Iterator[str]:
    """Every matching payment as JSON or CSV pieces, read as they go out."""
    return export.stream(db, query, fmt)


def _view(session: Any, payment_id: str) -> dict[str, Any]:
    row = session.execute(payment_select().where(Payment.id == payment_id)).first()
    if row is None:
        raise PaymentNotFound(f"no payment {payment_id!r}")
    return export.row_view(row)


def get_payment(db: Database, payment_id: str) -> dict[str, Any]:
    with db.read() as session:
        return _view(session, payment_id)


def allocate(
    db: Database, *, payment_id: str, invoice_id: str | None, customer_id: str | None,
    settings: Settings, clock: Clock,
) -> dict[str, Any]:  # fmt: skip
    """A person places an `unallocated` payment on an invoice or an account."""
    with db.write() as session:
        events = c2b.allocate_payment(
            session, payment_id=payment_id, invoice_id=invoice_id, customer_id=customer_id,
            clock=clock,
        )  # fmt: skip
        publish(session, events, settings=settings, now=clock.now())
        return _view(session, payment_id)


def close_review(
    db: Database, *, payment_id: str, note: str, who: Principal, clock: Clock
) -> dict[str, Any]:
    with db.write() as session:
        review.close_review(session, payment_id=payment_id, note=note, who=who, now=clock.now())
        return _view(session, payment_id)


def ledger_legs(db: Database, payment_id: str) -> dict[str, Any]:
    """The ledger legs a payment's money moved by (its receipt, placement, refunds)."""
    with db.read() as session:
        if session.get(Payment, payment_id) is None:
            raise PaymentNotFound(f"no payment {payment_id!r}")
        rows = session.execute(
            select(LedgerEntry, Invoice.invoice_id, Customer.customer_id)
            .outerjoin(Invoice, Invoice.id == LedgerEntry.invoice_pk)
            .outerjoin(Customer, Customer.id == LedgerEntry.customer_pk)
            .where(LedgerEntry.payment_id == payment_id)
            .order_by(LedgerEntry.id)
        ).all()
        return {"data": [_leg_view(*row) for row in rows]}


def _leg_view(leg: LedgerEntry, invoice_id: str | None, customer_id: str | None) -> dict[str, Any]:
    return {
        "journal_id": leg.journal_id,
        "kind": leg.kind,
        "account": leg.account,
        "debit": leg.debit_cents / 100,
        "credit": leg.credit_cents / 100,
        "invoice_id": invoice_id,
        "customer_id": customer_id,
        "created_at": leg.created_at.isoformat(),
    }
