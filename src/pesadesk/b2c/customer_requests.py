"""Customers asking for their money back themselves (CONTRACT §9), without phoning.

No key is needed, so the answer must teach a stranger nothing: a real receipt and a
made-up one get the same words. A request whose receipt and phone match a payment
becomes a refund waiting for a person's approval (asked by "customer"); a request the
refund rules refuse, or that matches nothing, is kept for a person to read. The customer
hears on WhatsApp when the money has left, as any refund's payee does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pesadesk.b2c import requests
from pesadesk.b2c.rules import REFUNDABLE, NewRefund
from pesadesk.config import Settings
from pesadesk.core.clock import Clock
from pesadesk.core.errors import InvalidInput, PesadeskError
from pesadesk.core.phone import normalize_phone, phone_hash
from pesadesk.core.statuses import Role
from pesadesk.db.models import Customer, Payment, RefundRequest
from pesadesk.db.session import Database
from pesadesk.shared import ids, ratelimit
from pesadesk.shared.apikeys import Principal
from pesadesk.shared.pages import Page, PageRequest, newest_first

CUSTOMER = Principal(name="customer", role=Role.OPERATOR, key_id=None, owner="customer")
ANSWER = (
    "Thank you. If this M-Pesa payment is yours, the business will look at your request, "
    "and M-Pesa will tell you when any money is sent back."
)
RECEIPT = re.compile(r"[A-Z0-9]{8,12}")


@dataclass(frozen=True)
class CustomerRequest:
    receipt: str
    phone: str
    amount_cents: int | None
    reason: str


def _clean(request: CustomerRequest) -> CustomerRequest:
    receipt = request.receipt.strip().upper()
    if not RECEIPT.fullmatch(receipt):
        raise InvalidInput("receipt: an M-Pesa receipt is 8-12 letters and digits (RKL51ZDR4F)")
    reason = request.reason.strip()
    if not reason:
        raise InvalidInput("reason: say why you want the money back")
    return CustomerRequest(receipt, normalize_phone(request.phone), request.amount_cents, reason)


def _payment_of(session: Session, receipt: str, phone: str) -> Payment | None:
    """The refundable payment with this receipt, paid from (or for) this phone."""
    payment = session.execute(
        select(Payment).where(Payment.receipt == receipt, Payment.status.in_(REFUNDABLE))
    ).scalar_one_or_none()
    if payment is None:
        return None
    if payment.phone == phone or payment.msisdn_hash == phone_hash(phone):
        return payment
    if payment.customer_pk is not None:
        owner = session.get(Customer, payment.customer_pk)
        if owner is not None and owner.phone == phone:
            return payment
    return None


def _decide(
    session: Session, request: CustomerRequest, settings: Settings, clock: Clock
) -> tuple[str, str | None, str | None]:
    """(status, refund id, note for a person)."""
    payment = _payment_of(session, request.receipt, request.phone)
    if payment is None:
        return "unmatched", None, "no refundable payment has this receipt and phone"
    new = NewRefund(payment.id, request.amount_cents, f"customer: {request.reason}"[:300], None)
    try:
        with session.begin_nested():
            refund = requests.request_refund(
                session, new=new, who=CUSTOMER, settings=settings, clock=clock, approval=True
            )
    except PesadeskError as exc:  # the refund rules say no: a person reads why
        return "refused", None, exc.message[:300]
    return "matched", refund.refund_id, None


def submit(
    db: Database, request: CustomerRequest, *, settings: Settings, clock: Clock,
    remote_addr: str | None,
) -> dict[str, Any]:  # fmt: skip
    """Keep the request and answer alike whatever it matched; 429 past the address's rate."""
    now = clock.now()
    ratelimit.hit(
        db, key=f"refund-request:{remote_addr or '?'}", now=now, what="refund requests",
        per_minute=settings.refund_requests.rate_limit_per_minute,
    )  # fmt: skip
    clean = _clean(request)
    with db.write() as session:
        status, refund_id, note = _decide(session, clean, settings, clock)
        row = _store(session, clean, status, refund_id, note, remote_addr, now)
        return {"request_id": row.request_id, "message": ANSWER}


def _store(
    session: Session, request: CustomerRequest, status: str, refund_id: str | None,
    note: str | None, remote_addr: str | None, now: datetime,
) -> RefundRequest:  # fmt: skip
    row = RefundRequest(
        request_id=ids.daily_id(session, "RR", now), receipt=request.receipt,
        phone=request.phone, amount_cents=request.amount_cents, reason=request.reason[:500],
        status=status, note=note, refund_id=refund_id, remote_addr=remote_addr, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def request_view(row: RefundRequest) -> dict[str, Any]:
    return {
        "request_id": row.request_id,
        "receipt": row.receipt,
        "phone": row.phone,
        "amount": row.amount_cents / 100 if row.amount_cents is not None else None,
        "reason": row.reason,
        "status": row.status,
        "note": row.note,
        "refund_id": row.refund_id,
        "created_at": row.created_at.isoformat(),
    }


def list_requests(db: Database, *, status: str | None, page: PageRequest) -> Page:
    query = select(RefundRequest)
    if status:
        query = query.where(RefundRequest.status == status)
    with db.read() as session:
        return newest_first(session, query, page, keys=[(RefundRequest.id, int)], view=request_view)
